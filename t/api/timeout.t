# An order not paid within the pay window (4 s on the short_pay virtual host) is cancelled
# by the worker: stock back in MySQL and Redis, the shopper's limit lifted, so the same
# shopper can buy again.
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
use Apache::Test ();
use SeckillTest;
use Shopper;

reset_data();
my $now = time;
my $pid = add_product(name => '限时', start => $now - 60, end => $now + 3600, stock => 2,
    status => 1);
preheat($now - 60);
my $worker = start_worker();
my $shopper = Shopper->new(module => 'short_pay');

my ($res, $d) = $shopper->buy($pid);
is($d->{code}, 'ok', 'bought') or diag $res->content;
my $order = $d->{order_id};
isnt($shopper->base, Shopper->new->base, 'through the short_pay virtual host');
($res, $d) = $shopper->get_json("/order/$order");
cmp_ok($d->{pay_seconds_left}, '<=', 4, 'whose pay window is 4 s');
ok(wait_for(15, sub { defined sql("SELECT status FROM seckill_orders WHERE id = $order") }),
    'the order row is written');
is(sql("SELECT status FROM seckill_orders WHERE id = $order"), '0', '  unpaid');
is(sql("SELECT stock FROM seckill_products WHERE id = $pid"), '1', 'MySQL stock taken');
($res, $d) = $shopper->buy($pid);
is($d->{code}, 'already_bought', 'the limit holds while the order is open');

is(wait_for(20, sub { sql("SELECT status FROM seckill_orders WHERE id = $order") eq '2' }), 1,
    'after the pay window the order is cancelled');
ok(sql("SELECT cancel_time IS NOT NULL FROM seckill_orders WHERE id = $order"),
    'with its cancel time');
is(sql("SELECT stock FROM seckill_products WHERE id = $pid"), '2', 'MySQL stock returned');
is(wait_for(5, sub { redis('GET', "seckill:stock:{p$pid}") eq '2' }), 1, 'Redis stock returned');
is(redis('HGET', "seckill:buyers:{p$pid}", $shopper->id), '', "the shopper's limit lifted");
($res, $d) = $shopper->get_json("/order/$order");
is($d->{status}, 'cancelled', 'the order page says cancelled');

($res, $d) = $shopper->buy($pid);
is($d->{code}, 'ok', 'the same shopper can buy again');

stop_worker($worker);
done_testing();
