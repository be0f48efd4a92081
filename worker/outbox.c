#include "outbox.h"

#include <apr_tables.h>
#include <string.h>

#include "order.h"

/* A message being filled: its orders so far, joined by '\n'. */
typedef struct {
    const char *rk;
    char *body;
    size_t len, cap;
    int orders;
    long expiration_ms;
} joined;

struct seckill_outbox {
    apr_pool_t *p;
    apr_array_header_t *out;  /* seckill_amqp_message, ready */
    apr_array_header_t *open; /* joined, one per routing key at most */
};

seckill_outbox *seckill_outbox_make(apr_pool_t *p, int n)
{
    seckill_outbox *o = apr_pcalloc(p, sizeof *o);
    o->p = p;
    o->out = apr_array_make(p, n > 0 ? n : 1, sizeof(seckill_amqp_message));
    o->open = apr_array_make(p, 4, sizeof(joined));
    return o;
}

void seckill_outbox_add(seckill_outbox *o, const char *rk, const char *body, size_t len,
                        long expiration_ms, int retries)
{
    APR_ARRAY_PUSH(o->out, seckill_amqp_message) =
        (seckill_amqp_message){rk, body, len, expiration_ms, retries};
}

static void close_joined(seckill_outbox *o, joined *j)
{
    if (j->orders > 0)
        APR_ARRAY_PUSH(o->out, seckill_amqp_message) =
            (seckill_amqp_message){j->rk, j->body, j->len, j->expiration_ms, -1};
    j->body = NULL;
    j->len = j->cap = 0;
    j->orders = 0;
    j->expiration_ms = 0;
}

void seckill_outbox_join(seckill_outbox *o, const char *rk, const char *body, size_t len,
                         long expiration_ms)
{
    joined *j = NULL;
    size_t need;

    for (int i = 0; i < o->open->nelts && !j; i++) {
        joined *x = &APR_ARRAY_IDX(o->open, i, joined);
        if (strcmp(x->rk, rk) == 0)
            j = x;
    }
    if (!j) {
        j = apr_array_push(o->open);
        memset(j, 0, sizeof *j);
        j->rk = rk;
    }
    if (!seckill_order_fits(j->orders, j->len, len))
        close_joined(o, j);
    need = j->len + 1 + len;
    if (need > j->cap) {
        /* the batch's pool holds the old buffer until the batch ends: at most twice the body */
        size_t cap = need < 2048 ? 2048 : need * 2;
        char *b = apr_palloc(o->p, cap);
        if (j->len)
            memcpy(b, j->body, j->len);
        j->body = b;
        j->cap = cap;
    }
    j->len = seckill_order_append(j->body, j->len, j->orders++, body, len);
    if (expiration_ms > j->expiration_ms)
        j->expiration_ms = expiration_ms;
}

int seckill_outbox_send(seckill_outbox *o, seckill_worker_conn *c)
{
    for (int i = 0; i < o->open->nelts; i++)
        close_joined(o, &APR_ARRAY_IDX(o->open, i, joined));
    return seckill_worker_publish(c, (seckill_amqp_message *)o->out->elts, o->out->nelts);
}
