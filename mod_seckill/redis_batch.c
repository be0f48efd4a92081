#include "redis_batch.h"

#include "http_log.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>

#include "redis_conn.h"

#define BATCH_MAX 64       /* commands a write; more wait for the next one */
#define LATER_RETRY_MS 200 /* how often later work is tried while Redis does not answer */

/* A request's command, on its thread's stack until posted. */
typedef struct rjob {
    struct rjob *next;
    const char *cmd;
    size_t len;
    apr_pool_t *pool;
    redisReply *reply;
    int sent; /* its bytes went out (all or some): without a reply, its outcome is unknown */
    const seckill_redis_then *then;
    sem_t done;
} rjob;

typedef struct later {
    struct later *next;
    seckill_redis_later_fn fn;
    void *baton;
} later;

struct seckill_redis_batch {
    pthread_mutex_t lock;
    pthread_cond_t more;
    rjob *head, *tail; /* queued, under lock */
    later *todo;       /* later work, under lock */
    int waiting;       /* the thread waits for more: a new command signals */
    int stopping;
    pthread_t th;
    /* the thread's own */
    redisContext *c;
    int down; /* a connect failed and none succeeded since: logged once an outage */
    server_rec *s;
    const seckill_endpoint *ep;
    struct timeval tv;
    unsigned long commands, writes, passed; /* for the log line at the child's exit */
};

/* Writes the n commands, one writev for all that the socket takes at once. */
static int send_all(redisContext *c, rjob **jobs, int n)
{
    struct iovec iov[BATCH_MAX];
    for (int i = 0; i < n; i++) {
        iov[i].iov_base = (void *)jobs[i]->cmd;
        iov[i].iov_len = jobs[i]->len;
    }
    return seckill_redis_send(c, iov, n);
}

static int connect_redis(seckill_redis_batch *b)
{
    char err[512];
    if (b->c)
        return 1;
    if ((b->c = seckill_redis_connect(b->ep, b->tv, b->tv, err, sizeof err))) {
        if (b->down)
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, b->s,
                         "SK0221: redis pipeline: connected again");
        b->down = 0;
        return 1;
    }
    ap_log_error(APLOG_MARK, b->down ? APLOG_DEBUG : APLOG_WARNING, 0, b->s,
                 "SK0220: redis pipeline: cannot connect to %s: %s (buys use the pool)", b->ep->url,
                 err);
    b->down = 1;
    return 0;
}

/* Takes what is queued (at most BATCH_MAX) into jobs, and the later work when there is some
 * (waiting at most LATER_RETRY_MS for commands then); -1 when stopping with no commands queued
 * (the later work stays for stop to report). */
static int take(seckill_redis_batch *b, rjob **jobs, later **todo)
{
    int n = 0, had = 0;
    struct timespec until;
    pthread_mutex_lock(&b->lock);
    if (b->todo) {
        had = 1;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += LATER_RETRY_MS * 1000000L;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
    }
    while (!b->head && !b->stopping) {
        b->waiting = 1;
        if (!b->todo)
            pthread_cond_wait(&b->more, &b->lock);
        else if (!had) /* new later work: at once */
            break;
        else if (pthread_cond_timedwait(&b->more, &b->lock, &until) == ETIMEDOUT)
            break;
    }
    b->waiting = 0;
    if (!b->head && b->stopping) {
        pthread_mutex_unlock(&b->lock);
        return -1;
    }
    *todo = b->todo;
    b->todo = NULL;
    while (b->head && n < BATCH_MAX) {
        jobs[n++] = b->head;
        b->head = b->head->next;
    }
    if (!b->head)
        b->tail = NULL;
    pthread_mutex_unlock(&b->lock);
    return n;
}

static void drop(seckill_redis_batch *b)
{
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, b->s, "SK0222: redis pipeline: connection lost: %s",
                 b->c->errstr);
    redisFree(b->c);
    b->c = NULL;
}

/* Runs the later work taken, until one fails (Redis is not back); that one and the rest go back
 * to the list. */
static void run_later(seckill_redis_batch *b, later *todo)
{
    later *l, *last;
    while ((l = todo)) {
        if (!connect_redis(b) || !l->fn(l->baton, b->c))
            break;
        todo = l->next;
        free(l);
    }
    if (!todo)
        return;
    if (b->c && b->c->err)
        drop(b);
    for (last = todo; last->next; last = last->next)
        ;
    pthread_mutex_lock(&b->lock);
    last->next = b->todo;
    b->todo = todo;
    pthread_mutex_unlock(&b->lock);
}

static void *pipeline_thread(void *data)
{
    seckill_redis_batch *b = data;
    rjob *jobs[BATCH_MAX];
    later *todo;
    int n, i;

    while ((n = take(b, jobs, &todo)) >= 0) {
        if (todo)
            run_later(b, todo);
        if (n == 0)
            continue;
        i = 0;
        if (connect_redis(b)) {
            for (int k = 0; k < n; k++)
                jobs[k]->sent = 1;
        }
        if (b->c && send_all(b->c, jobs, n)) {
            b->writes++;
            b->commands += (unsigned long)n;
            for (; i < n; i++) {
                rjob *j = jobs[i];
                if (!(j->reply = seckill_redis_read_in(j->pool, b->c)))
                    break;
                /* passed on, j is the other thread's: it may be gone once that one posts */
                if (j->then && j->then->pass_on(j->then->baton, j->reply, &j->done))
                    b->passed++;
                else
                    sem_post(&j->done);
            }
        }
        if (i < n) { /* the rest cannot tell: the connection goes, they take the pool's way */
            if (b->c)
                drop(b);
            for (; i < n; i++) {
                jobs[i]->reply = NULL;
                sem_post(&jobs[i]->done);
            }
        }
    }
    return NULL;
}

static apr_status_t stop(void *data)
{
    seckill_redis_batch *b = data;
    pthread_mutex_lock(&b->lock);
    b->stopping = 1;
    pthread_cond_signal(&b->more);
    pthread_mutex_unlock(&b->lock);
    pthread_join(b->th, NULL);
    if (b->c)
        redisFree(b->c);
    for (later *l = b->todo, *nx; l; l = nx) { /* Redis never came back in this child */
        nx = l->next;
        l->fn(l->baton, NULL);
        free(l);
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, b->s,
                 "SK0224: redis pipeline stopped: %lu commands sent in %lu writes, %lu replies "
                 "passed on",
                 b->commands, b->writes, b->passed);
    return APR_SUCCESS;
}

seckill_redis_batch *seckill_redis_batch_create(apr_pool_t *pchild, server_rec *s,
                                                const seckill_server_conf *c)
{
    seckill_redis_batch *b = apr_pcalloc(pchild, sizeof *b);
    b->s = s;
    b->ep = c->redis;
    b->tv.tv_sec = c->redis_timeout_ms / 1000;
    b->tv.tv_usec = (c->redis_timeout_ms % 1000) * 1000;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->more, NULL);
    if (pthread_create(&b->th, NULL, pipeline_thread, b) != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "SK0223: redis pipeline: cannot start its thread; buys use the pool");
        return NULL;
    }
    pthread_setname_np(b->th, "sk-redis-pipe"); /* for top -H, perf and ps -L */
    apr_pool_cleanup_register(pchild, b, stop, apr_pool_cleanup_null);
    return b;
}

/* Waits for j's post; with a hook, asks it at every deadline whether to give up. */
static void wait_done(rjob *j)
{
    struct timespec when;
    if (j->then) {
        clock_gettime(CLOCK_MONOTONIC, &when);
        when.tv_sec += j->then->patience_ms / 1000;
        when.tv_nsec += (long)(j->then->patience_ms % 1000) * 1000000;
        if (when.tv_nsec >= 1000000000) {
            when.tv_sec++;
            when.tv_nsec -= 1000000000;
        }
        while (sem_clockwait(&j->done, CLOCK_MONOTONIC, &when) != 0)
            if (errno != EINTR && j->then->late(j->then->baton, &when))
                return;
        return;
    }
    /* no deadline of its own: the thread's connection has SeckillRedisTimeout on every read,
     * write and connect, so an answer comes within those */
    while (sem_wait(&j->done) != 0 && errno == EINTR)
        ;
}

redisReply *seckill_redis_batch_call(seckill_redis_batch *b, request_rec *r, const char *cmd,
                                     size_t len, int *unknown, const seckill_redis_then *then)
{
    rjob j = {NULL, cmd, len, r->pool, NULL, 0, then, {{0}}};
    sem_init(&j.done, 0, 0);
    pthread_mutex_lock(&b->lock);
    if (b->tail)
        b->tail->next = &j;
    else
        b->head = &j;
    b->tail = &j;
    if (b->waiting)
        pthread_cond_signal(&b->more);
    pthread_mutex_unlock(&b->lock);
    wait_done(&j);
    sem_destroy(&j.done);
    *unknown = j.sent && !j.reply;
    return j.reply;
}

void seckill_redis_batch_later(seckill_redis_batch *b, seckill_redis_later_fn fn, void *baton)
{
    later *l = malloc(sizeof *l);
    if (!l) {
        fn(baton, NULL);
        return;
    }
    l->fn = fn;
    l->baton = baton;
    pthread_mutex_lock(&b->lock);
    l->next = b->todo;
    b->todo = l;
    if (b->waiting)
        pthread_cond_signal(&b->more);
    pthread_mutex_unlock(&b->lock);
}
