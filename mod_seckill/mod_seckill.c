/* mod_seckill: a flash-sale shop inside httpd. This file wires the module: hooks, the
 * startup that turns configuration into templates, scripts and per-child pools, and the
 * routing of `SetHandler seckill` requests to the handlers. */
#define SECKILL_MODULE_FILE
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include "ap_mpm.h"
#include "apr_strings.h"

#include <curl/curl.h>
#include <mysql.h>

#include "amqp_pool.h"
#include "config.h"
#include "handlers.h"
#include "listing_cache.h"
#include "mysql_pool.h"
#include "redis_pool.h"
#include "respond.h"
#include "redis_batch.h"
#include "runtime.h"
#include "stats.h"
#include "templates.h"

/* Virtual hosts that inherit every resource-defining setting share the main runtime. */
static int same_resources(const seckill_server_conf *a, const seckill_server_conf *b)
{
    return a->redis == b->redis && a->mysql == b->mysql && a->template_dir == b->template_dir &&
           a->lua_dir == b->lua_dir;
}

static const char *build_runtime(apr_pool_t *p, seckill_server_conf *c)
{
    seckill_runtime *rt = apr_pcalloc(p, sizeof *rt);
    const char *err = seckill_templates_load(p, c->template_dir, &rt->templates);
    if (!err)
        err = seckill_lua_load(p, c->lua_dir, "product_cache", &rt->product_cache);
    if (!err)
        err = seckill_lua_load(p, c->lua_dir, "buy", &rt->buy);
    if (!err)
        err = seckill_lua_load(p, c->lua_dir, "order_revoke", &rt->order_revoke);
    if (!err)
        err = seckill_lua_load(p, c->lua_dir, "order_restore", &rt->order_restore);
    if (!err)
        err = seckill_lua_load(p, c->lua_dir, "stock_adjust", &rt->stock_adjust);
    if (err)
        return err;
    c->rt = rt;
    return NULL;
}

static int seckill_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                               server_rec *s)
{
    seckill_server_conf *main_conf = seckill_conf(s);
    int daemons = 0;

    /* Order ids carry the child's scoreboard slot in 5 bits (lib/snowflake.h). */
    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &daemons) == APR_SUCCESS &&
        daemons > SECKILL_SNOWFLAKE_SLOTS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
                     "SK0105: ServerLimit is %d; mod_seckill needs it at most %d (order ids "
                     "carry the child's slot)",
                     daemons, SECKILL_SNOWFLAKE_SLOTS);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "SK0106: cannot initialise libcurl");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (mysql_library_init(0, NULL, NULL) != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, "SK0101: cannot initialise the MySQL library");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (server_rec *v = s; v; v = v->next) {
        seckill_server_conf *c = seckill_conf(v);
        const char *err = seckill_config_finalize(pconf, v, c);
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, v, "SK0102: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (!c->redis || !c->mysql)
            continue; /* the shop is not configured here: its handlers answer 500 */
        if (v != s && main_conf->rt && same_resources(c, main_conf)) {
            c->rt = main_conf->rt;
            continue;
        }
        if ((err = build_runtime(pconf, c)) != NULL) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, v, "SK0103: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    seckill_stats_init(s);
    ap_add_version_component(pconf, "mod_seckill/0.1");
    return OK;
}

static void seckill_child_init(apr_pool_t *pchild, server_rec *s)
{
    for (server_rec *v = s; v; v = v->next) {
        seckill_server_conf *c = seckill_conf(v);
        if (!c->rt || c->rt->redis)
            continue; /* not configured, or a shared runtime already has its pools */
        c->rt->redis = seckill_redis_pool_create(pchild, v, c);
        c->rt->mysql = seckill_mysql_pool_create(pchild, v, c);
        if (c->amqp)
            c->rt->amqp = seckill_amqp_pool_create(pchild, v, c);
        c->rt->soldout = seckill_soldout_create(pchild);
        c->rt->bloom = seckill_bloom_mirror_create(pchild);
        c->rt->listing = seckill_listing_cache_create(pchild);
        if (c->redis)
            c->rt->rbatch = seckill_redis_batch_create(pchild, v, c);
    }
}

/* The {id} of prefix{id} or prefix{id}/ (the trailing slash is optional), else NULL. */
static const char *path_id(request_rec *r, const char *prefix)
{
    size_t n = strlen(prefix);
    const char *id = r->uri + n, *slash;
    if (strncmp(r->uri, prefix, n) != 0 || !*id)
        return NULL;
    slash = strchr(id, '/');
    if (!slash)
        return id;
    if (slash[1] || slash == id)
        return NULL;
    return apr_pstrndup(r->pool, id, (apr_size_t)(slash - id));
}

/* SetHandler seckill-ping: a fixed answer touching no server, the benchmark's ceiling for
 * what a module handler can do on this httpd. */
static int seckill_ping_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, "seckill-ping") != 0)
        return DECLINED;
    ap_set_content_type(r, "text/plain");
    if (!r->header_only)
        ap_rputs("pong\n", r);
    return OK;
}

static int seckill_handler(request_rec *r)
{
    seckill_server_conf *c;
    const char *id;
    if (!r->handler || strcmp(r->handler, "seckill") != 0)
        return DECLINED;
    c = seckill_conf(r->server);
    if (!c->rt) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SK0104: SetHandler seckill needs SeckillRedis and SeckillMySQL");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (strcmp(r->uri, "/") == 0)
        return seckill_handle_listing(r);
    if (strcmp(r->uri, "/orders/") == 0 || strcmp(r->uri, "/orders") == 0)
        return seckill_handle_orders(r);
    if (strcmp(r->uri, "/result/") == 0 || strcmp(r->uri, "/result") == 0)
        return seckill_handle_result(r);
    if (strcmp(r->uri, "/alipay/notify/") == 0 || strcmp(r->uri, "/alipay/notify") == 0)
        return seckill_handle_notify(r);
    if ((id = path_id(r, "/order/pay/")) != NULL)
        return seckill_handle_pay(r, id);
    if ((id = path_id(r, "/order/cancel/")) != NULL)
        return seckill_handle_cancel(r, id);
    if ((id = path_id(r, "/buy/")) != NULL)
        return seckill_handle_buy(r, id);
    if ((id = path_id(r, "/order/")) != NULL)
        return seckill_handle_order(r, id);
    return seckill_respond_error(r, HTTP_NOT_FOUND, "not_found", "页面不存在");
}

/* The shop's answers are no files: where SetHandler names one of its handlers, the request
 * skips core's URI-to-file translation and storage mapping (the walk of <Directory> sections,
 * a .htaccess probe per path level, the stat of DocumentRoot/<uri>), as mod_proxy's requests
 * do; <Location> sections still apply. translate_name still sees the <Location> merge (httpd
 * resets it to the server's before map_to_storage), so it decides and marks r->filename. */
#define NO_FILE "seckill:"

static int seckill_translate_name(request_rec *r)
{
    core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    const char *err = NULL, *h;
    if (!d->expr_handler)
        return DECLINED;
    h = ap_expr_str_exec(r, d->expr_handler, &err);
    if (err || !h || (strcmp(h, "seckill") != 0 && strcmp(h, "seckill-ping") != 0))
        return DECLINED;
    r->filename = apr_pstrcat(r->pool, NO_FILE, r->uri, NULL);
    return OK;
}

static int seckill_map_to_storage(request_rec *r)
{
    return r->filename && strncmp(r->filename, NO_FILE, sizeof NO_FILE - 1) == 0 ? OK : DECLINED;
}

static void seckill_register_hooks(apr_pool_t *p)
{
    /* after mod_alias: its Redirect and Alias still apply to the shop's URIs */
    static const char *const after_alias[] = {"mod_alias.c", NULL};
    ap_hook_translate_name(seckill_translate_name, after_alias, NULL, APR_HOOK_FIRST);
    ap_hook_map_to_storage(seckill_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_post_config(seckill_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(seckill_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(seckill_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(seckill_ping_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(seckill_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(seckill_admin_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(seckill) = {
    STANDARD20_MODULE_STUFF,
    NULL,                  /* per-directory config */
    NULL,                  /* merge per-directory */
    seckill_config_create, /* per-server config */
    seckill_config_merge,  /* merge per-server */
    seckill_cmds,
    seckill_register_hooks,
    AP_MODULE_FLAG_NONE,
};
