# SeckillIdentity ip and remote_user: who buys is the client address (never a header the
# client sets) or the user httpd authenticated; the CSRF token is bound to that identity.
use strict;
use warnings FATAL => 'all';
use utf8;
use Test::More;
use Apache::Test ();
use SeckillTest;
use Shopper;

reset_data();
my $now = time;
my $pid = add_product(name => '身份', start => $now - 60, end => $now + 3600, stock => 10,
    status => 1);
preheat($now - 60);
my $worker = start_worker();

subtest 'SeckillIdentity ip' => sub {
    my $s = Shopper->new(module => 'ip_identity');
    is($s->id, undef, 'no identity cookie is issued');
    ok($s->csrf, 'the page still carries a CSRF token');
    my ($res, $d) = $s->buy($pid);
    is($d->{code}, 'ok', 'a buy from this address') or diag $res->content;
    my $order = $d->{order_id};
    ($res, $d) = $s->buy($pid);
    is($d->{code}, 'already_bought', 'the same address again: already bought');
    $res = $s->ua->post($s->base . "/buy/$pid", Accept => 'application/json',
        'X-CSRF-Token' => $s->csrf, 'X-Forwarded-For' => '203.0.113.9');
    is(json_decode($res->content)->{code}, 'already_bought',
        'X-Forwarded-For does not make another shopper');
    ok(wait_for(15, sub { defined sql("SELECT user_id FROM seckill_orders WHERE id = $order") }),
        'the order is written');
    is(sql("SELECT user_id FROM seckill_orders WHERE id = $order"), '127.0.0.1',
        'its user is the client address');
};

subtest 'SeckillIdentity remote_user' => sub {
    my $anon = Shopper->new(module => 'remote_user_identity', anonymous => 1);
    my $res = $anon->ua->get($anon->base . '/', Accept => 'application/json');
    is($res->code, 401, 'httpd asks for credentials');

    my %shopper;
    for my $user (qw(alice bob)) {
        my $s = Shopper->new(module => 'remote_user_identity', anonymous => 1);
        my ($host) = $s->base =~ m{//(.+)$};
        $s->ua->credentials($host, 'seckill test', $user, "$user-test-password");
        $s->open;
        $shopper{$user} = $s;
    }
    my ($r1, $d1) = $shopper{alice}->buy($pid);
    is($d1->{code}, 'ok', 'alice buys') or diag $r1->content;
    my ($r2, $d2) = $shopper{bob}->buy($pid, csrf => $shopper{alice}->csrf);
    is($r2->code, 403, "bob with alice's CSRF token: 403");
    ($r2, $d2) = $shopper{bob}->buy($pid);
    is($d2->{code}, 'ok', 'bob buys with his own');
    ok(wait_for(15, sub { defined sql("SELECT user_id FROM seckill_orders WHERE id = $d1->{order_id}") }),
        'the order is written');
    is(sql("SELECT user_id FROM seckill_orders WHERE id = $d1->{order_id}"), 'alice',
        'its user is REMOTE_USER');
    my ($res3) = $shopper{bob}->get_json("/order/$d1->{order_id}");
    is($res3->code, 404, "bob cannot see alice's order");
};

stop_worker($worker);
done_testing();
