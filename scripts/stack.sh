#!/usr/bin/env bash
# stack.sh: private Redis, MariaDB and RabbitMQ instances of one seckill stack.
#
#   scripts/stack.sh start|stop|status|restart [redis|mysql|rabbitmq|all]   (default all)
#   scripts/stack.sh rabbitmqctl ARGS...   rabbitmqctl against this stack's node
#   scripts/stack.sh redis-cli ARGS...     redis-cli against this stack's Redis
#   scripts/stack.sh mysql-admin ARGS...   mariadb client as the admin, via the private socket
#
# Every server runs as the user who runs this script (root or not), bound to 127.0.0.1 on
# the ports of scripts/env.sh, with its config, data, log, pid and socket files under
# $SECKILL_RUN_DIR/<server>/. Nothing of the system's own instances (/etc, /var/lib,
# /run) is read or touched. start is idempotent and waits until each server really
# answers; stop stops only what this stack's pid files name.
#
# Tunables (environment): SECKILL_START_TIMEOUT (30 s; Redis, MariaDB),
# SECKILL_AMQP_START_TIMEOUT (60 s), SECKILL_STOP_TIMEOUT (60 s, then SIGKILL),
# SECKILL_MYSQL_BUFFER_POOL (128M), SECKILL_MYSQL_MAX_CONNECTIONS (1000).
set -euo pipefail

PROG=stack.sh
# shellcheck source=scripts/env.sh
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

: "${SECKILL_START_TIMEOUT:=30}"
: "${SECKILL_AMQP_START_TIMEOUT:=60}"
: "${SECKILL_STOP_TIMEOUT:=60}"
: "${SECKILL_MYSQL_BUFFER_POOL:=128M}"
: "${SECKILL_MYSQL_MAX_CONNECTIONS:=1000}"

LOOPBACK=127.0.0.1
# servers inherit it: as many descriptors as allowed (nobody's soft limit is 1024)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ME_UID=$(id -u)
ME_NAME=$(id -un)
RUN=$SECKILL_RUN_DIR
[[ -n $RUN ]] || { echo "$PROG: error: SECKILL_RUN_DIR is empty" >&2; exit 1; }

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------
# helpers

# alive PID [GLOB]: the process exists, is no zombie and, if GLOB is given, its command
# line ("ps -o args") matches GLOB (so a pid reused by another program is not ours).
alive() {
    local line stat args
    [[ $1 =~ ^[0-9]+$ ]] || return 1
    line=$(ps -o stat=,args= -p "$1" 2>/dev/null) || return 1
    read -r stat args <<<"$line" || true
    [[ -n $stat && $stat != Z* ]] || return 1
    # shellcheck disable=SC2053
    [[ -z ${2:-} || $args == $2 ]]
}

# pid_from_file FILE GLOB: print the pid FILE names if that process is alive and matches.
pid_from_file() {
    local pid=
    [[ -f $1 ]] || return 1
    read -r pid <"$1" || true
    alive "$pid" "$2" || return 1
    printf '%s\n' "$pid"
}

# clear_stale FILE GLOB WHAT: remove a pid file whose process is gone.
clear_stale() {
    if [[ -f $1 ]] && ! pid_from_file "$1" "$2" >/dev/null; then
        say "$3: removing stale pid file $1"
        rm -f "$1"
    fi
}

port_open() {
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$LOOPBACK" "$1" 2>/dev/null
}

# need_free_port PORT WHAT: fail clearly when someone else already listens there.
need_free_port() {
    if port_open "$1"; then
        die "$2: port $1 on $LOOPBACK is already in use by another process (not this" \
            "stack's, whose pid file names no live server); stop it or choose other" \
            "ports (scripts/env.sh)"
    fi
}

# stop_pid PID WHAT: SIGTERM, wait up to SECKILL_STOP_TIMEOUT, then SIGKILL.
stop_pid() {
    local pid=$1 what=$2 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < SECKILL_STOP_TIMEOUT * 10; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    warn "$what (pid $pid) did not stop within ${SECKILL_STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    warn "$what (pid $pid) is still there after SIGKILL"
    return 1
}

# wait_gone PID SECONDS: wait for a process to end by itself.
wait_gone() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        alive "$1" || return 0
        sleep 0.1
    done
    return 1
}

# prepare_dir DIR: create a server's folder; refuse one that belongs to another user
# (a stack started as root cannot be taken over by nobody, nor the other way round).
prepare_dir() {
    mkdir -p "$1" || die "cannot create $1"
    local owner
    owner=$(stat -c %u "$1")
    if [[ $owner != "$ME_UID" ]]; then
        die "$1 belongs to uid $owner, not to $ME_NAME (uid $ME_UID): run $PROG as" \
            "that user, or use another SECKILL_RUN_DIR"
    fi
}

# show_logs FILE...: the tail of a server's logs, for a failed start.
show_logs() {
    local f
    for f in "$@"; do
        [[ -s $f ]] || continue
        printf '%s: ---- last lines of %s ----\n' "$PROG" "$f" >&2
        tail -n 25 "$f" >&2 || true
    done
    printf '%s: ----\n' "$PROG" >&2
}

now() { date +%s; }
elapsed() { echo $(($(now) - $1)); }

# ---------------------------------------------------------------------------------------
# Redis

R_DIR=$RUN/redis
R_CONF=$R_DIR/redis.conf
R_PIDF=$R_DIR/redis.pid
R_LOG=$R_DIR/redis.log
R_GLOB="redis-server $LOOPBACK:$SECKILL_REDIS_PORT"

rcli() { redis-cli -h "$LOOPBACK" -p "$SECKILL_REDIS_PORT" "$@"; }
redis_pid() { pid_from_file "$R_PIDF" "$R_GLOB"; }
redis_ping() { [[ $(rcli ping 2>/dev/null) == PONG ]]; }
redis_healthy() { redis_pid >/dev/null && redis_ping; }

redis_write_conf() {
    cat >"$R_CONF" <<EOF
# generated by scripts/stack.sh: this stack's private Redis (rewritten on every start)
port $SECKILL_REDIS_PORT
bind $LOOPBACK
protected-mode yes
daemonize yes
pidfile $R_PIDF
logfile $R_LOG
loglevel notice
always-show-logo no
dir $R_DIR
save ""
appendonly yes
appendfilename "appendonly.aof"
appenddirname "appendonlydir"
appendfsync everysec
aof-load-truncated yes
tcp-backlog 511
timeout 0
tcp-keepalive 300
# tests may use DEBUG (SLEEP, RELOAD) from loopback on this private instance
enable-debug-command local
EOF
}

redis_launch() {
    prepare_dir "$R_DIR"
    clear_stale "$R_PIDF" "$R_GLOB" redis
    need_free_port "$SECKILL_REDIS_PORT" redis
    redis_write_conf
    : >>"$R_LOG"
    say "redis: starting on $LOOPBACK:$SECKILL_REDIS_PORT (data in $R_DIR)"
    if ! (cd "$R_DIR" && redis-server "$R_CONF" </dev/null); then
        show_logs "$R_LOG"
        die "redis: redis-server refused to start"
    fi
}

redis_wait() {
    local t0 pid
    t0=$(now)
    while :; do
        if redis_ping && pid=$(redis_pid); then
            say "redis: ready on port $SECKILL_REDIS_PORT, pid $pid ($(elapsed "$t0")s)"
            return 0
        fi
        if (($(elapsed "$t0") >= 3)) && ! redis_pid >/dev/null; then
            show_logs "$R_LOG"
            warn "redis: error: redis-server exited during start"
            return 1
        fi
        if (($(elapsed "$t0") >= SECKILL_START_TIMEOUT)); then
            show_logs "$R_LOG"
            warn "redis: error: no PONG within ${SECKILL_START_TIMEOUT}s"
            return 1
        fi
        sleep 0.1
    done
}

redis_stop() {
    local pid
    if ! pid=$(redis_pid); then
        clear_stale "$R_PIDF" "$R_GLOB" redis
        say "redis: not running"
        return 0
    fi
    # SHUTDOWN flushes and fsyncs the AOF, then exits (SIGTERM does the same).
    rcli shutdown >/dev/null 2>&1 || true
    if ! wait_gone "$pid" "$SECKILL_STOP_TIMEOUT"; then
        stop_pid "$pid" redis || return 1
    fi
    rm -f "$R_PIDF"
    say "redis: stopped (pid $pid)"
}

redis_status() {
    local pid
    if pid=$(redis_pid) && redis_ping; then
        printf '%-9s running  port %-5s pid %s\n' redis "$SECKILL_REDIS_PORT" "$pid"
    elif pid=$(redis_pid); then
        printf '%-9s starting port %-5s pid %s (no PONG yet)\n' redis "$SECKILL_REDIS_PORT" "$pid"
        return 1
    else
        printf '%-9s stopped  port %s\n' redis "$SECKILL_REDIS_PORT"
        return 1
    fi
}

# ---------------------------------------------------------------------------------------
# MariaDB

M_DIR=$RUN/mysql
M_DATA=$M_DIR/data
M_CNF=$M_DIR/my.cnf
M_SOCK=$M_DIR/mysqld.sock
M_PIDF=$M_DIR/mysqld.pid
M_LOG=$M_DIR/mysqld.log
M_INIT_LOG=$M_DIR/install-db.log
M_MARK=$M_DIR/.initialized
M_GLOB="*mariadbd --defaults-file=$M_CNF"

mysql_pid() { pid_from_file "$M_PIDF" "$M_GLOB"; }
# the admin: the OS user's own account (unix_socket authentication), created by
# mariadb-install-db --auth-root-socket-user, reachable only through the private socket
madmin() { mariadb --no-defaults --socket="$M_SOCK" -u "$ME_NAME" "$@"; }
mysql_ping() {
    mariadb-admin --no-defaults --socket="$M_SOCK" -u "$ME_NAME" --connect-timeout=2 \
        ping >/dev/null 2>&1
}
# a real query as the app user over TCP, like the module and the worker do
mysql_app_ok() {
    MYSQL_PWD=$SECKILL_MYSQL_PASSWORD mariadb --no-defaults --protocol=TCP -h "$LOOPBACK" \
        -P "$SECKILL_MYSQL_PORT" -u "$SECKILL_MYSQL_USER" --connect-timeout=3 -N -B \
        -e 'SELECT 1' "$SECKILL_MYSQL_DB" >/dev/null 2>&1
}
mysql_healthy() { mysql_pid >/dev/null && mysql_app_ok; }

sql_str() {
    local s=${1//\\/\\\\}
    s=${s//\'/\\\'}
    printf "'%s'" "$s"
}

mysql_write_cnf() {
    local user_line=
    # mariadbd refuses to run as root unless told to
    [[ $ME_UID != 0 ]] || user_line="user = root"
    cat >"$M_CNF" <<EOF
# generated by scripts/stack.sh: this stack's private MariaDB (rewritten on every start)
[mysqld]
$user_line
datadir = $M_DATA
socket = $M_SOCK
pid-file = $M_PIDF
log-error = $M_LOG
tmpdir = $M_DIR/tmp
port = $SECKILL_MYSQL_PORT
bind-address = $LOOPBACK
skip-name-resolve
skip-log-bin
skip-external-locking
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
default-time-zone = SYSTEM
innodb_buffer_pool_size = $SECKILL_MYSQL_BUFFER_POOL
innodb_log_file_size = 64M
innodb_flush_log_at_trx_commit = 1
max_connections = $SECKILL_MYSQL_MAX_CONNECTIONS
max_allowed_packet = 16M
EOF
}

mysql_install() {
    local args
    # a datadir without the marker is a first start that did not finish: start afresh
    if [[ -e $M_DATA ]]; then
        warn "mysql: $M_DATA was never fully initialised; initialising it again"
        rm -rf -- "$M_DATA"
    fi
    say "mysql: first start, initialising $M_DATA"
    args=(--defaults-file="$M_CNF" --auth-root-authentication-method=socket
        --auth-root-socket-user="$ME_NAME" --skip-test-db --skip-name-resolve)
    [[ $ME_UID != 0 ]] || args+=(--user=root)
    if ! mariadb-install-db "${args[@]}" >"$M_INIT_LOG" 2>&1; then
        show_logs "$M_INIT_LOG" "$M_LOG"
        die "mysql: mariadb-install-db failed (full output in $M_INIT_LOG)"
    fi
    touch "$M_MARK"
}

mysql_launch() {
    prepare_dir "$M_DIR"
    # the socket path must fit in sun_path (108 bytes)
    ((${#M_SOCK} < 100)) || die "mysql: socket path $M_SOCK is too long; use a shorter SECKILL_RUN_DIR"
    clear_stale "$M_PIDF" "$M_GLOB" mysql
    need_free_port "$SECKILL_MYSQL_PORT" mysql
    mkdir -p "$M_DIR/tmp"
    mysql_write_cnf
    [[ -e $M_MARK ]] || mysql_install
    say "mysql: starting mariadbd on $LOOPBACK:$SECKILL_MYSQL_PORT (data in $M_DATA)"
    (cd "$M_DIR" && exec setsid nohup mariadbd --defaults-file="$M_CNF" \
        >>"$M_DIR/mariadbd.out" 2>&1 </dev/null &)
}

# the app's database and user; idempotent, also applies a changed password
mysql_provision() {
    local db=${SECKILL_MYSQL_DB//\`/\`\`} u p h sql
    u=$(sql_str "$SECKILL_MYSQL_USER")
    p=$(sql_str "$SECKILL_MYSQL_PASSWORD")
    sql="CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
    for h in "'127.0.0.1'" "'localhost'"; do
        sql+=" CREATE USER IF NOT EXISTS $u@$h IDENTIFIED BY $p;"
        sql+=" ALTER USER $u@$h IDENTIFIED BY $p;"
        sql+=" GRANT ALL PRIVILEGES ON \`$db\`.* TO $u@$h;"
    done
    madmin -e "$sql"
}

mysql_wait() {
    local t0 pid
    t0=$(now)
    while ! mysql_ping; do
        if (($(elapsed "$t0") >= 3)) && ! mysql_pid >/dev/null; then
            show_logs "$M_LOG" "$M_DIR/mariadbd.out"
            warn "mysql: error: mariadbd exited during start"
            return 1
        fi
        if (($(elapsed "$t0") >= SECKILL_START_TIMEOUT)); then
            show_logs "$M_LOG" "$M_DIR/mariadbd.out"
            warn "mysql: error: no answer to ping within ${SECKILL_START_TIMEOUT}s"
            return 1
        fi
        sleep 0.2
    done
    if ! mysql_provision 2>"$M_DIR/provision.err"; then
        if mysql_app_ok; then
            warn "mysql: could not check database $SECKILL_MYSQL_DB / user" \
                "$SECKILL_MYSQL_USER as admin ($(head -n 1 "$M_DIR/provision.err")); they work"
        else
            show_logs "$M_DIR/provision.err" "$M_LOG"
            warn "mysql: error: could not create database $SECKILL_MYSQL_DB / user $SECKILL_MYSQL_USER"
            return 1
        fi
    fi
    while ! mysql_app_ok; do
        if (($(elapsed "$t0") >= SECKILL_START_TIMEOUT)); then
            show_logs "$M_LOG"
            warn "mysql: error: the app user $SECKILL_MYSQL_USER cannot query" \
                "$SECKILL_MYSQL_DB over TCP port $SECKILL_MYSQL_PORT"
            return 1
        fi
        sleep 0.2
    done
    pid=$(mysql_pid) || pid='?'
    say "mysql: ready on port $SECKILL_MYSQL_PORT, pid $pid, database $SECKILL_MYSQL_DB" \
        "($(elapsed "$t0")s)"
}

mysql_stop() {
    local pid
    if ! pid=$(mysql_pid); then
        clear_stale "$M_PIDF" "$M_GLOB" mysql
        say "mysql: not running"
        return 0
    fi
    # SIGTERM is mariadbd's normal, clean shutdown
    stop_pid "$pid" mysql || return 1
    rm -f "$M_PIDF"
    say "mysql: stopped (pid $pid)"
}

mysql_status() {
    local pid
    if pid=$(mysql_pid) && mysql_app_ok; then
        printf '%-9s running  port %-5s pid %s\n' mysql "$SECKILL_MYSQL_PORT" "$pid"
    elif pid=$(mysql_pid); then
        printf '%-9s starting port %-5s pid %s (app user cannot query yet)\n' mysql \
            "$SECKILL_MYSQL_PORT" "$pid"
        return 1
    else
        printf '%-9s stopped  port %s\n' mysql "$SECKILL_MYSQL_PORT"
        return 1
    fi
}

# ---------------------------------------------------------------------------------------
# RabbitMQ (and the epmd of this stack)
#
# Debian's /usr/sbin/rabbitmq-server and rabbitmqctl refuse other users than root and
# rabbitmq and, as root, re-run themselves as rabbitmq with /var/lib/rabbitmq; the scripts
# in /usr/lib/rabbitmq/bin are used directly instead, with every path in the environment.

Q_DIR=$RUN/rabbitmq
Q_HOME=$Q_DIR/home
Q_NODE=$SECKILL_AMQP_NODE
Q_PIDF=$Q_DIR/rabbitmq.pid       # the Erlang VM (beam.smp); rabbit writes it
Q_WRAP_PIDF=$Q_DIR/rabbitmq-server.pid # the rabbitmq-server shell script, parent of the VM
Q_OUT=$Q_DIR/rabbitmq-server.out
Q_LOG=$Q_DIR/log/$Q_NODE.log
Q_GLOB="*beam.smp*-seckill_stack $Q_NODE*"
Q_WRAP_GLOB="*/usr/lib/rabbitmq/bin/rabbitmq-server*"
E_PIDF=$Q_DIR/epmd.pid
E_GLOB="epmd -port $SECKILL_EPMD_PORT -address $LOOPBACK"
RMQ_BIN=/usr/lib/rabbitmq/bin

# rabbit_env: the environment of this stack's node, for the server and for rabbitmqctl
rabbit_env() {
    export HOME=$Q_HOME
    export RABBITMQ_CONF_ENV_FILE=$Q_DIR/rabbitmq-env.conf
    export RABBITMQ_NODENAME=$Q_NODE
    export RABBITMQ_NODE_IP_ADDRESS=$LOOPBACK
    export RABBITMQ_NODE_PORT=$SECKILL_AMQP_PORT
    export RABBITMQ_DIST_PORT=$SECKILL_AMQP_DIST_PORT
    export ERL_EPMD_PORT=$SECKILL_EPMD_PORT ERL_EPMD_ADDRESS=$LOOPBACK
    export RABBITMQ_MNESIA_BASE=$Q_DIR/mnesia
    export RABBITMQ_LOG_BASE=$Q_DIR/log
    export RABBITMQ_CONFIG_FILE=$Q_DIR/rabbitmq.conf
    export RABBITMQ_ADVANCED_CONFIG_FILE=$Q_DIR/advanced.config
    export RABBITMQ_ENABLED_PLUGINS_FILE=$Q_DIR/enabled_plugins
    export RABBITMQ_PID_FILE=$Q_PIDF
    export ERL_CRASH_DUMP=$Q_DIR/erl_crash.dump
    # distribution on loopback only; never start an epmd of Erlang's choosing (ours runs
    # on the stack's port); the CLI's own node listens on an ephemeral port, so two
    # stacks' CLIs never collide in RabbitMQ's default 35672-35682 range
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false -seckill_stack $Q_NODE"
    export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false"
    export RABBITMQ_CTL_DIST_PORT_MIN=0 RABBITMQ_CTL_DIST_PORT_MAX=0
}

# is an epmd listening on the stack's port? (epmd -names is a client: it starts nothing)
epmd_up() { epmd -port "$SECKILL_EPMD_PORT" -names >/dev/null 2>&1; }

# rmqctl ARGS...: rabbitmqctl against this stack's node. Only while the stack's epmd runs:
# the CLI starts an epmd of its own (on all interfaces, tracked by nobody) when it finds
# none, whatever -start_epmd says.
rmqctl() { rmqctl_t 0 "$@"; }
# rmqctl_t SECONDS ARGS...: the same, killed when it takes longer than SECONDS (0: never)
rmqctl_t() {
    local t=$1
    shift
    if ! epmd_up; then
        warn "rabbitmq: node $Q_NODE is not running (no epmd on port $SECKILL_EPMD_PORT)"
        return 69
    fi
    (rabbit_env && cd "$Q_DIR" && exec timeout "$t" "$RMQ_BIN/rabbitmqctl" -n "$Q_NODE" "$@")
}
rabbit_pid() { pid_from_file "$Q_PIDF" "$Q_GLOB"; }
rabbit_wrap_pid() { pid_from_file "$Q_WRAP_PIDF" "$Q_WRAP_GLOB"; }
epmd_pid() { pid_from_file "$E_PIDF" "$E_GLOB"; }
rabbit_ready() {
    rmqctl_t 15 await_startup --timeout 5 >/dev/null 2>&1 && port_open "$SECKILL_AMQP_PORT"
}
rabbit_healthy() { rabbit_pid >/dev/null && rabbit_ready; }

epmd_start() {
    local pid i
    if pid=$(epmd_pid); then
        return 0
    fi
    clear_stale "$E_PIDF" "$E_GLOB" epmd
    if port_open "$SECKILL_EPMD_PORT"; then
        if epmd -port "$SECKILL_EPMD_PORT" -names >/dev/null 2>&1; then
            warn "rabbitmq: an epmd not started by this stack already listens on port" \
                "$SECKILL_EPMD_PORT; using it (stop will leave it running)"
            return 0
        fi
        die "rabbitmq: epmd port $SECKILL_EPMD_PORT is in use by something that is not epmd"
    fi
    (cd "$Q_DIR" && exec setsid nohup epmd -port "$SECKILL_EPMD_PORT" -address "$LOOPBACK" \
        >>"$Q_DIR/epmd.log" 2>&1 </dev/null &)
    # find the pid by its exact command line among this user's processes
    for ((i = 0; i < 50; i++)); do
        pid=$(pgrep -u "$ME_UID" -x -f "$E_GLOB" | head -n 1) || true
        if [[ -n $pid ]] && epmd -port "$SECKILL_EPMD_PORT" -names >/dev/null 2>&1; then
            echo "$pid" >"$E_PIDF"
            return 0
        fi
        sleep 0.1
    done
    show_logs "$Q_DIR/epmd.log"
    die "rabbitmq: epmd did not start on port $SECKILL_EPMD_PORT"
}

epmd_stop() {
    local pid
    if pid=$(epmd_pid); then
        stop_pid "$pid" epmd || return 1
        say "rabbitmq: epmd on port $SECKILL_EPMD_PORT stopped (pid $pid)"
    fi
    rm -f "$E_PIDF"
}

rabbit_launch() {
    prepare_dir "$Q_DIR"
    mkdir -p "$Q_HOME" "$Q_DIR/mnesia" "$Q_DIR/log"
    clear_stale "$Q_PIDF" "$Q_GLOB" rabbitmq
    clear_stale "$Q_WRAP_PIDF" "$Q_WRAP_GLOB" rabbitmq
    need_free_port "$SECKILL_AMQP_PORT" rabbitmq
    need_free_port "$SECKILL_AMQP_DIST_PORT" "rabbitmq (distribution)"
    # the cookie shared by the node and rabbitmqctl, written before either runs
    if [[ ! -s $Q_HOME/.erlang.cookie ]]; then
        local cookie
        cookie=$(od -An -N20 -tx1 /dev/urandom)
        cookie=${cookie//[^0-9a-f]/}
        (umask 077 && printf '%s' "${cookie^^}" >"$Q_HOME/.erlang.cookie")
        chmod 400 "$Q_HOME/.erlang.cookie"
    fi
    # keep /etc/rabbitmq/rabbitmq-env.conf (NODENAME, ports) out of this node
    : >"$Q_DIR/rabbitmq-env.conf"
    echo '[].' >"$Q_DIR/enabled_plugins"
    cat >"$Q_DIR/rabbitmq.conf" <<EOF
# generated by scripts/stack.sh: this stack's private RabbitMQ (rewritten on every start).
# Listener, node name and folders come from the environment (RABBITMQ_*); guest/guest is
# allowed over loopback, which is all this node listens on.
log.console = false
log.file.level = info
# classic queues v2 (RabbitMQ >= 3.10): a confirmed persistent message costs the broker less
# than with v1's index (bench/README.md); queues declared before keep the version they have
classic_queue.default_version = 2
EOF
    epmd_start
    say "rabbitmq: starting node $Q_NODE on $LOOPBACK:$SECKILL_AMQP_PORT" \
        "(epmd $SECKILL_EPMD_PORT, distribution $SECKILL_AMQP_DIST_PORT)"
    : >"$Q_OUT"
    (
        rabbit_env
        cd "$Q_DIR"
        setsid nohup "$RMQ_BIN/rabbitmq-server" >>"$Q_OUT" 2>&1 </dev/null &
        echo $! >"$Q_WRAP_PIDF"
    )
}

rabbit_wait() {
    local t0 pid
    t0=$(now)
    while ! rabbit_ready; do
        if ! rabbit_wrap_pid >/dev/null && ! rabbit_pid >/dev/null; then
            show_logs "$Q_OUT" "$Q_LOG"
            warn "rabbitmq: error: the node exited during start"
            return 1
        fi
        if (($(elapsed "$t0") >= SECKILL_AMQP_START_TIMEOUT)); then
            show_logs "$Q_OUT" "$Q_LOG"
            warn "rabbitmq: error: not ready within ${SECKILL_AMQP_START_TIMEOUT}s"
            return 1
        fi
        sleep 0.5
    done
    pid=$(rabbit_pid) || pid='?'
    say "rabbitmq: ready on port $SECKILL_AMQP_PORT, pid $pid ($(elapsed "$t0")s)"
}

rabbit_stop() {
    local pid wpid=
    wpid=$(rabbit_wrap_pid) || true
    if pid=$(rabbit_pid); then
        # graceful: rabbitmqctl stop waits until the VM named in the pid file is gone
        if ! rmqctl_t "$SECKILL_STOP_TIMEOUT" stop "$Q_PIDF" >/dev/null 2>&1; then
            warn "rabbitmq: rabbitmqctl stop failed, sending SIGTERM"
        fi
        if alive "$pid"; then
            stop_pid "$pid" rabbitmq || return 1
        fi
        say "rabbitmq: stopped (pid $pid)"
    elif [[ -z $wpid ]]; then
        say "rabbitmq: not running"
    fi
    # the wrapper script ends with its VM; one whose VM never came up is stopped here
    if [[ -n $wpid ]] && ! wait_gone "$wpid" 5; then
        stop_pid "$wpid" "rabbitmq-server script" || true
    fi
    rm -f "$Q_PIDF" "$Q_WRAP_PIDF"
    epmd_stop
}

rabbit_status() {
    local pid epid
    epid=$(epmd_pid) || epid=none
    if pid=$(rabbit_pid) && port_open "$SECKILL_AMQP_PORT"; then
        printf '%-9s running  port %-5s pid %s (node %s, epmd port %s pid %s)\n' rabbitmq \
            "$SECKILL_AMQP_PORT" "$pid" "$Q_NODE" "$SECKILL_EPMD_PORT" "$epid"
    elif pid=$(rabbit_pid) || pid=$(rabbit_wrap_pid); then
        printf '%-9s starting port %-5s pid %s (AMQP port not open yet)\n' rabbitmq \
            "$SECKILL_AMQP_PORT" "$pid"
        return 1
    else
        printf '%-9s stopped  port %s%s\n' rabbitmq "$SECKILL_AMQP_PORT" \
            "$([[ $epid == none ]] || echo " (its epmd still runs, pid $epid)")"
        return 1
    fi
}

# ---------------------------------------------------------------------------------------
# commands

describe() {
    case $1 in
    redis) echo "port $SECKILL_REDIS_PORT, pid $(redis_pid || echo '?')" ;;
    mysql) echo "port $SECKILL_MYSQL_PORT, pid $(mysql_pid || echo '?')" ;;
    rabbitmq) echo "port $SECKILL_AMQP_PORT, pid $(rabbit_pid || echo '?')" ;;
    esac
}

do_start() {
    local s rc=0 todo=() launched=()
    mkdir -p "$RUN" || die "cannot create $RUN"
    for s in redis mysql rabbitmq; do
        [[ " $* " == *" $s "* ]] || continue
        if "${s/rabbitmq/rabbit}_healthy"; then
            say "$s: already running ($(describe "$s"))"
        else
            todo+=("$s")
        fi
    done
    # launch the slow ones first, then wait for each: the servers boot in parallel; one
    # whose process is up but not ready yet (still booting) is only waited for
    for s in rabbitmq redis mysql; do
        [[ " ${todo[*]-} " == *" $s "* ]] || continue
        case $s in
        redis) redis_pid >/dev/null || redis_launch ;;
        mysql) mysql_pid >/dev/null || mysql_launch ;;
        rabbitmq) rabbit_pid >/dev/null || rabbit_wrap_pid >/dev/null || rabbit_launch ;;
        esac
        launched+=("$s")
    done
    for s in redis mysql rabbitmq; do
        [[ " ${launched[*]-} " == *" $s "* ]] || continue
        "${s/rabbitmq/rabbit}_wait" || rc=1
    done
    ((rc == 0)) || die "start failed (see above); scripts/stack.sh stop cleans up"
}

do_stop() {
    local s rc=0
    for s in rabbitmq mysql redis; do
        [[ " $* " == *" $s "* ]] || continue
        "${s/rabbitmq/rabbit}_stop" || rc=1
    done
    ((rc == 0)) || die "stop failed (see above)"
}

do_status() {
    local s rc=0
    for s in redis mysql rabbitmq; do
        [[ " $* " == *" $s "* ]] || continue
        "${s/rabbitmq/rabbit}_status" || rc=1
    done
    return "$rc"
}

usage() {
    cat >&2 <<EOF
usage: $PROG start|stop|status|restart [redis|mysql|rabbitmq|all]...
       $PROG rabbitmqctl ARGS...   (rabbitmqctl -n $Q_NODE ...)
       $PROG redis-cli ARGS...     (redis-cli -p $SECKILL_REDIS_PORT ...)
       $PROG mysql-admin ARGS...   (mariadb as the admin through $M_SOCK)
EOF
    exit 2
}

main() {
    local cmd=${1:-}
    [[ -n $cmd ]] || usage
    shift
    case $cmd in
    rabbitmqctl) rmqctl "$@"; return ;;
    redis-cli) rcli "$@"; return ;;
    mysql-admin) madmin "$@"; return ;;
    start | stop | status | restart) ;;
    -h | --help | help) usage ;;
    *) warn "unknown command: $cmd"; usage ;;
    esac
    local servers=() s
    (($#)) || set -- all
    for s in "$@"; do
        case $s in
        all) servers+=(redis mysql rabbitmq) ;;
        redis | mysql | rabbitmq) servers+=("$s") ;;
        *) warn "unknown server: $s"; usage ;;
        esac
    done
    case $cmd in
    start) do_start "${servers[@]}" ;;
    stop) do_stop "${servers[@]}" ;;
    status) do_status "${servers[@]}" ;;
    restart)
        do_stop "${servers[@]}"
        do_start "${servers[@]}"
        ;;
    esac
}

main "$@"
