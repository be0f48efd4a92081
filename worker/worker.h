/* The worker process: roles (scheduler, order-create consumer, timeout consumer) each run in a
 * thread of their own with their own connections, until SIGTERM raises the stop flag. A role
 * finishes the job at hand, gives back what it holds and returns; main then exits 0. */
#ifndef SECKILL_WORKER_H
#define SECKILL_WORKER_H

#include <apr_pools.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_time.h>

#include "config.h"

typedef struct {
    const seckill_worker_config *cfg;
    apr_thread_mutex_t *mu; /* guards stop */
    apr_thread_cond_t *cv;  /* broadcast when stop is raised */
    int stop;
} seckill_worker;

/* A role of the worker. init runs in the main thread before any thread starts, so a missing
 * script or a bad setting stops the worker at once; run runs in the role's thread with a pool
 * of that thread's own, and returns when seckill_worker_wait() reports stop. */
typedef struct {
    const char *name;
    const char *(*init)(apr_pool_t *p, seckill_worker *w, void **state);
    void (*run)(void *state, apr_pool_t *thread_pool);
} seckill_worker_role;

/* 1 once stop was requested. */
int seckill_worker_stopping(seckill_worker *w);
/* Sleeps up to t or until stop is requested; 1 when stopping. */
int seckill_worker_wait(seckill_worker *w, apr_interval_time_t t);

#endif
