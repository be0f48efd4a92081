/* What a consumer's batch sends on before its ack, confirmed in one burst. Retries and dead
 * letters go one order a message; the pay timeouts going to one wait queue are joined into
 * messages of several orders (lib/order.h), so the broker stores, expires and delivers one
 * message for many. The timeout consumer decides each order of a message alone. */
#ifndef SECKILL_WORKER_OUTBOX_H
#define SECKILL_WORKER_OUTBOX_H

#include <apr_pools.h>

#include "conn.h"

typedef struct seckill_outbox seckill_outbox;

/* An outbox in p (a batch's pool) for about n orders. */
seckill_outbox *seckill_outbox_make(apr_pool_t *p, int n);
/* One order in a message of its own (retries >= 0 sets the retries header). */
void seckill_outbox_add(seckill_outbox *o, const char *rk, const char *body, size_t len,
                        long expiration_ms, int retries);
/* One order into the message being filled for rk; a message with a per-message TTL keeps the
 * longest of its orders', so none of them comes back before its time. */
void seckill_outbox_join(seckill_outbox *o, const char *rk, const char *body, size_t len,
                         long expiration_ms);
/* Publishes everything (seckill_worker_publish): 0 when all was confirmed. */
int seckill_outbox_send(seckill_outbox *o, seckill_worker_conn *c);

#endif
