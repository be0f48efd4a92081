/* SetHandler seckill-admin: the shop's back office (the seed's Django admin). Pages and a
 * JSON API on the same URLs, under whatever path the handler is mounted (README "Admin"):
 *   GET  <base>  <base>products   products, filtered     POST <base>products      create
 *   GET  <base>products/new       the create form
 *   GET  <base>products/{id}      one product / its form  POST|PUT <base>products/{id} edit
 *   GET  <base>orders             orders, filtered
 * Access is httpd's own (Require); without an authenticated user nothing is served. */
#include "handlers.h"

#include "apr_strings.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

#include <json-c/json.h>

#include "admin.h"
#include "admin_filter.h"
#include "admin_view.h"
#include "body.h"
#include "config.h"
#include "form.h"
#include "respond.h"
#include "runtime.h"

#define ADMIN_BODY_MAX (16 * 1024)
#define JSON_DEPTH 8

typedef enum { R_NONE, R_INDEX, R_PRODUCTS, R_PRODUCT_NEW, R_PRODUCT, R_ORDERS } route;

typedef struct {
    request_rec *r;
    const char *base; /* the admin's path, ending in '/' */
    int json;         /* answer JSON: Accept or Content-Type says application/json */
} admin_req;

static int is_json_type(const char *ct)
{
    return ct && strncasecmp(ct, "application/json", 16) == 0 && (!ct[16] || ct[16] == ';');
}

/* Which page, and the admin's base path: the part of the URI before the route's words. */
static route route_of(request_rec *r, const char **base, const char **id)
{
    char *uri = apr_pstrdup(r->pool, r->uri), *last, *prev;
    size_t n = strlen(uri);
    int slash = n > 0 && uri[n - 1] == '/';
    if (slash)
        uri[--n] = 0;
    if (n == 0 || uri[n - 1] == '/' || !(last = strrchr(uri, '/')))
        return slash && n == 0 ? R_INDEX : R_NONE;
    *last++ = 0;
    if (!strcmp(last, "orders") || !strcmp(last, "products")) {
        *base = apr_pstrcat(r->pool, uri, "/", NULL);
        return last[0] == 'o' ? R_ORDERS : R_PRODUCTS;
    }
    prev = strrchr(uri, '/');
    if (prev && !strcmp(prev + 1, "products")) {
        *prev = 0;
        *base = apr_pstrcat(r->pool, uri, "/", NULL);
        *id = last;
        return !strcmp(last, "new") ? R_PRODUCT_NEW : R_PRODUCT;
    }
    if (!slash)
        return R_NONE;
    *base = r->uri;
    return R_INDEX;
}

/* Every view carries the admin's base, user and CSRF token (pages put it in their forms). */
static int render(admin_req *a, int status, const char *tmpl, seckill_value *v)
{
    /* the admin's forms are never framed by another site (clickjacking) */
    apr_table_setn(a->r->headers_out, "X-Frame-Options", "DENY");
    apr_table_setn(a->r->headers_out, "Content-Security-Policy", "frame-ancestors 'none'");
    apr_table_setn(a->r->headers_out, "Referrer-Policy", "same-origin");
    seckill_v_set_str(v, "base", a->base);
    seckill_v_set_str(v, "admin_user", a->r->user);
    seckill_v_set_str(v, "csrf_token", seckill_admin_csrf_token(a->r));
    return seckill_respond_as(a->r, status, tmpl, v, a->json);
}

static int error(admin_req *a, int status, const char *code, const char *msg)
{
    return render(a, status, "admin_message",
                  seckill_admin_error_view(a->r, a->base, status, code, msg, NULL));
}

static int not_allowed(admin_req *a, const char *allow)
{
    apr_table_setn(a->r->headers_out, "Allow", allow);
    return error(a, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "不支持该请求方法");
}

static int list_products(admin_req *a)
{
    request_rec *r = a->r;
    seckill_product_filter f;
    apr_array_header_t *rows;
    const char *bad =
        seckill_product_filter_parse(r->pool, r->args, (time_t)apr_time_sec(r->request_time), &f);
    int rc;
    if (bad)
        return error(a, HTTP_BAD_REQUEST, "bad_request", bad);
    if ((rc = seckill_admin_products(r, &f, &rows)) != OK)
        return error(a, rc, "unavailable", "系统繁忙，请稍后再试");
    seckill_admin_live_stock(r, (seckill_admin_product *)rows->elts, rows->nelts);
    return render(a, HTTP_OK, "admin_products", seckill_admin_products_view(r, a->base, &f, rows));
}

static int list_orders(admin_req *a)
{
    request_rec *r = a->r;
    seckill_order_filter f;
    apr_array_header_t *rows;
    const char *bad = seckill_order_filter_parse(r->pool, r->args, &f);
    int rc;
    if (bad)
        return error(a, HTTP_BAD_REQUEST, "bad_request", bad);
    if ((rc = seckill_admin_orders(r, &f, &rows)) != OK)
        return error(a, rc, "unavailable", "系统繁忙，请稍后再试");
    return render(a, HTTP_OK, "admin_orders", seckill_admin_orders_view(r, a->base, &f, rows));
}

/* The create form, with a sale in the next full hour as a start. */
static int new_form(admin_req *a)
{
    request_rec *r = a->r;
    seckill_product_input in;
    time_t start = ((time_t)apr_time_sec(r->request_time) / 3600 + 1) * 3600;
    char *s = apr_palloc(r->pool, 20), *e = apr_palloc(r->pool, 20);
    seckill_datetime_local(start, s);
    seckill_datetime_local(start + 2 * 3600, e);
    memset(&in, 0, sizeof in);
    in.text[SECKILL_PF_IMAGE] = SECKILL_DEFAULT_IMAGE;
    in.text[SECKILL_PF_START] = s;
    in.text[SECKILL_PF_END] = e;
    return render(a, HTTP_OK, "admin_product",
                  seckill_admin_form_view(r, a->base, &in, NULL, NULL, NULL));
}

static int show_product(admin_req *a, long long id)
{
    request_rec *r = a->r;
    seckill_admin_product cur;
    seckill_product_input in;
    const char *msg = NULL;
    int rc = seckill_admin_product_get(r, id, &cur);
    if (rc == HTTP_NOT_FOUND)
        return error(a, rc, "not_found", "商品不存在");
    if (rc != OK)
        return error(a, rc, "unavailable", "系统繁忙，请稍后再试");
    seckill_admin_live_stock(r, &cur, 1);
    if (a->json) {
        seckill_value *v = seckill_v_obj(r->pool);
        seckill_v_set_bool(v, "ok", 1);
        seckill_v_set(v, "product", seckill_admin_product_view(r, a->base, &cur));
        return render(a, HTTP_OK, "admin_product", v);
    }
    if (r->args && !strcmp(r->args, "created=1"))
        msg = "商品已创建";
    else if (r->args && !strcmp(r->args, "saved=1"))
        msg = "修改已保存";
    memset(&in, 0, sizeof in);
    seckill_admin_input_of(r->pool, &cur, &in);
    return render(a, HTTP_OK, "admin_product",
                  seckill_admin_form_view(r, a->base, &in, NULL, &cur, msg));
}

/* ---- request bodies ----------------------------------------------------------------- */

/* Output fields a client may send back unchanged (GET, edit, PUT): ignored. */
static int read_only(const char *k)
{
    static const char *const ro[] = {
        "id",        "stock_left", "sold",    "live_stock", "status", "status_text", "start_label",
        "end_label", "slot",       "created", "updated",    "url",    NULL};
    for (int i = 0; ro[i]; i++)
        if (!strcmp(k, ro[i]))
            return 1;
    return 0;
}

static int field_of(const char *k)
{
    for (int f = 0; f < SECKILL_PF__COUNT; f++)
        if (!strcmp(k, seckill_pfield_names[f]))
            return f;
    return -1;
}

/* A JSON object into in. OK, 400 (msg) or 422 (errors holds a message per bad key). */
static int json_input(request_rec *r, const char *body, size_t len, seckill_product_input *in,
                      seckill_value *errors, const char **msg)
{
    struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
    struct json_object *o;
    size_t used;
    if (!tok)
        return HTTP_INTERNAL_SERVER_ERROR;
    /* RFC 8259 only: no trailing commas, single quotes or bare words */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    o = json_tokener_parse_ex(tok, body, (int)len);
    used = (size_t)json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (o && used < len && strchr(" \t\r\n", body[used]))
        used++;
    if (!o || used != len || !json_object_is_type(o, json_type_object)) {
        if (o)
            json_object_put(o);
        *msg = "请求体须为一个 JSON 对象";
        return HTTP_BAD_REQUEST;
    }
    json_object_object_foreach(o, key, val)
    {
        int f = field_of(key);
        json_type t = json_object_get_type(val);
        if (f < 0) {
            if (!read_only(key))
                seckill_v_set_str(errors, key, "未知字段");
            continue;
        }
        if (t == json_type_null)
            continue; /* as not given */
        if (t == json_type_string || ((t == json_type_int || t == json_type_double) &&
                                      (f == SECKILL_PF_STOCK || f == SECKILL_PF_BASE_PRICE ||
                                       f == SECKILL_PF_SECKILL_PRICE))) {
            const char *s = json_object_get_string(val);
            /* a \u0000 inside would cut the C string short: refuse it */
            if (t == json_type_string && strlen(s) != (size_t)json_object_get_string_len(val))
                seckill_v_set_str(errors, key, "含有无效字符");
            else
                in->text[f] = apr_pstrdup(r->pool, s);
            continue;
        }
        seckill_v_set_str(errors, key, f == SECKILL_PF_STOCK ? "须为整数" : "须为字符串");
    }
    json_object_put(o);
    if (seckill_v_len(errors) > 0) {
        *msg = "请修改标出的字段";
        return HTTP_UNPROCESSABLE_ENTITY;
    }
    return OK;
}

static int form_input(request_rec *r, const char *body, size_t len, seckill_product_input *in,
                      const char **csrf, const char **msg)
{
    seckill_form_pair *pairs;
    int n = seckill_form_parse(r->pool, body, len, &pairs);
    if (n < 0) {
        *msg = "表单编码无效";
        return HTTP_BAD_REQUEST;
    }
    for (int i = 0; i < n; i++) {
        int f = field_of(pairs[i].key);
        const char **slot = f >= 0                                ? &in->text[f]
                            : !strcmp(pairs[i].key, "csrf_token") ? csrf
                                                                  : NULL;
        if (!slot)
            continue;
        if (*slot) {
            *msg = apr_psprintf(r->pool, "字段 %s 重复", pairs[i].key);
            return HTTP_BAD_REQUEST;
        }
        *slot = pairs[i].value;
    }
    return OK;
}

/* Reads and checks a POST/PUT: body within the cap, the CSRF token, then the fields. */
static int read_input(admin_req *a, seckill_product_input *in, seckill_value *errors,
                      const char **msg)
{
    request_rec *r = a->r;
    const char *ct = apr_table_get(r->headers_in, "Content-Type"), *csrf = NULL;
    int json = is_json_type(ct);
    char *body;
    apr_size_t len;
    int rc;

    memset(in, 0, sizeof *in);
    if (!json && (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)) {
        *msg = "请求体须为 application/json 或表单";
        return HTTP_UNSUPPORTED_MEDIA_TYPE;
    }
    if ((rc = seckill_body_read(r, ADMIN_BODY_MAX, &body, &len)) != OK) {
        *msg = rc == HTTP_REQUEST_ENTITY_TOO_LARGE ? "请求体过大（最多 16 KB）" : "请求体读取失败";
        return rc;
    }
    if (!json && (rc = form_input(r, body, len, in, &csrf, msg)) != OK)
        return rc;
    if (!seckill_admin_csrf_ok(r, csrf)) {
        *msg = "页面已过期或缺少管理令牌（X-CSRF-Token），请刷新后重试";
        return HTTP_FORBIDDEN;
    }
    return json ? json_input(r, body, len, in, errors, msg) : OK;
}

static int input_refused(admin_req *a, int rc, const char *msg, seckill_value *errors)
{
    static const struct {
        int status;
        const char *code;
    } codes[] = {{HTTP_BAD_REQUEST, "bad_request"},
                 {HTTP_FORBIDDEN, "forbidden"},
                 {HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large"},
                 {HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"},
                 {HTTP_UNPROCESSABLE_ENTITY, "invalid"}};
    const char *code = "bad_request";
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        if (codes[i].status == rc)
            code = codes[i].code;
    return render(a, rc, "admin_message",
                  seckill_admin_error_view(a->r, a->base, rc, code, msg,
                                           seckill_v_len(errors) ? errors : NULL));
}

/* The answer to a create or an edit: JSON with the product, or a redirect to its page; a
 * form with errors is shown again with the values as typed. */
static int saved(admin_req *a, const seckill_admin_saved *s, int editing)
{
    request_rec *r = a->r;
    const char *url =
        apr_psprintf(r->pool, "%sproducts/%" APR_INT64_T_FMT, a->base, (apr_int64_t)s->id);
    seckill_admin_product cur;
    seckill_value *v;

    if (s->status == HTTP_UNPROCESSABLE_ENTITY && !a->json) {
        int have = editing && seckill_admin_product_get(r, s->id, &cur) == OK;
        if (have)
            seckill_admin_live_stock(r, &cur, 1);
        return render(a, s->status, "admin_product",
                      seckill_admin_form_view(r, a->base, &s->values, &s->errors,
                                              have ? &cur : NULL, s->msg));
    }
    if (s->status != HTTP_OK && s->status != HTTP_CREATED)
        return render(a, s->status, "admin_message",
                      seckill_admin_error_view(r, a->base, s->status,
                                               s->status == HTTP_UNPROCESSABLE_ENTITY ? "invalid"
                                               : s->status == HTTP_NOT_FOUND          ? "not_found"
                                                                             : "unavailable",
                                               s->msg,
                                               s->status == HTTP_UNPROCESSABLE_ENTITY
                                                   ? seckill_admin_errors_obj(r->pool, &s->errors)
                                                   : NULL));
    if (!a->json) {
        apr_table_setn(
            r->headers_out, "Location",
            ap_construct_url(
                r->pool, apr_pstrcat(r->pool, url, editing ? "?saved=1" : "?created=1", NULL), r));
        return HTTP_SEE_OTHER;
    }
    if (s->status == HTTP_CREATED)
        apr_table_setn(r->headers_out, "Location", ap_construct_url(r->pool, url, r));
    v = seckill_v_obj(r->pool);
    seckill_v_set_bool(v, "ok", 1);
    seckill_v_set_int(v, "id", s->id);
    seckill_v_set_str(v, "msg", s->msg);
    seckill_v_set_bool(v, "cached", s->cached);
    if (seckill_admin_product_get(r, s->id, &cur) == OK) {
        seckill_admin_live_stock(r, &cur, 1);
        seckill_v_set(v, "product", seckill_admin_product_view(r, a->base, &cur));
    }
    return render(a, s->status, "admin_message", v);
}

static int write_product(admin_req *a, long long id)
{
    seckill_product_input in;
    seckill_value *errors = seckill_v_obj(a->r->pool);
    seckill_admin_saved s;
    const char *msg = NULL;
    int rc = read_input(a, &in, errors, &msg);
    if (rc != OK)
        return input_refused(a, rc, msg, errors);
    if (id)
        seckill_admin_update(a->r, id, &in, &s);
    else
        seckill_admin_create(a->r, &in, &s);
    return saved(a, &s, id != 0);
}

static int dispatch(admin_req *a, route rt, const char *id_text)
{
    request_rec *r = a->r;
    int m = r->method_number;
    long long id = 0;
    switch (rt) {
    case R_INDEX:
        return m == M_GET ? list_products(a) : not_allowed(a, "GET, HEAD");
    case R_PRODUCTS:
        if (m == M_GET)
            return list_products(a);
        return m == M_POST ? write_product(a, 0) : not_allowed(a, "GET, HEAD, POST");
    case R_PRODUCT_NEW:
        return m == M_GET ? new_form(a) : not_allowed(a, "GET, HEAD");
    case R_PRODUCT:
        if (seckill_parse_id(id_text, &id) != 0)
            return error(a, HTTP_BAD_REQUEST, "bad_request", "商品编号无效");
        if (m == M_GET)
            return show_product(a, id);
        return m == M_POST || m == M_PUT ? write_product(a, id)
                                         : not_allowed(a, "GET, HEAD, POST, PUT");
    case R_ORDERS:
        return m == M_GET ? list_orders(a) : not_allowed(a, "GET, HEAD");
    default:
        return error(a, HTTP_NOT_FOUND, "not_found", "页面不存在");
    }
}

int seckill_admin_handler(request_rec *r)
{
    admin_req a;
    const char *id = NULL;
    route rt;
    if (!r->handler || strcmp(r->handler, "seckill-admin") != 0)
        return DECLINED;
    if (!seckill_conf(r->server)->rt) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SK1215: SetHandler seckill-admin needs SeckillRedis and SeckillMySQL");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    a.r = r;
    a.base = "/";
    a.json = seckill_wants_json(r) || is_json_type(apr_table_get(r->headers_in, "Content-Type"));
    rt = route_of(r, &a.base, &id);
    /* Never an open admin: a location without AuthType/Require has no user. */
    if (!r->user || !*r->user) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SK1216: SetHandler seckill-admin at %s has no authenticated user: "
                      "protect it with httpd's auth (AuthType, Require)",
                      r->uri);
        return error(&a, HTTP_FORBIDDEN, "forbidden", "管理后台需要登录（服务器未配置认证）");
    }
    if (r->method_number != M_GET && !seckill_conf(r->server)->secret) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "SK1217: the admin's forms need SeckillSecretFile (their CSRF token)");
        return error(&a, HTTP_SERVICE_UNAVAILABLE, "unavailable", "服务器未配置密钥，无法保存");
    }
    return dispatch(&a, rt, id);
}
