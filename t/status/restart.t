# The counters live as long as httpd: a graceful restart (new children, new module) keeps
# every total, the new children take over the slots, and counting goes on from there.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use SeckillTest;
use Shopper;
use Audit;
use StatusPage qw(status_auto COUNTERS);

Shopper->new for 1 .. 4;
my $before = status_auto();
my %old_pids = map { $before->{children}{$_}{pid} => 1 } keys %{$before->{children}};
my $pidfile = Apache::Test::vars('t_pid_file') // Apache::Test::vars('t_logs') . '/httpd.pid';
my $mark = Audit::log_mark();

open(my $fh, '<', $pidfile) or die "$pidfile: $!";
chomp(my $ppid = <$fh> // '');
close $fh;
ok(kill('USR1', $ppid), 'SIGUSR1 (graceful restart) sent to the httpd parent');
ok(wait_for(15, sub {
    open(my $log, '<', Audit::error_log()) or return 0;
    seek($log, $mark, 0);
    return grep { /resuming normal operations/ } <$log>;
}), 'httpd resumed normal operations');
ok(wait_for(15, sub { !grep { kill(0, $_) } keys %old_pids }), 'the old children have gone');

my $between = status_auto();
is($between->{raw}{StatsSince}, $before->{raw}{StatsSince}, 'counting began when it began');
is_deeply({map { $_ => $between->{counters}{$_}{total} } COUNTERS},
    {map { $_ => $before->{counters}{$_}{total} } COUNTERS}, 'every total kept');

Shopper->new for 1 .. 5;
my $after = status_auto();
my $listed = sub { my $d = shift; $d->{counters}{'listings/hit'}{total} + $d->{counters}{'listings/miss'}{total} };
is($listed->($after) - $listed->($before), 5, 'and counting goes on: 5 more listings');

my @alive = grep { $after->{children}{$_}{alive} } keys %{$after->{children}};
cmp_ok(scalar @alive, '>=', 1, 'children alive: ' . join(' ', sort @alive));
ok(!grep({ $old_pids{$after->{children}{$_}{pid}} } @alive), 'all of the new generation');
my $processes = 0;
$processes += $_->{processes} for values %{$after->{children}};
cmp_ok($processes, '>', scalar(keys %old_pids), 'slots count the processes they saw: ' . $processes);
for my $c (keys %{$after->{children}}) {
    next if $after->{children}{$c}{alive};
    for my $p (qw(Redis MySQL AMQP)) {
        is($after->{raw}{"Child$c.${p}InUse"} + $after->{raw}{"Child$c.${p}Idle"}, 0,
            "slot $c, gone: no $p connection");
    }
}
my @crash = Audit::crashes($mark);
is(scalar @crash, 0, 'no child crashed') or diag @crash;
done_testing();
