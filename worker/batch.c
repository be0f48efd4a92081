#include "batch.h"

#include <stdlib.h>
#include <string.h>

void *seckill_batch_split(apr_pool_t *p, const apr_array_header_t *ds, size_t size,
                          const char *secret, size_t secret_len, int *n)
{
    apr_array_header_t *out = apr_array_make(p, ds->nelts, (int)size);
    for (int i = 0; i < ds->nelts; i++) {
        const seckill_amqp_delivery *d = &APR_ARRAY_IDX(ds, i, seckill_amqp_delivery);
        const char *line;
        size_t off = 0, len;
        while (seckill_order_next(d->body, d->len, &off, &line, &len)) {
            seckill_batch_order *o = apr_array_push(out);
            memset(o, 0, size);
            o->d = d;
            o->body = line;
            o->len = len;
            /* verified too: a forged order must not be written nor cancel someone's order */
            if (seckill_order_decode(line, len, &o->m) != 0)
                o->bad = "malformed body";
            else if (!seckill_order_verify(&o->m, secret, secret_len))
                o->bad = "bad token";
        }
    }
    *n = out->nelts;
    return out->elts;
}

static int lock_order(const void *a, const void *b)
{
    const seckill_batch_order *x = *(void *const *)a, *y = *(void *const *)b;
    if (x->m.product_id != y->m.product_id)
        return x->m.product_id < y->m.product_id ? -1 : 1;
    return x->m.order_id < y->m.order_id ? -1 : x->m.order_id > y->m.order_id;
}

void **seckill_batch_pick(apr_pool_t *p, void *items, size_t size, int n,
                          int (*keep)(const void *item), int *count)
{
    void **out = apr_palloc(p, sizeof *out * (size_t)(n > 0 ? n : 1));
    int k = 0;
    for (int i = 0; i < n; i++) {
        void *it = (char *)items + (size_t)i * size;
        if (keep(it))
            out[k++] = it;
    }
    qsort(out, (size_t)k, sizeof *out, lock_order);
    *count = k;
    return out;
}
