#include "product.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bloom.h"
#include "keys.h"

#define KEEP_AFTER_END (24 * 3600) /* cached keys outlive the sale by a day */

int seckill_products_in_window(seckill_db *db, apr_pool_t *p, time_t from, time_t to,
                               apr_array_header_t **out, unsigned int *err_no, char *err,
                               size_t errlen)
{
    MYSQL_STMT *st;
    MYSQL_BIND param[2], res[10];
    MYSQL_TIME t_from, t_to, t_start, t_end;
    seckill_product row;
    long long total;
    short status;
    unsigned long len[10];
    int rc;

    *err_no = 0;
    st = seckill_db_stmt(db, SECKILL_Q_PRODUCTS_IN_WINDOW, err, errlen);
    if (!st) {
        *err_no = seckill_db_prepare_errno(db);
        return -1;
    }
    seckill_db_time_to(from, &t_from);
    seckill_db_time_to(to, &t_to);
    memset(param, 0, sizeof param);
    param[0].buffer_type = MYSQL_TYPE_DATETIME;
    param[0].buffer = &t_from;
    param[1].buffer_type = MYSQL_TYPE_DATETIME;
    param[1].buffer = &t_to;

    memset(&row, 0, sizeof row);
    memset(res, 0, sizeof res);
    res[0].buffer_type = MYSQL_TYPE_LONGLONG;
    res[0].buffer = &row.id;
    res[1].buffer_type = MYSQL_TYPE_STRING;
    res[1].buffer = row.name;
    res[1].buffer_length = sizeof row.name - 1;
    res[2].buffer_type = MYSQL_TYPE_STRING;
    res[2].buffer = row.image;
    res[2].buffer_length = sizeof row.image - 1;
    res[3].buffer_type = MYSQL_TYPE_STRING;
    res[3].buffer = row.base_price;
    res[3].buffer_length = sizeof row.base_price - 1;
    res[4].buffer_type = MYSQL_TYPE_STRING;
    res[4].buffer = row.seckill_price;
    res[4].buffer_length = sizeof row.seckill_price - 1;
    res[5].buffer_type = MYSQL_TYPE_LONG;
    res[5].buffer = &row.stock;
    res[6].buffer_type = MYSQL_TYPE_LONGLONG;
    res[6].buffer = &total;
    res[7].buffer_type = MYSQL_TYPE_SHORT;
    res[7].buffer = &status;
    res[8].buffer_type = MYSQL_TYPE_DATETIME;
    res[8].buffer = &t_start;
    res[9].buffer_type = MYSQL_TYPE_DATETIME;
    res[9].buffer = &t_end;
    for (int i = 0; i < 10; i++)
        res[i].length = &len[i];

    if (mysql_stmt_bind_param(st, param) || mysql_stmt_execute(st) ||
        mysql_stmt_bind_result(st, res) || mysql_stmt_store_result(st)) {
        *err_no = mysql_stmt_errno(st);
        snprintf(err, errlen, "products in window: %s", mysql_stmt_error(st));
        mysql_stmt_free_result(st);
        return -1;
    }
    *out = apr_array_make(p, 8, sizeof(seckill_product));
    while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        seckill_product *prod = apr_array_push(*out);
        row.name[len[1] < sizeof row.name ? len[1] : sizeof row.name - 1] = 0;
        row.image[len[2] < sizeof row.image ? len[2] : sizeof row.image - 1] = 0;
        row.base_price[len[3] < sizeof row.base_price ? len[3] : sizeof row.base_price - 1] = 0;
        row.seckill_price[len[4] < sizeof row.seckill_price ? len[4]
                                                            : sizeof row.seckill_price - 1] = 0;
        row.total_stock = (int)total;
        row.status = status;
        row.start = seckill_db_time_from(&t_start);
        row.end = seckill_db_time_from(&t_end);
        *prod = row;
    }
    if (rc != MYSQL_NO_DATA) {
        *err_no = mysql_stmt_errno(st);
        snprintf(err, errlen, "products in window fetch: %s", mysql_stmt_error(st));
        mysql_stmt_free_result(st);
        return -1;
    }
    mysql_stmt_free_result(st);
    return 0;
}

/* The product's hash as field, value pairs after expire-at and stock: product_cache.lua. */
#define CACHE_ARGS 22

static int cache_args(const seckill_product *pr, char bufs[][32], const char **av, size_t *al,
                      char *khash, char *kstock)
{
    int n = 0;
#define ARG(s)                                                                                     \
    do {                                                                                           \
        av[n] = (s);                                                                               \
        al[n] = strlen(av[n]);                                                                     \
        n++;                                                                                       \
    } while (0)
#define NUM(fmt, v)                                                                                \
    do {                                                                                           \
        snprintf(bufs[n], 32, fmt, v);                                                             \
        ARG(bufs[n]);                                                                              \
    } while (0)
    snprintf(khash, 64, SECKILL_KEY_PRODUCT, pr->id);
    snprintf(kstock, 64, SECKILL_KEY_STOCK, pr->id);
    ARG(khash);
    ARG(kstock);
    NUM("%lld", (long long)pr->end + KEEP_AFTER_END);
    NUM("%d", pr->stock);
    ARG("id");
    NUM("%lld", pr->id);
    ARG("name");
    ARG(pr->name);
    ARG("image");
    ARG(pr->image);
    ARG("base_price");
    ARG(pr->base_price);
    ARG("seckill_price");
    ARG(pr->seckill_price);
    ARG("total_stock");
    NUM("%d", pr->total_stock);
    ARG("status");
    NUM("%d", pr->status);
    ARG("start");
    NUM("%lld", (long long)pr->start);
    ARG("end");
    NUM("%lld", (long long)pr->end);
#undef NUM
#undef ARG
    return n;
}

/* Appends the SETBITs that put id in the Bloom filter; returns how many replies to read. */
static int add_bloom_bits(redisContext *c, long long id)
{
    uint32_t pos[SECKILL_BLOOM_HASHES];
    seckill_bloom_positions(id, pos);
    for (int i = 0; i < SECKILL_BLOOM_HASHES; i++)
        redisAppendCommand(c, "SETBIT " SECKILL_KEY_BLOOM " %u 1", pos[i]);
    return SECKILL_BLOOM_HASHES;
}

static const char *bloom_stamp(char *buf)
{
    unsigned char rnd[8] = {0};
    apr_generate_random_bytes(rnd, sizeof rnd);
    snprintf(buf, 40, "%" APR_TIME_T_FMT "-%02x%02x%02x%02x%02x%02x%02x%02x", apr_time_now(),
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    return buf;
}

int seckill_products_cache(redisContext *c, const seckill_lua_script *cache_script,
                           const char *date, int slot, time_t slot_end,
                           const apr_array_header_t *products, char *err, size_t errlen)
{
    char slot_key[64];
    char bufs[CACHE_ARGS][32];
    const char *av[CACHE_ARGS];
    size_t al[CACHE_ARGS];
    char khash[64], kstock[64], stamp[40];
    redisReply *rep;
    int pending = 0;
    int failed = 0;

    snprintf(slot_key, sizeof slot_key, SECKILL_KEY_SLOT, date, slot);
    /* The first call loads the script if the server lacks it; the rest go in one pipeline. */
    for (int i = 0; i < products->nelts; i++) {
        const seckill_product *pr = &APR_ARRAY_IDX(products, i, seckill_product);
        int n = cache_args(pr, bufs, av, al, khash, kstock);
        if (i == 0) {
            rep = seckill_lua_call(c, cache_script, 2, n, av, al);
            if (!rep) {
                snprintf(err, errlen, "product cache: %s", c->errstr);
                return -1;
            }
            if (rep->type == REDIS_REPLY_ERROR) {
                snprintf(err, errlen, "product cache: %s", rep->str);
                freeReplyObject(rep);
                return -1;
            }
            freeReplyObject(rep);
        } else {
            const char *xv[CACHE_ARGS + 3];
            size_t xl[CACHE_ARGS + 3];
            xv[0] = "EVALSHA";
            xl[0] = 7;
            xv[1] = cache_script->sha;
            xl[1] = 40;
            xv[2] = "2";
            xl[2] = 1;
            memcpy(xv + 3, av, sizeof(*av) * (size_t)n);
            memcpy(xl + 3, al, sizeof(*al) * (size_t)n);
            redisAppendCommandArgv(c, n + 3, xv, xl);
            pending++;
        }
        redisAppendCommand(c, "SADD %s %lld", slot_key, pr->id);
        pending++;
        pending += add_bloom_bits(c, pr->id);
    }
    redisAppendCommand(c, "SET " SECKILL_KEY_BLOOM_VERSION " %s", bloom_stamp(stamp));
    redisAppendCommand(c, "SADD %s %s", slot_key, SECKILL_SLOT_LOADED);
    redisAppendCommand(c, "EXPIREAT %s %lld", slot_key, (long long)slot_end + KEEP_AFTER_END);
    pending += 3;
    for (; pending > 0; pending--) {
        if (redisGetReply(c, (void **)&rep) != REDIS_OK) {
            snprintf(err, errlen, "product cache: %s", c->errstr);
            return -1;
        }
        if (rep->type == REDIS_REPLY_ERROR && !failed) {
            snprintf(err, errlen, "product cache: %s", rep->str);
            failed = 1;
        }
        freeReplyObject(rep);
    }
    return failed ? -1 : 0;
}

static int copy_field(char *dst, size_t cap, const redisReply *v)
{
    if (v->type != REDIS_REPLY_STRING || v->len >= cap)
        return -1;
    memcpy(dst, v->str, v->len);
    dst[v->len] = 0;
    return 0;
}

static int int_field(long long *dst, const redisReply *v)
{
    char *end;
    if (v->type != REDIS_REPLY_STRING || v->len == 0 || v->len > 20)
        return -1;
    *dst = strtoll(v->str, &end, 10);
    return end == v->str + v->len ? 0 : -1;
}

int seckill_product_from_redis(const redisReply *hash, const redisReply *stock,
                               seckill_product *out)
{
    long long v = 0;
    int seen = 0;

    if (!hash || hash->type != REDIS_REPLY_ARRAY || hash->elements < 2 || !stock)
        return -1;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i + 1 < hash->elements; i += 2) {
        const redisReply *k = hash->element[i], *f = hash->element[i + 1];
        int rc = 0;
        if (k->type != REDIS_REPLY_STRING)
            return -1;
#define IS(name) (k->len == sizeof(name) - 1 && memcmp(k->str, name, k->len) == 0)
        if (IS("id")) {
            rc = int_field(&out->id, f);
            seen |= 1;
        } else if (IS("name")) {
            rc = copy_field(out->name, sizeof out->name, f);
            seen |= 2;
        } else if (IS("image")) {
            rc = copy_field(out->image, sizeof out->image, f);
        } else if (IS("base_price")) {
            rc = copy_field(out->base_price, sizeof out->base_price, f);
            seen |= 4;
        } else if (IS("seckill_price")) {
            rc = copy_field(out->seckill_price, sizeof out->seckill_price, f);
            seen |= 8;
        } else if (IS("total_stock")) {
            rc = int_field(&v, f);
            out->total_stock = (int)v;
            seen |= 16;
        } else if (IS("status")) {
            rc = int_field(&v, f);
            out->status = (int)v;
            seen |= 32;
        } else if (IS("start")) {
            rc = int_field(&v, f);
            out->start = (time_t)v;
            seen |= 64;
        } else if (IS("end")) {
            rc = int_field(&v, f);
            out->end = (time_t)v;
            seen |= 128;
        }
#undef IS
        if (rc != 0)
            return -1;
    }
    if (seen != 255)
        return -1;
    if (stock->type == REDIS_REPLY_INTEGER)
        v = stock->integer;
    else if (int_field(&v, stock) != 0)
        return -1;
    out->stock = (int)v;
    return 0;
}
