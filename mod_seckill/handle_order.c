#include "handlers.h"

#include "apr_strings.h"
#include "http_protocol.h"

#include "config.h"
#include "form.h"
#include "identity.h"
#include "order_status.h"
#include "respond.h"

static const char *status_text(const char *status)
{
    static const char *const words[][2] = {
        {"queued", "订单生成中"}, {"pending_payment", "待支付"},
        {"paid", "已支付"},       {"completed", "已完成"},
        {"cancelled", "已取消"},  {"failed", "下单失败，库存已退回"}};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (!strcmp(status, words[i][0]))
            return words[i][1];
    return status;
}

/* "2026-11-25 10:15:02": the pages' way of showing a time (JSON keeps ISO 8601). */
static const char *label(apr_pool_t *p, time_t t)
{
    struct tm tm;
    char buf[32];
    localtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return apr_pstrdup(p, buf);
}

int seckill_handle_order(request_rec *r, const char *id_text)
{
    unsigned long long oid;
    const char *user;
    seckill_order_info o;
    seckill_value *v;
    time_t deadline, now = (time_t)apr_time_sec(r->request_time);
    int rc;

    if (seckill_parse_u64(id_text, &oid) != 0)
        return seckill_respond_error(r, HTTP_BAD_REQUEST, "bad_request", "订单编号无效");
    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return seckill_respond_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                     "只支持 GET");
    }
    user = seckill_identity(r, 0);
    rc = user ? seckill_order_lookup(r, user, oid, &o) : HTTP_NOT_FOUND;
    if (rc == HTTP_NOT_FOUND)
        return seckill_respond_error(r, rc, "not_found", "订单不存在");
    if (rc != OK)
        return seckill_respond_error(r, rc, "unavailable", "系统繁忙，请稍后再试");

    deadline = o.created + seckill_conf(r->server)->pay_timeout;
    v = seckill_v_obj(r->pool);
    seckill_v_set_bool(v, "ok", 1);
    seckill_v_set(v, "order_id", seckill_v_strf(r->pool, "%llu", oid));
    seckill_v_set_int(v, "product_id", o.product_id);
    seckill_v_set_int(v, "quantity", o.quantity);
    seckill_v_set_str(v, "status", o.status);
    seckill_v_set_str(v, "status_text", status_text(o.status));
    seckill_v_set_str(v, "now", seckill_iso8601(r->pool, now));
    seckill_v_set_str(v, "title", "订单详情");
    if (!strcmp(o.status, "queued")) /* the page follows the worker (its script polls) */
        seckill_v_set_int(v, "noscript_refresh", 2);
    seckill_v_set_bool(v, "waiting",
                       !strcmp(o.status, "queued") || !strcmp(o.status, "pending_payment"));
    seckill_v_set_str(v, "created", seckill_iso8601(r->pool, o.created));
    seckill_v_set_str(v, "pay_deadline", seckill_iso8601(r->pool, deadline));
    seckill_v_set_int(v, "pay_seconds_left",
                      deadline > now && strcmp(o.status, "paid") && strcmp(o.status, "cancelled") &&
                              strcmp(o.status, "failed")
                          ? (long long)(deadline - now)
                          : 0);
    seckill_v_set_str(v, "created_label", label(r->pool, o.created));
    seckill_v_set_str(v, "pay_deadline_label", label(r->pool, deadline));
    seckill_v_set_str(v, "pay_left_text", seckill_hms(r->pool, deadline - now));
    /* the page's 支付 and 取消 forms, as on /orders/ */
    seckill_v_set_bool(v, "can_pay", !strcmp(o.status, "pending_payment") && deadline > now);
    seckill_v_set_bool(v, "can_cancel", !strcmp(o.status, "pending_payment"));
    seckill_v_set_str(v, "csrf_token", seckill_csrf_token(r, user));
    return seckill_respond(r, HTTP_OK, "order", v);
}

static seckill_value *row_view(request_rec *r, const seckill_order_row *o, time_t now,
                               int pay_timeout)
{
    seckill_value *v = seckill_v_obj(r->pool);
    time_t deadline = o->created + pay_timeout;
    int open = !strcmp(o->status, "pending_payment");
    long long left = open && deadline > now ? (long long)(deadline - now) : 0;
    seckill_v_set(v, "order_id", seckill_v_strf(r->pool, "%llu", o->order_id));
    seckill_v_set_int(v, "product_id", o->product_id);
    seckill_v_set_str(v, "product_name", o->product_name);
    seckill_v_set_str(v, "price", o->price);
    seckill_v_set_int(v, "quantity", o->quantity);
    seckill_v_set_str(v, "total_amount", o->total);
    seckill_v_set_str(v, "status", o->status);
    seckill_v_set_str(v, "status_text", status_text(o->status));
    seckill_v_set_str(v, "created", seckill_iso8601(r->pool, o->created));
    seckill_v_set_str(v, "created_label", label(r->pool, o->created));
    if (open) {
        seckill_v_set_str(v, "pay_deadline", seckill_iso8601(r->pool, deadline));
        seckill_v_set_int(v, "pay_seconds_left", left);
        seckill_v_set_str(v, "pay_deadline_label", label(r->pool, deadline));
        seckill_v_set_str(v, "pay_left_text", seckill_hms(r->pool, left));
    }
    if (o->paid) {
        seckill_v_set_str(v, "paid_at", seckill_iso8601(r->pool, o->paid));
        seckill_v_set_str(v, "paid_label", label(r->pool, o->paid));
    }
    if (o->cancelled) {
        seckill_v_set_str(v, "cancelled_at", seckill_iso8601(r->pool, o->cancelled));
        seckill_v_set_str(v, "cancelled_label", label(r->pool, o->cancelled));
    }
    seckill_v_set_bool(v, "can_pay", left > 0);
    seckill_v_set_bool(v, "can_cancel", open);
    return v;
}

int seckill_handle_orders(request_rec *r)
{
    time_t now = (time_t)apr_time_sec(r->request_time);
    const char *user;
    apr_array_header_t *rows = NULL;
    seckill_value *v, *list;
    int rc;

    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD");
        return seckill_respond_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                     "只支持 GET");
    }
    /* a shopper without an identity gets one here, and no orders */
    user = seckill_identity(r, 1);
    if (user && (rc = seckill_orders_of(r, user, &rows)) != OK)
        return seckill_respond_error(r, rc, "unavailable", "系统繁忙，请稍后再试");
    list = seckill_v_arr(r->pool);
    for (int i = 0; rows && i < rows->nelts; i++)
        seckill_v_push(list, row_view(r, &APR_ARRAY_IDX(rows, i, seckill_order_row), now,
                                      seckill_conf(r->server)->pay_timeout));
    v = seckill_v_obj(r->pool);
    seckill_v_set_bool(v, "ok", 1);
    seckill_v_set_str(v, "title", "我的订单");
    seckill_v_set_str(v, "now", seckill_iso8601(r->pool, now));
    seckill_v_set(v, "orders", list);
    seckill_v_set_bool(v, "empty", seckill_v_len(list) == 0);
    seckill_v_set_str(v, "csrf_token", seckill_csrf_token(r, user));
    return seckill_respond(r, HTTP_OK, "orders", v);
}
