# The listing (GET / and GET /?slot=H) in HTML and JSON, Redis first with MySQL behind it.
use strict;
use warnings FATAL => 'all';
use utf8;
use Apache::Test ();
use Test::More;
use SeckillTest;
use Shopper;

reset_data();
my ($from10, $to10) = slot_window(10);
my $pa = add_product(name => '扫地机器人 <X1> & "Pro"', start => $from10, end => $to10, stock => 50);
my $pb = add_product(name => '无线耳机', start => $from10 + 1800, end => $to10, stock => 20,
    base_price => '199.90', seckill_price => '99.50');
my ($from16, $to16) = slot_window(16);
my $pc = add_product(name => '智能手表', start => $from16, end => $to16, stock => 5);

subtest 'JSON listing of a slot, first from MySQL then from the cache' => sub {
    my ($res, $d) = get_json('/?slot=10');
    is($res->code, 200, 'status 200');
    like($res->header('Content-Type'), qr{^application/json}, 'JSON content type');
    is($res->header('X-Seckill-Cache'), 'miss', 'first request misses the cache');
    is_deeply($d->{slots}, [8, 10, 12, 14, 16, 18, 20, 22], 'the eight slots');
    is($d->{selected_slot}, 10, 'selected slot');
    is(scalar @{$d->{products}}, 2, 'two products in slot 10');
    my ($p, $q) = @{$d->{products}};
    is($p->{id}, $pa, 'ordered by start time: first');
    is($q->{id}, $pb, 'ordered by start time: second');
    is($p->{name}, '扫地机器人 <X1> & "Pro"', 'name as stored (JSON is not HTML-escaped)');
    is($p->{base_price}, '399.00', 'base price with two decimals');
    is($p->{seckill_price}, '309.00', 'seckill price');
    is($q->{seckill_price}, '99.50', 'other price');
    is($p->{stock}, 50, 'stock');
    is($p->{total_stock}, 50, 'total stock');
    like($p->{start}, qr/^\d{4}-\d\d-\d\dT10:00:00[+-]\d\d:\d\d$/, 'start in ISO 8601');
    like($p->{end}, qr/T12:00:00[+-]\d\d:\d\d$/, 'end in ISO 8601');
    ok(exists $p->{status}, 'status present');

    my ($res2, $d2) = get_json('/?slot=10');
    is($res2->header('X-Seckill-Cache'), 'hit', 'second request hits the cache');
    is_deeply($d2->{products}, $d->{products}, 'same products from the cache');
};

subtest 'HTML listing' => sub {
    my $res = get_page('/?slot=10');
    is($res->code, 200, 'status 200');
    like($res->header('Content-Type'), qr{^text/html}, 'HTML content type');
    my $html = $res->decoded_content;
    like($html, qr/扫地机器人 &lt;X1&gt; &amp; &quot;Pro&quot;/, 'name HTML-escaped');
    unlike($html, qr/<X1>/, 'no raw markup from data');
    like($html, qr/¥309\.00/, 'seckill price shown');
    like($html, qr/<del>¥399\.00<\/del>/, 'base price struck through');
    like($html, qr/href="\/\?slot=22"/, 'tab for slot 22');
    like($html, qr/class="slot selected[^"]*" href="\/\?slot=10"/, 'slot 10 selected');
    like($html, qr/name="viewport"/, 'phone viewport');
    # the countdown runs to the slot's start before it, to its end during it (t/api/pages.t)
    if (time < $from10) {
        like($html, qr/class="countdown" data-until="[^"]*T10:00:00/, 'countdown to the slot start');
    } elsif (time < $to10) {
        like($html, qr/class="countdown" data-until="[^"]*T12:00:00/, 'countdown to the slot end');
    } else {
        like($html, qr/本场已结束/, 'a past slot says it is over');
    }
};

subtest 'sold percentage counts orders not cancelled' => sub {
    sql("INSERT INTO seckill_orders (id, user_id, goods_id, goods_name, seckill_price, quantity,"
          . " total_amount, status, create_time) VALUES"
          . " (1, 'u1', $pc, 'w', 309.00, 1, 309.00, 0, NOW(6)),"
          . " (2, 'u2', $pc, 'w', 309.00, 1, 309.00, 2, NOW(6))");
    sql("UPDATE seckill_products SET stock = 3 WHERE id = $pc");
    my ($res, $d) = get_json('/?slot=16');
    my ($p) = @{$d->{products}};
    is($p->{stock}, 3, 'stock from MySQL');
    is($p->{total_stock}, 4, 'total = stock + units in orders not cancelled');
    is($p->{sold_percentage}, 25, 'sold percentage');
};

subtest 'a slot with no products' => sub {
    my ($res, $d) = get_json('/?slot=20');
    is($res->code, 200, 'status 200');
    is_deeply($d->{products}, [], 'no products');
    ok($d->{empty}, 'marked empty');
    my @members = redis('SMEMBERS', slot_key(20));
    is_deeply(\@members, ['-'], 'the empty slot is cached too (loaded marker)');
    my ($res2) = get_json('/?slot=20');
    is($res2->header('X-Seckill-Cache'), 'hit', 'an empty slot is a cache hit next time');
    like(get_page('/?slot=20')->decoded_content, qr/本场暂无秒杀商品/, 'HTML says so');
};

subtest 'default slot is the current one' => sub {
    my ($res, $d) = get_json('/');
    is($res->code, 200, 'status 200');
    is($d->{selected_slot}, current_slot(), 'current slot selected');
    is($d->{current_slot}, current_slot(), 'current slot named');
};

subtest 'bad slot values answer 400' => sub {
    for my $q ('slot=7', 'slot=9', 'slot=24', 'slot=0', 'slot=abc', 'slot=-8', 'slot=',
        'slot=10x', 'slot=1e1', 'slot=%31%30%00', 'slot=10&slot=12', 'slot=999999999999999999999') {
        my ($res, $d) = get_json("/?$q");
        is($res->code, 400, "?$q is 400");
        is($d && $d->{code}, 'bad_request', "?$q has code bad_request");
    }
    my $res = get_page('/?slot=abc');
    is($res->code, 400, 'HTML 400 too');
    like($res->decoded_content, qr/slot must be one of/, 'with a message');
};

subtest 'cache miss falls back to MySQL and fills the cache' => sub {
    redis('DEL', slot_key(10), "seckill:product:{p$pa}", "seckill:product:{p$pb}");
    my ($res, $d) = get_json('/?slot=10');
    is($res->header('X-Seckill-Cache'), 'miss', 'miss after the keys were deleted');
    is(scalar @{$d->{products}}, 2, 'both products from MySQL');
    my @members = sort(redis('SMEMBERS', slot_key(10)));
    is_deeply(\@members, [sort('-', $pa, $pb)], 'slot set refilled');
    is(redis('HGET', "seckill:product:{p$pa}", 'seckill_price'), '309.00', 'product hash refilled');
    ok(redis('TTL', "seckill:product:{p$pa}") > 0, 'product hash expires');
    is(get_json('/?slot=10')->header('X-Seckill-Cache'), 'hit', 'then a hit');
};

subtest 'a cache fill never overwrites a stock key in Redis' => sub {
    redis('SET', "seckill:stock:{p$pa}", 7);
    redis('DEL', slot_key(10), "seckill:product:{p$pa}");
    my ($res, $d) = get_json('/?slot=10');
    my ($p) = grep { $_->{id} == $pa } @{$d->{products}};
    is($p->{stock}, 50, 'the miss answers with MySQL stock');
    is(redis('GET', "seckill:stock:{p$pa}"), '7', 'but Redis stock was kept');
    ($res, $d) = get_json('/?slot=10');
    ($p) = grep { $_->{id} == $pa } @{$d->{products}};
    is($p->{stock}, 7, 'and the cache then shows the Redis stock');
};

subtest 'a half-cached product is rebuilt from MySQL' => sub {
    redis('DEL', "seckill:stock:{p$pb}");
    my ($res, $d) = get_json('/?slot=10');
    is($res->header('X-Seckill-Cache'), 'miss', 'missing stock key means a miss');
    is(redis('GET', "seckill:stock:{p$pb}"), '20', 'stock key restored from MySQL');
};

subtest 'Redis restarted in the middle: the next request works' => sub {
    is(get_json('/?slot=10')->code, 200, 'before the restart');
    stack('restart', 'redis');
    my ($res, $d) = get_json('/?slot=10');
    is($res->code, 200, 'first request after the restart');
    is(scalar @{$d->{products}}, 2, 'with the products');
    is(get_json('/?slot=10')->header('X-Seckill-Cache'), 'hit', 'cache survives (AOF)');
};

subtest 'MySQL restarted in the middle: the next cache miss works' => sub {
    redis('DEL', slot_key(10));
    is(get_json('/?slot=10')->code, 200, 'a miss before the restart');
    stack('restart', 'mysql');
    redis('DEL', slot_key(10));
    my ($res, $d) = get_json('/?slot=10');
    is($res->code, 200, 'a miss after the restart');
    is($res->header('X-Seckill-Cache'), 'miss', 'served from MySQL');
    is(scalar @{$d->{products}}, 2, 'with the products');
};

subtest 'Redis down: the listing is served from MySQL' => sub {
    stack('stop', 'redis');
    my ($res, $d) = get_json('/?slot=10');
    stack('start', 'redis');
    is($res->code, 200, 'still 200');
    is($res->header('X-Seckill-Cache'), 'miss', 'as a miss');
    is(scalar @{$d->{products}}, 2, 'with the products');
    is(get_json('/?slot=10')->code, 200, 'and Redis is used again once back');
};

sub smembers_calls {
    my ($line) = grep { /^cmdstat_smembers:/ } redis('INFO', 'commandstats');
    return $line && $line =~ /calls=(\d+)/ ? $1 : 0;
}

# The virtual host listing_cache serves each child's rendered page again for 250 ms (what
# make run does; the main server here renders every time). The page is shared, the CSRF
# token in it is each shopper's own, and stock figures are at most that much old.
subtest 'rendered listings served again for 250 ms, each shopper with their own token' => sub {
    my @s = map { Shopper->new(module => 'listing_cache', anonymous => 1) } 1 .. 3;
    my $get = sub {
        my ($shopper, $accept) = @_;
        return $shopper->ua->get($shopper->base . '/?slot=10', Accept => $accept);
    };
    get_json('/?slot=10'); # cached in Redis (the main server renders anew)
    my $calls = smembers_calls();
    my (@tok, @ids);
    for my $i (0 .. 19) {
        my $sh = $s[$i % 3];
        my $res = $get->($sh, 'application/json');
        is($res->code, 200, "listing $i: 200") if $i < 3;
        my $d = json_decode($res->content);
        like($d->{csrf_token} // '', qr/^[A-Za-z0-9_-]{43}$/, "  a token") if $i < 3;
        push @{$tok[$i % 3]}, $d->{csrf_token};
        is(scalar @{$d->{products}}, 2, '  the products') if $i < 3;
    }
    my $read = smembers_calls() - $calls;
    cmp_ok($read, '<=', 8, "20 listings read Redis $read times (at most once a child)");
    for my $i (0 .. 2) {
        my %t = map { ($_ => 1) } @{$tok[$i]};
        is(scalar keys %t, 1, "shopper $i: always the same token");
        # the same cookie on the main server, which renders every time, gives the same token
        my $fresh = json_decode($s[$i]->ua->get(
            Shopper->new(anonymous => 1)->base . '/?slot=10', Accept => 'application/json')
          ->content);
        is($fresh->{csrf_token}, $tok[$i][0], "shopper $i: the token is theirs");
    }
    isnt($tok[0][0], $tok[1][0], 'shoppers get different tokens');

    my $html = $get->($s[1], 'text/html')->decoded_content;
    my @in = $html =~ /name="csrf_token" value="([^"]*)"/g;
    cmp_ok(scalar @in, '>=', 2, 'HTML: a form a product (and the page\'s buy panel)');
    is_deeply([grep { $_ ne $tok[1][0] } @in], [], "HTML: every form carries the shopper's token");
    unlike($html, qr/\Q$tok[0][0]\E/, "no other shopper's token");
    is($get->($s[2], 'text/html')->code, 200, 'HTML from the cache again');
    my $head = $s[0]->ua->head($s[0]->base . '/?slot=10');
    is($head->code, 200, 'HEAD');

    my $stock = redis('GET', "seckill:stock:{p$pa}");
    redis('SET', "seckill:stock:{p$pa}", $stock - 7);
    select(undef, undef, undef, 0.35);
    my @seen = map {
        my $d = json_decode($get->($s[$_ % 3], 'application/json')->content);
        (grep { $_->{id} == $pa } @{$d->{products}})[0]{stock}
    } 0 .. 8;
    is_deeply(\@seen, [($stock - 7) x 9], 'stock changed in Redis: every answer shows it 250 ms on');
    redis('SET', "seckill:stock:{p$pa}", $stock);
};

subtest 'other paths and methods' => sub {
    my ($res, $d) = get_json('/no/such/page');
    is($res->code, 404, 'unknown path is 404');
    is($d->{code}, 'not_found', 'code not_found');
    $res = Apache::TestRequest::POST('/', Accept => 'application/json', content => 'x=1');
    is($res->code, 405, 'POST / is 405');
    like($res->header('Allow') // '', qr/GET/, 'Allow names GET');
    $res = Apache::TestRequest::HEAD('/?slot=10');
    is($res->code, 200, 'HEAD works');
    $res = Apache::TestRequest::GET('/static/css/shop.css');
    is($res->code, 200, 'static files are served by httpd');
    $res = Apache::TestRequest::GET('/seckill-ping');
    is($res->content, "pong\n", 'the fixed handler (the benchmark ceiling) answers');
};

sub slot_key {
    my ($slot) = @_;
    my $date = POSIX::strftime('%Y%m%d', localtime);
    return "seckill:slot:$date:$slot";
}

reset_data();
done_testing();
