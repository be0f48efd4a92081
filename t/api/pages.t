# The shopper's pages as HTML, without JavaScript: slot tabs with the current one marked, the
# countdown and its data attributes, each card's status word and buy button, the buy's result
# page for each outcome, the order and orders pages with their forms, and no URL that leaves
# the shop (no CDN). The browser itself is e2e/ (make e2e).
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
use Apache::Test ();
use HTTP::Request::Common qw(POST);
use POSIX qw(strftime);
use SeckillTest;
use Shopper;

binmode(Test::More->builder->$_, ':encoding(UTF-8)') for qw(output failure_output todo_output);

reset_data();
my $now = time;
my $cur = current_slot();
my ($from, $to) = slot_window($cur);
my $start = $now - 60 < $from ? $from : $now - 60;
my $end = $now + 3600;
my %p;
$p{on} = add_product(name => '在售 <b>', start => $start, end => $end, stock => 5, status => 1);
$p{sold} = add_product(name => '售罄', start => $start, end => $end, stock => 0, status => 1);
$p{stopped} = add_product(name => '提前结束', start => $start, end => $end, stock => 5, status => 2);
# the scheduler has not yet moved these (it runs every 10 s): the page follows the clock, as
# the buy does
$p{late} = add_product(name => '状态未更新', start => $start, end => $end, stock => 5, status => 0);
$p{over} = add_product(name => '时间已过', start => $from, end => $now - 2, stock => 5, status => 1)
  if $now - $from >= 5;
# a sale that starts later: in this slot when there is room, else in the next one
my ($later_slot, $later_start);
if ($to - $now > 900) {
    ($later_slot, $later_start) = ($cur, $now + 600);
} elsif ($cur < 22) {
    my ($nf) = slot_window($cur + 2);
    ($later_slot, $later_start) = ($cur + 2, $nf + 600);
}
$p{later} = add_product(name => '稍后开抢', start => $later_start, end => $later_start + 3600,
    stock => 5, status => 0) if defined $later_slot;
my $next = $cur < 22 ? add_product(name => '下一场', start => (slot_window($cur + 2))[0] + 60,
    end => (slot_window($cur + 2))[1], stock => 9, status => 0) : undef;
preheat($now, defined $later_start ? $later_start : (), $cur < 22 ? (slot_window($cur + 2))[0] : ());

sub iso_prefix { strftime('%Y-%m-%dT%H:%M:%S', localtime $_[0]) }

# id -> the HTML of that product's card
sub cards {
    my ($html) = @_;
    my %c;
    for my $piece (split /<li class="card/, $html) {
        $c{$1} = $piece if $piece =~ /^[^>]*data-id="(\d+)"/;
    }
    return %c;
}

sub no_external {
    my ($html, $what) = @_;
    my @urls = $html =~ m{((?:src|href|action|content)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//[^"'\s>]*)}gi;
    push @urls, $html =~ m{(https?://[^"'\s<>]*)}gi;
    ok(!@urls, "$what: no URL outside the shop") or diag "@urls";
}

my $alice = Shopper->new;

subtest 'slot tabs, the current one marked' => sub {
    my $res = $alice->ua->get($alice->base . '/', Accept => 'text/html');
    is($res->code, 200, 'GET /');
    my $html = $res->decoded_content;
    my @tabs = $html =~ m{(<a class="slot[^"]*" href="/\?slot=\d+"[^>]*>)}g;
    is(scalar @tabs, 8, 'eight tabs');
    my @hours = map { /slot=(\d+)/ } @tabs;
    is_deeply(\@hours, [8, 10, 12, 14, 16, 18, 20, 22], '8:00 to 22:00, two hours each');
    my ($current) = grep { /\bcurrent\b/ } @tabs;
    like($current, qr/slot=$cur"/, "the current slot ($cur) is marked current");
    like($current, qr/\bselected\b/, '  and selected');
    like($current, qr/aria-current="page"/, '  and aria-current');
    is(scalar(grep { /\bselected\b/ } @tabs), 1, 'one tab selected');
    is(scalar(grep { /\bpast\b/ } @tabs), ($cur - 8) / 2, 'the slots before are marked past');
    like($html, qr{slot=$cur"[^>]*>\s*<span class="slot-time">\Q@{[sprintf '%02d:00', $cur]}\E</span>\s*<span class="slot-note">抢购中</span>},
        'the current tab says 抢购中');
    if ($cur < 22) {
        like($html, qr{slot=22"[^>]*>\s*<span class="slot-time">22:00</span>\s*<span class="slot-note">即将开始</span>},
            'a later tab says 即将开始');
    }
    no_external($html, 'index');
};

subtest 'the countdown and its data attributes' => sub {
    my $html = $alice->ua->get($alice->base . '/')->decoded_content;
    my ($cd) = $html =~ m{(<span class="countdown"[^>]*>[^<]*</span>)};
    ok($cd, 'a countdown on the page');
    like($cd, qr/data-until="\Q@{[iso_prefix($to)]}\E[+-]\d\d:\d\d"/, 'counts down to the end of the current slot');
    like($cd, qr/data-now="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"/, 'carries the server time');
    like($cd, qr/data-done="reload"/, 'reloads the page at zero');
    my ($h, $m, $s) = $cd =~ />(\d\d):(\d\d):(\d\d)</;
    ok(defined $h, 'shows hh:mm:ss before any script runs');
    my $left = $h * 3600 + $m * 60 + $s;
    ok(abs($left - ($to - time)) <= 5, "  the time left ($left s)");
    like($html, qr/距本场结束/, 'says 距本场结束');

  SKIP: {
        skip 'no slot after 22:00', 3 if $cur == 22;
        my $slot = $cur + 2;
        my ($nf) = slot_window($slot);
        my $page = $alice->ua->get($alice->base . "/?slot=$slot")->decoded_content;
        like($page, qr/距本场开始 <span class="countdown" data-until="\Q@{[iso_prefix($nf)]}\E/,
            'a later slot counts down to its start');
        like($page, qr{class="slot selected[^"]*" href="/\?slot=$slot"}, '  its tab selected');
        like($page, qr{class="slot[^"]*current[^"]*" href="/\?slot=$cur"}, '  the current still marked');
    }
  SKIP: {
        skip 'no slot before 8:00', 2 if $cur == 8;
        my $page = $alice->ua->get($alice->base . '/?slot=' . ($cur - 2))->decoded_content;
        like($page, qr/本场已结束/, 'an earlier slot says it is over');
        my ($head) = $page =~ m{(<section class="slot-head".*?</section>)}s;
        unlike($head // '', qr/countdown/, '  with no countdown');
    }
};

subtest 'cards: status words and buy buttons' => sub {
    my $html = $alice->ua->get($alice->base . "/?slot=$cur")->decoded_content;
    my %c = cards($html);
    my $button = sub { $c{$_[0]} =~ m{(<button type="submit"[^>]*>[^<]*</button>)} ? $1 : '' };
    my $tag = sub { $c{$_[0]} =~ m{<span class="tag">([^<]*)</span>} ? $1 : '' };

    is($tag->($p{on}), '抢购中', 'on sale: 抢购中');
    unlike($button->($p{on}), qr/disabled/, '  buy enabled');
    like($button->($p{on}), qr/立即抢购/, '  立即抢购');
    like($c{$p{on}}, qr{<span class="price-label">秒杀价</span><strong>¥309\.00</strong><span class="was">原价 <del>¥399\.00</del></span>},
        '  秒杀价 and struck 原价');
    like($c{$p{on}}, qr{剩余 <b class="left">5</b>/5}, '  stock left');
    like($c{$p{on}}, qr{<div class="bar"[^>]*aria-valuenow="0"[^>]*><span style="width: 0%"></span>}, '  sold bar');
    like($c{$p{on}}, qr{在售 &lt;b&gt;}, '  name escaped');
    like($c{$p{on}}, qr{<form class="buy" method="post" action="/buy/$p{on}">\s*<input type="hidden" name="csrf_token" value="\Q@{[$alice->csrf]}\E">},
        '  the buy form posts the CSRF token');

    is($tag->($p{sold}), '已抢完', 'sold out: 已抢完');
    like($button->($p{sold}), qr/disabled/, '  buy disabled');
    like($c{$p{sold}}, qr{aria-valuenow="100"}, '  the bar full');

    is($tag->($p{stopped}), '已结束', 'ended early (status 2): 已结束');
    like($button->($p{stopped}), qr/disabled/, '  buy disabled');

    is($tag->($p{late}), '抢购中', 'status 0 but the sale has begun: 抢购中, as the buy decides');
    unlike($button->($p{late}), qr/disabled/, '  buy enabled');

  SKIP: {
        skip 'the slot began less than 5 s ago', 2 unless $p{over};
        is($tag->($p{over}), '已结束', 'status 1 but the sale is over: 已结束');
        like($button->($p{over}), qr/disabled/, '  buy disabled');
    }
  SKIP: {
        skip 'no later sale today', 4 unless $p{later};
        my %l = cards($alice->ua->get($alice->base . "/?slot=$later_slot")->decoded_content);
        my $card = $l{$p{later}} // '';
        like($card, qr{<span class="tag">未开始</span>}, 'not started: 未开始');
        like($card, qr{<button type="submit" disabled>未开始</button>}, '  buy disabled');
        like($card, qr{<span class="starts"> · 距开始 <span class="countdown" data-until="\Q@{[iso_prefix($later_start)]}\E[^"]*" data-now="[^"]+" data-done="refresh">\d\d:\d\d:\d\d</span>},
            '  a countdown to its start');
        my ($res, $d) = $alice->get_json("/?slot=$later_slot");
        my ($j) = grep { $_->{id} == $p{later} } @{$d->{products}};
        ok($j->{not_started} && !$j->{on_sale} && $j->{status} == 0, '  JSON says so too');
    }
    my ($res, $d) = $alice->get_json("/?slot=$cur");
    my %j = map { ($_->{id} => $_) } @{$d->{products}};
    ok($j{$p{late}}{on_sale} && $j{$p{late}}{status} == 1, 'JSON: status follows the clock');
    ok($j{$p{stopped}}{ended} && !$j{$p{stopped}}{on_sale}, 'JSON: ended');
    ok($d->{slot_live} && !$d->{slot_upcoming} && !$d->{slot_over}, 'JSON: the slot is live');
};

my $order;
subtest 'the buy result page, outcome by outcome (no JavaScript)' => sub {
    my $res = $alice->buy_form($p{on});
    is($res->code, 200, 'a buy: 200');
    my $html = $res->decoded_content;
    like($html, qr{<h1>抢购成功</h1>}, '  抢购成功');
    ($order) = $html =~ m{data-poll="/order/(\d+)"};
    ok($order, '  the page follows its order (data-poll)');
    like($html, qr{<noscript><meta http-equiv="refresh" content="2;url=/order/$order"></noscript>},
        '  without a script it moves on to the order page');
    like($html, qr{href="/order/$order"}, '  and links to it');
    like($html, qr{<form class="payform" method="post" action="/order/pay/$order" hidden>\s*<input type="hidden" name="csrf_token" value="\Q@{[$alice->csrf]}\E">},
        '  the 去支付 form, shown once the order is written');
    no_external($html, 'result page');

    $res = $alice->buy_form($p{on});
    is($res->code, 409, 'again: 409');
    like($res->decoded_content, qr{<h1>您已抢到过该商品</h1>}, '  您已抢到过该商品');
    like($res->decoded_content, qr{href="/orders/"}, '  with the way to the orders');

    $res = $alice->buy_form($p{sold});
    is($res->code, 409, 'sold out: 409');
    like($res->decoded_content, qr{<h1>手慢了，商品已抢完</h1>}, '  手慢了，商品已抢完');

    $res = $alice->buy_form($p{stopped});
    is($res->code, 409, 'ended: 409');
    like($res->decoded_content, qr{<h1>秒杀已结束</h1>}, '  秒杀已结束');

  SKIP: {
        skip 'no later sale today', 3 unless $p{later};
        $res = $alice->buy_form($p{later});
        is($res->code, 409, 'not started: 409');
        like($res->decoded_content, qr{<h1>秒杀尚未开始</h1>}, '  秒杀尚未开始');
        like($res->decoded_content, qr{距开始 <span class="countdown" data-until="[^"]+" data-now="[^"]+">\d\d:\d\d:\d\d</span>},
            '  with the time to its start');
    }

    $res = $alice->buy_form(987654321);
    is($res->code, 404, 'no such product: 404');
    like($res->decoded_content, qr{<h1>商品不存在</h1>}, '  商品不存在');

    my $limited;
    for (1 .. 10) {
        $res = $alice->buy_form($p{on});
        $limited = $res, last if $res->code == 429;
    }
    ok($limited, 'too many tries: 429');
    like($limited ? $limited->decoded_content : '', qr{<h1>操作太频繁</h1>.*请 \d+ 秒后再试}s,
        '  操作太频繁, and when to come back');

    $res = $alice->ua->request(POST($alice->base . "/buy/$p{late}", [csrf_token => 'forged'],
        Accept => 'text/html'));
    is($res->code, 403, 'a wrong CSRF token: 403');
    like($res->decoded_content, qr{页面已过期}, '  says the page expired');
};

subtest 'the order page follows the worker, then offers to pay' => sub {
    my $res = $alice->ua->get($alice->base . "/order/$order", Accept => 'text/html');
    is($res->code, 200, 'GET /order/ID before the worker ran');
    my $html = $res->decoded_content;
    like($html, qr{<span class="badge badge-queued">订单生成中</span>}, '  订单生成中');
    like($html, qr{<noscript><meta http-equiv="refresh" content="2"></noscript>}, '  refreshes without a script');
    unlike($html, qr{action="/order/pay/}, '  nothing to pay yet');

    my $w = start_worker();
    ok(wait_for(15, sub { sql("SELECT COUNT(*) FROM seckill_orders WHERE id = $order") }), 'the worker wrote it');
    stop_worker($w);
    $html = $alice->ua->get($alice->base . "/order/$order", Accept => 'text/html')->decoded_content;
    like($html, qr{<span class="badge badge-pending_payment">待支付</span>}, '  待支付');
    unlike($html, qr{http-equiv="refresh"}, '  no more refreshing');
    like($html, qr{<span class="countdown" data-until="[^"]+" data-now="[^"]+" data-done="expire">00:0[0-5]:\d\d</span>},
        '  the pay window counts down');
    my $token = quotemeta $alice->csrf;
    like($html, qr{<form method="post" action="/order/pay/$order"><input type="hidden" name="csrf_token" value="$token"><button type="submit">去支付</button></form>},
        '  the 去支付 form');
    like($html, qr{<form method="post" action="/order/cancel/$order" class="cancel"><input type="hidden" name="csrf_token" value="$token">},
        '  the 取消订单 form');
    no_external($html, 'order page');
};

subtest 'orders: badges, pay time, countdown and forms' => sub {
    my $uid = $alice->id;
    my $ins = sub {
        my ($id, $status, $extra) = @_;
        sql("INSERT INTO seckill_orders (id, user_id, goods_id, goods_name, seckill_price, quantity,"
              . " total_amount, status, create_time, pay_time, cancel_time) VALUES ($id, '$uid', $p{on},"
              . " '旧订单', 309.00, 1, 309.00, $status, NOW(6) - INTERVAL 1 HOUR, $extra)");
    };
    $ins->(1001, 1, "NOW(6) - INTERVAL 50 MINUTE, NULL");
    $ins->(1002, 2, "NULL, NOW(6) - INTERVAL 40 MINUTE");
    $ins->(1003, 3, "NOW(6) - INTERVAL 30 MINUTE, NULL");
    my $html = $alice->ua->get($alice->base . '/orders/', Accept => 'text/html')->decoded_content;
    my %o;
    for my $piece (split /<li class="order-card/, $html) {
        $o{$1} = $piece if $piece =~ /^[^>]*data-order="(\d+)"/;
    }
    is(scalar keys %o, 4, 'four orders');
    my $badge = sub { $o{$_[0]} =~ m{<span class="badge badge-\w+">([^<]*)</span>} ? $1 : '' };
    is($badge->($order), '待支付', '待支付');
    is($badge->(1001), '已支付', '已支付');
    is($badge->(1002), '已取消', '已取消');
    is($badge->(1003), '已完成', '已完成 (status 3)');
    like($o{1001}, qr{支付时间 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d}, 'a paid order shows its pay time');
    like($o{1002}, qr{取消时间 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d}, 'a cancelled one its cancel time');
    like($o{$order}, qr{剩余支付时间 <span class="countdown" data-until="[^"]+" data-now="[^"]+" data-done="expire">00:0[0-5]:\d\d</span>},
        'the unpaid one counts down its pay window');
    like($o{$order}, qr{<form method="post" action="/order/pay/$order" class="pay"><input type="hidden" name="csrf_token" value="\Q@{[$alice->csrf]}\E"><button type="submit">支付</button>},
        '  支付');
    like($o{$order}, qr{<form method="post" action="/order/cancel/$order" class="cancel"><input type="hidden" name="csrf_token" value="\Q@{[$alice->csrf]}\E"><button type="submit" class="secondary">取消</button>},
        '  取消');
    unlike(join('', @o{1001, 1002, 1003}), qr{<form}, 'the others have no buttons');
    no_external($html, 'orders page');

    my ($res, $d) = $alice->get_json('/orders/');
    my ($c) = grep { $_->{order_id} eq '1003' } @{$d->{orders}};
    is($c->{status}, 'completed', 'JSON: status 3 is completed');
    is($c->{status_text}, '已完成', '  in words');
    ($res, $d) = $alice->get_json('/order/1003');
    is($d->{status}, 'completed', 'GET /order/ID: completed');
};

subtest 'static assets and other pages: nothing from outside' => sub {
    for my $path ('/static/css/shop.css', '/static/js/shop.js') {
        my $res = Apache::TestRequest::GET($path);
        is($res->code, 200, "$path is served");
        my $body = $res->decoded_content;
        ok($body !~ m{https?://|\@import|url\(\s*["']?(?:[a-z]+:)?//}i, "$path loads nothing from outside");
    }
    my $res = $alice->ua->get($alice->base . '/no/such/page', Accept => 'text/html');
    is($res->code, 404, 'a 404 page');
    no_external($res->decoded_content, '404 page');
    like($res->decoded_content, qr{<link rel="stylesheet" href="/static/css/shop.css">}, '  with the shop\'s own stylesheet');
    like($res->decoded_content, qr{<script src="/static/js/shop.js" defer></script>}, '  and script');
};

reset_data();
done_testing();
