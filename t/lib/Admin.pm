package Admin;
# The shop's admin as the test suite drives it: an LWP client with httpd Basic credentials
# (t/conf/admin.htpasswd: admin / admin-test-password), the admin's CSRF token, and JSON and
# form requests against /admin/ of the real module.
use strict;
use warnings FATAL => 'all';
use LWP::UserAgent ();
use HTTP::Request ();
use HTTP::Request::Common qw(POST);
use JSON::PP ();
use Apache::TestRequest ();
use IO::Socket::INET ();
use MIME::Base64 qw(encode_base64);

our $USER = 'admin';
our $PASSWORD = 'admin-test-password';
our $REALM = 'mod_seckill admin';

# Admin->new (credentials of the test admin), Admin->new(user => 'x', password => 'y'),
# Admin->new(anonymous => 1) (no credentials at all).
sub new {
    my ($class, %opt) = @_;
    my $self = bless {%opt}, $class;
    my $hostport = Apache::TestRequest::hostport(Apache::Test::config());
    $self->{base} = "http://$hostport";
    # POSTs are not redirected: the tests look at the 303 itself
    $self->{ua} = LWP::UserAgent->new(timeout => 30, keep_alive => 1,
        requests_redirectable => []);
    $self->{ua}->credentials($hostport, $REALM, $opt{user} // $USER, $opt{password} // $PASSWORD)
      unless $opt{anonymous};
    return $self;
}

sub ua { $_[0]{ua} }
sub base { $_[0]{base} }

sub decode {
    my ($res) = @_;
    return eval { JSON::PP->new->utf8->decode($res->content) };
}

sub json { JSON::PP->new->utf8->canonical->encode($_[0]) }

# GET as JSON; returns (response, decoded body).
sub get_json {
    my ($self, $path) = @_;
    my $res = $self->{ua}->get("$self->{base}$path", Accept => 'application/json');
    return wantarray ? ($res, decode($res)) : $res;
}

sub get_page {
    my ($self, $path) = @_;
    return $self->{ua}->get("$self->{base}$path", Accept => 'text/html');
}

# The admin's CSRF token, as every admin page and JSON answer carries it.
sub csrf {
    my ($self) = @_;
    return $self->{csrf} //= do {
        my ($res, $d) = $self->get_json('/admin/products');
        die 'GET /admin/products: ' . $res->status_line . "\n" unless $d;
        $d->{csrf_token};
    };
}

# A JSON request: body is a hash (encoded) or a string (sent as it is). Options: csrf (undef:
# no header), content_type, method. Returns (response, decoded body).
sub send_json {
    my ($self, $method, $path, $body, %opt) = @_;
    my $req = HTTP::Request->new($method => "$self->{base}$path");
    $req->header(Accept => 'application/json');
    $req->header('Content-Type' => $opt{content_type} // 'application/json');
    my $csrf = exists $opt{csrf} ? $opt{csrf} : $self->csrf;
    $req->header('X-CSRF-Token' => $csrf) if defined $csrf;
    $req->content(ref $body ? json($body) : $body);
    my $res = $self->{ua}->request($req);
    return wantarray ? ($res, decode($res)) : $res;
}

sub post_json { my $self = shift; $self->send_json('POST', @_) }
sub put_json { my $self = shift; $self->send_json('PUT', @_) }

# A form post as a browser sends it, csrf_token included (csrf => undef leaves it out).
sub post_form {
    my ($self, $path, $fields, %opt) = @_;
    my @f = @$fields;
    my $csrf = exists $opt{csrf} ? $opt{csrf} : $self->csrf;
    push @f, csrf_token => $csrf if defined $csrf;
    return $self->{ua}->request(POST("$self->{base}$path", \@f, Accept => 'text/html'));
}

# Raw bytes on a socket (nothing on the client side repairs or limits them), with the admin's
# credentials and token: method, path, extra header lines, body. Returns (status, body);
# status 0 when the server closed without an answer.
sub raw {
    my ($self, $method, $path, $headers, $body) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my ($host, $port) = $self->{base} =~ m{//([^:/]+):(\d+)};
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Timeout => 10)
      or die "connect: $!";
    my @h = ("$method $path HTTP/1.1", "Host: $host:$port", 'Connection: close',
        'Accept: application/json', 'X-CSRF-Token: ' . $self->csrf,
        'Authorization: Basic ' . encode_base64("$USER:$PASSWORD", ''), @{$headers // []});
    push @h, 'Content-Length: ' . length($body)
      if defined $body && !grep { /^(Content-Length|Transfer-Encoding):/i } @h;
    my $msg = join("\r\n", @h) . "\r\n\r\n" . ($body // '');
    for (my $off = 0; $off < length $msg;) {
        my $n = syswrite($s, $msg, 65536, $off);
        last unless $n;    # the server may answer and close before reading it all
        $off += $n;
    }
    shutdown($s, 1);
    local $/;
    my $res = eval { local $SIG{ALRM} = sub { die "timeout\n" }; alarm 15; my $r = <$s>; alarm 0; $r }
      // '';
    close $s;
    my ($code) = $res =~ m{\AHTTP/1\.\d (\d{3})};
    my ($content) = $res =~ /\r\n\r\n(.*)\z/s;
    return ($code // 0, $content // '');
}

1;
