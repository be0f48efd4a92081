#include "amqp_pool.h"

#include "apr_strings.h"
#include "http_log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "order.h"
#include "runtime.h"
#include "stats.h"

/* RabbitMQ's cost a message is mostly its own, not its size (bench/README.md): 65-85 us
 * confirmed alone. So a message carries the orders of all the buys queued when it goes out
 * (lib/order.h), and a publisher keeps at most SENDING_MAX messages unconfirmed: while they
 * wait, the next buys queue up and leave together, one message and one confirm for many
 * (group commit). A lone buy still goes out at once. */
#define SENDING_MAX 2 /* messages unconfirmed; measured 1, 2, 4, 256: 2 and 1 best */
#define RK_MAX 64

/* A request's message (seckill_amqp_job, amqp_pool.h). It lives with its requester: the
 * publisher reaches it only under the lock, and a requester that gives up unhooks it first (see
 * give_up). Its answer comes by the requester's semaphore, not a condition on the publisher's
 * lock: a requester woken does not queue for that lock behind the publisher and the others of
 * its message. */
enum { JOB_NEW, JOB_QUEUED, JOB_SENT, JOB_DONE };
typedef seckill_amqp_job job;

/* A message sent and not settled yet; the publisher's own copy, so a requester gone does not
 * pull the body from under a send. */
typedef struct {
    job *jobs;    /* the requesters of its orders; one gone unhooks itself (under the lock) */
    uint64_t tag; /* delivery tag; 0: free */
    int settled;  /* the broker answered: result holds what */
    int returned; /* unroutable (basic.return came before its ack) */
    seckill_conn_result result;
    struct timespec sent;
    char rk[RK_MAX];
    char *body;
    size_t len, cap;
} slot;

struct seckill_amqp_publisher {
    server_rec *s;
    const seckill_endpoint *ep;
    int timeout_ms;
    pthread_t thread;
    int started;

    /* shared with the request threads, under lock */
    pthread_mutex_t lock;
    job *head, *tail; /* queued, not sent yet */
    int sleeping;     /* the publisher is in poll(): a new job writes wake, */
    int full;         /* unless SENDING_MAX messages are out: their confirms wake it anyway */
    int stopping;
    int wake;               /* eventfd */
    slot ring[SENDING_MAX]; /* slot.jobs and the jobs' fields: under lock; the rest its own */

    /* the publisher thread's own */
    seckill_amqp *a;
    uint64_t low, next; /* tags in flight: [low, next); the slot of tag t is ring[t % MAX] */
    int declared;       /* declared in this child: once, not per connection (again after the
                           broker refused a message or closed a connection) */
    int down;           /* a connect failed and none succeeded since: logged once an outage */
    unsigned long sent, orders, confirms, wakes; /* for the log line at the child's exit */
    seckill_pool_stats *stats; /* the status page's "amqp" numbers of this child */
};
typedef struct seckill_amqp_publisher publisher;

struct seckill_amqp_pool {
    publisher *pub;
    int n;
    unsigned turn;
};

/* ---- time -------------------------------------------------------------------------------- */

static void now_mono(struct timespec *t)
{
    clock_gettime(CLOCK_MONOTONIC, t);
}

static long long ms_between(const struct timespec *a, const struct timespec *b)
{
    return (long long)(b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

static void add_ms(struct timespec *t, long long ms)
{
    t->tv_sec += ms / 1000;
    t->tv_nsec += (ms % 1000) * 1000000;
    if (t->tv_nsec >= 1000000000) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000;
    }
}

/* ---- the publisher thread ------------------------------------------------------------------ */

static slot *slot_of(publisher *p, uint64_t tag)
{
    return &p->ring[tag % SENDING_MAX];
}

/* Tells the requesters of the settled slots (under the lock) and frees those slots. */
static void deliver(publisher *p)
{
    pthread_mutex_lock(&p->lock);
    for (uint64_t t = p->low; t < p->next; t++) {
        slot *sl = slot_of(p, t);
        if (!sl->settled)
            continue;
        for (job *j = sl->jobs, *nx; j; j = nx) {
            nx = j->batch_next;
            j->result = sl->result;
            j->state = JOB_DONE;
            sem_post(j->done);
        }
        sl->jobs = NULL;
        sl->tag = 0;
        sl->settled = 0;
    }
    while (p->low < p->next && slot_of(p, p->low)->tag == 0)
        p->low++;
    pthread_mutex_unlock(&p->lock);
}

/* Every message in flight gets result (nothing more will come for them on this connection). */
static void settle_all(publisher *p, seckill_conn_result result)
{
    for (uint64_t t = p->low; t < p->next; t++) {
        slot *sl = slot_of(p, t);
        if (sl->tag && !sl->settled) {
            sl->settled = 1;
            sl->result = result;
        }
    }
    deliver(p);
}

static void drop_connection(publisher *p, seckill_conn_result result)
{
    settle_all(p, result);
    /* a broker that closed it may miss the topology (a reset node): declare with the next */
    if (seckill_amqp_closed_by_server(p->a))
        p->declared = 0;
    seckill_amqp_close(p->a);
    p->a = NULL;
    SECKILL_POOL_STAT(__atomic_load_n(&p->stats, __ATOMIC_RELAXED), open, -1);
    SECKILL_POOL_STAT(__atomic_load_n(&p->stats, __ATOMIC_RELAXED), lost, 1);
}

static void on_confirm(void *ctx, const seckill_amqp_confirm *c)
{
    publisher *p = ctx;
    uint64_t from, to;

    p->confirms++;
    if (c->kind == SECKILL_AMQP_CONFIRM_RETURN) {
        int found = 0;
        for (uint64_t t = p->low; t < p->next && !found; t++) {
            slot *sl = slot_of(p, t);
            if (sl->tag && !sl->settled && sl->len == c->len &&
                memcmp(sl->body, c->body, c->len) == 0)
                sl->returned = found = 1;
        }
        /* a return no message matches: fail them all rather than answer ok for the wrong one */
        for (uint64_t t = p->low; t < p->next && !found; t++)
            slot_of(p, t)->returned = 1;
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, p->s,
                     "SK0213: amqp: a message was returned as unroutable; the topology is "
                     "declared again");
        p->declared = 0;
        return;
    }
    from = c->multiple ? p->low : c->tag;
    to = c->tag + 1 < p->next ? c->tag + 1 : p->next;
    for (uint64_t t = from < p->low ? p->low : from; t < to; t++) {
        slot *sl = slot_of(p, t);
        if (sl->tag != t || sl->settled)
            continue;
        sl->settled = 1;
        sl->result = c->kind == SECKILL_AMQP_CONFIRM_ACK && !sl->returned ? SECKILL_CONN_OK
                                                                          : SECKILL_CONN_FAIL;
    }
}

/* A connection for the queued messages, with the topology declared once per child. */
static int ensure_connection(publisher *p)
{
    char err[512] = "";
    if (p->a && (p->declared || p->low != p->next))
        return 1;
    if (!p->a) {
        p->a = seckill_amqp_connect(p->ep, p->timeout_ms, err, sizeof err);
        SECKILL_POOL_STAT(__atomic_load_n(&p->stats, __ATOMIC_RELAXED), connects, 1);
        if (!p->a) {
            SECKILL_POOL_STAT(__atomic_load_n(&p->stats, __ATOMIC_RELAXED), connect_errors, 1);
            ap_log_error(APLOG_MARK, p->down ? APLOG_DEBUG : APLOG_ERR, 0, p->s,
                         "SK0210: amqp: cannot connect: %s", err);
            p->down = 1;
            return 0;
        }
        SECKILL_POOL_STAT(__atomic_load_n(&p->stats, __ATOMIC_RELAXED), open, 1);
        if (p->down)
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, p->s, "SK0211: amqp: connected again");
        p->down = 0;
        p->low = p->next = 1; /* a new channel numbers its publishes from 1 */
    }
    if (!p->declared) {
        if (seckill_amqp_declare(p->a) != SECKILL_AMQP_OK) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, p->s, "SK0210: amqp: declaring: %s",
                         seckill_amqp_error(p->a));
            seckill_amqp_close(p->a);
            p->a = NULL;
            SECKILL_POOL_STAT(__atomic_load_n(&p->stats, __ATOMIC_RELAXED), open, -1);
            return 0;
        }
        p->declared = 1;
    }
    return 1;
}

/* Appends j's order to the slot's body of n orders (lib/order.h); 0 when memory ran out. */
static int append_to(slot *sl, int n, const job *j)
{
    size_t need = sl->len + 1 + j->len;
    if (sl->cap < need) {
        size_t cap = need < 1024 ? 1024 : need * 2;
        char *b = realloc(sl->body, cap);
        if (!b)
            return 0;
        sl->body = b;
        sl->cap = cap;
    }
    sl->len = seckill_order_append(sl->body, sl->len, n, j->body, j->len);
    return 1;
}

static void answer(job *j, seckill_conn_result result)
{
    j->result = result;
    j->state = JOB_DONE;
    sem_post(j->done);
}

/* Fills the free slot sl with the queued jobs that fit one message (under the lock): the head,
 * then those behind it of the same routing key, as many as lib/order.h lets join. */
static void fill(publisher *p, slot *sl, uint64_t tag)
{
    job **tailp = &sl->jobs;
    int n = 0;
    sl->len = 0;
    sl->jobs = NULL;
    apr_cpystrn(sl->rk, p->head->routing_key, sizeof sl->rk);
    while (p->head && strcmp(p->head->routing_key, sl->rk) == 0 &&
           seckill_order_fits(n, sl->len, p->head->len)) {
        job *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        if (!append_to(sl, n, j)) {
            answer(j, SECKILL_CONN_UNAVAILABLE);
            continue;
        }
        j->state = JOB_SENT;
        j->slot = (int)(sl - p->ring);
        j->batch_next = NULL;
        *tailp = j;
        tailp = &j->batch_next;
        n++;
    }
    p->orders += (unsigned long)n;
    sl->tag = sl->jobs ? tag : 0;
    sl->settled = sl->returned = 0;
}

/* Moves queued jobs into free slots, a message a slot (under the lock); the number of messages.
 * Without a connection (connected == 0) the queued jobs are answered UNAVAILABLE instead. */
static int take(publisher *p, int connected)
{
    int n = 0;
    pthread_mutex_lock(&p->lock);
    if (!connected) {
        while (p->head) {
            job *j = p->head;
            p->head = j->next;
            answer(j, SECKILL_CONN_UNAVAILABLE);
        }
        p->tail = NULL;
    }
    while (p->head && p->next + (uint64_t)n - p->low < SENDING_MAX) {
        uint64_t tag = p->next + (uint64_t)n;
        fill(p, slot_of(p, tag), tag);
        if (slot_of(p, tag)->jobs)
            n++;
    }
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* Sends the n slots taken after p->next. */
static void send_taken(publisher *p, int n)
{
    struct timespec now;
    now_mono(&now);
    for (int i = 0; i < n; i++) {
        slot *sl = slot_of(p, p->next);
        seckill_amqp_message m = {sl->rk, sl->body, sl->len, 0, -1};
        uint64_t tag = 0;
        p->next++;
        p->sent++;
        sl->sent = now;
        if (seckill_amqp_send(p->a, &m, &tag) != SECKILL_AMQP_OK || tag != sl->tag) {
            /* the ones taken but not sent yet count as in flight: all fail together */
            p->next += (uint64_t)(n - i - 1);
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, p->s, "SK0212: amqp: connection lost: %s",
                         seckill_amqp_error(p->a));
            drop_connection(p, SECKILL_CONN_UNAVAILABLE);
            return;
        }
    }
}

/* The oldest message in flight waited longer than the timeout: the broker is stuck; what is in
 * flight fails (the requesters revoke), the connection goes. */
static long long expire(publisher *p)
{
    struct timespec now;
    long long left;
    if (p->low == p->next)
        return -1;
    now_mono(&now);
    left = p->timeout_ms - ms_between(&slot_of(p, p->low)->sent, &now);
    if (left > 0)
        return left;
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, p->s,
                 "SK0214: amqp: %" APR_UINT64_T_FMT
                 " publishes not confirmed within %d ms; reconnecting",
                 (apr_uint64_t)(p->next - p->low), p->timeout_ms);
    drop_connection(p, SECKILL_CONN_FAIL);
    return -1;
}

/* Sleeps until a job comes, the broker writes, or the oldest message in flight times out. */
static void wait_for_work(publisher *p, long long timeout_ms)
{
    struct pollfd fds[2] = {{p->wake, POLLIN, 0}, {seckill_amqp_fd(p->a), POLLIN, 0}};
    uint64_t v;
    int room = p->next - p->low < SENDING_MAX;

    pthread_mutex_lock(&p->lock);
    if ((p->head && (room || !p->a)) || (p->stopping && p->low == p->next)) {
        pthread_mutex_unlock(&p->lock);
        return;
    }
    p->sleeping = 1;
    p->full = !room;
    pthread_mutex_unlock(&p->lock);
    p->wakes++;
    /* idle too, the socket is watched: a broker that restarts closes it, and the next message
     * goes out on a new connection instead of a dead one */
    if (poll(fds, fds[1].fd >= 0 ? 2 : 1, (int)timeout_ms) < 0 && errno != EINTR)
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, p->s, "SK0215: amqp: publisher poll failed");
    if (read(p->wake, &v, sizeof v) < 0 && errno != EAGAIN)
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, p->s, "SK0215: amqp: publisher wake-up");
    pthread_mutex_lock(&p->lock);
    p->sleeping = 0;
    pthread_mutex_unlock(&p->lock);
}

/* The publisher's loop; named for bench/profile.sh, which counts its instructions too. */
static void *publisher_thread(void *data)
{
    publisher *p = data;
    for (;;) {
        int queued, n;
        pthread_mutex_lock(&p->lock);
        queued = p->head != NULL;
        if (p->stopping && !queued && p->low == p->next) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        pthread_mutex_unlock(&p->lock);
        if (queued) {
            int connected = ensure_connection(p);
            if ((n = take(p, connected)) > 0)
                send_taken(p, n);
        }
        if (p->a && seckill_amqp_read_confirms(p->a, on_confirm, p) != SECKILL_AMQP_OK) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, p->s, "SK0212: amqp: connection lost: %s",
                         seckill_amqp_error(p->a));
            drop_connection(p, SECKILL_CONN_UNAVAILABLE);
        }
        deliver(p);
        wait_for_work(p, expire(p));
    }
    seckill_amqp_close(p->a);
    p->a = NULL;
    return NULL;
}

/* ---- the request side ---------------------------------------------------------------------- */

/* The requester waited longer than the publisher can take (connect plus a confirm, and a
 * margin): it stops waiting and answers as for an unconfirmed message. */
static void give_up(publisher *p, job *j)
{
    if (j->state == JOB_QUEUED) {
        job **pp = &p->head, *prev = NULL;
        while (*pp && *pp != j) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp) {
            *pp = j->next;
            if (p->tail == j)
                p->tail = prev;
        }
    } else if (j->state == JOB_SENT) {
        /* its order stays in the message; the publisher only no longer tells it */
        for (job **pp = &p->ring[j->slot].jobs; *pp; pp = &(*pp)->batch_next) {
            if (*pp == j) {
                *pp = j->batch_next;
                break;
            }
        }
    }
    j->result = SECKILL_CONN_FAIL;
    j->state = JOB_DONE;
}

/* Queues j on p and wakes p if it sleeps; 0 (j answered UNAVAILABLE) when p is stopping. */
static int enqueue(publisher *p, request_rec *r, job *j)
{
    uint64_t one = 1;
    now_mono(&j->deadline);
    add_ms(&j->deadline, 2LL * p->timeout_ms + 1000);
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        j->state = JOB_DONE;
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    j->state = JOB_QUEUED;
    j->next = NULL;
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    if (p->sleeping && !p->full) {
        p->sleeping = 0;
        if (write(p->wake, &one, sizeof one) < 0)
            ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, r, "SK0215: amqp: publisher wake-up");
    }
    pthread_mutex_unlock(&p->lock);
    return 1;
}

int seckill_amqp_publish_start(request_rec *r, seckill_amqp_job *j, const char *routing_key,
                               const char *body, size_t len, sem_t *done)
{
    seckill_amqp_pool *ap = seckill_conf(r->server)->rt->amqp;
    publisher *p;
    unsigned i;

    j->result = SECKILL_CONN_UNAVAILABLE;
    j->slot = -1;
    if (!ap || strlen(routing_key) >= RK_MAX) {
        j->state = JOB_DONE;
        return 0;
    }
    i = ap->n > 1 ? __atomic_fetch_add(&ap->turn, 1, __ATOMIC_RELAXED) % (unsigned)ap->n : 0;
    p = &ap->pub[i];
    /* the publisher thread has no request to find this child's status slot: lend it one */
    if (!__atomic_load_n(&p->stats, __ATOMIC_RELAXED))
        __atomic_store_n(&p->stats, seckill_stats_pool(r, "amqp"), __ATOMIC_RELAXED);
    j->routing_key = routing_key;
    j->body = body;
    j->len = len;
    j->done = done;
    /* before it is queued: publish_late on the requester's thread looks for it there */
    __atomic_store_n(&j->pub, p, __ATOMIC_RELEASE);
    return enqueue(p, r, j);
}

int seckill_amqp_publish_late(seckill_amqp_job *j, struct timespec *when)
{
    publisher *p = __atomic_load_n(&j->pub, __ATOMIC_ACQUIRE);
    struct timespec now;
    int gone = 0;

    now_mono(&now);
    if (!p) { /* not handed to a publisher yet: look again in a second */
        *when = now;
        add_ms(when, 1000);
        return 0;
    }
    pthread_mutex_lock(&p->lock);
    if (j->state == JOB_NEW) {
        *when = now;
        add_ms(when, 1000);
    } else if (j->state != JOB_DONE && ms_between(&j->deadline, &now) >= 0) {
        give_up(p, j);
        gone = 1;
    } else {
        *when = j->state == JOB_DONE ? now : j->deadline;
    }
    pthread_mutex_unlock(&p->lock);
    if (gone)
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, p->s,
                     "SK0216: amqp: the publisher did not answer in time");
    return gone;
}

seckill_conn_result seckill_amqp_publish_result(request_rec *r, const seckill_amqp_job *j)
{
    if (j->result != SECKILL_CONN_OK)
        seckill_stats_add(r, SECKILL_STAT_PUBLISH_UNCONFIRMED);
    return j->result;
}

seckill_conn_result seckill_amqp_publish_confirmed(request_rec *r, const char *routing_key,
                                                   const char *body, size_t len)
{
    seckill_amqp_job j;
    struct timespec when;
    sem_t done;

    memset(&j, 0, sizeof j);
    sem_init(&done, 0, 0);
    if (seckill_amqp_publish_start(r, &j, routing_key, body, len, &done)) {
        when = j.deadline;
        while (sem_clockwait(&done, CLOCK_MONOTONIC, &when) != 0)
            if (errno != EINTR && seckill_amqp_publish_late(&j, &when))
                break;
    }
    sem_destroy(&done);
    return seckill_amqp_publish_result(r, &j);
}

/* The status page's queue depths: one short connection per look (the publishers' connections
 * belong to their threads; a look at the page is rare). */
seckill_conn_result seckill_amqp_queue_depths(request_rec *r, const char *const *queues, int n,
                                              long long *messages, long long *consumers)
{
    const seckill_server_conf *c = seckill_conf(r->server);
    char err[512];
    seckill_amqp *a;
    seckill_conn_result res = SECKILL_CONN_OK;
    if (!c->amqp)
        return SECKILL_CONN_UNAVAILABLE;
    if (!(a = seckill_amqp_connect(c->amqp, c->amqp_timeout_ms, err, sizeof err))) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SK1103: amqp: %s", err);
        return SECKILL_CONN_UNAVAILABLE;
    }
    for (int i = 0; i < n && res == SECKILL_CONN_OK; i++) {
        if (seckill_amqp_queue_depth(a, queues[i], &messages[i], &consumers[i]) !=
            SECKILL_AMQP_OK) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SK1103: amqp: queue %s: %s", queues[i],
                          seckill_amqp_error(a));
            res = SECKILL_CONN_FAIL;
        }
    }
    seckill_amqp_close(a);
    return res;
}

/* ---- start and stop ------------------------------------------------------------------------ */

static apr_status_t stop_pool(void *data)
{
    seckill_amqp_pool *ap = data;
    uint64_t one = 1;
    for (int i = 0; i < ap->n; i++) {
        publisher *p = &ap->pub[i];
        if (!p->started)
            continue;
        pthread_mutex_lock(&p->lock);
        p->stopping = 1;
        if (write(p->wake, &one, sizeof one) < 0)
            ap_log_error(APLOG_MARK, APLOG_ERR, errno, p->s, "SK0215: amqp: publisher wake-up");
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL); /* it answers what it holds first (at most a timeout) */
        p->started = 0;
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, p->s,
                     "SK0218: amqp: publisher %d stopped: %lu messages sent carrying %lu "
                     "orders, %lu confirms and returns received, %lu waits",
                     i, p->sent, p->orders, p->confirms, p->wakes);
    }
    for (int i = 0; i < ap->n; i++) {
        publisher *p = &ap->pub[i];
        for (int k = 0; k < SENDING_MAX; k++)
            free(p->ring[k].body);
        if (p->wake >= 0)
            close(p->wake);
        pthread_mutex_destroy(&p->lock);
    }
    return APR_SUCCESS;
}

seckill_amqp_pool *seckill_amqp_pool_create(apr_pool_t *pchild, server_rec *s,
                                            const seckill_server_conf *c)
{
    seckill_amqp_pool *ap = apr_pcalloc(pchild, sizeof *ap);
    ap->n = c->amqp_pool_max > 0 ? c->amqp_pool_max : 1;
    ap->pub = apr_pcalloc(pchild, sizeof *ap->pub * (size_t)ap->n);
    for (int i = 0; i < ap->n; i++) {
        publisher *p = &ap->pub[i];
        p->s = s;
        p->ep = c->amqp;
        p->timeout_ms = c->amqp_timeout_ms;
        p->low = p->next = 1;
        pthread_mutex_init(&p->lock, NULL);
        p->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    apr_pool_cleanup_register(pchild, ap, stop_pool, apr_pool_cleanup_null);
    for (int i = 0; i < ap->n; i++) {
        publisher *p = &ap->pub[i];
        int rc = p->wake < 0 ? errno : pthread_create(&p->thread, NULL, publisher_thread, p);
        if (rc != 0) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rc, s,
                         "SK0217: amqp: cannot start the publisher thread; buys answer 503");
            return NULL;
        }
        p->started = 1;
        pthread_setname_np(p->thread, "sk-amqp-pub"); /* for top -H, perf and ps -L */
    }
    return ap;
}
