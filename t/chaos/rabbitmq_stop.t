# Chaos: RabbitMQ is stopped in the middle of a stampede and started again a few seconds
# later. The node is stopped by SIGTERM to its VM (RabbitMQ's own clean shutdown, what
# `rabbitmqctl stop` asks for too), because rabbitmqctl needs seconds to boot its own VM
# and the stampede would be over by then; scripts/stack.sh starts it again. While it is down a buy cannot be confirmed: the module revokes the unit it took in
# Redis (lua/order_revoke.lua) and answers 503 `unavailable`, so those answers hold no
# stock, no buyer entry and never get a row. Orders confirmed before the stop are durable
# (persistent messages in durable queues) and are written after the restart; the module's
# and the worker's connections come back by themselves.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use SeckillTest;
use Audit;

reset_data();
my $stopped;
my $worker = start_worker();
my ($initial, $answers, $pids) = Audit::stampede(tag => 21, buyers => 3000,
    stock => [400, 500, 600, 1000], during => sub {
        select(undef, undef, undef, 0.5);
        my $vm = Audit::rabbitmq_vm();
        kill('TERM', $vm) or die "kill TERM $vm: $!";
        $stopped = wait_for(30, sub { !kill(0, $vm) });
        sleep 3;
        stack('start', 'rabbitmq');
    });
ok($stopped, 'RabbitMQ stopped in the middle of the stampede');
my $n503 = grep { $_->{code} eq 'unavailable' } @$answers;
cmp_ok($n503, '>', 0, "buys while RabbitMQ was down were refused ($n503 answers 503)");
my @more = Audit::recovery($pids->[-1], tag => 22, secs => 30);
Audit::audit(label => 'rabbitmq stop/start', initial => $initial, answers => [@$answers, @more]);
stop_worker($worker);
done_testing();
