# A buy.lua that Redis cannot compile (the broken_script virtual host: scripts/test.sh gives it
# the shipped scripts with buy.lua broken). The buy's EVALSHA meets NOSCRIPT, the pool's way
# loads the script and Redis refuses it: the buy answers 503 at once, and the error log names
# Redis's compile error (SK0503), not a NOSCRIPT. Nothing is sold, and nothing is fenced either:
# a NOSCRIPT says the script did not run, so the buy's outcome is known (mod_seckill/buy.c).
# That error reply belongs to the request's pool (lib/lua.c); the child serves on.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use SeckillTest;
use Shopper;
use Audit;

reset_data();
my $now = time;
my $pid = add_product(name => 'broken script', start => $now - 60, end => $now + 3600,
    stock => 5, status => 1);
preheat($now - 60);
my $mark = Audit::log_mark();

my $shopper = Shopper->new(module => 'broken_script');
isnt($shopper->base, Shopper->new->base, 'through the broken_script virtual host');
for my $try (1 .. 3) {
    my ($res, $d) = $shopper->buy($pid);
    is($res->code, 503, "buy $try: 503") or diag $res->content;
    is($d && $d->{code}, 'unavailable', '  code unavailable');
}
my @lines = Audit::log_since($mark, qr/SK0503/);
ok(@lines >= 3, 'each buy logged SK0503') or diag explain \@lines;
like($lines[0] // '', qr/SK0503: redis: buy script: ERR Error compiling script .*user_script:\d+/,
    "  with Redis's compile error and its line");
is(scalar(grep { /NOSCRIPT/ } @lines), 0, '  not a NOSCRIPT');
is(scalar(Audit::crashes($mark)), 0, 'no child crashed');
is(redis('GET', "seckill:stock:{p$pid}"), '5', 'Redis stock untouched');
is(redis('HLEN', "seckill:orders:{p$pid}"), '0', 'no sale recorded');
is(sql("SELECT COUNT(*) FROM seckill_orders WHERE goods_id = $pid"), '0', 'no order row');

# the main shop, with the shipped scripts, sells the same product
my ($res, $d) = Shopper->new->buy($pid);
is($d && $d->{code}, 'ok', 'the default host sells it') or diag $res->content;

done_testing();
