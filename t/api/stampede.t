# The flash sale under a stampede of distinct shoppers, through the real servers: never
# oversold, every ok answer exactly one order row, Redis stock = MySQL stock after the
# queues drain, no shopper with two orders of a product, order ids unique across children.
# A second round kills the worker with SIGKILL in the middle and restarts it.
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
use Apache::Test ();
use SeckillTest;
use Stampede;
use Shopper;

reset_data();
my $now = time;
my $worker = start_worker();

sub stampede {
    my (%o) = @_;
    my @pids = map {
        add_product(name => "秒杀 $o{tag}-$_", start => $now - 60, end => $now + 3600,
            stock => $o{stock}[$_], status => 1)
    } 0 .. $#{$o{stock}};
    my %initial = map { ($pids[$_] => $o{stock}[$_]) } 0 .. $#pids;
    preheat($now);
    my @shoppers = Stampede::shoppers($o{buyers}, $o{tag});
    my @buys = map { [$shoppers[$_], $pids[$_ % @pids]] } 0 .. $#shoppers;
    my @answers = Stampede::run(buys => \@buys, procs => 16, during => $o{during});
    return (\%initial, \@answers);
}

sub audit {
    my ($initial, $answers, $label) = @_;
    my $total = 0;
    $total += $_ for values %$initial;
    my %codes;
    $codes{$_->{code}}++ for @$answers;
    note("$label answers: " . join(', ', map { "$_ $codes{$_}" } sort keys %codes));
    my @ok = grep { $_->{code} eq 'ok' } @$answers;
    my $pids = join(',', keys %$initial);

    my $drained = wait_for(60, sub {
        sql("SELECT COUNT(*) FROM seckill_orders WHERE goods_id IN ($pids)") == @ok
          && (queue_depth('seckill.order.create') // 1) == 0;
    });
    ok($drained, "$label: the queue drained into MySQL");
    is(scalar @$answers, scalar(keys %{{map { ("$_->{user}/$_->{product}" => 1) } @$answers}}),
        "$label: one answer per buy");
    ok(!grep({ $_->{code} !~ /^(ok|sold_out)$/ } @$answers), "$label: only ok and sold_out")
      or diag explain \%codes;
    is(scalar @ok, $total, "$label: exactly the stock was sold ($total)");

    my %rows = map { ($_->[0] => $_) }
      sql_rows("SELECT id, user_id, goods_id, status FROM seckill_orders WHERE goods_id IN ($pids)");
    is(scalar keys %rows, scalar @ok, "$label: as many order rows as ok answers");
    my @missing = grep { !$rows{$_->{order_id}} || $rows{$_->{order_id}}[1] ne $_->{user}
          || $rows{$_->{order_id}}[2] != $_->{product} } @ok;
    is(scalar @missing, 0, "$label: every ok answer has its own order row (user, product)");
    my %ids = map { ($_->{order_id} => 1) } @ok;
    is(scalar keys %ids, scalar @ok, "$label: order ids are unique");

    for my $pid (sort keys %$initial) {
        my $n = sql("SELECT COUNT(*) FROM seckill_orders WHERE goods_id = $pid AND status <> 2");
        is($n, $initial->{$pid}, "$label: product $pid: orders = initial stock, not more");
        is(redis('GET', "seckill:stock:{p$pid}"),
            sql("SELECT stock FROM seckill_products WHERE id = $pid"),
            "$label: product $pid: Redis stock = MySQL stock");
    }
    is(sql("SELECT COUNT(*) FROM (SELECT user_id, goods_id FROM seckill_orders"
          . " WHERE goods_id IN ($pids) GROUP BY user_id, goods_id HAVING COUNT(*) > 1) d"),
        '0', "$label: no shopper holds two orders of one product");
    return @ok;
}

my ($initial, $answers) = stampede(tag => 1, buyers => 2400, stock => [5, 10, 20]);
my @ok = audit($initial, $answers, 'stampede');

# Order ids carry the child's slot (bits 12-16): several children made them.
my %slots = map { (($_->{order_id} >> 12) & 31 => 1) } @ok;
ok(keys(%slots) >= 1, 'order ids carry a child slot');

($initial, $answers) = stampede(tag => 2, buyers => 2000, stock => [300, 300, 400],
    during => sub {
        select(undef, undef, undef, 0.6);
        stop_worker($worker, 'KILL');
        select(undef, undef, undef, 0.5);
        $worker = start_worker();
    });
@ok = audit($initial, $answers, 'worker killed');
%slots = map { (($_->{order_id} >> 12) & 31 => 1) } @ok;
cmp_ok(scalar(keys %slots), '>=', 2, 'order ids from several httpd children, all distinct');

# Every child now pools many connections; after a restart all of them are stale at once.
subtest 'servers restarted after the stampede: the next requests work' => sub {
    my $pid = add_product(name => '重启之后', start => $now - 60, end => $now + 3600,
        stock => 20, status => 1);
    preheat($now);
    my @shoppers = map { Shopper->new } 1 .. 12;
    stack('restart', 'redis');
    my @codes = map { ($_->buy($pid))[1]{code} // '-' } @shoppers;
    is(scalar(grep { $_ eq 'ok' } @codes), 12, 'Redis restarted: 12 buys in a row are ok')
      or diag "@codes";
    # twelve clients, spread over the children, each child's MySQL pool in use
    my @orders = map { $_->{order_id} } @ok[0 .. 11];
    my $lookups = sub { map { ($shoppers[$_]->get_json("/order/$orders[$_]"))[0]->code } 0 .. 11 };
    my @status = $lookups->();
    is(scalar(grep { $_ == 404 } @status), 12, "12 order lookups (others' orders: 404)")
      or diag "@status";
    stack('restart', 'mysql');
    @status = $lookups->();
    is(scalar(grep { $_ == 404 } @status), 12, 'MySQL restarted: the same 12 answered, no 503')
      or diag "@status";
};

stop_worker($worker);
done_testing();
