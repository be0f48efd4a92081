#!/usr/bin/env bash
# make e2e: the shop in a real browser. Headless Chromium, driven by playwright-core
# (e2e/shop.spec.mjs), shops as a person would: listing, slots, buy, result, orders, pay
# through the local Alipay stand-in, cancel. Screenshots of each step go to build/e2e-shots/.
#
#   scripts/e2e.sh             the whole run: the test stack (make test's folder and ports,
#                              SECKILL_TEST_*), then httpd, the worker and the Alipay stand-in
#                              on ports of their own, the browser, and everything stopped again
#   scripts/e2e.sh --in-stack  the same with the servers already up (scripts/test.sh runs it
#                              after the Apache::Test suite, on the suite's stack)
#   scripts/e2e.sh --prepare   only installs playwright-core (npm ci) into e2e/node_modules
#
# httpd listens on SECKILL_E2E_HTTP_PORT (default: the test httpd port + 50), not a port of
# `make run`; the Alipay stand-in is the suite's (scripts/alipay.sh, test port + 70). SECKILL_E2E_KEEP=1 leaves httpd, the worker
# and the stand-in running afterwards, to look around. As root, the run drops to an unprivileged
# user (SECKILL_TEST_USER, default nobody) as `make test` does. The database and Redis of
# the test stack are emptied and filled with the run's own products.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
say() { echo "e2e: $*"; }
die() { echo "e2e: error: $*" >&2; exit 1; }

# playwright-core at the version e2e/package-lock.json pins, once.
prepare() {
    local want have
    want=$(sed -n 's/.*"playwright-core": *"\([^"]*\)".*/\1/p' e2e/package.json | head -n 1)
    have=
    # a fresh clone has no e2e/node_modules yet
    if [ -f e2e/node_modules/playwright-core/package.json ]; then
        have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
            e2e/node_modules/playwright-core/package.json | head -n 1)
    fi
    [ -n "$want" ] && [ "$want" = "$have" ] && return 0
    command -v npm >/dev/null || die "npm is missing (make deps installs it)"
    say "installing playwright-core $want into e2e/node_modules (npm ci)"
    (cd e2e && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >&2 ||
        die "npm ci failed"
}

if [ "${1:-}" = --prepare ]; then
    prepare
    exit 0
fi

# As root: build and prepare as root, then run as the unprivileged user, from a copy of the
# tree when that user cannot read this one (as scripts/test.sh does).
if [ "$(id -u)" = 0 ]; then
    user=${SECKILL_TEST_USER:-nobody}
    make -s all
    prepare
    orig=$top
    if ! runuser -u "$user" -- test -r "$top/Makefile" -a -x "$top/e2e"; then
        stage=$(mktemp -d /tmp/seckill-e2e.XXXXXX)
        chmod 755 "$stage"
        say "$user cannot read $top: running from a copy in $stage"
        tar -C "$top" --exclude=./run --exclude=./build/test-run --exclude=./.git -cf - . |
            tar -C "$stage" -xf -
        top=$stage
        export SECKILL_TEST_RUN_DIR=$stage/build/test-run SECKILL_E2E_SHOTS=$stage/build/e2e-shots
    fi
    run_dir=${SECKILL_TEST_RUN_DIR:-$top/build/test-run}
    shots=${SECKILL_E2E_SHOTS:-$top/build/e2e-shots}
    mkdir -p "$run_dir" "$shots"
    chown -R "$user" "$run_dir" "$shots"
    rc=0
    runuser -u "$user" -- bash "$top/scripts/e2e.sh" "$@" || rc=$?
    if [ -n "${stage:-}" ]; then
        rm -rf "$orig/build/e2e-shots"
        cp -r "$stage/build/e2e-shots" "$orig/build/e2e-shots" 2>/dev/null || true
        rm -rf "$stage"
    fi
    exit "$rc"
fi

# The test stack's servers (scripts/test.sh), and this run's own httpd and stand-in ports.
export SECKILL_RUN_DIR=${SECKILL_TEST_RUN_DIR:-$top/build/test-run}
test_http=${SECKILL_TEST_HTTP_PORT:-18529}
export SECKILL_HTTP_PORT=${SECKILL_E2E_HTTP_PORT:-$((test_http + 50))}
export SECKILL_HTTP_LISTEN=127.0.0.1:$SECKILL_HTTP_PORT
# the suite's Alipay stand-in and keys (scripts/test.sh, scripts/alipay.sh)
export SECKILL_ALIPAY_PORT=${SECKILL_TEST_ALIPAY_PORT:-$((test_http + 70))}
export SECKILL_KEYS_DIR=$SECKILL_RUN_DIR/keys
export SECKILL_REDIS_PORT=${SECKILL_TEST_REDIS_PORT:-16380}
export SECKILL_MYSQL_PORT=${SECKILL_TEST_MYSQL_PORT:-13307}
export SECKILL_AMQP_PORT=${SECKILL_TEST_AMQP_PORT:-15673}
export SECKILL_RATE_LIMIT=${SECKILL_TEST_RATE_LIMIT:-5}
export SECKILL_TOP=$top
export SECKILL_E2E_SHOTS=${SECKILL_E2E_SHOTS:-$top/build/e2e-shots}
# shellcheck source=scripts/env.sh
source scripts/env.sh

[ -x build/mod_seckill.so ] || [ -f build/mod_seckill.so ] || make -s all
[ -d e2e/node_modules/playwright-core ] || prepare
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing (make deps installs it)"

dir=$SECKILL_RUN_DIR/e2e
mkdir -p "$dir" "$SECKILL_E2E_SHOTS"
rm -f "$SECKILL_E2E_SHOTS"/*.png
export HOME=$SECKILL_RUN_DIR/home
mkdir -p "$HOME"

pids=()
stop_all() {
    local pid
    if [ "${SECKILL_E2E_KEEP:-}" = 1 ]; then # to look around after a run; stop by hand
        say "kept running: httpd (conf/httpd-local.conf), the stand-in, worker pid ${pids[*]}"
        return
    fi
    if [ -s "$SECKILL_RUN_DIR/httpd/httpd.pid" ]; then
        /usr/sbin/apache2 -f "$top/conf/httpd-local.conf" -k stop 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$(cat "$SECKILL_RUN_DIR/httpd/httpd.pid" 2>/dev/null)" 2>/dev/null || break
            sleep 0.1
        done
    fi
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "${own_stack:-}" = 1 ]; then
        scripts/alipay.sh stop >/dev/null 2>&1 || true
        scripts/stack.sh stop >/dev/null 2>&1 || true
    fi
}
trap stop_all EXIT

if [ "${1:-}" != --in-stack ]; then
    own_stack=1
    scripts/stack.sh start
    scripts/db.sh schema >/dev/null
fi
[ -s "$SECKILL_SECRET_FILE" ] || (umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$SECKILL_SECRET_FILE")

# ---- the Alipay stand-in (already up when the suite started it) and httpd: make run's
# configuration, its files under $SECKILL_RUN_DIR/httpd, on this run's port
scripts/keys.sh "$SECKILL_KEYS_DIR" >/dev/null
scripts/alipay.sh start >/dev/null
mkdir -p "$SECKILL_RUN_DIR/httpd"
/usr/sbin/apache2 -f "$top/conf/httpd-local.conf" -t >/dev/null 2>&1 || {
    /usr/sbin/apache2 -f "$top/conf/httpd-local.conf" -t
    die "httpd config test failed"
}
/usr/sbin/apache2 -f "$top/conf/httpd-local.conf" -k start

# ---- the worker
cat >"$dir/worker.conf" <<CONF
# generated by scripts/e2e.sh; see conf/seckill-worker.conf
redis = $SECKILL_REDIS_URL
mysql = $SECKILL_MYSQL_URL
amqp = $SECKILL_AMQP_URL
secret_file = $SECKILL_SECRET_FILE
lua_dir = $top/lua
node_id = $SECKILL_NODE_ID
pay_timeout = $SECKILL_PAY_TIMEOUT
log_level = info
CONF
build/seckill-worker -f -c "$dir/worker.conf" >>"$dir/worker.log" 2>&1 &
pids+=($!)

up=
for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null -H 'Accept: application/json' "http://$SECKILL_HTTP_LISTEN/" 2>/dev/null &&
        curl -sS -o /dev/null "http://127.0.0.1:$SECKILL_ALIPAY_PORT/test/trades" 2>/dev/null; then
        up=1
        break
    fi
    sleep 0.1
done
[ -n "$up" ] || {
    tail -n 20 "$SECKILL_RUN_DIR/httpd/error.log" "$SECKILL_RUN_DIR/alipay/standin.log" >&2 || true
    die "httpd or the Alipay stand-in does not answer"
}

# ---- the run's products: today's current slot, the one after and the one before
scripts/db.sh reset
scripts/stack.sh redis-cli FLUSHDB >/dev/null
slot_of() { if (($1 < 8)); then echo 8; elif (($1 >= 22)); then echo 22; else echo $(($1 - $1 % 2)); fi; }
at() { date -d "$(date +%F) 00:00:00 $1 hours" +%s; } # today at hour $1 (DST-proof)
window() { # slot -> "from to"
    local from to
    if (($1 == 8)); then from=$midnight; else from=$(at "$1"); fi
    if (($1 == 22)); then to=$(date -d "$(date +%F) 00:00:00 tomorrow" +%s); else to=$(at $(($1 + 2))); fi
    echo "$from $to"
}
take_time() { # now, hour, midnight, the current slot and its window
    now=$(date +%s)
    hour=$((10#$(date +%H)))
    midnight=$(date -d "$(date +%F) 00:00:00" +%s)
    slot=$(slot_of "$hour")
    read -r from to < <(window "$slot")
}
take_time
# in a slot's last minutes there is no room for the sale that opens while its page is open:
# the run waits for the next slot (at most 2.5 minutes)
if ((to - now <= 150)); then
    say "the current slot ends in $((to - now)) s: waiting for the next one"
    sleep $((to - now + 1))
    take_time
fi
dt() { date -d "@$1" '+%F %T'; }
add() { # name stock start end base price -> id
    scripts/db.sh sql "INSERT INTO seckill_products (name, image, base_price, seckill_price, stock,
        seckill_start_time, seckill_end_time, status, create_time, update_time) VALUES ('$1',
        '/static/product_img/robot.svg', $5, $6, $2, '$(dt "$3")', '$(dt "$4")',
        IF('$(dt "$4")' <= NOW(), 2, IF('$(dt "$3")' <= NOW(), 1, 0)), NOW(6), NOW(6));
        SELECT LAST_INSERT_ID()"
}
start=$((now - 60 < from ? from : now - 60))
json="\"slot\":$slot,\"now\":$now"
json+=",\"pay\":$(add '扫地机器人 X1' 5 "$start" $((now + 3600)) 399.00 309.00)"
json+=",\"cancel\":$(add '降噪耳机 Max' 3 "$start" $((now + 3600)) 1299.00 899.00)"
json+=",\"form\":$(add '智能手表 S7' 4 "$start" $((now + 3600)) 999.00 599.00)"
json+=",\"nojs\":$(add '运动手环 6' 4 "$start" $((now + 3600)) 299.00 149.00)"
json+=",\"soldout\":$(add '机械键盘 K87' 0 "$start" $((now + 3600)) 499.00 259.00)"
if ((to - now > 120)); then # a sale that opens while its page is open
    json+=",\"soon\":$(add '智能台灯 L1' 6 $((now + 30)) $((now + 3600)) 159.00 79.00)"
fi
if ((to - now > 900)); then # room for a sale that starts later in this slot
    json+=",\"later\":$(add '无线鼠标 M3' 10 $((now + 600)) "$to" 199.00 99.00)"
fi
if ((slot < 22)); then
    read -r nfrom nto < <(window $((slot + 2)))
    json+=",\"next_slot\":$((slot + 2)),\"next\":$(add '蓝牙音箱 Mini' 20 "$nfrom" "$nto" 259.00 129.00)"
fi
if ((slot > 8)); then
    read -r pfrom pto < <(window $((slot - 2)))
    json+=",\"prev_slot\":$((slot - 2)),\"prev\":$(add '电动牙刷 T3' 30 "$pfrom" "$pto" 359.00 179.00)"
fi
export SECKILL_E2E_DATA="{$json}" SECKILL_E2E_BASE="http://$SECKILL_HTTP_LISTEN"
export SECKILL_E2E_ALIPAY="http://127.0.0.1:$SECKILL_ALIPAY_PORT"
# the listing caches each slot and fills the Bloom filter the buy checks; children re-read it
for s in $slot ${nfrom:+$((slot + 2))} ${pfrom:+$((slot - 2))}; do
    curl -fsS -o /dev/null -H 'Accept: application/json' "http://$SECKILL_HTTP_LISTEN/?slot=$s"
done
sleep 2.2

say "shop on http://$SECKILL_HTTP_LISTEN/, Alipay stand-in on port $SECKILL_ALIPAY_PORT, screenshots in $SECKILL_E2E_SHOTS"
rc=0
node e2e/shop.spec.mjs || rc=$?
if ((rc != 0)); then
    say "logs: $SECKILL_RUN_DIR/httpd/error.log $dir/worker.log $SECKILL_RUN_DIR/alipay/standin.log"
    tail -n 15 "$SECKILL_RUN_DIR/httpd/error.log" >&2 || true
fi
exit "$rc"
