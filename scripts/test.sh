#!/usr/bin/env bash
# make test: builds, runs the C unit tests (cmocka, under AddressSanitizer), then the
# Apache::Test suite (t/TEST) against private Redis, MariaDB and RabbitMQ on their own ports
# (so a `make run` shop can stay up). Apache::Test refuses root: as root, the suite runs as
# an unprivileged user (SECKILL_TEST_USER, default nobody) on a tree that user can use.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
say() { echo "test: $*"; }

# The test stack: its own folder and ports, whatever a `make run` stack uses.
export SECKILL_RUN_DIR=${SECKILL_TEST_RUN_DIR:-$top/build/test-run}
export SECKILL_HTTP_PORT=${SECKILL_TEST_HTTP_PORT:-18529}
export SECKILL_REDIS_PORT=${SECKILL_TEST_REDIS_PORT:-16380}
export SECKILL_MYSQL_PORT=${SECKILL_TEST_MYSQL_PORT:-13307}
export SECKILL_AMQP_PORT=${SECKILL_TEST_AMQP_PORT:-15673}
export SECKILL_RATE_LIMIT=${SECKILL_TEST_RATE_LIMIT:-5}
# Apache::Test gives its virtual hosts the ports just above httpd's: the stand-in sits higher.
export SECKILL_ALIPAY_PORT=${SECKILL_TEST_ALIPAY_PORT:-$((SECKILL_HTTP_PORT + 70))}
export SECKILL_KEYS_DIR=$SECKILL_RUN_DIR/keys
export SECKILL_TOP=$top

suite() {
    # the admin's test user (admin / admin-test-password)
    export SECKILL_ADMIN_HTPASSWD=${SECKILL_TEST_ADMIN_HTPASSWD:-$SECKILL_TOP/t/conf/admin.htpasswd}
    # shellcheck source=scripts/env.sh
    source scripts/env.sh
    export HOME=$SECKILL_RUN_DIR/home APACHE_TEST_NO_STICKY_PREFERENCES=1
    mkdir -p "$HOME"
    trap 'scripts/alipay.sh stop >/dev/null 2>&1 || true; scripts/stack.sh stop >/dev/null 2>&1 || true' EXIT
    scripts/stack.sh start
    scripts/keys.sh "$SECKILL_KEYS_DIR" >/dev/null
    scripts/alipay.sh start
    scripts/db.sh schema
    [ -s "$SECKILL_SECRET_FILE" ] || (umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$SECKILL_SECRET_FILE")
    # Scripts Redis cannot compile, for the tests of that error: the shipped ones with buy.lua
    # (t/api/broken_script.t, through t/conf/extra.conf.in) and leader_renew.lua (the worker's,
    # t/worker/scheduler.t) broken
    mkdir -p "$SECKILL_RUN_DIR/broken-lua"
    cp lua/*.lua "$SECKILL_RUN_DIR/broken-lua/"
    for f in buy leader_renew; do printf '\nthis is not Lua\n' >>"$SECKILL_RUN_DIR/broken-lua/$f.lua"; done
    perl t/TEST -clean >/dev/null 2>&1 || true
    local rc=0 log=$SECKILL_RUN_DIR/suite.log
    perl t/TEST -apxs "$(command -v apxs)" -port "$SECKILL_HTTP_PORT" "$@" 2>&1 | tee "$log" || rc=$?
    # the whole run goes on into the browser (make e2e) on the same stack
    if [ "${SECKILL_TEST_E2E:-0}" = 1 ]; then
        scripts/e2e.sh --in-stack || rc=$?
    fi
    # What failed, once more at the very end (where a CI report's tail shows it): the tests'
    # diagnostics (the harness shows only those, the chaos table's rows aside) and its summary
    if [ "$rc" != 0 ] && grep -q -E 'Failed test|Wstat' "$log"; then
        say "what failed in the suite (all of it in $log):"
        grep -E '^#|\(Wstat|Failed tests?:' "$log" | grep -v '^# chaos row:' | tail -n 60
    fi
    return "$rc"
}

if [ "${1:-}" = --suite ]; then
    shift
    suite "$@"
    exit
fi

make -s all
make -s unit
# Then the browser end-to-end test after the suite (SECKILL_TEST_E2E=0 leaves it out).
export SECKILL_TEST_E2E=${SECKILL_TEST_E2E:-1}
if [ "$SECKILL_TEST_E2E" = 1 ]; then scripts/e2e.sh --prepare; fi

if [ "$(id -u)" != 0 ]; then
    suite "$@"
    exit
fi

user=${SECKILL_TEST_USER:-nobody}
# The user needs to read the tree and write t/ and the test stack's folder. A tree below a
# private folder (a clone in /root, say) is staged into a copy the user can read.
if ! runuser -u "$user" -- test -r "$top/Makefile" -a -x "$top/t"; then
    stage=$(mktemp -d /tmp/seckill-test.XXXXXX)
    chmod 755 "$stage"
    say "$user cannot read $top: running the suite from a copy in $stage"
    tar -C "$top" --exclude=./run --exclude=./build/test-run --exclude=./.git -cf - . | tar -C "$stage" -xf -
    orig=$top
    top=$stage
    cd "$top"
    export SECKILL_TOP=$top SECKILL_RUN_DIR=$top/build/test-run SECKILL_KEYS_DIR=$top/build/test-run/keys
fi
mkdir -p "$SECKILL_RUN_DIR"
chown -R "$user" t "$SECKILL_RUN_DIR"  # Apache::Test writes t/conf, t/logs, t/state, t/htdocs
say "running the suite as $user"
rc=0
mkdir -p build/e2e-shots && chown -R "$user" build/e2e-shots
runuser -u "$user" -- bash scripts/test.sh --suite "$@" || rc=$?
if [ -n "${stage:-}" ]; then
    rm -rf "$orig/build/e2e-shots" && cp -r build/e2e-shots "$orig/build/" 2>/dev/null || true
    rm -rf "$stage"
fi
exit "$rc"
