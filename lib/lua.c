#include "lua.h"

#include <apr_file_io.h>
#include <apr_strings.h>
#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

const char *seckill_lua_load(apr_pool_t *p, const char *dir, const char *name,
                             seckill_lua_script *s)
{
    const char *path = apr_pstrcat(p, dir, "/", name, ".lua", NULL);
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    char *body;
    unsigned char md[SHA_DIGEST_LENGTH];

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS)
        return apr_psprintf(p, "cannot open Lua script %s", path);
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS || fi.size <= 0 ||
        fi.size > 1 << 20) {
        apr_file_close(f);
        return apr_psprintf(p, "Lua script %s is empty or too large", path);
    }
    n = (apr_size_t)fi.size;
    body = apr_palloc(p, n + 1);
    if (apr_file_read_full(f, body, n, &n) != APR_SUCCESS) {
        apr_file_close(f);
        return apr_psprintf(p, "cannot read Lua script %s", path);
    }
    apr_file_close(f);
    body[n] = 0;

    SHA1((const unsigned char *)body, n, md);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        apr_snprintf(s->sha + 2 * i, 3, "%02x", md[i]);
    s->name = apr_pstrdup(p, name);
    s->body = body;
    s->len = n;
    return NULL;
}

/* Appends "<prefix><n>\r\n" to out at *o. */
static void put_count(char *out, size_t *o, char prefix, size_t n)
{
    char d[24];
    int k = 0;
    out[(*o)++] = prefix;
    do {
        d[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (k)
        out[(*o)++] = d[--k];
    out[(*o)++] = '\r';
    out[(*o)++] = '\n';
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

static void io_error(redisContext *c, const char *what, int err)
{
    c->err = REDIS_ERR_IO;
    snprintf(c->errstr, sizeof c->errstr, "%s: %s", what,
             err == EAGAIN || err == EWOULDBLOCK ? "timed out" : strerror(err));
}

void *seckill_lua_read_in(apr_pool_t *p, redisContext *c)
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

/* Sends cmd and reads its reply into p. hiredis's output buffer is empty between commands of a
 * blocking context, so the bytes go out in order. */
static void *send_and_read_in(apr_pool_t *p, redisContext *c, const char *cmd, size_t len)
{
    if (c->err)
        return NULL;
    for (size_t o = 0; o < len;) {
        ssize_t n = send(c->fd, cmd + o, len - o, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            io_error(c, "send", n < 0 ? errno : EPIPE);
            return NULL;
        }
        o += (size_t)n;
    }
    return seckill_lua_read_in(p, c);
}

/* The command in Redis's protocol (RESP), made here: hiredis's own argument-vector formatting
 * (sdscatfmt per argument) cost ~10,000 instructions for a buy's 17 arguments. Written into
 * stack when it fits, else into memory of p or, without p, malloc's (*cmd says which); 0 when
 * there are too many arguments or no memory. */
static size_t command(apr_pool_t *p, const seckill_lua_script *s, int nkeys, int argc,
                      const char **argv, const size_t *argvlen, char *stack, size_t room,
                      char **cmd)
{
    const char *av[64];
    size_t al[64], need = 32, o = 0;
    char nk[16];
    int n = argc + 3;

    if (n > 64)
        return 0;
    av[0] = "EVALSHA";
    al[0] = 7;
    av[1] = s->sha;
    al[1] = 40;
    al[2] = (size_t)snprintf(nk, sizeof nk, "%d", nkeys);
    av[2] = nk;
    for (int i = 0; i < argc; i++) {
        av[i + 3] = argv[i];
        al[i + 3] = argvlen ? argvlen[i] : strlen(argv[i]);
    }
    for (int i = 0; i < n; i++)
        need += al[i] + 32;
    *cmd = need <= room ? stack : p ? apr_palloc(p, need) : malloc(need);
    if (!*cmd)
        return 0;
    put_count(*cmd, &o, '*', (size_t)n);
    for (int i = 0; i < n; i++) {
        put_count(*cmd, &o, '$', al[i]);
        memcpy(*cmd + o, av[i], al[i]);
        o += al[i];
        (*cmd)[o++] = '\r';
        (*cmd)[o++] = '\n';
    }
    return o;
}

size_t seckill_lua_command(apr_pool_t *p, const seckill_lua_script *s, int nkeys, int argc,
                           const char **argv, const size_t *argvlen, char **cmd)
{
    return command(p, s, nkeys, argc, argv, argvlen, NULL, 0, cmd);
}

/* EVALSHA: with p, sent and read by send_and_read_in; without, through hiredis (the reply to
 * be freed). */
static redisReply *evalsha(apr_pool_t *p, redisContext *c, const seckill_lua_script *s, int nkeys,
                           int argc, const char **argv, const size_t *argvlen)
{
    char stack[2048], *cmd;
    void *reply = NULL;
    size_t len = command(p, s, nkeys, argc, argv, argvlen, stack, sizeof stack, &cmd);

    if (!len)
        return NULL;
    if (p)
        reply = send_and_read_in(p, c, cmd, len);
    else if (redisAppendFormattedCommand(c, cmd, len) != REDIS_OK ||
             redisGetReply(c, &reply) != REDIS_OK)
        reply = NULL;
    if (cmd != stack && !p)
        free(cmd);
    return reply;
}

static redisReply *call(apr_pool_t *p, redisContext *c, const seckill_lua_script *s, int nkeys,
                        int argc, const char **argv, const size_t *argvlen)
{
    redisReply *r = evalsha(p, c, s, nkeys, argc, argv, argvlen);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        redisReply *l;
        if (!p)
            freeReplyObject(r);
        l = redisCommand(c, "SCRIPT LOAD %b", s->body, s->len);
        if (!l)
            return NULL;
        freeReplyObject(l);
        r = evalsha(p, c, s, nkeys, argc, argv, argvlen);
    }
    return r;
}

redisReply *seckill_lua_call(redisContext *c, const seckill_lua_script *s, int nkeys, int argc,
                             const char **argv, const size_t *argvlen)
{
    return call(NULL, c, s, nkeys, argc, argv, argvlen);
}

redisReply *seckill_lua_call_in(apr_pool_t *p, redisContext *c, const seckill_lua_script *s,
                                int nkeys, int argc, const char **argv, const size_t *argvlen)
{
    return call(p, c, s, nkeys, argc, argv, argvlen);
}
