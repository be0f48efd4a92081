#include "admin.h"

#include "apr_strings.h"
#include "http_log.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "keys.h"
#include "listing.h"
#include "mysql_pool.h"
#include "redis_pool.h"
#include "runtime.h"
#include "slot.h"
#include "token.h"

#define KEEP_AFTER_END (24 * 3600) /* as the cache fill's keys (product.c) */

static int status_at(time_t now, time_t start, time_t end)
{
    return now < start ? 0 : now < end ? 1 : 2;
}

static time_t now_of(request_rec *r)
{
    return (time_t)apr_time_sec(r->request_time);
}

/* Keys written here outlive the sale by a day, and an edit id at least a day from now. */
static long long expire_at(request_rec *r, time_t end)
{
    time_t now = now_of(r);
    return (long long)(end > now ? end : now) + KEEP_AFTER_END;
}

static void edit_id(char *buf)
{
    unsigned char raw[12];
    apr_generate_random_bytes(raw, sizeof raw);
    seckill_base64url(raw, sizeof raw, buf);
}

/* ---- Redis: the stock move, stale keys, the slot sets ------------------------------- */

typedef struct {
    long long id;
    long long delta;
    long long if_absent; /* -1: leave an absent key absent */
    long long expire_at;
    char edit[20];
    int sent; /* the script went out at least once: a failure leaves its outcome unknown */
    int done;
    long long stock; /* after (done) or now (refused) */
} adjust_job;

static seckill_conn_result adjust_work(request_rec *r, void *conn, void *baton)
{
    redisContext *c = conn;
    adjust_job *j = baton;
    char k_stock[64], k_edits[64], a_delta[24], a_absent[24], a_exp[24];
    const char *argv[6] = {k_stock, k_edits, a_delta, a_absent, a_exp, j->edit};
    redisReply *rep;
    seckill_conn_result res;

    snprintf(k_stock, sizeof k_stock, SECKILL_KEY_STOCK, j->id);
    snprintf(k_edits, sizeof k_edits, SECKILL_KEY_EDITS, j->id);
    snprintf(a_delta, sizeof a_delta, "%lld", j->delta);
    if (j->if_absent < 0)
        a_absent[0] = 0;
    else
        snprintf(a_absent, sizeof a_absent, "%lld", j->if_absent);
    snprintf(a_exp, sizeof a_exp, "%lld", j->expire_at);
    j->sent = 1;
    rep = seckill_lua_call(c, &seckill_conf(r->server)->rt->stock_adjust, 2, 6, argv, NULL);
    res = seckill_redis_check(c, rep);
    if (res == SECKILL_CONN_OK) {
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
            rep->element[0]->type == REDIS_REPLY_INTEGER &&
            rep->element[1]->type == REDIS_REPLY_INTEGER) {
            j->done = rep->element[0]->integer == 1;
            j->stock = rep->element[1]->integer;
        } else {
            res = SECKILL_CONN_FAIL;
        }
    }
    if (res == SECKILL_CONN_FAIL)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK1203: redis: stock_adjust: %s",
                      rep && rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    if (rep)
        freeReplyObject(rep);
    return res;
}

/* Keys a new id may have from a product of a database that was emptied (ids reused). */
static seckill_conn_result clear_work(request_rec *r, void *conn, void *baton)
{
    long long id = *(long long *)baton;
    char k[5][64];
    const char *argv[6] = {"DEL", k[0], k[1], k[2], k[3], k[4]};
    redisReply *rep;
    seckill_conn_result res;
    snprintf(k[0], 64, SECKILL_KEY_PRODUCT, id);
    snprintf(k[1], 64, SECKILL_KEY_STOCK, id);
    snprintf(k[2], 64, SECKILL_KEY_BUYERS, id);
    snprintf(k[3], 64, SECKILL_KEY_ORDERS, id);
    snprintf(k[4], 64, SECKILL_KEY_EDITS, id);
    rep = redisCommandArgv(conn, 6, argv, NULL);
    res = seckill_redis_check(conn, rep);
    if (rep)
        freeReplyObject(rep);
    return res;
}

static void slot_key(time_t t, char *buf, size_t cap)
{
    char date[9];
    seckill_slot_date(t, date);
    snprintf(buf, cap, SECKILL_KEY_SLOT, date, seckill_slot_of_time(t));
}

static seckill_conn_result drop_slot_work(request_rec *r, void *conn, void *baton)
{
    redisReply *rep = redisCommand(conn, "DEL %s", (const char *)baton);
    seckill_conn_result res = seckill_redis_check(conn, rep);
    if (rep)
        freeReplyObject(rep);
    return res;
}

/* The preheat, at once: the product's slot read from MySQL into Redis (hash, stock when
 * absent, slot set, Bloom bits and stamp). A product that left a slot makes that slot's
 * cached set go, so the next listing rebuilds it without the product. 1 cached, 0 not. */
static int preheat(request_rec *r, long long id, time_t start, const time_t *old_start)
{
    char old_key[64], new_key[64];
    slot_key(start, new_key, sizeof new_key);
    if (old_start) {
        slot_key(*old_start, old_key, sizeof old_key);
        if (strcmp(old_key, new_key) != 0 &&
            seckill_redis_run(r, drop_slot_work, old_key) != SECKILL_CONN_OK)
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "SK1204: redis: product %" APR_INT64_T_FMT
                          " left slot %s, which stays cached until "
                          "it expires",
                          (apr_int64_t)id, old_key);
    }
    if (seckill_listing_refill(r, start, seckill_slot_of_time(start)) == OK)
        return 1;
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  "SK1205: product %" APR_INT64_T_FMT
                  " saved but not cached; the scheduler's preheat or the "
                  "next listing will",
                  (apr_int64_t)id);
    return 0;
}

/* ---- create ------------------------------------------------------------------------- */

typedef struct {
    const seckill_product_values *v;
    int status;
    long long id;
    enum { CREATE_OK, CREATE_REDIS_DOWN, CREATE_UNKNOWN } outcome;
} create_job;

/* Ends the transaction unwritten. A lost connection needs nothing (the server rolls back)
 * and is retried on a new one: nothing of the edit reached Redis before the commit. */
static seckill_conn_result rollback(seckill_db *db, unsigned int e)
{
    MYSQL *m = seckill_db_mysql(db);
    if (e && seckill_db_lost(e))
        return SECKILL_CONN_LOST;
    if (mysql_rollback(m) || mysql_autocommit(m, 1))
        return SECKILL_CONN_BROKEN;
    return seckill_mysql_check(e);
}

static seckill_conn_result begin(request_rec *r, seckill_db *db)
{
    MYSQL *m = seckill_db_mysql(db);
    if (mysql_autocommit(m, 0) == 0)
        return SECKILL_CONN_OK;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK1206: mysql: begin: %s", mysql_error(m));
    return seckill_mysql_check(mysql_errno(m) ?: 1);
}

/* The insert stays invisible until the commit, so no cache fill can cache the new product
 * before the stale keys of its id are gone. */
static seckill_conn_result create_tx(request_rec *r, void *conn, void *baton)
{
    create_job *j = baton;
    MYSQL *m = seckill_db_mysql(conn);
    char err[256];
    unsigned int e;
    seckill_conn_result res = begin(r, conn);

    if (res != SECKILL_CONN_OK)
        return res;
    if ((e = seckill_admin_db_insert(conn, j->v, j->status, &j->id, err, sizeof err)) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK1207: mysql: %s", err);
        return rollback(conn, e);
    }
    if (seckill_redis_run(r, clear_work, &j->id) != SECKILL_CONN_OK) {
        j->outcome = CREATE_REDIS_DOWN;
        return rollback(conn, 0);
    }
    if (mysql_commit(m) != 0) {
        e = mysql_errno(m);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SK1208: mysql: commit of new product %" APR_INT64_T_FMT ": %s",
                      (apr_int64_t)j->id, mysql_error(m));
        if (seckill_db_lost(e)) {
            j->outcome = CREATE_UNKNOWN;
            return SECKILL_CONN_BROKEN; /* it may be written: never retried */
        }
        return rollback(conn, e);
    }
    return mysql_autocommit(m, 1) ? SECKILL_CONN_BROKEN : SECKILL_CONN_OK;
}

static void fail(seckill_admin_saved *out, int status, const char *msg)
{
    out->status = status;
    out->msg = msg;
}

void seckill_admin_create(request_rec *r, const seckill_product_input *in, seckill_admin_saved *out)
{
    seckill_product_values v;
    create_job j;

    memset(out, 0, sizeof *out);
    out->values = *in;
    if (seckill_product_validate(in, now_of(r), &v, &out->errors) > 0) {
        fail(out, HTTP_UNPROCESSABLE_ENTITY, "请修改标出的字段");
        return;
    }
    memset(&j, 0, sizeof j);
    j.v = &v;
    j.status = status_at(now_of(r), v.start, v.end);
    if (seckill_mysql_run(r, create_tx, &j) != SECKILL_CONN_OK || j.outcome != CREATE_OK) {
        fail(out, HTTP_SERVICE_UNAVAILABLE,
             j.outcome == CREATE_UNKNOWN ? "数据库连接中断，商品可能已保存，请查看列表"
                                         : "系统繁忙，商品未保存，请稍后再试");
        return;
    }
    out->id = j.id;
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                  "SK1209: admin %s created product %" APR_INT64_T_FMT " (%s, stock %d, %s)",
                  r->user, (apr_int64_t)j.id, v.name, v.stock, v.seckill_price);
    out->cached = preheat(r, j.id, v.start, NULL);
    out->status = HTTP_CREATED;
    out->msg = "商品已创建";
}

/* ---- edit --------------------------------------------------------------------------- */

typedef struct {
    long long id;
    const seckill_product_values *v;
    int status;
    int stock_given;
    long long delta;
    long long sold; /* the units the stock cannot go below (when refused) */
    time_t old_start;
    enum { EDIT_OK, EDIT_NOT_FOUND, EDIT_BELOW_SOLD, EDIT_REDIS_DOWN, EDIT_UNKNOWN } outcome;
} edit_job;

/* Moves Redis by j->delta. OK, or the outcome that stops the edit. */
static int move_redis(request_rec *r, edit_job *j, long long mysql_stock_after)
{
    adjust_job a;
    seckill_conn_result res;
    memset(&a, 0, sizeof a);
    a.id = j->id;
    a.delta = j->delta;
    a.if_absent = mysql_stock_after;
    a.expire_at = expire_at(r, j->v->end);
    edit_id(a.edit);
    res = seckill_redis_run(r, adjust_work, &a);
    if (res == SECKILL_CONN_OK && a.done)
        return EDIT_OK;
    if (res == SECKILL_CONN_OK) {
        /* units left in Redis: what is sold is the total less those */
        j->sold = j->v->stock - j->delta - a.stock;
        return EDIT_BELOW_SOLD;
    }
    if (!a.sent)
        return EDIT_REDIS_DOWN;
    /* Sent, then lost: Redis may or may not have moved. The edit goes on only when that
     * can at worst leave Redis with fewer units than MySQL (sell less, never more). */
    ap_log_rerror(
        APLOG_MARK, APLOG_CRIT, 0, r,
        "SK1210: product %" APR_INT64_T_FMT ": stock edit %s (%+" APR_INT64_T_FMT
        ") reached Redis but its answer was "
        "lost; %s. Check seckill:stock:{p%" APR_INT64_T_FMT "} against MySQL once the queue drains",
        (apr_int64_t)j->id, a.edit, (apr_int64_t)j->delta,
        j->delta > 0 ? "MySQL is moved anyway" : "MySQL is left unchanged", (apr_int64_t)j->id);
    return j->delta > 0 ? EDIT_OK : EDIT_REDIS_DOWN;
}

/* Gives Redis its units back after a commit that failed (delta < 0) or may have failed
 * (delta > 0: taking the added units back can only make Redis sell less). */
static void unmove_redis(request_rec *r, edit_job *j)
{
    adjust_job a;
    memset(&a, 0, sizeof a);
    a.id = j->id;
    a.delta = -j->delta;
    a.if_absent = -1;
    a.expire_at = expire_at(r, j->v->end);
    edit_id(a.edit);
    if (seckill_redis_run(r, adjust_work, &a) != SECKILL_CONN_OK || !a.done)
        ap_log_rerror(
            APLOG_MARK, APLOG_CRIT, 0, r,
            "SK1211: product %" APR_INT64_T_FMT ": the stock edit (%+" APR_INT64_T_FMT
            ") was not committed in MySQL "
            "and could not be taken back in Redis; check seckill:stock:{p%" APR_INT64_T_FMT "}",
            (apr_int64_t)j->id, (apr_int64_t)j->delta, (apr_int64_t)j->id);
}

static seckill_conn_result edit_tx(request_rec *r, void *conn, void *baton)
{
    edit_job *j = baton;
    MYSQL *m = seckill_db_mysql(conn);
    char err[256];
    unsigned int e;
    int found = 0;
    long long stock = 0, sold = 0;
    seckill_conn_result res = begin(r, conn);

    if (res != SECKILL_CONN_OK)
        return res;
    /* The row lock holds off the worker's stock take and cancels of this product, so
     * stock + sold is the units put on sale while the edit runs. */
    if ((e = seckill_admin_db_lock(conn, j->id, &found, &stock, &j->old_start, err, sizeof err)) !=
            0 ||
        (found && (e = seckill_admin_db_sold(conn, j->id, &sold, err, sizeof err)) != 0)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK1212: mysql: %s", err);
        return rollback(conn, e);
    }
    if (!found) {
        j->outcome = EDIT_NOT_FOUND;
        return rollback(conn, 0);
    }
    j->delta = j->stock_given ? j->v->stock - (stock + sold) : 0;
    if (stock + j->delta < 0) {
        j->sold = sold;
        j->outcome = EDIT_BELOW_SOLD;
        return rollback(conn, 0);
    }
    if ((e = seckill_admin_db_update(conn, j->id, j->v, j->delta, j->status, err, sizeof err))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK1212: mysql: %s", err);
        return rollback(conn, e);
    }
    if (j->delta != 0 && (j->outcome = move_redis(r, j, stock + j->delta)) != EDIT_OK)
        return rollback(conn, 0);
    if (mysql_commit(m) != 0) {
        e = mysql_errno(m);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SK1213: mysql: commit of product %" APR_INT64_T_FMT ": %s",
                      (apr_int64_t)j->id, mysql_error(m));
        if (j->delta != 0 && (j->delta > 0 || !seckill_db_lost(e)))
            unmove_redis(r, j);
        if (seckill_db_lost(e)) {
            j->outcome = EDIT_UNKNOWN;
            return SECKILL_CONN_BROKEN; /* it may be written: never retried */
        }
        return rollback(conn, e);
    }
    return mysql_autocommit(m, 1) ? SECKILL_CONN_BROKEN : SECKILL_CONN_OK;
}

void seckill_admin_input_of(apr_pool_t *p, const seckill_admin_product *cur,
                            seckill_product_input *in)
{
    char *start = apr_palloc(p, 20), *end = apr_palloc(p, 20);
    seckill_datetime_local(cur->p.start, start);
    seckill_datetime_local(cur->p.end, end);
    in->text[SECKILL_PF_NAME] = cur->p.name;
    in->text[SECKILL_PF_IMAGE] = cur->p.image;
    in->text[SECKILL_PF_BASE_PRICE] = cur->p.base_price;
    in->text[SECKILL_PF_SECKILL_PRICE] = cur->p.seckill_price;
    in->text[SECKILL_PF_STOCK] = apr_psprintf(p, "%d", cur->p.total_stock);
    in->text[SECKILL_PF_START] = start;
    in->text[SECKILL_PF_END] = end;
}

void seckill_admin_update(request_rec *r, long long id, const seckill_product_input *in,
                          seckill_admin_saved *out)
{
    seckill_admin_product cur;
    seckill_product_values v;
    edit_job j;
    int rc;

    memset(out, 0, sizeof *out);
    out->id = id;
    if ((rc = seckill_admin_product_get(r, id, &cur)) != OK) {
        fail(out, rc, rc == HTTP_NOT_FOUND ? "商品不存在" : "系统繁忙，请稍后再试");
        return;
    }
    seckill_admin_input_of(r->pool, &cur, &out->values);
    for (int f = 0; f < SECKILL_PF__COUNT; f++)
        if (in->text[f])
            out->values.text[f] = in->text[f];
    if (seckill_product_validate(&out->values, 0, &v, &out->errors) > 0) {
        fail(out, HTTP_UNPROCESSABLE_ENTITY, "请修改标出的字段");
        return;
    }

    memset(&j, 0, sizeof j);
    j.id = id;
    j.v = &v;
    j.status = status_at(now_of(r), v.start, v.end);
    j.stock_given = in->text[SECKILL_PF_STOCK] != NULL;
    if (seckill_mysql_run(r, edit_tx, &j) != SECKILL_CONN_OK && j.outcome == EDIT_OK)
        j.outcome = EDIT_REDIS_DOWN;
    if (j.outcome == EDIT_BELOW_SOLD)
        out->errors.msg[SECKILL_PF_STOCK] = apr_psprintf(
            r->pool,
            "已售出 %" APR_INT64_T_FMT " 件（含排队中的订单），库存不能少于 %" APR_INT64_T_FMT,
            (apr_int64_t)j.sold, (apr_int64_t)j.sold);
    if (j.outcome != EDIT_OK) {
        static const struct {
            int status;
            const char *msg;
        } why[] = {
            [EDIT_NOT_FOUND] = {HTTP_NOT_FOUND, "商品不存在"},
            [EDIT_BELOW_SOLD] = {HTTP_UNPROCESSABLE_ENTITY, "请修改标出的字段"},
            [EDIT_REDIS_DOWN] = {HTTP_SERVICE_UNAVAILABLE, "系统繁忙，修改未保存，请稍后再试"},
            [EDIT_UNKNOWN] = {HTTP_SERVICE_UNAVAILABLE,
                              "数据库连接中断，修改可能已保存，请刷新查看"},
        };
        fail(out, why[j.outcome].status, why[j.outcome].msg);
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                  "SK1214: admin %s edited product %" APR_INT64_T_FMT " (stock %+" APR_INT64_T_FMT
                  ", now %d put on sale)",
                  r->user, (apr_int64_t)id, (apr_int64_t)j.delta, v.stock);
    out->cached = preheat(r, id, v.start, &j.old_start);
    out->status = HTTP_OK;
    out->msg = "修改已保存";
}

/* ---- the live stock of a page of products ------------------------------------------ */

typedef struct {
    seckill_admin_product *products;
    int n;
} live_job;

static seckill_conn_result live_work(request_rec *r, void *conn, void *baton)
{
    redisContext *c = conn;
    live_job *j = baton;
    for (int i = 0; i < j->n; i++)
        redisAppendCommand(c, "GET " SECKILL_KEY_STOCK, j->products[i].p.id);
    for (int i = 0; i < j->n; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(c, (void **)&rep) != REDIS_OK)
            return SECKILL_CONN_LOST;
        if (rep->type == REDIS_REPLY_STRING)
            j->products[i].live_stock = strtoll(rep->str, NULL, 10);
        freeReplyObject(rep);
    }
    return SECKILL_CONN_OK;
}

void seckill_admin_live_stock(request_rec *r, seckill_admin_product *products, int n)
{
    live_job j = {products, n};
    if (n > 0)
        seckill_redis_run(r, live_work, &j);
}

/* ---- CSRF --------------------------------------------------------------------------- */

const char *seckill_admin_csrf_token(request_rec *r)
{
    const seckill_server_conf *c = seckill_conf(r->server);
    char *tok;
    if (!c->secret || !r->user)
        return "";
    tok = apr_palloc(r->pool, SECKILL_TOKEN_LEN + 1);
    seckill_token_sign(c->secret, c->secret_len, tok, 2, "admin", r->user);
    return tok;
}

int seckill_admin_csrf_ok(request_rec *r, const char *form_token)
{
    const seckill_server_conf *c = seckill_conf(r->server);
    const char *tok = apr_table_get(r->headers_in, "X-CSRF-Token");
    if (!tok)
        tok = form_token;
    return c->secret && r->user && tok &&
           seckill_token_check(c->secret, c->secret_len, tok, 2, "admin", r->user);
}
