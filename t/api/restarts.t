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
preheat($now - 60);

# bought with no worker running: every order waits in the queue
my @shoppers = Stampede::shoppers($n, 3);
my @answers = Stampede::run(buys => [map { [$_, $pid] } @shoppers], procs => 16);
my @ok = grep { $_->{code} eq 'ok' } @answers;
# On a loaded machine a publish may miss its confirm timeout (a 503 that holds no stock), or
# the client may lose a connection and LWP make up a 500 (an unknown outcome, as in
# t/lib/Audit.pm: a unit sold or not). What was sold is what Redis gave out.
my @unknown = grep { $_->{code} eq 'http500' } @answers;
my @other = grep { $_->{code} !~ /^(ok|http500)$/ } @answers;
cmp_ok(scalar @ok, '>=', $n - int($n / 200), "$n buys, (almost) all ok while no worker runs");
is(scalar(grep { $_->{code} ne 'unavailable' } @other), 0, '  any other answer is a 503')
  or diag explain [map { "$_->{status} $_->{code}" } @other];
cmp_ok(scalar @unknown, '<=', int($n / 500), '  at most 0.2 % cut on the client side');
my $sold = $n - redis('GET', "seckill:stock:{p$pid}");
ok($sold >= @ok && $sold <= @ok + @unknown, "  $sold units sold: every ok, and no 503")
  or diag "ok " . scalar(@ok) . ", cut " . scalar(@unknown);
my %may_own = map { ($_->{user} => 1) } @unknown;
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
is(scalar(keys %rows), $sold, '  a row for each unit sold');
my %ok_id = map { ($_->{order_id} => 1) } @ok;
is(scalar(grep { !$ok_id{$_} && !$may_own{$rows{$_}} } keys %rows), 0,
    '  the others belong to buys whose answer was cut');
is(sql("SELECT stock FROM seckill_products WHERE id = $pid"), $n - $sold,
    'MySQL stock: the units not sold, not below');
is(redis('GET', "seckill:stock:{p$pid}"), $n - $sold, 'Redis stock = MySQL stock');
is(sql("SELECT COUNT(*) FROM seckill_orders WHERE status <> 0"), '0', 'no order cancelled');
ok(wait_for(30, sub { (queue_depth('seckill.order.create') // 1) == 0 }), 'the queue is empty');
is((queue_depth('seckill.order.dead') // 0) - $dead_before, 0, 'nothing dead-lettered');

stop_worker($worker);
done_testing();
