/* Redis scripts live in lua/, one a file. They are read once at startup, called by SHA
 * (EVALSHA) and loaded on a server that does not know them yet (NOSCRIPT), so a Redis
 * restart or failover costs one extra round trip, never an error. */
#ifndef SECKILL_LUA_H
#define SECKILL_LUA_H

#include <apr_pools.h>
#include <hiredis/hiredis.h>

typedef struct {
    const char *name; /* file name without .lua */
    const char *body;
    size_t len;
    char sha[41];
} seckill_lua_script;

/* Reads dir/name.lua into s; NULL on success, else a message naming the file. */
const char *seckill_lua_load(apr_pool_t *p, const char *dir, const char *name,
                             seckill_lua_script *s);

/* EVALSHA s with nkeys keys followed by args (keys first in argv). Returns the reply (caller
 * frees) or NULL on a connection error (c->err set). Script errors come back as
 * REDIS_REPLY_ERROR replies, and so does Redis's error when it cannot compile s. */
redisReply *seckill_lua_call(redisContext *c, const seckill_lua_script *s, int nkeys, int argc,
                             const char **argv, const size_t *argvlen);

/* The same for a hot path: the command is sent from the stack (or p) past hiredis's output
 * buffer and the reply is made in p, so nothing is to be freed and no malloc happens on the way
 * (a buy's EVALSHA; NOSCRIPT's one-off SCRIPT LOAD aside). */
redisReply *seckill_lua_call_in(apr_pool_t *p, redisContext *c, const seckill_lua_script *s,
                                int nkeys, int argc, const char **argv, const size_t *argvlen);

/* The EVALSHA of s in Redis's protocol, made in p, for a caller that sends it itself (a
 * pipeline); its length, 0 when it cannot be made. */
size_t seckill_lua_command(apr_pool_t *p, const seckill_lua_script *s, int nkeys, int argc,
                           const char **argv, const size_t *argvlen, char **cmd);

#endif
