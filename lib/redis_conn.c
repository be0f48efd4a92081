#include "redis_conn.h"

#include <apr_strings.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int setup_cmd(redisContext *c, redisReply *r, char *err, size_t n)
{
    int ok = r && r->type != REDIS_REPLY_ERROR;
    if (!ok)
        snprintf(err, n, "%s", r ? r->str : c->errstr);
    if (r)
        freeReplyObject(r);
    return ok;
}

redisContext *seckill_redis_connect(const seckill_endpoint *ep, struct timeval connect_timeout,
                                    struct timeval io_timeout, char *err, size_t errlen)
{
    redisContext *c = redisConnectWithTimeout(ep->host, ep->port, connect_timeout);
    int ok;

    if (!c || c->err) {
        snprintf(err, errlen, "%s", c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    *err = 0;
    ok = redisSetTimeout(c, io_timeout) == REDIS_OK && redisEnableKeepAlive(c) == REDIS_OK;
    if (ok && ep->password)
        ok = setup_cmd(c,
                       ep->user && *ep->user ? redisCommand(c, "AUTH %s %s", ep->user, ep->password)
                                             : redisCommand(c, "AUTH %s", ep->password),
                       err, errlen);
    if (ok && *ep->path && strcmp(ep->path, "0") != 0)
        ok = setup_cmd(c, redisCommand(c, "SELECT %s", ep->path), err, errlen);
    if (!ok) {
        if (!*err)
            snprintf(err, errlen, "%s", c->errstr);
        redisFree(c);
        return NULL;
    }
    return c;
}

int seckill_redis_send(redisContext *c, struct iovec *iov, int n)
{
    int k = 0;
    while (k < n) {
        /* sendmsg, not writev: MSG_NOSIGNAL, so a closed peer is an error, never a SIGPIPE */
        struct msghdr m = {.msg_iov = iov + k, .msg_iovlen = (size_t)(n - k)};
        ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EPIPE;
            c->err = REDIS_ERR_IO;
            snprintf(c->errstr, sizeof c->errstr, "write: %s",
                     e == EAGAIN || e == EWOULDBLOCK ? "timed out" : strerror(e));
            return 0;
        }
        while (k < n && (size_t)w >= iov[k].iov_len) {
            w -= (ssize_t)iov[k].iov_len;
            k++;
        }
        if (k < n) {
            iov[k].iov_base = (char *)iov[k].iov_base + w;
            iov[k].iov_len -= (size_t)w;
        }
    }
    return 1;
}

/* ---- replies made in a pool ----------------------------------------------------------------
 * hiredis 0.14 has no allocator hooks, but its reader takes functions that make the reply
 * objects; these make them in the pool the reader's privdata names, and free nothing. */

static redisReply *pool_object(const redisReadTask *t, int type)
{
    redisReply *r = apr_pcalloc(t->privdata, sizeof *r);
    r->type = type;
    if (t->parent) {
        redisReply *parent = t->parent->obj;
        parent->element[t->idx] = r;
    }
    return r;
}

static void *pool_string(const redisReadTask *t, char *str, size_t len)
{
    redisReply *r = pool_object(t, t->type);
    r->str = apr_pstrmemdup(t->privdata, str, len);
    r->len = len;
    return r;
}

static void *pool_array(const redisReadTask *t, int elements)
{
    redisReply *r = pool_object(t, REDIS_REPLY_ARRAY);
    r->elements = elements > 0 ? (size_t)elements : 0;
    if (elements > 0)
        r->element = apr_pcalloc(t->privdata, sizeof *r->element * (size_t)elements);
    return r;
}

static void *pool_integer(const redisReadTask *t, long long value)
{
    redisReply *r = pool_object(t, REDIS_REPLY_INTEGER);
    r->integer = value;
    return r;
}

static void *pool_nil(const redisReadTask *t)
{
    return pool_object(t, REDIS_REPLY_NIL);
}

static void pool_free(void *reply)
{
    (void)reply; /* the pool's */
}

static redisReplyObjectFunctions pool_functions = {pool_string, pool_array, pool_integer, pool_nil,
                                                   pool_free};

redisReply *seckill_redis_read_in(apr_pool_t *p, redisContext *c)
{
    redisReplyObjectFunctions *fn = c->reader->fn;
    void *privdata = c->reader->privdata, *reply = NULL;

    c->reader->fn = &pool_functions;
    c->reader->privdata = p;
    if (redisGetReply(c, &reply) != REDIS_OK)
        reply = NULL;
    /* a reply cut off stays in the reader: it is the pool's, never to be freed by hiredis */
    if (!reply)
        c->reader->reply = NULL;
    c->reader->fn = fn;
    c->reader->privdata = privdata;
    return reply;
}
