# Editing the stock of a product on sale. `stock` in the admin is the units put on sale; an
# edit moves MySQL's and Redis's stock by the same delta under the product's row lock and
# never below what is sold, orders still queued included (Redis knows those, MySQL not yet).
# So after the worker drains the queue, Redis stock = MySQL stock, and nothing is oversold:
# with queued orders, after the queue drained, and in the middle of a stampede.
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
binmode(Test::More->builder->$_, ":encoding(UTF-8)") for qw(output failure_output todo_output);
use Apache::Test ();
use SeckillTest;
use Shopper;
use Stampede;
use Audit;
use Admin;

reset_data();
my $admin = Admin->new;
my $now = time;
my $mark = Audit::log_mark();
my $stock = sub { my ($id) = @_;
    (redis('GET', "seckill:stock:{p$id}"), sql("SELECT stock FROM seckill_products WHERE id = $id")) };
my $orders = sub { sql("SELECT COUNT(*) FROM seckill_orders WHERE goods_id = $_[0] AND status <> 2") };

subtest 'orders still queued count as sold' => sub {
    my $id = add_product(name => '排队中', start => $now - 60, end => $now + 3600, stock => 10,
        status => 1);
    preheat($now - 60);
    # no worker: four sales wait in the queue, MySQL does not know them yet
    for (1 .. 4) {
        my ($res, $d) = Shopper->new->buy($id);
        is($d->{code}, 'ok', "sale $_") or diag $res->content;
    }
    is_deeply([$stock->($id)], [6, 10], 'Redis 6 left, MySQL still 10');
    my ($res, $d) = $admin->get_json("/admin/products/$id");
    is($d->{product}{stock}, 10, 'the admin shows 10 put on sale');
    is($d->{product}{live_stock}, 6, '6 left live in Redis');

    ($res, $d) = $admin->put_json("/admin/products/$id", {stock => 3});
    is($res->code, 422, 'down to 3 while 4 are sold: 422');
    like($d->{errors}{stock}, qr/已售出 4 件/, 'the message counts the queued sales');
    is_deeply([$stock->($id)], [6, 10], 'nothing changed');

    ($res, $d) = $admin->put_json("/admin/products/$id", {stock => 4});
    is($res->code, 200, 'down to exactly the 4 sold: 200') or diag $res->content;
    is_deeply([$stock->($id)], [0, 4], 'Redis 0, MySQL 4 (its 4 orders still to come)');
    my ($r2, $b2) = Shopper->new->buy($id);
    is($b2->{code}, 'sold_out', 'no unit left to sell');

    ($res, $d) = $admin->put_json("/admin/products/$id", {stock => 9});
    is($res->code, 200, 'up to 9: 200');
    is_deeply([$stock->($id)], [5, 9], 'both moved by +5');

    # a page edit that leaves the stock field as shown moves nothing
    my $page = $admin->get_page("/admin/products/$id");
    like($page->decoded_content, qr/name="stock" value="9"/, 'the form shows 9 put on sale');
    my $fres = $admin->post_form("/admin/products/$id", [name => '排队中（改名）',
        image => '/static/product_img/robot.svg', base_price => '399.00', seckill_price => '309.00',
        stock => 9, start => $d->{product}{start}, end => $d->{product}{end}]);
    is($fres->code, 303, 'a form edit of the name') or diag $fres->decoded_content;
    is_deeply([$stock->($id)], [5, 9], 'the stock did not move');

    my $worker = start_worker();
    ok(Audit::drain([$id]), 'the worker drains the queue: Redis stock = MySQL stock');
    is_deeply([$stock->($id)], [5, 5], 'both 5');
    is($orders->($id), 4, 'its 4 orders');
    stop_worker($worker);

    # now the sales are in MySQL: its own guard holds too
    ($res, $d) = $admin->put_json("/admin/products/$id", {stock => 3});
    is($res->code, 422, 'down to 3 with 4 orders written: 422');
    like($d->{errors}{stock}, qr/已售出 4 件/, 'named');
    ($res, $d) = $admin->get_json("/admin/products/$id");
    is($d->{product}{sold}, 4, 'the admin shows 4 sold');
    is($d->{product}{stock_left}, 5, '5 left');
};

subtest 'stock edits in the middle of a stampede' => sub {
    my $worker = start_worker();
    my $total = 100;
    my (@applied, @refused);
    my ($initial, $answers, $pids) = Audit::stampede(tag => 61, stock => [$total],
        buyers => 400, procs => 8, during => sub {
            # the product of this stampede: the newest one
            my $pid = sql('SELECT MAX(id) FROM seckill_products');
            for my $delta (+30, -20, +15, -10, +25, -500, +5) {
                my $want = $total + $delta;
                $want = 0 if $want < 0;
                my ($res, $d) = $admin->put_json("/admin/products/$pid", {stock => $want});
                if ($res->code == 200) {
                    $total = $want;
                    push @applied, $delta;
                } elsif ($res->code == 422) {
                    push @refused, $delta;
                } else {
                    diag 'edit answered ' . $res->code . ': ' . $res->content;
                }
                select(undef, undef, undef, 0.05);
            }
        });
    my ($pid) = @$pids;
    note('edits applied: ' . join(' ', @applied) . '; refused: ' . join(' ', @refused));
    ok(@applied >= 5, 'the edits went through during the sale');
    ok((grep { $_ == -500 } @refused), 'taking more than is left is refused');
    # the units put on sale are now $total: the audit holds the product to that
    Audit::audit(label => 'stock edits', initial => {$pid => $total}, answers => $answers);
    my ($redis, $mysql) = $stock->($pid);
    is($mysql + $orders->($pid), $total, "MySQL stock + orders = the $total units put on sale");
    my ($res, $d) = $admin->get_json("/admin/products/$pid");
    is($d->{product}{stock}, $total, 'the admin shows them');
    is($d->{product}{live_stock}, $redis, 'and the live stock');
    stop_worker($worker);
};

is_deeply([Audit::crashes($mark)], [], 'no httpd child crashed');
done_testing();
