/* Paying and cancelling: POST /order/pay/{id}, POST /order/cancel/{id}, the return page
 * GET /result/ and Alipay's POST /alipay/notify/. */
#include "handlers.h"

#include "apr_strings.h"
#include "http_log.h"
#include "http_protocol.h"

#include "alipay.h"
#include "body.h"
#include "cancel.h"
#include "form.h"
#include "identity.h"
#include "notify.h"
#include "payment.h"
#include "respond.h"
#include "stats.h"

#define FORM_BODY_MAX 4096
/* Alipay's notifies are 1-2 KB; fund_bill_list and a long subject stay far below this. */
#define NOTIFY_BODY_MAX 16384

/* 1 for the owner's POST with a valid CSRF token (order id and user set); else 0 with
 * *answer what the handler returns, the refusal sent. */
static int owner_post(request_rec *r, const char *id_text, unsigned long long *oid,
                      const char **user, int *answer)
{
    const char *csrf = NULL;
    int rc;
    if (seckill_parse_u64(id_text, oid) != 0) {
        *answer = seckill_respond_error(r, HTTP_BAD_REQUEST, "bad_request", "订单编号无效");
    } else if (r->method_number != M_POST) {
        apr_table_setn(r->headers_out, "Allow", "POST");
        *answer =
            seckill_respond_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "只支持 POST");
    } else if (!(*user = seckill_identity(r, 0))) {
        *answer = seckill_respond_error(r, HTTP_NOT_FOUND, "not_found", "订单不存在");
    } else if ((rc = seckill_form_field(r, "csrf_token", FORM_BODY_MAX, &csrf)) != OK) {
        *answer = seckill_respond_error(r, rc, "bad_request", "请求内容无效或过大");
    } else if (!seckill_csrf_ok(r, *user, csrf)) {
        *answer = seckill_respond_error(r, HTTP_FORBIDDEN, "forbidden", "页面已过期，请刷新后重试");
    } else {
        return 1;
    }
    return 0;
}

/* The answer to a pay or cancel that could not be done. */
static int not_done(request_rec *r, int rc, const char *code)
{
    if (rc == HTTP_NOT_FOUND)
        return seckill_respond_error(r, rc, "not_found", "订单不存在");
    if (rc == HTTP_CONFLICT && !strcmp(code, "paid"))
        return seckill_respond_error(r, rc, "paid", "订单已支付");
    if (rc == HTTP_CONFLICT && !strcmp(code, "cancelled"))
        return seckill_respond_error(r, rc, "cancelled", "订单已取消，不能支付");
    if (rc == HTTP_CONFLICT)
        return seckill_respond_error(r, rc, "expired", "支付时间已过，订单即将取消");
    if (code && !strcmp(code, "not_configured"))
        return seckill_respond_error(r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                     "暂不支持在线支付");
    return seckill_respond_error(r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                 "系统繁忙，请稍后再试");
}

int seckill_handle_pay(request_rec *r, const char *id_text)
{
    unsigned long long oid;
    const char *user, *url, *code;
    seckill_value *v;
    int rc;
    if (!owner_post(r, id_text, &oid, &user, &rc))
        return rc;
    if ((rc = seckill_pay_start(r, user, oid, &url, &code)) != OK)
        return not_done(r, rc, code);
    if (!seckill_wants_json(r)) {
        apr_table_setn(r->headers_out, "Location", url);
        return HTTP_MOVED_TEMPORARILY;
    }
    v = seckill_v_obj(r->pool);
    seckill_v_set_bool(v, "ok", 1);
    seckill_v_set(v, "order_id", seckill_v_strf(r->pool, "%llu", oid));
    seckill_v_set_str(v, "pay_url", url);
    return seckill_respond(r, HTTP_OK, NULL, v);
}

int seckill_handle_cancel(request_rec *r, const char *id_text)
{
    unsigned long long oid;
    const char *user, *code;
    seckill_value *v;
    int rc;
    if (!owner_post(r, id_text, &oid, &user, &rc))
        return rc;
    if ((rc = seckill_order_cancel(r, user, oid, &code)) != OK)
        return not_done(r, rc, code);
    if (!seckill_wants_json(r)) {
        apr_table_setn(r->headers_out, "Location", "/orders/");
        return HTTP_SEE_OTHER;
    }
    v = seckill_v_obj(r->pool);
    seckill_v_set_bool(v, "ok", 1);
    seckill_v_set(v, "order_id", seckill_v_strf(r->pool, "%llu", oid));
    seckill_v_set_str(v, "status", "cancelled");
    return seckill_respond(r, HTTP_OK, NULL, v);
}

static const char *result_text(const seckill_pay_outcome *o)
{
    if (!strcmp(o->state, "paid"))
        return "支付成功";
    if (!strcmp(o->state, "confirming"))
        return "支付宝已收款，正在确认订单…";
    if (!strcmp(o->state, "waiting"))
        return "支付处理中，尚未收到支付结果";
    if (o->refund == 1)
        return "订单已取消，付款已原路退回";
    if (o->refund == 0)
        return "订单已取消，付款将原路退回";
    return "订单已取消";
}

int seckill_handle_result(request_rec *r)
{
    seckill_form_pair *params;
    seckill_pay_outcome o;
    seckill_value *v;
    const char *user;
    int n, rc;

    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return seckill_respond_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                     "只支持 GET");
    }
    n = r->args ? seckill_form_parse_unique(r->pool, r->args, strlen(r->args), &params) : 0;
    if (n <= 0)
        return seckill_respond_error(r, HTTP_BAD_REQUEST, "bad_request", "支付结果参数无效");
    user = seckill_identity(r, 0);
    rc = user ? seckill_pay_result(r, user, params, n, &o) : HTTP_NOT_FOUND;
    if (rc == HTTP_BAD_REQUEST)
        return seckill_respond_error(r, rc, "bad_signature", "支付结果验证失败，请以订单状态为准");
    if (rc == HTTP_NOT_FOUND)
        return seckill_respond_error(r, rc, "not_found", "订单不存在");
    if (rc != OK)
        return seckill_respond_error(r, rc, "unavailable", "系统繁忙，请稍后刷新");
    v = seckill_v_obj(r->pool);
    seckill_v_set_bool(v, "ok", 1);
    seckill_v_set_str(v, "title", "支付结果");
    seckill_v_set(v, "order_id", seckill_v_strf(r->pool, "%llu", o.order.order_id));
    seckill_v_set_str(v, "state", o.state);
    seckill_v_set_bool(v, "paid", !strcmp(o.state, "paid"));
    seckill_v_set_str(v, "msg", result_text(&o));
    seckill_v_set_str(v, "product_name", o.order.product_name);
    seckill_v_set_str(v, "total_amount", o.order.total);
    if (o.order.paid) {
        char label[20];
        seckill_alipay_timestamp(o.order.paid, label);
        seckill_v_set_str(v, "paid_at", seckill_iso8601(r->pool, o.order.paid));
        seckill_v_set_str(v, "paid_at_label", apr_pstrdup(r->pool, label));
    }
    /* the badge the orders page shows for the order's state */
    seckill_v_set_str(v, "badge",
                      !strcmp(o.state, "paid")        ? "paid"
                      : !strcmp(o.state, "cancelled") ? "cancelled"
                                                      : "pending_payment");
    seckill_v_set_str(v, "badge_text",
                      !strcmp(o.state, "paid")        ? "已支付"
                      : !strcmp(o.state, "cancelled") ? "已取消"
                                                      : "待确认");
    if (o.refund >= 0)
        seckill_v_set_str(v, "refund", o.refund == 1 ? "refunded" : "pending");
    if (!strcmp(o.state, "waiting") || !strcmp(o.state, "confirming"))
        seckill_v_set_int(v, "refresh", 2); /* the notify is on its way: look again */
    return seckill_respond(r, HTTP_OK, "pay_result", v);
}

static seckill_stat notify_stat(seckill_notify_outcome o)
{
    switch (o) {
    case SECKILL_NOTIFY_PAID:
        return SECKILL_STAT_NOTIFY_PAID;
    case SECKILL_NOTIFY_REPLAY:
        return SECKILL_STAT_NOTIFY_REPLAY;
    case SECKILL_NOTIFY_NOT_PAID:
        return SECKILL_STAT_NOTIFY_NOT_PAID;
    case SECKILL_NOTIFY_REFUNDED:
        return SECKILL_STAT_NOTIFY_LATE_REFUND;
    case SECKILL_NOTIFY_REFUND_PENDING:
        return SECKILL_STAT_NOTIFY_REFUND_FAILED;
    case SECKILL_NOTIFY_MISMATCH:
    case SECKILL_NOTIFY_UNKNOWN_ORDER:
        return SECKILL_STAT_NOTIFY_MISMATCH;
    case SECKILL_NOTIFY_UNAVAILABLE:
        return SECKILL_STAT_NOTIFY_UNAVAILABLE;
    default: /* forged, malformed */
        return SECKILL_STAT_NOTIFY_REFUSED;
    }
}

int seckill_handle_notify(request_rec *r)
{
    seckill_form_pair *params;
    seckill_notify_outcome o;
    int n, rc, ack;

    if (r->method_number != M_POST) {
        apr_table_setn(r->headers_out, "Allow", "POST");
        return HTTP_METHOD_NOT_ALLOWED;
    }
    rc = seckill_form_body(r, NOTIFY_BODY_MAX, &params, &n);
    if (rc != OK) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "SK0925: Alipay notify refused: the body is not a form of at most %d "
                      "bytes with each field once (HTTP %d)",
                      NOTIFY_BODY_MAX, rc);
        o = SECKILL_NOTIFY_MALFORMED;
    } else {
        o = seckill_notify_handle(r, params, n);
    }
    seckill_stats_add(r, notify_stat(o));
    ack = seckill_notify_acknowledged(o);
    /* Alipay reads only the body; the status tells everyone else what happened */
    r->status = ack ? HTTP_OK
                : o == SECKILL_NOTIFY_UNAVAILABLE || o == SECKILL_NOTIFY_REFUND_PENDING
                    ? HTTP_SERVICE_UNAVAILABLE
                : rc != OK ? rc
                           : HTTP_BAD_REQUEST;
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE)
        r->connection->keepalive = AP_CONN_CLOSE;
    apr_table_setn(r->notes, "seckill-notify", seckill_notify_name(o));
    ap_set_content_type(r, "text/plain; charset=utf-8");
    ap_rputs(ack ? "success" : "fail", r);
    return OK;
}
