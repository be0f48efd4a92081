# make install puts every part where a Debian httpd finds it, and the installed
# seckill.load + seckill.conf pass `apache2 -t` (paths moved under DESTDIR for the test).
use strict;
use warnings FATAL => 'all';
use Test::More;
use File::Temp qw(tempdir);
use SeckillTest qw(top_dir);

my $top = top_dir();
my $d = tempdir(CLEANUP => 1);
my $moddir = `apxs -q LIBEXECDIR`;
chomp $moddir;

my $out = `DESTDIR=$d bash $top/scripts/install.sh 2>&1`;
is($?, 0, 'install.sh succeeds') or diag $out;
for my $f ("$moddir/mod_seckill.so", '/usr/sbin/seckill-worker',
    '/usr/share/mod_seckill/templates/index.html', '/usr/share/mod_seckill/htdocs/css/shop.css',
    '/usr/share/mod_seckill/lua/product_cache.lua', '/etc/apache2/mods-available/seckill.load',
    '/etc/apache2/mods-available/seckill.conf', '/etc/mod_seckill/seckill-worker.conf',
    '/etc/mod_seckill/secret') {
    ok(-f "$d$f", "installed $f");
}
is((stat "$d/etc/mod_seckill/secret")[2] & 07777, 0600, 'secret is private');

# An edited config is kept on a second install.
open(my $fh, '>>', "$d/etc/apache2/mods-available/seckill.conf") or die;
print $fh "# edited by the admin\n";
close $fh;
$out = `DESTDIR=$d bash $top/scripts/install.sh 2>&1`;
like($out, qr/kept your .*seckill\.conf/, 'a changed config is kept');
ok(-f "$d/etc/apache2/mods-available/seckill.conf.dist", 'the new one beside it');

# The installed pair, with its absolute paths moved under DESTDIR, passes apache2 -t.
my $conf = "$d/httpd.conf";
open(my $c, '>', $conf) or die;
print $c "ServerRoot $d\nServerName localhost\nListen 127.0.0.1:1\nPidFile $d/pid\n"
  . "ErrorLog $d/error.log\nDefaultRuntimeDir $d\n"
  . "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"
  . "LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n"
  . "LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so
"
  . "LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
"
  # the admin's Basic auth, as Debian enables it by default
  . join('', map { "LoadModule ${_}_module /usr/lib/apache2/modules/mod_$_.so
" }
    qw(authn_core authn_file auth_basic authz_user));
for my $f ('seckill.load', 'seckill.conf') {
    open(my $in, '<', "$d/etc/apache2/mods-available/$f") or die;
    local $/;
    my $text = <$in>;
    $text =~ s{(\s)(/(?:usr|etc)/)}{$1$d$2}g;
    print $c $text;
}
close $c;
$out = `/usr/sbin/apache2 -t -f $conf 2>&1`;
is($?, 0, 'installed configuration passes apache2 -t') or diag $out;

done_testing();
