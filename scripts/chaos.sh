#!/usr/bin/env bash
# make chaos: the fault-injection suite (t/chaos/*.t). Each scenario runs a stampede of
# distinct shoppers, breaks one part of the shop in the middle (the worker, RabbitMQ,
# MariaDB, Redis, httpd), waits for the queues to drain and audits the invariants
# (t/lib/Audit.pm). At the end the table of all scenarios is printed.
#
# It runs on a stack of its own (ports and folder below, each overridable), in a staged
# copy of t/ under that folder: Apache::Test writes t/conf, t/logs and t/state, so a
# `make test` in the source tree can run at the same time. The suite itself is run by
# scripts/test.sh --suite (stack start, schema, secret, t/TEST), as the unprivileged user
# when this runs as root, as `make test` does.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
say() { echo "chaos: $*"; }

export SECKILL_TEST_RUN_DIR=${SECKILL_CHAOS_RUN_DIR:-$top/build/chaos-run}
export SECKILL_TEST_HTTP_PORT=${SECKILL_CHAOS_HTTP_PORT:-28529}
export SECKILL_TEST_REDIS_PORT=${SECKILL_CHAOS_REDIS_PORT:-26390}
export SECKILL_TEST_MYSQL_PORT=${SECKILL_CHAOS_MYSQL_PORT:-23317}
export SECKILL_TEST_AMQP_PORT=${SECKILL_CHAOS_AMQP_PORT:-25683}
export SECKILL_TEST_RATE_LIMIT=${SECKILL_CHAOS_RATE_LIMIT:-5}
run=$SECKILL_TEST_RUN_DIR
stage=$run/tree
table=$run/chaos-table.tsv
user=${SECKILL_TEST_USER:-nobody}

make -s all

# The staged tree: a private t/ (copied afresh) and links to everything else the suite
# and httpd read (module, worker, config, Lua, templates, static files, scripts, the Alipay
# stand-in in tools/, bench/ for tests named that use it).
mkdir -p "$run" "$stage"
rm -rf "$stage/t"
mkdir -p "$stage/t/conf" "$stage/t/logs" "$stage/t/htdocs"
cp -p t/TEST "$stage/t/"
cp -p t/conf/extra.conf.in t/conf/htpasswd "$stage/t/conf/"
cp -rp t/lib t/chaos "$stage/t/"
# other tests named on the command line run on this stack too (e.g. t/api/hostile.t)
for a in "$@"; do
    case $a in t/chaos*) ;; t/*) [ -e "$a" ] && cp -rp --parents "$a" "$stage/" ;; esac
done
for d in build conf lua templates htdocs scripts sql keys tools bench; do
    [ -e "$top/$d" ] && ln -sfn "$top/$d" "$stage/$d"
done
: >"$table"
export SECKILL_CHAOS_TABLE=$table

tests=("${@:-t/chaos/}")
rc=0
if [ "$(id -u)" = 0 ]; then
    chown -R "$user" "$run"
    say "running t/chaos as $user on ports http $SECKILL_TEST_HTTP_PORT, redis" \
        "$SECKILL_TEST_REDIS_PORT, mysql $SECKILL_TEST_MYSQL_PORT, amqp $SECKILL_TEST_AMQP_PORT"
    (cd "$stage" && runuser -u "$user" -- bash "$stage/scripts/test.sh" --suite "${tests[@]}") || rc=$?
else
    (cd "$stage" && bash "$stage/scripts/test.sh" --suite "${tests[@]}") || rc=$?
fi

echo
echo "chaos: scenario results (invariants after the queues drained)"
if [ -s "$table" ]; then
    {
        printf 'scenario\trequests\tok\t503\tother\torders\toversold\tlost\tdups\tmismatched\n'
        cat "$table"
    } | column -t -s $'\t'
else
    echo "  (no scenario finished)"
fi
exit "$rc"
