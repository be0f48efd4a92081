/* RabbitMQ for module and worker: one connection with channel 1 in confirm mode, the
 * topology both sides declare (idempotently) on connect, and persistent publishes that
 * wait for the broker's confirm. Nothing is "sent" until the broker says it is stored. */
#ifndef SECKILL_AMQP_CONN_H
#define SECKILL_AMQP_CONN_H

#include <amqp.h>
#include <apr_pools.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

/* Topology: one durable direct exchange, durable queues bound by these routing keys. */
#define SECKILL_AMQP_EXCHANGE "seckill"
#define SECKILL_RK_ORDER_CREATE "order.create" /* queue seckill.order.create */
/* no consumer: messages expire (per-message TTL = time left to pay) and are dead-lettered
 * to SECKILL_RK_ORDER_TIMEOUT, since RabbitMQ has no delayed delivery built in */
#define SECKILL_RK_ORDER_TIMEOUT_WAIT "order.timeout.wait" /* queue seckill.order.timeout.wait */
#define SECKILL_RK_ORDER_TIMEOUT "order.timeout"           /* queue seckill.order.timeout */
#define SECKILL_RK_ORDER_DEAD "order.dead" /* queue seckill.order.dead: failed for good */
/* The queues, one per routing key above. */
#define SECKILL_AMQP_QUEUE_ORDER_CREATE "seckill.order.create"
#define SECKILL_AMQP_QUEUE_ORDER_TIMEOUT_WAIT "seckill.order.timeout.wait"
#define SECKILL_AMQP_QUEUE_ORDER_TIMEOUT "seckill.order.timeout"
#define SECKILL_AMQP_QUEUE_ORDER_DEAD "seckill.order.dead"
/* Waits of a second and more go through a ladder of queues instead, each with one fixed TTL
 * (x-message-ttl 1 s, 2 s, 4 s, ... 2^16 s) dead-lettering into SECKILL_RK_ORDER_TIMEOUT:
 * RabbitMQ expires messages only at a queue's head, so in a single queue with per-message
 * TTLs a long wait (a 300 s pay window) holds back every shorter one queued behind it (a 3 s
 * window of another virtual host). Within one ladder queue all expire in arrival order. A
 * message leaves each step early and is routed on by its consumer until its time is up. */
#define SECKILL_AMQP_LADDER_STEPS 17
/* queue "seckill.order.timeout.wait.<2^k>s", routing key "order.timeout.wait.<2^k>s" */
#define SECKILL_AMQP_LADDER_QUEUE "seckill.order.timeout.wait.%lds"
#define SECKILL_AMQP_LADDER_KEY "order.timeout.wait.%lds"
/* message header: how often the worker already tried this message */
#define SECKILL_AMQP_RETRIES_HEADER "x-seckill-retries"

typedef enum {
    SECKILL_AMQP_OK = 0,
    SECKILL_AMQP_NACK,    /* the broker refused it (nack, or unroutable: basic.return) */
    SECKILL_AMQP_TIMEOUT, /* no confirm in time: it may or may not be stored */
    SECKILL_AMQP_LOST     /* the connection failed: drop it */
} seckill_amqp_result;

typedef struct seckill_amqp seckill_amqp;

/* Connects (timeout_ms for connect and every wait), logs in, opens channel 1, selects
 * confirm mode and declares the topology. NULL on failure with a message in err. */
seckill_amqp *seckill_amqp_open(const seckill_endpoint *ep, int timeout_ms, char *err,
                                size_t errlen);
/* The same without declaring the topology, for a caller that declared it already on an earlier
 * connection (seckill_amqp_declare). */
seckill_amqp *seckill_amqp_connect(const seckill_endpoint *ep, int timeout_ms, char *err,
                                   size_t errlen);
/* Declares the topology (idempotent); not while publishes await their confirms. OK or LOST. */
seckill_amqp_result seckill_amqp_declare(seckill_amqp *a);
/* 1 when the connection failed because the broker closed the channel or the connection (a
 * missing exchange, a shutdown): the topology may need declaring again. */
int seckill_amqp_closed_by_server(const seckill_amqp *a);
void seckill_amqp_close(seckill_amqp *a);
/* Publishes body (content type application/json, persistent, mandatory) to the exchange with
 * routing_key and waits for the confirm. expiration_ms > 0 sets a per-message TTL;
 * retries >= 0 sets the retries header. */
seckill_amqp_result seckill_amqp_publish(seckill_amqp *a, const char *routing_key, const char *body,
                                         size_t len, long expiration_ms, int retries);

/* One message of seckill_amqp_publish_all: the arguments of seckill_amqp_publish. */
typedef struct {
    const char *routing_key;
    const char *body;
    size_t len;
    long expiration_ms;
    int retries;
} seckill_amqp_message;

/* Publishes n messages back to back and then waits for all their confirms: one round trip for
 * a batch instead of one per message. OK when every one was confirmed; else the worst result
 * (NACK also when any was unroutable: a return does not say which one), and some of them may
 * be stored. */
seckill_amqp_result seckill_amqp_publish_all(seckill_amqp *a, const seckill_amqp_message *m, int n);

/* ---- streaming publishes: many in flight, their confirms read as they come ----
 * For a publisher that sends while earlier messages still await their confirms (the module's
 * per-child publisher). Never mixed with seckill_amqp_publish_all on one connection. */

/* Sends m (as seckill_amqp_publish does) without waiting; *seq is the delivery tag its
 * confirm will carry. OK, or LOST (the connection is broken). */
seckill_amqp_result seckill_amqp_send(seckill_amqp *a, const seckill_amqp_message *m,
                                      uint64_t *seq);

typedef enum {
    SECKILL_AMQP_CONFIRM_ACK,   /* stored: tag, and with multiple every earlier tag too */
    SECKILL_AMQP_CONFIRM_NACK,  /* refused: likewise */
    SECKILL_AMQP_CONFIRM_RETURN /* unroutable (its ack follows): body says which message */
} seckill_amqp_confirm_kind;

typedef struct {
    seckill_amqp_confirm_kind kind;
    uint64_t tag;
    int multiple;
    const void *body; /* RETURN: the message's body, valid during the callback only */
    size_t len;
} seckill_amqp_confirm;

/* Reads every frame already received, without waiting, and reports each confirm and return
 * to fn. OK when nothing more is there (poll seckill_amqp_fd to wait for more), LOST when
 * the connection or the channel failed (or the broker closed it). */
seckill_amqp_result seckill_amqp_read_confirms(seckill_amqp *a,
                                               void (*fn)(void *ctx, const seckill_amqp_confirm *c),
                                               void *ctx);
/* The socket, to poll for readability; -1 when there is none. */
int seckill_amqp_fd(const seckill_amqp *a);

/* Where a message goes to arrive in SECKILL_RK_ORDER_TIMEOUT after delay_ms: the longest
 * ladder step that is not longer (expiration 0: the queue's TTL applies), or below a second
 * SECKILL_RK_ORDER_TIMEOUT_WAIT with *expiration_ms = max(1, delay_ms) (all TTLs there are
 * under a second, so none waits long behind another). Returns a static routing key. */
const char *seckill_amqp_delay_route(long long delay_ms, long *expiration_ms);

/* Ready messages (not counting unacked ones) and consumers of an existing queue, by a passive
 * queue.declare. OK; NACK when the broker refused (no such queue: it closes the channel, so the
 * connection is broken); LOST when the connection failed. */
seckill_amqp_result seckill_amqp_queue_depth(seckill_amqp *a, const char *queue,
                                             long long *messages, long long *consumers);

/* ---- consuming (the worker) ----
 * A connection that consumes should not also publish: a publish waiting for its confirm would
 * have to step over deliveries. The worker opens one connection of each kind per thread. */

typedef struct {
    uint64_t tag;     /* delivery tag, for seckill_amqp_ack */
    int redelivered;  /* the broker delivered it before (to a consumer that did not ack) */
    int retries;      /* SECKILL_AMQP_RETRIES_HEADER, 0 when absent */
    const char *body; /* copied into the caller's pool, NUL-terminated */
    size_t len;
} seckill_amqp_delivery;

/* basic.qos(prefetch) and basic.consume (manual ack) on queue, channel 1. */
seckill_amqp_result seckill_amqp_consume(seckill_amqp *a, const char *queue, int prefetch);
/* The next delivery, waiting up to timeout_ms (0: only what already arrived). OK with d
 * filled, TIMEOUT when none came, LOST when the connection or channel failed (or the broker
 * cancelled the consumer). */
seckill_amqp_result seckill_amqp_next(seckill_amqp *a, apr_pool_t *p, int timeout_ms,
                                      seckill_amqp_delivery *d);
/* Acks tag (with multiple: every unacked delivery up to it). OK or LOST. */
seckill_amqp_result seckill_amqp_ack(seckill_amqp *a, uint64_t tag, int multiple);

/* The underlying connection, for consumers (channel 1). */
amqp_connection_state_t seckill_amqp_state(seckill_amqp *a);
/* The last error, for logs. */
const char *seckill_amqp_error(const seckill_amqp *a);

#endif
