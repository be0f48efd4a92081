#!/usr/bin/env perl
# bench/identities.pl N TAG > FILE: N distinct shoppers as the shop would issue them, one a line:
# "<seckill_id cookie value>\t<CSRF token>". The id is 22 base64url characters (16 bytes:
# TAG, the line number, and 8 random bytes), the cookie "<id>.<token(id|<id>)>", the CSRF token
# token(csrf|<id>), token = base64url-no-padding(HMAC-SHA256(secret, text)); the secret is
# $SECKILL_SECRET_FILE with trailing newlines stripped (mod_seckill/identity.c, lib/token.c,
# t/lib/Stampede.pm).
use strict;
use warnings FATAL => 'all';
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64url);

my ($n, $tag) = @ARGV;
die "usage: identities.pl N TAG\n" unless defined $n && $n =~ /^\d+$/ && defined $tag;
open(my $fh, '<', $ENV{SECKILL_SECRET_FILE} // die "SECKILL_SECRET_FILE is not set\n")
    or die "secret: $!\n";
my $secret = do { local $/; <$fh> };
$secret =~ s/[\r\n]+\z//;
my $salt = pack('NN', int(rand(2**32)), int(rand(2**32)));
binmode STDOUT;
for my $i (1 .. $n) {
    my $id = encode_base64url(pack('NN', $tag, $i) . $salt);    # 16 bytes -> 22 characters
    print $id, '.', encode_base64url(hmac_sha256("id|$id", $secret)), "\t",
        encode_base64url(hmac_sha256("csrf|$id", $secret)), "\n";
}
