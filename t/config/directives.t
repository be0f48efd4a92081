# Every directive is checked when httpd reads its config: `apache2 -t` must fail naming the
# directive and the problem, and accept a complete, valid configuration.
use strict;
use warnings FATAL => 'all';
use Test::More;
use File::Temp qw(tempdir);
use SeckillTest qw(top_dir);

my $top = top_dir();
my $dir = tempdir(CLEANUP => 1);
my $httpd = $ENV{SECKILL_HTTPD} // '/usr/sbin/apache2';

sub write_file {
    my ($path, $text) = @_;
    open(my $fh, '>', $path) or die "$path: $!";
    print $fh $text;
    close $fh;
    return $path;
}

my $secret = write_file("$dir/secret", 'x' x 40);
my $short = write_file("$dir/short", "too short\n");
my $pem = write_file("$dir/key.pem", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n");
# real keys in every form Alipay's console or openssl hands out
system("$top/scripts/keys.sh $dir/keys >/dev/null") == 0 or die "scripts/keys.sh failed";
my $app_key = "$dir/keys/app_private_key.pem";    # PKCS#8
my $alipay_pub = "$dir/keys/alipay_public_key.pem";
system("openssl rsa -in $app_key -traditional -out $dir/pkcs1.pem 2>/dev/null") == 0 or die;
sub raw_base64 {    # the one-line body of a PEM file, as Alipay's console shows keys
    my ($from, $to) = @_;
    open(my $in, '<', $from) or die;
    my $b64 = join '', grep { !/^-----/ } <$in>;
    $b64 =~ s/\s+//g;
    return write_file($to, "$b64\n");
}
my $raw_private = raw_base64($app_key, "$dir/raw_private.txt");
my $raw_public = raw_base64($alipay_pub, "$dir/raw_public.txt");

my %valid = (
    SeckillRedis => 'redis://127.0.0.1:6379/0',
    SeckillMySQL => 'mysql://seckill:seckill@127.0.0.1:3306/seckill',
    SeckillAMQP => 'amqp://guest:guest@127.0.0.1:5672/',
    SeckillSecretFile => $secret,
    SeckillNodeId => '3',
    SeckillRateLimit => '5 1',
    SeckillUserLimit => '1',
    SeckillPayTimeout => '300',
    SeckillIdentity => 'cookie',
    SeckillTemplateDir => "$top/templates",
    SeckillLuaDir => "$top/lua",
    SeckillRedisPoolSize => '32',
    SeckillMySQLPoolSize => '8',
    SeckillRedisTimeout => '500',
    SeckillMySQLTimeout => '2',
    SeckillAlipayAppId => '2021000000000000',
    SeckillAlipayGateway => 'https://openapi-sandbox.dl.alipaydev.com/gateway.do',
    SeckillAlipayAppPrivateKey => $app_key,
    SeckillAlipayPublicKey => $alipay_pub,
    SeckillAlipayTimeout => '5000',
    SeckillAlipayNotifyUrl => 'https://shop.example.com/alipay/notify/',
    SeckillAlipayReturnUrl => 'https://shop.example.com/result/',
);

# Runs apache2 -t on the valid config with one directive replaced; returns (exit, output).
sub config_test {
    my ($name, $value) = @_;
    my %d = (%valid);
    $d{$name} = $value if defined $name;
    my $conf = "ServerRoot $dir\nServerName localhost\nListen 127.0.0.1:1\n"
      . "PidFile $dir/httpd.pid\nErrorLog $dir/error.log\nDefaultRuntimeDir $dir\n"
      . "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"
      . "LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n"
      . "LoadModule seckill_module $top/build/mod_seckill.so\n"
      . join('', map { "$_ $d{$_}\n" } sort keys %d);
    my $file = write_file("$dir/httpd.conf", $conf);
    my $out = `$httpd -t -f $file 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = config_test();
is($rc, 0, 'a complete configuration passes apache2 -t') or diag $out;
like($out, qr/Syntax OK/, 'Syntax OK');

for my $ok ([SeckillAlipayAppPrivateKey => "$dir/pkcs1.pem", 'PKCS#1 PEM'],
    [SeckillAlipayAppPrivateKey => $raw_private, "raw base64 (Alipay's console)"],
    [SeckillAlipayPublicKey => $raw_public, "raw base64 (Alipay's console)"]) {
    my ($rc, $out) = config_test($ok->[0], $ok->[1]);
    is($rc, 0, "$ok->[0] accepts a key as $ok->[2]") or diag $out;
}

my @bad = (
    [SeckillRedis => 'http://127.0.0.1:6379', qr/must start with redis:\/\//],
    [SeckillRedis => 'redis://127.0.0.1:abc', qr/bad port|is not a URL/],
    [SeckillRedis => 'redis://127.0.0.1:6379/99', qr/database '99'/],
    [SeckillMySQL => 'mysql://127.0.0.1:3306', qr/must name a user and a database/],
    [SeckillAMQP => 'amqp://', qr/names no host|not a URL/],
    [SeckillSecretFile => "$dir/missing", qr/does not exist/],
    [SeckillSecretFile => $short, qr/must hold 32 to \d+ bytes/],
    [SeckillSecretFile => $dir, qr/not a regular file/],
    [SeckillNodeId => '32', qr/not a whole number from 0 to 31/],
    [SeckillNodeId => 'abc', qr/not a whole number/],
    [SeckillRateLimit => '-1', qr/not a whole number/],
    [SeckillRateLimit => '5 0', qr/not a whole number from 1/],
    [SeckillUserLimit => '0', qr/not a whole number/],
    [SeckillPayTimeout => '0', qr/not a whole number from 1/],
    [SeckillIdentity => 'xff', qr/not one of cookie, remote_user, ip/],
    [SeckillTemplateDir => "$dir/nope", qr/is not a directory/],
    [SeckillLuaDir => $secret, qr/is not a directory/],
    [SeckillRedisPoolSize => '0', qr/not a whole number/],
    [SeckillAMQPPoolSize => '0', qr/not a whole number/],
    [SeckillListingCache => '-1', qr/not a whole number from 0/],
    [SeckillListingCache => '60001', qr/not a whole number from 0 to 60000/],
    [SeckillAlipayAppId => 'abc', qr/not an Alipay app id/],
    [SeckillAlipayGateway => 'ftp://example.com/', qr/not an http\(s\):\/\/ URL/],
    [SeckillAlipayAppPrivateKey => "$dir/missing.pem", qr/does not exist/],
    [SeckillAlipayPublicKey => "$dir/missing.pem", qr/does not exist/],
    [SeckillAlipayNotifyUrl => 'notaurl', qr/not an http\(s\):\/\/ URL/],
    [SeckillAlipayAppPrivateKey => $alipay_pub, qr/private key/i],
    [SeckillAlipayAppPrivateKey => $pem, qr/key/i],
    [SeckillAlipayPublicKey => $secret, qr/public key/i],
    [SeckillAlipayTimeout => '50', qr/not a whole number from 100/],
);
for my $case (@bad) {
    my ($name, $value, $want) = @$case;
    my ($rc, $out) = config_test($name, $value);
    isnt($rc, 0, "$name $value is refused");
    like($out, qr/\Q$name\E/, "  the message names $name");
    like($out, $want, '  and says what is wrong') or diag $out;
}

done_testing();
