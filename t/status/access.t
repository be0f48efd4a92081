# /seckill-status is for loopback only, as mod_status in Debian's config: the shipped configs
# say `Require local`, and a client from elsewhere (here: behind a trusted proxy, whose
# X-Forwarded-For mod_remoteip believes) is refused while loopback is served.
use strict;
use warnings FATAL => 'all';
use Test::More;
use Apache::Test ();
use Apache::TestRequest ();
use LWP::UserAgent ();
use SeckillTest qw(top_dir);

for my $conf ('conf/seckill.conf', 'conf/seckill-site.conf') {
    open(my $fh, '<', top_dir() . "/$conf") or die "$conf: $!";
    local $/;
    my $text = <$fh>;
    my ($block) = $text =~ m{<Location /seckill-status>(.*?)</Location>}s;
    ok($block, "$conf serves /seckill-status") or next;
    like($block, qr/^\s*SetHandler seckill-status\s*$/m, '  with SetHandler seckill-status');
    like($block, qr/^\s*Require local\s*$/m, '  for loopback only (Require local)');
    unlike($block, qr/Require\s+all\s+granted/, '  and nothing that opens it');
}

my $res = Apache::TestRequest::GET('/seckill-status?auto', 'X-Forwarded-For' => '203.0.113.7');
is($res->code, 200, 'loopback: 200 (X-Forwarded-For means nothing without a trusted proxy)');

{
    local $Apache::TestRequest::Module = 'status_proxied';
    my $hostport = Apache::TestRequest::hostport(Apache::Test::config());
    my $ua = LWP::UserAgent->new(timeout => 30);
    $res = $ua->get("http://$hostport/seckill-status?auto");
    is($res->code, 200, 'through the proxy from loopback: 200');
    for my $ip ('203.0.113.7', '192.0.2.10', '10.1.2.3', '::ffff:198.51.100.1') {
        $res = $ua->get("http://$hostport/seckill-status?auto", 'X-Forwarded-For' => $ip);
        is($res->code, 403, "from $ip: 403");
        unlike($res->content, qr/NodeId|Buys/, '  and nothing of the page');
        $res = $ua->get("http://$hostport/seckill-status?prometheus", 'X-Forwarded-For' => $ip);
        is($res->code, 403, "  ?prometheus too");
    }
    $res = $ua->get("http://$hostport/", 'X-Forwarded-For' => '203.0.113.7',
        Accept => 'application/json');
    is($res->code, 200, 'the shop itself is open to that client');
}

done_testing();
