# Chaos: RabbitMQ freezes (SIGSTOP to its VM) in the middle of a stampede for longer than
# SeckillAMQPTimeout (3 s), then runs on (SIGCONT). Its sockets stay open, so nothing fails
# fast: messages sent meanwhile get no confirm and a new connection no handshake. The
# publisher gives up on them after the timeout, the buys revoke their units in Redis and
# answer 503; a message the broker reads once it runs again still reaches the worker, which
# finds its order revoked and writes no row. The audit then finds nothing oversold or lost.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use SeckillTest;
use Audit;

reset_data();
my $frozen;
my $worker = start_worker();
my ($initial, $answers, $pids) = Audit::stampede(tag => 23, buyers => 3000,
    stock => [400, 500, 600, 1000], during => sub {
        select(undef, undef, undef, 0.5);
        $frozen = Audit::freeze(Audit::rabbitmq_vm(), 5);
    });
ok($frozen, 'RabbitMQ frozen in the middle of the stampede');
my $n503 = grep { $_->{code} eq 'unavailable' } @$answers;
cmp_ok($n503, '>', 0, "buys while RabbitMQ was frozen were refused ($n503 answers 503)");
my $log = do { local (@ARGV, $/) = (Audit::error_log()); <> };
like($log, qr/SK0214: amqp: \d+ publishes not confirmed within 3000 ms/,
    'the error log says which publishes went unconfirmed (SK0214)');
my @more = Audit::recovery($pids->[-1], tag => 24, secs => 30);
Audit::audit(label => 'rabbitmq freeze', initial => $initial, answers => [@$answers, @more]);
stop_worker($worker);
done_testing();
