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
use Audit;

reset_data();
my $now = time;
my $worker = start_worker();

# Audit::audit holds every answer to the invariants; a stampede on tiny stock also sells
# it all and answers nothing but ok and sold_out.
sub audit {
    my ($initial, $answers, $label) = @_;
    Audit::audit(label => $label, initial => $initial, answers => $answers);
    my $total = 0;
    $total += $_ for values %$initial;
    my @ok = grep { $_->{code} eq 'ok' } @$answers;
    is(scalar @ok, $total, "$label: exactly the stock was sold ($total)");
    my %codes;
    $codes{$_->{code}}++ for @$answers;
    ok(!grep({ $_->{code} !~ /^(ok|sold_out)$/ } @$answers), "$label: only ok and sold_out")
      or diag explain \%codes;
    return @ok;
}

my ($initial, $answers) = Audit::stampede(tag => 1, buyers => 2400, stock => [5, 10, 20]);
my @ok = audit($initial, $answers, 'stampede');

# Order ids carry the child's slot (bits 12-16): several children made them.
my %slots = map { (($_->{order_id} >> 12) & 31 => 1) } @ok;
ok(keys(%slots) >= 1, 'order ids carry a child slot');

($initial, $answers) = Audit::stampede(tag => 2, buyers => 2000, stock => [300, 300, 400],
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
    preheat($now - 60);
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
