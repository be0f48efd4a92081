#include "product_input.h"

#include <stdio.h>
#include <string.h>

const char *const seckill_pfield_names[SECKILL_PF__COUNT] = {
    [SECKILL_PF_NAME] = "name",
    [SECKILL_PF_IMAGE] = "image",
    [SECKILL_PF_BASE_PRICE] = "base_price",
    [SECKILL_PF_SECKILL_PRICE] = "seckill_price",
    [SECKILL_PF_STOCK] = "stock",
    [SECKILL_PF_START] = "start",
    [SECKILL_PF_END] = "end",
};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* s without the blanks a form field picks up around it, as [*b, *b + *n). */
static void trim(const char *s, const char **b, size_t *n)
{
    size_t len = s ? strlen(s) : 0;
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
        len--;
    *b = s;
    *n = len;
}

/* Characters of valid UTF-8 without control characters (C0, DEL, C1), else -1. */
static long utf8_chars(const unsigned char *s, size_t n)
{
    long chars = 0;
    for (size_t i = 0; i < n; chars++) {
        unsigned c = s[i];
        unsigned cp;
        size_t more;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return -1;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            more = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            cp = c & 0x07;
        } else {
            return -1;
        }
        if (n - i <= more)
            return -1; /* cut short */
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return -1;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        /* overlong forms, surrogates, beyond U+10FFFF, C1 controls */
        if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
            return -1;
        i += more + 1;
    }
    return chars;
}

static const char *check_name(const char *text, char *out, size_t cap)
{
    const char *b;
    size_t n;
    long chars;
    trim(text, &b, &n);
    if (n == 0)
        return "请填写商品名称";
    chars = utf8_chars((const unsigned char *)b, n);
    if (chars < 0)
        return "商品名称含有无效字符";
    if (chars > SECKILL_NAME_MAX_CHARS || n >= cap)
        return "商品名称最多 64 个字";
    memcpy(out, b, n);
    out[n] = 0;
    return NULL;
}

static const char *check_image(const char *text, char *out)
{
    const char *b, *rest;
    size_t n;
    trim(text, &b, &n);
    if (n == 0) {
        strcpy(out, SECKILL_DEFAULT_IMAGE);
        return NULL;
    }
    if (n > SECKILL_IMAGE_MAX)
        return "图片地址最长 128 个字符";
    for (size_t i = 0; i < n; i++)
        /* printable ASCII that needs no quoting in an attribute or a URL */
        if (b[i] <= 0x20 || b[i] >= 0x7f || strchr("\"'<>\\`", b[i]))
            return "图片地址含有无效字符";
    if (n > 8 && strncmp(b, "/static/", 8) == 0) {
        for (size_t i = 0; i + 1 < n; i++)
            if (b[i] == '.' && b[i + 1] == '.')
                return "图片路径不能含有 ..";
    } else if ((n > 7 && strncmp(b, "http://", 7) == 0) ||
               (n > 8 && strncmp(b, "https://", 8) == 0)) {
        rest = b + (b[4] == 's' ? 8 : 7);
        if (*rest == '/' || *rest == '?' || *rest == '#' || *rest == '@')
            return "图片网址缺少主机名";
    } else {
        return "图片须是 /static/ 下的路径或 http(s) 网址";
    }
    memcpy(out, b, n);
    out[n] = 0;
    return NULL;
}

long long seckill_price_cents(const char *s)
{
    long long whole = 0;
    int digits = 0, cents = 0, decimals = 0;
    size_t i = 0;
    if (!s)
        return -1;
    for (; is_digit(s[i]); i++, digits++) {
        if (digits == 8)
            return -1;
        whole = whole * 10 + (s[i] - '0');
    }
    if (digits == 0 || (digits > 1 && s[0] == '0'))
        return -1;
    if (s[i] == '.') {
        for (i++; is_digit(s[i]); i++, decimals++) {
            if (decimals == 2)
                return -1;
            cents = cents * 10 + (s[i] - '0');
        }
        if (decimals == 0)
            return -1;
        if (decimals == 1)
            cents *= 10;
    }
    if (s[i] || whole * 100 + cents <= 0)
        return -1;
    return whole * 100 + cents;
}

static const char *check_price(const char *text, long long *cents, char *out)
{
    const char *b;
    size_t n;
    char buf[32];
    trim(text, &b, &n);
    if (n == 0)
        return "请填写价格";
    if (n >= sizeof buf)
        return "价格须为正数，最多两位小数（如 399.00）";
    memcpy(buf, b, n);
    buf[n] = 0;
    *cents = seckill_price_cents(buf);
    if (*cents < 0)
        return "价格须为正数，最多两位小数（如 399.00），不超过 99999999.99";
    snprintf(out, 16, "%d.%02d", (int)(*cents / 100), (int)(*cents % 100));
    return NULL;
}

static const char *check_stock(const char *text, int *stock)
{
    const char *b;
    size_t n;
    long v = 0;
    trim(text, &b, &n);
    if (n == 0)
        return "请填写库存";
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(b[i]) || i >= 9)
            return "库存须为 0 到 1000000 的整数";
        v = v * 10 + (b[i] - '0');
    }
    if (v > SECKILL_STOCK_MAX)
        return "库存须为 0 到 1000000 的整数";
    *stock = (int)v;
    return NULL;
}

static int num(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int days_in(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

int seckill_datetime_parse(const char *s, time_t *out)
{
    int y, mo, d, h, mi, sec = 0, oh = 0, om = 0, sign = 0;
    size_t i = 16;
    struct tm tm;
    time_t t;

    if (!s || strlen(s) < 16 || num(s, 4, &y) || s[4] != '-' || num(s + 5, 2, &mo) || s[7] != '-' ||
        num(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') || num(s + 11, 2, &h) || s[13] != ':' ||
        num(s + 14, 2, &mi))
        return -1;
    if (s[i] == ':') {
        if (num(s + i + 1, 2, &sec) || !s[i + 1] || !s[i + 2])
            return -1;
        i += 3;
    }
    if (s[i] == 'Z' && !s[i + 1]) {
        sign = 1;
    } else if (s[i] == '+' || s[i] == '-') {
        const char *o = s + i + 1;
        if (strlen(o) == 5 && o[2] == ':' && !num(o, 2, &oh) && !num(o + 3, 2, &om))
            ;
        else if (strlen(o) == 4 && !num(o, 2, &oh) && !num(o + 2, 2, &om))
            ;
        else
            return -1;
        sign = s[i] == '+' ? 1 : -1;
        if (oh > 14 || om > 59)
            return -1;
    } else if (s[i]) {
        return -1;
    }
    if (y < 2000 || y > 2099 || mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo) || h > 23 ||
        mi > 59 || sec > 59)
        return -1;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    if (sign) {
        t = timegm(&tm);
        t -= (time_t)sign * (oh * 3600 + om * 60);
    } else {
        tm.tm_isdst = -1;
        t = mktime(&tm);
        if (t == (time_t)-1)
            return -1;
    }
    *out = t;
    return 0;
}

void seckill_datetime_local(time_t t, char *buf)
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, 20, "%Y-%m-%dT%H:%M:%S", &tm);
}

static const char *check_time(const char *text, time_t *out)
{
    const char *b;
    size_t n;
    char buf[40];
    trim(text, &b, &n);
    if (n == 0)
        return "请填写时间";
    if (n >= sizeof buf)
        return "时间格式应为 2026-11-25T10:00（可带秒和时区）";
    memcpy(buf, b, n);
    buf[n] = 0;
    if (seckill_datetime_parse(buf, out) != 0)
        return "时间格式应为 2026-11-25T10:00（可带秒和时区），年份 2000–2099";
    return NULL;
}

int seckill_product_validate(const seckill_product_input *in, time_t end_after,
                             seckill_product_values *out, seckill_product_errors *err)
{
    const char **e = err->msg;
    int bad = 0;

    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    e[SECKILL_PF_NAME] = check_name(in->text[SECKILL_PF_NAME], out->name, sizeof out->name);
    e[SECKILL_PF_IMAGE] = check_image(in->text[SECKILL_PF_IMAGE], out->image);
    e[SECKILL_PF_BASE_PRICE] =
        check_price(in->text[SECKILL_PF_BASE_PRICE], &out->base_cents, out->base_price);
    e[SECKILL_PF_SECKILL_PRICE] =
        check_price(in->text[SECKILL_PF_SECKILL_PRICE], &out->seckill_cents, out->seckill_price);
    if (!e[SECKILL_PF_BASE_PRICE] && !e[SECKILL_PF_SECKILL_PRICE] &&
        out->seckill_cents > out->base_cents)
        e[SECKILL_PF_SECKILL_PRICE] = "秒杀价不能高于原价";
    e[SECKILL_PF_STOCK] = check_stock(in->text[SECKILL_PF_STOCK], &out->stock);
    e[SECKILL_PF_START] = check_time(in->text[SECKILL_PF_START], &out->start);
    e[SECKILL_PF_END] = check_time(in->text[SECKILL_PF_END], &out->end);
    if (!e[SECKILL_PF_START] && !e[SECKILL_PF_END] && out->end <= out->start)
        e[SECKILL_PF_END] = "结束时间须晚于开始时间";
    else if (!e[SECKILL_PF_END] && end_after && out->end <= end_after)
        e[SECKILL_PF_END] = "结束时间已过";
    for (int i = 0; i < SECKILL_PF__COUNT; i++)
        bad += e[i] != NULL;
    return bad;
}
