#include "config.h"

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_URL, K_PATH, K_INT, K_LEVEL } key_kind;

typedef struct {
    const char *name;
    key_kind kind;
    size_t off;
    int min, max;       /* K_INT range */
    const char *scheme; /* K_URL */
    int port;           /* K_URL default port */
} key_def;

#define OFF(f) offsetof(seckill_worker_config, f)
static const key_def keys[] = {
    {"redis", K_URL, OFF(redis), 0, 0, "redis", 6379},
    {"mysql", K_URL, OFF(mysql), 0, 0, "mysql", 3306},
    {"amqp", K_URL, OFF(amqp), 0, 0, "amqp", 5672},
    {"lua_dir", K_PATH, OFF(lua_dir), 0, 0, NULL, 0},
    {"status_interval", K_INT, OFF(status_interval), 1, 3600, NULL, 0},
    {"preheat_interval", K_INT, OFF(preheat_interval), 1, 3600, NULL, 0},
    /* at most one slot's length: then the soon-starting products lie in the current or the
     * next slot only (scheduler.c relies on it) */
    {"preheat_ahead", K_INT, OFF(preheat_ahead), 0, 7200, NULL, 0},
    /* the lock is renewed every second: below 3 s one slow round trip would lose it */
    {"leader_ttl", K_INT, OFF(leader_ttl), 3, 3600, NULL, 0},
    {"node_id", K_INT, OFF(node_id), 0, 31, NULL, 0},
    {"pay_timeout", K_INT, OFF(pay_timeout), 10, 86400, NULL, 0},
    {"secret_file", K_PATH, OFF(secret_file), 0, 0, NULL, 0},
    {"prefetch", K_INT, OFF(prefetch), 1, 65535, NULL, 0},
    /* the transaction holds each product row it touched until commit: bounded */
    {"batch_max", K_INT, OFF(batch_max), 1, 4096, NULL, 0},
    {"retry_max", K_INT, OFF(retry_max), 0, 100, NULL, 0},
    {"log_level", K_LEVEL, OFF(log_level), 0, 0, NULL, 0},
    {"log_file", K_PATH, OFF(log_file), 0, 0, NULL, 0},
    {"pid_file", K_PATH, OFF(pid_file), 0, 0, NULL, 0},
};
#define NKEYS (sizeof keys / sizeof keys[0])

static void set_defaults(seckill_worker_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->status_interval = 10;
    cfg->preheat_interval = 60;
    cfg->preheat_ahead = 300;
    cfg->leader_ttl = 30;
    cfg->pay_timeout = 300;
    cfg->prefetch = 256;
    cfg->batch_max = 128;
    cfg->retry_max = 3;
    cfg->log_level = SECKILL_LOG_INFO;
}

static const char *parse_int(apr_pool_t *p, const key_def *k, const char *v, int *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (!apr_isdigit(*v) || *end || n < k->min || n > k->max)
        return apr_psprintf(p, "'%s' is not a whole number in %d..%d", v, k->min, k->max);
    *out = (int)n;
    return NULL;
}

/* Beyond the URL syntax: what the worker needs of each server's URL. */
static const char *check_url(apr_pool_t *p, const key_def *k, const seckill_endpoint *ep)
{
    if (strcmp(k->scheme, "redis") == 0 && ep->path[strspn(ep->path, "0123456789")])
        return apr_psprintf(p, "'%s': the path must be a database number", ep->url);
    if (strcmp(k->scheme, "mysql") == 0 && (!*ep->path || !ep->user))
        return apr_psprintf(p, "'%s' must name a user and a database", ep->url);
    return NULL;
}

static const char *set_value(apr_pool_t *p, const key_def *k, const char *v, const char *base,
                             seckill_worker_config *cfg)
{
    void *field = (char *)cfg + k->off;
    const char *err;
    char *path;

    switch (k->kind) {
    case K_URL: /* the endpoint keeps the string: copy it out of the line buffer */
        err = seckill_endpoint_parse(p, apr_pstrdup(p, v), k->scheme, k->port, field);
        return err ? err : check_url(p, k, field);
    case K_PATH:
        if (apr_filepath_merge(&path, base, v, 0, p) != APR_SUCCESS)
            return apr_psprintf(p, "'%s' is not a usable path", v);
        *(const char **)field = path;
        return NULL;
    case K_INT:
        return parse_int(p, k, v, field);
    case K_LEVEL:
        if (seckill_worker_log_level_parse(v, field) != 0)
            return apr_psprintf(p, "'%s' is not one of error, warn, info, debug", v);
        return NULL;
    }
    return "internal error";
}

static const key_def *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    }
    return NULL;
}

static char *trim(char *s)
{
    char *e;
    while (apr_isspace(*s))
        s++;
    e = s + strlen(s);
    while (e > s && apr_isspace(e[-1]))
        *--e = 0;
    return s;
}

/* '#' starts a comment at the start of a line or after a blank, so `key = 10  # seconds`
 * works while a '#' glued to a value stays part of it. */
static void strip_comment(char *s)
{
    for (char *c = s; *c; c++) {
        if (*c == '#' && (c == s || apr_isspace(c[-1]))) {
            *c = 0;
            return;
        }
    }
}

/* One line of the file; seen[] holds the line each key was set on (0: not yet). */
static const char *parse_line(apr_pool_t *p, char *line, int lineno, const char *base,
                              seckill_worker_config *cfg, int *seen)
{
    char *eq, *key, *val;
    const key_def *k;
    const char *err;

    strip_comment(line);
    line = trim(line);
    if (!*line)
        return NULL;
    if (!(eq = strchr(line, '=')))
        return apr_psprintf(p, "expected 'key = value', got '%s'", line);
    *eq = 0;
    key = trim(line);
    val = trim(eq + 1);
    if (!(k = find_key(key)))
        return apr_psprintf(p, "unknown key '%s'", key);
    if (seen[k - keys])
        return apr_psprintf(p, "key '%s' already set on line %d", key, seen[k - keys]);
    seen[k - keys] = lineno;
    if (!*val)
        return apr_psprintf(p, "key '%s': empty value", key);
    if ((err = set_value(p, k, val, base, cfg)))
        return apr_psprintf(p, "key '%s': %s", key, err);
    return NULL;
}

static const char *parse_file(apr_pool_t *p, const char *file, seckill_worker_config *cfg)
{
    apr_file_t *f;
    char buf[4096], *abs;
    int seen[NKEYS] = {0}, lineno = 0;
    const char *err = NULL;

    if (apr_filepath_merge(&abs, NULL, file, 0, p) != APR_SUCCESS ||
        apr_file_open(&f, abs, APR_FOPEN_READ, 0, p) != APR_SUCCESS)
        return apr_psprintf(p, "%s: cannot open the config file", file);
    cfg->file = abs;
    const char *base = apr_pstrndup(p, abs, (size_t)(strrchr(abs, '/') - abs + 1));
    while (!err && apr_file_gets(buf, sizeof buf, f) == APR_SUCCESS) {
        size_t len = strlen(buf);
        lineno++;
        if (len == sizeof buf - 1 && buf[len - 1] != '\n')
            err = "line too long";
        else
            err = parse_line(p, buf, lineno, base, cfg, seen);
    }
    apr_file_close(f);
    return err ? apr_psprintf(p, "%s:%d: %s", file, lineno, err) : NULL;
}

/* SECKILL_WORKER_<KEY uppercased> */
static char *env_name(apr_pool_t *p, const char *key)
{
    char *var = apr_pstrcat(p, "SECKILL_WORKER_", key, NULL);
    for (char *c = var; *c; c++)
        *c = (char)apr_toupper(*c);
    return var;
}

static const char *parse_env(apr_pool_t *p, seckill_worker_config *cfg)
{
    char *cwd;
    if (apr_filepath_get(&cwd, 0, p) != APR_SUCCESS)
        cwd = "/";
    for (size_t i = 0; i < NKEYS; i++) {
        const char *var = env_name(p, keys[i].name);
        const char *v = getenv(var), *err;
        if (v && *v && (err = set_value(p, &keys[i], v, cwd, cfg)))
            return apr_psprintf(p, "environment variable %s: key '%s': %s", var, keys[i].name, err);
    }
    return NULL;
}

static const char *required(apr_pool_t *p, const seckill_worker_config *cfg, const char *missing)
{
    if (!missing)
        return NULL;
    return apr_psprintf(p, "%s: key '%s' is required (set it in the file or in %s)",
                        cfg->file ? cfg->file : "no config file", missing, env_name(p, missing));
}

static const char *check_required(apr_pool_t *p, const seckill_worker_config *cfg)
{
    return required(p, cfg,
                    !cfg->redis.host   ? "redis"
                    : !cfg->mysql.host ? "mysql"
                    : !cfg->lua_dir    ? "lua_dir"
                                       : NULL);
}

const char *seckill_worker_config_need_consumers(apr_pool_t *p, const seckill_worker_config *cfg)
{
    return required(p, cfg, !cfg->amqp.host ? "amqp" : !cfg->secret_file ? "secret_file" : NULL);
}

/* Read as mod_seckill reads SeckillSecretFile (trailing newlines stripped, 32..4096 bytes):
 * the two must derive the same key from the same file. */
#define SECRET_MIN 32
#define SECRET_MAX 4096
static const char *load_secret(apr_pool_t *p, seckill_worker_config *cfg)
{
    char *buf = apr_palloc(p, SECRET_MAX + 1);
    apr_size_t n = 0;
    apr_file_t *f;

    if (apr_file_open(&f, cfg->secret_file, APR_FOPEN_READ, 0, p) != APR_SUCCESS)
        return apr_psprintf(p, "key 'secret_file': cannot read '%s'", cfg->secret_file);
    apr_file_read_full(f, buf, SECRET_MAX + 1, &n);
    apr_file_close(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n < SECRET_MIN || n > SECRET_MAX)
        return apr_psprintf(p,
                            "key 'secret_file': '%s' must hold %d to %d bytes of secret (has %lu)",
                            cfg->secret_file, SECRET_MIN, SECRET_MAX, (unsigned long)n);
    cfg->secret = buf;
    cfg->secret_len = n;
    return NULL;
}

const char *seckill_worker_config_load(apr_pool_t *p, const char *file, seckill_worker_config *cfg)
{
    const char *err;
    set_defaults(cfg);
    if (file && (err = parse_file(p, file, cfg)))
        return err;
    if ((err = parse_env(p, cfg)))
        return err;
    if (cfg->secret_file && (err = load_secret(p, cfg)))
        return err;
    return check_required(p, cfg);
}
