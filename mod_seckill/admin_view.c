#include "admin_view.h"

#include "apr_strings.h"

#include <time.h>

#include "respond.h"
#include "slot.h"

static const char *product_status_text(int s)
{
    return s == 0 ? "未开始" : s == 1 ? "进行中" : "已结束";
}

static const char *order_status_text(int s)
{
    static const char *const t[] = {"待支付", "已支付", "已取消", "已完成"};
    return s >= 0 && s <= 3 ? t[s] : "未知";
}

/* "11-25 10:00", short enough for a phone's table cell */
static const char *short_time(apr_pool_t *p, time_t t)
{
    struct tm tm;
    char buf[16];
    localtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%m-%d %H:%M", &tm);
    return apr_pstrdup(p, buf);
}

static const char *admin_link(request_rec *r, const char *base, const char *path)
{
    return apr_pstrcat(r->pool, base, path, NULL);
}

seckill_value *seckill_admin_product_view(request_rec *r, const char *base,
                                          const seckill_admin_product *ap)
{
    apr_pool_t *p = r->pool;
    const seckill_product *pr = &ap->p;
    seckill_value *v = seckill_v_obj(p);
    seckill_v_set_int(v, "id", pr->id);
    seckill_v_set_str(v, "name", pr->name);
    seckill_v_set_str(v, "image", pr->image);
    seckill_v_set_str(v, "base_price", pr->base_price);
    seckill_v_set_str(v, "seckill_price", pr->seckill_price);
    seckill_v_set_int(v, "stock", pr->total_stock);
    seckill_v_set_int(v, "stock_left", pr->stock);
    seckill_v_set_int(v, "sold", pr->total_stock - pr->stock);
    seckill_v_set(v, "live_stock", ap->live_stock >= 0 ? seckill_v_int(p, ap->live_stock) : NULL);
    seckill_v_set_int(v, "status", pr->status);
    seckill_v_set_str(v, "status_text", product_status_text(pr->status));
    seckill_v_set_str(v, "start", seckill_iso8601(p, pr->start));
    seckill_v_set_str(v, "end", seckill_iso8601(p, pr->end));
    seckill_v_set_str(v, "start_label", short_time(p, pr->start));
    seckill_v_set_str(v, "end_label", short_time(p, pr->end));
    seckill_v_set_int(v, "slot", seckill_slot_of_time(pr->start));
    seckill_v_set_str(v, "created", seckill_iso8601(p, ap->created));
    seckill_v_set_str(v, "updated", seckill_iso8601(p, ap->updated));
    seckill_v_set_str(
        v, "url",
        admin_link(r, base, apr_psprintf(p, "products/%" APR_INT64_T_FMT, (apr_int64_t)pr->id)));
    return v;
}

/* <option>s of a filter's <select>: value, label, selected. */
static seckill_value *options(apr_pool_t *p, const char *const *values, const char *const *labels,
                              int n, const char *chosen)
{
    seckill_value *arr = seckill_v_arr(p);
    for (int i = 0; i < n; i++) {
        seckill_value *o = seckill_v_obj(p);
        seckill_v_set_str(o, "value", values[i]);
        seckill_v_set_str(o, "label", labels[i]);
        seckill_v_set_bool(o, "selected", strcmp(values[i], chosen) == 0);
        seckill_v_push(arr, o);
    }
    return arr;
}

static const char *int_or_empty(apr_pool_t *p, long long v, long long none)
{
    return v == none ? "" : apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v);
}

/* The query of this list with another page; NULL when there is no such page. */
static const char *page_url(request_rec *r, const char *path, const char *query, int page)
{
    if (page < 1 || page > SECKILL_ADMIN_PAGE_MAX)
        return NULL;
    return apr_psprintf(r->pool, "%s?%s%spage=%d", path, query, *query ? "&" : "", page);
}

static void paging(request_rec *r, seckill_value *v, const char *path, const char *query, int page,
                   int more)
{
    const char *prev = page > 1 ? page_url(r, path, query, page - 1) : NULL;
    const char *next = more ? page_url(r, path, query, page + 1) : NULL;
    seckill_v_set_int(v, "page", page);
    seckill_v_set(v, "prev_url", prev ? seckill_v_str(r->pool, prev) : NULL);
    seckill_v_set(v, "next_url", next ? seckill_v_str(r->pool, next) : NULL);
}

/* "k=v&" for a filter that is set (value escaped), "" otherwise. */
static const char *qpart(apr_pool_t *p, const char *k, const char *v)
{
    return v && *v ? apr_pstrcat(p, k, "=", ap_escape_urlencoded(p, v), "&", NULL) : "";
}

static const char *trim_amp(apr_pool_t *p, const char *q)
{
    size_t n = strlen(q);
    return n && q[n - 1] == '&' ? apr_pstrndup(p, q, n - 1) : q;
}

seckill_value *seckill_admin_products_view(request_rec *r, const char *base,
                                           const seckill_product_filter *f,
                                           apr_array_header_t *rows)
{
    static const char *const st_values[] = {"", "0", "1", "2"};
    static const char *const st_labels[] = {"全部状态", "未开始", "进行中", "已结束"};
    static const char *const sl_values[] = {"", "8", "10", "12", "14", "16", "18", "20", "22"};
    static const char *const sl_labels[] = {"全部场次", "08:00", "10:00", "12:00", "14:00",
                                            "16:00",    "18:00", "20:00", "22:00"};
    apr_pool_t *p = r->pool;
    seckill_value *v = seckill_v_obj(p), *list = seckill_v_arr(p), *filters = seckill_v_obj(p);
    int more = rows->nelts > SECKILL_ADMIN_PAGE_SIZE;
    int n = more ? SECKILL_ADMIN_PAGE_SIZE : rows->nelts;
    const char *status = int_or_empty(p, f->status, -1), *slot = int_or_empty(p, f->slot, 0);
    const char *query;

    for (int i = 0; i < n; i++)
        seckill_v_push(list, seckill_admin_product_view(
                                 r, base, &APR_ARRAY_IDX(rows, i, seckill_admin_product)));
    seckill_v_set_str(filters, "status", status);
    seckill_v_set_str(filters, "date", f->date);
    seckill_v_set_str(filters, "slot", slot);
    seckill_v_set_str(filters, "q", f->q ? f->q : "");
    query = trim_amp(p, apr_pstrcat(p, qpart(p, "status", status), qpart(p, "date", f->date),
                                    qpart(p, "slot", slot), qpart(p, "q", f->q), NULL));
    seckill_v_set_bool(v, "ok", 1);
    seckill_v_set_str(v, "title", "商品管理");
    seckill_v_set(v, "products", list);
    seckill_v_set_bool(v, "empty", n == 0);
    seckill_v_set(v, "filters", filters);
    seckill_v_set(v, "status_options", options(p, st_values, st_labels, 4, status));
    seckill_v_set(v, "slot_options", options(p, sl_values, sl_labels, 9, slot));
    paging(r, v, admin_link(r, base, "products"), query, f->page, more);
    return v;
}

seckill_value *seckill_admin_orders_view(request_rec *r, const char *base,
                                         const seckill_order_filter *f, apr_array_header_t *rows)
{
    static const char *const st_values[] = {"", "0", "1", "2", "3"};
    static const char *const st_labels[] = {"全部状态", "待支付", "已支付", "已取消", "已完成"};
    apr_pool_t *p = r->pool;
    seckill_value *v = seckill_v_obj(p), *list = seckill_v_arr(p), *filters = seckill_v_obj(p);
    int more = rows->nelts > SECKILL_ADMIN_PAGE_SIZE;
    int n = more ? SECKILL_ADMIN_PAGE_SIZE : rows->nelts;
    const char *status = int_or_empty(p, f->status, -1);
    const char *product = int_or_empty(p, f->product, 0);
    const char *query;

    for (int i = 0; i < n; i++) {
        const seckill_admin_order *o = &APR_ARRAY_IDX(rows, i, seckill_admin_order);
        seckill_value *ov = seckill_v_obj(p);
        seckill_v_set(ov, "order_id", seckill_v_strf(p, "%llu", o->id));
        seckill_v_set_str(ov, "user_id", o->user);
        seckill_v_set_int(ov, "product_id", o->product_id);
        seckill_v_set_str(ov, "product_name", o->product_name);
        seckill_v_set_str(ov, "price", o->price);
        seckill_v_set_int(ov, "quantity", o->quantity);
        seckill_v_set_str(ov, "total_amount", o->total);
        seckill_v_set_int(ov, "status", o->status);
        seckill_v_set_str(ov, "status_text", order_status_text(o->status));
        seckill_v_set_str(ov, "created", seckill_iso8601(p, o->created));
        seckill_v_set_str(ov, "created_label", short_time(p, o->created));
        if (o->paid)
            seckill_v_set_str(ov, "paid_at", seckill_iso8601(p, o->paid));
        if (o->cancelled)
            seckill_v_set_str(ov, "cancelled_at", seckill_iso8601(p, o->cancelled));
        seckill_v_set_str(
            ov, "user_url",
            admin_link(r, base,
                       apr_pstrcat(p, "orders?user=", ap_escape_urlencoded(p, o->user), NULL)));
        seckill_v_set_str(
            ov, "product_url",
            admin_link(r, base,
                       apr_psprintf(p, "products/%" APR_INT64_T_FMT, (apr_int64_t)o->product_id)));
        seckill_v_push(list, ov);
    }
    seckill_v_set_str(filters, "status", status);
    seckill_v_set_str(filters, "product", product);
    seckill_v_set_str(filters, "user", f->user ? f->user : "");
    seckill_v_set_str(filters, "date", f->date);
    query = trim_amp(p, apr_pstrcat(p, qpart(p, "status", status), qpart(p, "product", product),
                                    qpart(p, "user", f->user), qpart(p, "date", f->date), NULL));
    seckill_v_set_bool(v, "ok", 1);
    seckill_v_set_str(v, "title", "订单管理");
    seckill_v_set(v, "orders", list);
    seckill_v_set_bool(v, "empty", n == 0);
    seckill_v_set(v, "filters", filters);
    seckill_v_set(v, "status_options", options(p, st_values, st_labels, 5, status));
    paging(r, v, admin_link(r, base, "orders"), query, f->page, more);
    return v;
}

seckill_value *seckill_admin_errors_obj(apr_pool_t *p, const seckill_product_errors *errors)
{
    seckill_value *e = seckill_v_obj(p);
    for (int i = 0; errors && i < SECKILL_PF__COUNT; i++)
        if (errors->msg[i])
            seckill_v_set_str(e, seckill_pfield_names[i], errors->msg[i]);
    return e;
}

seckill_value *seckill_admin_form_view(request_rec *r, const char *base,
                                       const seckill_product_input *values,
                                       const seckill_product_errors *errors,
                                       const seckill_admin_product *current, const char *msg)
{
    apr_pool_t *p = r->pool;
    seckill_value *v = seckill_v_obj(p), *fields = seckill_v_obj(p);
    seckill_value *errs = seckill_admin_errors_obj(p, errors);
    for (int i = 0; i < SECKILL_PF__COUNT; i++)
        seckill_v_set_str(fields, seckill_pfield_names[i], values ? values->text[i] : "");
    seckill_v_set_bool(v, "ok", seckill_v_len(errs) == 0);
    seckill_v_set_str(v, "title", current ? "编辑商品" : "新建商品");
    seckill_v_set_bool(v, "editing", current != NULL);
    seckill_v_set_str(v, "action",
                      current ? admin_link(r, base,
                                           apr_psprintf(p, "products/%" APR_INT64_T_FMT,
                                                        (apr_int64_t)current->p.id))
                              : admin_link(r, base, "products"));
    if (current)
        seckill_v_set(v, "product", seckill_admin_product_view(r, base, current));
    seckill_v_set(v, "values", fields);
    seckill_v_set(v, "errors", errs);
    seckill_v_set_bool(v, "has_errors", seckill_v_len(errs) > 0);
    if (msg)
        seckill_v_set_str(v, "msg", msg);
    return v;
}

seckill_value *seckill_admin_error_view(request_rec *r, const char *base, int status,
                                        const char *code, const char *msg, seckill_value *errors)
{
    seckill_value *v = seckill_v_obj(r->pool);
    seckill_v_set_bool(v, "ok", 0);
    seckill_v_set_str(v, "code", code);
    seckill_v_set_str(v, "msg", msg);
    seckill_v_set_int(v, "status", status);
    if (errors)
        seckill_v_set(v, "errors", errors);
    seckill_v_set_str(v, "title", "出错了");
    return v;
}
