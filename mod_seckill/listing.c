#include "listing.h"

#include "apr_strings.h"
#include "http_log.h"

#include <stdio.h>
#include <stdlib.h>

#include "fmt.h"
#include "keys.h"
#include "mysql_pool.h"
#include "product.h"
#include "redis_pool.h"
#include "respond.h"
#include "runtime.h"
#include "slot.h"

typedef struct {
    time_t now;
    int slot;
    char date[9];
    char slot_key[64];
    time_t from, to;
    apr_array_header_t *products;
} slot_query;

static int parse_id(const char *s, size_t len, long long *id)
{
    long long v = 0;
    if (len == 0 || len > 18)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *id = v;
    return 0;
}

/* Reads the cached slot. FAIL means "not (wholly) cached": the caller goes to MySQL. */
static seckill_conn_result from_redis(request_rec *r, void *conn, void *baton)
{
    redisContext *c = conn;
    slot_query *q = baton;
    const char *smembers[2] = {"SMEMBERS", q->slot_key};
    redisReply *set = redisCommandArgv(c, 2, smembers, NULL);
    seckill_conn_result res = seckill_redis_check(c, set);
    size_t n = 0;
    int complete = 1;

    if (res != SECKILL_CONN_OK || set->type != REDIS_REPLY_ARRAY || set->elements == 0) {
        if (set)
            freeReplyObject(set);
        return res == SECKILL_CONN_LOST ? res : SECKILL_CONN_FAIL;
    }
    for (size_t i = 0; i < set->elements; i++) {
        long long id;
        const redisReply *m = set->element[i];
        /* argument vectors: hiredis's format parser cost more than the commands */
        char k_prod[64], k_stock[64];
        const char *hgetall[2] = {"HGETALL", k_prod}, *get[2] = {"GET", k_stock};
        if (m->type != REDIS_REPLY_STRING || parse_id(m->str, m->len, &id) != 0)
            continue; /* the loaded marker */
        seckill_fmt(k_prod, sizeof k_prod, SECKILL_KEY_PRODUCT, id);
        seckill_fmt(k_stock, sizeof k_stock, SECKILL_KEY_STOCK, id);
        redisAppendCommandArgv(c, 2, hgetall, NULL);
        redisAppendCommandArgv(c, 2, get, NULL);
        n++;
    }
    freeReplyObject(set);
    q->products = apr_array_make(r->pool, (int)n + 1, sizeof(seckill_product));
    for (size_t i = 0; i < n; i++) {
        redisReply *hash = NULL, *stock = NULL;
        if (redisGetReply(c, (void **)&hash) != REDIS_OK ||
            redisGetReply(c, (void **)&stock) != REDIS_OK) {
            if (hash)
                freeReplyObject(hash);
            return SECKILL_CONN_LOST;
        }
        if (complete && seckill_product_from_redis(hash, stock, apr_array_push(q->products)) != 0)
            complete = 0; /* expired or half-written: rebuild from MySQL */
        freeReplyObject(hash);
        freeReplyObject(stock);
    }
    return complete ? SECKILL_CONN_OK : SECKILL_CONN_FAIL;
}

static seckill_conn_result from_mysql(request_rec *r, void *conn, void *baton)
{
    slot_query *q = baton;
    unsigned int e;
    char err[256];
    if (seckill_products_in_window(conn, r->pool, q->from, q->to, &q->products, &e, err,
                                   sizeof err) == 0)
        return SECKILL_CONN_OK;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0401: mysql: %s", err);
    return seckill_mysql_check(e ? e : 1);
}

static seckill_conn_result fill_cache(request_rec *r, void *conn, void *baton)
{
    redisContext *c = conn;
    slot_query *q = baton;
    char err[256];
    if (seckill_products_cache(c, &seckill_conf(r->server)->rt->product_cache, q->date, q->slot,
                               q->to, q->products, err, sizeof err) == 0)
        return SECKILL_CONN_OK;
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "SK0402: redis: cache fill: %s", err);
    return c->err ? SECKILL_CONN_LOST : SECKILL_CONN_FAIL;
}

static int by_start(const void *a, const void *b)
{
    const seckill_product *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void query_init(slot_query *q, time_t day, int slot)
{
    memset(q, 0, sizeof *q);
    q->now = day;
    q->slot = slot;
    seckill_slot_date(day, q->date);
    snprintf(q->slot_key, sizeof q->slot_key, SECKILL_KEY_SLOT, q->date, slot);
    seckill_slot_window(day, slot, &q->from, &q->to);
}

int seckill_listing_refill(request_rec *r, time_t day, int slot)
{
    slot_query q;
    query_init(&q, day, slot);
    if (seckill_mysql_run(r, from_mysql, &q) != SECKILL_CONN_OK ||
        seckill_redis_run(r, fill_cache, &q) != SECKILL_CONN_OK)
        return HTTP_SERVICE_UNAVAILABLE;
    return OK;
}

int seckill_listing_load(request_rec *r, time_t now, int slot, seckill_listing *out)
{
    slot_query q;
    seckill_conn_result res;

    query_init(&q, now, slot);
    res = seckill_redis_run(r, from_redis, &q);
    out->cache_hit = res == SECKILL_CONN_OK;
    if (!out->cache_hit) {
        if (seckill_mysql_run(r, from_mysql, &q) != SECKILL_CONN_OK)
            return HTTP_SERVICE_UNAVAILABLE;
        /* A listing without Redis still answers; the next one fills the cache. */
        if (res != SECKILL_CONN_UNAVAILABLE)
            seckill_redis_run(r, fill_cache, &q);
    }
    qsort(q.products->elts, (size_t)q.products->nelts, sizeof(seckill_product), by_start);
    out->products = q.products;
    return OK;
}

static const char *hhmm(apr_pool_t *p, time_t t)
{
    struct tm tm;
    localtime_r(&t, &tm);
    return apr_psprintf(p, "%02d:%02d", tm.tm_hour, tm.tm_min);
}

/* The sale's state now, judged as lua/buy.lua judges a buy (the stored status only ends a
 * sale early): the scheduler moves the stored status up to 10 s late, and a page must not
 * offer a buy that would be refused, nor refuse one that would pass. */
static int sale_state(const seckill_product *pr, time_t now)
{
    if (pr->status == 2 || now >= pr->end)
        return 2;
    return now >= pr->start ? 1 : 0;
}

static const char *status_text(int state, const seckill_product *pr)
{
    if (state == 2)
        return "已结束";
    if (state == 0)
        return "未开始";
    return pr->stock > 0 ? "抢购中" : "已抢完";
}

static seckill_value *product_view(apr_pool_t *p, const seckill_product *pr, time_t now)
{
    seckill_value *v = seckill_v_obj(p);
    int sold = pr->total_stock - pr->stock;
    int pct = pr->total_stock > 0 ? (sold * 100 + pr->total_stock / 2) / pr->total_stock
              : pr->stock <= 0    ? 100 /* nothing left: the bar shows it gone */
                                  : 0;
    int state = sale_state(pr, now);
    seckill_v_set_int(v, "id", pr->id);
    seckill_v_set_str(v, "name", pr->name);
    seckill_v_set_str(v, "image", pr->image);
    seckill_v_set_str(v, "base_price", pr->base_price);
    seckill_v_set_str(v, "seckill_price", pr->seckill_price);
    seckill_v_set_int(v, "stock", pr->stock);
    seckill_v_set_int(v, "total_stock", pr->total_stock);
    seckill_v_set_int(v, "sold_percentage", pct < 0 ? 0 : pct > 100 ? 100 : pct);
    seckill_v_set_int(v, "status", state);
    seckill_v_set_str(v, "status_text", status_text(state, pr));
    seckill_v_set_bool(v, "on_sale", state == 1 && pr->stock > 0);
    seckill_v_set_bool(v, "sold_out", pr->stock <= 0);
    seckill_v_set_bool(v, "not_started", state == 0);
    seckill_v_set_bool(v, "ended", state == 2);
    if (state == 0)
        seckill_v_set_str(v, "starts_in", seckill_hms(p, pr->start - now));
    seckill_v_set_str(v, "start", seckill_iso8601(p, pr->start));
    seckill_v_set_str(v, "end", seckill_iso8601(p, pr->end));
    seckill_v_set_str(v, "start_label", hhmm(p, pr->start));
    seckill_v_set_str(v, "end_label", hhmm(p, pr->end));
    return v;
}

seckill_value *seckill_listing_view(request_rec *r, time_t now, int slot, const seckill_listing *l)
{
    apr_pool_t *p = r->pool;
    seckill_value *v = seckill_v_obj(p);
    seckill_value *slots = seckill_v_arr(p), *tabs = seckill_v_arr(p);
    seckill_value *products = seckill_v_arr(p);
    int current = seckill_slot_of_time(now);
    time_t from, to;
    char date[9];

    for (int i = 0; i < SECKILL_SLOT_COUNT; i++) {
        seckill_value *tab = seckill_v_obj(p);
        seckill_v_push(slots, seckill_v_int(p, seckill_slots[i]));
        seckill_v_set_int(tab, "hour", seckill_slots[i]);
        seckill_v_set_str(tab, "label", apr_psprintf(p, "%02d:00", seckill_slots[i]));
        seckill_v_set_bool(tab, "selected", seckill_slots[i] == slot);
        seckill_v_set_bool(tab, "current", seckill_slots[i] == current);
        seckill_v_set_bool(tab, "past", seckill_slots[i] < current);
        seckill_v_set_bool(tab, "upcoming", seckill_slots[i] > current);
        seckill_v_push(tabs, tab);
    }
    for (int i = 0; i < l->products->nelts; i++)
        seckill_v_push(products,
                       product_view(p, &APR_ARRAY_IDX(l->products, i, seckill_product), now));
    seckill_slot_window(now, slot, &from, &to);
    seckill_slot_date(now, date);
    seckill_v_set_bool(v, "ok", 1);
    seckill_v_set_str(v, "date", apr_psprintf(p, "%.4s-%.2s-%.2s", date, date + 4, date + 6));
    seckill_v_set_str(v, "now", seckill_iso8601(p, now));
    seckill_v_set(v, "slots", slots);
    seckill_v_set_int(v, "selected_slot", slot);
    seckill_v_set_int(v, "current_slot", current);
    seckill_v_set_str(v, "slot_start", seckill_iso8601(p, from));
    seckill_v_set_str(v, "slot_end", seckill_iso8601(p, to));
    /* the page counts down to the slot's start before it, to its end during it */
    seckill_v_set_bool(v, "slot_upcoming", now < from);
    seckill_v_set_bool(v, "slot_live", now >= from && now < to);
    seckill_v_set_bool(v, "slot_over", now >= to);
    seckill_v_set_str(v, "slot_countdown", seckill_hms(p, now < from ? from - now : to - now));
    seckill_v_set(v, "slot_tabs", tabs);
    seckill_v_set(v, "products", products);
    seckill_v_set_bool(v, "empty", l->products->nelts == 0);
    return v;
}
