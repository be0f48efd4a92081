#include "stats_format.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <apr_strings.h>

#include "amqp_conn.h"

enum { F_BUYS, F_LISTINGS, F_NOTIFIES, F_PUBLISH, F_COUNT };

/* Metric families of the counters: seckill_<name>_total and seckill_child_<name>_total. */
static const struct {
    const char *name, *title, *help;
} families[F_COUNT] = {
    [F_BUYS] = {"buys", "抢购 Buys", "Answers of POST /buy/{id} by outcome (the answer's code)"},
    [F_LISTINGS] = {"listings", "商品列表 Listings",
                    "Listing pages by source: hit = Redis cache, miss = MySQL fallback, "
                    "unavailable = neither answered (503)"},
    [F_NOTIFIES] = {"notifies", "支付宝通知 Alipay notifies", "Alipay notifies by outcome"},
    [F_PUBLISH] = {"publish_failures", "消息发布失败 Publish failures",
                   "Order messages RabbitMQ did not confirm: unconfirmed = the buy was revoked, "
                   "unrevoked = neither published nor revoked (a unit held for an operator)"},
};

static const struct {
    int family;
    const char *outcome, *key, *label;
} stats[SECKILL_STAT_COUNT] = {
    [SECKILL_STAT_BUY_OK] = {F_BUYS, "ok", "BuysOk", "成功"},
    [SECKILL_STAT_BUY_NO_SUCH_PRODUCT] = {F_BUYS, "no_such_product", "BuysNoSuchProduct",
                                          "商品不存在"},
    [SECKILL_STAT_BUY_NOT_STARTED] = {F_BUYS, "not_started", "BuysNotStarted", "未开始"},
    [SECKILL_STAT_BUY_ENDED] = {F_BUYS, "ended", "BuysEnded", "已结束"},
    [SECKILL_STAT_BUY_SOLD_OUT] = {F_BUYS, "sold_out", "BuysSoldOut", "已抢完"},
    [SECKILL_STAT_BUY_ALREADY_BOUGHT] = {F_BUYS, "already_bought", "BuysAlreadyBought",
                                         "已购买（限购）"},
    [SECKILL_STAT_BUY_RATE_LIMITED] = {F_BUYS, "rate_limited", "BuysRateLimited", "限流"},
    [SECKILL_STAT_BUY_UNAVAILABLE] = {F_BUYS, "unavailable", "BuysUnavailable", "服务不可用 503"},
    [SECKILL_STAT_BUY_BAD_REQUEST] = {F_BUYS, "bad_request", "BuysBadRequest", "请求无效"},
    [SECKILL_STAT_BUY_FORBIDDEN] = {F_BUYS, "forbidden", "BuysForbidden", "无身份或 CSRF 无效"},
    [SECKILL_STAT_BUY_METHOD_NOT_ALLOWED] = {F_BUYS, "method_not_allowed", "BuysMethodNotAllowed",
                                             "方法不允许"},
    [SECKILL_STAT_LISTING_HIT] = {F_LISTINGS, "hit", "ListingHits", "缓存命中 (Redis)"},
    [SECKILL_STAT_LISTING_MISS] = {F_LISTINGS, "miss", "ListingMisses", "未命中 (MySQL)"},
    [SECKILL_STAT_LISTING_UNAVAILABLE] = {F_LISTINGS, "unavailable", "ListingUnavailable",
                                          "不可用 503"},
    [SECKILL_STAT_NOTIFY_PAID] = {F_NOTIFIES, "paid", "NotifiesPaid", "已支付"},
    [SECKILL_STAT_NOTIFY_REPLAY] = {F_NOTIFIES, "replay", "NotifiesReplay", "重复通知"},
    [SECKILL_STAT_NOTIFY_REFUSED] = {F_NOTIFIES, "refused", "NotifiesRefused", "拒绝（验签失败）"},
    [SECKILL_STAT_NOTIFY_MISMATCH] = {F_NOTIFIES, "mismatch", "NotifiesMismatch", "金额或订单不符"},
    [SECKILL_STAT_NOTIFY_LATE_REFUND] = {F_NOTIFIES, "late_refund", "NotifiesLateRefund",
                                         "超时支付已退款"},
    [SECKILL_STAT_NOTIFY_REFUND_FAILED] = {F_NOTIFIES, "refund_failed", "NotifiesRefundFailed",
                                           "退款失败待人工"},
    [SECKILL_STAT_NOTIFY_UNAVAILABLE] = {F_NOTIFIES, "unavailable", "NotifiesUnavailable",
                                         "服务不可用"},
    [SECKILL_STAT_NOTIFY_NOT_PAID] = {F_NOTIFIES, "not_paid", "NotifiesNotPaid", "未付款（无需处理）"},
    [SECKILL_STAT_PUBLISH_UNCONFIRMED] = {F_PUBLISH, "unconfirmed", "PublishUnconfirmed",
                                          "未确认（已撤销）"},
    [SECKILL_STAT_PUBLISH_UNREVOKED] = {F_PUBLISH, "unrevoked", "PublishUnrevoked",
                                        "未确认且未撤销"},
};

static const struct {
    const char *name, *key, *label, *help;
} gauges[SECKILL_GAUGE_COUNT] = {
    [SECKILL_GAUGE_PENDING_REFUNDS] = {"pending_refunds", "PendingRefunds",
                                       "待退款 Pending refunds",
                                       "Late payments whose refund is still to be done"},
};

static const struct {
    const char *name, *key;
} pools[SECKILL_POOL_KINDS] = {
    [SECKILL_POOL_REDIS] = {"redis", "Redis"},
    [SECKILL_POOL_MYSQL] = {"mysql", "MySQL"},
    [SECKILL_POOL_AMQP] = {"amqp", "AMQP"},
};

/* The cumulative pool numbers (in_use and idle are the gauge seckill_pool_connections). */
static const struct {
    const char *metric, *key, *help;
    size_t off;
} pool_counters[] = {
    {"connects", "Connects", "Connections opened", offsetof(seckill_pool_stats, connects)},
    {"connect_errors", "ConnectErrors", "Connection attempts that failed",
     offsetof(seckill_pool_stats, connect_errors)},
    {"lost", "Lost", "Connections found lost and discarded (the work was retried)",
     offsetof(seckill_pool_stats, lost)},
    {"epochs", "Epochs",
     "Times a pool presumed its server restarted and dropped every older connection",
     offsetof(seckill_pool_stats, epochs)},
};
#define POOL_COUNTERS (sizeof pool_counters / sizeof pool_counters[0])

static const struct {
    const char *name, *key, *label;
} queues[SECKILL_STATS_QUEUES] = {
    {SECKILL_AMQP_QUEUE_ORDER_CREATE, "OrderCreate", "待写入的订单 orders to write"},
    {SECKILL_AMQP_QUEUE_ORDER_TIMEOUT, "OrderTimeout", "到期待取消 pay timeouts due"},
    {SECKILL_AMQP_QUEUE_ORDER_DEAD, "OrderDead", "死信 dead letters"},
};

const char *seckill_stats_queue_name(int i)
{
    return i >= 0 && i < SECKILL_STATS_QUEUES ? queues[i].name : NULL;
}

const char *seckill_stat_outcome(seckill_stat id)
{
    return id < SECKILL_STAT_COUNT ? stats[id].outcome : NULL;
}

const char *seckill_stat_family(seckill_stat id)
{
    return id < SECKILL_STAT_COUNT ? families[stats[id].family].name : NULL;
}

/* ---- shared -------------------------------------------------------------------------------- */

typedef struct {
    seckill_write_fn out;
    void *ctx;
} sink;

static void put(const sink *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(const sink *k, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    k->out(k->ctx, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static unsigned long long total(const seckill_stats_snapshot *s, seckill_stat id)
{
    unsigned long long sum = 0;
    for (int i = 0; i < s->nchildren; i++)
        sum += s->children[i].counters[id];
    return sum;
}

static long long field(const seckill_pool_stats *p, size_t off)
{
    return *(const long long *)((const char *)p + off);
}

static long long idle(const seckill_pool_stats *p)
{
    return p->open > p->in_use ? p->open - p->in_use : 0;
}

static seckill_pool_stats pool_total(const seckill_stats_snapshot *s, int kind)
{
    seckill_pool_stats t = {0, 0, 0, 0, 0, 0};
    for (int i = 0; i < s->nchildren; i++) {
        const seckill_pool_stats *p = &s->children[i].pools[kind];
        t.open += p->open;
        t.in_use += p->in_use;
        t.connects += p->connects;
        t.connect_errors += p->connect_errors;
        t.lost += p->lost;
        t.epochs += p->epochs;
    }
    return t;
}

static int alive(const seckill_stats_snapshot *s)
{
    int n = 0;
    for (int i = 0; i < s->nchildren; i++)
        n += s->children[i].alive != 0;
    return n;
}

/* ---- ?auto --------------------------------------------------------------------------------- */

static void auto_pool(const sink *k, const char *prefix, const char *key,
                      const seckill_pool_stats *p)
{
    put(k, "%s%sInUse: %lld\n", prefix, key, p->in_use);
    put(k, "%s%sIdle: %lld\n", prefix, key, idle(p));
    for (size_t m = 0; m < POOL_COUNTERS; m++)
        put(k, "%s%s%s: %lld\n", prefix, key, pool_counters[m].key, field(p, pool_counters[m].off));
}

void seckill_stats_auto(const seckill_stats_snapshot *s, seckill_write_fn out, void *ctx)
{
    sink k = {out, ctx};
    char prefix[32];

    put(&k, "NodeId: %d\n", s->node_id);
    put(&k, "StatsSince: %lld\n", s->since);
    put(&k, "StatsSeconds: %lld\n", s->now > s->since ? s->now - s->since : 0);
    put(&k, "ChildSlots:");
    for (int i = 0; i < s->nchildren; i++)
        put(&k, " %d", s->children[i].slot);
    put(&k, "\nChildrenAlive: %d\n", alive(s));
    for (int g = 0; g < SECKILL_GAUGE_COUNT; g++)
        put(&k, "%s: %lld\n", gauges[g].key, s->gauges[g]);
    for (int id = 0; id < SECKILL_STAT_COUNT; id++)
        put(&k, "%s: %llu\n", stats[id].key, total(s, (seckill_stat)id));
    for (int p = 0; p < SECKILL_POOL_KINDS; p++) {
        seckill_pool_stats t = pool_total(s, p);
        put(&k, "%sPoolSize: %d\n", pools[p].key, s->pool_size[p]);
        auto_pool(&k, "", pools[p].key, &t);
    }
    put(&k, "QueuesUp: %d\n", s->queues_up ? 1 : 0);
    if (s->queues_up) {
        for (int q = 0; q < SECKILL_STATS_QUEUES; q++) {
            put(&k, "Queue%s: %lld\n", queues[q].key, s->queue_messages[q]);
            put(&k, "Queue%sConsumers: %lld\n", queues[q].key, s->queue_consumers[q]);
        }
        put(&k, "QueueTimeoutWaiting: %lld\n", s->timeout_waiting);
    }
    for (int i = 0; i < s->nchildren; i++) {
        const seckill_stats_child *c = &s->children[i];
        snprintf(prefix, sizeof prefix, "Child%d.", c->slot);
        put(&k, "%sPid: %lld\n", prefix, c->pid);
        put(&k, "%sAlive: %d\n", prefix, c->alive ? 1 : 0);
        put(&k, "%sProcesses: %lld\n", prefix, c->processes);
        put(&k, "%sStarted: %lld\n", prefix, c->started);
        for (int id = 0; id < SECKILL_STAT_COUNT; id++)
            put(&k, "%s%s: %llu\n", prefix, stats[id].key, c->counters[id]);
        for (int p = 0; p < SECKILL_POOL_KINDS; p++)
            auto_pool(&k, prefix, pools[p].key, &c->pools[p]);
    }
}

/* ---- Prometheus ---------------------------------------------------------------------------- */

static void head(const sink *k, const char *name, const char *type, const char *help)
{
    put(k, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values are our own words and numbers, but a label value must never break the line. */
static void label_value(const sink *k, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            put(k, "\\%c", *v);
        else if (*v == '\n')
            put(k, "\\n");
        else
            k->out(k->ctx, v, 1);
    }
}

static void prom_counters(const sink *k, const seckill_stats_snapshot *s, int f)
{
    char name[96], help[320];
    snprintf(name, sizeof name, "seckill_%s_total", families[f].name);
    head(k, name, "counter", families[f].help);
    for (int id = 0; id < SECKILL_STAT_COUNT; id++)
        if (stats[id].family == f)
            put(k, "%s{outcome=\"%s\"} %llu\n", name, stats[id].outcome,
                total(s, (seckill_stat)id));
    snprintf(name, sizeof name, "seckill_child_%s_total", families[f].name);
    snprintf(help, sizeof help, "%s, per httpd child slot", families[f].help);
    head(k, name, "counter", help);
    for (int i = 0; i < s->nchildren; i++)
        for (int id = 0; id < SECKILL_STAT_COUNT; id++)
            if (stats[id].family == f)
                put(k, "%s{child=\"%d\",outcome=\"%s\"} %llu\n", name, s->children[i].slot,
                    stats[id].outcome, s->children[i].counters[id]);
}

static void prom_pools(const sink *k, const seckill_stats_snapshot *s)
{
    char name[96], help[320];
    head(k, "seckill_pool_size", "gauge", "Connections one httpd child may keep, per pool");
    for (int p = 0; p < SECKILL_POOL_KINDS; p++)
        put(k, "seckill_pool_size{pool=\"%s\"} %d\n", pools[p].name, s->pool_size[p]);
    head(k, "seckill_pool_connections", "gauge",
         "Open connections of all children: in_use = held by a request, idle = pooled");
    for (int p = 0; p < SECKILL_POOL_KINDS; p++) {
        seckill_pool_stats t = pool_total(s, p);
        put(k, "seckill_pool_connections{pool=\"%s\",state=\"in_use\"} %lld\n", pools[p].name,
            t.in_use);
        put(k, "seckill_pool_connections{pool=\"%s\",state=\"idle\"} %lld\n", pools[p].name,
            idle(&t));
    }
    head(k, "seckill_child_pool_connections", "gauge",
         "Open connections per httpd child slot: in_use = held by a request, idle = pooled");
    for (int i = 0; i < s->nchildren; i++)
        for (int p = 0; p < SECKILL_POOL_KINDS; p++) {
            const seckill_pool_stats *c = &s->children[i].pools[p];
            put(k,
                "seckill_child_pool_connections{child=\"%d\",pool=\"%s\",state=\"in_use\"} %lld\n",
                s->children[i].slot, pools[p].name, c->in_use);
            put(k, "seckill_child_pool_connections{child=\"%d\",pool=\"%s\",state=\"idle\"} %lld\n",
                s->children[i].slot, pools[p].name, idle(c));
        }
    for (size_t m = 0; m < POOL_COUNTERS; m++) {
        snprintf(name, sizeof name, "seckill_pool_%s_total", pool_counters[m].metric);
        head(k, name, "counter", pool_counters[m].help);
        for (int p = 0; p < SECKILL_POOL_KINDS; p++) {
            seckill_pool_stats t = pool_total(s, p);
            put(k, "%s{pool=\"%s\"} %lld\n", name, pools[p].name, field(&t, pool_counters[m].off));
        }
        snprintf(name, sizeof name, "seckill_child_pool_%s_total", pool_counters[m].metric);
        snprintf(help, sizeof help, "%s, per httpd child slot", pool_counters[m].help);
        head(k, name, "counter", help);
        for (int i = 0; i < s->nchildren; i++)
            for (int p = 0; p < SECKILL_POOL_KINDS; p++)
                put(k, "%s{child=\"%d\",pool=\"%s\"} %lld\n", name, s->children[i].slot,
                    pools[p].name, field(&s->children[i].pools[p], pool_counters[m].off));
    }
}

static void prom_children(const sink *k, const seckill_stats_snapshot *s)
{
    static const struct {
        const char *name, *type, *help;
    } m[] = {
        {"seckill_child_up", "gauge", "1 while the slot's last counting process runs"},
        {"seckill_child_pid", "gauge", "The slot's last counting process"},
        {"seckill_child_processes_total", "counter", "Processes that have counted in the slot"},
        {"seckill_child_start_time_seconds", "gauge",
         "When the slot's last process began counting"},
    };
    for (size_t j = 0; j < sizeof m / sizeof m[0]; j++) {
        head(k, m[j].name, m[j].type, m[j].help);
        for (int i = 0; i < s->nchildren; i++) {
            const seckill_stats_child *c = &s->children[i];
            long long v = j == 0   ? c->alive != 0
                          : j == 1 ? c->pid
                          : j == 2 ? c->processes
                                   : c->started;
            put(k, "%s{child=\"%d\"} %lld\n", m[j].name, c->slot, v);
        }
    }
}

static void prom_queues(const sink *k, const seckill_stats_snapshot *s)
{
    head(k, "seckill_amqp_up", "gauge", "1 when RabbitMQ answered the queue questions below");
    put(k, "seckill_amqp_up %d\n", s->queues_up ? 1 : 0);
    head(k, "seckill_queue_messages", "gauge", "Messages ready in a queue (not counting unacked)");
    for (int q = 0; s->queues_up && q < SECKILL_STATS_QUEUES; q++) {
        put(k, "seckill_queue_messages{queue=\"");
        label_value(k, queues[q].name);
        put(k, "\"} %lld\n", s->queue_messages[q]);
    }
    head(k, "seckill_queue_consumers", "gauge", "Consumers of a queue (running workers)");
    for (int q = 0; s->queues_up && q < SECKILL_STATS_QUEUES; q++) {
        put(k, "seckill_queue_consumers{queue=\"");
        label_value(k, queues[q].name);
        put(k, "\"} %lld\n", s->queue_consumers[q]);
    }
    head(k, "seckill_timeout_waiting_messages", "gauge",
         "Orders waiting for the end of their pay window (timeout wait queue and ladder)");
    if (s->queues_up)
        put(k, "seckill_timeout_waiting_messages %lld\n", s->timeout_waiting);
}

void seckill_stats_prometheus(const seckill_stats_snapshot *s, seckill_write_fn out, void *ctx)
{
    sink k = {out, ctx};
    for (int f = 0; f < F_COUNT; f++)
        prom_counters(&k, s, f);
    prom_pools(&k, s);
    prom_children(&k, s);
    prom_queues(&k, s);
    for (int g = 0; g < SECKILL_GAUGE_COUNT; g++) {
        char name[96];
        snprintf(name, sizeof name, "seckill_%s", gauges[g].name);
        head(&k, name, "gauge", gauges[g].help);
        put(&k, "%s %lld\n", name, s->gauges[g]);
    }
    head(&k, "seckill_snowflake_node", "gauge", "SeckillNodeId: this machine's part of order ids");
    put(&k, "seckill_snowflake_node %d\n", s->node_id);
    head(&k, "seckill_stats_since_seconds", "gauge",
         "When these counters began (httpd start; graceful restarts keep them)");
    put(&k, "seckill_stats_since_seconds %lld\n", s->since);
}

/* ---- the view ------------------------------------------------------------------------------ */

static const char *local_time(apr_pool_t *p, long long t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    if (t <= 0 || !localtime_r(&tt, &tm))
        return "";
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return apr_pstrdup(p, buf);
}

static seckill_value *pool_view(apr_pool_t *p, int kind, const seckill_pool_stats *ps, int size)
{
    seckill_value *v = seckill_v_obj(p);
    seckill_v_set_str(v, "pool", pools[kind].name);
    seckill_v_set_str(v, "label", pools[kind].key);
    if (size >= 0)
        seckill_v_set_int(v, "size", size);
    seckill_v_set_int(v, "in_use", ps->in_use);
    seckill_v_set_int(v, "idle", idle(ps));
    for (size_t m = 0; m < POOL_COUNTERS; m++)
        seckill_v_set_int(v, pool_counters[m].metric, field(ps, pool_counters[m].off));
    return v;
}

static seckill_value *family_view(apr_pool_t *p, const seckill_stats_snapshot *s, int f)
{
    seckill_value *v = seckill_v_obj(p), *rows = seckill_v_arr(p);
    seckill_v_set_str(v, "name", families[f].name);
    seckill_v_set_str(v, "title", families[f].title);
    seckill_v_set_str(v, "help", families[f].help);
    for (int id = 0; id < SECKILL_STAT_COUNT; id++) {
        seckill_value *row, *per;
        if (stats[id].family != f)
            continue;
        row = seckill_v_obj(p);
        per = seckill_v_arr(p);
        seckill_v_set_str(row, "family", families[f].name);
        seckill_v_set_str(row, "outcome", stats[id].outcome);
        seckill_v_set_str(row, "label", stats[id].label);
        seckill_v_set_int(row, "total", (long long)total(s, (seckill_stat)id));
        for (int i = 0; i < s->nchildren; i++) {
            seckill_value *cell = seckill_v_obj(p);
            seckill_v_set_str(cell, "family", families[f].name);
            seckill_v_set_str(cell, "outcome", stats[id].outcome);
            seckill_v_set_int(cell, "slot", s->children[i].slot);
            seckill_v_set_int(cell, "value", (long long)s->children[i].counters[id]);
            seckill_v_push(per, cell);
        }
        seckill_v_set(row, "children", per);
        seckill_v_push(rows, row);
    }
    seckill_v_set(v, "rows", rows);
    return v;
}

static seckill_value *child_view(apr_pool_t *p, const seckill_stats_child *c)
{
    seckill_value *v = seckill_v_obj(p), *ps = seckill_v_arr(p);
    seckill_v_set_int(v, "slot", c->slot);
    seckill_v_set_int(v, "pid", c->pid);
    seckill_v_set_bool(v, "alive", c->alive);
    seckill_v_set_int(v, "processes", c->processes);
    seckill_v_set_str(v, "started", local_time(p, c->started));
    for (int k = 0; k < SECKILL_POOL_KINDS; k++) {
        seckill_value *pv = pool_view(p, k, &c->pools[k], -1);
        seckill_v_set_int(pv, "slot", c->slot);
        seckill_v_push(ps, pv);
    }
    seckill_v_set(v, "pools", ps);
    return v;
}

seckill_value *seckill_stats_view(apr_pool_t *p, const seckill_stats_snapshot *s)
{
    seckill_value *v = seckill_v_obj(p), *fam = seckill_v_arr(p), *kids = seckill_v_arr(p);
    seckill_value *slots = seckill_v_arr(p), *ps = seckill_v_arr(p), *qs = seckill_v_arr(p);
    seckill_value *gs = seckill_v_arr(p);

    seckill_v_set_bool(v, "ok", 1);
    seckill_v_set_int(v, "node_id", s->node_id);
    seckill_v_set_str(v, "now", local_time(p, s->now));
    seckill_v_set_str(v, "since", local_time(p, s->since));
    seckill_v_set_int(v, "since_epoch", s->since);
    seckill_v_set_int(v, "children_alive", alive(s));
    for (int g = 0; g < SECKILL_GAUGE_COUNT; g++) {
        seckill_value *gv = seckill_v_obj(p);
        seckill_v_set_str(gv, "name", gauges[g].name);
        seckill_v_set_str(gv, "label", gauges[g].label);
        seckill_v_set_int(gv, "value", s->gauges[g]);
        seckill_v_push(gs, gv);
    }
    seckill_v_set(v, "gauges", gs);
    for (int i = 0; i < s->nchildren; i++) {
        seckill_v_push(slots, seckill_v_int(p, s->children[i].slot));
        seckill_v_push(kids, child_view(p, &s->children[i]));
    }
    seckill_v_set(v, "child_slots", slots);
    for (int f = 0; f < F_COUNT; f++)
        seckill_v_push(fam, family_view(p, s, f));
    seckill_v_set(v, "families", fam);
    for (int k = 0; k < SECKILL_POOL_KINDS; k++) {
        seckill_pool_stats t = pool_total(s, k);
        seckill_v_push(ps, pool_view(p, k, &t, s->pool_size[k]));
    }
    seckill_v_set(v, "pools", ps);
    seckill_v_set(v, "children", kids);
    seckill_v_set_bool(v, "queues_up", s->queues_up);
    for (int q = 0; s->queues_up && q < SECKILL_STATS_QUEUES; q++) {
        seckill_value *qv = seckill_v_obj(p);
        seckill_v_set_str(qv, "name", queues[q].name);
        seckill_v_set_str(qv, "label", queues[q].label);
        seckill_v_set_int(qv, "messages", s->queue_messages[q]);
        seckill_v_set_int(qv, "consumers", s->queue_consumers[q]);
        seckill_v_push(qs, qv);
    }
    seckill_v_set(v, "queues", qs);
    if (s->queues_up)
        seckill_v_set_int(v, "timeout_waiting", s->timeout_waiting);
    return v;
}
