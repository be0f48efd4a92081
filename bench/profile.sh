#!/usr/bin/env bash
# bench/profile.sh: where the time of `make bench` goes, against the `make run` stack.
#
#   bench/profile.sh setup                 rate limit off, bench products and shoppers (kept)
#   bench/profile.sh load NAME [WRK ARGS]  one load against them: ping static listing-html
#                                          listing-json stampede all-success (default -t2 -c64 -d10s)
#   bench/profile.sh callgrind [NAMES]     httpd -X under valgrind's callgrind, one profile a load
#                                          (default: ping stampede all-success listing-json); prints
#                                          instructions a request and the top functions
#   bench/profile.sh worker [SECONDS]      queues SECONDS (10) of all-success buys with the worker
#                                          stopped, then drains them with the worker under callgrind
#                                          and, separately, under strace (time waiting a server)
#   bench/profile.sh drain [N [SECONDS]]   queues SECONDS (10) of all-success buys, then drains them
#                                          with N (1) workers side by side: orders/s
#   bench/profile.sh amqp [N]              RabbitMQ alone: N (32,000) confirmed persistent publishes
#                                          into a throwaway queue, one a confirm or in bursts,
#                                          classic queue v1 and v2: msgs/s, broker CPU a message
#   bench/profile.sh cpu NAME [WRK ARGS]   one load (as `load`), then the CPU time each server of
#                                          this stack (by its pid files, not other stacks on the
#                                          machine) spent a request: us of httpd, redis, rabbitmq,
#                                          mysql, worker
#   bench/profile.sh calls [NAMES]         what a request costs in calls, one 5-s load each (default:
#                                          ping stampede all-success listing-json listing-html):
#                                          Redis reads and connections, MySQL connections and
#                                          statements, the module's pool connects, and the
#                                          malloc family in httpd's children (perf uprobes; root)
#   bench/profile.sh cleanup               bench products deleted, httpd back to its rate limit
#
# Hardware counters are not available in this VM (`perf stat -e instructions true` says "not
# supported"), hence callgrind; `BENCH_PERF_DIR=DIR make bench` samples the real loads with
# perf's software clock instead. Output under $BENCH_PROFILE_DIR (/tmp/seckill-profile).
set -euo pipefail
prog=profile
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=${BENCH_PROFILE_DIR:-/tmp/seckill-profile}
state=$dir/state.sh
mkdir -p "$dir"
chmod 1777 "$dir" # httpd's children write there as www-data

need_setup() {
    [ -s "$state" ] || die "run 'bench/profile.sh setup' first"
    # shellcheck disable=SC1090
    source "$state"
}

# run_load NAME [WRK ARGS]: one wrk run of a named load; prints wrk's output
run_load() {
    local name=$1 from
    shift
    need_setup
    case $name in
    ping) wrk "$@" -s bench/wrk.lua "$base/seckill-ping" ;;
    static) wrk "$@" -s bench/wrk.lua "$base/static/css/shop.css" ;;
    listing-html) wrk "$@" -s bench/wrk.lua -H 'Accept: text/html' "$base/?slot=$slot" ;;
    listing-json) wrk "$@" -s bench/wrk.lua -H 'Accept: application/json' "$base/?slot=$slot" ;;
    stampede) wrk "$@" -s bench/wrk.lua "$base/" -- buy "$dir/stampede.ids" "$s_ids" cycle "$(wrk_threads "$@")" ;;
    all-success)
        from=$(cat "$dir/next" 2>/dev/null || echo 0)
        wrk "$@" -s bench/wrk.lua "$base/" -- buy "$dir/buyers.ids" "$a_ids" pairs "$(wrk_threads "$@")" "$from" |
            tee "$dir/last.out"
        sed -n 's/^NEXT //p' "$dir/last.out" >"$dir/next"
        # past shoppers x products, pairs repeat: those buys answer already_bought, from memory,
        # and the load looks twice as fast as selling
        pairs=$(($(wc -l <"$dir/buyers.ids") * $(tr ',' '\n' <<<"$a_ids" | wc -l)))
        [ "$(cat "$dir/next")" -lt "$pairs" ] ||
            say "profile: the $pairs (shopper, product) pairs of all-success are used up: the next loads repeat them; run 'bench/profile.sh cleanup' and 'setup' again"
        ;;
    *) die "no load named $name" ;;
    esac
}
wrk_threads() { # the -t of wrk args
    local a
    for a in "$@"; do case $a in -t*) echo "${a#-t}"; return ;; esac; done
    echo 2
}

# queue_orders SECONDS: the worker stopped, SECONDS of all-success buys; sets queued (orders
# sold meanwhile, from Redis) and target (the order rows there will be once all are written)
queue_orders() {
    local sales0
    stop_worker
    sales0=$(sales_of "$a_ids")
    run_load all-success -t2 -c64 -d"$1s" | grep -E '^RESULT' >&2
    target=$(sales_of "$a_ids")
    queued=$((target - sales0))
}

# "name ticks" of this stack's servers (their processes and threads, children included)
stack_cpu() {
    local name file pid kids
    for name in httpd:$httpd_pid redis:$SECKILL_RUN_DIR/redis/redis.pid \
        mysql:$SECKILL_RUN_DIR/mysql/mysqld.pid rabbitmq:$SECKILL_RUN_DIR/rabbitmq/rabbitmq.pid \
        worker:$worker_pid; do
        file=${name#*:}
        pid=$(cat "$file" 2>/dev/null) || pid=
        kids=$( [ -n "$pid" ] && pgrep -P "$pid" | tr '\n' ' ')
        for p in $pid $kids; do
            awk -v n="${name%%:*}" '{ sub(/^.*\) /, ""); split($0, g, " "); print n, g[12] + g[13] }' \
                "/proc/$p/stat" 2>/dev/null
        done
    done | awk '{ t[$1] += $2 } END { for (k in t) print k, t[k] }'
}

# "name value" of the counters `calls` compares: Redis (INFO), MySQL (global status) and the
# module's own pools (/seckill-status?auto, all children)
call_counters() {
    rcli INFO stats | tr -d '\r' |
        awk -F: '$1 ~ /^total_(reads_processed|connections_received)$/ { print "redis_" $1, $2 }'
    rcli INFO commandstats | tr -d '\r' | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\).*/redis_evalsha \1/p'
    sql "SHOW GLOBAL STATUS WHERE Variable_name IN ('Connections', 'Questions')" |
        awk '{ print "mysql_" $1, $2 }'
    curl -fsS "$base/seckill-status?auto" |
        awk -F': ' '$1 ~ /^(Redis|MySQL|AMQP)Connects$/ { print "pool_" $1, $2 }'
}

# the perf uprobes on libc's allocator, added once; fails without perf or root
malloc_probes() {
    local libc f
    libc=$(ldconfig -p | awk '/libc\.so\.6 .*x86-64/ { print $NF; exit }')
    [ -n "$libc" ] && command -v perf >/dev/null || return 1
    for f in malloc calloc realloc free; do
        perf probe -l 2>/dev/null | grep -q "probe_libc:$f " ||
            perf probe -q -x "$libc" --add "$f" >/dev/null 2>&1 || return 1
    done
}

cmd=${1:-}
shift || true
case $cmd in
setup)
    stack_up
    cleanup_products
    settle
    slot=$(curl -fsS -H 'Accept: application/json' "$base/" | sed -n 's/.*"selected_slot":\([0-9]*\).*/\1/p')
    # the listing profiled is a demo slot next to the current one, which the bench products join
    slot=$((slot == 22 ? 20 : slot + 2))
    s_ids=$(make_products s 3 100)
    a_ids=$(make_products a 20 1000000)
    cache_products "$s_ids,$a_ids"
    perl bench/identities.pl 10000 1 >"$dir/stampede.ids"
    perl bench/identities.pl 50000 2 >"$dir/buyers.ids"
    printf 's_ids=%s\na_ids=%s\nslot=%s\nrate_before=%s\n' "$s_ids" "$a_ids" "$slot" "$rate_before" >"$state"
    echo 0 >"$dir/next"
    say "profile: ready: stampede products $s_ids (stock 100), all-success products $a_ids; rate limit off"
    ;;
load)
    name=${1:?load NAME}
    shift
    [ $# -gt 0 ] || set -- -t2 -c64 -d10s --latency
    run_load "$name" "$@"
    ;;
callgrind)
    need_setup
    [ $# -gt 0 ] || set -- ping stampede all-success listing-json
    secs=${BENCH_SECONDS:-10}
    stop_httpd
    : >"$dir/callgrind.loads"
    for name in "$@"; do
        # One httpd -X (one process, its threads run one at a time) per load, counting only
        # what runs inside ap_run_process_connection and the module's publisher thread (its
        # work is the buys' publishes): the requests, not startup or the MPM's idle threads. Its children drop root for www-data before the profile is written,
        # so the file is made writable first.
        out=$dir/callgrind.httpd.$name
        rm -f "$out"* && touch "$out" && chmod 666 "$out"
        SECKILL_RATE_LIMIT=0 valgrind --tool=callgrind --vgdb=no --callgrind-out-file="$out" \
            --collect-atstart=no --toggle-collect=ap_run_process_connection \
            --toggle-collect='*publisher_thread' \
            "$HTTPD" "${httpd_args[@]}" -X >"$dir/valgrind.$name.log" 2>&1 &
        vg=$!
        wait_http 600 || die "httpd under valgrind does not answer ($dir/valgrind.$name.log)"
        n=$(run_load "$name" -t1 -c8 -d"${secs}s" | awk '/^RESULT/ { print $5 }')
        kill -TERM "$vg"
        wait "$vg" || true
        echo "$name $((n + 1))" >>"$dir/callgrind.loads" # + wait_http's GET
    done
    restart_httpd 0
    while read -r name n; do
        f=$dir/callgrind.httpd.$name
        [ -s "$f" ] || { say "profile: $name: no profile (see $dir/valgrind.$name.log)"; continue; }
        total=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ && !t { gsub(",", "", $1); t = $1 } END { print t }')
        printf '\n== %s: %s requests, %s instructions, %s a request (%s)\n' "$name" "$n" "$total" \
            "$(awk -v t="$total" -v n="$n" 'BEGIN { printf "%.0f", t / n }')" "$f"
        callgrind_annotate --inclusive=yes "$f" 2>/dev/null | sed -n '/^Ir/,$p' | sed -n '3,45p'
        echo "-- self cost:"
        callgrind_annotate "$f" 2>/dev/null | sed -n '/^Ir/,$p' | sed -n '3,30p'
    done <"$dir/callgrind.loads"
    ;;
worker)
    need_setup
    secs=${1:-10}
    queue_orders "$secs"
    say "profile: $queued orders queued; draining them with the worker under callgrind ..."
    rm -f "$dir"/callgrind.worker.*
    start_worker valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.worker.%p"
    t0=$(date +%s.%N)
    while [ "$(orders_of "$a_ids")" -lt "$target" ]; do sleep 0.5; done
    t1=$(date +%s.%N)
    stop_worker
    f=$(ls -t "$dir"/callgrind.worker.* | sed -n 1p)
    total=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ && !t { gsub(",", "", $1); t = $1 } END { print t }')
    printf '\n== worker (under callgrind, %.1f s): %s orders, %s instructions, %s an order (%s)\n' \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$queued" "$total" \
        "$(awk -v t="$total" -v n="$queued" 'BEGIN { printf "%.0f", t / n }')" "$f"
    callgrind_annotate --inclusive=yes "$f" 2>/dev/null | sed -n '/^Ir/,$p' | sed -n '3,45p'
    echo "-- self cost:"
    callgrind_annotate "$f" 2>/dev/null | sed -n '/^Ir/,$p' | sed -n '3,25p'

    # the same again, natively, under strace: the worker's calls to each server per order
    queue_orders "$secs"
    say "profile: $queued orders queued; draining them natively under strace ..."
    start_worker
    wpid=$(cat "$worker_pid")
    strace -f -tt -T -o "$dir/worker.strace" -e trace=%network,read,write,poll,ppoll -p "$wpid" 2>/dev/null &
    st=$!
    t0=$(date +%s.%N)
    while [ "$(orders_of "$a_ids")" -lt "$target" ]; do sleep 0.5; done
    t1=$(date +%s.%N)
    ss -tnp 2>/dev/null | grep "pid=$wpid," >"$dir/worker.sockets" || true
    kill -INT "$st"
    wait "$st" || true
    printf '\n== worker under strace (slowed by it): %d orders in %.1f s (%s)\n' "$queued" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "$dir/worker.strace"
    printf '%10s %10s %10s  %s\n' "calls" "an order" "seconds" "server call"
    # the port of each socket fd, then the calls on it (an <unfinished ...> call's fd is kept
    # for its "<... resumed>" line, which carries the time)
    awk -v n="$queued" '
        FNR == NR { split($5, a, ":"); match($6, /fd=[0-9]+/); if (RLENGTH > 0) srv[substr($6, RSTART + 3, RLENGTH - 3)] = a[2]; next }
        /<unfinished \.\.\.>/ {
            call = $3; sub(/\(.*/, "", call); pend[$1] = fd_of($0, call); next
        }
        {
            if (!match($0, /<[0-9.]+>$/)) next
            t = substr($0, RSTART + 1, RLENGTH - 2)
            if ($3 == "<...") { call = $4; fd = pend[$1] } else { call = $3; sub(/\(.*/, "", call); fd = fd_of($0, call) }
            key = (fd in srv ? (srv[fd] == 3307 ? "mysql" : srv[fd] == 6380 ? "redis" : srv[fd] == 5673 ? "rabbitmq" : srv[fd]) : "fd " fd) " " call
            tot[key] += t; cnt[key]++
        }
        function fd_of(line, call,    f) {
            if (call ~ /poll/) { match(line, /fd=[0-9]+/); return substr(line, RSTART + 3, RLENGTH - 3) }
            f = line; sub(/^[^(]*\(/, "", f); sub(/[^0-9].*/, "", f); return f
        }
        END { for (k in tot) printf "%10d %10.2f %10.3f  %s\n", cnt[k], cnt[k] / n, tot[k], k }' \
        "$dir/worker.sockets" "$dir/worker.strace" | sort -k1,1nr | head -20
    ;;
drain)
    need_setup
    workers=${1:-1}
    secs=${2:-10}
    queue_orders "$secs"
    say "profile: $queued orders queued; draining them with $workers worker(s) ..."
    q0=$(sql "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_insert')" | awk '{ printf "%s ", $2 }')
    t0=$(date +%s.%N)
    start_worker
    extra=()
    for i in $(seq 2 "$workers"); do
        SECKILL_WORKER_PID_FILE=$dir/worker$i.pid nohup "$top/build/seckill-worker" -f \
            -c "$worker_dir/worker.conf" >>"$worker_dir/worker.log" 2>&1 &
        extra+=($!)
    done
    while [ "$(orders_of "$a_ids")" -lt "$target" ]; do sleep 0.2; done
    t1=$(date +%s.%N)
    [ ${#extra[@]} = 0 ] || { kill -TERM "${extra[@]}"; wait "${extra[@]}" || true; }
    q1=$(sql "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_insert')" | awk '{ printf "%s ", $2 }')
    awk -v a="$t0" -v b="$t1" -v n="$queued" -v w="$workers" \
        'BEGIN { printf "profile: %d orders drained by %d worker(s) in %.2f s: %.0f orders/s\n", n, w, b - a, n / (b - a) }'
    # SHOW STATUS lists Com_insert before Questions
    awk -v a="$q0" -v b="$q1" -v n="$queued" 'BEGIN { split(a, x, " "); split(b, y, " ")
        printf "profile: MySQL meanwhile: %d statements (%.3f an order), %d INSERTs (%.4f an order, %.0f orders an INSERT)\n",
            y[2] - x[2], (y[2] - x[2]) / n, y[1] - x[1], (y[1] - x[1]) / n, n / (y[1] - x[1] > 0 ? y[1] - x[1] : 1) }'
    ;;
amqp)
    # RabbitMQ alone: confirmed persistent publishes, one a confirm (as a buy does) or in bursts
    total=${1:-32000}
    cc -O2 -o "$dir/amqp_publish" bench/amqp_publish.c $(pkg-config --cflags --libs librabbitmq) ||
        die "cannot build bench/amqp_publish.c (librabbitmq-dev)"
    body='{"order_id":"2125426864771178496","user_id":"AAAAAQAAAAH_R1q-E58quw","product_id":143,"price":"309.00","quantity":1,"created_ms":1795576413668,"pay_deadline_ms":1795576713668,"token":"jlw_o1vtHelw3HXJajKYpJEnp4HupPe9zysJZBHMkOU"}'
    beam=$(pgrep -o -f "beam.smp.*$SECKILL_AMQP_NODE" || pgrep -o beam.smp) || die "no RabbitMQ running"
    hz=$(getconf CLK_TCK)
    printf '%-44s %10s %22s\n' "publishing ($total messages of ${#body} bytes)" msgs/s "RabbitMQ CPU a message"
    for v in 1 2; do
        for run in "64 1" "8 8" "8 32"; do
            read -r procs burst <<<"$run"
            c0=$(awk '{ print $14 + $15 }' "/proc/$beam/stat")
            t0=$(date +%s.%N)
            for _ in $(seq "$procs"); do "$dir/amqp_publish" "$v" $((total / procs)) "$burst" "$body" & done
            wait
            t1=$(date +%s.%N)
            c1=$(awk '{ print $14 + $15 }' "/proc/$beam/stat")
            awk -v a="$t0" -v b="$t1" -v n="$total" -v t=$((c1 - c0)) -v hz="$hz" \
                -v l="classic v$v, $procs connections, bursts of $burst" \
                'BEGIN { printf "%-44s %10.0f %19.0f us\n", l, n / (b - a), t / hz / n * 1e6 }'
        done
        "$dir/amqp_publish" "$v" 0 1 x delete
    done
    ;;
cpu)
    name=${1:?cpu NAME}
    shift
    [ $# -gt 0 ] || set -- -t2 -c64 -d10s --latency
    before=$(stack_cpu)
    n=$(run_load "$name" "$@" | tee "$dir/cpu.$name.out" | awk '/^RESULT/ { print $5 }')
    after=$(stack_cpu)
    grep -v '^RESULT\|^NEXT' "$dir/cpu.$name.out" || true
    awk -v b="$before" -v a="$after" -v n="$n" -v hz="$(getconf CLK_TCK)" -v l="$name" 'BEGIN {
        k = split(b, x, "\n"); for (i = 1; i <= k; i++) { split(x[i], y, " "); s[y[1]] = y[2] }
        k = split(a, x, "\n"); for (i = 1; i <= k; i++) { split(x[i], y, " "); e[y[1]] = y[2] }
        printf "profile: %s: %d requests; CPU a request:", l, n
        split("httpd redis rabbitmq mysql worker", part, " ")
        for (i = 1; i <= 5; i++) printf "  %s %.1f us", part[i], (e[part[i]] - s[part[i]]) / hz / n * 1e6
        print ""
    }'
    ;;
calls)
    need_setup
    [ $# -gt 0 ] || set -- ping stampede all-success listing-json listing-html
    # the worker's own Redis and MySQL calls would count as httpd's: stopped meanwhile
    worker_was=0
    alive "$worker_pid" && worker_was=1
    stop_worker
    probes=1
    malloc_probes || { probes=0; say "profile: no perf uprobes here (root and perf needed): allocations not counted"; }
    printf '%-13s %9s %8s %9s %9s %8s %9s %8s %8s %8s\n' load requests 'redis rd' evalsha \
        'redis cn' 'sql cn' 'sql stmt' 'pool cn' malloc free
    for name in "$@"; do
        before=$(call_counters)
        children=$(pgrep -P "$(cat "$httpd_pid")" | tr '\n' ',' | sed 's/,$//')
        if [ "$probes" = 1 ]; then
            perf stat -x, -e probe_libc:malloc,probe_libc:calloc,probe_libc:realloc,probe_libc:free \
                -p "$children" -o "$dir/calls.$name.perf" -- sleep 6 &
            pstat=$!
            sleep 0.5
        fi
        n=$(run_load "$name" -t2 -c64 -d5s | awk '/^RESULT/ { print $5 }')
        [ "$probes" = 1 ] && wait "$pstat"
        after=$(call_counters)
        allocs=$([ "$probes" = 1 ] && awk -F, '/probe_libc:(malloc|calloc|realloc)/ { a += $1 } /probe_libc:free/ { f += $1 } END { print a + 0, f + 0 }' "$dir/calls.$name.perf" || echo "- -")
        awk -v b="$before" -v a="$after" -v n="$n" -v l="$name" -v m="$allocs" 'BEGIN {
            k = split(b, x, "\n"); for (i = 1; i <= k; i++) { split(x[i], y, " "); s[y[1]] += y[2] }
            k = split(a, x, "\n"); for (i = 1; i <= k; i++) { split(x[i], y, " "); e[y[1]] += y[2] }
            split("redis_total_reads_processed redis_evalsha redis_total_connections_received mysql_Connections mysql_Questions", c, " ")
            printf "%-13s %9d", l, n
            for (i = 1; i <= 5; i++) printf " %9.3f", (e[c[i]] - s[c[i]]) / n
            pc = e["pool_RedisConnects"] + e["pool_MySQLConnects"] + e["pool_AMQPConnects"] - s["pool_RedisConnects"] - s["pool_MySQLConnects"] - s["pool_AMQPConnects"]
            split(m, q, " ")
            printf " %8.4f", pc / n
            if (q[1] == "-") printf " %8s %8s\n", "-", "-"; else printf " %8.3f %8.3f\n", q[1] / n, q[2] / n
        }'
    done
    [ "$worker_was" = 0 ] || start_worker
    say "profile: per request; redis rd = client reads Redis processed (round trips), redis/sql cn = connections the servers accepted, sql stmt = statements MySQL ran, pool cn = the module's own connects; malloc = malloc+calloc+realloc in httpd's children (uprobes slow each call: no req/s here)"
    ;;
cleanup)
    need_setup
    cleanup_products
    restart_httpd "$rate_before"
    rm -f "$state" "$dir/next"
    say "profile: bench products deleted; rate limit back to $rate_before"
    ;;
*)
    sed -n '2,18s/^# \{0,1\}//p' "$0" >&2
    exit 2
    ;;
esac
