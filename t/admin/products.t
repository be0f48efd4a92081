# Products in the admin: the list and its filters, create by form and by JSON (201, id,
# Location, the row in MySQL), a clear message per bad field with nothing written, edits,
# and hostile input (huge ids, bad JSON, oversized bodies, wrong types) refused unchanged.
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
binmode(Test::More->builder->$_, ":encoding(UTF-8)") for qw(output failure_output todo_output);
use Apache::Test ();
use POSIX qw(strftime);
use Encode ();
use URI::Escape qw(uri_escape_utf8);
use JSON::PP ();
use HTTP::Request ();
use SeckillTest;
use Admin;

reset_data();
my $admin = Admin->new;
my $now = time;
my $iso = sub { strftime('%Y-%m-%dT%H:%M:%S', localtime $_[0]) };
my $rows = sub { sql('SELECT COUNT(*) FROM seckill_products') };
# A state of the products table, to prove a refused request changed nothing.
my $table = sub { join "\n", map { join "\t", @$_ } sql_rows('SELECT * FROM seckill_products ORDER BY id') };

# a form's fields: the good ones with some changed (each field once)
my $form = sub { my %f = (%{$_[0]}, @_[1 .. $#_]); [map { ($_ => $f{$_}) } sort keys %f] };
my %good = (name => '蓝牙耳机 Pro', image => '/static/product_img/robot.svg',
    base_price => '299.00', seckill_price => '199.50', stock => 30,
    start => $iso->($now + 3 * 3600), end => $iso->($now + 5 * 3600));

subtest 'create by JSON: 201, id, Location, the row' => sub {
    my ($res, $d) = $admin->post_json('/admin/products', {%good});
    is($res->code, 201, '201 Created') or diag $res->content;
    like($d->{id}, qr/^\d+$/, 'the new id');
    like($res->header('Location') // '', qr{^http://[^/]+/admin/products/$d->{id}$},
        'Location names the product');
    my @row = sql_rows("SELECT name, image, base_price, seckill_price, stock, status,"
          . " seckill_start_time, seckill_end_time FROM seckill_products WHERE id = $d->{id}");
    is_deeply(\@row, [[Encode::encode_utf8($good{name}), $good{image}, '299.00', '199.50', 30, 0,
        mysql_datetime($now + 3 * 3600) . '.000000', mysql_datetime($now + 5 * 3600) . '.000000']],
        'the row in MySQL, as sent');
    is($d->{product}{stock}, 30, 'the answer carries the product: stock put on sale');
    is($d->{product}{sold}, 0, 'nothing sold');
    is($d->{product}{status_text}, '未开始', 'not started');

    # JSON numbers are taken for prices and stock as well
    ($res, $d) = $admin->post_json('/admin/products',
        {%good, name => '数字价格', base_price => 10, seckill_price => 9.5, stock => 7});
    is($res->code, 201, 'numbers for prices and stock: 201') or diag $res->content;
    is(sql("SELECT CONCAT(base_price, '/', seckill_price, '/', stock) FROM seckill_products"
          . " WHERE id = $d->{id}"), '10.00/9.50/7', 'stored with two decimals');

    # no image: the default picture
    my %noimg = %good;
    delete $noimg{image};
    ($res, $d) = $admin->post_json('/admin/products', {%noimg, name => '无图'});
    is($res->code, 201, 'without an image: 201');
    is(sql("SELECT image FROM seckill_products WHERE id = $d->{id}"),
        '/static/product_img/robot.svg', 'the default image');
};

subtest 'create by form: 303 to the product, then its page' => sub {
    my $before = $rows->();
    my $res = $admin->post_form('/admin/products', $form->(\%good, name => '表单商品', stock => 12));
    is($res->code, 303, 'a form create answers 303 See Other') or diag $res->content;
    my ($id) = ($res->header('Location') // '') =~ m{/admin/products/(\d+)\?created=1$};
    ok($id, 'to the new product page');
    is($rows->(), $before + 1, 'one more row');
    is(sql("SELECT stock FROM seckill_products WHERE id = $id"), 12, 'with its stock');
    my $page = $admin->get_page("/admin/products/$id?created=1");
    is($page->code, 200, 'the product page');
    like($page->decoded_content, qr/商品已创建/, 'says it was created');
    like($page->decoded_content, qr/value="表单商品"/, 'the form holds the values');
    like($page->decoded_content, qr/name="csrf_token" value="[A-Za-z0-9_-]{43}"/,
        'and the admin token');
};

subtest 'validation: a message per field, nothing written' => sub {
    my $state = $table->();
    my %bad = (
        name => ['', '   ', 'x' x 65, "ctl\x01"],
        image => ['/etc/passwd', 'javascript:alert(1)', '/static/../x', '/static/' . ('a' x 130)],
        base_price => ['0', '-1', '12.345', 'abc', '100000000'],
        seckill_price => ['0.00', '1e2', '300.00'],    # 300 > base 299
        stock => ['-1', '1.5', '1000001', 'lots'],
        start => ['tomorrow', '2026-02-30T10:00', ''],
        end => [$iso->($now + 2 * 3600), $iso->($now - 60), 'x'],
    );
    for my $field (sort keys %bad) {
        for my $value (@{$bad{$field}}) {
            my ($res, $d) = $admin->post_json('/admin/products', {%good, $field => $value});
            is($res->code, 422, "$field = '$value': 422");
            ok($d->{errors}{$field}, "  with a message for $field: " . ($d->{errors}{$field} // ''));
            is(scalar keys %{$d->{errors} // {}}, 1, '  and for no other field');
        }
    }
    my ($res, $d) = $admin->post_json('/admin/products', {});
    is($res->code, 422, 'an empty object: 422');
    is_deeply([sort keys %{$d->{errors}}],
        [sort qw(name base_price seckill_price stock start end)], 'every required field named');
    is($d->{code}, 'invalid', 'code invalid');
    like($d->{errors}{seckill_price}, qr/请填写/, 'in Chinese');

    ($res, $d) = $admin->post_json('/admin/products', {%good, seckill_price => '300.00'});
    is($d->{errors}{seckill_price}, '秒杀价不能高于原价', 'seckill above base is named so');
    ($res, $d) = $admin->post_json('/admin/products', {%good, end => $good{start}});
    is($d->{errors}{end}, '结束时间须晚于开始时间', 'end before start is named so');

    # the same through the form: the page again, with the values as typed and the messages
    my $page = $admin->post_form('/admin/products', $form->(\%good, name => '', base_price => 'abc'));
    is($page->code, 422, 'a form with bad fields: 422');
    my $html = $page->decoded_content;
    like($html, qr/请填写商品名称/, 'the name message');
    like($html, qr/价格须为正数/, 'the price message');
    like($html, qr/value="abc"/, 'the value as typed');
    like($html, qr/aria-invalid="true"/, 'the bad inputs are marked');
    is($table->(), $state, 'nothing was written');
};

subtest 'list and filters' => sub {
    reset_data();
    my ($s10, $e10) = slot_window(10);
    my ($s20, $e20) = slot_window(20);
    my $tomorrow = strftime('%Y-%m-%d', localtime($now + 86400));
    my $pa = add_product(name => '十点 苹果', start => $s10 + 60, end => $e10, status => 0);
    my $pb = add_product(name => '十点 香蕉', start => $s10 + 120, end => $e10, status => 2);
    my $pc = add_product(name => '晚八点 苹果', start => $s20, end => $e20, status => 1);
    my $pd = add_product(name => '100%_off 特价', start => $s20 + 60, end => $e20, status => 1);
    my $pe = add_product(name => '明天', start => $s10 + 86400, end => $e10 + 86400);
    my $ids = sub {
        my ($q) = @_;
        my ($res, $data) = $admin->get_json("/admin/products$q");
        is($res->code, 200, "GET /admin/products$q: 200") or diag $res->content;
        return join ',', sort { $a <=> $b } map { $_->{id} } @{$data->{products}};
    };
    my $today = strftime('%Y-%m-%d', localtime $now);
    is($ids->(''), join(',', $pa, $pb, $pc, $pd, $pe), 'all');
    is($ids->('?status=1'), join(',', $pc, $pd), 'status=1');
    is($ids->('?status=2'), "$pb", 'status=2');
    is($ids->("?date=$today&slot=10"), join(',', $pa, $pb), 'today 10:00');
    is($ids->('?slot=20'), join(',', $pc, $pd), 'slot alone: today');
    is($ids->("?date=$tomorrow"), "$pe", 'tomorrow, all day');
    is($ids->('?q=' . uri_escape_utf8('苹果')), join(',', $pa, $pc), 'name search');
    is($ids->('?q=%25_off'), "$pd", '% and _ are searched as themselves');
    is($ids->('?q=_'), "$pd", 'a lone _ matches only a real _');
    is($ids->("?status=0&date=$today&slot=10&q=" . uri_escape_utf8('苹果')), "$pa",
        'filters combine');
    is($ids->('?q=nothing'), '', 'no match: empty');

    my ($res, $data) = $admin->get_json('/admin/products?slot=20');
    my ($p) = grep { $_->{id} == $pc } @{$data->{products}};
    is($p->{name}, '晚八点 苹果', 'a product as JSON: name');
    is($p->{stock}, 50, 'stock put on sale');
    is($p->{base_price}, '399.00', 'prices as strings');
    like($p->{start}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/, 'ISO 8601 times');
    is($data->{filters}{slot}, '20', 'the filters come back');

    my $page = $admin->get_page("/admin/products?status=1&q=" . uri_escape_utf8('苹果'));
    my $html = $page->decoded_content;
    like($html, qr/晚八点 苹果/, 'the HTML list shows the match');
    unlike($html, qr/十点 香蕉/, 'and not the others');
    like($html, qr/<option value="1" selected>/, 'the status filter stays selected');
    like($html, qr/value="苹果"/, 'the search stays in its box');

    for my $bad ('?status=5', '?slot=9', '?date=2026-13-01', '?page=0', '?q=%zz',
        '?status=1&status=2', '?q=' . ('x' x 65)) {
        my ($r2, $d2) = $admin->get_json("/admin/products$bad");
        is($r2->code, 400, "bad filter $bad: 400");
        ok($d2->{msg}, "  says why: $d2->{msg}");
    }
};

subtest 'paging' => sub {
    reset_data();
    my ($s, $e) = slot_window(12);
    add_product(name => "p$_", start => $s + $_, end => $e) for 1 .. 55;
    my ($res, $d) = $admin->get_json('/admin/products');
    is(scalar @{$d->{products}}, 50, 'a page holds 50');
    like($d->{next_url} // '', qr{/admin/products\?page=2$}, 'a next page');
    is($d->{prev_url}, undef, 'no previous page');
    ($res, $d) = $admin->get_json('/admin/products?page=2');
    is(scalar @{$d->{products}}, 5, 'page 2 holds the rest');
    is($d->{next_url}, undef, 'and is the last');
    ($res, $d) = $admin->get_json('/admin/products?q=p&page=2');
    like($d->{prev_url}, qr{\?q=p&page=1$}, 'the filters stay in the page links');
};

subtest 'edit' => sub {
    reset_data();
    my ($res, $d) = $admin->post_json('/admin/products', {%good});
    my $id = $d->{id};
    ($res, $d) = $admin->put_json("/admin/products/$id", {name => '改名了', seckill_price => '99'});
    is($res->code, 200, 'PUT with some fields: 200') or diag $res->content;
    is($d->{product}{name}, '改名了', 'renamed');
    is(sql("SELECT CONCAT(seckill_price, '/', base_price, '/', stock) FROM seckill_products"
          . " WHERE id = $id"), '99.00/299.00/30', 'fields not given keep their value');

    ($res, $d) = $admin->post_json("/admin/products/$id", {stock => 40});
    is($res->code, 200, 'POST to the product edits too');
    is(sql("SELECT stock FROM seckill_products WHERE id = $id"), 40, 'stock 40');

    # GET, change, send it back whole (read-only fields are ignored)
    ($res, $d) = $admin->get_json("/admin/products/$id");
    is($res->code, 200, 'GET one product');
    my %p = %{$d->{product}};
    $p{base_price} = '399.00';
    ($res, $d) = $admin->put_json("/admin/products/$id", \%p);
    is($res->code, 200, 'a product sent back as it was read: 200') or diag $res->content;
    is(sql("SELECT CONCAT(base_price, '/', stock) FROM seckill_products WHERE id = $id"),
        '399.00/40', 'only the change applied (stock unchanged)');

    my $state = $table->();
    ($res, $d) = $admin->put_json("/admin/products/$id", {seckill_price => '400.00'});
    is($res->code, 422, 'an edit breaking a rule: 422');
    is($d->{errors}{seckill_price}, '秒杀价不能高于原价', 'against the stored base price');
    ($res, $d) = $admin->put_json("/admin/products/$id", {name => ''});
    is($res->code, 422, 'an empty name: 422');
    is($table->(), $state, 'nothing written');

    # the form
    my $fres = $admin->post_form("/admin/products/$id", $form->(\%good, name => '表单改名', stock => 41));
    is($fres->code, 303, 'a form edit: 303');
    like($fres->header('Location') // '', qr{/admin/products/$id\?saved=1$}, 'back to the product');
    is(sql("SELECT CONCAT(name, '/', stock) FROM seckill_products WHERE id = $id"),
        Encode::encode_utf8('表单改名/41'), 'written');
    my $page = $admin->get_page("/admin/products/$id?saved=1");
    like($page->decoded_content, qr/修改已保存/, 'the page says saved');
    like($page->decoded_content, qr/库存总量/, 'the stock field is the units put on sale');

    ($res, $d) = $admin->put_json('/admin/products/999999999', {name => 'x'});
    is($res->code, 404, 'editing an unknown product: 404');
    ($res) = $admin->get_json('/admin/products/999999999');
    is($res->code, 404, 'GET an unknown product: 404');
};

subtest 'hostile input' => sub {
    my $state = $table->();
    for my $id ('99999999999999999999', '0', '-1', '1e3', 'abc', '01x', '1.5') {
        my ($res) = $admin->get_json("/admin/products/$id");
        is($res->code, 400, "GET /admin/products/$id: 400");
        ($res) = $admin->put_json("/admin/products/$id", {name => 'x'});
        is($res->code, 400, "PUT /admin/products/$id: 400");
    }
    my ($res) = $admin->get_json('/admin/products/999999999999999999');
    is($res->code, 404, 'the largest id: 404');

    for my $body ('{', '[1,2]', '"x"', 'null', '{"name":"a"} trailing', "\xff\xfe", '',
        '{"name": "a",}', ('[' x 100) . (']' x 100)) {
        my ($r, $d) = $admin->post_json('/admin/products', $body);
        is($r->code, 400, "bad JSON " . substr($body, 0, 20) . ": 400");
        is($d->{code}, 'bad_request', '  code bad_request');
    }
    my ($r, $d) = $admin->post_json('/admin/products', {%good, color => 'red'});
    is($r->code, 422, 'an unknown field: 422');
    is($d->{errors}{color}, '未知字段', '  named');
    ($r, $d) = $admin->post_json('/admin/products', {%good, name => [1], stock => JSON::PP::true});
    is($r->code, 422, 'wrong types: 422');
    ok($d->{errors}{name} && $d->{errors}{stock}, '  both named');
    ($r, $d) = $admin->post_json('/admin/products', '{"name":"a\u0000b","base_price":"1",'
          . '"seckill_price":"1","stock":1,"start":"' . $good{start} . '","end":"' . $good{end} . '"}');
    is($r->code, 422, 'a NUL inside a string: 422');

    ($r) = $admin->post_json('/admin/products', { %good, name => 'x' x 20000 });
    is($r->code, 413, 'a body over 16 KB: 413');
    my ($code) = $admin->raw('POST', '/admin/products', ['Content-Type: application/json'],
        'x' x (2 * 1024 * 1024));
    is($code, 413, '2 MB: 413');
    my $chunked = join('', map { sprintf("%x\r\n%s\r\n", 65536, 'a' x 65536) } 1 .. 16) . "0\r\n\r\n";
    ($code) = $admin->raw('PUT', '/admin/products/1', ['Content-Type: application/json',
        'Transfer-Encoding: chunked'], $chunked);
    is($code, 413, '1 MB chunked: 413');
    ($r) = $admin->post_json('/admin/products', {%good}, content_type => 'text/plain');
    is($r->code, 415, 'another media type: 415');

    my $twice = $admin->post_form('/admin/products', [@{$form->(\%good)}, name => 'b']);
    is($twice->code, 400, 'a form field given twice: 400');

    for my $m (qw(DELETE PATCH)) {
        my $req = HTTP::Request->new($m => $admin->base . '/admin/products/1',
            [Accept => 'application/json']);
        my $x = $admin->ua->request($req);
        is($x->code, 405, "$m: 405");
        like($x->header('Allow') // '', qr/PUT/, '  Allow names the methods');
    }
    ($r) = $admin->post_json('/admin/orders', {});
    is($r->code, 405, 'POST /admin/orders: 405');
    ($r) = $admin->get_json('/admin/nowhere');
    is($r->code, 404, 'an unknown admin page: 404');

    # markup in a name is shown as text, never as markup
    ($r, $d) = $admin->post_json('/admin/products', {%good, name => '<script>alert(1)</script>'});
    is($r->code, 201, 'a name with markup is just a name');
    my $page = $admin->get_page("/admin/products/$d->{id}");
    unlike($page->decoded_content, qr/<script>alert/, 'escaped on the page');
    like($page->decoded_content, qr/&lt;script&gt;alert/, 'as text');
    sql("DELETE FROM seckill_products WHERE id = $d->{id}");
    is($table->(), $state, 'the refused requests changed nothing');
};

done_testing();
