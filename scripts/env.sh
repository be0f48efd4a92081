# Settings of one local stack (servers, httpd, worker). Sourced by every script; each value
# can be overridden from the environment so a second stack can run beside the first
# (make test uses its own ports and folder, see the Makefile).
SECKILL_TOP=${SECKILL_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
: "${SECKILL_RUN_DIR:=$SECKILL_TOP/run}"
: "${SECKILL_HOST:=127.0.0.1}"
: "${SECKILL_HTTP_PORT:=8080}"
: "${SECKILL_REDIS_PORT:=6380}"
: "${SECKILL_MYSQL_PORT:=3307}"
: "${SECKILL_AMQP_PORT:=5673}"
: "${SECKILL_AMQP_DIST_PORT:=$((SECKILL_AMQP_PORT + 20000))}"
: "${SECKILL_EPMD_PORT:=$((SECKILL_AMQP_PORT - 1300))}"
# Erlang node name of this stack's private RabbitMQ (scripts/stack.sh rabbitmqctl ... uses it).
: "${SECKILL_AMQP_NODE:=seckill-$SECKILL_AMQP_PORT@localhost}"
: "${SECKILL_ALIPAY_PORT:=$((SECKILL_HTTP_PORT + 1))}"
: "${SECKILL_ALIPAY_HOST:=127.0.0.1}"
# The local Alipay stand-in (tools/alipay_standin.py) plays Alipay's gateway; its app id and
# the key files (scripts/keys.sh makes test keys) are what the shop is configured with.
: "${SECKILL_ALIPAY_APP_ID:=2021000000000000}"
: "${SECKILL_ALIPAY_GATEWAY:=http://$SECKILL_ALIPAY_HOST:$SECKILL_ALIPAY_PORT/gateway.do}"
: "${SECKILL_KEYS_DIR:=$SECKILL_TOP/keys}"
: "${SECKILL_MYSQL_USER:=seckill}"
: "${SECKILL_MYSQL_PASSWORD:=seckill}"
: "${SECKILL_MYSQL_DB:=seckill}"
: "${SECKILL_RATE_LIMIT:=5}"
: "${SECKILL_NODE_ID:=1}"
: "${SECKILL_PAY_TIMEOUT:=300}"
: "${SECKILL_HTTP_LISTEN:=$SECKILL_HOST:$SECKILL_HTTP_PORT}"
# The shared secret of cookies, CSRF and order tokens; generated on first start.
: "${SECKILL_SECRET_FILE:=$SECKILL_RUN_DIR/secret}"
SECKILL_REDIS_URL="redis://$SECKILL_HOST:$SECKILL_REDIS_PORT/0"
SECKILL_MYSQL_URL="mysql://$SECKILL_MYSQL_USER:$SECKILL_MYSQL_PASSWORD@$SECKILL_HOST:$SECKILL_MYSQL_PORT/$SECKILL_MYSQL_DB"
SECKILL_AMQP_URL="amqp://guest:guest@$SECKILL_HOST:$SECKILL_AMQP_PORT/"
export SECKILL_TOP SECKILL_RUN_DIR SECKILL_HOST SECKILL_HTTP_PORT SECKILL_REDIS_PORT \
    SECKILL_MYSQL_PORT SECKILL_AMQP_PORT SECKILL_AMQP_DIST_PORT SECKILL_EPMD_PORT SECKILL_AMQP_NODE \
    SECKILL_ALIPAY_PORT SECKILL_ALIPAY_HOST SECKILL_ALIPAY_APP_ID SECKILL_ALIPAY_GATEWAY \
    SECKILL_KEYS_DIR SECKILL_MYSQL_USER SECKILL_MYSQL_PASSWORD SECKILL_MYSQL_DB \
    SECKILL_RATE_LIMIT SECKILL_NODE_ID SECKILL_PAY_TIMEOUT SECKILL_HTTP_LISTEN \
    SECKILL_SECRET_FILE SECKILL_REDIS_URL SECKILL_MYSQL_URL SECKILL_AMQP_URL
