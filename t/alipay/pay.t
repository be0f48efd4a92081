# Paying with Alipay through the real module and the local stand-in, and cancelling:
# pay -> notify -> paid; the return page before and after the notify; replayed, concurrent,
# forged and mismatching notifies; a payment that comes after the order was cancelled (refund);
# cancel then pay; another shopper's order ids. Every refusal changes nothing.
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
use Apache::Test ();
use HTTP::Request::Common qw(POST);
use JSON::PP ();
use POSIX qw(strftime);
use SeckillTest;
use Shopper;
use AlipayTest;

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

reset_data();
standin('/test/reset');
my $now = time;
my $p1 = add_product(name => '支付测试', start => $now - 60, end => $now + 3600, stock => 20,
    status => 1, seckill_price => '12.50');
my $p2 = add_product(name => '二号', start => $now - 60, end => $now + 3600, stock => 5,
    status => 1, seckill_price => '8.00');
preheat($now - 60);
my $worker = start_worker();
my $error_log = Apache::Test::vars('t_logs') . '/error_log';

sub order_of {
    my ($shopper, $pid) = @_;
    my ($res, $d) = $shopper->buy($pid);
    die 'buy failed: ' . $res->status_line . ' ' . $res->content unless $d && $d->{ok};
    my $oid = $d->{order_id};
    wait_for(15, sub { sql("SELECT COUNT(*) FROM seckill_orders WHERE id = $oid") == 1 })
      or die "order $oid not written";
    return $oid;
}
sub row { my ($oid) = @_; my @r = sql_rows("SELECT status, IFNULL(pay_time,'-'), IFNULL(cancel_time,'-') FROM seckill_orders WHERE id = $oid"); $r[0] }
sub post_json {
    my ($shopper, $path, %h) = @_;
    my $res = $shopper->ua->post($shopper->base . $path, Accept => 'application/json', %h);
    return ($res, eval { JSON::PP->new->utf8->decode($res->content) });
}
sub pay { my ($s, $oid, %o) = @_; post_json($s, "/order/pay/$oid", 'X-CSRF-Token' => $o{csrf} // $s->csrf) }
sub cancel { my ($s, $oid) = @_; post_json($s, "/order/cancel/$oid", 'X-CSRF-Token' => $s->csrf) }
sub notify_raw {
    my ($body, $ctype) = @_;
    my $ua = LWP::UserAgent->new(timeout => 30);
    return $ua->post(Shopper->new(anonymous => 1)->base . '/alipay/notify/',
        'Content-Type' => $ctype // 'application/x-www-form-urlencoded; charset=utf-8',
        Content => $body);
}
sub notify { notify_raw(form_body($_[0])) }
sub log_count { my ($re) = @_; open(my $h, '<', $error_log) or return 0; scalar grep { /$re/ } <$h> }

my $alice = Shopper->new;
my $bob = Shopper->new;

# ---- pay: the signed redirect ----
my $o1 = order_of($alice, $p1);
my $created = sql("SELECT UNIX_TIMESTAMP(create_time) FROM seckill_orders WHERE id = $o1");
my ($res, $d) = pay($alice, $o1, csrf => 'x');
is($res->code, 403, 'pay with a wrong CSRF token: 403');
$res = $alice->ua->get($alice->base . "/order/pay/$o1");
is($res->code, 405, 'pay with GET: 405');
($res) = pay($alice, 'abc');
is($res->code, 400, 'pay a malformed id: 400');
($res) = pay($alice, '99999999999999999999999');
is($res->code, 400, 'pay an id past 64 bits: 400');
($res) = pay($bob, $o1);
is($res->code, 404, "pay another shopper's order: 404");
($res) = cancel($bob, $o1);
is($res->code, 404, "cancel another shopper's order: 404");
is(row($o1)->[0], 0, '  still unpaid');

($res, $d) = pay($alice, $o1);
is($res->code, 200, 'pay (JSON): 200') or diag $res->content;
my ($gw, $q) = split /\?/, $d->{pay_url}, 2;
is($gw, $ENV{SECKILL_ALIPAY_GATEWAY}, '  the pay_url is the configured gateway');
my $pp = parse_query($q);
is($pp->{$_->[0]}, $_->[1], "  $_->[0] = $_->[1]") for
  [app_id => $ENV{SECKILL_ALIPAY_APP_ID}], [method => 'alipay.trade.page.pay'], [format => 'JSON'],
  [charset => 'utf-8'], [sign_type => 'RSA2'], [version => '1.0'];
like($pp->{timestamp}, qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, '  timestamp in Alipay\'s form');
like($pp->{notify_url}, qr{^http://[^/]+/alipay/notify/$}, '  notify_url');
like($pp->{return_url}, qr{^http://[^/]+/result/$}, '  return_url');
my $biz = JSON::PP->new->decode($pp->{biz_content});
is_deeply($biz, {out_trade_no => "$o1", total_amount => '12.50', subject => '支付测试',
    product_code => 'FAST_INSTANT_TRADE_PAY',
    time_expire => strftime('%Y-%m-%d %H:%M:%S', localtime($created + 300))},
  '  biz_content: the order, two decimals, and time_expire at the end of the pay window');
ok(app_verify(sign_string($pp), $pp->{sign}), '  signed SHA256withRSA with the app key over the sorted params');

my $form = $alice->ua->request(POST($alice->base . "/order/pay/$o1", [csrf_token => $alice->csrf],
    Accept => 'text/html'));
is($form->code, 302, 'pay (HTML form): 302');
like($form->header('Location') // '', qr/^\Q$ENV{SECKILL_ALIPAY_GATEWAY}\E\?/, '  to the gateway');

my $cashier = LWP::UserAgent->new(timeout => 30)->get($d->{pay_url});
is($cashier->code, 200, 'the stand-in accepts the signature and shows its cashier');
like($cashier->decoded_content, qr/付款/, '  with its 付款 button');

# ---- the return page before the notify, the notify, the page after ----
my $paid = standin('/test/pay', out_trade_no => $o1, notify => 0);
ok($paid->{ok}, 'paid at the stand-in, its notify held back') or diag explain $paid;
my ($rpath) = $paid->{return_url} =~ m{^https?://[^/]+(/.*)$};
($res, $d) = $alice->get_json($rpath);
is($res->code, 200, 'the return page before the notify');
is($d->{state}, 'confirming', '  says Alipay has the money (asked alipay.trade.query), order confirming');
is(row($o1)->[0], 0, '  and did not mark the order paid itself');
$res = $alice->ua->get($alice->base . $rpath, Accept => 'text/html');
like($res->decoded_content, qr/正在确认/, '  the HTML page says so');
like($res->decoded_content, qr/http-equiv="refresh"/, '  and looks again by itself');

(my $tampered = $rpath) =~ s/out_trade_no=\d+/out_trade_no=$o1/;
$tampered =~ s/total_amount=[\d.]+/total_amount=0.01/;
($res) = $alice->get_json($tampered);
is($res->code, 400, 'a return page with a changed amount: 400 (signature)');
($res) = $bob->get_json($rpath);
is($res->code, 404, "another shopper opening alice's return page: 404");

my $n1 = standin('/test/notify', out_trade_no => $o1);
is($n1->{body}, 'success', 'the notify: success');
is($n1->{status}, 200, '  HTTP 200');
my $r1 = row($o1);
is($r1->[0], 1, '  the order is paid');
isnt($r1->[1], '-', '  with its pay time');
($res, $d) = $alice->get_json($rpath);
is($d->{state}, 'paid', 'the return page after the notify: paid');
ok($d->{paid_at}, '  with the pay time');
($res, $d) = $alice->get_json('/orders/');
my ($listed) = grep { $_->{order_id} eq $o1 } @{$d->{orders}};
is($listed->{status}, 'paid', '/orders/ shows it paid');
($res) = pay($alice, $o1);
is($res->code, 409, 'pay a paid order again: 409');
($res) = cancel($alice, $o1);
is($res->code, 409, 'cancel a paid order: 409');

my $n2 = standin('/test/notify', out_trade_no => $o1);
is($n2->{body}, 'success', 'a replayed notify: success');
is_deeply(row($o1), $r1, '  and nothing changed');

# ---- refused notifies: each answers fail and changes nothing ----
my $o2 = order_of($alice, $p2);
my $before = row($o2);
my @bad = (
    ['a bad signature', do { my $p = signed_notify($o2, '8.00'); $p->{sign} =~ tr/A-Za-z/N-ZA-Mn-za-m/; $p }],
    ['a signature over other fields', do { my $p = signed_notify($o2, '8.00'); $p->{buyer_id} = '1'; $p }],
    ['no signature', do { my $p = signed_notify($o2, '8.00'); delete $p->{sign}; $p }],
    ['sign_type RSA', do { my $p = signed_notify($o2, '8.00'); $p->{sign_type} = 'RSA'; $p }],
    ['a wrong amount', signed_notify($o2, '0.01')],
    ['an amount with three decimals', signed_notify($o2, '8.000')],
    ['a wrong app_id', signed_notify($o2, '8.00', app_id => '2021000000000999')],
    ['an unknown order', signed_notify('1234567890123', '8.00')],
    ['a non-numeric order', signed_notify('abc', '8.00')],
    ['no total_amount', signed_notify($o2, '8.00', total_amount => undef)],
    ['no out_trade_no', signed_notify($o2, '8.00', out_trade_no => undef)],
    ['no trade_status', signed_notify($o2, '8.00', trade_status => undef)],
    ['an unknown trade_status', signed_notify($o2, '8.00', trade_status => 'TRADE_PAID')],
);
for my $b (@bad) {
    my $r = notify($b->[1]);
    is($r->content, 'fail', "notify with $b->[0]: fail");
    is($r->code, 400, '  HTTP 400');
}
is_deeply(row($o2), $before, 'the order is unchanged by all of them');
my $good = signed_notify($o2, '8.00');
my $doubled = form_body($good) . '&total_amount=8.00';
$res = notify_raw($doubled);
is($res->content, 'fail', 'a notify with a field given twice: fail');
is($res->code, 400, '  HTTP 400');
$res = notify_raw(form_body($good), 'application/json');
is($res->code, 415, 'a notify that is not a form: 415');
$res = notify_raw(form_body($good) . '&pad=' . ('x' x 20000));
is($res->code, 413, 'a 20 KB notify: 413');
$res = notify_raw('a=%zz');
is($res->code, 400, 'a broken escape: 400');
$res = LWP::UserAgent->new->get(Shopper->new(anonymous => 1)->base . '/alipay/notify/');
is($res->code, 405, 'GET /alipay/notify/: 405');
is_deeply(row($o2), $before, 'still unchanged');
ok(log_count(qr/SK0920: Alipay notify refused/) >= 13, 'each refusal is logged (SK0920)');

# ---- a notify that waits: nothing to do ----
$res = notify(signed_notify($o2, '8.00', trade_status => 'WAIT_BUYER_PAY'));
is($res->content, 'success', 'WAIT_BUYER_PAY: acknowledged');
is(row($o2)->[0], 0, '  the order stays unpaid');

# ---- the same notify twice at once ----
my @kids;
my $dir = "$ENV{SECKILL_RUN_DIR}/pay-t";
mkdir $dir;
for my $k (1 .. 4) {
    my $pid = fork // die;
    if (!$pid) {
        my $r = notify($good);
        open(my $h, '>', "$dir/$k") or die;
        print $h $r->code . ' ' . $r->content;
        close $h;
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
waitpid($_, 0) for @kids;
sub answer_of { my ($f) = @_; open(my $h, '<', $f) or return "no answer ($!)"; local $/; scalar <$h> }
my @answers;
push @answers, answer_of("$dir/$_") for 1 .. 4;
is_deeply(\@answers, [('200 success') x 4], 'four copies of one notify at once: all success');
is(row($o2)->[0], 1, '  the order is paid');
is(log_count(qr/SK0923: order $o2 paid/), 1, '  by exactly one of them');

# ---- cancel, then pay ----
my $carol = Shopper->new;
my $o3 = order_of($carol, $p1);
my ($stock_db, $stock_redis) = (sql("SELECT stock FROM seckill_products WHERE id = $p1"),
    redis('GET', "seckill:stock:{p$p1}"));
($res, $d) = cancel($carol, $o3);
is($res->code, 200, 'cancel (JSON): 200') or diag $res->content;
is($d->{status}, 'cancelled', '  cancelled');
my $r3 = row($o3);
is($r3->[0], 2, '  the row is cancelled');
isnt($r3->[2], '-', '  with its cancel time');
is(sql("SELECT stock FROM seckill_products WHERE id = $p1"), $stock_db + 1, '  MySQL has the unit back');
is(redis('GET', "seckill:stock:{p$p1}"), $stock_redis + 1, '  Redis has the unit back');
is(redis('HGET', "seckill:orders:{p$p1}", $o3), 'restored', '  the order state is restored');
($res) = pay($carol, $o3);
is($res->code, 409, 'pay a cancelled order: 409');
($res, $d) = cancel($carol, $o3);
is($res->code, 409, 'cancel it again: 409');
is(sql("SELECT stock FROM seckill_products WHERE id = $p1"), $stock_db + 1, '  no unit given twice');
($res, $d) = $carol->buy($p1);
ok($d && $d->{ok}, "the shopper's limit is lifted: she can buy again");
my $o3b = $d->{order_id};
wait_for(15, sub { sql("SELECT COUNT(*) FROM seckill_orders WHERE id = $o3b") == 1 });
$res = $carol->ua->request(POST($carol->base . "/order/cancel/$o3b", [csrf_token => $carol->csrf],
    Accept => 'text/html'));
is($res->code, 303, 'cancel (HTML form): 303');
is($res->header('Location'), '/orders/', '  back to the orders');

# a trade opened at the cashier is closed by the cancel
my $dave = Shopper->new;
my $o4 = order_of($dave, $p1);
($res, $d) = pay($dave, $o4);
LWP::UserAgent->new->get($d->{pay_url});
($res) = cancel($dave, $o4);
is($res->code, 200, 'cancel an order whose cashier page is open');
my ($trade) = grep { $_->{out_trade_no} eq $o4 } @{standin('/test/trades')->{trades}};
is($trade->{status}, 'TRADE_CLOSED', '  the trade is closed at Alipay (alipay.trade.close)');
my $late = standin('/test/pay', out_trade_no => $o4);
ok(!$late->{ok}, '  and cannot be paid any more');

# ---- paid after the pay window ran out: recorded and refunded ----
my $erin = Shopper->new(module => 'short_pay');
my $o5 = order_of($erin, $p1);
($res, $d) = pay($erin, $o5);
is($res->code, 200, 'pay within a 4 s pay window') or diag $res->content;
is(LWP::UserAgent->new->get($d->{pay_url})->code, 200, '  the cashier opens');
ok(standin('/test/pay', out_trade_no => $o5, notify => 0)->{ok}, '  paid at Alipay, the notify is late');
ok(wait_for(30, sub { row($o5)->[0] == 2 }), '  meanwhile the pay timeout cancelled the order');
my $stock_after_cancel = sql("SELECT stock FROM seckill_products WHERE id = $p1");
my $n5 = standin('/test/notify', out_trade_no => $o5);
is($n5->{body}, 'success', 'the late notify: success (the payment is taken care of)');
is(row($o5)->[0], 2, '  the order stays cancelled');
is_deeply([sql_rows("SELECT status, amount, trade_no <> '' FROM seckill_refunds WHERE order_id = $o5")],
    [[1, '12.50', 1]], '  the payment is recorded and refunded');
($trade) = grep { $_->{out_trade_no} eq $o5 } @{standin('/test/trades')->{trades}};
is($trade->{refunded}, '12.50', '  Alipay refunded it in full (alipay.trade.refund)');
is(sql("SELECT stock FROM seckill_products WHERE id = $p1"), $stock_after_cancel, '  stock untouched');
$n5 = standin('/test/notify', out_trade_no => $o5);
is($n5->{body}, 'success', 'the late notify again: success');
($trade) = grep { $_->{out_trade_no} eq $o5 } @{standin('/test/trades')->{trades}};
is($trade->{refunded}, '12.50', '  refunded once, not twice');

# a late payment whose refund fails is kept for an operator, and Alipay is asked to retry
my $frank = Shopper->new;
my $o6 = order_of($frank, $p1);
cancel($frank, $o6);
$res = notify(signed_notify($o6, '12.50'));    # no such trade at the stand-in: refund fails
is($res->content, 'fail', 'a late payment whose refund fails: fail (Alipay notifies again)');
is($res->code, 503, '  HTTP 503');
my ($pending) = sql_rows("SELECT status, attempts, last_error FROM seckill_refunds WHERE order_id = $o6");
is($pending->[0], 0, '  recorded, waiting for its refund');
is($pending->[1], 1, '  one failed attempt');
like($pending->[2], qr/ACQ.TRADE_NOT_EXIST/, "  with Alipay's reason");
ok(log_count(qr/SK0922: order $o6 .*for an operator/) >= 1, '  and a log line for the operator');

# ---- the status page counts every notify and shows the refund waiting for an operator ----
my $auto = LWP::UserAgent->new->get(Shopper->new(anonymous => 1)->base . '/seckill-status?auto');
is($auto->code, 200, 'the status page');
my %st = $auto->decoded_content =~ /^(\w+): (\S+)$/mg;
is($st{PendingRefunds}, 1, '  one late payment waits for its refund (from MySQL)');
cmp_ok($st{NotifiesPaid}, '>=', 2, '  notifies that paid an order counted');
cmp_ok($st{NotifiesRefused}, '>=', 8, '  forged and malformed notifies counted');
cmp_ok($st{NotifiesMismatch}, '>=', 3, '  mismatching ones counted');
cmp_ok($st{NotifiesLateRefund}, '>=', 2, '  late payments refunded counted');
cmp_ok($st{NotifiesRefundFailed}, '>=', 1, '  the failed refund counted');
cmp_ok($st{NotifiesNotPaid}, '>=', 1, '  WAIT_BUYER_PAY counted');

# ---- another shopper's order ids ----
for my $path ("/order/$o1", "/order/$o3") {
    ($res) = $bob->get_json($path);
    is($res->code, 404, "bob GET $path: 404");
}

stop_worker($worker);
done_testing();
