# Group commit: each httpd child's publisher sends the orders of the buys that queued while its
# earlier messages awaited their confirms as one message (lib/order.h: orders joined by
# newlines), so RabbitMQ stores and confirms one message for many buys. wrk (bench/wrk.lua)
# makes concurrent buys of distinct shoppers while the worker is stopped, so the orders wait
# in seckill.order.create: fewer messages than ok answers. Then the worker runs: every ok
# answer's order id is exactly one row, and Redis stock = MySQL stock. The same buys go
# through each child's Redis pipeline (mod_seckill/redis_batch.c): Redis reads their
# EVALSHAs several at a time, fewer reads than scripts, and its thread hands each sold buy's
# order straight to the publisher (SK0224 at the children's exit counts them).
use strict;
use warnings FATAL => 'all';
use Test::More;
use File::Temp qw(tempdir);
use Apache::Test ();
use Apache::TestRequest ();
use SeckillTest;
use Audit;


reset_data();
my $top = top_dir();
my $dir = tempdir(CLEANUP => 1);
my $worker = start_worker();
ok(wait_for(15, sub { (queue_depth('seckill.order.create') // 1) == 0 }), 'the order queue is empty');
stop_worker($worker);

my $now = time;
my @pids = map {
    add_product(name => "group commit $_", start => $now - 60, end => $now + 3600,
        stock => 100000, status => 1)
} 1 .. 2;
preheat($now - 60);
my $in = join(',', @pids);

system("perl '$top/bench/identities.pl' 30000 43 > '$dir/ids'") == 0 or die "identities.pl failed\n";
my $base = 'http://' . do {
    local $Apache::TestRequest::Module = 'default';
    Apache::TestRequest::hostport(Apache::Test::config());
};
# Redis's count of client reads and of EVALSHAs (the worker is stopped: only the buys make them)
my $redis_counts = sub {
    my $stats = join("\n", redis('INFO', 'all'));
    my ($reads) = $stats =~ /^total_reads_processed:(\d+)/m;
    my ($evalsha) = $stats =~ /^cmdstat_evalsha:calls=(\d+)/m;
    return ($reads // 0, $evalsha // 0);
};
my ($reads0, $scripts0) = $redis_counts->();
my $out = `BENCH_ORDER_IDS='$dir/oids' wrk -t2 -c24 -d2s -s '$top/bench/wrk.lua' '$base/' -- buy '$dir/ids' $in pairs 2 2>&1`;
my %answers = $out =~ /^ANSWER (\d+ \S+) (\d+)$/mg;
note($out =~ /^(Requests\/sec:.*)$/m ? $1 : $out);
my $ok = $answers{'200 ok'} // 0;
is_deeply([grep { $_ ne '200 ok' } keys %answers], [], 'every answer ok') or diag explain \%answers;
cmp_ok($ok, '>', 100, "$ok buys sold");
my ($reads1, $scripts1) = $redis_counts->();
my ($reads, $scripts) = ($reads1 - $reads0, $scripts1 - $scripts0);
note("Redis: $scripts EVALSHAs in $reads reads");
cmp_ok($scripts, '>=', $ok, 'an EVALSHA for every buy');
cmp_ok($reads, '<', $scripts * 0.8, "pipelined: Redis read them $reads times for $scripts");

# a graceful restart ends the children: each logs what its pipeline did
my $mark = Audit::log_mark();
my $pidfile = Apache::Test::vars('t_pid_file') // Apache::Test::vars('t_logs') . '/httpd.pid';
my $ppid = do { open(my $fh, '<', $pidfile) or die "$pidfile: $!"; local $/; <$fh> =~ /(\d+)/ ? $1 : 0 };
# every child names the two threads (top -H, ps -L, perf): its pipeline and its publisher (a
# child just forked may not have made them yet: looked at again for a few seconds)
my $parent_of = sub { # a process's parent pid, from /proc/PID/stat (its name may hold spaces)
    open(my $fh, '<', "/proc/$_[0]/stat") or return 0;
    return (<$fh> // '') =~ /^\d+ \(.*\) \S+ (\d+) / ? $1 : 0;
};
my %threads; # child pid => { thread name => count }
wait_for(5, sub {
    %threads = ();
    for my $child (grep { $parent_of->($_) == $ppid } map { m{/proc/(\d+)$} ? $1 : () } glob('/proc/[0-9]*')) {
        for my $comm (glob("/proc/$child/task/*/comm")) {
            open(my $fh, '<', $comm) or next;
            chomp(my $n = <$fh> // '');
            $threads{$child}{$n}++;
        }
    }
    return !grep { !$_->{'sk-redis-pipe'} || !$_->{'sk-amqp-pub'} } values %threads;
});
cmp_ok(scalar keys %threads, '>=', 1, 'httpd has children: ' . scalar keys %threads);
for my $child (sort keys %threads) {
    my $names = $threads{$child};
    ok($names->{'sk-redis-pipe'} && $names->{'sk-amqp-pub'},
        "child $child names its threads sk-redis-pipe and sk-amqp-pub")
      or diag join(', ', map { "$_ x$names->{$_}" } sort keys %$names);
}
ok(kill('USR1', $ppid), 'graceful restart');
my (@piped, $passed);
my $read_piped = sub {
    open(my $fh, '<', Audit::error_log()) or return 0;
    seek($fh, $mark, 0);
    @piped = map { /SK0224: .* (\d+) commands sent in (\d+) writes, (\d+) replies passed on/ ? [$1, $2, $3] : () } <$fh>;
    $passed = 0;
    $passed += $_->[2] for @piped;
    return $passed >= $ok * 0.5; # the old children exit one by one: wait for enough of them
};
wait_for(20, $read_piped);
note('pipelines: ' . join('; ', map { "$_->[0] commands in $_->[1] writes, $_->[2] passed on" } @piped));
cmp_ok(scalar @piped, '>=', 1, 'the old children logged their pipelines (SK0224)');
cmp_ok($passed, '>=', $ok * 0.5, "the pipelines handed most sold buys to the publisher: $passed of $ok");

my $messages = queue_depth('seckill.order.create');
note("$ok orders in $messages messages");
cmp_ok($messages, '>=', 1, 'the orders are queued');
cmp_ok($messages, '<', $ok * 0.9, "fewer messages than orders: $messages for $ok");

$worker = start_worker();
my @ids = do { open(my $fh, '<', "$dir/oids") or die "$dir/oids: $!"; map { /(\d+)/ ? $1 : () } <$fh> };
my $sold = sub { sql("SELECT COUNT(*) FROM seckill_orders WHERE goods_id IN ($in)") };
ok(wait_for(60, sub { (queue_depth('seckill.order.create') // 1) == 0 && $sold->() >= $ok }),
    'the worker wrote them');
is(scalar @ids, $ok, 'wrk kept the order id of every ok answer it read');
my %row = map { ($_->[0] => 1) } sql_rows("SELECT id FROM seckill_orders WHERE goods_id IN ($in)");
is(scalar(grep { !$row{$_} } @ids), 0, "every ok answer's order id has its row");
is(sql("SELECT COUNT(*) - COUNT(DISTINCT id) FROM seckill_orders WHERE goods_id IN ($in)"), 0,
    'no order twice');
my $rows = $sold->();
# wrk reads no answer still in flight when it stops: those orders have rows too, one a connection
cmp_ok($rows, '<=', $ok + 24, "rows: $rows (ok answers $ok, at most one a connection in flight)");
for my $pid (@pids) {
    is(redis('GET', "seckill:stock:{p$pid}"), sql("SELECT stock FROM seckill_products WHERE id = $pid"),
        "product $pid: Redis stock = MySQL stock");
}
is(100000 * 2 - sql("SELECT SUM(stock) FROM seckill_products WHERE id IN ($in)"), $rows,
    'MySQL stock = initial - orders');
stop_worker($worker);
done_testing();
