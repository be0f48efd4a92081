/* The worker's settings: a file of `key = value` lines (# comments), then environment variables
 * SECKILL_WORKER_<KEY> over it. Every value is checked here, once, so the rest of the worker
 * trusts the struct; paths come out absolute (relative ones are taken from the file's folder). */
#ifndef SECKILL_WORKER_CONFIG_H
#define SECKILL_WORKER_CONFIG_H

#include <apr_pools.h>
#include <stddef.h>

#include "endpoint.h"
#include "log.h"

typedef struct {
    const char *file; /* the config file read, NULL when none */
    seckill_endpoint redis;
    seckill_endpoint mysql;
    seckill_endpoint amqp; /* for the order consumers; host NULL when not set */
    const char *lua_dir;
    int status_interval;     /* s between status runs */
    int preheat_interval;    /* s between preheat runs */
    int preheat_ahead;       /* s before a slot starts that it is loaded */
    int leader_ttl;          /* s the scheduler lock lives without renewal */
    int node_id;             /* 0..31 */
    int pay_timeout;         /* s an order may stay unpaid */
    const char *secret_file; /* the module's SeckillSecretFile; NULL when not set */
    const char *secret;      /* its content without trailing newlines (32..4096 bytes) */
    size_t secret_len;
    int prefetch;  /* deliveries the broker may push ahead of acks, per consumer */
    int batch_max; /* orders written in one MySQL transaction at most */
    int retry_max; /* republishes of a failing order before it is dead-lettered */
    seckill_worker_log_level log_level;
    const char *log_file; /* NULL: stderr */
    const char *pid_file; /* NULL: none */
} seckill_worker_config;

/* Fills cfg from defaults, then file (NULL for none), then the environment. NULL on success,
 * else a message naming the file and line (or the variable) and the key. */
const char *seckill_worker_config_load(apr_pool_t *p, const char *file, seckill_worker_config *cfg);
/* What the order consumers need beyond the scheduler (amqp, secret_file): NULL when set,
 * else the same message as a missing required key. */
const char *seckill_worker_config_need_consumers(apr_pool_t *p, const seckill_worker_config *cfg);

#endif
