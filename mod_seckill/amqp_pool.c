#include "amqp_pool.h"

#include "apr_strings.h"

#include "runtime.h"
#include "stats.h"

typedef struct {
    const seckill_endpoint *ep;
    int timeout_ms;
} amqp_params;

static void *amqp_open(void *params, char *err, size_t errlen)
{
    amqp_params *ap = params;
    return seckill_amqp_open(ap->ep, ap->timeout_ms, err, errlen);
}

static void amqp_close(void *conn)
{
    seckill_amqp_close(conn);
}

seckill_conn_pool *seckill_amqp_pool_create(apr_pool_t *pchild, server_rec *s,
                                            const seckill_server_conf *c)
{
    amqp_params *ap = apr_pcalloc(pchild, sizeof *ap);
    ap->ep = c->amqp;
    ap->timeout_ms = c->amqp_timeout_ms;
    return seckill_conn_pool_create(pchild, s, "amqp", c->amqp_pool_max, amqp_open, amqp_close, ap);
}

typedef struct {
    const char *routing_key;
    const char *body;
    size_t len;
} publish_job;

static seckill_conn_result publish(request_rec *r, void *conn, void *baton)
{
    publish_job *job = baton;
    switch (seckill_amqp_publish(conn, job->routing_key, job->body, job->len, 0, -1)) {
    case SECKILL_AMQP_OK:
        return SECKILL_CONN_OK;
    case SECKILL_AMQP_LOST:
        /* a retry may store the message twice: the worker treats a known order id as done */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SK0501: amqp: %s",
                      seckill_amqp_error(conn));
        return SECKILL_CONN_LOST;
    default:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0502: amqp: publish not confirmed: %s",
                      seckill_amqp_error(conn));
        return SECKILL_CONN_BROKEN;
    }
}

seckill_conn_result seckill_amqp_publish_confirmed(request_rec *r, const char *routing_key,
                                                   const char *body, size_t len)
{
    publish_job job = {routing_key, body, len};
    seckill_conn_result res = seckill_conn_run(r, seckill_conf(r->server)->rt->amqp, publish, &job);
    if (res != SECKILL_CONN_OK)
        seckill_stats_add(r, SECKILL_STAT_PUBLISH_UNCONFIRMED);
    return res;
}

typedef struct {
    const char *const *queues;
    int n;
    long long *messages, *consumers;
} depth_job;

static seckill_conn_result depths(request_rec *r, void *conn, void *baton)
{
    depth_job *job = baton;
    for (int i = 0; i < job->n; i++) {
        switch (
            seckill_amqp_queue_depth(conn, job->queues[i], &job->messages[i], &job->consumers[i])) {
        case SECKILL_AMQP_OK:
            continue;
        case SECKILL_AMQP_LOST:
            return SECKILL_CONN_LOST;
        default:
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SK1103: amqp: queue %s: %s",
                          job->queues[i], seckill_amqp_error(conn));
            return SECKILL_CONN_BROKEN;
        }
    }
    return SECKILL_CONN_OK;
}

seckill_conn_result seckill_amqp_queue_depths(request_rec *r, const char *const *queues, int n,
                                              long long *messages, long long *consumers)
{
    depth_job job = {queues, n, messages, consumers};
    return seckill_conn_run(r, seckill_conf(r->server)->rt->amqp, depths, &job);
}
