#!/usr/bin/env bash
# The local Alipay stand-in (tools/alipay_standin.py) of one stack: start | stop | status.
# It listens on $SECKILL_ALIPAY_HOST:$SECKILL_ALIPAY_PORT, signs with the stand-in's key and
# checks the shop's requests with the app's public key, both from $SECKILL_KEYS_DIR (made by
# scripts/keys.sh when missing). Log and pid under $SECKILL_RUN_DIR/alipay.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
dir=$SECKILL_RUN_DIR/alipay
pidf=$dir/standin.pid
say() { echo "alipay: $*"; }

running() { [ -s "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; }

start() {
    if running; then
        say "stand-in already running (pid $(cat "$pidf"), $SECKILL_ALIPAY_GATEWAY)"
        return 0
    fi
    mkdir -p "$dir"
    [ ! -s "$dir/standin.log" ] || mv -f "$dir/standin.log" "$dir/standin.log.1"
    "$SECKILL_TOP/scripts/keys.sh" "$SECKILL_KEYS_DIR" >/dev/null
    # a new stand-in must not answer as an old one that still holds the port
    if (exec 3<>"/dev/tcp/$SECKILL_ALIPAY_HOST/$SECKILL_ALIPAY_PORT") 2>/dev/null; then
        echo "alipay: port $SECKILL_ALIPAY_PORT is taken by another program" >&2
        exit 1
    fi
    nohup python3 "$SECKILL_TOP/tools/alipay_standin.py" --host "$SECKILL_ALIPAY_HOST" \
        --port "$SECKILL_ALIPAY_PORT" --app-id "$SECKILL_ALIPAY_APP_ID" \
        --alipay-private-key "$SECKILL_KEYS_DIR/alipay_private_key.pem" \
        --app-public-key "$SECKILL_KEYS_DIR/app_public_key.pem" \
        ${SECKILL_ALIPAY_NOTIFY_RETRIES:+--notify-retries "$SECKILL_ALIPAY_NOTIFY_RETRIES"} \
        >>"$dir/standin.log" 2>&1 </dev/null &
    echo $! >"$pidf"
    for _ in $(seq 1 100); do
        if grep -q "listening on" "$dir/standin.log" 2>/dev/null && running; then
            say "stand-in ready on $SECKILL_ALIPAY_GATEWAY (pid $(cat "$pidf"))"
            return 0
        fi
        running || break
        sleep 0.1
    done
    echo "alipay: the stand-in did not start; its log:" >&2
    tail -n 20 "$dir/standin.log" >&2 || true
    exit 1
}

stop() {
    if running; then
        kill "$(cat "$pidf")"
        for _ in $(seq 1 50); do running || break; sleep 0.1; done
        say "stand-in stopped"
    fi
    rm -f "$pidf"
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) if running; then say "running, pid $(cat "$pidf"), $SECKILL_ALIPAY_GATEWAY"; else say "stopped"; exit 1; fi ;;
*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
