/* mod_seckill's per-server configuration: the directives (command_rec table in config.c),
 * each checked when the config is read so `apachectl -t` names the directive and the
 * problem, and the merge of a virtual host over the main server. */
#ifndef SECKILL_CONFIG_H
#define SECKILL_CONFIG_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "alipay_api.h"
#include "endpoint.h"

#define SECKILL_UNSET -1

typedef enum { SECKILL_ID_COOKIE = 0, SECKILL_ID_REMOTE_USER, SECKILL_ID_IP } seckill_identity_mode;

typedef struct seckill_runtime seckill_runtime;

typedef struct {
    seckill_endpoint *redis;
    seckill_endpoint *mysql;
    seckill_endpoint *amqp;
    int redis_pool_max;
    int mysql_pool_max;
    int amqp_pool_max;
    int redis_timeout_ms;
    int amqp_timeout_ms;
    int mysql_timeout_s;
    const char *secret_file;
    const char *secret; /* file contents, >= 32 bytes */
    apr_size_t secret_len;
    int node_id;
    int rate_limit;  /* requests per window per shopper and product; 0 = off */
    int rate_window; /* seconds */
    int user_limit;
    int pay_timeout;
    int identity;
    int listing_cache_ms; /* a child's rendered listing is served again this long; 0 = off */
    const char *template_dir;
    const char *lua_dir;
    const char *alipay_app_id;
    const char *alipay_gateway;
    const char *alipay_app_private_key;
    const char *alipay_public_key;
    const char *alipay_seller_id;
    const char *alipay_notify_url;
    const char *alipay_return_url;
    EVP_PKEY *alipay_app_pkey; /* loaded when the directive is read: -t reports a bad key */
    EVP_PKEY *alipay_pub_pkey;
    int alipay_timeout_ms;
    seckill_alipay_client *alipay; /* NULL: payment is not configured here */
    seckill_runtime *rt;           /* templates, scripts, pools: set in post_config / child_init */
} seckill_server_conf;

extern module AP_MODULE_DECLARE_DATA seckill_module;
#ifndef SECKILL_MODULE_FILE
/* Log lines of every file carry the module's name ([seckill:warn]). */
APLOG_USE_MODULE(seckill);
#endif
extern const command_rec seckill_cmds[];

void *seckill_config_create(apr_pool_t *p, server_rec *s);
void *seckill_config_merge(apr_pool_t *p, void *base, void *add);
/* Fills defaults after the whole config is read. NULL ok, else a message for the log. */
const char *seckill_config_finalize(apr_pool_t *p, server_rec *s, seckill_server_conf *c);

static inline seckill_server_conf *seckill_conf(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &seckill_module);
}

#endif
