#!/usr/bin/env bash
# make bench: the shop's throughput against the same httpd's ceilings, all in ONE run, so the
# ratios hold on a noisy shared machine. Uses the `make run` stack (started when it is not up).
# With wrk over loopback (bench/wrk.lua makes the buys and counts every answer):
#   1. ceilings: a static file, and a module handler with a fixed body (/seckill-ping)
#   2. listing: GET / from the Redis cache, HTML and JSON (the current slot, as make run has it)
#   3. stampede: many shoppers buy a few products of tiny stock (almost all sold_out)
#   4. all-success: every buy sells (big stock, no shopper buys a product twice); the worker
#      is stopped meanwhile, so its orders queue up in RabbitMQ. It runs in parts
#      (BENCH_BUY_PARTS), the fixed handler measured after each: a slow spell of the machine
#      in one part or one measurement moves the ratio of the parts together less
#   5. worker drain: the worker is started again; time until every queued order is a row
#   6. the ceilings once more
# The fixed handler is also measured between the loads (BENCH_PROBE_SECONDS each): a load's
# ratio to it divides by the two measured right before and right after it, so the machine's
# drift during the run (its neighbours come and go) skews it as little as can be.
# then the consistency audit (oversold, lost orders, Redis/MySQL stock). httpd is restarted with
# rate limits off (SECKILL_RATE_LIMIT=0) for the run and with the limit it had at the end. Bench
# products are named "bench-<time>-…", created here and deleted at the end. Before measuring it
# waits (at most BENCH_SETTLE_MAX s) until an earlier run's orders have come back for their pay
# timeout. Settings (BENCH_*) and the latest figures: bench/README.md.
set -euo pipefail
prog=bench
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

secs=${BENCH_SECONDS:-10}                  # each wrk load but all-success
probe_secs=${BENCH_PROBE_SECONDS:-5}       # the fixed handler between two loads
threads=${BENCH_THREADS:-2}                # wrk -t
conns=${BENCH_CONNECTIONS:-64}             # wrk -c
buy_secs=${BENCH_BUY_SECONDS:-20}          # the all-success load: its orders are the drain's N
buy_parts=${BENCH_BUY_PARTS:-4}            # … in this many wrk runs of buy_secs / buy_parts each
s_products=${BENCH_STAMPEDE_PRODUCTS:-3}   # stampede: products …
s_stock=${BENCH_STAMPEDE_STOCK:-100}       # … of this stock each
s_shoppers=${BENCH_STAMPEDE_SHOPPERS:-10000}
a_products=${BENCH_PRODUCTS:-20}           # all-success: products …
a_stock=${BENCH_STOCK:-1000000}            # … of this stock each
a_shoppers=${BENCH_SHOPPERS:-20000}        # shoppers x products = distinct buys available
#                                            (400,000: more than 20 s of buys on 2 cores)
drain_max=${BENCH_DRAIN_MAX:-600}          # give up waiting for the drain after this (s)

[[ $buy_parts =~ ^[1-9][0-9]*$ ]] && ((buy_secs >= buy_parts)) ||
    die "BENCH_BUY_PARTS must be a whole number from 1 to BENCH_BUY_SECONDS ($buy_secs)"
part_secs=$((buy_secs / buy_parts))

work=$(mktemp -d)
# at the end, even a failed one: bench products deleted (BENCH_KEEP=1 keeps them), the worker
# running, httpd back to the rate limit it had
finish() {
    local rc=$?
    set +e
    trap - EXIT
    if [ "${keep:-0}" != 1 ]; then
        cleanup_products
    fi
    alive "$worker_pid" || start_worker
    [ -z "${rate_before:-}" ] || restart_httpd "$rate_before" >/dev/null 2>&1
    [ "$rc" = 0 ] && say "(rate limit back to $rate_before; bench products deleted; the stack is still up: make stop)"
    rm -rf "$work"
    exit "$rc"
}
trap finish EXIT
keep=${BENCH_KEEP:-0}
stack_up
cleanup_products # leftovers of an interrupted run
settle

# the current slot of the demo data, measured before the bench products join it
slot=$(curl -fsS -H 'Accept: application/json' "$base/" | sed -n 's/.*"selected_slot":\([0-9]*\).*/\1/p')
curl -fsS -o /dev/null "$base/?slot=$slot"   # warm the cache

# ---- measuring --------------------------------------------------------------------------------

# CPU ticks so far of each server (all its processes and threads); wrk is timed by `time`.
cpu_snapshot() {
    # one line a process; cat goes on past processes that ended meanwhile
    cat /proc/[0-9]*/stat 2>/dev/null | awk '
        {
            rest = $0
            sub(/^.*\) /, "", rest) # the fields after the name (greedy: after its last ") ")
            l = index($0, "(")
            comm = substr($0, l + 1, length($0) - length(rest) - l - 2)
            split(rest, g, " ")
            t = g[12] + g[13] # utime + stime
            if (comm == "apache2") c["httpd"] += t
            else if (comm == "redis-server") c["redis"] += t
            else if (comm == "mariadbd") c["mysql"] += t
            else if (comm == "beam.smp" || comm ~ /^erl_child/ || comm == "epmd") c["rabbitmq"] += t
            else if (comm == "seckill-worker") c["worker"] += t
        }
        END { for (k in c) print k, c[k] }'
    # the whole machine: every busy tick (the others on it included)
    awk '$1 == "cpu" { print "machine", $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}
# cpu_share BEFORE AFTER WALL [WRK_CPU_SECONDS]: "% of one core" of each part while a load ran
cpu_share() {
    awk -v b="$1" -v a="$2" -v wall="$3" -v wrk="${4:-}" -v hz="$hz" '
        BEGIN {
            n = split(b, x, "\n"); for (i = 1; i <= n; i++) { split(x[i], y, " "); s[y[1]] = y[2] }
            n = split(a, x, "\n"); for (i = 1; i <= n; i++) { split(x[i], y, " "); e[y[1]] = y[2] }
            split("httpd redis rabbitmq mysql worker", part, " ")
            for (i = 1; i <= 5; i++) {
                k = part[i]; d = e[k] - s[k]; if (d < 0) d = 0 # a process restarted meanwhile
                used += d; printf "%s %3.0f%%  ", k, d / hz / wall * 100
            }
            if (wrk != "") { printf "wrk %3.0f%%  ", wrk / wall * 100; used += wrk * hz }
            other = (e["machine"] - s["machine"]) - used; if (other < 0) other = 0
            printf "other %3.0f%%", other / hz / wall * 100
        }'
}
hz=$(getconf CLK_TCK)

# BENCH_PERF_DIR=DIR: each load (and the drain) also sampled by `perf record -a -g` (software
# clock: works without hardware counters) into DIR/<load>.data, for `perf report -i`. Costs
# some CPU: the figures of such a run are not the ones to record.
perf_pid=
perf_start() {
    [ -n "${BENCH_PERF_DIR:-}" ] || return 0
    mkdir -p "$BENCH_PERF_DIR"
    perf record -q -a -g -e cpu-clock -F "${BENCH_PERF_FREQ:-499}" -o "$BENCH_PERF_DIR/$1.data" \
        >/dev/null 2>&1 &
    perf_pid=$!
    sleep 0.5
}
perf_stop() {
    [ -n "$perf_pid" ] || return 0
    kill -INT "$perf_pid" && wait "$perf_pid" || true
    perf_pid=
}

declare -A rps p50 p99 non2xx unexpected cpu other answers
order=()  # the loads of the report's table
probes=() # the fixed handler measured between two loads: not in the table
# The fixed handler's measurements in turn (fixed-*), and each load's right before and right
# after it (its ratio divides by their mean); waiting: the loads since the last one.
fixed_all=()
declare -A fixed_before fixed_after
waiting=()

# measure NAME EXPECTED [wrk args...]: one wrk run; EXPECTED is a regex of the answers
# ("status code") that are expected, every other answer counts as unexpected.
measure() {
    local name=$1 expected=$2 out=$work/$1.out before after wall t0 t1 wrk_cpu line n
    shift 2
    perf_start "$name"
    before=$(cpu_snapshot)
    t0=$(date +%s.%N)
    TIMEFORMAT='%U %S'
    { time BENCH_ORDER_IDS="$work/$name.oids" wrk --latency -t"$threads" -c"$conns" "$@" >"$out" 2>&1; } 2>"$work/$name.time" ||
        { cat "$out" >&2; die "wrk failed ($name)"; }
    t1=$(date +%s.%N)
    after=$(cpu_snapshot)
    perf_stop
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    wrk_cpu=$(awk '{ print $1 + $2 }' "$work/$name.time")
    cpu[$name]=$(cpu_share "$before" "$after" "$wall" "$wrk_cpu")
    other[$name]=$(sed 's/.*other *\([0-9]*\)%.*/\1/' <<<"${cpu[$name]}")
    line=$(grep '^RESULT' "$out") || { cat "$out" >&2; die "wrk printed no result ($name)"; }
    read -r _ "rps[$name]" "p50[$name]" "p99[$name]" _ "non2xx[$name]" errs _ <<<"$line"
    answers[$name]=$(awk '/^ANSWER/ { printf "%s%s %s: %s", sep, $2, $3, $4; sep = ", " }' "$out")
    unexpected[$name]=$(awk -v re="^($expected)\$" -v e="$errs" '
        /^ANSWER/ { if (($2 " " $3) !~ re) n += $4 } END { print n + e }' "$out")
    case $name in
    fixed-*)
        for n in "${waiting[@]}"; do fixed_after[$n]=$name; done
        waiting=()
        fixed_all+=("$name")
        ;;
    *)
        fixed_before[$name]="${fixed_all[*]: -1}" # none before the first
        waiting+=("$name")
        ;;
    esac
}
# load NAME EXPECTED [wrk args...]: a load of the table
load() {
    measure "$@"
    order+=("$1")
}
# probe: the fixed handler between two loads (fixed-probe-1, -2, … in turn)
probe() {
    local name=fixed-probe-$((${#probes[@]} + 1))
    measure "$name" '200 -' -d"${probe_secs}s" -s bench/wrk.lua "$base/seckill-ping"
    probes+=("$name")
}
count_answer() { awk -v k="$2 $3" '/^ANSWER/ && ($2 " " $3) == k { n += $4 } END { print n + 0 }' "$work/$1.out"; }

echo "bench: $(nproc) cores, wrk -t$threads -c$conns, ${secs}s a load (all-success ${buy_secs}s in $buy_parts parts), $base, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "rate limit: OFF for this run (httpd restarted with SECKILL_RATE_LIMIT=0; it had $rate_before)"

# 1, 2: ceilings and listing (wrk sends one static request; answers counted by wrk.lua)
load static-file '200 -' -d"${secs}s" -s bench/wrk.lua "$base/static/css/shop.css"
load fixed-handler '200 -' -d"${secs}s" -s bench/wrk.lua "$base/seckill-ping"
load listing-html '200 -' -d"${secs}s" -s bench/wrk.lua -H 'Accept: text/html' "$base/?slot=$slot"
probe
load listing-json '200 -' -d"${secs}s" -s bench/wrk.lua -H 'Accept: application/json' "$base/?slot=$slot"
probe

# ---- products for the buys -------------------------------------------------------------------

s_ids=$(make_products s "$s_products" "$s_stock")
a_ids=$(make_products a "$a_products" "$a_stock")
all_ids="$s_ids,$a_ids"
cache_products "$all_ids"

# shoppers as the shop would have issued them
perl bench/identities.pl "$s_shoppers" 1 >"$work/stampede.ids"
perl bench/identities.pl "$a_shoppers" 2 >"$work/buyers.ids"
perl bench/identities.pl 1 3 >"$work/probe.ids"

# the rate limit is really off: one shopper buys one product 8 times in a row (limit 5/s
# would answer 429 from the 6th on; off, the repeats are already_bought)
IFS=$'\t' read -r p_cookie p_csrf <"$work/probe.ids"
probe_buy() { # [-o /dev/null]
    curl -s "$@" -w '%{http_code} ' -X POST -H 'Accept: application/json' \
        -H "Cookie: seckill_id=$p_cookie" -H "X-CSRF-Token: $p_csrf" "$base/buy/${a_ids%%,*}"
}
first=$(probe_buy)
sed -n 's/.*"order_id":"\([0-9]*\)".*/\1/p' <<<"$first" >"$work/probe.oids"
limit_seen="${first##*$'\n'}$(for _ in 2 3 4 5 6 7 8; do probe_buy -o /dev/null; done)"
[[ $limit_seen == "200 409 409 409 409 409 409 409 " ]] ||
    die "rate-limit probe answered: $limit_seen(expected 200 then 409s)"
echo "rate limit check: 8 buys of one shopper in a row answered $limit_seen(no 429)"

# ---- 3. stampede ------------------------------------------------------------------------------

load stampede '200 ok|409 sold_out|409 already_bought' -d"${secs}s" -s bench/wrk.lua "$base/" -- \
    buy "$work/stampede.ids" "$s_ids" cycle "$threads"

s_sold=$(sales_of "$s_ids") # orders sold, as the buy script recorded them
for _ in $(seq 1 300); do [ "$(orders_of "$s_ids")" -ge "$s_sold" ] && break; sleep 0.2; done
probe

# ---- 4. all-success, the worker stopped ---------------------------------------------------------

stop_worker
dead_before=$("$amqp_tool" count seckill.order.dead)
parts=() # all-success-1 … : each part goes on where the one before ended (wrk.lua's NEXT)
from=0
for i in $(seq 1 "$buy_parts"); do
    load "all-success-$i" '200 ok' -d"${part_secs}s" -s bench/wrk.lua "$base/" -- \
        buy "$work/buyers.ids" "$a_ids" pairs "$threads" "$from"
    from=$(sed -n 's/^NEXT //p' "$work/all-success-$i.out")
    parts+=("all-success-$i")
    probe # the worker still stopped: its drain is not in it
done
a_sold=$(sales_of "$a_ids")
queued=$("$amqp_tool" count seckill.order.create)

# ---- 5. worker drain ------------------------------------------------------------------------------

queued_rows=$(orders_of "$a_ids") # the probe's, written before the worker stopped
perf_start drain
before=$(cpu_snapshot)
t0=$(date +%s.%N)
start_worker
rows=0
deadline=$(($(date +%s) + drain_max))
while :; do
    rows=$(orders_of "$a_ids")
    [ "$rows" -ge "$a_sold" ] && break
    [ "$(date +%s)" -ge "$deadline" ] && break
    sleep 0.2
done
t1=$(date +%s.%N)
after=$(cpu_snapshot)
perf_stop
drain_secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
drained=$((rows - queued_rows))
drain_rate=$(awk -v n="$drained" -v s="$drain_secs" 'BEGIN { printf "%.0f", n / s }')
drain_cpu=$(cpu_share "$before" "$after" "$drain_secs")

# the ceilings again: the static file's ratios divide by the mean of both measurements
load static-file-end '200 -' -d"${secs}s" -s bench/wrk.lua "$base/static/css/shop.css"
load fixed-handler-end '200 -' -d"${secs}s" -s bench/wrk.lua "$base/seckill-ping"
ceil_static=$(awk -v a="${rps[static-file]}" -v b="${rps[static-file-end]}" 'BEGIN { print (a + b) / 2 }')
ceil_near() { # LOAD: the mean of the fixed handler's measurements right before and after it
    awk -v a="${rps[${fixed_before[$1]}]}" -v b="${rps[${fixed_after[$1]}]}" 'BEGIN { print (a + b) / 2 }'
}

# ---- report ---------------------------------------------------------------------------------------

label() {
    case $1 in
    static-file) echo "static file (/static/css/shop.css)" ;;
    fixed-handler) echo "fixed handler (/seckill-ping)" ;;
    static-file-end) echo "static file, again at the end" ;;
    fixed-handler-end) echo "fixed handler, again at the end" ;;
    listing-html) echo "listing, HTML (GET /)" ;;
    listing-json) echo "listing, JSON (GET /)" ;;
    stampede) echo "stampede (POST /buy, sold out)" ;;
    all-success-*) echo "all-success, part ${1#all-success-}/$buy_parts (POST /buy)" ;;
    esac
}
echo
printf '%-36s %9s %9s %9s %8s %10s\n' load req/s 'p50 ms' 'p99 ms' non-2xx unexpected
for n in "${order[@]}"; do
    printf '%-36s %9s %9.2f %9.2f %8s %10s\n' "$(label "$n")" "$(num "${rps[$n]}")" "${p50[$n]}" \
        "${p99[$n]}" "$(num "${non2xx[$n]}")" "$(num "${unexpected[$n]}")"
done
printf '%-36s %9s   (%s orders in %s s; %s messages queued in RabbitMQ when it started, several orders a message)\n' \
    "worker drain (orders/s)" "$(num "$drain_rate")" "$(num "$drained")" "$drain_secs" "$(num "$queued")"

printf '\nthe fixed handler through the run (req/s): %s\n' \
    "$(for n in "${fixed_all[@]}"; do printf '%s ' "$(num "${rps[$n]}")"; done)"
for n in "${probes[@]}"; do
    [ "${unexpected[$n]}" = 0 ] || echo "($n: ${unexpected[$n]} unexpected answers: ${answers[$n]})"
done
printf 'ratios: to the static file, the mean of its two measurements (%s req/s ± %s%%); to the fixed\nhandler, the mean of its measurements right before and right after the load (req/s in brackets):\n' \
    "$(num "$ceil_static")" "$(awk -v a="${rps[static-file]}" -v b="${rps[static-file-end]}" 'BEGIN { d = (a - b) / (a + b) * 100; printf "%.0f", d < 0 ? -d : d }')"
printf '%-36s %13s %26s   %s\n' "" "× static file" "× fixed handler" goal
goal() { # the goals of the issue, × the fixed handler
    case $1 in
    stampede) echo 0.80 ;;
    all-success) echo 0.35 ;;
    listing-*) echo 0.50 ;;
    esac
}
# ratio_row LABEL REQ/S CEILING GOAL OTHER: one row of ratios; no GOAL for a part of a load
ratio_row() {
    awk -v l="$1" -v a="$2" -v f="$3" -v g="$4" -v o="$5" -v s="$ceil_static" 'BEGIN {
        printf "%-36s %13.2f %9.3f (%7.0f req/s)   ", l, a / s, a / f, f
        if (g == "") printf "(a part: the goal is the parts together)"
        else printf "≥ %.2f × fixed handler: %s", g, (a / f >= g ? "met" : "not met")
        printf "%s\n", (o > 15 ? ("  (noisy: the rest of the machine took " o "%)") : "") }'
}
noisy=0
for n in listing-html listing-json stampede "${parts[@]}"; do
    ratio_row "$(label "$n")" "${rps[$n]}" "$(ceil_near "$n")" "$(goal "$n")" "${other[$n]}"
    [ "${other[$n]}" -le 15 ] || noisy=1
done
# the parts together, each weighing the same (equal durations): the mean of their buys/s over
# the mean of their adjacent ceilings
read -r a_mean f_mean < <(for n in "${parts[@]}"; do echo "${rps[$n]} $(ceil_near "$n")"; done |
    awk '{ a += $1; f += $2 } END { print a / NR, f / NR }')
ratio_row "all-success, the $buy_parts parts together" "$a_mean" "$f_mean" "$(goal all-success)" 0
for n in static-file static-file-end "${fixed_all[@]}"; do [ "${other[$n]}" -le 15 ] || noisy=1; done
printf '%-36s %13s orders/s          goal ≥ 5000 orders/s: %s\n' "worker drain" "$(num "$drain_rate")" \
    "$([ "$drain_rate" -ge 5000 ] && echo met || echo not met)"

[ "$noisy" = 0 ] || echo "(other processes on this machine took more than 15% of it during some loads, see CPU below: those ratios are skewed; run again when it is quieter)"
echo
echo "CPU while each load ran (% of one core, $(nproc)00% in all; other = the rest of the machine),"
echo "and httpd's CPU an answer (the same code costs about the same each time: a load where it jumps"
echo "ran in a slow spell of the machine, which this VM may not report as other or steal):"
for n in "${order[@]}" "${probes[@]}"; do
    h=$(sed -n 's/^httpd *\([0-9]*\)%.*/\1/p' <<<"${cpu[$n]}")
    printf '  %-22s %s  httpd %s us an answer\n' "$n" "${cpu[$n]}" \
        "$(awk -v h="$h" -v r="${rps[$n]}" 'BEGIN { printf "%.0f", (r > 0 ? h * 1e4 / r : 0) }')"
done
printf '  %-22s %s\n' "worker drain" "$drain_cpu"

echo
echo "answers (status code: count):"
for n in "${order[@]}"; do printf '  %-22s %s\n' "$n" "${answers[$n]}"; done

# ---- audit ----------------------------------------------------------------------------------------

# orders whose "ok" wrk saw: every one must be a row (order ids from the answers)
echo
echo "audit (after the drain):"
for _ in $(seq 1 150); do # the stampede's and the probe's orders, written meanwhile
    [ "$(orders_of "$all_ids")" -ge "$((s_sold + a_sold))" ] && break
    sleep 0.2
done
oversold=0 mismatch=0 badstock=0
while IFS=$'\t' read -r id initial mstock kept; do
    rstock=$(rcli GET "seckill:stock:{p$id}")
    [ "$kept" -le "$initial" ] || oversold=$((oversold + 1))
    [ "$rstock" = "$mstock" ] || mismatch=$((mismatch + 1))
    [ "$((initial - mstock))" = "$kept" ] || badstock=$((badstock + 1))
done < <(sql "SELECT p.id, IF(p.name LIKE 'bench-$tag-s%', $s_stock, $a_stock), p.stock,
                     (SELECT COUNT(*) FROM seckill_orders o WHERE o.goods_id = p.id AND o.status <> 2)
              FROM seckill_products p WHERE p.id IN ($all_ids)")
rows=$(orders_of "$all_ids")
sold=$((s_sold + a_sold))
dead=$(($("$amqp_tool" count seckill.order.dead) - dead_before))
left=$("$amqp_tool" count seckill.order.create)
# every "ok" answer wrk saw (and the probe's) must be a row, under its order id
sort "$work"/*.oids >"$work/seen"
sql "SELECT id FROM seckill_orders WHERE goods_id IN ($all_ids)" | sort >"$work/rows"
lost=$(comm -23 "$work/seen" "$work/rows" | wc -l)
twice=$(uniq -d "$work/seen" | wc -l)
unseen=$(comm -13 "$work/seen" "$work/rows" | wc -l)
printf '  %-62s %s\n' "oversold products (orders not cancelled > initial stock)" "$oversold" \
    "lost orders (\"ok\" answers without their order row)" "$lost" \
    "Redis/MySQL stock mismatches (products)" "$mismatch" \
    "MySQL stock != initial stock - orders (products)" "$badstock" \
    "orders sold in Redis - order rows" "$((sold - rows))" \
    "order ids answered twice" "$twice" \
    "orders dead-lettered (seckill.order.dead)" "$dead" \
    "orders still queued (seckill.order.create)" "$left"
printf '  %-62s %s\n' "rows whose \"ok\" wrk did not read (in flight as a load ended)" "$unseen (≤ $conns a buy load)"
fails=$((oversold + lost + mismatch + badstock + twice + dead + left))
[ "$rows" = "$sold" ] || fails=$((fails + 1))
if [ "$fails" != 0 ]; then
    echo "  audit: FAILED"
    exit 1
fi
echo "  audit: all 0 — consistent"
