# The worker's order consumers against the real Redis, MariaDB and RabbitMQ of the test stack:
# order messages signed with the real secret go through seckill.order.create into the running
# worker and come out as rows; duplicates, forged tokens, revoked orders, orders MySQL has no
# stock for, pay timeouts and a worker killed mid-batch each end as the design says.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Digest::SHA qw(hmac_sha256_base64);
use File::Temp qw(tempdir);
use POSIX qw(strftime WNOHANG);
use Time::HiRes qw(sleep time);
use Test::More;
use SeckillTest qw(redis sql sql_rows add_product top_dir);

my $top = top_dir();
my $bin = $ENV{SECKILL_TEST_WORKER} // "$top/build/seckill-worker"; # e.g. an ASan build
my $tool = "$top/build/tools/amqp_tool";
my ($A, $Z, $T, $K) = (920001, 920002, 920003, 920004);
my @products = ($A, $Z, $T, $K);
# the pay timeouts wait in seckill.order.timeout.wait and the ladder of lib/amqp_conn.h
my @waits = ('seckill.order.timeout.wait', map { 'seckill.order.timeout.wait.' . 2**$_ . 's' } 0 .. 16);
my @queues = (map({"seckill.order.$_"} qw(create timeout dead)), @waits);
my (%workers, $secret, $first);

plan skip_all => "$bin or $tool is not built (make all)" unless -x $bin && -x $tool;
plan skip_all => 'Redis of the test stack does not answer' unless eval { redis('PING') eq 'PONG' };
plan skip_all => 'no secret file (SECKILL_SECRET_FILE)'
  unless $ENV{SECKILL_SECRET_FILE} && -s $ENV{SECKILL_SECRET_FILE};

my $dir = tempdir(CLEANUP => 1);

# ---- helpers -----------------------------------------------------------------------------

sub slurp { open(my $fh, '<', $_[0]) or return ''; local $/; <$fh> }

sub wait_until {
    my ($secs, $cond) = @_;
    my $until = time + $secs;
    while (time < $until) {
        return 1 if $cond->();
        sleep 0.1;
    }
    return $cond->();
}

sub pct { my $s = shift; $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge; $s }

sub write_conf {
    my $path = "$dir/worker.conf";
    my $mysql = sprintf('mysql://%s:%s@127.0.0.1:%d/%s', pct($ENV{SECKILL_MYSQL_USER}),
        pct($ENV{SECKILL_MYSQL_PASSWORD}), $ENV{SECKILL_MYSQL_PORT}, $ENV{SECKILL_MYSQL_DB});
    open(my $fh, '>', $path) or die "$path: $!";
    print $fh join("\n",
        "redis = redis://127.0.0.1:$ENV{SECKILL_REDIS_PORT}/0", "mysql = $mysql",
        "amqp = amqp://guest:guest\@127.0.0.1:$ENV{SECKILL_AMQP_PORT}/",
        "secret_file = $ENV{SECKILL_SECRET_FILE}", "lua_dir = $top/lua", 'leader_ttl = 3',
        'log_level = debug'), "\n";
    close $fh;
    return $path;
}
my $conf = write_conf();
my $log = "$dir/worker.log";

sub start_worker {
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>>', $log) && open(STDOUT, '>&', \*STDERR) && exec($bin, '-f', '-c', $conf);
        POSIX::_exit(127);
    }
    $workers{$pid} = 1;
    return $pid;
}

# Sends sig; the wait status once it exited (undef when it did not within 15 s).
sub stop_worker {
    my ($pid, $sig) = @_;
    kill $sig // 'TERM', $pid;
    my $until = time + 15;
    while (time < $until) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $workers{$pid};
            return $?;
        }
        sleep 0.05;
    }
    return undef;
}

# amqp_tool with the test stack's port; its output lines.
sub amqp {
    my ($input, @args) = @_;
    my $cmd = join ' ', map { "'$_'" } $tool, @args;
    my $out;
    if (defined $input) {
        my $in = "$dir/in.txt";
        open(my $fh, '>', $in) or die;
        print $fh $input;
        close $fh;
        $out = `$cmd < '$in'`;
    } else {
        $out = `$cmd`;
    }
    die "amqp_tool @args failed\n" if $?;
    return split /\n/, $out;
}
sub depth { (amqp(undef, 'count', "seckill.order.$_[0]"))[0] }
sub waiting { my $n = 0; $n += $_ for amqp(undef, 'count', @waits); $n }
sub publish {
    my ($rk, $retries, @bodies) = @_;
    amqp(join('', map {"$_\n"} @bodies), 'publish', $rk, defined $retries ? $retries : ());
}

sub read_secret {
    open(my $fh, '<', $ENV{SECKILL_SECRET_FILE}) or die "$ENV{SECKILL_SECRET_FILE}: $!";
    local $/;
    my $s = <$fh>;
    $s =~ s/[\r\n]+\z//;
    return $s;
}
$secret = read_secret();

# The order message the module publishes (lib/order.h), signed as lib/token.c signs.
my $next_id = 9200000000 + int(rand(1000000)) * 1000;
sub order {
    my (%o) = @_;
    my $now = int(time * 1000);
    my %m = (order_id => $o{id} // $next_id++, user_id => $o{user}, product_id => $o{product},
        price => '309.00', quantity => $o{qty} // 1, created_ms => $now,
        pay_deadline_ms => $now + ($o{pay_ms} // 600000));
    my $t = hmac_sha256_base64(
        join('|', 'order', @m{qw(order_id user_id product_id price quantity)}),
        $o{secret} // $secret);
    $t =~ tr{+/}{-_};
    $m{token} = $t;
    $m{json} = sprintf('{"order_id":"%s","user_id":"%s","product_id":%d,"price":"%s",'
          . '"quantity":%d,"created_ms":%d,"pay_deadline_ms":%d,"token":"%s"}',
        @m{qw(order_id user_id product_id price quantity created_ms pay_deadline_ms token)});
    return \%m;
}

sub skey { "seckill:stock:{p$_[0]}" }
sub bkey { "seckill:buyers:{p$_[0]}" }
sub okey { "seckill:orders:{p$_[0]}" }
sub lua { my $f = "$top/lua/$_[0].lua"; open(my $fh, '<', $f) or die "$f: $!"; local $/; <$fh> }

# The module's buy for an order: lua/buy.lua takes the unit, records the buyer and the sale.
my $buy_lua = lua('buy');
sub sell {
    my ($m) = @_;
    my $p = $m->{product_id};
    my @r = redis('EVAL', $buy_lua, 5, "seckill:product:{p$p}", skey($p), bkey($p),
        "seckill:rate:{p$p}:$m->{user_id}", okey($p), $m->{user_id}, $m->{quantity}, 5, 0, 1000,
        $m->{order_id});
    die "buy.lua refused order $m->{order_id}: @r\n" unless @r && $r[0] eq '0';
}

sub row { (sql_rows("SELECT user_id, goods_id, goods_name, seckill_price, quantity,"
          . " total_amount, status, create_time, cancel_time IS NULL FROM seckill_orders"
          . " WHERE id = $_[0]"))[0] }
sub rows_of { sql("SELECT COUNT(*) FROM seckill_orders WHERE goods_id = $_[0]") }
sub stock_of { sql("SELECT stock FROM seckill_products WHERE id = $_[0]") }
sub status_of { sql("SELECT status FROM seckill_orders WHERE id = $_[0]") // -1 }
sub logged { my ($re) = @_; my @n = slurp($log) =~ /$re/g; scalar @n }

sub cleanup {
    stop_worker($_, 'KILL') for keys %workers;
    sql('DELETE FROM seckill_orders WHERE goods_id IN (' . join(',', @products) . ')');
    sql('DELETE FROM seckill_products WHERE id IN (' . join(',', @products) . ')');
    redis('DEL', map { (skey($_), bkey($_), okey($_), "seckill:product:{p$_}") } @products);
    redis('DEL', $_) for redis('KEYS', 'seckill:rate:{p92000[1-4]}:*');
    redis('SREM', $_, @products) for redis('KEYS', 'seckill:slot:*'); # cached by the preheat
    amqp(undef, 'purge', @queues);
}

END {
    my $rc = $?;
    eval { cleanup() } if $tool && -x $tool;
    $? = $rc;
}

# ---- fixtures ----------------------------------------------------------------------------

cleanup();
my $now = int(time);
add_product(id => $A, name => 'orders-a', stock => 100, start => $now - 60, end => $now + 3600,
    status => 1);
add_product(id => $Z, name => 'orders-z', stock => 0, start => $now - 60, end => $now + 3600,
    status => 1);
add_product(id => $T, name => 'orders-t', stock => 10, start => $now - 60, end => $now + 3600,
    status => 1);
add_product(id => $K, name => 'orders-k', stock => 5000, start => $now - 60,
    end => $now + 3600, status => 1);
redis('SET', skey($A), 100);
redis('SET', skey($Z), 5);
redis('SET', skey($T), 10);
redis('HSET', "seckill:product:{p$_}", 'id', $_, 'status', 1, 'start', $now - 60, 'end',
    $now + 3600, 'seckill_price', '309.00') for $A, $Z, $T;

my $w = start_worker();
ok(wait_until(10, sub { logged(qr/SKW401 orders: consuming/) && logged(qr/SKW501 timeout/) }),
    'both consumers subscribe');

subtest 'an order becomes a row, its stock taken and its timeout scheduled' => sub {
    my $m = order(user => 'alice', product => $A, qty => 2);
    sell($m);
    publish('order.create', undef, $m->{json});
    ok(wait_until(10, sub { row($m->{order_id}) }), 'the row exists');
    my $ms = $m->{created_ms};
    my $when = strftime('%Y-%m-%d %H:%M:%S', localtime int($ms / 1000))
      . sprintf('.%03d000', $ms % 1000);
    is_deeply(row($m->{order_id}),
        ['alice', $A, 'orders-a', '309.00', 2, '618.00', 0, $when, 1],
        'user, product, name, price, quantity, total, status 0, create_time, not cancelled');
    is(stock_of($A), 98, 'MySQL stock taken with the guard');
    is(redis('GET', skey($A)), 98, 'Redis stock untouched by the worker');
    is(redis('HGET', okey($A), $m->{order_id}), 'claimed', 'claimed in Redis');
    ok(wait_until(5, sub { waiting() == 1 }), 'its timeout waits');
    is(depth('timeout.wait.512s'), 1, 'in the longest ladder step shorter than 10 minutes');
    is(depth('create'), 0, 'acked');
    $first = $m;
};

subtest 'a duplicate message changes nothing' => sub {
    my $m = $first;
    my $marker = order(user => 'bob', product => $A);
    sell($marker);
    publish('order.create', undef, $m->{json}, $marker->{json});
    ok(wait_until(10, sub { row($marker->{order_id}) }), 'the order after it was written');
    is(sql("SELECT COUNT(*) FROM seckill_orders WHERE id = $m->{order_id}"), 1, 'still one row');
    is(stock_of($A), 97, 'stock taken once per order');
    like(slurp($log), qr/SKW403 orders: order $m->{order_id} was written before, nothing done\n/,
        'logged as a duplicate');
    ok(wait_until(5, sub { waiting() == 2 }), 'no second timeout for it');
};

subtest 'a forged token or a malformed body goes to the dead-letter queue' => sub {
    my $forged = order(user => 'mallory', product => $A, secret => 'x' x 40);
    my $tampered = order(user => 'mallory', product => $A);
    $tampered->{json} =~ s/"quantity":1/"quantity":9/;
    publish('order.create', undef, $forged->{json}, $tampered->{json}, '{"order_id":"1"}');
    ok(wait_until(10, sub { depth('dead') == 3 }), 'three dead letters');
    is(logged(qr/SKW404 orders: bad token/), 2, 'bad tokens logged');
    is(logged(qr/SKW404 orders: malformed body/), 1, 'malformed body logged');
    ok(!row($forged->{order_id}) && !row($tampered->{order_id}), 'no rows');
    is(stock_of($A), 97, 'no MySQL stock taken');
    is(redis('GET', skey($A)), 97, 'no Redis compensation for untrusted messages');
    ok(!redis('HEXISTS', okey($A), $forged->{order_id}), 'not even claimed');
    my @dead = amqp(undef, 'get', 'seckill.order.dead');
    is_deeply([sort @dead],
        [sort map {"0\t$_"} $forged->{json}, $tampered->{json}, '{"order_id":"1"}'],
        'dead-lettered as they came');
};

subtest 'an order revoked by the module before the worker claims it is dropped' => sub {
    my $m = order(user => 'carl', product => $A);
    sell($m);
    is(redis('EVAL', lua('order_revoke'), 3, skey($A), bkey($A), okey($A), $m->{order_id},
            'carl', 1), 1, 'revoked (the publish was not confirmed in time)');
    is(redis('GET', skey($A)), 97, 'the unit is back in Redis');
    publish('order.create', undef, $m->{json});
    ok(wait_until(10, sub { logged(qr/SKW405 orders: order $m->{order_id} was revoked/) }),
        'dropped and logged');
    ok(!row($m->{order_id}), 'no row');
    is(stock_of($A), 97, 'no MySQL stock taken');
    is(redis('GET', skey($A)), 97, 'Redis stock not given back twice');
    is(depth('dead'), 0, 'not a dead letter');
    is(depth('create'), 0, 'acked');
};

subtest "order_revoke.lua 'fence': a buy that never heard whether it sold" => sub {
    my $stock = redis('GET', skey($A));
    my $never = order(user => 'fiona', product => $A);
    is(redis('EVAL', lua('order_revoke'), 3, skey($A), bkey($A), okey($A), $never->{order_id},
            'fiona', 1, 'fence'), 1, 'a sale not made: fenced');
    is(redis('GET', skey($A)), $stock, 'nothing given back for it');
    is(redis('HGET', okey($A), $never->{order_id}), 'revoked', 'its id is recorded as revoked');
    sell($never); # its EVALSHA, run late (left in a frozen Redis's input)
    is(redis('GET', skey($A)), $stock, 'a late run of its buy then sells nothing');
    is(redis('HGET', okey($A), $never->{order_id}), 'revoked', 'and leaves it revoked');
    my $made = order(user => 'fred', product => $A);
    sell($made);
    is(redis('GET', skey($A)), $stock - 1, 'a sale made');
    is(redis('EVAL', lua('order_revoke'), 3, skey($A), bkey($A), okey($A), $made->{order_id},
            'fred', 1, 'fence'), 1, 'then undone');
    is(redis('GET', skey($A)), $stock, 'its unit is back');
    is(redis('EVAL', lua('order_revoke'), 3, skey($A), bkey($A), okey($A), $made->{order_id},
            'fred', 1, 'fence'), 1, 'an undo repeated');
    is(redis('GET', skey($A)), $stock, 'gives nothing back twice');
};

subtest 'no stock in MySQL: three retries, then dead-lettered and Redis restored once' => sub {
    my $m = order(user => 'carol', product => $Z);
    sell($m);
    is(redis('GET', skey($Z)), 4, 'sold in Redis');
    publish('order.create', undef, $m->{json});
    ok(wait_until(10, sub { logged(qr/SKW407 orders: order $m->{order_id} failed 4 times/) }),
        'failed for good after 4 tries');
    is(logged(qr/SKW406 orders: order $m->{order_id} failed \(no stock left in MySQL/), 3,
        'three retries logged');
    ok(wait_until(5, sub { depth('dead') == 1 }), 'one dead letter');
    is_deeply([amqp(undef, 'get', 'seckill.order.dead')], ["3\t$m->{json}"],
        'the message as published, with x-seckill-retries 3');
    ok(!row($m->{order_id}), 'no row');
    is(stock_of($Z), 0, 'MySQL stock untouched');
    is(redis('GET', skey($Z)), 5, 'the unit is back in Redis');
    ok(!redis('HEXISTS', bkey($Z), 'carol'), "the shopper's limit is lifted");
    is(redis('GET', "seckill:order:$m->{order_id}"), "carol|$Z|failed", 'failure marker');
    ok(redis('TTL', "seckill:order:$m->{order_id}") > 86000, 'marker lives a day');
    is(redis('HGET', okey($Z), $m->{order_id}), 'restored', 'order state restored');

    # The same last try delivered again (a crash before its ack): nothing given back twice.
    publish('order.create', 3, $m->{json});
    ok(wait_until(10, sub { depth('dead') == 1 }), 'dead-lettered again');
    is(redis('GET', skey($Z)), 5, 'Redis stock restored exactly once');
};

subtest 'unpaid at the deadline: cancelled, stock back in MySQL and Redis, limit lifted' => sub {
    # the earlier orders' 10-minute timeouts wait meanwhile: they must not hold these back
    is(waiting(), 2, 'two long timeouts pending');
    my $unpaid = order(user => 'erin', product => $T, qty => 2, pay_ms => 2000);
    my $paid = order(user => 'frank', product => $T, pay_ms => 2000);
    sell($_) for $unpaid, $paid;
    publish('order.create', undef, $unpaid->{json}, $paid->{json});
    ok(wait_until(5, sub { row($paid->{order_id}) }), 'both rows written');
    is(stock_of($T), 7, 'MySQL stock 10 - 3');
    sql("UPDATE seckill_orders SET status = 1 WHERE id = $paid->{order_id}");
    ok(wait_until(8, sub { status_of($unpaid->{order_id}) == 2 }), 'the unpaid one is cancelled');
    ok(!row($unpaid->{order_id})->[8], 'with a cancel time');
    ok(wait_until(5, sub { logged(qr/SKW503 timeout: order $paid->{order_id} has status 1/) }),
        'the paid one is left alone');
    is(status_of($paid->{order_id}), 1, 'still paid');
    is(stock_of($T), 9, 'MySQL stock back for the cancelled order only');
    is(redis('GET', skey($T)), 9, 'Redis stock back for it');
    ok(!redis('HEXISTS', bkey($T), 'erin'), "the cancelled shopper's limit is lifted");
    is(redis('HGET', bkey($T), 'frank'), 1, "the paying shopper's stays");
    like(slurp($log), qr/SKW502 timeout: order $unpaid->{order_id} unpaid at its deadline/,
        'logged');
    like(slurp($log), qr/SKW508 timeout: order $unpaid->{order_id} has \d+ ms left to pay, waits on \(order\.timeout\.wait\)/,
        'a second on the ladder, the rest with its own TTL');

    # A timeout delivered twice (or after the shopper cancelled) returns nothing twice.
    publish('order.timeout', undef, $unpaid->{json});
    ok(wait_until(5, sub { logged(qr/SKW506 timeout: order $unpaid->{order_id} was cancelled/) }),
        'the second timeout sees it cancelled');
    is(stock_of($T), 9, 'MySQL stock unchanged');
    is(redis('GET', skey($T)), 9, 'Redis stock unchanged');
};

# After a benchmark deletes its orders, their pay timeouts find no row: 110,000 of them once
# wrote a warning each (52 MB of log). Now one warning a batch, each order at debug level.
subtest 'timeouts of orders without a row: one warning a batch, not one an order' => sub {
    my @gone = map { order(user => "gone$_", product => $T, pay_ms => -1000) } 1 .. 60;
    my $re = join '|', map { $_->{order_id} } @gone;
    my $dead = depth('dead');
    is(stop_worker($w), 0, 'worker stopped, so they wait together');
    publish('order.timeout', undef, map { $_->{json} } @gone);
    $w = start_worker();
    ok(wait_until(10, sub { logged(qr/debug SKW505 timeout: order (?:$re) has no row/) == 60 }),
        'each order at debug level');
    my $log_text = slurp($log);
    my @warn = $log_text =~ /warn SKW505 timeout: (?:order (?:$re) has no row|(\d+) orders of a batch have no row[^\n]*(?:$re))/g;
    my $count = 0;
    $count += $_ // 1 for @warn;
    is($count, 60, 'the warnings count all 60');
    cmp_ok(scalar @warn, '<=', 3, scalar(@warn) . ' warning line(s) for 60 orders');
    is(depth('dead'), $dead, 'nothing dead-lettered');
};

subtest 'a worker killed mid-batch loses nothing and duplicates nothing' => sub {
    is(stop_worker($w), 0, 'stopped for the backlog');
    amqp(undef, 'purge', @waits);
    my $n = 3000;
    my @msgs = map { order(user => "k$_", product => $K) } 1 .. $n;
    is((publish('order.create', undef, map { $_->{json} } @msgs))[0], $n, "$n orders queued");
    my $k = start_worker();
    ok(wait_until(15, sub { rows_of($K) > 0 }), 'the worker is writing');
    my $st = stop_worker($k, 'KILL');
    ok(defined $st && ($st & 127) == 9, 'killed by SIGKILL');
    my $at = rows_of($K);
    note("killed with $at of $n rows written");
    cmp_ok($at, '<', $n, 'killed before the end');
    $w = start_worker();
    ok(wait_until(30, sub { rows_of($K) == $n }), 'every order written after the restart');
    is(sql("SELECT COUNT(DISTINCT id) FROM seckill_orders WHERE goods_id = $K"), $n,
        'each order once');
    is(stock_of($K), 5000 - $n, 'stock taken exactly once per order');
    ok(wait_until(10, sub { depth('create') == 0 }), 'the queue drained');
    # the worker joins the timeouts of a wait queue into messages of several orders: count
    # the orders in them (taking them; nothing below needs them)
    my ($nwait, %timed) = (waiting());
    for my $q (@waits) {
        my $text = join("\n", amqp(undef, 'get', $q, 100000));
        $timed{$1}++ while $text =~ /"order_id":"(\d+)"/g;
    }
    my %mine = map { ($_->{order_id} => 1) } @msgs;
    is(scalar(grep { $timed{$_} } keys %mine), $n, 'every order has its timeout (redelivered ones may have two)');
    cmp_ok($nwait, '<', $n, "in fewer messages: $nwait");
};

# The module's publisher sends the orders of concurrent buys as one message, their JSON joined
# by newlines (lib/order.h); amqp_tool takes a TAB for each newline. Each order is decided alone.
subtest 'one message of several orders: each written or refused by itself' => sub {
    my $g1 = order(user => 'batch1', product => $K);
    my $forged = order(user => 'batch-mallory', product => $K, secret => 'y' x 40);
    my $g2 = order(user => 'batch2', product => $K, qty => 2);
    my $stock = stock_of($K);
    my $dead = depth('dead');
    publish('order.create', undef, join("\t", $g1->{json}, $forged->{json}, $g2->{json}));
    ok(wait_until(10, sub { row($g1->{order_id}) && row($g2->{order_id}) }),
        'both good orders of the message are rows');
    is(row($g2->{order_id})->[4], 2, '  each with its own quantity');
    is(stock_of($K), $stock - 3, '  stock taken for the two of them');
    ok(!row($forged->{order_id}), 'the forged one has no row');
    ok(wait_until(5, sub { depth('dead') == $dead + 1 }), 'one dead letter');
    my @dead = amqp(undef, 'get', 'seckill.order.dead');
    is((grep { $_ eq "0\t$forged->{json}" } @dead), 1, '  the forged order alone, not its message');
    ok(wait_until(5, sub { depth('create') == 0 }), 'the message acked');
    is(logged(qr/SKW404 orders: bad token \(order $forged->{order_id}/), 1, 'logged');
    ok(wait_until(5, sub { depth('timeout.wait.512s') == 1 }),
        'the two pay timeouts wait in one message');
    is(waiting(), 1, '  and nowhere else');

    # the timeout consumer too decides each order of a message alone (the deadline is not
    # signed: a copy due now stands for the wait having passed)
    (my $due = $g1->{json}) =~ s/"pay_deadline_ms":\d+/'"pay_deadline_ms":' . int(time * 1000 - 1000)/e;
    $dead = depth('dead');
    publish('order.timeout', undef, join("\t", $due, $forged->{json}));
    ok(wait_until(10, sub { status_of($g1->{order_id}) == 2 }), 'the due one is cancelled');
    is(status_of($g2->{order_id}), 0, 'the other order of the first message is not');
    is(stock_of($K), $stock - 2, '  its unit back in MySQL');
    ok(wait_until(5, sub { depth('dead') == $dead + 1 }), 'the forged one dead-lettered alone');
    @dead = amqp(undef, 'get', 'seckill.order.dead');
    is((grep { $_ eq "0\t$forged->{json}" } @dead), 1, '  as it came');
};

subtest 'SIGTERM stops the consumers cleanly' => sub {
    is(stop_worker($w), 0, 'exit status 0');
    like(slurp($log), qr/SKW003 stopped\n\z/, 'stop logged last');
    unlike(slurp($log), qr/AddressSanitizer|runtime error|SKW409|SKW509/, 'no sanitizer report, no batch given back');
};

done_testing();
