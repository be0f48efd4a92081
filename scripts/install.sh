#!/usr/bin/env bash
# make install: the module where Debian's httpd finds it, its templates, static files and
# Lua scripts under /usr/share/mod_seckill, a2enmod-style seckill.load/seckill.conf, and the
# worker with its config. Honours DESTDIR; never overwrites an admin's config or secret.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
D=${DESTDIR:-}
moddir=$(apxs -q LIBEXECDIR)
share=${SECKILL_SHARE_DIR:-/usr/share/mod_seckill}
etc=${SECKILL_ETC_DIR:-/etc/mod_seckill}
apache_etc=${SECKILL_APACHE_ETC:-/etc/apache2}
sbin=${SECKILL_SBIN_DIR:-/usr/sbin}
say() { echo "install: $*"; }

install -D -m 644 build/mod_seckill.so "$D$moddir/mod_seckill.so"
install -D -m 755 build/seckill-worker "$D$sbin/seckill-worker"
for dir in templates htdocs lua; do
    mkdir -p "$D$share/$dir"
    cp -R "$dir/." "$D$share/$dir/"
    find "$D$share/$dir" -type d -exec chmod 755 {} + -o -type f -exec chmod 644 {} +
done
install -D -m 644 conf/seckill.load "$D$apache_etc/mods-available/seckill.load"
# An admin's edited config stays; the new one goes beside it.
for pair in "conf/seckill.conf:$apache_etc/mods-available/seckill.conf" \
    "conf/seckill-worker.conf:$etc/seckill-worker.conf"; do
    src=${pair%%:*} dst=$D${pair#*:}
    if [ -e "$dst" ] && ! cmp -s "$src" "$dst"; then
        install -D -m 644 "$src" "$dst.dist"
        say "kept your $dst; the shipped one is $dst.dist"
    else
        install -D -m 644 "$src" "$dst"
    fi
done
if [ ! -s "$D$etc/secret" ]; then
    mkdir -p "$D$etc"
    (umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$D$etc/secret")
    say "generated $etc/secret (mode 600)"
fi
if [ ! -e "$D$etc/admin.htpasswd" ]; then
    say "the admin (/admin/) needs its users: htpasswd -cB $etc/admin.htpasswd admin"
fi
say "done. Next: a2enmod seckill && apachectl -t && apachectl graceful; run $sbin/seckill-worker -c $etc/seckill-worker.conf"
