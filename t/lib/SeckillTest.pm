package SeckillTest;
# Helpers for the Apache::Test suite: the real Redis and MariaDB of the test stack, reached
# through their own command-line clients with the settings scripts/env.sh exported.
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use JSON::PP ();
use POSIX qw(strftime floor);
use Apache::TestRequest ();

our @EXPORT = qw(redis sql sql_rows reset_data add_product slot_of_hour current_slot
  slot_window today_at mysql_datetime get_json get_page json_decode stack top_dir
  start_worker stop_worker wait_for preheat queue_depth);

sub top_dir { $ENV{SECKILL_TOP} or die "SECKILL_TOP is not set: run the suite with make test\n" }

sub redis {
    my @args = @_;
    my $port = $ENV{SECKILL_REDIS_PORT} or die "SECKILL_REDIS_PORT is not set\n";
    open(my $fh, '-|', 'redis-cli', '-h', '127.0.0.1', '-p', $port, '--raw', @args)
      or die "redis-cli: $!";
    local $/;
    my $out = <$fh> // '';
    close $fh;
    $out =~ s/\s+\z//;
    return wantarray ? split(/\n/, $out) : $out;
}

sub _mysql_cmd {
    return ('mariadb', '-h', '127.0.0.1', '-P', $ENV{SECKILL_MYSQL_PORT},
        '-u', $ENV{SECKILL_MYSQL_USER}, "-p$ENV{SECKILL_MYSQL_PASSWORD}",
        '-N', '-B', '--default-character-set=utf8mb4', $ENV{SECKILL_MYSQL_DB});
}

# Runs statements; returns the output rows as array refs of columns.
sub sql_rows {
    my ($stmt) = @_;
    open(my $fh, '-|', _mysql_cmd(), '-e', $stmt) or die "mariadb: $!";
    binmode $fh, ':raw';
    my @rows = map { chomp; [split /\t/, $_, -1] } <$fh>;
    close $fh or die "mariadb failed on: $stmt\n";
    return @rows;
}

# The first column of the first row (or undef).
sub sql {
    my @rows = sql_rows(@_);
    return @rows ? $rows[0][0] : undef;
}

sub reset_data {
    sql('DELETE FROM seckill_refunds; DELETE FROM seckill_orders; DELETE FROM seckill_products');
    redis('FLUSHDB');
}

# Polls code until it returns true or the seconds pass; returns its last value.
sub wait_for {
    my ($secs, $code) = @_;
    my $until = time + $secs;
    my $v;
    while (1) {
        $v = $code->();
        return $v if $v || time >= $until;
        select(undef, undef, undef, 0.2);
    }
}

# Caches the slots of these products anew (the listing's cache miss fills Redis and the
# Bloom filter) and waits out the children's Bloom check, as the preheat before a sale.
# Pass the products' start times: a product is in the slot its start falls in (one that
# started a minute ago, just after an even hour, is in the slot before the current one).
sub preheat {
    my (@starts) = @_;
    my %slots = map { (slot_of_hour((localtime $_)[2]) => 1) } @starts;
    my $date = strftime('%Y%m%d', localtime);
    for my $slot (keys %slots) {
        redis('DEL', "seckill:slot:$date:$slot"); # products added since it was cached
        my ($res) = get_json("/?slot=$slot");
        die "preheat of slot $slot failed\n" unless $res->is_success;
    }
    select(undef, undef, undef, 0.6);
}

my %workers;

# Starts the real worker with the test stack's settings; returns its pid.
sub start_worker {
    my (%extra) = @_;
    my $dir = "$ENV{SECKILL_RUN_DIR}/test-worker";
    mkdir $dir unless -d $dir;
    my $conf = "$dir/worker-$$-" . (scalar(keys %workers) + 1) . '.conf';
    open(my $fh, '>', $conf) or die "$conf: $!";
    my %c = (redis => $ENV{SECKILL_REDIS_URL}, mysql => $ENV{SECKILL_MYSQL_URL},
        amqp => $ENV{SECKILL_AMQP_URL}, lua_dir => top_dir() . '/lua',
        secret_file => $ENV{SECKILL_SECRET_FILE}, log_level => 'info', %extra);
    print $fh map { "$_ = $c{$_}\n" } sort keys %c;
    close $fh;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open(STDOUT, '>>', "$dir/worker.log");
        open(STDERR, '>&', \*STDOUT);
        # SECKILL_TEST_WORKER: another build of the worker (e.g. with AddressSanitizer)
        exec($ENV{SECKILL_TEST_WORKER} // top_dir() . '/build/seckill-worker', '-f', '-c', $conf)
          or exit 127;
    }
    $workers{$pid} = 1;
    return $pid;
}

# Stops a worker (default TERM) and waits for it.
sub stop_worker {
    my ($pid, $sig) = @_;
    return unless $pid && $workers{$pid};
    kill($sig // 'TERM', $pid);
    waitpid($pid, 0);
    delete $workers{$pid};
}

END { stop_worker($_, 'KILL') for keys %workers }

# Messages waiting in a queue of the test stack's RabbitMQ.
sub queue_depth {
    my ($queue) = @_;
    my $out = `'@{[top_dir()]}/scripts/stack.sh' rabbitmqctl list_queues -q name messages 2>/dev/null`;
    return $out =~ /^\Q$queue\E\s+(\d+)/m ? $1 : undef;
}

sub slot_of_hour {
    my ($h) = @_;
    return 8 if $h < 8;
    return 22 if $h >= 22;
    return $h - $h % 2;
}

sub current_slot { slot_of_hour((localtime)[2]) }

# Epoch seconds of today at hour:min (local time), as the module computes it.
sub today_at {
    my ($hour, $min) = @_;
    my @t = localtime;
    return POSIX::mktime(0, $min // 0, 0, $t[3], $t[4], $t[5], 0, 0, -1) + $hour * 3600;
}

sub slot_window {
    my ($slot) = @_;
    my $from = $slot == 8 ? today_at(0) : today_at($slot);
    my $to = $slot == 22 ? today_at(24) : today_at($slot + 2);
    return ($from, $to);
}

sub mysql_datetime { strftime('%Y-%m-%d %H:%M:%S', localtime($_[0])) }

# Inserts a product; returns its id. Times are epoch seconds.
sub add_product {
    my (%p) = @_;
    my $name = $p{name} // 'test product';
    $name =~ s/'/''/g;
    my $stock = $p{stock} // 50;
    my $status = $p{status} // 0;
    my $id_col = defined $p{id} ? 'id, ' : '';
    my $id_val = defined $p{id} ? "$p{id}, " : '';
    return sql("INSERT INTO seckill_products ($id_col name, image, base_price, seckill_price,"
          . " stock, seckill_start_time, seckill_end_time, status, create_time, update_time)"
          . " VALUES ($id_val '$name', '/static/product_img/robot.svg', "
          . ($p{base_price} // '399.00') . ', ' . ($p{seckill_price} // '309.00')
          . ", $stock, '" . mysql_datetime($p{start}) . "', '" . mysql_datetime($p{end})
          . "', $status, NOW(6), NOW(6)); SELECT LAST_INSERT_ID()");
}

sub json_decode { JSON::PP->new->utf8->decode($_[0]) }

# GET with Accept: application/json; returns (response, decoded body or undef).
sub get_json {
    my ($path) = @_;
    my $res = Apache::TestRequest::GET($path, Accept => 'application/json');
    my $data = eval { json_decode($res->content) };
    return wantarray ? ($res, $data) : $res;
}

sub get_page {
    my ($path) = @_;
    return Apache::TestRequest::GET($path, Accept => 'text/html');
}

# scripts/stack.sh with the test stack's environment (e.g. stack('restart', 'redis')).
sub stack {
    my (@args) = @_;
    my $rc = system(top_dir() . '/scripts/stack.sh', @args);
    die "stack.sh @args failed\n" if $rc != 0;
}

1;
