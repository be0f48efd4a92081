/* RabbitMQ connections of one httpd child (see conn_pool.h), each with channel 1 in
 * confirm mode and the topology declared (lib/amqp_conn.h). Work functions get a seckill_amqp. */
#ifndef SECKILL_AMQP_POOL_H
#define SECKILL_AMQP_POOL_H

#include "amqp_conn.h"
#include "config.h"
#include "conn_pool.h"

seckill_conn_pool *seckill_amqp_pool_create(apr_pool_t *pchild, server_rec *s,
                                            const seckill_server_conf *c);
/* Publishes body to routing_key on this request's connection and waits for the confirm:
 * SECKILL_CONN_OK when the broker stored it; FAIL when it refused or did not answer in
 * time (that connection is dropped); UNAVAILABLE when no connection could be had. */
seckill_conn_result seckill_amqp_publish_confirmed(request_rec *r, const char *routing_key,
                                                   const char *body, size_t len);
/* Ready messages and consumers of each of n queues (passive declares, for the status page):
 * SECKILL_CONN_OK when every one answered. */
seckill_conn_result seckill_amqp_queue_depths(request_rec *r, const char *const *queues, int n,
                                              long long *messages, long long *consumers);

#endif
