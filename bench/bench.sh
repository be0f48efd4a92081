#!/usr/bin/env bash
# make bench: throughput of the shop measured against the same httpd's ceiling in ONE run,
# so the figures are ratios that hold on a noisy shared machine. Uses the `make run` stack
# (started if it is not up). Each load runs BENCH_SECONDS with wrk over loopback.
# (Issue 5 adds the buy stampede, all-success buys and the worker drain.)
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
# shellcheck source=scripts/env.sh
source scripts/env.sh
secs=${BENCH_SECONDS:-8}
conns=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-1}
base="http://$SECKILL_HTTP_LISTEN"

curl -fsS -o /dev/null "$base/static/css/shop.css" 2>/dev/null || scripts/run.sh start >/dev/null

slot=$(curl -fsS -H 'Accept: application/json' "$base/" | sed -n 's/.*"selected_slot":\([0-9]*\).*/\1/p')
curl -fsS -o /dev/null "$base/?slot=$slot"   # warm the cache

# wrk prints latency percentiles with --latency; a Lua done() hook prints parseable totals.
report=$(mktemp)
trap 'rm -f "$report"' EXIT
cat >"$report.lua" <<'LUA'
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
trap 'rm -f "$report" "$report.lua"' EXIT

declare -A rps
run() {
    local name=$1 url=$2 accept=$3 line
    line=$(wrk -t"$threads" -c"$conns" -d"${secs}s" -s "$report.lua" -H "Accept: $accept" "$url" | grep '^RESULT')
    read -r _ r p50 p99 non2xx errs <<<"$line"
    rps[$name]=$r
    printf '%-22s %10.0f req/s   p50 %7.2f ms   p99 %7.2f ms   non-2xx %d   errors %d\n' \
        "$name" "$r" "$p50" "$p99" "$non2xx" "$errs"
}

echo "bench: $(nproc) cores, wrk -t$threads -c$conns -d${secs}s, against $base"
run static-file "$base/static/css/shop.css" 'text/css'
run listing-html "$base/?slot=$slot" 'text/html'
run listing-json "$base/?slot=$slot" 'application/json'
echo
for n in listing-html listing-json; do
    awk -v a="${rps[$n]}" -v b="${rps[static-file]}" -v n="$n" \
        'BEGIN { printf "%-22s %.2f x static-file\n", n, a / b }'
done
