# /seckill-status counts what the shop answered: after known buys of every outcome and known
# listing hits and misses, each counter moved by exactly that many in ?auto, ?prometheus and
# the HTML page alike; every total is the sum of its children; pools and the node are shown.
use strict;
use warnings FATAL => 'all';
use Test::More;
use HTTP::Request::Common ();
use POSIX qw(strftime);
use Apache::Test ();
use SeckillTest;
use Shopper;
use StatusPage qw(fetch amqp_tool COUNTERS POOL_FIELDS);

reset_data();
my $now = time;
my $on_sale = add_product(name => 'status on sale', start => $now - 60, end => $now + 3600,
    stock => 100, status => 1);
my $last_one = add_product(name => 'status last one', start => $now - 60, end => $now + 3600,
    stock => 1, status => 1);
my $later = add_product(name => 'status later', start => $now + 1800, end => $now + 5400,
    stock => 5);
my $over = add_product(name => 'status over', start => $now - 7200, end => $now - 60,
    stock => 5, status => 2);
preheat($now - 60, $now + 1800, $now - 7200);
# No worker: the order messages stay queued, nothing else talks to the shop meanwhile.
# Every shopper opens its own connection (several children answer) before counting starts:
# opening the shop is a listing.
my @s = map { Shopper->new } 1 .. 20;
my $slot = current_slot();
my $date = strftime('%Y%m%d', localtime);

my @before = fetch();
my %want;
my %answers;
my %sold_by_slot; # the child slot in each order id (bits 12-16, lib/snowflake.h)
sub answered {
    my ($res, $d) = @_;
    my $code = $d && $d->{code} // 'none';
    $answers{$code}++;
    $sold_by_slot{($d->{order_id} >> 12) & 31}++ if $code eq 'ok';
    $want{"buys/$code"}++;
    return $code;
}

subtest 'buys of every outcome' => sub {
    is(answered($s[$_]->buy($on_sale)), 'ok', "shopper $_ buys") for 0 .. 3;
    is(answered($s[0]->buy($on_sale)), 'already_bought', 'again: already_bought');
    is(answered($s[4]->buy($last_one)), 'ok', 'the last unit');
    is(answered($s[5]->buy($last_one)), 'sold_out', 'then sold_out');
    is(answered($s[5]->buy($last_one)), 'sold_out', 'still sold_out (from memory)');
    is(answered($s[6]->buy($later)), 'not_started', 'not_started');
    is(answered($s[6]->buy($over)), 'ended', 'ended');
    is(answered($s[6]->buy(987654321)), 'no_such_product', 'no_such_product');
    is(answered($s[6]->buy($_)), 'bad_request', "/buy/$_: bad_request") for 'abc', '0';
    my $big = $s[6]->ua->request(HTTP::Request::Common::POST($s[6]->base . "/buy/$on_sale",
        [csrf_token => $s[6]->csrf, pad => 'x' x 8192], Accept => 'application/json'));
    is($big->code, 413, 'a big body: 413');
    is(answered($big, json_decode($big->content)), 'bad_request', '  code bad_request');
    is(answered($s[7]->buy($on_sale, csrf => undef)), 'forbidden', 'no CSRF token: forbidden');
    is(answered(Shopper->new(anonymous => 1)->buy($on_sale, csrf => $s[7]->csrf)), 'forbidden',
        'no identity: forbidden');
    my $get = $s[7]->ua->get($s[7]->base . "/buy/$on_sale", Accept => 'application/json');
    is(answered($get, json_decode($get->content)), 'method_not_allowed', 'GET: method_not_allowed');
  SKIP: {
        skip 'rate limits are off', 1 unless ($ENV{SECKILL_RATE_LIMIT} // 5) > 0;
        my $seen;
        for (1 .. 30) {
            last if ($seen = answered($s[8]->buy($on_sale)) eq 'rate_limited');
        }
        ok($seen, 'a burst: rate_limited');
    }
    # An unroutable publish (the queue deleted under the module's pooled connections) is
    # not confirmed: the buy is revoked and answered 503. A child that opens a new
    # connection declares the queue again and sells: try until one of them fails.
    my $unavailable = 0;
    for my $i (9 .. 19) {
        stack('rabbitmqctl', 'delete_queue', 'seckill.order.create');
        my $code = answered($s[$i]->buy($on_sale));
        $unavailable++ if $code eq 'unavailable';
        last if $unavailable;
    }
    ok($unavailable, 'an unconfirmed publish: unavailable');
    # Any new connection declares the queue again (amqp_tool's does); the orders of this
    # test, which no worker will write, go with the purge.
    amqp_tool('purge', 'seckill.order.create');
    $want{'publish_failures/unconfirmed'} = $answers{unavailable} // 0;
    note(join ', ', map { "$_ $answers{$_}" } sort keys %answers);
};

subtest 'listing hits and misses' => sub {
    redis('DEL', "seckill:slot:$date:$slot");
    for (1 .. 4) {
        my $res = get_json("/?slot=$slot");
        ok($res->is_success, "listing $_");
        $want{'listings/' . ($res->header('X-Seckill-Cache') // '')}++;
    }
    is($want{'listings/miss'}, 1, 'the first after the cache went was a miss');
    is($want{'listings/hit'}, 3, 'the others hits');
};

my @after = fetch();
my @format = ('?auto', '?prometheus', 'HTML');

subtest 'each counter moved by what was answered, in every format' => sub {
    for my $f (0 .. 2) {
        for my $c (COUNTERS) {
            my ($b, $a) = ($before[$f]{counters}{$c}, $after[$f]{counters}{$c});
            ok(defined $a->{total}, "$format[$f]: $c is shown") or next;
            is($a->{total} - ($b->{total} // 0), $want{$c} // 0,
                "$format[$f]: $c moved by " . ($want{$c} // 0));
        }
    }
};

subtest 'totals are the sums of the children' => sub {
    for my $f (0 .. 2) {
        for my $c (COUNTERS) {
            my $a = $after[$f]{counters}{$c};
            my $sum = 0;
            $sum += $_ for values %{$a->{child} // {}};
            is($sum, $a->{total}, "$format[$f]: $c: children sum to the total");
        }
    }
    my %moved = map { $_ => 1 } grep {
        my $slot = $_;
        grep { ($after[0]{counters}{$_}{child}{$slot} // 0) != ($before[0]{counters}{$_}{child}{$slot} // 0) } COUNTERS
    } keys %{$after[0]{children}};
    note('children that counted: ' . join(' ', sort { $a <=> $b } keys %moved));
    cmp_ok(scalar keys %moved, '>=', 1, 'at least one child counted');
    my %ok_by_slot = map {
        my $n = ($after[0]{counters}{'buys/ok'}{child}{$_} // 0)
          - ($before[0]{counters}{'buys/ok'}{child}{$_} // 0);
        $n ? ($_ => $n) : ()
    } keys %{$after[0]{children}};
    is_deeply(\%ok_by_slot, \%sold_by_slot,
        'each child counted its sales in the slot its order ids carry');
    is_deeply($after[1]{counters}, $after[0]{counters}, '?prometheus shows what ?auto shows');
    is_deeply($after[2]{counters}, $after[0]{counters}, 'the HTML page shows what ?auto shows');
};

subtest 'pool health' => sub {
    my %size = (redis => 64, mysql => 16, amqp => 1); # amqp: publisher threads (SeckillAMQPPoolSize)
    for my $f (0 .. 2) {
        my $pools = $after[$f]{pools};
        for my $p (qw(redis mysql amqp)) {
            is($pools->{$p}{size}, $size{$p}, "$format[$f]: $p pool size");
            for my $field (POOL_FIELDS) {
                ok(defined $pools->{$p}{total}{$field}, "$format[$f]: $p $field shown");
                my $sum = 0;
                $sum += $_->{$field} // 0 for values %{$pools->{$p}{child} // {}};
                is($sum, $pools->{$p}{total}{$field}, "$format[$f]: $p $field: children sum to the total");
            }
            cmp_ok($pools->{$p}{total}{connects}, '>=', 1, "$format[$f]: $p connected");
            cmp_ok($pools->{$p}{total}{idle} + $pools->{$p}{total}{in_use}, '>=', 1,
                "$format[$f]: $p has connections open");
            # the request answered just before may not have given its connection back yet
            cmp_ok($pools->{$p}{total}{in_use}, '<=', 1, "$format[$f]: $p: none in use but the last");
        }
    }
    ok(wait_for(5, sub {
        my $d = StatusPage::status_auto();
        !grep { $d->{pools}{$_}{total}{in_use} } qw(redis mysql amqp)
    }), 'between requests, no connection is in use');
};

subtest 'node and child slots' => sub {
    for my $f (0 .. 2) {
        is($after[$f]{node_id}, $ENV{SECKILL_NODE_ID}, "$format[$f]: snowflake node");
        my @alive = grep { $after[$f]{children}{$_}{alive} } keys %{$after[$f]{children}};
        cmp_ok(scalar @alive, '>=', 1, "$format[$f]: children alive: @alive");
        for my $c (@alive) {
            my $pid = $after[$f]{children}{$c}{pid};
            cmp_ok($c, '<', 8, "$format[$f]: slot $c within ServerLimit");
            ok($pid && kill(0, $pid), "$format[$f]: child $c is process $pid, which runs");
            cmp_ok($after[$f]{children}{$c}{processes}, '>=', 1, "$format[$f]: child $c: processes");
        }
    }
};

is(queue_depth('seckill.order.create'), 0, 'the order queue is back, empty');
done_testing();
