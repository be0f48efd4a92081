package Shopper;
# A shopper of the test suite: a browser-like client with its own cookie jar that opens the
# shop (so it is issued an identity and a CSRF token) and then buys through the real module.
use strict;
use warnings FATAL => 'all';
use LWP::UserAgent ();
use HTTP::Cookies ();
use HTTP::Request::Common qw(POST);
use JSON::PP ();
use Apache::TestRequest ();

# Shopper->new(module => 'short_pay') talks to that virtual host.
sub new {
    my ($class, %opt) = @_;
    my $self = bless {%opt}, $class;
    # hostport() reads the virtual host from this package variable, not from an argument
    my $hostport = do {
        local $Apache::TestRequest::Module = $opt{module} // 'default';
        Apache::TestRequest::hostport(Apache::Test::config());
    };
    $self->{base} = "http://$hostport";
    $self->{ua} = LWP::UserAgent->new(cookie_jar => HTTP::Cookies->new, timeout => 30,
        keep_alive => 1);
    $self->open unless $opt{anonymous};
    return $self;
}

sub base { $_[0]{base} }
sub ua { $_[0]{ua} }
sub csrf { $_[0]{csrf} }

sub _json {
    my ($res) = @_;
    my $d = eval { JSON::PP->new->utf8->decode($res->content) };
    return $d;
}

# GET / as JSON: the shop hands out the identity cookie and the CSRF token.
sub open {
    my ($self) = @_;
    my $res = $self->{ua}->get("$self->{base}/", Accept => 'application/json');
    die "GET / failed: " . $res->status_line . "\n" unless $res->is_success;
    $self->{csrf} = _json($res)->{csrf_token};
    ($self->{id}) = ($self->{ua}->cookie_jar->as_string =~ /seckill_id=([A-Za-z0-9_-]{22})\./);
    return $self;
}

sub id { $_[0]{id} }

# POST /buy/ID as JSON with the CSRF header; returns (response, decoded body).
sub buy {
    my ($self, $id, %opt) = @_;
    my @h = (Accept => 'application/json');
    my $csrf = exists $opt{csrf} ? $opt{csrf} : $self->{csrf};
    push @h, 'X-CSRF-Token' => $csrf if defined $csrf;
    my $res = $self->{ua}->post("$self->{base}/buy/$id", @h);
    return wantarray ? ($res, _json($res)) : $res;
}

# The same buy as an HTML form post (no JavaScript): csrf_token as a form field.
sub buy_form {
    my ($self, $id, %fields) = @_;
    my $res = $self->{ua}->request(POST("$self->{base}/buy/$id",
        [csrf_token => $self->{csrf}, %fields], Accept => 'text/html'));
    return $res;
}

sub get_json {
    my ($self, $path) = @_;
    my $res = $self->{ua}->get("$self->{base}$path", Accept => 'application/json');
    return wantarray ? ($res, _json($res)) : $res;
}

1;
