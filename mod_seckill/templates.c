#include "templates.h"

#include "apr_file_info.h"
#include "apr_file_io.h"
#include "apr_strings.h"
#include "http_log.h"
#include "http_protocol.h"
#include "util_filter.h"

#include "config.h"
#include "mustache.h"
#include "runtime.h"

#define TEMPLATE_MAX (1 << 20)

static const char *load_one(apr_pool_t *p, const char *path, seckill_tmpl **out)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    char *text;
    const char *err = NULL;

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS)
        return apr_psprintf(p, "cannot open template %s", path);
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS || fi.size > TEMPLATE_MAX) {
        apr_file_close(f);
        return apr_psprintf(p, "template %s is too large", path);
    }
    n = (apr_size_t)fi.size;
    text = apr_palloc(p, n + 1);
    if (n && apr_file_read_full(f, text, n, &n) != APR_SUCCESS) {
        apr_file_close(f);
        return apr_psprintf(p, "cannot read template %s", path);
    }
    apr_file_close(f);
    text[n] = 0;
    *out = seckill_mustache_compile(p, text, n, &err);
    if (!*out)
        return apr_psprintf(p, "template %s: %s", path, err ? err : "syntax error");
    return NULL;
}

const char *seckill_templates_load(apr_pool_t *p, const char *dir, apr_hash_t **out)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_hash_t *h = apr_hash_make(p);

    if (apr_dir_open(&d, dir, p) != APR_SUCCESS)
        return apr_psprintf(p, "cannot open template folder %s", dir);
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS) {
        size_t len = strlen(fi.name);
        seckill_tmpl *t;
        const char *err;
        if (fi.filetype != APR_REG || len <= 5 || strcmp(fi.name + len - 5, ".html") != 0)
            continue;
        err = load_one(p, apr_pstrcat(p, dir, "/", fi.name, NULL), &t);
        if (err) {
            apr_dir_close(d);
            return err;
        }
        apr_hash_set(h, apr_pstrndup(p, fi.name, len - 5), len - 5, t);
    }
    apr_dir_close(d);
    *out = h;
    return NULL;
}

static const seckill_tmpl *partial(void *ctx, const char *name)
{
    return apr_hash_get(ctx, name, APR_HASH_KEY_STRING);
}

typedef struct {
    apr_bucket_brigade *bb;
} sink;

static void write_bb(void *ctx, const char *s, size_t n)
{
    sink *k = ctx;
    apr_brigade_write(k->bb, NULL, NULL, s, n);
}

int seckill_template_render_buf(request_rec *r, const char *name, const seckill_value *view,
                                seckill_buf *out)
{
    apr_hash_t *all = seckill_conf(r->server)->rt->templates;
    const seckill_tmpl *t = apr_hash_get(all, name, APR_HASH_KEY_STRING);

    if (!t) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0301: template '%s.html' is missing", name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (seckill_mustache_render(t, view, partial, all, seckill_buf_write, out, r->pool) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0302: template '%s' failed to render", name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

int seckill_template_render(request_rec *r, const char *name, const seckill_value *view)
{
    apr_hash_t *all = seckill_conf(r->server)->rt->templates;
    const seckill_tmpl *t = apr_hash_get(all, name, APR_HASH_KEY_STRING);
    sink k;

    if (!t) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0301: template '%s.html' is missing", name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    k.bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    if (seckill_mustache_render(t, view, partial, all, write_bb, &k, r->pool) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "SK0302: template '%s' failed to render", name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    APR_BRIGADE_INSERT_TAIL(k.bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade(r->output_filters, k.bb) == APR_SUCCESS ? OK : AP_FILTER_ERROR;
}
