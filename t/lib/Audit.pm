package Audit;
# The invariants of DESIGN.md ("what the tests prove"), checked after a stampede once the
# queues drained, for the chaos suite (t/chaos/*.t) and anything else that runs a stampede:
#
#   never oversold   orders not cancelled of a product <= its initial stock, MySQL stock >= 0
#   nothing lost     every `ok` answer has exactly its order row (same id, user, product);
#                    every unit Redis records as held by a buyer has a row
#   no duplicates    order ids unique, no shopper with two rows of one product
#   consistent       Redis stock = MySQL stock = initial - orders not cancelled
#   503 is clean     a buy answered `unavailable` holds nothing: no row, no unit, no buyer
#
# Answers that are neither a JSON answer of the shop nor any code (a connection cut by a
# restart: LWP makes up a 500) have an unknown outcome: they may or may not own a row, but
# only one, and it is then counted like an ok one in the stock equation. They are allowed
# up to 0.2 % of the answers, or all of them where a restart of httpd cuts on purpose.
#
# Also: a crash check over httpd's error_log, and a snapshot of the data (Redis and MySQL)
# to prove that requests changed nothing.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Digest::SHA ();
use Time::HiRes ();
use Apache::Test ();
use SeckillTest;
use Stampede;

# The pid of the test stack's RabbitMQ VM (beam.smp), from the pid file RabbitMQ writes.
sub rabbitmq_vm {
    my $pidfile = "$ENV{SECKILL_RUN_DIR}/rabbitmq/rabbitmq.pid";
    open(my $fh, '<', $pidfile) or die "$pidfile: $!";
    chomp(my $vm = <$fh> // '');
    return $vm;
}

# the test stack's Redis server (scripts/stack.sh writes its pid file)
sub redis_pid {
    my $pidfile = "$ENV{SECKILL_RUN_DIR}/redis/redis.pid";
    open(my $fh, '<', $pidfile) or die "$pidfile: $!";
    chomp(my $pid = <$fh> // '');
    return $pid;
}

# freeze(PID, SECS[, BEFORE_CONT]): SIGSTOP a server for SECS seconds, run BEFORE_CONT while it
# is still stopped (to queue something behind what waits in its input), then SIGCONT; whether
# it was stopped
sub freeze {
    my ($pid, $secs, $before_cont) = @_;
    my $stopped = kill('STOP', $pid);
    select(undef, undef, undef, $secs);
    $before_cont->() if $before_cont;
    kill('CONT', $pid);
    return $stopped;
}

# add products (stock => [..]) on sale now, preheat, and run buyers distinct shoppers
# spread over them with `during` run in the middle; returns (\%initial, \@answers, \@pids).
sub stampede {
    my (%o) = @_;
    my $now = time;
    my @pids = map {
        add_product(name => "chaos $o{tag}-$_", start => $now - 60, end => $now + 3600,
            stock => $o{stock}[$_], status => 1)
    } 0 .. $#{$o{stock}};
    my %initial = map { ($pids[$_] => $o{stock}[$_]) } 0 .. $#pids;
    preheat($now - 60);
    my @shoppers = Stampede::shoppers($o{buyers}, $o{tag});
    my @buys = map { [$shoppers[$_], $pids[$_ % @pids]] } 0 .. $#shoppers;
    my $t0 = Time::HiRes::time();
    my @answers = Stampede::run(buys => \@buys, procs => $o{procs} // 16,
        during => $o{during});
    note(sprintf('stampede of %d buys took %.1f s', scalar @buys, Time::HiRes::time() - $t0));
    return (\%initial, \@answers, \@pids);
}

# After a fault: fresh shoppers buy product pid one at a time until one is ok (up to secs
# seconds), then `n` more at once, which must all be ok. Returns the answers.
sub recovery {
    my ($pid, %o) = @_;
    my $tag = $o{tag} // 99;
    my @answers;
    my $until = time + ($o{secs} // 30);
    my $i = 0;
    while (1) {
        my @a = Stampede::run(buys => [[(Stampede::shoppers(1, $tag * 1000 + ++$i))[0], $pid]],
            procs => 1);
        push @answers, @a;
        last if $a[0]{code} eq 'ok' || time >= $until;
        select(undef, undef, undef, 0.5);
    }
    ok($answers[-1]{code} eq 'ok', "a buy works again after the fault ("
          . scalar(@answers) . " tries)") or diag explain $answers[-1];
    my @more = Stampede::run(buys => [map { [$_, $pid] } Stampede::shoppers($o{n} // 20, $tag)],
        procs => 4);
    is(scalar(grep { $_->{code} eq 'ok' } @more), scalar @more,
        scalar(@more) . ' buys in a row after the recovery: all ok')
      or diag explain [map { "$_->{status} $_->{code}" } grep { $_->{code} ne 'ok' } @more];
    return (@answers, @more);
}

sub _by_code {
    my ($answers) = @_;
    my %c;
    $c{$_->{code}}++ for @$answers;
    return %c;
}

# Waits until the order queue is empty and Redis stock = MySQL stock for every product,
# twice in a row (the worker may be between a commit and its ack).
sub drain {
    my ($pids, $secs) = @_;
    my $stable = 0;
    return wait_for($secs // 90, sub {
        my $q = queue_depth('seckill.order.create');
        my $same = defined $q && $q == 0;
        for my $pid (@$pids) {
            last unless $same;
            my $r = redis('GET', "seckill:stock:{p$pid}");
            my $m = sql("SELECT stock FROM seckill_products WHERE id = $pid");
            $same = defined $r && defined $m && $r eq $m;
        }
        $stable = $same ? $stable + 1 : 0;
        return $stable >= 2;
    });
}

# audit(label => 'x', initial => {pid => stock}, answers => [...], allow_unknown => 0)
# Runs the checks as tests, appends the scenario's row to $SECKILL_CHAOS_TABLE (if set),
# and returns the counts.
sub audit {
    my (%o) = @_;
    my $label = $o{label};
    my %initial = %{$o{initial}};
    my @answers = @{$o{answers}};
    my @pids = sort { $a <=> $b } keys %initial;
    my $in = join(',', @pids);
    my %codes = _by_code(\@answers);
    note("$label answers: " . join(', ', map { "$_ $codes{$_}" } sort keys %codes));

    ok(drain(\@pids, $o{drain}), "$label: the queues drained, Redis stock = MySQL stock")
      or diag "queue seckill.order.create: " . (queue_depth('seckill.order.create') // '?');

    my (@ok, @unavailable, @unknown, @refused);
    for my $a (@answers) {
        if ($a->{code} eq 'ok') { push @ok, $a }
        elsif ($a->{code} eq 'unavailable') { push @unavailable, $a }
        elsif ($a->{code} =~ /^(sold_out|already_bought|rate_limited|not_started|ended)$/) {
            push @refused, $a;
        }
        else { push @unknown, $a }
    }
    my %answer_of = map { ("$_->{user}/$_->{product}" => $_) } @answers;
    is(scalar keys %answer_of, scalar @answers, "$label: one buy per shopper and product");
    # A connection cut on the client side (LWP makes up a 500 that httpd never sent) is an
    # unknown outcome, not a wrong answer: the checks below hold it to one row at most.
    # Rare but possible on a loaded machine, so a few are let through (0.2 %), all of them
    # where a restart cuts connections on purpose.
    my $cap = $o{allow_unknown} ? scalar @answers : int(@answers / 500);
    my @cut = map { "$_->{status} $_->{code}: $_->{why}" } @unknown[0 .. ($#unknown > 9 ? 9 : $#unknown)];
    note("$label: " . scalar(@unknown) . ' answers of unknown outcome (connection cut)'
          . join('', map { "\n  $_" } @cut));
    cmp_ok(scalar @unknown, '<=', $cap,
        "$label: every answer is ok, refused or 503 unavailable (but $cap cut at most)")
      or diag explain \@cut;

    my @rows = sql_rows("SELECT id, user_id, goods_id, status FROM seckill_orders"
          . " WHERE goods_id IN ($in)");
    my %row = map { ($_->[0] => $_) } @rows;
    my %rows_of;
    push @{$rows_of{"$_->[1]/$_->[2]"}}, $_ for @rows;
    my %live;    # orders not cancelled, per product
    $live{$_->[2]} += ($_->[3] != 2) for @rows;

    # never oversold
    my ($oversold, @over) = (0);
    for my $pid (@pids) {
        my $n = $live{$pid} // 0;
        my $ms = sql("SELECT stock FROM seckill_products WHERE id = $pid");
        if ($n > $initial{$pid} || $ms < 0) {
            $oversold += $n > $initial{$pid} ? $n - $initial{$pid} : 0;
            push @over, "product $pid: $n orders for $initial{$pid} units, MySQL stock $ms";
        }
    }
    is($oversold, 0, "$label: never oversold") or diag join("\n", @over);

    # nothing lost: ok answers have their row; buyers Redis counts have theirs
    my @missing = grep {
        my $r = $row{$_->{order_id}};
        !$r || $r->[1] ne $_->{user} || $r->[2] != $_->{product}
    } @ok;
    my @held_no_row;
    for my $pid (@pids) {
        my %buyers = redis('HGETALL', "seckill:buyers:{p$pid}");
        for my $u (keys %buyers) {
            next unless $buyers{$u} > 0;
            push @held_no_row, "$u/$pid" unless grep { $_->[3] != 2 } @{$rows_of{"$u/$pid"} // []};
        }
    }
    my $lost = @missing + @held_no_row;
    is($lost, 0, "$label: nothing lost (every ok answer has its row, every held unit an order)")
      or diag explain {ok_without_row => [map { $_->{order_id} } @missing[0 .. ($#missing > 9 ? 9 : $#missing)]],
        units_without_order => [@held_no_row[0 .. ($#held_no_row > 9 ? 9 : $#held_no_row)]]};

    # no duplicates
    my %ids;
    $ids{$_->{order_id}}++ for @ok;
    my @dup_ids = grep { $ids{$_} > 1 } keys %ids;
    my @dup_rows = grep { @{$rows_of{$_}} > 1 } keys %rows_of;
    my $dups = @dup_ids + @dup_rows;
    is($dups, 0, "$label: no duplicate order id, no shopper with two rows of a product")
      or diag explain {ids => \@dup_ids, rows => \@dup_rows};

    # consistent stock, rows only for answers that may own one, 503 answers hold nothing
    my @mis;
    for my $pid (@pids) {
        my $rs = redis('GET', "seckill:stock:{p$pid}") // '';
        my $ms = sql("SELECT stock FROM seckill_products WHERE id = $pid");
        my $n = $live{$pid} // 0;
        push @mis, "product $pid: Redis stock '$rs' vs MySQL $ms" if $rs ne $ms;
        push @mis, "product $pid: MySQL stock $ms + $n orders != $initial{$pid}"
          if $ms + $n != $initial{$pid};
    }
    for my $r (@rows) {
        my $a = $answer_of{"$r->[1]/$r->[2]"};
        push @mis, "row $r->[0] of a shopper who never bought" unless $a;
        push @mis, "row $r->[0] for a buy answered $a->{code}"
          if $a && $a->{code} ne 'ok' && grep { $_ == $a } @unavailable, @refused;
    }
    for my $a (@unavailable) {
        my $units = redis('HGET', "seckill:buyers:{p$a->{product}}", $a->{user});
        push @mis, "a 503 answer holds a unit ($a->{user}/$a->{product})" if $units && $units > 0;
    }
    my $mismatched = @mis;
    is($mismatched, 0, "$label: Redis = MySQL = initial - orders; 503 answers hold nothing")
      or diag join("\n", @mis[0 .. ($#mis > 19 ? 19 : $#mis)]);

    my %res = (scenario => $label, requests => scalar @answers, ok => scalar @ok,
        unavailable => scalar @unavailable, unknown => scalar @unknown,
        orders => scalar(grep { $_->[3] != 2 } @rows), oversold => $oversold, lost => $lost,
        dups => $dups, mismatched => $mismatched);
    my $line = join("\t", map { $res{$_} }
          qw(scenario requests ok unavailable unknown orders oversold lost dups mismatched));
    diag("chaos row: $line");
    if (my $f = $ENV{SECKILL_CHAOS_TABLE}) {
        open(my $fh, '>>', $f) or die "$f: $!";
        print $fh "$line\n";
        close $fh;
    }
    return \%res;
}

# httpd's error_log of the suite, and where it ends now (to check only what follows).
sub error_log { Apache::Test::vars('t_logs') . '/error_log' }
sub log_mark { -s error_log() // 0 }

# The lines of the error_log after the mark that match re.
sub log_since {
    my ($mark, $re) = @_;
    open(my $fh, '<', error_log()) or return ();
    seek($fh, $mark // 0, 0);
    return grep { /$re/ } <$fh>;
}

# Lines after the mark that tell of a crashed child.
sub crashes {
    my ($mark) = @_;
    return log_since($mark, qr/exit signal|Segmentation fault|AddressSanitizer|double free|Aborted|core dumped/i);
}

# What a request must not change: the number of Redis keys, a digest over every seckill key
# (stock, buyers, orders, products, slots, order markers; rate-limit windows excluded, they
# are allowed to grow), and MySQL's orders and stock.
sub snapshot {
    my %s;
    $s{dbsize} = redis('DBSIZE');
    my @keys = sort grep { !/^seckill:rate:/ } redis('KEYS', 'seckill:*');
    $s{dbsize} -= () = redis('KEYS', 'seckill:rate:*');
    my $sha = Digest::SHA->new(256);
    for my $k (@keys) {
        my $type = redis('TYPE', $k);
        my @v = $type eq 'string' ? (redis('GET', $k))
          : $type eq 'hash' ? do { my %h = redis('HGETALL', $k); map { "$_=$h{$_}" } sort keys %h }
          : $type eq 'set' ? sort(redis('SMEMBERS', $k))
          : $type eq 'zset' ? redis('ZRANGE', $k, 0, -1, 'WITHSCORES')
          : ();
        $sha->add(join("\0", $k, $type, @v), "\n");
    }
    $s{redis} = $sha->hexdigest;
    $s{mysql} = join(' ', map { $_ // 'NULL' } @{(sql_rows(
        'SELECT (SELECT COUNT(*) FROM seckill_orders), (SELECT COALESCE(SUM(stock), 0)'
          . ' FROM seckill_products), (SELECT COUNT(*) FROM seckill_products),'
          . ' (SELECT COALESCE(MAX(update_time), 0) FROM seckill_products)'))[0]});
    return \%s;
}

1;
