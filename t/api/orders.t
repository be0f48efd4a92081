# GET /orders/: the shopper's own orders, newest first, with the time left to pay; others
# see none of them.
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
use Apache::Test ();
use SeckillTest;
use Shopper;

reset_data();
my $now = time;
my $p1 = add_product(name => '订单一', start => $now - 60, end => $now + 3600, stock => 5,
    status => 1);
my $p2 = add_product(name => '订单二 <b>', start => $now - 60, end => $now + 3600, stock => 5,
    status => 1, seckill_price => '88.80');
preheat($now - 60);
my $worker = start_worker();
my $alice = Shopper->new;
my $bob = Shopper->new;

my $o1 = ($alice->buy($p1))[1]{order_id};
select(undef, undef, undef, 0.05);
my $o2 = ($alice->buy($p2))[1]{order_id};
ok($o1 && $o2, 'two orders bought');
ok(wait_for(15, sub { sql("SELECT COUNT(*) FROM seckill_orders") == 2 }), 'both written');

my ($res, $d) = $alice->get_json('/orders/');
is($res->code, 200, 'GET /orders/');
is(scalar @{$d->{orders}}, 2, 'two orders');
is($d->{orders}[0]{order_id}, $o2, 'newest first');
is($d->{orders}[1]{order_id}, $o1, 'then the older');
my $o = $d->{orders}[0];
is($o->{product_name}, '订单二 <b>', 'product name');
is($o->{total_amount}, '88.80', 'amount as stored');
is($o->{status}, 'pending_payment', 'unpaid');
ok($o->{can_pay} && $o->{can_cancel}, 'can be paid or cancelled');
ok($o->{pay_seconds_left} > 250 && $o->{pay_seconds_left} <= 300, 'seconds left to pay');
ok($d->{csrf_token}, 'the page carries the CSRF token for its forms');

($res, $d) = $bob->get_json('/orders');
is_deeply($d->{orders}, [], "another shopper sees none of them (and /orders works too)");
my $anon = Shopper->new(anonymous => 1);
($res, $d) = $anon->get_json('/orders/');
is($res->code, 200, 'a new visitor gets an empty list');
like($anon->ua->cookie_jar->as_string, qr/seckill_id=/, '  and an identity');

sql("UPDATE seckill_orders SET status = 1, pay_time = NOW(6) WHERE id = $o1");
sql("UPDATE seckill_orders SET status = 2, cancel_time = NOW(6) WHERE id = $o2");
($res, $d) = $alice->get_json('/orders/');
my %by = map { ($_->{order_id} => $_) } @{$d->{orders}};
is($by{$o1}{status}, 'paid', 'a paid order');
ok($by{$o1}{paid_at}, '  shows its pay time');
ok(!$by{$o1}{can_pay}, '  and cannot be paid again');
is($by{$o2}{status}, 'cancelled', 'a cancelled order');
ok($by{$o2}{cancelled_at}, '  shows its cancel time');

my $html = $alice->ua->get($alice->base . '/orders/', Accept => 'text/html');
is($html->code, 200, 'the HTML page');
like($html->decoded_content, qr/订单二 &lt;b&gt;/, 'names escaped');
like($html->decoded_content, qr/已支付/, 'status in words');
$res = $alice->ua->post($alice->base . '/orders/', Accept => 'application/json');
is($res->code, 405, 'POST /orders/: 405');

stop_worker($worker);
done_testing();
