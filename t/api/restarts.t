# The worker survives MySQL, RabbitMQ and Redis restarts in the middle of a drain: it
# reconnects, redelivered messages do no double work, nothing is acked before it is
# durable. 3000 orders bought through the module wait in RabbitMQ; the worker drains them
# in small batches while each server is restarted in turn; then the invariants hold.
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
use Apache::Test ();
use SeckillTest;
use Stampede;

reset_data();
my $now = time;
my $n = 3000;
my $pid = add_product(name => '重启', start => $now - 60, end => $now + 3600, stock => $n,
    status => 1);
preheat($now);

# bought with no worker running: every order waits in the queue
my @shoppers = Stampede::shoppers($n, 3);
my @answers = Stampede::run(buys => [map { [$_, $pid] } @shoppers], procs => 16);
my @ok = grep { $_->{code} eq 'ok' } @answers;
# On a loaded machine a publish may miss its confirm timeout: that buy is answered 503 and
# holds no stock (checked below: the stock left is exactly the buys not answered ok).
my @other = grep { $_->{code} ne 'ok' } @answers;
cmp_ok(scalar @ok, '>=', $n - int($n / 200), "$n buys, (almost) all ok while no worker runs");
is(scalar(grep { $_->{code} ne 'unavailable' } @other), 0, '  any other answer is a 503')
  or diag explain [map { "$_->{status} $_->{code}" } @other];
my $sold = scalar @ok;
is(sql("SELECT COUNT(*) FROM seckill_orders"), '0', 'no row yet');

my $dead_before = queue_depth('seckill.order.dead') // 0; # earlier tests may have left some

# small batches keep the drain going while the servers restart
my $worker = start_worker(batch_max => 4, prefetch => 8);
for my $server (qw(mysql rabbitmq redis)) {
    select(undef, undef, undef, 0.4);
    my $rows = sql("SELECT COUNT(*) FROM seckill_orders");
    note("restarting $server with $rows rows written");
    stack('restart', $server);
}
ok(wait_for(120, sub { sql("SELECT COUNT(*) FROM seckill_orders") == $sold }),
    "all $sold orders written after the restarts")
  or diag sql("SELECT COUNT(*) FROM seckill_orders") . " rows";
my %rows = map { ($_->[0] => $_->[1]) } sql_rows("SELECT id, user_id FROM seckill_orders");
is(scalar(grep { ($rows{$_->{order_id}} // '') eq $_->{user} } @ok), $sold,
    'every ok answer has its own row');
is(scalar(keys %rows), $sold, '  and there is no other row');
is(sql("SELECT stock FROM seckill_products WHERE id = $pid"), $n - $sold,
    'MySQL stock: the units not sold, not below');
is(redis('GET', "seckill:stock:{p$pid}"), $n - $sold, 'Redis stock = MySQL stock');
is(sql("SELECT COUNT(*) FROM seckill_orders WHERE status <> 0"), '0', 'no order cancelled');
ok(wait_for(30, sub { (queue_depth('seckill.order.create') // 1) == 0 }), 'the queue is empty');
is((queue_depth('seckill.order.dead') // 0) - $dead_before, 0, 'nothing dead-lettered');

stop_worker($worker);
done_testing();
