#include "handlers.h"

#include "apr_strings.h"
#include "http_protocol.h"

#include "buy.h"
#include "fmt.h"
#include "body.h"
#include "form.h"
#include "identity.h"
#include "respond.h"
#include "stats.h"

#define BUY_BODY_MAX 4096

static int refuse(request_rec *r, int status, const char *code, const char *msg)
{
    seckill_stats_add(r, seckill_stat_of_refusal(status));
    return seckill_respond_error(r, status, code, msg);
}

int seckill_handle_buy(request_rec *r, const char *id_text)
{
    long long pid;
    const char *user, *csrf = NULL;
    seckill_buy_result res;
    seckill_value *v;
    int rc;

    if (seckill_parse_id(id_text, &pid) != 0)
        return refuse(r, HTTP_BAD_REQUEST, "bad_request", "商品编号无效");
    if (r->method_number != M_POST) {
        apr_table_setn(r->headers_out, "Allow", "POST");
        return refuse(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "抢购只支持 POST");
    }
    if (!(user = seckill_identity(r, 0)))
        return refuse(r, HTTP_FORBIDDEN, "forbidden", "请先打开商品页面再抢购（缺少身份凭证）");
    rc = seckill_form_field(r, "csrf_token", BUY_BODY_MAX, &csrf);
    if (rc != OK)
        return refuse(r, rc, "bad_request", "请求内容无效或过大");
    if (!seckill_csrf_ok(r, user, csrf))
        return refuse(r, HTTP_FORBIDDEN, "forbidden", "页面已过期，请刷新后重试");

    seckill_buy(r, user, pid, &res);
    seckill_stats_add(r, SECKILL_STAT_OF_BUY(res.code));

    v = seckill_v_obj(r->pool);
    seckill_v_set_bool(v, "ok", res.code == SECKILL_BUY_OK);
    seckill_v_set_str(v, "code", seckill_buy_code_word(res.code));
    seckill_v_set_str(v, "msg", seckill_buy_message(res.code));
    seckill_v_set_int(v, "status", seckill_buy_http_status(res.code));
    seckill_v_set_int(v, "product_id", pid);
    /* the result page words each outcome: {{#is_sold_out}}…{{/is_sold_out}} */
    seckill_v_set_bool(v, apr_pstrcat(r->pool, "is_", seckill_buy_code_word(res.code), NULL), 1);
    seckill_v_set_str(v, "now", seckill_iso8601(r->pool, (time_t)apr_time_sec(r->request_time)));
    if (res.code == SECKILL_BUY_OK) {
        char *oid = apr_palloc(r->pool, 24), *refresh = apr_palloc(r->pool, 48);
        seckill_fmt(oid, 24, "%llu", (unsigned long long)res.order_id);
        seckill_fmt(refresh, 48, "2;url=/order/%llu", (unsigned long long)res.order_id);
        seckill_v_set_str(v, "order_id", oid);
        /* for the page's 去支付 form once the order is written; without a script the page
         * moves on to the order's own page, which has the same form */
        seckill_v_set_str(v, "csrf_token", seckill_csrf_token(r, user));
        seckill_v_set_str(v, "noscript_refresh", refresh);
    }
    if (res.code == SECKILL_BUY_NOT_STARTED && res.wait_ms > 0) {
        long long secs = (res.wait_ms + 999) / 1000;
        seckill_v_set_str(
            v, "starts_at",
            seckill_iso8601(r->pool, (time_t)apr_time_sec(r->request_time) + (time_t)secs));
        seckill_v_set_str(v, "starts_in", seckill_hms(r->pool, secs));
    }
    seckill_v_set_str(v, "title", "抢购结果");
    if (res.code == SECKILL_BUY_RATE_LIMITED) {
        long long secs = (res.wait_ms + 999) / 1000;
        apr_table_setn(r->headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)secs));
        seckill_v_set_int(v, "retry_after", secs);
    }
    return seckill_respond(r, seckill_buy_http_status(res.code), "result", v);
}
