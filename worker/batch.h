/* The orders of a consumer's batch, for the order-create and the timeout consumers alike. A
 * message may carry several orders (lib/order.h): each becomes an item of its own, decided
 * alone, and the items a transaction writes are taken in one lock order by every worker. */
#ifndef SECKILL_WORKER_BATCH_H
#define SECKILL_WORKER_BATCH_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "amqp_conn.h"
#include "order.h"

/* The first member of a consumer's item: where the order came from and what it says. */
typedef struct {
    const seckill_amqp_delivery *d; /* the message it came in */
    const char *body;               /* this order's JSON within d's body */
    size_t len;
    seckill_order_msg m;
    const char *bad; /* why it is refused (malformed, forged), else NULL */
} seckill_batch_order;

/* Every order of the deliveries ds, decoded and verified with the secret, as *n items of
 * size bytes each (a seckill_batch_order first, the rest zeroed). */
void *seckill_batch_split(apr_pool_t *p, const apr_array_header_t *ds, size_t size,
                          const char *secret, size_t secret_len, int *n);

/* The items (n of size bytes) that keep() takes, sorted product first, then order id, so that
 * concurrent batches wait for each other's row locks instead of deadlocking. */
void **seckill_batch_pick(apr_pool_t *p, void *items, size_t size, int n,
                          int (*keep)(const void *item), int *count);

#endif
