package AlipayTest;
# Alipay's side of the suite: the test stack's stand-in (scripts/alipay.sh, on
# $SECKILL_ALIPAY_PORT) and notifies signed in Perl with the stand-in's own key, so a test can
# send what Alipay would, or what a forger would, straight to the shop.
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP ();
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX ();

our @EXPORT = qw(standin standin_base sign_string alipay_sign app_verify parse_query form_body
  uri_escape signed_notify keys_dir);

my $tmp = tempdir('alipay-test.XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $n = 0;
my $http = HTTP::Tiny->new(timeout => 30);

sub keys_dir { $ENV{SECKILL_KEYS_DIR} or die "SECKILL_KEYS_DIR is not set\n" }
sub standin_base { "http://127.0.0.1:$ENV{SECKILL_ALIPAY_PORT}" }

# POST /test/<what> to the stand-in (a form); its decoded JSON answer.
sub standin {
    my ($path, %form) = @_;
    my $res = %form || $path !~ m{^/test/(trades|notifies)$}
      ? $http->post_form(standin_base() . $path, \%form)
      : $http->get(standin_base() . $path);
    my $d = eval { JSON::PP->new->utf8->decode($res->{content}) };
    return $d // {ok => 0, status => $res->{status}, content => $res->{content}};
}

sub _spew { my ($f, $d) = @_; open(my $h, '>:raw', $f) or die "$f: $!"; print $h $d; close $h }
sub _slurp { my ($f) = @_; open(my $h, '<:raw', $f) or die "$f: $!"; local $/; <$h> }
sub _bytes { my $s = shift; utf8::encode($s) if utf8::is_utf8($s); $s }

# Alipay's sign string: sorted by key, `sign` (and with $skip_type `sign_type`) and empty
# values left out, values raw.
sub sign_string {
    my ($p, $skip_type) = @_;
    return join '&', map { "$_=$p->{$_}" }
      grep { $_ ne 'sign' && !($skip_type && $_ eq 'sign_type') && length($p->{$_} // '') }
      sort keys %$p;
}

# RSA2 with the stand-in's private key ("Alipay" signs), base64.
sub alipay_sign {
    my ($data) = @_;
    my $d = "$tmp/data." . ++$n;
    _spew($d, _bytes($data));
    system('openssl', 'dgst', '-sha256', '-sign', keys_dir() . '/alipay_private_key.pem',
        '-out', "$d.sig", $d) == 0 or die "openssl dgst -sign failed";
    return encode_base64(_slurp("$d.sig"), '');
}

# 1 when $sig is the app's signature of $data (the shop signs with the app key).
sub app_verify {
    my ($data, $sig) = @_;
    my $d = "$tmp/data." . ++$n;
    _spew($d, _bytes($data));
    _spew("$d.sig", decode_base64($sig // ''));
    my $pid = fork // die;
    if (!$pid) {
        open(STDOUT, '>', '/dev/null');
        open(STDERR, '>', '/dev/null');
        exec('openssl', 'dgst', '-sha256', '-verify', keys_dir() . '/app_public_key.pem',
            '-signature', "$d.sig", $d) or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    return $? == 0 ? 1 : 0;
}

sub uri_escape { my $s = _bytes(shift); $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge; $s }
sub form_body { my $p = shift; join '&', map { uri_escape($_) . '=' . uri_escape($p->{$_}) } sort keys %$p }

sub parse_query {
    my ($s) = @_;
    my %p;
    for my $kv (split /&/, $s // '') {
        my ($k, $v) = split /=/, $kv, 2;
        for ($k, $v) { $_ //= ''; tr/+/ /; s/%([0-9A-Fa-f]{2})/chr hex $1/ge }
        utf8::decode($v);
        $p{$k} = $v;
    }
    return \%p;
}

# The params of a TRADE_SUCCESS notify for an order, as Alipay sends them, signed; %set
# changes or (undef) removes fields before signing.
sub signed_notify {
    my ($order_id, $amount, %set) = @_;
    my $now = POSIX::strftime('%Y-%m-%d %H:%M:%S', localtime);
    my %p = (notify_time => $now, notify_type => 'trade_status_sync',
        notify_id => sprintf('%08x%08x', rand(2**32), rand(2**32)),
        app_id => $ENV{SECKILL_ALIPAY_APP_ID}, auth_app_id => $ENV{SECKILL_ALIPAY_APP_ID},
        charset => 'utf-8', version => '1.0', trade_no => '2026112522001' . int(rand(1e9)),
        out_trade_no => $order_id, buyer_id => '2088722000000002',
        seller_id => '2088721000000001', total_amount => $amount, receipt_amount => $amount,
        buyer_pay_amount => $amount, subject => 'test', trade_status => 'TRADE_SUCCESS',
        gmt_create => $now, gmt_payment => $now);
    for my $k (keys %set) {
        if (defined $set{$k}) { $p{$k} = $set{$k} } else { delete $p{$k} }
    }
    $p{sign_type} = 'RSA2';
    $p{sign} = alipay_sign(sign_string(\%p, 1));
    return \%p;
}

1;
