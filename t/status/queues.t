# The queue depths on /seckill-status are RabbitMQ's: known messages published with no worker
# running show up exactly (and as rabbitmqctl counts them), a running worker shows as the
# queues' consumer; with RabbitMQ down the page still answers and says so.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use SeckillTest;
use StatusPage qw(fetch status_auto amqp_tool);

my @waits = ('seckill.order.timeout.wait', map { 'seckill.order.timeout.wait.' . 2**$_ . 's' } 0 .. 16);
my @main = map { "seckill.order.$_" } qw(create timeout dead);
my @format = ('?auto', '?prometheus', 'HTML');

# Messages no consumer would make sense of: nothing may take them, and none runs here.
amqp_tool('purge', @main, @waits);

subtest 'a running worker is a consumer' => sub {
    my $worker = start_worker();
    ok(wait_for(15, sub { (status_auto()->{queues}{'seckill.order.create'}{consumers} // 0) == 1 }),
        'order.create: one consumer');
    my $d = status_auto();
    is($d->{queues}{'seckill.order.timeout'}{consumers}, 1, 'order.timeout: one consumer');
    is($d->{queues}{'seckill.order.dead'}{consumers}, 0, 'order.dead: none (no one consumes it)');
    stop_worker($worker);
    ok(wait_for(10, sub { status_auto()->{queues}{'seckill.order.create'}{consumers} == 0 }),
        'stopped: none');
};

subtest 'known messages, counted' => sub {
    # again: the worker above may have turned an order left by an earlier test into a pay
    # timeout waiting in one of these queues (seen once in a full run: 5 waiting, not 4)
    amqp_tool('purge', @main, @waits);
    my %n = ('seckill.order.create' => 7, 'seckill.order.timeout' => 3, 'seckill.order.dead' => 2);
    for my $q (sort keys %n) {
        (my $rk = $q) =~ s/^seckill\.//;
        my ($sent) = amqp_tool('publish', $rk, join('', map { "{\"status-test\":$_}\n" } 1 .. $n{$q}));
        is($sent, $n{$q}, "$n{$q} published to $q");
    }
    my ($sent) = amqp_tool('publish', 'order.timeout.wait.65536s', "{}\n{}\n{}\n{}\n");
    is($sent, 4, '4 into the pay-timeout waiting room (a step of 18 hours)');
    my @d = fetch();
    for my $f (0 .. 2) {
        is($d[$f]{queues_up}, 1, "$format[$f]: RabbitMQ answered");
        for my $q (@main) {
            is($d[$f]{queues}{$q}{messages}, $n{$q}, "$format[$f]: $q holds $n{$q}");
            is($d[$f]{queues}{$q}{consumers}, 0, "$format[$f]: $q has no consumer");
        }
        is($d[$f]{timeout_waiting}, 4, "$format[$f]: 4 waiting for their pay window");
    }
    for my $q (@main) {
        is(queue_depth($q), $d[0]{queues}{$q}{messages}, "rabbitmqctl agrees on $q");
    }
    amqp_tool('purge', @main, @waits);
    is(status_auto()->{queues}{'seckill.order.create'}{messages}, 0, 'purged: 0');
};

subtest 'RabbitMQ down' => sub {
    stack('stop', 'rabbitmq');
    my @d = eval { fetch() };
    my $err = $@;
    stack('start', 'rabbitmq');
    is($err, '', 'the page still answers in every format');
    for my $f (0 .. 2) {
        is($d[$f]{queues_up}, 0, "$format[$f]: says RabbitMQ did not answer");
        ok(!defined $d[$f]{queues}{'seckill.order.create'}, "$format[$f]: and shows no depth");
    }
    like($d[2]{html}, qr/id="queues-down"/, 'HTML: in words');
    ok(wait_for(20, sub { status_auto()->{queues_up} }), 'back once RabbitMQ is');
};

done_testing();
