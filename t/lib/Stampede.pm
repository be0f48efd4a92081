package Stampede;
# A flash-sale stampede against the real module: thousands of distinct shoppers (identity
# cookies and CSRF tokens signed with the test stack's secret, as the shop would issue
# them) buying at once from forked clients; every answer is kept for the audit.
use strict;
use warnings FATAL => 'all';
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64url);
use LWP::UserAgent ();
use JSON::PP ();
use File::Temp qw(tempfile);
use Apache::TestRequest ();

sub secret {
    open(my $fh, '<', $ENV{SECKILL_SECRET_FILE}) or die "secret: $!";
    local $/;
    my $s = <$fh>;
    $s =~ s/[\r\n]+\z//;
    return $s;
}

sub token { my ($secret, @fields) = @_; encode_base64url(hmac_sha256(join('|', @fields), $secret)) }

# n shoppers: [user id, cookie value, csrf token]
sub shoppers {
    my ($n, $tag) = @_;
    my $secret = secret();
    my @s;
    for my $i (1 .. $n) {
        my $id = substr(encode_base64url(pack('NNNN', $$, $i, time, $tag // 0) . 'xx'), 0, 22);
        $id =~ tr/=//d;
        push @s, [$id, "$id." . token($secret, 'id', $id), token($secret, 'csrf', $id)];
    }
    return @s;
}

# Runs the buys [shopper, product id] with `procs` concurrent clients; returns a list of
# answers {user, product, status, code, order_id, why}.
sub run {
    my (%o) = @_;
    my @buys = @{$o{buys}};
    my $procs = $o{procs} // 16;
    my $base = 'http://' . Apache::TestRequest::hostport(Apache::Test::config());
    my (@files, @pids);
    for my $p (0 .. $procs - 1) {
        my ($fh, $file) = tempfile(UNLINK => 1);
        push @files, $file;
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            my $ua = LWP::UserAgent->new(keep_alive => 1, timeout => 30);
            for (my $i = $p; $i < @buys; $i += $procs) {
                my ($s, $pid) = @{$buys[$i]};
                my $res = $ua->post("$base/buy/$pid", Accept => 'application/json',
                    Cookie => "seckill_id=$s->[1]", 'X-CSRF-Token' => $s->[2]);
                my $d = eval { JSON::PP->new->utf8->decode($res->content) } || {};
                # an answer that is not the shop's JSON is named by its HTTP status, and why
                # (LWP's own message for a response it made up: a connection cut)
                my $why = $d->{code} ? '-' : join(' ', $res->status_line,
                    $res->header('Client-Warning') // '', $res->header('X-Died') // '');
                $why =~ s/\s+/ /g;
                print $fh join("\t", $s->[0], $pid, $res->code, $d->{code} // 'http' . $res->code,
                    $d->{order_id} // '-', $why), "\n";
            }
            close $fh;
            POSIX::_exit(0);
        }
        close $fh;
        push @pids, $pid;
    }
    $o{during}->() if $o{during};
    waitpid($_, 0) for @pids;
    my @answers;
    for my $file (@files) {
        open(my $fh, '<', $file) or die;
        while (<$fh>) {
            chomp;
            my %a;
            @a{qw(user product status code order_id why)} = split /\t/;
            push @answers, \%a;
        }
    }
    return @answers;
}

1;
