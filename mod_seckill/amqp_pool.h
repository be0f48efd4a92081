/* RabbitMQ publishing of one httpd child: SeckillAMQPPoolSize publishers (default 1), each a
 * thread with one connection in confirm mode. Request threads hand it their message and wait;
 * it sends what has come in while earlier messages await their confirms, so one confirm
 * (multiple-ack) settles many. A request hears only about its own message, after the broker
 * confirmed it or gave up on it: never "ok" before the confirm. */
#ifndef SECKILL_AMQP_POOL_H
#define SECKILL_AMQP_POOL_H

#include "amqp_conn.h"
#include "config.h"
#include "conn_pool.h"

typedef struct seckill_amqp_pool seckill_amqp_pool;

/* Starts the child's publishers (stopped by a cleanup of pchild). NULL when they cannot run
 * (logged): buys then answer 503. */
seckill_amqp_pool *seckill_amqp_pool_create(apr_pool_t *pchild, server_rec *s,
                                            const seckill_server_conf *c);
/* Publishes body to routing_key (persistent, mandatory) and waits for its confirm:
 * SECKILL_CONN_OK when the broker stored it; FAIL when it refused it, returned it as
 * unroutable or did not answer in time (it may be stored after all); UNAVAILABLE when it
 * could not be sent (no connection). */
seckill_conn_result seckill_amqp_publish_confirmed(request_rec *r, const char *routing_key,
                                                   const char *body, size_t len);
/* Ready messages and consumers of each of n queues (passive declares, for the status page):
 * SECKILL_CONN_OK when every one answered. */
seckill_conn_result seckill_amqp_queue_depths(request_rec *r, const char *const *queues, int n,
                                              long long *messages, long long *consumers);

#endif
