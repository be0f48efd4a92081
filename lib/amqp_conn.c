#include "amqp_conn.h"

#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#define CHANNEL 1

struct seckill_amqp {
    amqp_connection_state_t conn;
    struct timeval timeout; /* connect, every RPC and every confirm wait */
    uint64_t seq;           /* confirm-mode sequence number of the last publish */
    int broken;             /* the connection failed: only close is left */
    int closed_by_server;   /* it failed because the broker closed the channel or connection */
    char err[256];
};

/* ---- errors ------------------------------------------------------------------------------ */

static void set_err(seckill_amqp *a, const char *what, const char *why)
{
    snprintf(a->err, sizeof a->err, "%s: %s", what, why);
}

/* The broker's close (connection or channel) as "code text". */
static void close_reason(const amqp_method_t *m, char *buf, size_t n)
{
    if (m->id == AMQP_CONNECTION_CLOSE_METHOD) {
        const amqp_connection_close_t *c = m->decoded;
        snprintf(buf, n, "server closed the connection: %u %.*s", c->reply_code,
                 (int)c->reply_text.len, (const char *)c->reply_text.bytes);
    } else if (m->id == AMQP_CHANNEL_CLOSE_METHOD) {
        const amqp_channel_close_t *c = m->decoded;
        snprintf(buf, n, "server closed the channel: %u %.*s", c->reply_code,
                 (int)c->reply_text.len, (const char *)c->reply_text.bytes);
    } else {
        snprintf(buf, n, "unexpected method 0x%08x", (unsigned)m->id);
    }
}

/* 0 when r is a normal reply, else -1 with the reason in a->err. Any failed RPC leaves the
 * channel or the connection unusable, so the connection counts as broken. */
static int check_reply(seckill_amqp *a, amqp_rpc_reply_t r, const char *what)
{
    char why[200];
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return 0;
    case AMQP_RESPONSE_NONE:
        snprintf(why, sizeof why, "no reply");
        break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        snprintf(why, sizeof why, "%s", amqp_error_string2(r.library_error));
        break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        close_reason(&r.reply, why, sizeof why);
        a->closed_by_server = 1;
        break;
    }
    set_err(a, what, why);
    a->broken = 1;
    return -1;
}

static int check_rpc(seckill_amqp *a, const char *what)
{
    return check_reply(a, amqp_get_rpc_reply(a->conn), what);
}

static seckill_amqp_result lost(seckill_amqp *a, const char *what, int status)
{
    set_err(a, what, amqp_error_string2(status));
    a->broken = 1;
    return SECKILL_AMQP_LOST;
}

/* ---- connect ----------------------------------------------------------------------------- */

/* Heartbeats are off (nothing would send them while a pooled connection sits idle), so a
 * peer that vanished is found by TCP keepalive instead of hanging a consumer forever. */
static void keepalive(amqp_connection_state_t conn)
{
    int fd = amqp_get_sockfd(conn), on = 1, idle = 30, intvl = 10, cnt = 3;
    if (fd < 0)
        return;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

/* Without consumer_cancel_notify the broker drops a consumer whose queue was deleted without
 * a word, and the consumer would wait on it forever instead of reconnecting. */
static int login(seckill_amqp *a, const seckill_endpoint *ep)
{
    amqp_table_entry_t cap[1], prop[2];
    amqp_table_t props = {2, prop};

    cap[0].key = amqp_cstring_bytes("consumer_cancel_notify");
    cap[0].value.kind = AMQP_FIELD_KIND_BOOLEAN;
    cap[0].value.value.boolean = 1;
    prop[0].key = amqp_cstring_bytes("capabilities");
    prop[0].value.kind = AMQP_FIELD_KIND_TABLE;
    prop[0].value.value.table = (amqp_table_t){1, cap};
    prop[1].key = amqp_cstring_bytes("connection_name"); /* shown by rabbitmqctl, management */
    prop[1].value.kind = AMQP_FIELD_KIND_UTF8;
    prop[1].value.value.bytes = amqp_cstring_bytes("mod_seckill");
    /* an URL's empty path means the default vhost, "/" */
    return check_reply(
        a,
        amqp_login_with_properties(a->conn, *ep->path ? ep->path : "/", 0, AMQP_DEFAULT_FRAME_SIZE,
                                   0, &props, AMQP_SASL_METHOD_PLAIN, ep->user ? ep->user : "guest",
                                   ep->password ? ep->password : "guest"),
        "login");
}

static int connect_login(seckill_amqp *a, const seckill_endpoint *ep)
{
    amqp_socket_t *sock = amqp_tcp_socket_new(a->conn);
    int st;

    if (!sock) {
        set_err(a, "socket", "out of memory");
        return -1;
    }
    if ((st = amqp_socket_open_noblock(sock, ep->host, ep->port, &a->timeout)) != AMQP_STATUS_OK) {
        set_err(a, "connect", amqp_error_string2(st));
        return -1;
    }
    keepalive(a->conn);
    amqp_set_handshake_timeout(a->conn, &a->timeout);
    amqp_set_rpc_timeout(a->conn, &a->timeout);
    if (login(a, ep))
        return -1;
    amqp_channel_open(a->conn, CHANNEL);
    if (check_rpc(a, "channel.open"))
        return -1;
    amqp_confirm_select(a->conn, CHANNEL);
    return check_rpc(a, "confirm.select");
}

static amqp_table_t timeout_wait_args(amqp_table_entry_t e[2])
{
    e[0].key = amqp_cstring_bytes("x-dead-letter-exchange");
    e[0].value.kind = AMQP_FIELD_KIND_UTF8;
    e[0].value.value.bytes = amqp_cstring_bytes(SECKILL_AMQP_EXCHANGE);
    e[1].key = amqp_cstring_bytes("x-dead-letter-routing-key");
    e[1].value.kind = AMQP_FIELD_KIND_UTF8;
    e[1].value.value.bytes = amqp_cstring_bytes(SECKILL_RK_ORDER_TIMEOUT);
    return (amqp_table_t){2, e};
}

static const char *const ladder_keys[SECKILL_AMQP_LADDER_STEPS] = {
    "order.timeout.wait.1s",     "order.timeout.wait.2s",     "order.timeout.wait.4s",
    "order.timeout.wait.8s",     "order.timeout.wait.16s",    "order.timeout.wait.32s",
    "order.timeout.wait.64s",    "order.timeout.wait.128s",   "order.timeout.wait.256s",
    "order.timeout.wait.512s",   "order.timeout.wait.1024s",  "order.timeout.wait.2048s",
    "order.timeout.wait.4096s",  "order.timeout.wait.8192s",  "order.timeout.wait.16384s",
    "order.timeout.wait.32768s", "order.timeout.wait.65536s",
};

const char *seckill_amqp_delay_route(long long delay_ms, long *expiration_ms)
{
    int k = SECKILL_AMQP_LADDER_STEPS - 1;
    if (delay_ms < 1000) {
        *expiration_ms = delay_ms < 1 ? 1 : (long)delay_ms;
        return SECKILL_RK_ORDER_TIMEOUT_WAIT;
    }
    while (k > 0 && (1000LL << k) > delay_ms)
        k--;
    *expiration_ms = 0;
    return ladder_keys[k];
}

/* A ladder step: every message waits exactly ttl_s, then moves on to the timeout queue. */
static int declare_step(seckill_amqp *a, int k)
{
    amqp_bytes_t ex = amqp_cstring_bytes(SECKILL_AMQP_EXCHANGE);
    amqp_table_entry_t e[3];
    amqp_table_t args = timeout_wait_args(e);
    char queue[64], key[64];

    snprintf(queue, sizeof queue, SECKILL_AMQP_LADDER_QUEUE, 1L << k);
    snprintf(key, sizeof key, SECKILL_AMQP_LADDER_KEY, 1L << k);
    e[2].key = amqp_cstring_bytes("x-message-ttl");
    e[2].value.kind = AMQP_FIELD_KIND_I32;
    e[2].value.value.i32 = (int32_t)(1000L << k);
    args.num_entries = 3;
    amqp_queue_declare(a->conn, CHANNEL, amqp_cstring_bytes(queue), 0, 1, 0, 0, args);
    if (check_rpc(a, queue))
        return -1;
    amqp_queue_bind(a->conn, CHANNEL, amqp_cstring_bytes(queue), ex, amqp_cstring_bytes(key),
                    amqp_empty_table);
    return check_rpc(a, key);
}

/* Declaring what exists with the same arguments is a no-op, so both sides always declare;
 * different arguments make the broker close the channel, reported as the open's error. */
static int declare_topology(seckill_amqp *a)
{
    static const struct {
        const char *queue, *key;
    } q[] = {
        {SECKILL_AMQP_QUEUE_ORDER_CREATE, SECKILL_RK_ORDER_CREATE},
        {SECKILL_AMQP_QUEUE_ORDER_TIMEOUT_WAIT, SECKILL_RK_ORDER_TIMEOUT_WAIT},
        {SECKILL_AMQP_QUEUE_ORDER_TIMEOUT, SECKILL_RK_ORDER_TIMEOUT},
        {SECKILL_AMQP_QUEUE_ORDER_DEAD, SECKILL_RK_ORDER_DEAD},
    };
    amqp_bytes_t ex = amqp_cstring_bytes(SECKILL_AMQP_EXCHANGE);
    amqp_table_entry_t e[2];

    amqp_exchange_declare(a->conn, CHANNEL, ex, amqp_cstring_bytes("direct"), 0, 1, 0, 0,
                          amqp_empty_table);
    if (check_rpc(a, "exchange.declare " SECKILL_AMQP_EXCHANGE))
        return -1;
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        amqp_table_t args = i == 1 ? timeout_wait_args(e) : amqp_empty_table;
        amqp_bytes_t name = amqp_cstring_bytes(q[i].queue);
        amqp_queue_declare(a->conn, CHANNEL, name, 0, 1, 0, 0, args);
        if (check_rpc(a, q[i].queue))
            return -1;
        amqp_queue_bind(a->conn, CHANNEL, name, ex, amqp_cstring_bytes(q[i].key), amqp_empty_table);
        if (check_rpc(a, q[i].key))
            return -1;
    }
    for (int k = 0; k < SECKILL_AMQP_LADDER_STEPS; k++) {
        if (declare_step(a, k))
            return -1;
    }
    return 0;
}

static seckill_amqp *open_conn(const seckill_endpoint *ep, int timeout_ms, int declare, char *err,
                               size_t errlen)
{
    seckill_amqp *a = calloc(1, sizeof *a);

    if (!a || !(a->conn = amqp_new_connection())) {
        snprintf(err, errlen, "out of memory");
        free(a);
        return NULL;
    }
    a->timeout.tv_sec = timeout_ms / 1000;
    a->timeout.tv_usec = (timeout_ms % 1000) * 1000;
    if (connect_login(a, ep) != 0 || (declare && declare_topology(a) != 0)) {
        snprintf(err, errlen, "%s: %s", ep->url, a->err);
        a->broken = 1; /* a half-open handshake cannot be closed politely */
        seckill_amqp_close(a);
        return NULL;
    }
    return a;
}

seckill_amqp *seckill_amqp_open(const seckill_endpoint *ep, int timeout_ms, char *err,
                                size_t errlen)
{
    return open_conn(ep, timeout_ms, 1, err, errlen);
}

seckill_amqp *seckill_amqp_connect(const seckill_endpoint *ep, int timeout_ms, char *err,
                                   size_t errlen)
{
    return open_conn(ep, timeout_ms, 0, err, errlen);
}

seckill_amqp_result seckill_amqp_declare(seckill_amqp *a)
{
    if (a->broken) {
        set_err(a, "declare", "the connection is broken");
        return SECKILL_AMQP_LOST;
    }
    return declare_topology(a) == 0 ? SECKILL_AMQP_OK : SECKILL_AMQP_LOST;
}

int seckill_amqp_closed_by_server(const seckill_amqp *a)
{
    return a->closed_by_server;
}

void seckill_amqp_close(seckill_amqp *a)
{
    if (!a)
        return;
    /* Politely when it still works: the broker requeues unacked deliveries either way. */
    if (!a->broken)
        amqp_connection_close(a->conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(a->conn);
    free(a);
}

amqp_connection_state_t seckill_amqp_state(seckill_amqp *a)
{
    return a->conn;
}

const char *seckill_amqp_error(const seckill_amqp *a)
{
    return a->err[0] ? a->err : "no error";
}

/* ---- publish ----------------------------------------------------------------------------- */

/* Time left until deadline as a timeval; 0 when it has passed. */
static int time_left(const struct timeval *deadline, struct timeval *left)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    if (!timercmp(&now, deadline, <))
        return 0;
    timersub(deadline, &now, left);
    return 1;
}

/* basic.return is followed by the message's header and body frames: read them so the next
 * frame is the ack that ends this publish. */
static int skip_returned(seckill_amqp *a)
{
    amqp_message_t msg;
    if (check_reply(a, amqp_read_message(a->conn, CHANNEL, &msg, 0), "basic.return"))
        return -1;
    amqp_destroy_message(&msg);
    return 0;
}

/* The confirms awaited for publishes [first, first + n): acked[k] once first + k is settled
 * (ack or nack). Confirms of earlier publishes that timed out may still arrive: their tags are
 * below first and ignored. A basic.return does not name its publish: any return fails the
 * whole burst, which the caller then sends again (duplicates are harmless, losses are not). */
typedef struct {
    uint64_t first;
    int n, open; /* open: not confirmed yet */
    unsigned char *acked;
    int nacked, returned;
} confirms;

static void settle(confirms *c, uint64_t tag, int multiple, int nack)
{
    uint64_t from = multiple ? c->first : tag, to = tag;
    if (to < c->first)
        return;
    if (to >= c->first + (uint64_t)c->n)
        to = c->first + (uint64_t)c->n - 1;
    for (uint64_t t = from < c->first ? c->first : from; t <= to; t++) {
        if (!c->acked[t - c->first]) {
            c->acked[t - c->first] = 1;
            c->open--;
            c->nacked |= nack;
        }
    }
}

static seckill_amqp_result closed(seckill_amqp *a, const amqp_method_t *m)
{
    char why[200];
    close_reason(m, why, sizeof why);
    set_err(a, "publish", why);
    a->broken = 1;
    a->closed_by_server = 1;
    return SECKILL_AMQP_LOST;
}

/* One frame while waiting for confirms: OK to go on, else what ends the wait. */
static seckill_amqp_result confirm_frame(seckill_amqp *a, confirms *c, const amqp_frame_t *f)
{
    if (f->frame_type != AMQP_FRAME_METHOD)
        return SECKILL_AMQP_OK;
    switch (f->payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
        const amqp_basic_ack_t *ack = f->payload.method.decoded;
        settle(c, ack->delivery_tag, ack->multiple, 0);
        return SECKILL_AMQP_OK;
    }
    case AMQP_BASIC_NACK_METHOD: {
        const amqp_basic_nack_t *nack = f->payload.method.decoded;
        settle(c, nack->delivery_tag, nack->multiple, 1);
        return SECKILL_AMQP_OK;
    }
    case AMQP_BASIC_RETURN_METHOD:
        c->returned = 1;
        return skip_returned(a) ? SECKILL_AMQP_LOST : SECKILL_AMQP_OK;
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD:
        return closed(a, &f->payload.method);
    default:
        return SECKILL_AMQP_OK;
    }
}

static seckill_amqp_result wait_confirms(seckill_amqp *a, confirms *c)
{
    struct timeval deadline, now, left;
    seckill_amqp_result r;
    amqp_frame_t f;
    int st;

    gettimeofday(&now, NULL);
    timeradd(&now, &a->timeout, &deadline);
    while (c->open > 0) {
        if (!time_left(&deadline, &left) ||
            (st = amqp_simple_wait_frame_noblock(a->conn, &f, &left)) == AMQP_STATUS_TIMEOUT) {
            set_err(a, "publish", "no confirm in time");
            return SECKILL_AMQP_TIMEOUT;
        }
        if (st != AMQP_STATUS_OK)
            return lost(a, "publish", st);
        if ((r = confirm_frame(a, c, &f)) != SECKILL_AMQP_OK)
            return r;
    }
    if (c->nacked || c->returned) {
        set_err(a, "publish",
                c->nacked ? "refused by the broker (nack)" : "unroutable (returned by the broker)");
        return SECKILL_AMQP_NACK;
    }
    return SECKILL_AMQP_OK;
}

static int send_one(seckill_amqp *a, const seckill_amqp_message *m)
{
    amqp_basic_properties_t props;
    amqp_table_entry_t hdr;
    char exp[24];

    memset(&props, 0, sizeof props);
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.content_type = amqp_cstring_bytes("application/json");
    props.delivery_mode = 2; /* persistent */
    if (m->expiration_ms > 0) {
        snprintf(exp, sizeof exp, "%ld", m->expiration_ms);
        props._flags |= AMQP_BASIC_EXPIRATION_FLAG;
        props.expiration = amqp_cstring_bytes(exp);
    }
    if (m->retries >= 0) {
        hdr.key = amqp_cstring_bytes(SECKILL_AMQP_RETRIES_HEADER);
        hdr.value.kind = AMQP_FIELD_KIND_I32;
        hdr.value.value.i32 = m->retries;
        props._flags |= AMQP_BASIC_HEADERS_FLAG;
        props.headers = (amqp_table_t){1, &hdr};
    }
    return amqp_basic_publish(a->conn, CHANNEL, amqp_cstring_bytes(SECKILL_AMQP_EXCHANGE),
                              amqp_cstring_bytes(m->routing_key), 1, 0, &props,
                              (amqp_bytes_t){m->len, (void *)m->body});
}

/* Sends them all, then one wait: publishes pipeline, the broker confirms them in a burst. */
static seckill_amqp_result publish_burst(seckill_amqp *a, const seckill_amqp_message *m, int n,
                                         unsigned char *acked)
{
    confirms c = {a->seq + 1, n, n, acked, 0, 0};
    int st;

    for (int i = 0; i < n; i++) {
        if ((st = send_one(a, &m[i])) != AMQP_STATUS_OK)
            return lost(a, "publish", st);
        a->seq++;
    }
    return wait_confirms(a, &c);
}

seckill_amqp_result seckill_amqp_publish_all(seckill_amqp *a, const seckill_amqp_message *m, int n)
{
    unsigned char one = 0, *acked;
    seckill_amqp_result r;

    if (n <= 0)
        return SECKILL_AMQP_OK;
    if (a->broken) {
        set_err(a, "publish", "the connection is broken");
        return SECKILL_AMQP_LOST;
    }
    if (!(acked = n == 1 ? &one : calloc((size_t)n, 1))) {
        set_err(a, "publish", "out of memory");
        return SECKILL_AMQP_TIMEOUT; /* nothing sent; the caller retries later */
    }
    r = publish_burst(a, m, n, acked);
    amqp_maybe_release_buffers(a->conn);
    if (acked != &one)
        free(acked);
    return r;
}

seckill_amqp_result seckill_amqp_publish(seckill_amqp *a, const char *routing_key, const char *body,
                                         size_t len, long expiration_ms, int retries)
{
    seckill_amqp_message m = {routing_key, body, len, expiration_ms, retries};
    return seckill_amqp_publish_all(a, &m, 1);
}

/* ---- queue depth ------------------------------------------------------------------------- */

seckill_amqp_result seckill_amqp_queue_depth(seckill_amqp *a, const char *queue,
                                             long long *messages, long long *consumers)
{
    amqp_queue_declare_ok_t *ok;
    amqp_rpc_reply_t r;
    if (a->broken)
        return SECKILL_AMQP_LOST;
    ok = amqp_queue_declare(a->conn, CHANNEL, amqp_cstring_bytes(queue), 1, 0, 0, 0,
                            amqp_empty_table);
    if (!ok) {
        r = amqp_get_rpc_reply(a->conn);
        check_reply(a, r, queue);
        /* the broker closed the channel (no such queue): refused, not a lost server */
        return r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION ? SECKILL_AMQP_NACK
                                                              : SECKILL_AMQP_LOST;
    }
    *messages = ok->message_count;
    *consumers = ok->consumer_count;
    return SECKILL_AMQP_OK;
}

/* ---- streaming publishes ------------------------------------------------------------------ */

seckill_amqp_result seckill_amqp_send(seckill_amqp *a, const seckill_amqp_message *m, uint64_t *seq)
{
    int st;
    if (a->broken) {
        set_err(a, "publish", "the connection is broken");
        return SECKILL_AMQP_LOST;
    }
    if ((st = send_one(a, m)) != AMQP_STATUS_OK)
        return lost(a, "publish", st);
    *seq = ++a->seq;
    return SECKILL_AMQP_OK;
}

/* basic.return comes with the message's header and body frames: the body names the message. */
static int report_returned(seckill_amqp *a, void (*fn)(void *, const seckill_amqp_confirm *),
                           void *ctx)
{
    amqp_message_t msg;
    seckill_amqp_confirm c = {SECKILL_AMQP_CONFIRM_RETURN, 0, 0, NULL, 0};
    if (check_reply(a, amqp_read_message(a->conn, CHANNEL, &msg, 0), "basic.return"))
        return -1;
    c.body = msg.body.bytes;
    c.len = msg.body.len;
    fn(ctx, &c);
    amqp_destroy_message(&msg);
    return 0;
}

seckill_amqp_result seckill_amqp_read_confirms(seckill_amqp *a,
                                               void (*fn)(void *ctx, const seckill_amqp_confirm *c),
                                               void *ctx)
{
    struct timeval now = {0, 0};
    amqp_frame_t f;
    int st;

    if (a->broken)
        return SECKILL_AMQP_LOST;
    while ((st = amqp_simple_wait_frame_noblock(a->conn, &f, &now)) == AMQP_STATUS_OK) {
        seckill_amqp_confirm c = {SECKILL_AMQP_CONFIRM_ACK, 0, 0, NULL, 0};
        if (f.frame_type != AMQP_FRAME_METHOD)
            continue;
        switch (f.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
            const amqp_basic_ack_t *ack = f.payload.method.decoded;
            c.tag = ack->delivery_tag;
            c.multiple = ack->multiple;
            fn(ctx, &c);
            break;
        }
        case AMQP_BASIC_NACK_METHOD: {
            const amqp_basic_nack_t *nack = f.payload.method.decoded;
            c.kind = SECKILL_AMQP_CONFIRM_NACK;
            c.tag = nack->delivery_tag;
            c.multiple = nack->multiple;
            fn(ctx, &c);
            break;
        }
        case AMQP_BASIC_RETURN_METHOD:
            if (report_returned(a, fn, ctx))
                return SECKILL_AMQP_LOST;
            break;
        case AMQP_CHANNEL_CLOSE_METHOD:
        case AMQP_CONNECTION_CLOSE_METHOD:
            return closed(a, &f.payload.method);
        default:
            break;
        }
    }
    if (st != AMQP_STATUS_TIMEOUT)
        return lost(a, "confirms", st);
    amqp_maybe_release_buffers(a->conn);
    return SECKILL_AMQP_OK;
}

int seckill_amqp_fd(const seckill_amqp *a)
{
    return a && !a->broken ? amqp_get_sockfd(a->conn) : -1;
}

/* ---- consume ----------------------------------------------------------------------------- */

seckill_amqp_result seckill_amqp_consume(seckill_amqp *a, const char *queue, int prefetch)
{
    if (a->broken)
        return SECKILL_AMQP_LOST;
    amqp_basic_qos(a->conn, CHANNEL, 0, (uint16_t)(prefetch > 65535 ? 65535 : prefetch), 0);
    if (check_rpc(a, "basic.qos"))
        return SECKILL_AMQP_LOST;
    amqp_basic_consume(a->conn, CHANNEL, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    if (check_rpc(a, queue))
        return SECKILL_AMQP_LOST;
    return SECKILL_AMQP_OK;
}

static int header_int(const amqp_basic_properties_t *p, const char *name)
{
    if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
        return 0;
    for (int i = 0; i < p->headers.num_entries; i++) {
        const amqp_table_entry_t *e = &p->headers.entries[i];
        const amqp_field_value_t *v = &e->value;
        if (e->key.len != strlen(name) || memcmp(e->key.bytes, name, e->key.len) != 0)
            continue;
        switch (v->kind) {
        case AMQP_FIELD_KIND_I8:
            return v->value.i8;
        case AMQP_FIELD_KIND_U8:
            return v->value.u8;
        case AMQP_FIELD_KIND_I16:
            return v->value.i16;
        case AMQP_FIELD_KIND_U16:
            return v->value.u16;
        case AMQP_FIELD_KIND_I32:
            return v->value.i32;
        case AMQP_FIELD_KIND_U32:
            return v->value.u32 > 1000000 ? 1000000 : (int)v->value.u32;
        case AMQP_FIELD_KIND_I64:
            return v->value.i64 > 1000000 ? 1000000 : (int)v->value.i64;
        default:
            return 0;
        }
    }
    return 0;
}

static void fill_delivery(apr_pool_t *p, const amqp_envelope_t *env, seckill_amqp_delivery *d)
{
    char *body = apr_palloc(p, env->message.body.len + 1);
    memcpy(body, env->message.body.bytes, env->message.body.len);
    body[env->message.body.len] = 0;
    d->tag = env->delivery_tag;
    d->redelivered = env->redelivered;
    d->retries = header_int(&env->message.properties, SECKILL_AMQP_RETRIES_HEADER);
    if (d->retries < 0)
        d->retries = 0;
    d->body = body;
    d->len = env->message.body.len;
}

/* amqp_consume_message met a frame that is no delivery: it is queued again, read it here.
 * 0 to go on waiting (a stray confirm), -1 when the channel or connection is gone. */
static int other_frame(seckill_amqp *a)
{
    amqp_frame_t f;
    char why[200];
    int st = amqp_simple_wait_frame(a->conn, &f);

    if (st != AMQP_STATUS_OK) {
        lost(a, "consume", st);
        return -1;
    }
    if (f.frame_type != AMQP_FRAME_METHOD)
        return 0;
    switch (f.payload.method.id) {
    case AMQP_BASIC_ACK_METHOD:
    case AMQP_BASIC_NACK_METHOD:
        return 0;
    case AMQP_BASIC_CANCEL_METHOD:
        set_err(a, "consume", "the broker cancelled the consumer (queue deleted?)");
        break;
    default:
        close_reason(&f.payload.method, why, sizeof why);
        set_err(a, "consume", why);
        break;
    }
    a->broken = 1;
    return -1;
}

seckill_amqp_result seckill_amqp_next(seckill_amqp *a, apr_pool_t *p, int timeout_ms,
                                      seckill_amqp_delivery *d)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    amqp_envelope_t env;
    amqp_rpc_reply_t r;

    if (a->broken)
        return SECKILL_AMQP_LOST;
    for (;;) {
        amqp_maybe_release_buffers(a->conn);
        r = amqp_consume_message(a->conn, &env, &tv, 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            fill_delivery(p, &env, d);
            amqp_destroy_envelope(&env);
            return SECKILL_AMQP_OK;
        }
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
            r.library_error == AMQP_STATUS_TIMEOUT)
            return SECKILL_AMQP_TIMEOUT;
        if (r.reply_type != AMQP_RESPONSE_LIBRARY_EXCEPTION ||
            r.library_error != AMQP_STATUS_UNEXPECTED_STATE) {
            check_reply(a, r, "consume");
            return SECKILL_AMQP_LOST;
        }
        if (other_frame(a) != 0)
            return SECKILL_AMQP_LOST;
        tv.tv_sec = tv.tv_usec = 0; /* only what already arrived after a stray frame */
    }
}

seckill_amqp_result seckill_amqp_ack(seckill_amqp *a, uint64_t tag, int multiple)
{
    int st;
    if (a->broken)
        return SECKILL_AMQP_LOST;
    if ((st = amqp_basic_ack(a->conn, CHANNEL, tag, multiple)) != AMQP_STATUS_OK)
        return lost(a, "basic.ack", st);
    return SECKILL_AMQP_OK;
}
