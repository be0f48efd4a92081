# Chaos: Redis freezes (SIGSTOP) in the middle of a stampede for longer than a buy waits for
# it (SeckillRedisTimeout 1 s, asked again for up to 2 s), then runs on (SIGCONT). Its sockets
# stay open: the buys' EVALSHAs go out and no reply comes, so those buys cannot know whether
# they sold. They answer 503 and leave their undo to the child's pipeline (SK0510), which runs
# lua/order_revoke.lua with 'fence' once Redis answers (SK0511). Redis, running again, still
# executes the commands waiting in its input, from connections closed meanwhile: a sale made
# that late is given back, and one not made yet cannot happen any more (the fence). So the 503
# answers hold nothing and the audit finds Redis = MySQL exactly.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use SeckillTest;
use Audit;

reset_data();
my $mark = Audit::log_mark();
my $frozen;
my $worker = start_worker();
my ($initial, $answers, $pids) = Audit::stampede(tag => 61, buyers => 3000,
    stock => [400, 500, 600, 1000], during => sub {
        select(undef, undef, undef, 0.5);
        $frozen = Audit::freeze(Audit::redis_pid(), 4);
    });
ok($frozen, 'Redis frozen in the middle of the stampede');
my $n503 = grep { $_->{code} eq 'unavailable' } @$answers;
cmp_ok($n503, '>', 0, "buys while Redis was frozen were refused ($n503 answers 503)");
my $since = sub { scalar Audit::log_since($mark, $_[0]) };
my $deferred = $since->(qr/SK0510: order \d+ .*Redis did not answer whether it sold/);
cmp_ok($deferred, '>', 0, "buys that could not tell whether they sold left their undo to the pipeline ($deferred, SK0510)");
ok(wait_for(20, sub { $since->(qr/SK0511: order \d+: Redis answers again/) >= $deferred }),
    'the pipelines undid every one of them once Redis answered (SK0511)');
is($since->(qr/SK0512/), 0, 'no undo failed or was dropped (SK0512)');
my @more = Audit::recovery($pids->[-1], tag => 62, secs => 30);
Audit::audit(label => 'redis freeze', initial => $initial, answers => [@$answers, @more]);
stop_worker($worker);
done_testing();
