#!/usr/bin/env bash
# db.sh: the stack's MariaDB database, over TCP as the app user (scripts/env.sh).
#
#   scripts/db.sh schema        apply sql/schema.sql (idempotent)
#   scripts/db.sh demo          load sql/demo.sql: today's 24 demo products (idempotent)
#   scripts/db.sh sql "STMT"    run statement(s); tab-separated rows, no header (for tests);
#                               without STMT the statements are read from stdin
#   scripts/db.sh reset         empty seckill_orders and seckill_products (for tests);
#                               ids are not reused afterwards (DELETE keeps AUTO_INCREMENT)
#   scripts/db.sh shell         an interactive client
#
# The servers must be up (scripts/stack.sh start mysql).
set -euo pipefail

PROG=db.sh
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

# client ARGS...: the mariadb client as the app user, ignoring every my.cnf
client() {
    MYSQL_PWD=$SECKILL_MYSQL_PASSWORD mariadb --no-defaults --protocol=TCP \
        -h "$SECKILL_HOST" -P "$SECKILL_MYSQL_PORT" -u "$SECKILL_MYSQL_USER" \
        --default-character-set=utf8mb4 --connect-timeout=5 "$@" "$SECKILL_MYSQL_DB"
}

# run_file FILE WHAT
run_file() {
    [[ -r $1 ]] || die "cannot read $1"
    client --batch <"$1" ||
        die "$2 failed (is the stack up? scripts/stack.sh start mysql)"
}

usage() {
    sed -n '3,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

cmd=${1:-}
case $cmd in
schema)
    run_file "$SECKILL_TOP/sql/schema.sql" schema
    echo "$PROG: schema applied to $SECKILL_MYSQL_DB on port $SECKILL_MYSQL_PORT"
    ;;
demo)
    run_file "$SECKILL_TOP/sql/demo.sql" "demo data"
    n=$(client -N -B -e "SELECT COUNT(*) FROM seckill_products
        WHERE seckill_end_time > CURDATE() AND seckill_end_time <= CURDATE() + INTERVAL 1 DAY") ||
        die "cannot count the products"
    echo "$PROG: demo data loaded: today's slots hold $n products"
    ;;
sql)
    shift
    if (($# > 1)); then
        die "sql takes one argument (quote the statement)"
    elif (($# == 1)); then
        client -N -B -e "$1"
    else
        client -N -B
    fi
    ;;
reset)
    client -e "DELETE FROM seckill_orders; DELETE FROM seckill_products;" ||
        die "reset failed (is the stack up and the schema applied?)"
    ;;
shell)
    shift
    client "$@"
    ;;
-h | --help | help | '') usage ;;
*)
    printf '%s: unknown command: %s\n' "$PROG" "$cmd" >&2
    usage
    ;;
esac
