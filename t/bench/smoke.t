# make bench end to end, small: its own `make run` stack (own folder and ports, beside the test
# stack), every load for a second or two, few shoppers. What is checked is the bench itself, not
# the figures (a test machine's are meaningless): each load runs and is answered as expected,
# every ratio line is judged against its goal, the drain finishes and the audit passes, and the
# rate limit is back at the end. bench/README.md has the real runs.
use strict;
use warnings FATAL => 'all';
use Test::More;
use SeckillTest qw(top_dir);

my $top = top_dir();
my $run = ($ENV{SECKILL_RUN_DIR} // "$top/build/test-run") . '/bench-stack';
# a stack of its own: none of the test stack's settings, ports no other stack uses (each
# RabbitMQ also takes its AMQP port + 20000 and - 1300: scripts/env.sh), its own Alipay keys
# (the tree's keys/ may not be the test user's to write)
my %env = (SECKILL_TOP => $top, SECKILL_RUN_DIR => $run, SECKILL_KEYS_DIR => "$run/keys",
    SECKILL_HTTP_PORT => 28180, SECKILL_REDIS_PORT => 26480, SECKILL_MYSQL_PORT => 23407,
    SECKILL_AMQP_PORT => 5773,
    BENCH_SECONDS => 1, BENCH_PROBE_SECONDS => 1, BENCH_BUY_SECONDS => 2, BENCH_BUY_PARTS => 2,
    BENCH_STAMPEDE_SHOPPERS => 500, BENCH_SHOPPERS => 8000, BENCH_PRODUCTS => 4,
    BENCH_SETTLE_MAX => 10, BENCH_DRAIN_MAX => 120);
my $cmd = join(' ', 'env', (map { "-u $_" } grep { /^(SECKILL|BENCH)_/ } sort keys %ENV),
    map({ "$_=$env{$_}" } sort keys %env));
my $stop = "$cmd bash '$top/scripts/run.sh' stop >/dev/null 2>&1";

system($stop);                # a stack left by an interrupted run
system('rm', '-rf', $run);    # and no orders of an earlier run to wait for
my $out = `cd '$top' && $cmd bash bench/bench.sh 2>&1`;
my $rc = $?;
system($stop);
is($rc, 0, 'make bench succeeds') or diag $out;
like($out, qr/^bench: \d+ cores, wrk -t2 -c64/m, 'it says what it ran');
like($out, qr/rate limit check: 8 buys of one shopper in a row answered 200 409/,
    'the rate limit is off for the run');
for my $load ('static file', 'fixed handler', 'listing, HTML', 'listing, JSON', 'stampede',
    'all-success, part 1/2', 'all-success, part 2/2') {
    # req/s, p50, p99, non-2xx, then 0 unexpected answers
    like($out, qr/^\Q$load\E .*\s\d+\s+\S+\s+\S+\s+\d+\s+0$/m, "$load: measured, nothing unexpected");
}
my ($stampede) = $out =~ /^  stampede\s+((?:\d{3} [\w-]+: \d+(?:, )?)+)$/m; # its answers' line
my %answers = map { /^(\d+ \w+): (\d+)$/ ? ($1 => $2) : ($_ => -1) } split /, /, $stampede // '';
is($answers{'200 ok'}, 300, 'the stampede sold exactly its stock: 300');
ok($answers{'409 sold_out'}, '  the rest sold out') or diag $stampede;
is(scalar(grep { !/^(?:200 ok|409 sold_out|409 already_bought)$/ } keys %answers), 0,
    '  no other answer');
like($out, qr/^  all-success-1\s+200 ok: \d+$/m, 'every all-success answer of part 1 is 200 ok');
like($out, qr/^  all-success-2\s+200 ok: \d+$/m, '  and of part 2');
for my $goal ('listing, HTML', 'listing, JSON', 'stampede', 'all-success, the 2 parts together') {
    like($out, qr/^\Q$goal\E .*≥ 0\.\d+ × fixed handler: (?:met|not met)(?:  \(noisy.*\))?$/m,
        "$goal: judged against its goal");
}
like($out, qr/^worker drain\s+\d+ orders\/s\s+goal ≥ 5000 orders\/s: (?:met|not met)$/m, 'the drain is timed');
like($out, qr/^  audit: all 0 — consistent$/m, 'the audit passes');
like($out, qr/rate limit back to 5; bench products deleted/, 'the rate limit is back');

done_testing();
