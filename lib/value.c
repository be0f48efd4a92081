#include "value.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>

/* Objects get a hash index once they are this large; below it a scan is cheaper. */
#define OBJ_INDEX_MIN 16
#define JSON_MAX_DEPTH 256

struct seckill_value {
    seckill_vtype type;
    union {
        int b;
        long long i;
        double d;
        struct {
            char *s;
            size_t n;
        } str;
        struct {
            apr_pool_t *pool;
            seckill_value **items;
            size_t n, cap;
        } arr;
        struct {
            apr_pool_t *pool;
            const char **keys;
            seckill_value **vals;
            size_t n, cap;
            /* key -> position + 1, built while setting so that readers never write. */
            apr_hash_t *index;
        } obj;
    } u;
};

static seckill_value *new_value(apr_pool_t *p, seckill_vtype type)
{
    seckill_value *v = apr_pcalloc(p, sizeof(*v));
    v->type = type;
    return v;
}

seckill_value *seckill_v_null(apr_pool_t *p)
{
    return new_value(p, SECKILL_V_NULL);
}

seckill_value *seckill_v_bool(apr_pool_t *p, int b)
{
    seckill_value *v = new_value(p, SECKILL_V_BOOL);
    v->u.b = b != 0;
    return v;
}

seckill_value *seckill_v_int(apr_pool_t *p, long long i)
{
    seckill_value *v = new_value(p, SECKILL_V_INT);
    v->u.i = i;
    return v;
}

seckill_value *seckill_v_num(apr_pool_t *p, double d)
{
    seckill_value *v = new_value(p, SECKILL_V_NUM);
    v->u.d = d;
    return v;
}

seckill_value *seckill_v_strn(apr_pool_t *p, const char *s, size_t n)
{
    seckill_value *v = new_value(p, SECKILL_V_STR);
    v->u.str.s = apr_palloc(p, n + 1);
    if (n)
        memcpy(v->u.str.s, s, n);
    v->u.str.s[n] = '\0';
    v->u.str.n = n;
    return v;
}

seckill_value *seckill_v_str(apr_pool_t *p, const char *s)
{
    return seckill_v_strn(p, s, s ? strlen(s) : 0);
}

seckill_value *seckill_v_strf(apr_pool_t *p, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return seckill_v_strn(p, "", 0);
    if ((size_t)n < sizeof(small))
        return seckill_v_strn(p, small, (size_t)n);

    seckill_value *v = new_value(p, SECKILL_V_STR);
    v->u.str.s = apr_palloc(p, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(v->u.str.s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    v->u.str.n = (size_t)n;
    return v;
}

seckill_value *seckill_v_arr(apr_pool_t *p)
{
    seckill_value *v = new_value(p, SECKILL_V_ARR);
    v->u.arr.pool = p;
    return v;
}

seckill_value *seckill_v_obj(apr_pool_t *p)
{
    seckill_value *v = new_value(p, SECKILL_V_OBJ);
    v->u.obj.pool = p;
    return v;
}

/* Pools cannot realloc: doubling keeps the abandoned blocks to at most the final size. */
static void *grow(apr_pool_t *p, void *old, size_t used, size_t newcap, size_t elem)
{
    void *n = apr_palloc(p, newcap * elem);
    if (used)
        memcpy(n, old, used * elem);
    return n;
}

int seckill_v_push(seckill_value *arr, seckill_value *v)
{
    if (!arr || arr->type != SECKILL_V_ARR)
        return -1;
    if (!v)
        v = seckill_v_null(arr->u.arr.pool);
    if (arr->u.arr.n == arr->u.arr.cap) {
        size_t cap = arr->u.arr.cap ? arr->u.arr.cap * 2 : 8;
        arr->u.arr.items =
            grow(arr->u.arr.pool, arr->u.arr.items, arr->u.arr.n, cap, sizeof(*arr->u.arr.items));
        arr->u.arr.cap = cap;
    }
    arr->u.arr.items[arr->u.arr.n++] = v;
    return 0;
}

/* Position of key in obj, or -1. */
static long obj_find(const seckill_value *obj, const char *key)
{
    if (obj->u.obj.index) {
        void *hit = apr_hash_get(obj->u.obj.index, key, APR_HASH_KEY_STRING);
        return hit ? (long)((uintptr_t)hit - 1) : -1;
    }
    for (size_t i = 0; i < obj->u.obj.n; i++)
        if (strcmp(obj->u.obj.keys[i], key) == 0)
            return (long)i;
    return -1;
}

static void obj_index(seckill_value *obj, size_t i)
{
    apr_hash_set(obj->u.obj.index, obj->u.obj.keys[i], APR_HASH_KEY_STRING,
                 (void *)(uintptr_t)(i + 1));
}

int seckill_v_set(seckill_value *obj, const char *key, seckill_value *v)
{
    if (!obj || obj->type != SECKILL_V_OBJ || !key)
        return -1;
    apr_pool_t *p = obj->u.obj.pool;
    if (!v)
        v = seckill_v_null(p);
    long at = obj_find(obj, key);
    if (at >= 0) {
        obj->u.obj.vals[at] = v;
        return 0;
    }
    if (obj->u.obj.n == obj->u.obj.cap) {
        size_t cap = obj->u.obj.cap ? obj->u.obj.cap * 2 : 8;
        obj->u.obj.keys = grow(p, obj->u.obj.keys, obj->u.obj.n, cap, sizeof(*obj->u.obj.keys));
        obj->u.obj.vals = grow(p, obj->u.obj.vals, obj->u.obj.n, cap, sizeof(*obj->u.obj.vals));
        obj->u.obj.cap = cap;
    }
    size_t i = obj->u.obj.n++;
    obj->u.obj.keys[i] = apr_pstrdup(p, key);
    obj->u.obj.vals[i] = v;
    if (obj->u.obj.index) {
        obj_index(obj, i);
    } else if (obj->u.obj.n >= OBJ_INDEX_MIN) {
        obj->u.obj.index = apr_hash_make(p);
        for (size_t k = 0; k < obj->u.obj.n; k++)
            obj_index(obj, k);
    }
    return 0;
}

int seckill_v_set_str(seckill_value *obj, const char *key, const char *s)
{
    if (!obj || obj->type != SECKILL_V_OBJ)
        return -1;
    return seckill_v_set(obj, key, seckill_v_str(obj->u.obj.pool, s));
}

int seckill_v_set_int(seckill_value *obj, const char *key, long long i)
{
    if (!obj || obj->type != SECKILL_V_OBJ)
        return -1;
    return seckill_v_set(obj, key, seckill_v_int(obj->u.obj.pool, i));
}

int seckill_v_set_num(seckill_value *obj, const char *key, double d)
{
    if (!obj || obj->type != SECKILL_V_OBJ)
        return -1;
    return seckill_v_set(obj, key, seckill_v_num(obj->u.obj.pool, d));
}

int seckill_v_set_bool(seckill_value *obj, const char *key, int b)
{
    if (!obj || obj->type != SECKILL_V_OBJ)
        return -1;
    return seckill_v_set(obj, key, seckill_v_bool(obj->u.obj.pool, b));
}

seckill_vtype seckill_v_type(const seckill_value *v)
{
    return v ? v->type : SECKILL_V_NULL;
}

seckill_value *seckill_v_get(const seckill_value *v, const char *key)
{
    if (!v || v->type != SECKILL_V_OBJ || !key)
        return NULL;
    long at = obj_find(v, key);
    return at >= 0 ? v->u.obj.vals[at] : NULL;
}

size_t seckill_v_len(const seckill_value *v)
{
    if (!v)
        return 0;
    switch (v->type) {
    case SECKILL_V_ARR:
        return v->u.arr.n;
    case SECKILL_V_OBJ:
        return v->u.obj.n;
    case SECKILL_V_STR:
        return v->u.str.n;
    default:
        return 0;
    }
}

seckill_value *seckill_v_at(const seckill_value *v, size_t i)
{
    if (v && v->type == SECKILL_V_ARR && i < v->u.arr.n)
        return v->u.arr.items[i];
    if (v && v->type == SECKILL_V_OBJ && i < v->u.obj.n)
        return v->u.obj.vals[i];
    return NULL;
}

const char *seckill_v_key_at(const seckill_value *v, size_t i)
{
    if (v && v->type == SECKILL_V_OBJ && i < v->u.obj.n)
        return v->u.obj.keys[i];
    return NULL;
}

int seckill_v_as_bool(const seckill_value *v)
{
    return v && v->type == SECKILL_V_BOOL ? v->u.b : 0;
}

long long seckill_v_as_int(const seckill_value *v)
{
    return v && v->type == SECKILL_V_INT ? v->u.i : 0;
}

double seckill_v_as_num(const seckill_value *v)
{
    if (v && v->type == SECKILL_V_NUM)
        return v->u.d;
    if (v && v->type == SECKILL_V_INT)
        return (double)v->u.i;
    return 0.0;
}

const char *seckill_v_as_str(const seckill_value *v, size_t *len)
{
    if (v && v->type == SECKILL_V_STR) {
        if (len)
            *len = v->u.str.n;
        return v->u.str.s;
    }
    if (len)
        *len = 0;
    return NULL;
}

int seckill_v_truthy(const seckill_value *v)
{
    if (!v)
        return 0;
    switch (v->type) {
    case SECKILL_V_NULL:
        return 0;
    case SECKILL_V_BOOL:
        return v->u.b;
    case SECKILL_V_ARR:
        return v->u.arr.n > 0;
    default:
        return 1;
    }
}

size_t seckill_v_fmt_num(double d, char *buf)
{
    int n = 0;

    if (isnan(d)) {
        memcpy(buf, "nan", 4);
        return 3;
    }
    if (isinf(d)) {
        strcpy(buf, d < 0 ? "-inf" : "inf");
        return d < 0 ? 4 : 3;
    }
    /* A normal double whose shortest form has n <= 15 digits prints as exactly that form at
     * %.15g, since %g drops trailing zeros; 17 digits always read back. Subnormals (and 0)
     * carry fewer digits, so for them the search starts at 1. */
    for (int prec = fabs(d) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        n = snprintf(buf, SECKILL_NUM_BUFSZ, "%.*g", prec, d);
        if (prec == 17 || strtod(buf, NULL) == d)
            break;
    }
    /* A host program may have set a locale with a decimal comma; JSON and templates want '.'. */
    for (char *c = buf; *c; c++)
        if (*c == ',')
            *c = '.';
    return (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes available), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F; /* no UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (n < need + 1)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k <= need; k++)
        if (s[k] < 0x80 || s[k] > 0xBF)
            return 0;
    return need + 1;
}

/* The bytes json_string copies as they are: printable ASCII but '"', '\\', '<', '>', '&' (the
 * rest is escaped, or checked as UTF-8). */
static const unsigned char plain[256] = {
    [0x20] = 1, [0x21] = 1, [0x23] = 1, [0x24] = 1, [0x25] = 1, [0x27] = 1, [0x28] = 1, [0x29] = 1,
    [0x2A] = 1, [0x2B] = 1, [0x2C] = 1, [0x2D] = 1, [0x2E] = 1, [0x2F] = 1, [0x30] = 1, [0x31] = 1,
    [0x32] = 1, [0x33] = 1, [0x34] = 1, [0x35] = 1, [0x36] = 1, [0x37] = 1, [0x38] = 1, [0x39] = 1,
    [0x3A] = 1, [0x3B] = 1, [0x3D] = 1, [0x3F] = 1, [0x40] = 1, [0x41] = 1, [0x42] = 1, [0x43] = 1,
    [0x44] = 1, [0x45] = 1, [0x46] = 1, [0x47] = 1, [0x48] = 1, [0x49] = 1, [0x4A] = 1, [0x4B] = 1,
    [0x4C] = 1, [0x4D] = 1, [0x4E] = 1, [0x4F] = 1, [0x50] = 1, [0x51] = 1, [0x52] = 1, [0x53] = 1,
    [0x54] = 1, [0x55] = 1, [0x56] = 1, [0x57] = 1, [0x58] = 1, [0x59] = 1, [0x5A] = 1, [0x5B] = 1,
    [0x5D] = 1, [0x5E] = 1, [0x5F] = 1, [0x60] = 1, [0x61] = 1, [0x62] = 1, [0x63] = 1, [0x64] = 1,
    [0x65] = 1, [0x66] = 1, [0x67] = 1, [0x68] = 1, [0x69] = 1, [0x6A] = 1, [0x6B] = 1, [0x6C] = 1,
    [0x6D] = 1, [0x6E] = 1, [0x6F] = 1, [0x70] = 1, [0x71] = 1, [0x72] = 1, [0x73] = 1, [0x74] = 1,
    [0x75] = 1, [0x76] = 1, [0x77] = 1, [0x78] = 1, [0x79] = 1, [0x7A] = 1, [0x7B] = 1, [0x7C] = 1,
    [0x7D] = 1, [0x7E] = 1,
};

static void json_string(const char *str, size_t n, seckill_write_fn out, void *ctx)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t run = 0; /* start of the bytes that pass through unchanged */
    size_t i = 0;

    out(ctx, "\"", 1);
    while (i < n) {
        unsigned char c;
        char esc[8];
        const char *rep = NULL;
        size_t replen = 0, used = 1;

        while (i < n && plain[s[i]]) /* most bytes: one load and one test each */
            i++;
        if (i == n)
            break;
        c = s[i];
        if (c >= 0x80) {
            used = utf8_len(s + i, n - i);
            if (used == 0) {
                rep = "\\ufffd";
                replen = 6;
                used = 1;
            } else if (used == 3 && c == 0xE2 && s[i + 1] == 0x80 &&
                       (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
                /* Line and paragraph separators end a JavaScript string literal. */
                rep = s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
                replen = 6;
            }
        } else if (c == '"') {
            rep = "\\\"";
            replen = 2;
        } else if (c == '\\') {
            rep = "\\\\";
            replen = 2;
        } else if (c == '\n') {
            rep = "\\n";
            replen = 2;
        } else if (c == '\r') {
            rep = "\\r";
            replen = 2;
        } else if (c == '\t') {
            rep = "\\t";
            replen = 2;
        } else if (c == '\b') {
            rep = "\\b";
            replen = 2;
        } else if (c == '\f') {
            rep = "\\f";
            replen = 2;
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7F) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            rep = esc;
            replen = 6;
        }
        if (rep) {
            if (i > run)
                out(ctx, str + run, i - run);
            out(ctx, rep, replen);
            run = i + used;
        }
        i += used;
    }
    if (n > run)
        out(ctx, str + run, n - run);
    out(ctx, "\"", 1);
}

/* v in decimal into buf (at least 21 bytes), as "%lld" would, without printf's parsing (two
 * numbers a buy answer); its length. */
static int int_text(long long v, char *buf)
{
    char tmp[24];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int n = 0, len = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    buf[len] = 0;
    return len;
}

static void json_value(const seckill_value *v, seckill_write_fn out, void *ctx, int depth)
{
    char buf[SECKILL_NUM_BUFSZ];
    int n;

    if (!v || depth > JSON_MAX_DEPTH) {
        out(ctx, "null", 4);
        return;
    }
    switch (v->type) {
    case SECKILL_V_NULL:
        out(ctx, "null", 4);
        break;
    case SECKILL_V_BOOL:
        if (v->u.b)
            out(ctx, "true", 4);
        else
            out(ctx, "false", 5);
        break;
    case SECKILL_V_INT:
        n = int_text(v->u.i, buf);
        out(ctx, buf, (size_t)n);
        break;
    case SECKILL_V_NUM:
        if (!isfinite(v->u.d))
            out(ctx, "null", 4);
        else
            out(ctx, buf, seckill_v_fmt_num(v->u.d, buf));
        break;
    case SECKILL_V_STR:
        json_string(v->u.str.s, v->u.str.n, out, ctx);
        break;
    case SECKILL_V_ARR:
        out(ctx, "[", 1);
        for (size_t i = 0; i < v->u.arr.n; i++) {
            if (i)
                out(ctx, ",", 1);
            json_value(v->u.arr.items[i], out, ctx, depth + 1);
        }
        out(ctx, "]", 1);
        break;
    case SECKILL_V_OBJ:
        out(ctx, "{", 1);
        for (size_t i = 0; i < v->u.obj.n; i++) {
            if (i)
                out(ctx, ",", 1);
            json_string(v->u.obj.keys[i], strlen(v->u.obj.keys[i]), out, ctx);
            out(ctx, ":", 1);
            json_value(v->u.obj.vals[i], out, ctx, depth + 1);
        }
        out(ctx, "}", 1);
        break;
    }
}

void seckill_v_json(const seckill_value *v, seckill_write_fn out, void *ctx)
{
    json_value(v, out, ctx, 0);
}

void seckill_buf_init(seckill_buf *b, apr_pool_t *p)
{
    b->pool = p;
    b->cap = 256;
    b->data = apr_palloc(p, b->cap);
    b->data[0] = '\0';
    b->len = 0;
}

void seckill_buf_write(void *ctx, const char *s, size_t n)
{
    seckill_buf *b = ctx;

    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap * 2;
        if (cap < b->len + n + 1)
            cap = b->len + n + 1;
        b->data = grow(b->pool, b->data, b->len, cap, 1);
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

char *seckill_v_json_str(const seckill_value *v, apr_pool_t *p, size_t *len)
{
    seckill_buf b;

    seckill_buf_init(&b, p);
    seckill_v_json(v, seckill_buf_write, &b);
    if (len)
        *len = b.len;
    return b.data;
}
