#include "order.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"

/* A body larger than this is no order message: refuse it before json-c sees it. */
#define BODY_MAX 4096

/* The token covers the fields in their canonical text form, so the module and the worker
 * sign exactly the same bytes whatever JSON spacing carried them. */
static void fields_text(const seckill_order_msg *m, char *id, char *pid, char *qty)
{
    seckill_fmt(id, 24, "%llu", (unsigned long long)m->order_id);
    seckill_fmt(pid, 24, "%lld", m->product_id);
    seckill_fmt(qty, 16, "%d", m->quantity);
}

void seckill_order_sign(seckill_order_msg *m, const char *secret, size_t secret_len)
{
    char id[24], pid[24], qty[16];
    fields_text(m, id, pid, qty);
    seckill_token_sign(secret, secret_len, m->token, 6, "order", id, m->user_id, pid, m->price,
                       qty);
}

int seckill_order_verify(const seckill_order_msg *m, const char *secret, size_t secret_len)
{
    char id[24], pid[24], qty[16];
    fields_text(m, id, pid, qty);
    return seckill_token_check(secret, secret_len, m->token, 6, "order", id, m->user_id, pid,
                               m->price, qty);
}

/* ---- encode ------------------------------------------------------------------------------ */

/* Appends s as a JSON string; 0 ok, -1 when it does not fit. */
static int put_string(char *buf, size_t cap, size_t *n, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    char esc[8];
    if (*n + 1 >= cap)
        return -1;
    buf[(*n)++] = '"';
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        size_t len = 1;
        esc[0] = (char)*c;
        if (*c == '"' || *c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*c;
            len = 2;
        } else if (*c < 0x20 || *c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[*c >> 4];
            esc[5] = hex[*c & 15];
            len = 6;
        }
        if (*n + len + 1 >= cap)
            return -1;
        memcpy(buf + *n, esc, len);
        *n += len;
    }
    buf[(*n)++] = '"';
    return 0;
}

static int put_raw(char *buf, size_t cap, size_t *n, const char *s)
{
    size_t len = strlen(s);
    if (*n + len + 1 > cap)
        return -1;
    memcpy(buf + *n, s, len + 1);
    *n += len;
    return 0;
}

static int put_int(char *buf, size_t cap, size_t *n, long long v)
{
    char num[24];
    seckill_fmt(num, sizeof num, "%lld", v);
    return put_raw(buf, cap, n, num);
}

int seckill_order_encode(const seckill_order_msg *m, char *buf, size_t cap)
{
    char id[24];
    size_t n = 0;
    int bad = 0;

    seckill_fmt(id, sizeof id, "%llu", (unsigned long long)m->order_id);
    bad |= put_raw(buf, cap, &n, "{\"order_id\":");
    bad |= put_string(buf, cap, &n, id); /* a string: 64 bits do not survive JS numbers */
    bad |= put_raw(buf, cap, &n, ",\"user_id\":");
    bad |= put_string(buf, cap, &n, m->user_id);
    bad |= put_raw(buf, cap, &n, ",\"product_id\":");
    bad |= put_int(buf, cap, &n, m->product_id);
    bad |= put_raw(buf, cap, &n, ",\"price\":");
    bad |= put_string(buf, cap, &n, m->price);
    bad |= put_raw(buf, cap, &n, ",\"quantity\":");
    bad |= put_int(buf, cap, &n, m->quantity);
    bad |= put_raw(buf, cap, &n, ",\"created_ms\":");
    bad |= put_int(buf, cap, &n, m->created_ms);
    bad |= put_raw(buf, cap, &n, ",\"pay_deadline_ms\":");
    bad |= put_int(buf, cap, &n, m->pay_deadline_ms);
    bad |= put_raw(buf, cap, &n, ",\"token\":");
    bad |= put_string(buf, cap, &n, m->token);
    bad |= put_raw(buf, cap, &n, "}");
    return bad ? -1 : (int)n;
}

/* ---- decode ------------------------------------------------------------------------------ */

static struct json_object *field(struct json_object *o, const char *name, json_type type)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, type))
        return NULL;
    return v;
}

/* A JSON integer in [min, max]; json-c keeps integers apart from doubles, so 1.0 is refused. */
static int get_int(struct json_object *o, const char *name, long long min, long long max,
                   long long *out)
{
    struct json_object *v = field(o, name, json_type_int);
    int64_t n;
    if (!v)
        return -1;
    errno = 0;
    n = json_object_get_int64(v);
    /* json-c clamps what does not fit in int64 to its limits (and sets errno on some paths) */
    if (errno || n == INT64_MAX || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

/* A JSON string of 1..max bytes without NUL; its text and length. */
static const char *get_str(struct json_object *o, const char *name, size_t max, size_t *len)
{
    struct json_object *v = field(o, name, json_type_string);
    const char *s;
    if (!v)
        return NULL;
    s = json_object_get_string(v);
    *len = (size_t)json_object_get_string_len(v);
    if (*len == 0 || *len > max || strlen(s) != *len)
        return NULL;
    return s;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return 1;
}

/* The canonical decimal form only: what the module formatted and signed. */
static int parse_order_id(const char *s, size_t n, uint64_t *out)
{
    unsigned long long v;
    if (n > 20 || !all_digits(s, n) || s[0] == '0')
        return -1;
    errno = 0;
    v = strtoull(s, NULL, 10);
    if (errno || v == 0)
        return -1;
    *out = v;
    return 0;
}

/* ^[0-9]{1,8}\.[0-9]{2}$: DECIMAL(10,2) as MySQL prints it. */
static int price_ok(const char *s, size_t n)
{
    return n >= 4 && n <= 11 && s[n - 3] == '.' && all_digits(s, n - 3) && all_digits(s + n - 2, 2);
}

static int token_ok(const char *s, size_t n)
{
    if (n != SECKILL_TOKEN_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static int decode_strings(struct json_object *o, seckill_order_msg *m)
{
    const char *s;
    size_t n;

    if (!(s = get_str(o, "order_id", 20, &n)) || parse_order_id(s, n, &m->order_id))
        return -1;
    if (!(s = get_str(o, "user_id", SECKILL_USER_MAX, &n)))
        return -1;
    memcpy(m->user_id, s, n + 1);
    if (!(s = get_str(o, "price", sizeof m->price - 1, &n)) || !price_ok(s, n))
        return -1;
    memcpy(m->price, s, n + 1);
    if (!(s = get_str(o, "token", SECKILL_TOKEN_LEN, &n)) || !token_ok(s, n))
        return -1;
    memcpy(m->token, s, n + 1);
    return 0;
}

static int decode_numbers(struct json_object *o, seckill_order_msg *m)
{
    long long v;

    if (get_int(o, "product_id", 1, INT64_MAX, &v))
        return -1;
    m->product_id = v;
    if (get_int(o, "quantity", 1, 100, &v))
        return -1;
    m->quantity = (int)v;
    if (get_int(o, "created_ms", 1, INT64_MAX, &v))
        return -1;
    m->created_ms = v;
    if (get_int(o, "pay_deadline_ms", 1, INT64_MAX, &v))
        return -1;
    m->pay_deadline_ms = v;
    return 0;
}

static int blank(const char *s, const char *end)
{
    for (; s < end; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return 0;
    }
    return 1;
}

int seckill_order_next(const char *body, size_t len, size_t *off, const char **line,
                       size_t *line_len)
{
    const char *start, *nl;
    /* an empty body is one (malformed) order, so that nothing is dropped unseen; a newline at
     * the very end starts no order */
    if (*off > len || (*off == len && *off > 0))
        return 0;
    if (!body) {
        body = "";
        len = 0;
    }
    start = body + *off;
    nl = len > *off ? memchr(start, '\n', len - *off) : NULL;
    *line = start;
    *line_len = nl ? (size_t)(nl - start) : len - *off;
    *off = nl ? (size_t)(nl - body) + 1 : len + 1;
    return 1;
}

int seckill_order_fits(int orders, size_t len, size_t add)
{
    return orders == 0 ||
           (orders < SECKILL_ORDER_BATCH_MAX && len + 1 + add <= SECKILL_ORDER_BATCH_BYTES);
}

size_t seckill_order_append(char *buf, size_t len, int orders, const char *order, size_t n)
{
    if (orders > 0)
        buf[len++] = '\n';
    memcpy(buf + len, order, n);
    return len + n;
}

int seckill_order_decode(const char *body, size_t len, seckill_order_msg *m)
{
    struct json_tokener *tok;
    struct json_object *o;
    int rc = -1;

    memset(m, 0, sizeof *m);
    if (!body || len == 0 || len > BODY_MAX || memchr(body, 0, len))
        return -1;
    if (!(tok = json_tokener_new()))
        return -1;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    o = json_tokener_parse_ex(tok, body, (int)len);
    /* the whole body is one object: nothing after it but blanks */
    if (o && json_tokener_get_error(tok) == json_tokener_success &&
        blank(body + json_tokener_get_parse_end(tok), body + len) &&
        json_object_is_type(o, json_type_object))
        rc = decode_strings(o, m) == 0 && decode_numbers(o, m) == 0 ? 0 : -1;
    json_object_put(o);
    json_tokener_free(tok);
    if (rc != 0)
        memset(m, 0, sizeof *m);
    return rc;
}
