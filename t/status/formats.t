# /seckill-status in its formats (HTML, ?auto, ?prometheus or Prometheus' Accept, JSON), its
# headers, and the requests it refuses. Looking at the page counts nothing.
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
use Apache::Test ();
use Apache::TestRequest ();
use SeckillTest;
use Shopper;
use StatusPage qw(fetch status_auto status_prometheus status_html status_json
  prometheus_problems COUNTERS);

Shopper->new; # at least one child has counted

subtest 'HTML' => sub {
    my $res = Apache::TestRequest::GET('/seckill-status', Accept => 'text/html');
    is($res->code, 200, 'GET /seckill-status: 200');
    like($res->header('Content-Type'), qr{^text/html; charset=utf-8}, '  text/html');
    is($res->header('Cache-Control'), 'no-store', '  not cached');
    my $html = $res->decoded_content;
    like($html, qr{<title>秒杀状态 Status · mod_seckill</title>}, '  its title');
    like($html, qr{href="/static/css/status.css"}, '  its stylesheet, served by httpd');
    unlike($html, qr{https?://}, '  nothing from elsewhere (no CDN)');
    for my $id ('family-buys', 'family-listings', 'family-notifies', 'family-publish_failures',
        'gauges', 'pools', 'queues', 'children') {
        like($html, qr{<section[^>]* id="$id"}, "  section $id");
    }
    unlike($html, qr{http-equiv="refresh"}, '  no reload unless asked');
    $res = Apache::TestRequest::GET('/seckill-status?refresh=5', Accept => 'text/html');
    like($res->decoded_content, qr{<meta http-equiv="refresh" content="5">}, '?refresh=5 reloads');
    $res = Apache::TestRequest::GET('/static/css/status.css');
    is($res->code, 200, 'the stylesheet is there');
};

subtest '?auto' => sub {
    my $res = Apache::TestRequest::GET('/seckill-status?auto');
    is($res->code, 200, 'GET ?auto: 200');
    is($res->header('Content-Type'), 'text/plain; charset=utf-8', '  text/plain');
    my @lines = split /\n/, $res->content;
    is(scalar(grep { !/^[A-Za-z][A-Za-z0-9.]*: \S*( \S+)*$/ } @lines), 0, '  only Key: value lines');
    my %keys;
    $keys{(split /:/)[0]}++ for @lines;
    is(scalar(grep { $_ > 1 } values %keys), 0, '  each key once');
    like($res->content, qr/^NodeId: \d+$/m, '  NodeId');
    like($res->content, qr/^ChildSlots:( \d+)+$/m, '  ChildSlots');
};

subtest 'Prometheus' => sub {
    my $res = Apache::TestRequest::GET('/seckill-status?prometheus');
    is($res->code, 200, '?prometheus: 200');
    is($res->header('Content-Type'), 'text/plain; version=0.0.4; charset=utf-8',
        '  the exposition format 0.0.4');
    my ($problems, $samples) = prometheus_problems($res->content);
    is_deeply($problems, [], '  every line parses (HELP, TYPE, samples)') or diag explain $problems;
    cmp_ok(scalar @$samples, '>', 50, '  samples: ' . scalar @$samples);
    my %names = map { $_->[0] => 1 } @$samples;
    for my $n (qw(seckill_buys_total seckill_child_buys_total seckill_listings_total
        seckill_notifies_total seckill_publish_failures_total seckill_pool_connections
        seckill_child_pool_connections seckill_pool_size seckill_pool_connects_total
        seckill_pool_epochs_total seckill_child_up seckill_amqp_up seckill_queue_messages
        seckill_timeout_waiting_messages seckill_pending_refunds seckill_snowflake_node
        seckill_stats_since_seconds)) {
        ok($names{$n}, "  $n");
    }
    my @child = grep { $_->[0] eq 'seckill_child_buys_total' } @$samples;
    ok(@child && !grep({ $_->[1]{child} !~ /^\d+$/ || !$_->[1]{outcome} } @child),
        '  per-child samples carry child and outcome labels');

    my $d = status_prometheus(accept => 1);
    is_deeply($d->{problems}, [], "Prometheus' own Accept header gets the same format");
    like($d->{content_type}, qr/version=0\.0\.4/, '  its content type');
};

subtest 'JSON' => sub {
    my $d = status_json();
    ok($d->{ok}, 'Accept: application/json: the page as JSON');
    is(scalar @{$d->{families}}, 4, '  four counter families');
    is(scalar @{$d->{pools}}, 3, '  three pools');
    ok(exists $d->{queues_up}, '  queues_up');
};

subtest 'HEAD' => sub {
    my $res = Apache::TestRequest::HEAD('/seckill-status?auto');
    is($res->code, 200, 'HEAD: 200');
    is($res->content, '', '  no body');
};

subtest 'refused' => sub {
    my $res = Apache::TestRequest::POST('/seckill-status', content => 'x=1');
    is($res->code, 405, 'POST: 405');
    is($res->header('Allow'), 'GET, HEAD', '  Allow: GET, HEAD');
    for my $q ('auto&prometheus', 'prometheus&auto', 'refresh=0', 'refresh=abc', 'refresh=',
        'refresh', 'refresh=3601', 'refresh=-5', 'refresh=5s', 'refresh=99999999999999999999') {
        $res = Apache::TestRequest::GET("/seckill-status?$q", Accept => 'application/json');
        is($res->code, 400, "?$q: 400");
        my $d = eval { json_decode($res->content) };
        is($d && $d->{code}, 'bad_request', '  code bad_request');
    }
    $res = Apache::TestRequest::GET('/seckill-status?_=12345&auto');
    is($res->code, 200, 'other parameters (a cache buster) are ignored');
    like($res->content, qr/^NodeId:/m, '  and ?auto still holds');
};

subtest 'looking counts nothing' => sub {
    my $before = status_auto();
    status_html() for 1 .. 3;
    status_prometheus() for 1 .. 3;
    status_json();
    Apache::TestRequest::GET('/seckill-status?refresh=abc');
    my $after = status_auto();
    is_deeply({map { $_ => $after->{counters}{$_}{total} } COUNTERS},
        {map { $_ => $before->{counters}{$_}{total} } COUNTERS}, 'every counter as it was');
};

done_testing();
