/* RabbitMQ publishing of one httpd child: SeckillAMQPPoolSize publishers (default 1), each a
 * thread with one connection in confirm mode. Request threads hand it their message and wait;
 * it sends what has come in while earlier messages await their confirms, so one confirm
 * (multiple-ack) settles many. A request hears only about its own message, after the broker
 * confirmed it or gave up on it: never "ok" before the confirm. */
#ifndef SECKILL_AMQP_POOL_H
#define SECKILL_AMQP_POOL_H

#include <semaphore.h>
#include <time.h>

#include "amqp_conn.h"
#include "config.h"
#include "conn_pool.h"

typedef struct seckill_amqp_pool seckill_amqp_pool;
typedef struct seckill_amqp_publisher seckill_amqp_publisher;

/* One message on its way, begun on one thread and awaited on another: the Redis pipeline's
 * thread hands a sold buy's order on, and the request sleeps once, until its confirm. Its
 * fields are amqp_pool.c's; it lives with its requester (zeroed) until answered or given up. */
typedef struct seckill_amqp_job {
    struct seckill_amqp_job *next;       /* queued: the publisher's queue */
    struct seckill_amqp_job *batch_next; /* sent: the other orders of its message */
    seckill_amqp_publisher *pub;
    const char *routing_key;
    const char *body;
    size_t len;
    int state;
    int slot; /* sent: its place in the ring */
    seckill_conn_result result;
    sem_t *done;
    struct timespec deadline; /* past it the requester gives up (publish_late) */
} seckill_amqp_job;

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
/* Queues body like seckill_amqp_publish_confirmed without waiting, from any thread (r lends its
 * server and status slot): 1 when queued, then the publisher posts *done once j has its answer;
 * 0 when it could not be queued (no publisher, stopping): nothing will post. */
int seckill_amqp_publish_start(request_rec *r, seckill_amqp_job *j, const char *routing_key,
                               const char *body, size_t len, sem_t *done);
/* *done did not come by *when: 1 when j is given up (it was queued, and its deadline passed:
 * nothing will post, its answer is FAIL); 0 with *when the time to look again (j not queued
 * yet, its deadline not passed, or answered meanwhile: its post is there). */
int seckill_amqp_publish_late(seckill_amqp_job *j, struct timespec *when);
/* j's answer once *done came or publish_late gave it up; counted on the status page unless OK. */
seckill_conn_result seckill_amqp_publish_result(request_rec *r, const seckill_amqp_job *j);
/* Ready messages and consumers of each of n queues (passive declares, for the status page):
 * SECKILL_CONN_OK when every one answered. */
seckill_conn_result seckill_amqp_queue_depths(request_rec *r, const char *const *queues, int n,
                                              long long *messages, long long *consumers);

#endif
