#include "config.h"

#include "apr_file_info.h"
#include "apr_file_io.h"
#include "apr_strings.h"
#include "apr_uri.h"
#include "http_log.h"

#include <openssl/evp.h>

#include "alipay.h"

#define DEFAULT_REDIS_POOL 64
#define DEFAULT_MYSQL_POOL 16
#define DEFAULT_AMQP_POOL 1
#define DEFAULT_AMQP_TIMEOUT_MS 3000
#define DEFAULT_REDIS_TIMEOUT_MS 1000
#define DEFAULT_MYSQL_TIMEOUT_S 3
#define DEFAULT_RATE_LIMIT 5
#define DEFAULT_RATE_WINDOW 1
#define DEFAULT_PAY_TIMEOUT 300
#define DEFAULT_ALIPAY_TIMEOUT_MS 10000
#define ALIPAY_SANDBOX "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
#define DEFAULT_LISTING_CACHE_MS 250
#define SECRET_MIN 32
#define SECRET_MAX 4096

void *seckill_config_create(apr_pool_t *p, server_rec *s)
{
    seckill_server_conf *c = apr_pcalloc(p, sizeof *c);
    c->redis_pool_max = SECKILL_UNSET;
    c->mysql_pool_max = SECKILL_UNSET;
    c->amqp_pool_max = SECKILL_UNSET;
    c->amqp_timeout_ms = SECKILL_UNSET;
    c->redis_timeout_ms = SECKILL_UNSET;
    c->mysql_timeout_s = SECKILL_UNSET;
    c->node_id = SECKILL_UNSET;
    c->rate_limit = SECKILL_UNSET;
    c->rate_window = SECKILL_UNSET;
    c->user_limit = SECKILL_UNSET;
    c->pay_timeout = SECKILL_UNSET;
    c->identity = SECKILL_UNSET;
    c->alipay_timeout_ms = SECKILL_UNSET;
    c->listing_cache_ms = SECKILL_UNSET;
    return c;
}

#define MERGE_PTR(f) m->f = add->f ? add->f : base->f
#define MERGE_INT(f) m->f = add->f != SECKILL_UNSET ? add->f : base->f

void *seckill_config_merge(apr_pool_t *p, void *basev, void *addv)
{
    seckill_server_conf *base = basev, *add = addv;
    seckill_server_conf *m = apr_pcalloc(p, sizeof *m);
    MERGE_PTR(redis);
    MERGE_PTR(mysql);
    MERGE_PTR(amqp);
    MERGE_INT(redis_pool_max);
    MERGE_INT(mysql_pool_max);
    MERGE_INT(amqp_pool_max);
    MERGE_INT(amqp_timeout_ms);
    MERGE_INT(redis_timeout_ms);
    MERGE_INT(mysql_timeout_s);
    MERGE_PTR(secret_file);
    MERGE_PTR(secret);
    m->secret_len = add->secret ? add->secret_len : base->secret_len;
    MERGE_INT(node_id);
    MERGE_INT(rate_limit);
    MERGE_INT(rate_window);
    MERGE_INT(user_limit);
    MERGE_INT(pay_timeout);
    MERGE_INT(identity);
    MERGE_INT(listing_cache_ms);
    MERGE_PTR(template_dir);
    MERGE_PTR(lua_dir);
    MERGE_PTR(alipay_app_id);
    MERGE_PTR(alipay_gateway);
    MERGE_PTR(alipay_app_private_key);
    MERGE_PTR(alipay_public_key);
    MERGE_PTR(alipay_seller_id);
    MERGE_PTR(alipay_notify_url);
    MERGE_PTR(alipay_return_url);
    MERGE_PTR(alipay_app_pkey);
    MERGE_PTR(alipay_pub_pkey);
    MERGE_INT(alipay_timeout_ms);
    return m;
}

#define DEFAULT(f, v)                                                                              \
    if (c->f == SECKILL_UNSET)                                                                     \
    c->f = (v)

const char *seckill_config_finalize(apr_pool_t *p, server_rec *s, seckill_server_conf *c)
{
    DEFAULT(redis_pool_max, DEFAULT_REDIS_POOL);
    DEFAULT(mysql_pool_max, DEFAULT_MYSQL_POOL);
    DEFAULT(amqp_pool_max, DEFAULT_AMQP_POOL);
    DEFAULT(amqp_timeout_ms, DEFAULT_AMQP_TIMEOUT_MS);
    DEFAULT(listing_cache_ms, DEFAULT_LISTING_CACHE_MS);
    DEFAULT(redis_timeout_ms, DEFAULT_REDIS_TIMEOUT_MS);
    DEFAULT(mysql_timeout_s, DEFAULT_MYSQL_TIMEOUT_S);
    DEFAULT(node_id, 0);
    DEFAULT(rate_limit, DEFAULT_RATE_LIMIT);
    DEFAULT(rate_window, DEFAULT_RATE_WINDOW);
    DEFAULT(user_limit, 1);
    DEFAULT(pay_timeout, DEFAULT_PAY_TIMEOUT);
    DEFAULT(identity, SECKILL_ID_COOKIE);
    if (!c->template_dir)
        c->template_dir = ap_server_root_relative(p, "seckill/templates");
    if (!c->lua_dir)
        c->lua_dir = ap_server_root_relative(p, "seckill/lua");
    if (c->alipay_app_id && (!c->alipay_app_private_key || !c->alipay_public_key))
        return "SeckillAlipayAppId is set, so SeckillAlipayAppPrivateKey and "
               "SeckillAlipayPublicKey must be set too";
    DEFAULT(alipay_timeout_ms, DEFAULT_ALIPAY_TIMEOUT_MS);
    c->alipay = NULL;
    if (c->alipay_app_id) {
        c->alipay = apr_pcalloc(p, sizeof *c->alipay);
        c->alipay->gateway = c->alipay_gateway ? c->alipay_gateway : ALIPAY_SANDBOX;
        c->alipay->app_id = c->alipay_app_id;
        c->alipay->app_key = c->alipay_app_pkey;
        c->alipay->alipay_key = c->alipay_pub_pkey;
        c->alipay->timeout_ms = c->alipay_timeout_ms;
    }
    return NULL;
}

static seckill_server_conf *conf_of(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &seckill_module);
}

/* A whole decimal number in [lo, hi]; NULL ok, else the problem. */
static const char *parse_int(cmd_parms *cmd, const char *arg, int lo, int hi, int *out)
{
    char *end;
    long v;
    if (!*arg)
        return apr_psprintf(cmd->pool, "%s: a number is required", cmd->cmd->name);
    v = strtol(arg, &end, 10);
    if (*end || v < lo || v > hi)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a whole number from %d to %d",
                            cmd->cmd->name, arg, lo, hi);
    *out = (int)v;
    return NULL;
}

static const char *set_endpoint(cmd_parms *cmd, const char *arg, const char *scheme, int port,
                                seckill_endpoint **out)
{
    seckill_endpoint *ep = apr_pcalloc(cmd->pool, sizeof *ep);
    const char *err = seckill_endpoint_parse(cmd->pool, arg, scheme, port, ep);
    if (err)
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    *out = ep;
    return NULL;
}

static const char *set_redis(cmd_parms *cmd, void *d, const char *arg)
{
    seckill_server_conf *c = conf_of(cmd);
    const char *err = set_endpoint(cmd, arg, "redis", 6379, &c->redis);
    int db;
    if (!err && *c->redis->path && parse_int(cmd, c->redis->path, 0, 15, &db))
        err = apr_psprintf(cmd->pool, "%s: '%s' names database '%s'; use 0 to 15", cmd->cmd->name,
                           arg, c->redis->path);
    return err;
}

static const char *set_mysql(cmd_parms *cmd, void *d, const char *arg)
{
    seckill_server_conf *c = conf_of(cmd);
    const char *err = set_endpoint(cmd, arg, "mysql", 3306, &c->mysql);
    if (!err && (!*c->mysql->path || !c->mysql->user))
        err = apr_psprintf(cmd->pool,
                           "%s: '%s' must name a user and a database "
                           "(mysql://user:password@host:port/database)",
                           cmd->cmd->name, arg);
    return err;
}

static const char *set_amqp(cmd_parms *cmd, void *d, const char *arg)
{
    return set_endpoint(cmd, arg, "amqp", 5672, &conf_of(cmd)->amqp);
}

static const char *set_pool(cmd_parms *cmd, void *d, const char *arg)
{
    seckill_server_conf *c = conf_of(cmd);
    int *f = cmd->info == (void *)1   ? &c->redis_pool_max
             : cmd->info == (void *)2 ? &c->mysql_pool_max
                                      : &c->amqp_pool_max;
    return parse_int(cmd, arg, 1, 4096, f);
}

static const char *set_timeout(cmd_parms *cmd, void *d, const char *arg)
{
    seckill_server_conf *c = conf_of(cmd);
    if (cmd->info == (void *)1)
        return parse_int(cmd, arg, 10, 60000, &c->redis_timeout_ms);
    if (cmd->info == (void *)3)
        return parse_int(cmd, arg, 10, 60000, &c->amqp_timeout_ms);
    if (cmd->info == (void *)4)
        return parse_int(cmd, arg, 100, 60000, &c->alipay_timeout_ms);
    return parse_int(cmd, arg, 1, 600, &c->mysql_timeout_s);
}

/* A file that must exist and be readable now: httpd reads it before dropping privileges. */
static const char *readable_file(cmd_parms *cmd, const char *arg, const char **out)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_finfo_t fi;
    apr_file_t *f;
    if (!path)
        return apr_psprintf(cmd->pool, "%s: bad path '%s'", cmd->cmd->name, arg);
    if (apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: file '%s' does not exist", cmd->cmd->name, path);
    if (fi.filetype != APR_REG)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a regular file", cmd->cmd->name, path);
    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->pool) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: cannot read '%s'", cmd->cmd->name, path);
    apr_file_close(f);
    *out = path;
    return NULL;
}

static const char *set_secret(cmd_parms *cmd, void *d, const char *arg)
{
    seckill_server_conf *c = conf_of(cmd);
    const char *err = readable_file(cmd, arg, &c->secret_file);
    char *buf;
    apr_size_t n;
    apr_file_t *f;
    if (err)
        return err;
    buf = apr_palloc(cmd->pool, SECRET_MAX + 1);
    if (apr_file_open(&f, c->secret_file, APR_FOPEN_READ, 0, cmd->pool) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: cannot read '%s'", cmd->cmd->name, c->secret_file);
    apr_file_read_full(f, buf, SECRET_MAX + 1, &n);
    apr_file_close(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n < SECRET_MIN || n > SECRET_MAX)
        return apr_psprintf(cmd->pool, "%s: '%s' must hold %d to %d bytes of secret (has %lu)",
                            cmd->cmd->name, c->secret_file, SECRET_MIN, SECRET_MAX,
                            (unsigned long)n);
    c->secret = buf;
    c->secret_len = n;
    return NULL;
}

static const char *set_node_id(cmd_parms *cmd, void *d, const char *arg)
{
    return parse_int(cmd, arg, 0, 31, &conf_of(cmd)->node_id);
}

static const char *set_rate_limit(cmd_parms *cmd, void *d, const char *count, const char *secs)
{
    seckill_server_conf *c = conf_of(cmd);
    const char *err = parse_int(cmd, count, 0, 1000000, &c->rate_limit);
    if (!err)
        err = parse_int(cmd, secs ? secs : "1", 1, 3600, &c->rate_window);
    return err;
}

static const char *set_user_limit(cmd_parms *cmd, void *d, const char *arg)
{
    return parse_int(cmd, arg, 1, 1000, &conf_of(cmd)->user_limit);
}

static const char *set_pay_timeout(cmd_parms *cmd, void *d, const char *arg)
{
    return parse_int(cmd, arg, 1, 86400, &conf_of(cmd)->pay_timeout);
}

static const char *set_listing_cache(cmd_parms *cmd, void *d, const char *arg)
{
    return parse_int(cmd, arg, 0, 60000, &conf_of(cmd)->listing_cache_ms);
}

static const char *set_identity(cmd_parms *cmd, void *d, const char *arg)
{
    seckill_server_conf *c = conf_of(cmd);
    if (!strcasecmp(arg, "cookie"))
        c->identity = SECKILL_ID_COOKIE;
    else if (!strcasecmp(arg, "remote_user"))
        c->identity = SECKILL_ID_REMOTE_USER;
    else if (!strcasecmp(arg, "ip"))
        c->identity = SECKILL_ID_IP;
    else
        return apr_psprintf(cmd->pool, "%s: '%s' is not one of cookie, remote_user, ip",
                            cmd->cmd->name, arg);
    return NULL;
}

static const char *set_dir(cmd_parms *cmd, void *d, const char *arg)
{
    seckill_server_conf *c = conf_of(cmd);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_finfo_t fi;
    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS ||
        fi.filetype != APR_DIR)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a directory", cmd->cmd->name,
                            path ? path : arg);
    if (cmd->info == (void *)1)
        c->template_dir = path;
    else
        c->lua_dir = path;
    return NULL;
}

static const char *set_http_url(cmd_parms *cmd, const char *arg, const char **out)
{
    apr_uri_t u;
    if (apr_uri_parse(cmd->pool, arg, &u) != APR_SUCCESS || !u.scheme || !u.hostname ||
        (strcasecmp(u.scheme, "http") && strcasecmp(u.scheme, "https")))
        return apr_psprintf(cmd->pool, "%s: '%s' is not an http(s):// URL", cmd->cmd->name, arg);
    *out = arg;
    return NULL;
}

static apr_status_t free_key(void *key)
{
    EVP_PKEY_free(key);
    return APR_SUCCESS;
}

/* An RSA key file in any form Alipay's console or openssl hands out, loaded now so that
 * `apachectl -t` names a wrong or unreadable key. */
static const char *key_file(cmd_parms *cmd, const char *arg, int private, const char **path,
                            EVP_PKEY **key)
{
    char err[512];
    const char *bad = readable_file(cmd, arg, path);
    if (bad)
        return bad;
    *key = private ? seckill_alipay_load_private_key(*path, err, sizeof err)
                   : seckill_alipay_load_public_key(*path, err, sizeof err);
    if (!*key)
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    apr_pool_cleanup_register(cmd->pool, *key, free_key, apr_pool_cleanup_null);
    return NULL;
}

static const char *set_alipay(cmd_parms *cmd, void *d, const char *arg)
{
    seckill_server_conf *c = conf_of(cmd);
    switch ((int)(apr_uintptr_t)cmd->info) {
    case 0:
        if (strspn(arg, "0123456789") != strlen(arg) || strlen(arg) > 32)
            return apr_psprintf(cmd->pool, "%s: '%s' is not an Alipay app id (digits)",
                                cmd->cmd->name, arg);
        c->alipay_app_id = arg;
        return NULL;
    case 1:
        return set_http_url(cmd, arg, &c->alipay_gateway);
    case 2:
        return key_file(cmd, arg, 1, &c->alipay_app_private_key, &c->alipay_app_pkey);
    case 3:
        return key_file(cmd, arg, 0, &c->alipay_public_key, &c->alipay_pub_pkey);
    case 4:
        if (strspn(arg, "0123456789") != strlen(arg) || strlen(arg) > 32)
            return apr_psprintf(cmd->pool, "%s: '%s' is not an Alipay seller id (digits)",
                                cmd->cmd->name, arg);
        c->alipay_seller_id = arg;
        return NULL;
    case 5:
        return set_http_url(cmd, arg, &c->alipay_notify_url);
    default:
        return set_http_url(cmd, arg, &c->alipay_return_url);
    }
}

#define RSRC RSRC_CONF
const command_rec seckill_cmds[] = {
    AP_INIT_TAKE1("SeckillRedis", set_redis, NULL, RSRC,
                  "Redis server: redis://[:password@]host:port[/db]"),
    AP_INIT_TAKE1("SeckillMySQL", set_mysql, NULL, RSRC,
                  "MySQL/MariaDB server: mysql://user:password@host:port/database"),
    AP_INIT_TAKE1("SeckillAMQP", set_amqp, NULL, RSRC,
                  "RabbitMQ server: amqp://user:password@host:port/vhost"),
    AP_INIT_TAKE1("SeckillRedisPoolSize", set_pool, (void *)1, RSRC,
                  "Most Redis connections one httpd child keeps (default 64)"),
    AP_INIT_TAKE1("SeckillMySQLPoolSize", set_pool, (void *)2, RSRC,
                  "Most MySQL connections one httpd child keeps (default 16)"),
    AP_INIT_TAKE1("SeckillAMQPPoolSize", set_pool, (void *)3, RSRC,
                  "RabbitMQ publishers of one httpd child, each a thread (default 1)"),
    AP_INIT_TAKE1("SeckillAMQPTimeout", set_timeout, (void *)3, RSRC,
                  "RabbitMQ connect and publisher-confirm timeout in milliseconds (default 3000)"),
    AP_INIT_TAKE1("SeckillRedisTimeout", set_timeout, (void *)1, RSRC,
                  "Redis connect and command timeout in milliseconds (default 1000)"),
    AP_INIT_TAKE1("SeckillMySQLTimeout", set_timeout, (void *)2, RSRC,
                  "MySQL connect, read and write timeout in seconds (default 3)"),
    AP_INIT_TAKE1("SeckillSecretFile", set_secret, NULL, RSRC,
                  "File with the shared secret (32+ bytes) for cookies, CSRF and order tokens"),
    AP_INIT_TAKE1("SeckillNodeId", set_node_id, NULL, RSRC,
                  "This httpd node's snowflake id, 0 to 31, distinct per machine"),
    AP_INIT_TAKE12("SeckillRateLimit", set_rate_limit, NULL, RSRC,
                   "Buys allowed per shopper and product per window: COUNT [SECONDS]; 0 = off"),
    AP_INIT_TAKE1("SeckillUserLimit", set_user_limit, NULL, RSRC,
                  "Units of one product one shopper may buy (default 1)"),
    AP_INIT_TAKE1("SeckillPayTimeout", set_pay_timeout, NULL, RSRC,
                  "Seconds an order may stay unpaid before it is cancelled (default 300)"),
    AP_INIT_TAKE1("SeckillListingCache", set_listing_cache, NULL, RSRC,
                  "Milliseconds a child serves a rendered listing again (default 250; 0 = off)"),
    AP_INIT_TAKE1("SeckillIdentity", set_identity, NULL, RSRC,
                  "How shoppers are identified: cookie (default), remote_user or ip"),
    AP_INIT_TAKE1("SeckillTemplateDir", set_dir, (void *)1, RSRC,
                  "Folder of the page templates (*.html, mustache)"),
    AP_INIT_TAKE1("SeckillLuaDir", set_dir, (void *)2, RSRC, "Folder of the Redis scripts (*.lua)"),
    AP_INIT_TAKE1("SeckillAlipayAppId", set_alipay, (void *)0, RSRC, "Alipay Open Platform app id"),
    AP_INIT_TAKE1("SeckillAlipayGateway", set_alipay, (void *)1, RSRC,
                  "Alipay gateway URL (sandbox, production or the local stand-in)"),
    AP_INIT_TAKE1("SeckillAlipayAppPrivateKey", set_alipay, (void *)2, RSRC,
                  "PEM file with the app's RSA private key"),
    AP_INIT_TAKE1("SeckillAlipayPublicKey", set_alipay, (void *)3, RSRC,
                  "PEM file with Alipay's RSA public key"),
    AP_INIT_TAKE1("SeckillAlipaySellerId", set_alipay, (void *)4, RSRC,
                  "Alipay seller id that notifies must carry (optional)"),
    AP_INIT_TAKE1("SeckillAlipayNotifyUrl", set_alipay, (void *)5, RSRC,
                  "Public URL of /alipay/notify/ that Alipay posts to"),
    AP_INIT_TAKE1("SeckillAlipayReturnUrl", set_alipay, (void *)6, RSRC,
                  "Public URL of /result/ that Alipay sends the shopper back to"),
    AP_INIT_TAKE1("SeckillAlipayTimeout", set_timeout, (void *)4, RSRC,
                  "Alipay gateway call timeout in milliseconds (default 10000)"),
    {NULL}};
