/* The order-create consumer (the seed's create_seckill_order): verified orders become rows in
 * one MySQL transaction per batch, their pay timeouts scheduled, then acked; an order that cannot
 * be written is retried, then dead-lettered with Redis compensated. Redelivery is a no-op. */
#ifndef SECKILL_WORKER_ORDERS_H
#define SECKILL_WORKER_ORDERS_H

#include <apr_pools.h>

#include "worker.h"

/* seckill_worker_role callbacks: init checks the config and loads the Lua scripts. */
const char *seckill_orders_init(apr_pool_t *p, seckill_worker *w, void **state);
void seckill_orders_run(void *state, apr_pool_t *thread_pool);

#endif
