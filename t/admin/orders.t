# Orders in the admin: the list, newest first, and its filters (status, product, user, date),
# as JSON and as a page; bad filters are refused with the parameter named.
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
binmode(Test::More->builder->$_, ":encoding(UTF-8)") for qw(output failure_output todo_output);
use Apache::Test ();
use POSIX qw(strftime);
use URI::Escape qw(uri_escape_utf8);
use SeckillTest;
use Admin;

reset_data();
my $admin = Admin->new;
my $now = time;
my $p1 = add_product(name => '订单甲', start => $now - 60, end => $now + 3600, status => 1);
my $p2 = add_product(name => '订单乙', start => $now - 60, end => $now + 3600, status => 1);
my $today = strftime('%Y-%m-%d', localtime $now);
my $yesterday = strftime('%Y-%m-%d', localtime($now - 86400));

# id, user, product, status, created
my @orders = (
    [1001, 'alice', $p1, 0, $now - 10],
    [1002, 'bob', $p1, 1, $now - 20],
    [1003, 'alice', $p2, 2, $now - 30],
    [1004, 'carol&co', $p2, 1, $now - 86400],
);
for my $o (@orders) {
    my ($id, $user, $pid, $status, $t) = @$o;
    sql("INSERT INTO seckill_orders (id, user_id, goods_id, goods_name, seckill_price, quantity,"
          . " total_amount, status, create_time) SELECT $id, '$user', id, name, seckill_price, 1,"
          . " seckill_price, $status, '" . mysql_datetime($t) . "' FROM seckill_products WHERE id = $pid");
}

my $ids = sub {
    my ($q) = @_;
    my ($res, $d) = $admin->get_json("/admin/orders$q");
    is($res->code, 200, "GET /admin/orders$q: 200") or diag $res->content;
    return join ',', map { $_->{order_id} } @{$d->{orders}};
};
is($ids->(''), '1001,1002,1003,1004', 'all, newest first');
is($ids->('?status=1'), '1002,1004', 'paid');
is($ids->("?product=$p2"), '1003,1004', 'of one product');
is($ids->('?user=alice'), '1001,1003', 'of one user');
is($ids->('?user=' . uri_escape_utf8('carol&co')), '1004', 'a user id with & in it');
is($ids->("?date=$today"), '1001,1002,1003', 'of today');
is($ids->("?date=$yesterday"), '1004', 'of yesterday');
is($ids->("?status=0&user=alice&product=$p1&date=$today"), '1001', 'filters combine');
is($ids->('?user=nobody'), '', 'no match: empty');

my ($res, $d) = $admin->get_json('/admin/orders?user=bob');
my $o = $d->{orders}[0];
is($o->{order_id}, '1002', 'order ids are strings (64-bit)');
is($o->{user_id}, 'bob', 'user');
is($o->{product_id}, $p1, 'product id');
is($o->{product_name}, '订单甲', 'product name at order time');
is($o->{total_amount}, '309.00', 'amount');
is($o->{status}, 1, 'status');
is($o->{status_text}, '已支付', 'in words');
like($o->{created}, qr/^\d{4}-\d\d-\d\dT/, 'ISO 8601');

my $page = $admin->get_page('/admin/orders?status=2');
is($page->code, 200, 'the orders page');
my $html = $page->decoded_content;
like($html, qr/订单管理/, 'titled');
like($html, qr/1003/, 'shows the cancelled order');
unlike($html, qr/1002/, 'and not the paid one');
like($html, qr/已取消/, 'its status in words');
like($html, qr{href="/admin/products/$p2"}, 'links to its product');
$page = $admin->get_page('/admin/orders');
like($page->decoded_content, qr{href="/admin/orders\?user=carol%26co"}, 'user links are escaped');

for my $bad ('?status=9', '?product=0', '?product=abc', '?product=9999999999999999999',
    '?date=yesterday', '?user=' . ('u' x 65), '?page=99999', '?user=a&user=b') {
    my ($r, $x) = $admin->get_json("/admin/orders$bad");
    is($r->code, 400, "bad filter $bad: 400");
    ok($x->{msg}, "  says why: " . ($x->{msg} // ''));
}

done_testing();
