#include "lua.h"

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

/* The command in Redis's protocol (RESP), made here: hiredis's own argument-vector formatting
 * (sdscatfmt per argument) cost ~10,000 instructions for a buy's 17 arguments. */
static redisReply *evalsha(redisContext *c, const seckill_lua_script *s, int nkeys, int argc,
                           const char **argv, const size_t *argvlen)
{
    const char *av[64];
    size_t al[64], need = 32, o = 0;
    char nk[16], stack[2048], *cmd = stack;
    void *reply = NULL;
    int n = argc + 3;

    if (n > 64)
        return NULL;
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
    if (need > sizeof stack && !(cmd = malloc(need)))
        return NULL;
    put_count(cmd, &o, '*', (size_t)n);
    for (int i = 0; i < n; i++) {
        put_count(cmd, &o, '$', al[i]);
        memcpy(cmd + o, av[i], al[i]);
        o += al[i];
        cmd[o++] = '\r';
        cmd[o++] = '\n';
    }
    if (redisAppendFormattedCommand(c, cmd, o) != REDIS_OK || redisGetReply(c, &reply) != REDIS_OK)
        reply = NULL;
    if (cmd != stack)
        free(cmd);
    return reply;
}

redisReply *seckill_lua_call(redisContext *c, const seckill_lua_script *s, int nkeys, int argc,
                             const char **argv, const size_t *argvlen)
{
    redisReply *r = evalsha(c, s, nkeys, argc, argv, argvlen);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        redisReply *l;
        freeReplyObject(r);
        l = redisCommand(c, "SCRIPT LOAD %b", s->body, s->len);
        if (!l)
            return NULL;
        freeReplyObject(l);
        r = evalsha(c, s, nkeys, argc, argv, argvlen);
    }
    return r;
}
