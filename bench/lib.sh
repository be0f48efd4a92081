# Shared by bench/bench.sh and bench/profile.sh (sourced): the `make run` stack as the bench
# drives it — httpd restarted with a given rate limit, the worker stopped and started, bench
# products created through the admin API and deleted, shoppers issued.
# shellcheck shell=bash
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top" || exit 1
# shellcheck source=scripts/env.sh
source scripts/env.sh

base="http://$SECKILL_HTTP_LISTEN"
HTTPD=${SECKILL_HTTPD:-/usr/sbin/apache2}
export SECKILL_HTTP_USER=${SECKILL_HTTP_USER:-www-data} SECKILL_HTTP_GROUP=${SECKILL_HTTP_GROUP:-www-data}
httpd_args=(-f "$top/conf/httpd-local.conf")
[ "$(id -u)" = 0 ] && httpd_args+=(-D SECKILL_AS_ROOT)
httpd_pid=$SECKILL_RUN_DIR/httpd/httpd.pid
worker_dir=$SECKILL_RUN_DIR/worker
worker_pid=$worker_dir/worker.pid
amqp_tool=$top/build/tools/amqp_tool
tag=$(date +%s)     # names this run's products: bench-<tag>-s1, bench-<tag>-a1, …
prog=${prog:-bench}

say() { printf '%s\n' "$*"; }
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }
sql() { scripts/db.sh sql "$1"; }
rcli() { redis-cli -h "$SECKILL_HOST" -p "$SECKILL_REDIS_PORT" "$@"; }
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
num() { printf "%'.0f" "$1"; }

command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
command -v redis-cli >/dev/null || die "redis-cli is missing"
[ -x "$amqp_tool" ] || die "$amqp_tool is missing (make)"

# ---- the stack ------------------------------------------------------------------------------

wait_http() { # [TRIES of 0.1 s]
    for _ in $(seq 1 "${1:-100}"); do
        curl -fsS -o /dev/null -H 'Accept: application/json' "$base/" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

stop_httpd() {
    local pid
    alive "$httpd_pid" || return 0
    pid=$(cat "$httpd_pid")
    "$HTTPD" "${httpd_args[@]}" -k stop
    # the pid file goes first; the parent exits when its children have (and the port is free)
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    die "httpd does not stop"
}

# restart_httpd RATE: httpd reads ${SECKILL_RATE_LIMIT} when it starts; a graceful reload (what
# scripts/run.sh does when httpd is up) keeps the environment of its first start, so the rate
# limit only changes with a stop and a start.
restart_httpd() {
    stop_httpd
    SECKILL_RATE_LIMIT=$1 "$HTTPD" "${httpd_args[@]}" -k start
    wait_http || die "httpd does not answer after a restart (run/httpd/error.log)"
}

# the rate limit the running httpd was started with (its environment), else "?"
running_rate() {
    local r=""
    if alive "$httpd_pid"; then
        r=$(tr '\0' '\n' <"/proc/$(cat "$httpd_pid")/environ" 2>/dev/null |
            sed -n 's/^SECKILL_RATE_LIMIT=//p')
    fi
    printf '%s' "${r:-?}"
}

stop_worker() {
    alive "$worker_pid" || return 0
    kill -TERM "$(cat "$worker_pid")"
    for _ in $(seq 1 100); do alive "$worker_pid" || return 0; sleep 0.1; done
    die "the worker does not stop"
}

# start_worker [WRAPPER...]: as scripts/run.sh does (its worker.conf, log, pid file), so
# `make stop` stops it; e.g. start_worker valgrind --tool=callgrind
start_worker() {
    [ -s "$worker_dir/worker.conf" ] || die "$worker_dir/worker.conf is missing (make run writes it)"
    nohup "$@" "$top/build/seckill-worker" -f -c "$worker_dir/worker.conf" >>"$worker_dir/worker.log" 2>&1 &
    echo $! >"$worker_pid"
    sleep 0.2
    alive "$worker_pid" || die "the worker exited (see $worker_dir/worker.log)"
}

# the stack up (make run when it is not), then httpd with rate limits off; rate_before is the
# limit to restore at the end
stack_up() {
    if ! curl -fsS -o /dev/null "$base/static/css/shop.css" 2>/dev/null || ! alive "$worker_pid"; then
        say "$prog: starting the stack (make run) ..."
        SECKILL_RATE_LIMIT=0 scripts/run.sh start >/dev/null
    fi
    rate_before=$(running_rate)
    [ "$rate_before" = "?" ] && rate_before=${SECKILL_RATE_LIMIT:-5}
    [ "$rate_before" = 0 ] && rate_before=5 # an interrupted earlier run: the default at the end
    restart_httpd 0 # always: the module and config of build/ as they are now, rate limit off
}

# Orders of an earlier run come back for their pay timeout (SECKILL_PAY_TIMEOUT, 300 s with
# make run: the worker moves each through its waiting queues, then finds no row): that work
# would land in this run's figures, so wait until the order queues are empty (at most
# BENCH_SETTLE_MAX seconds).
order_queues=(seckill.order.create seckill.order.timeout seckill.order.timeout.wait)
for k in $(seq 0 16); do order_queues+=("seckill.order.timeout.wait.$((1 << k))s"); done
pending() { "$amqp_tool" count "${order_queues[@]}" | awk '{ n += $1 } END { print n + 0 }'; }
settle() {
    local max=${BENCH_SETTLE_MAX:-330} t0 waited=0
    t0=$(date +%s)
    while [ "$(pending)" -gt 0 ]; do
        if [ "$(date +%s)" -ge $((t0 + max)) ]; then
            say "$prog: warning: $(pending) order messages still queued after ${max}s; going on"
            return 0
        fi
        [ "$waited" = 1 ] ||
            say "$prog: waiting for $(pending) queued order/pay-timeout messages (an earlier run's) to settle ..."
        waited=1
        sleep 2
    done
    [ "$waited" = 0 ] || say "$prog: settled after $(($(date +%s) - t0))s"
}

# ---- bench products ---------------------------------------------------------------------------

# make_products KIND COUNT STOCK: products on sale now (from a minute ago, but not before today,
# for 3 hours) named bench-<tag>-<KIND><n>, made through the admin's JSON API as an admin would
# (POST /admin/products), which caches a product on sale at once (slot set, hash, stock key,
# Bloom bits); prints their ids, comma-separated
admin_user=${SECKILL_ADMIN_USER:-admin}
admin_password_file=$SECKILL_RUN_DIR/admin.password
admin() { # METHOD PATH [JSON]: the admin's JSON API, as the make run admin
    local args=(-fsS -u "$admin_user:$(cat "$admin_password_file")" -H 'Accept: application/json')
    [ -z "${admin_csrf:-}" ] || args+=(-H "X-CSRF-Token: $admin_csrf")
    [ -z "${3:-}" ] || args+=(-H 'Content-Type: application/json' --data-binary "$3")
    curl "${args[@]}" -X "$1" "$base$2"
}
make_products() {
    local kind=$1 n=$2 stock=$3 start end ids="" i out id
    [ -s "$admin_password_file" ] || die "no $admin_password_file (make run writes it)"
    start=$(date -d '-1 minute' +%Y-%m-%dT%H:%M:%S)
    [ "${start%T*}" = "$(date +%Y-%m-%d)" ] || start="$(date +%Y-%m-%d)T00:00:00"
    end=$(date -d '+3 hour' +%Y-%m-%dT%H:%M:%S)
    admin_csrf=$(admin GET /admin/products | sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p')
    [ -n "$admin_csrf" ] || die "the admin API gave no CSRF token"
    for i in $(seq 1 "$n"); do
        out=$(admin POST /admin/products "{\"name\":\"bench-$tag-$kind$i\",\"image\":\"/static/product_img/robot.svg\",\"base_price\":\"399.00\",\"seckill_price\":\"309.00\",\"stock\":$stock,\"start\":\"$start\",\"end\":\"$end\"}") ||
            die "POST /admin/products failed"
        id=$(sed -n 's/^{"ok":true,"id":\([0-9]*\),.*/\1/p' <<<"$out")
        [ -n "$id" ] && grep -q '"cached":true' <<<"$out" || die "product not made or not cached: $out"
        ids+="${ids:+,}$id"
    done
    echo "$ids"
}

# cache_products IDS: every product's stock key is in Redis (the admin cached them on save);
# then a second for every child's Bloom mirror (re-read at most 250 ms apart)
cache_products() {
    local id
    for id in ${1//,/ }; do
        [ "$(rcli EXISTS "seckill:stock:{p$id}")" = 1 ] || die "product $id was not cached"
    done
    sleep 1
}

# every bench product (this run's and leftovers): rows, Redis keys, order markers; the slot
# sets go, so the listing is rebuilt without them
cleanup_products() {
    local ids id keys=()
    ids=$(sql "SELECT GROUP_CONCAT(id) FROM seckill_products WHERE name LIKE 'bench-%'")
    if [ "$ids" = NULL ] || [ -z "$ids" ]; then return 0; fi
    sql "SELECT CONCAT('seckill:order:', id) FROM seckill_orders WHERE goods_id IN ($ids)" |
        xargs -r -n 1000 redis-cli -h "$SECKILL_HOST" -p "$SECKILL_REDIS_PORT" DEL >/dev/null
    # and the markers of sales that never got a row (orders purged from the queue by
    # profile.sh): every order id the product's order-state hash recorded
    for id in ${ids//,/ }; do
        rcli HKEYS "seckill:orders:{p$id}" | sed 's/^/seckill:order:/'
    done | xargs -r -n 1000 redis-cli -h "$SECKILL_HOST" -p "$SECKILL_REDIS_PORT" UNLINK >/dev/null
    for id in ${ids//,/ }; do
        keys+=("seckill:product:{p$id}" "seckill:stock:{p$id}" "seckill:buyers:{p$id}" "seckill:orders:{p$id}")
    done
    printf '%s\n' "${keys[@]}" |
        xargs -r -n 400 redis-cli -h "$SECKILL_HOST" -p "$SECKILL_REDIS_PORT" DEL >/dev/null
    sql "DELETE FROM seckill_orders WHERE goods_id IN ($ids); DELETE FROM seckill_products WHERE id IN ($ids)"
    rcli --scan --pattern 'seckill:slot:*' |
        xargs -r redis-cli -h "$SECKILL_HOST" -p "$SECKILL_REDIS_PORT" DEL >/dev/null
}

orders_of() { sql "SELECT COUNT(*) FROM seckill_orders WHERE goods_id IN ($1)"; }

# sales_of IDS: every order the buy script ever recorded for these products (the entries of
# their order-state hashes: sold, claimed, restored; cancellations do not lower it)
sales_of() {
    local total=0 id
    for id in ${1//,/ }; do
        total=$((total + $(rcli HLEN "seckill:orders:{p$id}")))
    done
    echo "$total"
}
