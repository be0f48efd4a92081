#include "lua.h"

#include "fmt.h"

#include "redis_conn.h"

#include <apr_file_io.h>
#include <apr_strings.h>
#include <openssl/sha.h>
#include <stdio.h>
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

/* Sends cmd and reads its reply into p (lib/redis_conn.h). */
static void *send_and_read_in(apr_pool_t *p, redisContext *c, const char *cmd, size_t len)
{
    struct iovec iov = {(void *)cmd, len};
    return c->err || !seckill_redis_send(c, &iov, 1) ? NULL : seckill_redis_read_in(p, c);
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
    al[2] = (size_t)seckill_fmt(nk, sizeof nk, "%d", nkeys);
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

static apr_status_t free_reply(void *r)
{
    freeReplyObject(r);
    return APR_SUCCESS;
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
        if (l->type == REDIS_REPLY_ERROR) {
            /* a script Redis cannot compile: its error names the line, the NOSCRIPT of the
             * EVALSHA again would not */
            if (p)
                apr_pool_cleanup_register(p, l, free_reply, apr_pool_cleanup_null);
            return l;
        }
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
