# The admin is httpd's Basic auth first (401 without, with a wrong password, or for a shopper
# of another password file), and every write carries the admin's CSRF token, bound to
# REMOTE_USER: a refused request writes nothing.
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
binmode(Test::More->builder->$_, ":encoding(UTF-8)") for qw(output failure_output todo_output);
use Apache::Test ();
use Apache::TestRequest ();
use SeckillTest;
use Shopper;
use Admin;

reset_data();
my $now = time;
my %product = (name => '认证测试', base_price => '10.00', seckill_price => '9.00', stock => 5,
    start => mysql_datetime($now + 3600), end => mysql_datetime($now + 7200));
my $count = sub { sql('SELECT COUNT(*) FROM seckill_products') };

subtest 'no entry without credentials' => sub {
    my $anon = Admin->new(anonymous => 1);
    for my $path ('/admin/', '/admin/products', '/admin/orders', '/admin/products/new',
        '/admin/products/1') {
        my $res = $anon->get_page($path);
        is($res->code, 401, "GET $path: 401");
        like($res->header('WWW-Authenticate') // '', qr/Basic realm="mod_seckill admin"/,
            'httpd asks for Basic credentials');
    }
    my ($res) = $anon->post_json('/admin/products', {%product}, csrf => 'x');
    is($res->code, 401, 'POST without credentials: 401');
    is(Admin->new(password => 'wrong')->get_page('/admin/')->code, 401, 'a wrong password: 401');
    # alice is a user of the shop's remote_user test host (t/conf/htpasswd), not an admin
    is(Admin->new(user => 'alice', password => 'alice-test-password')->get_page('/admin/')->code,
        401, 'a shopper of another password file: 401');
    is($count->(), 0, 'nothing was written');
};

subtest 'the admin is in' => sub {
    my $admin = Admin->new;
    my $res = $admin->get_page('/admin/');
    is($res->code, 200, 'GET /admin/: 200');
    like($res->decoded_content, qr/商品管理/, 'the product list, in Chinese');
    like($res->decoded_content, qr{href="/static/css/admin\.css"}, 'its own stylesheet, from htdocs');
    unlike($res->decoded_content, qr{https?://(?!127\.0\.0\.1|localhost)[^"]+\.(?:css|js)}, 'no CDN');
    like($res->decoded_content, qr/name="viewport"/, 'made for phones too');
    like($res->header('Content-Type'), qr{text/html}, 'HTML for a browser');
    is($res->header('X-Frame-Options'), 'DENY', 'never in a frame');
    is($res->header('Cache-Control'), 'no-store', 'never cached');
    my $plain = $admin->ua->get($admin->base . '/admin', Accept => 'text/html');
    is($plain->code, 301, '/admin redirects ...');
    like($plain->header('Location') // '', qr{/admin/$}, '... to /admin/');
    my $css = $admin->ua->get($admin->base . '/static/css/admin.css');
    is($css->code, 200, 'admin.css is served');
    my ($r2, $d) = $admin->get_json('/admin/products');
    is($r2->code, 200, 'JSON list: 200');
    like($d->{csrf_token} // '', qr/^[A-Za-z0-9_-]{43}$/, 'it carries the admin CSRF token');
    is($d->{admin_user}, 'admin', 'and who is logged in');
};

subtest 'CSRF: writes need the admin token of this user' => sub {
    my $admin = Admin->new;
    my ($res, $d) = $admin->post_json('/admin/products', {%product}, csrf => undef);
    is($res->code, 403, 'JSON create without X-CSRF-Token: 403');
    is($d->{code}, 'forbidden', 'code forbidden');
    ($res) = $admin->post_json('/admin/products', {%product}, csrf => 'A' x 43);
    is($res->code, 403, 'a forged token: 403');

    # a shopper's CSRF token (same secret, another purpose) is no admin token
    my $shopper = Shopper->new;
    ($res) = $admin->post_json('/admin/products', {%product}, csrf => $shopper->csrf);
    is($res->code, 403, "a shopper's CSRF token: 403");

    $res = $admin->post_form('/admin/products',
        [map { ($_ => $product{$_}) } sort keys %product], csrf => undef);
    is($res->code, 403, 'a form without csrf_token: 403');
    like($res->decoded_content, qr/页面已过期/, 'the page says why');
    $res = $admin->post_form('/admin/products',
        [map { ($_ => $product{$_}) } sort keys %product], csrf => 'wrong');
    is($res->code, 403, 'a form with a wrong csrf_token: 403');
    is($count->(), 0, 'nothing was written');

    ($res, $d) = $admin->post_json('/admin/products', {%product});
    is($res->code, 201, 'with the token: created') or diag $res->content;
    is($count->(), 1, 'one product');
};

done_testing();
