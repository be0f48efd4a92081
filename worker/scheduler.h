/* The scheduler role (Celery beat in the seed): moves products' sale status by time in MySQL and
 * Redis, and preheats slots into Redis before they start. Of all workers only the holder of the
 * Redis lock SECKILL_KEY_LEADER runs the jobs; the others stand by and take over when it goes. */
#ifndef SECKILL_WORKER_SCHEDULER_H
#define SECKILL_WORKER_SCHEDULER_H

#include <apr_pools.h>

#include "worker.h"

/* seckill_worker_role callbacks: init loads the Lua scripts, run loops until stop and then
 * gives the lock back. */
const char *seckill_scheduler_init(apr_pool_t *p, seckill_worker *w, void **state);
void seckill_scheduler_run(void *state, apr_pool_t *thread_pool);

/* --once: each job once, in this thread, without the lock (both jobs are idempotent and safe
 * beside a running leader). 0 when both succeeded, -1 otherwise. */
int seckill_scheduler_once(void *state, apr_pool_t *p);

#endif
