# Chaos: MariaDB is restarted (clean shutdown, start) in the middle of a stampede. A buy
# touches only Redis and RabbitMQ, so the shoppers see nothing; the worker loses its
# connection in the middle of a batch: the transaction is rolled back, nothing is acked,
# the broker redelivers and the worker writes the batch again after reconnecting, once.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use SeckillTest;
use Audit;

reset_data();
my $worker = start_worker(batch_max => 16);
my ($initial, $answers, $pids) = Audit::stampede(tag => 31, buyers => 3000,
    stock => [400, 500, 600, 1000], during => sub {
        select(undef, undef, undef, 0.5);
        stack('restart', 'mysql');
    });
my @more = Audit::recovery($pids->[-1], tag => 32);
Audit::audit(label => 'mariadb restart', initial => $initial, answers => [@$answers, @more]);
stop_worker($worker);
done_testing();
