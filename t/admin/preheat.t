# A product saved in the admin is cached in Redis at once (its slot refilled as the preheat
# does: hash, stock, slot set, Bloom bits and stamp): one starting in 2 minutes is known to
# the buy path right away and sells once its sale starts; one created during its sale sells
# at once; an edit re-caches it, and a product moved to another slot leaves the old one.
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
binmode(Test::More->builder->$_, ":encoding(UTF-8)") for qw(output failure_output todo_output);
use Apache::Test ();
use POSIX qw(strftime);
use Encode ();
use SeckillTest;
use Shopper;
use Admin;

reset_data();
my $admin = Admin->new;
my $worker = start_worker();
my $iso = sub { strftime('%Y-%m-%dT%H:%M:%S', localtime $_[0]) };
my $date = sub { strftime('%Y%m%d', localtime $_[0]) };
# Every httpd child re-reads the Bloom filter within SECKILL_BLOOM_CHECK_MS (250 ms) of a
# change: a product is known to all of them after that (DESIGN.md, the buy path).
sub bloom_check { select(undef, undef, undef, 0.6) }
my %base = (base_price => '59.00', seckill_price => '9.90', stock => 3);

subtest 'starting in 2 minutes: cached now, sells once on sale' => sub {
    my $now = time;
    my $start = $now + 120;
    my $stamp = redis('GET', 'seckill:bloom:version') // '';
    my ($res, $d) = $admin->post_json('/admin/products',
        {%base, name => '两分钟后开抢', start => $iso->($start), end => $iso->($start + 3600)});
    is($res->code, 201, 'created') or diag $res->content;
    my $id = $d->{id};
    ok($d->{cached}, 'the answer says it is cached');
    my %h = redis('HGETALL', "seckill:product:{p$id}");
    is($h{name}, Encode::encode_utf8('两分钟后开抢'), 'the product hash is in Redis');
    is($h{start}, $start, 'with its start');
    is($h{seckill_price}, '9.90', 'and price');
    is(redis('GET', "seckill:stock:{p$id}"), 3, 'its stock too');
    my $slot = slot_of_hour((localtime $start)[2]);
    ok(redis('SISMEMBER', "seckill:slot:" . $date->($start) . ":$slot", $id),
        'it is in its slot set');
    isnt(redis('GET', 'seckill:bloom:version') // '', $stamp, 'the Bloom stamp moved');
    ok(redis('TTL', "seckill:stock:{p$id}") > 3600, 'the keys outlive the sale');

    # the buy path knows it now: not started (a Bloom miss would say no_such_product)
    bloom_check();
    my $s = Shopper->new;
    my ($r1, $b1) = $s->buy($id);
    is($b1->{code}, 'not_started', 'a buy now: not started') or diag $r1->content;
    my ($r2, $listing) = get_json("/?slot=$slot");
    is($r2->header('X-Seckill-Cache'), 'hit', 'the listing of its slot is served from Redis');
    ok((grep { $_->{id} == $id } @{$listing->{products}}), 'and shows it');

    # brought forward to start in 2 seconds: re-cached at once, then it sells
    my $soon = time + 2;
    ($res, $d) = $admin->put_json("/admin/products/$id", {start => $iso->($soon)});
    is($res->code, 200, 'start moved to in 2 s') or diag $res->content;
    is(redis('HGET', "seckill:product:{p$id}", 'start'), $soon, 'the cached start follows');
    sleep 1 while time < $soon;
    my ($r3, $b3) = $s->buy($id);
    is($b3->{code}, 'ok', 'on sale: the buy succeeds') or diag $r3->content;
    ok(wait_for(15, sub { sql("SELECT COUNT(*) FROM seckill_orders WHERE goods_id = $id") == 1 }),
        'the worker writes the order');
    is(redis('GET', "seckill:stock:{p$id}"), 2, 'Redis stock 2');
    is(sql("SELECT stock FROM seckill_products WHERE id = $id"), 2, 'MySQL stock 2');
};

subtest 'created during its sale: sells at once' => sub {
    my $now = time;
    my ($res, $d) = $admin->post_json('/admin/products',
        {%base, name => '进行中新建', start => $iso->($now - 30), end => $iso->($now + 3600)});
    is($res->code, 201, 'created') or diag $res->content;
    is($d->{product}{status}, 1, 'status 1: on sale');
    is(sql("SELECT status FROM seckill_products WHERE id = $d->{id}"), 1, 'in MySQL too');
    bloom_check();
    my ($r, $b) = Shopper->new->buy($d->{id});
    is($b->{code}, 'ok', 'the first buy succeeds') or diag $r->content;
};

subtest 'an edit during the sale re-caches the product' => sub {
    my $now = time;
    my ($res, $d) = $admin->post_json('/admin/products',
        {%base, name => '改价', start => $iso->($now - 30), end => $iso->($now + 3600)});
    my $id = $d->{id};
    bloom_check();
    ($res, $d) = $admin->put_json("/admin/products/$id", {seckill_price => '5.00', name => '改价后'});
    is($res->code, 200, 'edited');
    is(redis('HGET', "seckill:product:{p$id}", 'seckill_price'), '5.00', 'the cached price follows');
    is(redis('HGET', "seckill:product:{p$id}", 'name'), Encode::encode_utf8('改价后'),
        'and the name');
    my $s = Shopper->new;
    my ($r, $b) = $s->buy($id);
    is($b->{code}, 'ok', 'a buy') or diag $r->content;
    ok(wait_for(15, sub { defined sql("SELECT seckill_price FROM seckill_orders WHERE goods_id = $id") }),
        'its order is written');
    is(sql("SELECT seckill_price FROM seckill_orders WHERE goods_id = $id"), '5.00',
        'at the new price');

    # ended by an edit: no more sales
    ($res) = $admin->put_json("/admin/products/$id", {end => $iso->(time - 1), start => $iso->($now - 60)});
    is($res->code, 200, 'ended now by an edit');
    is(sql("SELECT status FROM seckill_products WHERE id = $id"), 2, 'status 2');
    ($r, $b) = Shopper->new->buy($id);
    is($b->{code}, 'ended', 'a buy after: ended') or diag $r->content;

};

subtest 'moved to another slot: the old slot forgets it' => sub {
    my $now = time;
    my $start = $now + 600;
    my ($res, $d) = $admin->post_json('/admin/products',
        {%base, name => '挪场次', start => $iso->($start), end => $iso->($start + 600)});
    my $id = $d->{id};
    bloom_check();
    my $old = "seckill:slot:" . $date->($start) . ':' . slot_of_hour((localtime $start)[2]);
    ok(redis('SISMEMBER', $old, $id), 'cached in its slot');
    my $later = $start + 86400;
    ($res, $d) = $admin->put_json("/admin/products/$id",
        {start => $iso->($later), end => $iso->($later + 600)});
    is($res->code, 200, 'moved to tomorrow');
    ok(!redis('SISMEMBER', $old, $id), 'the old slot set no longer holds it');
    my $new = "seckill:slot:" . $date->($later) . ':' . slot_of_hour((localtime $later)[2]);
    ok(redis('SISMEMBER', $new, $id), 'the new one does');
    my ($r, $listing) = get_json('/?slot=' . slot_of_hour((localtime $start)[2]));
    ok(!(grep { $_->{id} == $id } @{$listing->{products}}), "today's listing does not show it");
    ($r, my $b) = Shopper->new->buy($id);
    is($b->{code}, 'not_started', 'a buy: not started (tomorrow)');
};

subtest 'a slot listed before the product existed shows it' => sub {
    my $t = time + 86400 * 2;
    my $slot = slot_of_hour((localtime $t)[2]);
    my $key = 'seckill:slot:' . $date->($t) . ":$slot";
    redis('SADD', $key, '-'); # cached empty, as a listing of that slot leaves it
    my ($res, $d) = $admin->post_json('/admin/products',
        {%base, name => '后天', start => $iso->($t), end => $iso->($t + 600)});
    ok(redis('SISMEMBER', $key, $d->{id}), 'the cached slot now lists it');
};

stop_worker($worker);
done_testing();
