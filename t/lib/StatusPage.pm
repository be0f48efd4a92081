package StatusPage;
# The status page (/seckill-status) read in each of its formats and turned into one shape,
# so tests compare them: {counters => {"buys/ok" => {total => N, child => {slot => N}}},
# pools => {redis => {total => {in_use, idle, ...}, child => {slot => {...}}, size => N}},
# queues_up, queues => {name => {messages, consumers}}, timeout_waiting, node_id,
# children => {slot => {pid, alive, processes}}, gauges => {pending_refunds => N}}.
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use Apache::TestRequest ();
use SeckillTest qw(json_decode);

our @EXPORT_OK = qw(fetch status_auto status_prometheus status_html status_json
  prometheus_problems amqp_tool COUNTERS POOL_FIELDS);

use constant PATH => '/seckill-status';

# family/outcome => ?auto key (README "Status page")
my %AUTO = (
    'buys/ok' => 'BuysOk', 'buys/no_such_product' => 'BuysNoSuchProduct',
    'buys/not_started' => 'BuysNotStarted', 'buys/ended' => 'BuysEnded',
    'buys/sold_out' => 'BuysSoldOut', 'buys/already_bought' => 'BuysAlreadyBought',
    'buys/rate_limited' => 'BuysRateLimited', 'buys/unavailable' => 'BuysUnavailable',
    'buys/bad_request' => 'BuysBadRequest', 'buys/forbidden' => 'BuysForbidden',
    'buys/method_not_allowed' => 'BuysMethodNotAllowed',
    'listings/hit' => 'ListingHits', 'listings/miss' => 'ListingMisses',
    'listings/unavailable' => 'ListingUnavailable',
    'notifies/paid' => 'NotifiesPaid', 'notifies/replay' => 'NotifiesReplay',
    'notifies/refused' => 'NotifiesRefused', 'notifies/mismatch' => 'NotifiesMismatch',
    'notifies/late_refund' => 'NotifiesLateRefund',
    'notifies/refund_failed' => 'NotifiesRefundFailed',
    'notifies/unavailable' => 'NotifiesUnavailable', 'notifies/not_paid' => 'NotifiesNotPaid',
    'publish_failures/unconfirmed' => 'PublishUnconfirmed',
    'publish_failures/unrevoked' => 'PublishUnrevoked',
);
my %POOL_KEY = (redis => 'Redis', mysql => 'MySQL', amqp => 'AMQP');
my %FIELD_KEY = (in_use => 'InUse', idle => 'Idle', connects => 'Connects',
    connect_errors => 'ConnectErrors', lost => 'Lost', epochs => 'Epochs');
my %QUEUE_KEY = ('seckill.order.create' => 'OrderCreate',
    'seckill.order.timeout' => 'OrderTimeout', 'seckill.order.dead' => 'OrderDead');

sub COUNTERS { sort keys %AUTO }
sub POOL_FIELDS { sort keys %FIELD_KEY }

sub _get {
    my ($query, %h) = @_;
    my $res = Apache::TestRequest::GET(PATH . $query, %h);
    die "GET " . PATH . "$query: " . $res->status_line . "\n" . $res->content
      unless $res->is_success;
    return $res;
}

# ?auto: "Key: value" lines
sub status_auto {
    my $res = _get('?auto');
    my %kv = map { /^([^:]+): ?(.*)$/ ? ($1 => $2) : () } split /\n/, $res->content;
    my $d = {node_id => $kv{NodeId}, queues_up => $kv{QueuesUp},
        timeout_waiting => $kv{QueueTimeoutWaiting},
        gauges => {pending_refunds => $kv{PendingRefunds}}, raw => \%kv};
    my @slots = split ' ', $kv{ChildSlots} // '';
    for my $c (keys %AUTO) {
        $d->{counters}{$c}{total} = $kv{$AUTO{$c}};
        $d->{counters}{$c}{child}{$_} = $kv{"Child$_.$AUTO{$c}"} for @slots;
    }
    for my $p (keys %POOL_KEY) {
        $d->{pools}{$p}{size} = $kv{"$POOL_KEY{$p}PoolSize"};
        for my $f (keys %FIELD_KEY) {
            $d->{pools}{$p}{total}{$f} = $kv{"$POOL_KEY{$p}$FIELD_KEY{$f}"};
            $d->{pools}{$p}{child}{$_}{$f} = $kv{"Child$_.$POOL_KEY{$p}$FIELD_KEY{$f}"}
              for @slots;
        }
    }
    for my $q (keys %QUEUE_KEY) {
        next unless defined $kv{"Queue$QUEUE_KEY{$q}"};
        $d->{queues}{$q} = {messages => $kv{"Queue$QUEUE_KEY{$q}"},
            consumers => $kv{"Queue$QUEUE_KEY{$q}Consumers"}};
    }
    $d->{children}{$_} = {pid => $kv{"Child$_.Pid"}, alive => $kv{"Child$_.Alive"},
        processes => $kv{"Child$_.Processes"}} for @slots;
    return $d;
}

# Problems with a text in the Prometheus exposition format 0.0.4 (empty list: none), and the
# samples as [name, {labels}, value].
sub prometheus_problems {
    my ($text) = @_;
    my (@problems, @samples, %help, %type);
    my $name_re = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
    my $label_re = qr/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"/;
    push @problems, 'does not end with a newline' unless $text =~ /\n\z/;
    for my $line (split /\n/, $text) {
        if ($line =~ /^# HELP ($name_re) \S/) {
            push @problems, "HELP twice: $1" if $help{$1}++;
        } elsif ($line =~ /^# TYPE ($name_re) (counter|gauge|histogram|summary|untyped)$/) {
            push @problems, "TYPE twice: $1" if $type{$1};
            push @problems, "samples before TYPE: $1" if grep { $_->[0] eq $1 } @samples;
            $type{$1} = $2;
        } elsif ($line =~ /^#/) {
            push @problems, "a comment that is neither HELP nor TYPE: $line";
        } elsif ($line =~ /^($name_re)(?:\{((?:$label_re)(?:,$label_re)*)?\})?
                 \ (-?(?:[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|NaN|[-+]Inf))(?:\ -?[0-9]+)?$/x) {
            my ($n, $l, $v) = ($1, $2 // '', $3);
            my %labels = $l =~ /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
            push @problems, "sample without TYPE: $line" unless $type{$n};
            push @problems, "a counter not named _total: $n"
              if ($type{$n} // '') eq 'counter' && $n !~ /_total$/;
            push @samples, [$n, \%labels, $v];
        } else {
            push @problems, "not in the exposition format: $line";
        }
    }
    my %seen;
    for my $s (@samples) {
        my $key = join ',', $s->[0], map { "$_=$s->[1]{$_}" } sort keys %{$s->[1]};
        push @problems, "sample twice: $key" if $seen{$key}++;
    }
    return (\@problems, \@samples);
}

# ?prometheus, or by Prometheus' own Accept header
sub status_prometheus {
    my (%opt) = @_;
    my $res = $opt{accept}
      ? _get('', Accept => 'application/openmetrics-text;version=1.0.0,'
          . 'application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,'
          . '*/*;q=0.1')
      : _get('?prometheus');
    my ($problems, $samples) = prometheus_problems($res->content);
    my $d = {problems => $problems, content_type => scalar $res->header('Content-Type')};
    for my $s (@$samples) {
        my ($n, $l, $v) = @$s;
        if ($n =~ /^seckill_(child_)?(buys|listings|notifies|publish_failures)_total$/) {
            my $c = $d->{counters}{"$2/$l->{outcome}"} //= {};
            if ($1) { $c->{child}{$l->{child}} = $v } else { $c->{total} = $v }
        } elsif ($n =~ /^seckill_(child_)?pool_connections$/) {
            my $p = $d->{pools}{$l->{pool}} //= {};
            if ($1) { $p->{child}{$l->{child}}{$l->{state}} = $v } else { $p->{total}{$l->{state}} = $v }
        } elsif ($n =~ /^seckill_(child_)?pool_(connects|connect_errors|lost|epochs)_total$/) {
            my $p = $d->{pools}{$l->{pool}} //= {};
            if ($1) { $p->{child}{$l->{child}}{$2} = $v } else { $p->{total}{$2} = $v }
        } elsif ($n eq 'seckill_pool_size') {
            $d->{pools}{$l->{pool}}{size} = $v;
        } elsif ($n eq 'seckill_queue_messages' || $n eq 'seckill_queue_consumers') {
            $d->{queues}{$l->{queue}}{$n =~ /messages/ ? 'messages' : 'consumers'} = $v;
        } elsif ($n eq 'seckill_amqp_up') {
            $d->{queues_up} = $v;
        } elsif ($n eq 'seckill_timeout_waiting_messages') {
            $d->{timeout_waiting} = $v;
        } elsif ($n eq 'seckill_snowflake_node') {
            $d->{node_id} = $v;
        } elsif ($n eq 'seckill_pending_refunds') {
            $d->{gauges}{pending_refunds} = $v;
        } elsif ($n =~ /^seckill_child_(up|pid|processes_total)$/) {
            my $f = {up => 'alive', pid => 'pid', processes_total => 'processes'}->{$1};
            $d->{children}{$l->{child}}{$f} = $v;
        }
    }
    return $d;
}

# the HTML page: its numbers sit in cells marked with data- attributes
sub status_html {
    my (%opt) = @_;
    my $res = _get($opt{query} // '', Accept => 'text/html');
    my $html = $res->decoded_content;
    my $d = {html => $html, content_type => scalar $res->header('Content-Type')};
    ($d->{node_id}) = $html =~ /id="node-id">(\d+)</;
    while ($html =~ /data-family="(\w+)" data-outcome="(\w+)" data-child="(\w+)">(\d+)</g) {
        my $c = $d->{counters}{"$1/$2"} //= {};
        if ($3 eq 'total') { $c->{total} = $4 } else { $c->{child}{$3} = $4 }
    }
    while ($html =~ /data-pool="(\w+)" data-child="(\w+)" data-field="(\w+)">(-?\d+)</g) {
        my $p = $d->{pools}{$1} //= {};
        if ($2 eq 'total') { $p->{total}{$3} = $4 } else { $p->{child}{$2}{$3} = $4 }
    }
    while ($html =~ /data-pool="(\w+)" data-field="size">(\d+)</g) {
        $d->{pools}{$1}{size} = $2;
    }
    while ($html =~ /data-queue="([\w.]+)" data-field="(\w+)">(\d+)</g) {
        if ($1 eq 'timeout_waiting') { $d->{timeout_waiting} = $3 } else { $d->{queues}{$1}{$2} = $3 }
    }
    $d->{queues_up} = $html =~ /id="queues-down"/ ? 0 : 1;
    while ($html =~ /data-gauge="(\w+)">(-?\d+)</g) {
        $d->{gauges}{$1} = $2;
    }
    while ($html =~ m{<tr data-child="(\d+)"><th>#\d+</th><td class="n">(\d+)</td><td>([^<]*)</td><td class="n">(\d+)</td>}g) {
        my ($slot, $pid, $state, $n) = ($1, $2, $3, $4);
        $d->{children}{$slot} = {pid => $pid, alive => $state =~ /running/ ? 1 : 0, processes => $n};
    }
    return $d;
}

sub status_json {
    my $res = _get('', Accept => 'application/json');
    return json_decode($res->content);
}

# build/tools/amqp_tool ARGS (publish reads bodies from $input); its output lines.
sub amqp_tool {
    my ($cmd, @args) = @_;
    my $input = $cmd eq 'publish' ? pop @args : undef;
    my $tool = SeckillTest::top_dir() . '/build/tools/amqp_tool';
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        if (defined $input) {
            open(my $in, '-|', 'printf', '%s', $input) or exit 127;
            open(STDIN, '<&', $in) or exit 127;
        }
        exec($tool, $cmd, @args) or exit 127;
    }
    my @out = <$fh>;
    close $fh;
    die "amqp_tool $cmd @args failed\n" if $?;
    chomp @out;
    return @out;
}

# All three at once: (auto, prometheus, html).
sub fetch { (status_auto(), status_prometheus(), status_html()) }

1;
