/* The timeout consumer (the seed's order_timeout_check): an order still unpaid when its message
 * leaves seckill.order.timeout.wait is cancelled, its stock returned in MySQL and Redis and the
 * shopper's limit lifted. Every step is idempotent: a repeated message changes nothing twice. */
#ifndef SECKILL_WORKER_TIMEOUT_H
#define SECKILL_WORKER_TIMEOUT_H

#include <apr_pools.h>

#include "worker.h"

/* seckill_worker_role callbacks: init checks the config and loads the Lua script. */
const char *seckill_timeout_init(apr_pool_t *p, seckill_worker *w, void **state);
void seckill_timeout_run(void *state, apr_pool_t *thread_pool);

#endif
