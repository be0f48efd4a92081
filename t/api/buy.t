# POST /buy/{id}: every answer code, identity and CSRF, bad input; GET /order/{id}.
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
use Apache::Test ();
use SeckillTest;
use Shopper;

reset_data();
my $now = time;
my $on_sale = add_product(name => '在售', start => $now - 60, end => $now + 3600, stock => 3,
    status => 1);
my $later = add_product(name => '未开始', start => $now + 1800, end => $now + 5400, stock => 5);
my $over = add_product(name => '已结束', start => $now - 7200, end => $now - 60, stock => 5,
    status => 2);
my $limited = add_product(name => '限流', start => $now - 60, end => $now + 3600, stock => 100,
    status => 1);
preheat($now - 60, $now + 1800, $now - 7200);
my $worker = start_worker();

my $alice = Shopper->new;
my $bob = Shopper->new;
ok($alice->id && $alice->csrf, 'a page hands out an identity cookie and a CSRF token');
isnt($alice->id, $bob->id, 'each shopper gets an own identity');

subtest 'refused before anything is sold' => sub {
    my $anon = Shopper->new(anonymous => 1);
    my ($res, $d) = $anon->buy($on_sale, csrf => $alice->csrf);
    is($res->code, 403, 'no identity cookie: 403');
    is($d->{code}, 'forbidden', '  code forbidden');
    ok(!$anon->ua->cookie_jar->as_string, '  and no identity is issued by a buy');

    ($res, $d) = $alice->buy($on_sale, csrf => undef);
    is($res->code, 403, 'no CSRF token: 403');
    ($res, $d) = $alice->buy($on_sale, csrf => 'x' x 43);
    is($res->code, 403, 'bad CSRF token: 403');
    ($res, $d) = $alice->buy($on_sale, csrf => $bob->csrf);
    is($res->code, 403, "another shopper's CSRF token: 403");

    my $forged = Shopper->new(anonymous => 1);
    $forged->ua->cookie_jar->set_cookie(0, 'seckill_id',
        'AAAAAAAAAAAAAAAAAAAAAA.' . ('A' x 43), '/', $forged->base =~ m{//([^:/]+)});
    ($res, $d) = $forged->buy($on_sale, csrf => $alice->csrf);
    is($res->code, 403, 'a tampered identity cookie: 403');

    $res = $alice->ua->get($alice->base . "/buy/$on_sale", Accept => 'application/json');
    is($res->code, 405, 'GET /buy/{id}: 405');
    like($res->header('Allow') // '', qr/POST/, '  Allow: POST');

    for my $bad ('abc', '-1', '0', '1.5', '99999999999999999999', '1e3', '1%20', '%2531', '12abc') {
        ($res, $d) = $alice->buy($bad);
        is($res->code, 400, "/buy/$bad: 400");
        is($d && $d->{code}, 'bad_request', '  code bad_request');
    }
    ($res, $d) = $alice->buy(987654321);
    is($res->code, 404, 'an id no product has: 404');
    is($d->{code}, 'no_such_product', '  code no_such_product');
    is(redis('GET', "seckill:stock:{p$on_sale}"), '3', 'stock untouched by all of these');
};

subtest 'sale window' => sub {
    my ($res, $d) = $alice->buy($later);
    is($res->code, 409, 'not started: 409');
    is($d->{code}, 'not_started', '  code not_started');
    ($res, $d) = $alice->buy($over);
    is($res->code, 409, 'ended: 409');
    is($d->{code}, 'ended', '  code ended');
};

my $order;
subtest 'a buy, then the same shopper again' => sub {
    my ($res, $d) = $alice->buy($on_sale);
    is($res->code, 200, 'ok: 200') or diag $res->content;
    ok($d->{ok}, '  ok true');
    is($d->{code}, 'ok', '  code ok');
    like($d->{order_id} // '', qr/^\d{15,20}$/, '  order id as a string of digits');
    $order = $d->{order_id};
    is(redis('GET', "seckill:stock:{p$on_sale}"), '2', 'Redis stock decremented');
    is(redis('GET', "seckill:order:$order"), $alice->id . "|$on_sale|queued",
        'the order marker, written by the buy script');
    cmp_ok(redis('TTL', "seckill:order:$order"), '>', 86000, '  for a day');

    ($res, $d) = $alice->buy($on_sale);
    is($res->code, 409, 'the same shopper again: 409');
    is($d->{code}, 'already_bought', '  code already_bought');
    is(redis('GET', "seckill:stock:{p$on_sale}"), '2', '  nothing more sold');
};

subtest 'the order, for its shopper only' => sub {
    my ($res, $d) = $alice->get_json("/order/$order");
    is($res->code, 200, 'the shopper sees the order');
    like($d->{status}, qr/^(queued|pending_payment)$/, "  status $d->{status}");
    my $row = wait_for(15, sub { sql("SELECT status FROM seckill_orders WHERE id = $order") });
    is($row, '0', 'the worker wrote the order row (unpaid)');
    ($res, $d) = $alice->get_json("/order/$order");
    is($d->{status}, 'pending_payment', '  now pending_payment');
    ok($d->{pay_seconds_left} > 250 && $d->{pay_seconds_left} <= 300, '  with the pay window');
    is(sql("SELECT stock FROM seckill_products WHERE id = $on_sale"), '2', 'MySQL stock follows');

    ($res, $d) = $bob->get_json("/order/$order");
    is($res->code, 404, "another shopper gets 404");
    is($d->{code}, 'not_found', '  code not_found');
    ($res) = Shopper->new(anonymous => 1)->get_json("/order/$order");
    is($res->code, 404, 'no identity: 404');
    ($res) = $alice->get_json('/order/12345678901234567');
    is($res->code, 404, 'an unknown order: 404');
    ($res) = $alice->get_json('/order/abc');
    is($res->code, 400, 'a malformed order id: 400');
    is($alice->get_page_code("/order/$order"), 200, 'the HTML order page');
};

subtest 'sold out, then answered from memory' => sub {
    my ($res, $d) = $bob->buy($on_sale);
    is($res->code, 200, 'second unit');
    ($res, $d) = Shopper->new->buy($on_sale);
    is($res->code, 200, 'third unit');
    ($res, $d) = Shopper->new->buy($on_sale);
    is($res->code, 409, 'then: 409');
    is($d->{code}, 'sold_out', '  code sold_out');
    is(redis('GET', "seckill:stock:{p$on_sale}"), '0', 'Redis stock is 0, never below');
    ($res, $d) = Shopper->new->buy($on_sale);
    is($d->{code}, 'sold_out', 'still sold out');

    # Redis counts the scripts it ran: a burst of sold-out buys must barely reach it (each
    # child asks once per mark's life; the worker's own scripts add a few).
    my $frank = Shopper->new;
    my $before = evalsha_calls();
    my @codes = map { ($frank->buy($on_sale))[1]{code} } 1 .. 60;
    my $ran = evalsha_calls() - $before;
    is(scalar(grep { $_ eq 'sold_out' } @codes), 60, '60 more buys: all sold_out');
    cmp_ok($ran, '<=', 15, "answered from memory: $ran scripts ran in Redis for 60 buys");
};

sub evalsha_calls {
    my ($line) = grep { /^cmdstat_evalsha:/ } redis('INFO', 'commandstats');
    return $line && $line =~ /calls=(\d+)/ ? $1 : 0;
}

subtest 'rate limit' => sub {
    redis('SCRIPT', 'FLUSH'); # a Redis without the scripts: NOSCRIPT is handled underneath
    my $carol = Shopper->new;
    my @codes = map { ($carol->buy($limited))[1]{code} } 1 .. 8;
    is($codes[0], 'ok', 'first buy ok');
    is($codes[1], 'already_bought', 'then already bought');
    my ($res, $d) = $carol->buy($limited);
    is($res->code, 429, 'too many requests in the window: 429');
    is($d->{code}, 'rate_limited', '  code rate_limited');
    like($res->header('Retry-After') // '', qr/^\d+$/, '  with Retry-After');
    ok(grep({ $_ eq 'rate_limited' } @codes), 'within the burst');
};

subtest 'HTML form buy without JavaScript' => sub {
    my $dave = Shopper->new;
    my $res = $dave->buy_form($limited);
    is($res->code, 200, 'form post with csrf_token field: 200');
    like($res->decoded_content, qr/抢购成功/, 'the result page says so');
    like($res->decoded_content, qr{href="/order/\d+"}, 'and links to the order');
    $res = $dave->buy_form($limited, csrf_token => 'forged');
    is($res->code, 400, 'a csrf_token field given twice: 400');
    my $big = Shopper->new;
    $res = $big->ua->request(HTTP::Request::Common::POST($big->base . "/buy/$limited",
        [csrf_token => $big->csrf, pad => 'x' x (1 << 20)]));
    is($res->code, 413, 'a 1 MB body: 413');
    is(sql("SELECT COUNT(*) FROM seckill_orders WHERE user_id = '" . $big->id . "'"), '0',
        '  nothing bought');
};

# The module declares the topology once per child, not per connection; a broker that lost it
# (here: the order queue deleted) returns the next message unroutable, and that child declares
# it again before its next publish.
subtest 'the order queue lost: 503 for an unroutable order, then declared again' => sub {
    stop_worker($worker); # its reconnect would declare the queue again first
    ok(wait_for(15, sub { (queue_depth('seckill.order.create') // 1) == 0 }), 'queue drained');
    system(top_dir() . '/build/tools/amqp_tool', 'delete', 'seckill.order.create') == 0
      or die "amqp_tool delete failed\n";
    my $before = redis('GET', "seckill:stock:{p$limited}");
    my @codes;
    # every child that has published must meet the loss once; others never saw the queue go
    for (1 .. 12) {
        my ($res, $d) = Shopper->new->buy($limited);
        push @codes, $d->{code} // $res->code;
    }
    my $n503 = grep { $_ eq 'unavailable' } @codes;
    my $nok = grep { $_ eq 'ok' } @codes;
    is($n503 + $nok, 12, 'only ok and unavailable') or diag "@codes";
    cmp_ok($nok, '>', 0, "after the loss the module publishes again ($n503 unroutable)");
    is(queue_depth('seckill.order.create'), $nok, 'the queue is back and holds the ok orders');
    is(redis('GET', "seckill:stock:{p$limited}"), $before - $nok,
        'the unroutable ones hold no stock');
    $worker = start_worker();
};

subtest 'RabbitMQ down: 503 and no stock held' => sub {
    my $erin = Shopper->new;
    my $before = redis('GET', "seckill:stock:{p$limited}");
    stack('stop', 'rabbitmq');
    my ($res, $d) = $erin->buy($limited);
    stack('start', 'rabbitmq');
    is($res->code, 503, 'unconfirmed publish: 503');
    is($d->{code}, 'unavailable', '  code unavailable');
    is(redis('GET', "seckill:stock:{p$limited}"), $before, 'the unit was given back');
    is(redis('HGET', "seckill:buyers:{p$limited}", $erin->id), '', 'the buyer was not recorded');
    my @markers = grep { index(redis('GET', $_), $erin->id . '|') == 0 }
      split /\n/, redis('KEYS', 'seckill:order:*');
    is(scalar @markers, 0, 'no order marker left for the revoked order');
    ($res, $d) = $erin->buy($limited);
    is($d->{code}, 'ok', 'once RabbitMQ is back, the same shopper can buy');
};

stop_worker($worker);
done_testing();

package Shopper;
sub get_page_code { my ($s, $p) = @_; $s->ua->get($s->base . $p, Accept => 'text/html')->code }
