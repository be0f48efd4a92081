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
    static const char *const words[][2] = {{"queued", "订单生成中"},
                                           {"pending_payment", "待支付"},
                                           {"paid", "已支付"},
                                           {"cancelled", "已取消"},
                                           {"failed", "下单失败，库存已退回"}};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (!strcmp(status, words[i][0]))
            return words[i][1];
    return status;
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
    if (!strcmp(o.status, "queued"))
        seckill_v_set_int(v, "refresh", 2); /* the page follows the worker without JS */
    seckill_v_set_bool(v, "waiting",
                       !strcmp(o.status, "queued") || !strcmp(o.status, "pending_payment"));
    seckill_v_set_str(v, "created", seckill_iso8601(r->pool, o.created));
    seckill_v_set_str(v, "pay_deadline", seckill_iso8601(r->pool, deadline));
    seckill_v_set_int(v, "pay_seconds_left", deadline > now ? (long long)(deadline - now) : 0);
    return seckill_respond(r, HTTP_OK, "order", v);
}
