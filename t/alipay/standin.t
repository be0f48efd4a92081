# The local Alipay stand-in (tools/alipay_standin.py) end to end, with no httpd: keys made by
# scripts/keys.sh into a temp dir, requests signed with `openssl dgst` as the module will sign
# them, a notify listener that answers `fail` once (the stand-in must retry), and every
# signature the stand-in makes (return, notify, gateway answers) checked with its public key.
# Needs only SECKILL_TOP; starts and stops the stand-in itself on a free port in 38000-38999.
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP ();
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX qw(strftime WNOHANG);
use Time::HiRes qw(sleep time);
use AlipayTest qw(sign_string uri_escape form_body parse_query);

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);
my $top = $ENV{SECKILL_TOP} or plan skip_all => 'SECKILL_TOP is not set';
my $tmp = tempdir('alipay-standin-t.XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $APP_ID = '2021000000000001';

# ---- keys ----
my $made = `$top/scripts/keys.sh $tmp 2>&1`;
is($?, 0, 'scripts/keys.sh made the keys') or diag $made;
for my $f (qw(app_private_key.pem app_public_key.pem alipay_private_key.pem alipay_public_key.pem)) {
    ok(-s "$tmp/$f", "  $f");
}
is((stat "$tmp/app_private_key.pem")[2] & 07777, 0600, '  private keys are mode 600');

# ---- openssl from Perl ----
my $n = 0;
sub spew { my ($f, $d) = @_; open(my $h, '>:raw', $f) or die "$f: $!"; print $h $d; close $h }
sub slurp { my ($f) = @_; open(my $h, '<:raw', $f) or die "$f: $!"; local $/; <$h> }

sub rsa_sign {    # bytes -> base64
    my ($key, $data) = @_;
    my $d = "$tmp/data." . ++$n;
    spew($d, $data);
    system('openssl', 'dgst', '-sha256', '-sign', $key, '-out', "$d.sig", $d) == 0
      or die "openssl dgst -sign failed";
    return encode_base64(slurp("$d.sig"), '');
}

sub rsa_verify {    # 1 when base64 sig is the pub's signature of the bytes
    my ($pub, $data, $sig) = @_;
    return 0 unless defined $sig && length $sig;
    my $d = "$tmp/data." . ++$n;
    spew($d, $data);
    spew("$d.sig", decode_base64($sig));
    my $pid = fork // die;
    if (!$pid) {
        open(STDOUT, '>', '/dev/null');
        open(STDERR, '>', '/dev/null');
        exec('openssl', 'dgst', '-sha256', '-verify', $pub, '-signature', "$d.sig", $d)
          or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    return $? == 0 ? 1 : 0;
}

sub utf8_bytes { my $s = shift; utf8::encode($s) if utf8::is_utf8($s); $s }

# sign_string, uri_escape, form_body and parse_query: t/lib/AlipayTest.pm

# A request signed by the app (a wrong key when $key says so).
sub app_request {
    my ($method, $biz, %extra) = @_;
    my $p = {app_id => $APP_ID, method => $method, format => 'JSON', charset => 'utf-8',
        sign_type => 'RSA2', timestamp => strftime('%Y-%m-%d %H:%M:%S', localtime),
        version => '1.0', biz_content => JSON::PP->new->canonical->utf8(0)->encode($biz), %extra};
    my $key = delete $p->{_key} // "$tmp/app_private_key.pem";
    $p->{sign} = rsa_sign($key, utf8_bytes(sign_string($p)));
    return $p;
}

# ---- free ports ----
sub free_port {
    my %not = map { $_ => 1 } @_;
    for (1 .. 200) {
        my $port = 38000 + int(rand(1000));
        next if $not{$port};
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
            Listen => 1, ReuseAddr => 1) or next;
        close $s;
        return $port;
    }
    die "no free port in 38000-38999\n";
}

# ---- the notify listener: answers `fail` to the first notify, `success` after ----
my $lport = free_port();
my $listener = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $lport,
    Listen => 16, ReuseAddr => 1) or die "listen $lport: $!";
my $lpid = fork // die;
if (!$lpid) {
    my $count = 0;
    while (my $c = $listener->accept) {
        local $/ = "\r\n";
        my ($len, $line) = (0, scalar <$c>);
        while (defined(my $h = <$c>)) {
            last if $h eq "\r\n";
            $len = $1 if $h =~ /^Content-Length:\s*(\d+)/i;
        }
        my $body = '';
        read($c, $body, $len) if $len;
        $count++;
        my $answer = $count == 1 ? 'fail' : 'success';
        spew("$tmp/notify.$count", $body);
        print $c "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
          . length($answer) . "\r\nConnection: close\r\n\r\n$answer";
        close $c;
    }
    POSIX::_exit(0);
}
close $listener;
sub notifies { my @f = sort { ($a =~ /(\d+)$/)[0] <=> ($b =~ /(\d+)$/)[0] } glob("$tmp/notify.*"); @f }

# ---- the stand-in ----
my $port = free_port($lport);
my $base = "http://127.0.0.1:$port";
pipe(my $rd, my $wr) or die;
my $spid = fork // die;
if (!$spid) {
    close $rd;
    open(STDOUT, '>&', $wr) or die;
    open(STDERR, '>', "$tmp/standin.log") or die;
    exec('/usr/bin/python3', "$top/tools/alipay_standin.py", '--port', $port, '--app-id', $APP_ID,
        '--alipay-private-key', "$tmp/alipay_private_key.pem",
        '--app-public-key', "$tmp/app_public_key.pem", '--notify-retries', '0.5,1')
      or POSIX::_exit(127);
}
close $wr;
my $ready = eval {
    local $SIG{ALRM} = sub { die "timeout\n" };
    alarm 15;
    my $l = <$rd>;
    alarm 0;
    $l;
} // '';
like($ready, qr{^alipay-standin: listening on \Q$base/gateway.do\E$}, 'the stand-in is up')
  or BAIL_OUT('stand-in did not start: ' . slurp("$tmp/standin.log"));

END {
    local $?;    # keeps the test's exit status
    if ($spid) { kill 'TERM', $spid; waitpid($spid, 0) }
    if ($lpid) { kill 'TERM', $lpid; waitpid($lpid, 0) }
}

my $http = HTTP::Tiny->new(max_redirect => 0, timeout => 10);
my $json = JSON::PP->new->utf8;
my $alipay_pub = "$tmp/alipay_public_key.pem";

# A gateway API call: returns (name, raw object text, decoded object, sign).
sub api {
    my ($method, $biz, %extra) = @_;
    my $res = $http->post("$base/gateway.do", {
        headers => {'Content-Type' => 'application/x-www-form-urlencoded;charset=utf-8'},
        content => form_body(app_request($method, $biz, %extra))});
    is($res->{status}, 200, "$method: HTTP 200");
    my ($name, $text, $sign) = $res->{content} =~ /^\{"(\w+_response)":(\{.*\}),"sign":"([^"]*)"\}$/s
      or return fail("$method: not a signed answer: $res->{content}");
    ok(rsa_verify($alipay_pub, $text, $sign), "  its sign verifies over the exact object text");
    return ($name, $text, $json->decode($text), $sign);
}

# ---- page.pay ----
my $otn = 'T' . int(time()) . int(rand(1000));
my %pay = (notify_url => "http://127.0.0.1:$lport/alipay/notify/",
    return_url => "http://127.0.0.1:$lport/result/");
my $biz = {out_trade_no => $otn, total_amount => '309.00', subject => '扫地机器人 X1',
    product_code => 'FAST_INSTANT_TRADE_PAY',
    time_expire => strftime('%Y-%m-%d %H:%M:%S', localtime(time + 600))};

my $res = $http->get("$base/gateway.do?" . form_body(app_request('alipay.trade.page.pay', $biz, %pay,
    _key => "$tmp/alipay_private_key.pem")));
my $page = $res->{content};
utf8::decode($page);
is($res->{status}, 200, 'page.pay signed with the wrong key: an error page');
like($page, qr/invalid-signature/, '  invalid-signature');
unlike($page, qr/付款<\/button>/, '  no pay button');

$res = $http->get("$base/gateway.do?" . form_body(app_request('alipay.trade.page.pay', $biz, %pay)));
$page = $res->{content};
utf8::decode($page);
is($res->{status}, 200, 'page.pay correctly signed: the cashier page');
like($page, qr/扫地机器人 X1/, '  shows the subject');
like($page, qr/309\.00/, '  the amount');
like($page, qr/\Q$otn\E/, '  the out_trade_no');
like($page, qr/<button[^>]*>付款<\/button>/, '  and a 付款 button');
my ($action) = $page =~ /<form method=post action=(\S+?)>/;
is($action, '/pay', '  in a form posting to /pay');

my ($name, $text, $r) = api('alipay.trade.query', {out_trade_no => $otn});
is($name, 'alipay_trade_query_response', 'query: alipay_trade_query_response');
is($r->{code}, '10000', '  code 10000');
is($r->{trade_status}, 'WAIT_BUYER_PAY', '  WAIT_BUYER_PAY before paying');

# ---- pay ----
$res = $http->post_form("$base/pay", {out_trade_no => $otn});
is($res->{status}, 302, 'paying redirects');
my ($ret_base, $ret_q) = split /\?/, $res->{headers}{location} // '', 2;
is($ret_base, $pay{return_url}, '  to return_url');
my $ret = parse_query($ret_q);
is($ret->{method}, 'alipay.trade.page.pay.return', '  method alipay.trade.page.pay.return');
is($ret->{$_->[0]}, $_->[1], "  $_->[0]") for [out_trade_no => $otn], [total_amount => '309.00'],
  [app_id => $APP_ID], [sign_type => 'RSA2'], [charset => 'utf-8'], [version => '1.0'];
ok($ret->{$_}, "  has $_") for qw(trade_no seller_id timestamp sign);
ok(rsa_verify($alipay_pub, utf8_bytes(sign_string($ret, 1)), $ret->{sign}),
    '  return params verify (sign, sign_type left out)');
ok(!rsa_verify($alipay_pub, utf8_bytes(sign_string({%$ret, total_amount => '0.01'}, 1)), $ret->{sign}),
    '  and a tampered one does not');

# ---- the notify: `fail` first, so the stand-in retries ----
my $t0 = time;
sleep 0.1 while notifies() < 2 && time - $t0 < 10;
my @nf = notifies();
is(scalar @nf, 2, 'notify answered `fail` is retried once, then `success` stops it');
my @np = map { parse_query(slurp($_)) } @nf;
my $np = $np[1];
is($np->{notify_id}, $np[0]{notify_id}, '  the retry is the same notify');
ok($np->{$_}, "  notify has $_") for qw(notify_time notify_type notify_id app_id charset version
  sign_type sign trade_no out_trade_no buyer_id seller_id total_amount receipt_amount
  buyer_pay_amount subject trade_status gmt_create gmt_payment);
is($np->{$_->[0]}, $_->[1], "  $_->[0] = $_->[1]") for [notify_type => 'trade_status_sync'],
  [trade_status => 'TRADE_SUCCESS'], [out_trade_no => $otn], [total_amount => '309.00'],
  [subject => '扫地机器人 X1'], [app_id => $APP_ID], [sign_type => 'RSA2'],
  [trade_no => $ret->{trade_no}], [seller_id => $ret->{seller_id}];
ok(rsa_verify($alipay_pub, utf8_bytes(sign_string($np, 1)), $np->{sign}),
    '  notify verifies with the alipay public key (sign, sign_type left out, values decoded)');
ok(!rsa_verify($alipay_pub, utf8_bytes(sign_string({%$np, total_amount => '0.01'}, 1)), $np->{sign}),
    '  a forged amount does not');
like(slurp("$tmp/standin.log"), qr/notify #1 .*fail.*\n(?s:.*)notify #2 .*success/, '  each attempt logged');

# ---- query / close / refund ----
($name, $text, $r) = api('alipay.trade.query', {out_trade_no => $otn});
is($r->{trade_status}, 'TRADE_SUCCESS', 'query after paying: TRADE_SUCCESS');
is($r->{trade_no}, $ret->{trade_no}, '  same trade_no');
is($r->{total_amount}, '309.00', '  total_amount');

($name, $text, $r) = api('alipay.trade.close', {out_trade_no => $otn});
is($name, 'alipay_trade_close_response', 'close a paid trade: alipay_trade_close_response');
is("$r->{code} $r->{sub_code}", '40004 ACQ.TRADE_STATUS_ERROR', '  40004 ACQ.TRADE_STATUS_ERROR');

($name, $text, $r) = api('alipay.trade.refund', {out_trade_no => $otn, refund_amount => '400.00',
    out_request_no => 'R1'});
is("$r->{code} $r->{sub_code}", '40004 ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', 'refund more than paid: refused');
($name, $text, $r) = api('alipay.trade.refund', {out_trade_no => $otn, refund_amount => '9.00',
    out_request_no => 'R1'});
is($name, 'alipay_trade_refund_response', 'refund 9.00: alipay_trade_refund_response');
is("$r->{code} $r->{fund_change} $r->{refund_fee}", '10000 Y 9.00', '  10000, fund_change Y, refund_fee 9.00');
($name, $text, $r) = api('alipay.trade.refund', {out_trade_no => $otn, refund_amount => '9.00',
    out_request_no => 'R1'});
is("$r->{code} $r->{fund_change} $r->{refund_fee}", '10000 N 9.00', '  the same request again moves nothing');
($name, $text, $r) = api('alipay.trade.refund', {out_trade_no => $otn, refund_amount => '300.01',
    out_request_no => 'R2'});
is($r->{sub_code}, 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '  beyond what is left: refused');
($name, $text, $r) = api('alipay.trade.refund', {out_trade_no => $otn, refund_amount => '300.00',
    out_request_no => 'R2'});
is("$r->{code} $r->{refund_fee}", '10000 309.00', '  the rest: 10000');
($name, $text, $r) = api('alipay.trade.query', {out_trade_no => $otn});
is($r->{trade_status}, 'TRADE_CLOSED', '  fully refunded: TRADE_CLOSED');

($name, $text, $r) = api('alipay.trade.query', {out_trade_no => 'NO_SUCH_ORDER'});
is("$r->{code} $r->{sub_code}", '40004 ACQ.TRADE_NOT_EXIST', 'query of an unknown trade: ACQ.TRADE_NOT_EXIST');

my $otn2 = $otn . 'B';
$res = $http->get("$base/gateway.do?" . form_body(app_request('alipay.trade.page.pay',
    {%$biz, out_trade_no => $otn2, total_amount => '0.01'}, %pay)));
is($res->{status}, 200, 'a second trade shown');
($name, $text, $r) = api('alipay.trade.refund', {out_trade_no => $otn2, refund_amount => '0.01'});
is($r->{sub_code}, 'ACQ.TRADE_STATUS_ERROR', '  refund before paying: ACQ.TRADE_STATUS_ERROR');
($name, $text, $r) = api('alipay.trade.close', {out_trade_no => $otn2});
is("$r->{code} $r->{out_trade_no}", "10000 $otn2", '  close an unpaid trade: 10000');
($name, $text, $r) = api('alipay.trade.query', {out_trade_no => $otn2});
is($r->{trade_status}, 'TRADE_CLOSED', '  then TRADE_CLOSED');
$res = $http->post_form("$base/pay", {out_trade_no => $otn2});
isnt($res->{status}, 302, '  and it cannot be paid');

($name, $text, $r) = api('alipay.trade.query', {out_trade_no => $otn},
    _key => "$tmp/alipay_private_key.pem");
is($name, 'alipay_trade_query_response', 'query signed with the wrong key');
is("$r->{code} $r->{sub_code}", '40002 isv.invalid-signature', '  40002 isv.invalid-signature');
($name, $text, $r) = api('alipay.trade.query', {out_trade_no => $otn}, app_id => '2021000000000999');
is($r->{sub_code}, 'isv.invalid-app-id', 'another app_id: isv.invalid-app-id');

# ---- replays through the test helper ----
$res = $http->post_form("$base/test/notify", {out_trade_no => $otn});
my $h = $json->decode($res->{content});
ok($h->{success}, 'POST /test/notify re-sends the last notify, answered success');
my @all = notifies();
is(scalar @all, 3, '  it arrived');
my $replay = parse_query(slurp($all[-1]));
is($replay->{notify_id}, $np->{notify_id}, '  the same notify_id');
is($replay->{sign}, $np->{sign}, '  and sign');

$res = $http->post_form("$base/test/notify", {out_trade_no => $otn, 'set.total_amount' => '0.01',
    resign => 0});
$replay = parse_query(slurp((notifies())[-1]));
is($replay->{total_amount}, '0.01', 'a forged replay (resign=0)');
ok(!rsa_verify($alipay_pub, utf8_bytes(sign_string($replay, 1)), $replay->{sign}),
    '  does not verify');

# ---- SIGTERM ----
kill 'TERM', $spid;
my $until = time + 5;
my $gone;
while (time < $until) { $gone = waitpid($spid, WNOHANG); last if $gone; sleep 0.05 }
is($gone, $spid, 'SIGTERM stops the stand-in');
is($? >> 8, 0, '  cleanly');
$spid = 0;

done_testing();
