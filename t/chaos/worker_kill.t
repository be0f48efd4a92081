# Chaos: the worker is killed with SIGKILL in the middle of a stampede and restarted. The
# module never waits for the worker, so every buy is answered as usual; the messages the
# dead worker had received but not acked are redelivered to the new one, which must write
# each order exactly once (the order id is the primary key; a claimed order is not claimed
# twice) and give no unit away twice.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use SeckillTest;
use Audit;

reset_data();
my $worker = start_worker();
my ($initial, $answers, $pids) = Audit::stampede(tag => 11, buyers => 3000,
    stock => [400, 500, 600, 1000], during => sub {
        select(undef, undef, undef, 0.7);
        stop_worker($worker, 'KILL');
        select(undef, undef, undef, 1.0);
        $worker = start_worker();
    });
my @more = Audit::recovery($pids->[-1], tag => 12);
Audit::audit(label => 'worker SIGKILL', initial => $initial, answers => [@$answers, @more]);
stop_worker($worker);
done_testing();
