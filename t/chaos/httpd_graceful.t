# Chaos: httpd gets a graceful restart (SIGUSR1 to the parent, as the suite's own user) in
# the middle of a stampede. Old children finish the requests they have, new children take
# over with fresh connection pools; a keep-alive connection closed between two requests is
# seen by the client as an error without an answer (outcome unknown, allowed here: such a
# buy may own one row, never two). Order ids must stay unique although new children reuse
# the child slots of old ones that are still finishing. No child may crash.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use SeckillTest;
use Audit;

reset_data();
my $worker = start_worker();
my $pidfile = Apache::Test::vars('t_pid_file') // Apache::Test::vars('t_logs') . '/httpd.pid';
my $mark = Audit::log_mark();
my $graceful = 0;
my ($initial, $answers, $pids) = Audit::stampede(tag => 51, buyers => 3000,
    stock => [400, 500, 600, 1000], during => sub {
        select(undef, undef, undef, 0.5);
        open(my $fh, '<', $pidfile) or die "$pidfile: $!";
        chomp(my $ppid = <$fh> // '');
        $graceful = kill('USR1', $ppid);
    });
ok($graceful, 'SIGUSR1 sent to the httpd parent');
ok(wait_for(10, sub { grep { /resuming normal operations/ } `tail -n 50 '${\Audit::error_log()}'` }),
    'httpd resumed normal operations');
my @more = Audit::recovery($pids->[-1], tag => 52);
Audit::audit(label => 'httpd graceful', initial => $initial, answers => [@$answers, @more],
    allow_unknown => 1);
my @crash = Audit::crashes($mark);
is(scalar @crash, 0, 'no child crashed') or diag @crash;
stop_worker($worker);
done_testing();
