#include "admin_filter.h"

#include <apr_strings.h>
#include <string.h>

#include "form.h"
#include "slot.h"

int seckill_date_parse(const char *s, time_t *midnight)
{
    struct tm tm;
    int y = 0, m = 0, d = 0;
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return -1;
    }
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 2000 || y > 2099 || m < 1 || m > 12 || d < 1 || d > days[m - 1] ||
        (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
        return -1;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_isdst = -1;
    *midnight = mktime(&tm);
    return *midnight == (time_t)-1 ? -1 : 0;
}

const char *seckill_like_contains(apr_pool_t *p, const char *s)
{
    size_t n = strlen(s), o = 0;
    char *out = apr_palloc(p, 2 * n + 3);
    out[o++] = '%';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == '%' || s[i] == '_')
            out[o++] = '\\';
        out[o++] = s[i];
    }
    out[o++] = '%';
    out[o] = 0;
    return out;
}

/* The query's pairs; NULL ok, else the message. Only the listed names are kept. */
static const char *pairs_of(apr_pool_t *p, const char *args, const char *const *names,
                            const char **values)
{
    seckill_form_pair *pairs;
    int n;
    if (!args)
        return NULL;
    n = seckill_form_parse(p, args, strlen(args), &pairs);
    if (n < 0)
        return "查询参数编码无效";
    for (int i = 0; i < n; i++)
        for (int k = 0; names[k]; k++) {
            if (strcmp(pairs[i].key, names[k]) != 0)
                continue;
            if (values[k])
                return apr_psprintf(p, "参数 %s 重复", names[k]);
            values[k] = pairs[i].value;
        }
    return NULL;
}

static int small_int(const char *s, int max, int *out)
{
    int v = 0, n = 0;
    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 6)
            return -1;
        v = v * 10 + (s[n] - '0');
    }
    if (n == 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

static const char *page_of(const char *s, int *page)
{
    *page = 1;
    if (s && *s && (small_int(s, SECKILL_ADMIN_PAGE_MAX, page) != 0 || *page < 1))
        return "参数 page 须为 1 到 10000 的整数";
    return NULL;
}

static int given(const char *s)
{
    return s && *s;
}

/* UTF-8 characters of s (continuation bytes not counted). */
static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

enum { P_STATUS, P_DATE, P_SLOT, P_Q, P_PAGE, P__COUNT };

const char *seckill_product_filter_parse(apr_pool_t *p, const char *args, time_t now,
                                         seckill_product_filter *out)
{
    static const char *const names[] = {"status", "date", "slot", "q", "page", NULL};
    const char *v[P__COUNT] = {0}, *err;
    time_t day = now;

    memset(out, 0, sizeof *out);
    out->status = -1;
    if ((err = pairs_of(p, args, names, v)) != NULL)
        return err;
    if (given(v[P_STATUS]) && (small_int(v[P_STATUS], 2, &out->status) != 0))
        return "参数 status 须为 0（未开始）、1（进行中）或 2（已结束）";
    if (given(v[P_DATE])) {
        if (seckill_date_parse(v[P_DATE], &day) != 0)
            return "参数 date 须为 YYYY-MM-DD 格式的日期";
        memcpy(out->date, v[P_DATE], 11);
    }
    if (given(v[P_SLOT]) && seckill_slot_parse(v[P_SLOT], &out->slot) != 0)
        return "参数 slot 须为 8、10、12、14、16、18、20 或 22";
    if (out->slot) {
        seckill_slot_window(day, out->slot, &out->from, &out->to);
        out->has_window = 1;
    } else if (out->date[0]) {
        out->from = day;
        /* the next local midnight, whatever the day's length */
        out->to = seckill_day_start(day + 26 * 3600);
        out->has_window = 1;
    }
    if (given(v[P_Q])) {
        if (chars(v[P_Q]) > SECKILL_ADMIN_SEARCH_MAX)
            return "参数 q 最多 64 个字";
        out->q = v[P_Q];
        out->q_like = seckill_like_contains(p, v[P_Q]);
    }
    return page_of(v[P_PAGE], &out->page);
}

enum { O_STATUS, O_PRODUCT, O_USER, O_DATE, O_PAGE, O__COUNT };

const char *seckill_order_filter_parse(apr_pool_t *p, const char *args, seckill_order_filter *out)
{
    static const char *const names[] = {"status", "product", "user", "date", "page", NULL};
    const char *v[O__COUNT] = {0}, *err;

    memset(out, 0, sizeof *out);
    out->status = -1;
    if ((err = pairs_of(p, args, names, v)) != NULL)
        return err;
    if (given(v[O_STATUS]) && small_int(v[O_STATUS], 3, &out->status) != 0)
        return "参数 status 须为 0（待支付）、1（已支付）、2（已取消）或 3（已完成）";
    if (given(v[O_PRODUCT]) && seckill_parse_id(v[O_PRODUCT], &out->product) != 0)
        return "参数 product 须为商品编号（1 到 18 位数字）";
    if (given(v[O_USER])) {
        if (strlen(v[O_USER]) > 64)
            return "参数 user 最长 64 字节";
        out->user = v[O_USER];
    }
    if (given(v[O_DATE])) {
        if (seckill_date_parse(v[O_DATE], &out->from) != 0)
            return "参数 date 须为 YYYY-MM-DD 格式的日期";
        memcpy(out->date, v[O_DATE], 11);
        out->to = seckill_day_start(out->from + 26 * 3600);
        out->has_window = 1;
    }
    return page_of(v[O_PAGE], &out->page);
}
