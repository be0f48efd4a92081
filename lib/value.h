/* View data: a JSON-shaped tree (null, bool, integer, double, string, array, ordered object)
 * allocated from the APR pool of its creator, rendered by mustache.h and written as JSON here.
 * Building mutates a tree; every reader below only reads, so a finished tree may be shared. */
#ifndef SECKILL_VALUE_H
#define SECKILL_VALUE_H

#include <stddef.h>
#include <apr_pools.h>

typedef enum {
    SECKILL_V_NULL,
    SECKILL_V_BOOL,
    SECKILL_V_INT,
    SECKILL_V_NUM,
    SECKILL_V_STR,
    SECKILL_V_ARR,
    SECKILL_V_OBJ
} seckill_vtype;

typedef struct seckill_value seckill_value;

/* Where renderers put their output: n bytes at s (not NUL-terminated). */
typedef void (*seckill_write_fn)(void *ctx, const char *s, size_t n);

/* Constructors. Each allocates from p, which must outlive every use of the value; an array or
 * object also keeps p to grow in. Strings are copied (a NULL s gives an empty string) and
 * should be UTF-8 without NUL bytes: the JSON writer replaces invalid UTF-8 by U+FFFD. */
seckill_value *seckill_v_null(apr_pool_t *p);
seckill_value *seckill_v_bool(apr_pool_t *p, int b);
seckill_value *seckill_v_int(apr_pool_t *p, long long i);
seckill_value *seckill_v_num(apr_pool_t *p, double d);
seckill_value *seckill_v_str(apr_pool_t *p, const char *s);
seckill_value *seckill_v_strn(apr_pool_t *p, const char *s, size_t n);
/* printf-style string, formatted by the C library's vsnprintf (so %zu, %lld, ... as usual). */
seckill_value *seckill_v_strf(apr_pool_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
seckill_value *seckill_v_arr(apr_pool_t *p);
seckill_value *seckill_v_obj(apr_pool_t *p);

/* Append v (NULL is stored as null) to arr. 0 ok, -1 when arr is not an array. */
int seckill_v_push(seckill_value *arr, seckill_value *v);
/* Set key to v (NULL is stored as null). A new key goes last; setting an existing key
 * replaces its value in place, keeping its position. key is copied into obj's pool.
 * 0 ok, -1 when obj is not an object. */
int seckill_v_set(seckill_value *obj, const char *key, seckill_value *v);
/* Shorthands for seckill_v_set(obj, key, seckill_v_xxx(pool of obj, ...)). */
int seckill_v_set_str(seckill_value *obj, const char *key, const char *s);
int seckill_v_set_int(seckill_value *obj, const char *key, long long i);
int seckill_v_set_num(seckill_value *obj, const char *key, double d);
int seckill_v_set_bool(seckill_value *obj, const char *key, int b);

/* Readers. They accept NULL (read as a missing value: type null, length 0) and never modify
 * the tree, so concurrent readers of a finished tree need no lock. */
seckill_vtype seckill_v_type(const seckill_value *v);
/* Value of key in an object, NULL when v is not an object or has no such key. Like strchr,
 * returns a non-const pointer so that a builder can find and extend a subtree. */
seckill_value *seckill_v_get(const seckill_value *v, const char *key);
/* Elements of an array, keys of an object, bytes of a string; 0 for anything else. */
size_t seckill_v_len(const seckill_value *v);
/* The i-th element of an array or the i-th value of an object (insertion order), or NULL. */
seckill_value *seckill_v_at(const seckill_value *v, size_t i);
/* The i-th key of an object, or NULL. */
const char *seckill_v_key_at(const seckill_value *v, size_t i);
/* Scalars: 0 / 0.0 / NULL when v has another type. seckill_v_as_num also converts an
 * integer; seckill_v_as_str gives the NUL-terminated bytes and, if len, their count. */
int seckill_v_as_bool(const seckill_value *v);
long long seckill_v_as_int(const seckill_value *v);
double seckill_v_as_num(const seckill_value *v);
const char *seckill_v_as_str(const seckill_value *v, size_t *len);
/* Mustache truthiness: false for missing, null, false and the empty array; true otherwise
 * (so "", 0 and {} are true, as in the spec's reference implementation). */
int seckill_v_truthy(const seckill_value *v);

/* Shortest text that reads back (strtod) as exactly d, always with '.' as decimal point:
 * 1.5 -> "1.5", 85.0 -> "85", 1e21 -> "1e+21"; "nan", "inf", "-inf" for non-finite d.
 * buf needs SECKILL_NUM_BUFSZ bytes; returns the length written (NUL not counted). */
#define SECKILL_NUM_BUFSZ 32
size_t seckill_v_fmt_num(double d, char *buf);

/* Compact JSON (RFC 8259) of v: object keys in insertion order; integers as integers,
 * doubles as seckill_v_fmt_num (non-finite as null). Strings escape '"', '\\' and control
 * characters, and also '<', '>', '&', U+2028 and U+2029 as \uXXXX so that the output can be
 * embedded in HTML, even inside <script>. Nesting deeper than 256 levels is written as null. */
void seckill_v_json(const seckill_value *v, seckill_write_fn out, void *ctx);

/* A growing, always NUL-terminated byte buffer in a pool; seckill_buf_write is a
 * seckill_write_fn (pass the seckill_buf as its ctx). Growth leaves old blocks in the pool
 * until it is cleared: meant for request or scratch pools. */
typedef struct {
    apr_pool_t *pool;
    char *data;
    size_t len;
    size_t cap;
} seckill_buf;
void seckill_buf_init(seckill_buf *b, apr_pool_t *p);
void seckill_buf_write(void *b, const char *s, size_t n);

/* seckill_v_json into a NUL-terminated string allocated from p; *len (if given) its length. */
char *seckill_v_json_str(const seckill_value *v, apr_pool_t *p, size_t *len);

#endif
