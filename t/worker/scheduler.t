# The worker's scheduler against the real Redis and MariaDB of the test stack: sale status
# moved by time in both (Redis only where the product is cached, and healed after a missed
# push), whole slots preheated with stock and Bloom bits, one leader among several workers,
# failover on SIGTERM, a clean stop, and config errors that name file, line and key.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use File::Temp qw(tempdir);
use POSIX qw(strftime WNOHANG);
use Time::HiRes qw(sleep time);
use Test::More;
use SeckillTest qw(redis sql add_product top_dir slot_of_hour);

my $bin = top_dir() . '/build/seckill-worker';
my @ids = (900001, 900002, 900003);
my ($A, $B, $C) = @ids;
my (%workers, $keys_before);

plan skip_all => "$bin is not built (make worker)" unless -x $bin;
plan skip_all => 'Redis of the test stack does not answer' unless eval { redis('PING') eq 'PONG' };
# A lock left by a killed run expires within its ttl; a live scheduler on this stack would
# make every leader check below meaningless.
wait_until(35, sub { !redis('EXISTS', 'seckill:scheduler:leader') })
  or plan skip_all => 'another scheduler leads on this stack';

my $dir = tempdir(CLEANUP => 1);
my $conf = write_conf("$dir/worker.conf");

sub pkey { "seckill:product:{p$_[0]}" }
sub skey { "seckill:stock:{p$_[0]}" }

sub wait_until {
    my ($secs, $cond) = @_;
    my $until = time + $secs;
    while (time < $until) {
        return 1 if $cond->();
        sleep 0.2;
    }
    return $cond->();
}

sub pct { my $s = shift; $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge; $s }

sub write_conf {
    my ($path, @extra) = @_; # "key = value" lines; a key among them replaces its default
    my $mysql = sprintf('mysql://%s:%s@127.0.0.1:%d/%s', pct($ENV{SECKILL_MYSQL_USER}),
        pct($ENV{SECKILL_MYSQL_PASSWORD}), $ENV{SECKILL_MYSQL_PORT}, $ENV{SECKILL_MYSQL_DB});
    my @defaults = (
        "redis = redis://127.0.0.1:$ENV{SECKILL_REDIS_PORT}/0",
        "mysql = $mysql", 'lua_dir = ' . top_dir() . '/lua',
        # the order consumers run beside the scheduler and need these to start
        "amqp = amqp://guest:guest\@127.0.0.1:$ENV{SECKILL_AMQP_PORT}/",
        "secret_file = $ENV{SECKILL_SECRET_FILE}",
        'status_interval = 1', 'preheat_interval = 1', 'preheat_ahead = 300',
        'leader_ttl = 3', 'log_level = debug');
    my %given = map { /^(\w+) =/ ? ($1 => 1) : () } @extra; # the worker refuses a key twice
    open(my $fh, '>', $path) or die "$path: $!";
    print $fh join("\n", (grep { !(/^(\w+) =/ && $given{$1}) } @defaults), @extra), "\n";
    close $fh;
    return $path;
}

sub start_worker {
    my ($name, $cf) = @_; # $cf: another config than $conf
    my $log = "$dir/$name.log";
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>', $log) && open(STDOUT, '>&', \*STDERR)
          && exec($bin, '-f', '-c', $cf // $conf);
        POSIX::_exit(127);
    }
    $workers{$pid} = $log;
    return $pid;
}

# SIGTERM, then the wait status (undef when it did not exit within 15 s).
sub stop_worker {
    my ($pid) = @_;
    kill 'TERM', $pid;
    my $until = time + 15;
    while (time < $until) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $workers{$pid};
            return $?;
        }
        sleep 0.1;
    }
    return undef;
}

sub status_of { sql("SELECT status FROM seckill_products WHERE id = $_[0]") // -1 }
sub slurp { open(my $fh, '<', $_[0]) or return ''; local $/; <$fh> }
sub leader_pid { (redis('GET', 'seckill:scheduler:leader') =~ /:(\d+):[0-9a-f]+$/)[0] // 0 }

# What this test made: its rows, its keys, and every key the workers created that did not
# exist before (the bitmap's old bits stay: they may be other products' too).
sub cleanup {
    kill 'KILL', keys %workers;
    waitpid($_, 0) for keys %workers;
    %workers = ();
    sql('DELETE FROM seckill_products WHERE id IN (' . join(',', @ids) . ')');
    redis('DEL', map { (pkey($_), skey($_), "seckill:buyers:{p$_}") } @ids);
    redis('SREM', $_, @ids) for redis('KEYS', 'seckill:slot:*');
    return unless $keys_before;
    redis('DEL', $_) for grep { !$keys_before->{$_} } redis('KEYS', 'seckill:*');
}

END {
    my $rc = $?;
    eval { cleanup() } if $bin && -x $bin;
    $? = $rc;
}

# ---- fixtures ----------------------------------------------------------------------------

cleanup();
$keys_before = {map { $_ => 1 } redis('KEYS', 'seckill:*')};
my $now = int(time);
add_product(id => $A, name => 'worker-a', start => $now - 60, end => $now + 3600, status => 0);
add_product(id => $B, name => 'worker-b', start => $now - 3600, end => $now - 60, status => 1);
add_product(id => $C, name => 'worker-c', start => $now + 120, end => $now + 3720, status => 0,
    stock => 7);
redis('HSET', pkey($A), 'status', 0);

my $w1 = start_worker('w1');

subtest 'status moves by time in MySQL and in cached products' => sub {
    ok(wait_until(15, sub { status_of($A) == 1 }),
        'started a minute ago: 0 -> 1 in MySQL');
    ok(wait_until(15, sub { status_of($B) == 2 }),
        'ended a minute ago: 1 -> 2 in MySQL');
    ok(wait_until(15, sub { redis('HGET', pkey($A), 'status') eq '1' }), 'status 1 in Redis');
    ok(!redis('EXISTS', pkey($B)) || redis('HEXISTS', pkey($B), 'name'),
        'no partial hash made for a product that was not cached');
};

subtest 'a status lost to Redis is healed by a later run' => sub {
    # As if the push of 1 -> 2 had failed: MySQL says 2, the cache still says 1.
    redis('HSET', pkey($B), 'id', $B, 'name', 'worker-b', 'status', 1);
    ok(wait_until(10, sub { redis('HGET', pkey($B), 'status') eq '2' }),
        'the cache catches up with MySQL');
};

subtest 'preheat loads the slot of a product starting in 2 minutes' => sub {
    my $start = $now + 120;
    my $key = sprintf('seckill:slot:%s:%d', strftime('%Y%m%d', localtime $start),
        slot_of_hour((localtime $start)[2]));
    ok(wait_until(15, sub { redis('SISMEMBER', $key, $C) }), "in $key");
    ok(redis('SISMEMBER', $key, '-'), 'the slot is marked loaded');
    is(redis('HGET', pkey($C), 'name'), 'worker-c', 'product hash');
    is(redis('HGET', pkey($C), 'start'), $start, 'start time in the hash');
    is(redis('GET', skey($C)), 7, 'stock key');
    my @pos = split ' ', `$bin --bloom-positions $C`;
    is(scalar @pos, 7, 'seven Bloom positions');
    is(join('', map { redis('GETBIT', 'seckill:bloom', $_) } @pos), '1' x 7, 'Bloom bits set');
};

my $w2 = start_worker('w2');

subtest 'one leader among two workers' => sub {
    sleep 2.5;
    is(leader_pid(), $w1, 'the first worker holds the lock');
    my $gained = () = (slurp($workers{$w1}) . slurp($workers{$w2})) =~ /SKW101/g;
    is($gained, 1, 'leadership gained once');
    like(slurp($workers{$w2}), qr/SKW104 scheduler: another worker leads/, 'the second stands by');
};

subtest 'SIGTERM: the leader stops cleanly and the other takes over' => sub {
    my $log = $workers{$w1};
    my $st = stop_worker($w1);
    is($st, 0, 'exit status 0');
    like(slurp($log), qr/SKW103 scheduler: leadership released/, 'lock released');
    like(slurp($log), qr/SKW003 stopped/, 'stop logged');
    ok(wait_until(3, sub { leader_pid() == $w2 }), 'the other worker leads within leader_ttl');
    my $log2 = $workers{$w2};
    is(stop_worker($w2), 0, 'second worker: exit status 0');
    like(slurp($log2), qr/SKW003 stopped/, 'second worker: stop logged');
    ok(!redis('EXISTS', 'seckill:scheduler:leader'), 'no lock left behind');
};

subtest '--once and config errors' => sub {
    is(system("$bin --once -c $conf 2>$dir/once.log"), 0, '--once: both jobs succeed');
    like(slurp("$dir/once.log"), qr/SKW008 once: status ok, preheat ok/, '--once logs its result');
    my $bad = "$dir/bad.conf";
    open(my $fh, '>', $bad) or die;
    print $fh "# comment\nbogus_key = 1\n";
    close $fh;
    my $out = `$bin -f -c $bad 2>&1`;
    isnt($? >> 8, 0, 'unknown key: the worker refuses to start');
    like($out, qr/SKW004 config: \Q$bad\E:2: unknown key 'bogus_key'/, 'file, line and key named');
};

subtest 'a script Redis cannot compile: its error is logged, not NOSCRIPT' => sub {
    ok(wait_until(35, sub { !redis('EXISTS', 'seckill:scheduler:leader') }), 'no leader left');
    my $lua = "$ENV{SECKILL_RUN_DIR}/broken-lua"; # scripts/test.sh broke leader_renew.lua there
    ok(-s "$lua/leader_renew.lua", 'the broken scripts are there');
    my $w = start_worker('broken', write_conf("$dir/broken.conf", "lua_dir = $lua"));
    my $log = $workers{$w};
    ok(wait_until(15, sub { slurp($log) =~ /leader_renew: ERR/ }), 'the renew fails');
    like(slurp($log), qr/SKW\d+ redis: leader_renew: ERR Error compiling script/,
        "Redis's compile error is in the log");
    unlike(slurp($log), qr/NOSCRIPT/, 'no NOSCRIPT in its place');
    is(stop_worker($w), 0, 'the worker still stops cleanly');
};

done_testing();
