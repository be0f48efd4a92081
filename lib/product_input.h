/* A product as the admin types it (form fields or JSON strings), checked field by field
 * into typed values, with one message per bad field so the form can show each beside its
 * input. Pure: no I/O, so the rules are unit-tested (t/unit/test_product_input.c). */
#ifndef SECKILL_PRODUCT_INPUT_H
#define SECKILL_PRODUCT_INPUT_H

#include <time.h>

typedef enum {
    SECKILL_PF_NAME,
    SECKILL_PF_IMAGE,
    SECKILL_PF_BASE_PRICE,
    SECKILL_PF_SECKILL_PRICE,
    SECKILL_PF_STOCK,
    SECKILL_PF_START,
    SECKILL_PF_END,
    SECKILL_PF__COUNT
} seckill_pfield;

#define SECKILL_NAME_MAX_CHARS 64
#define SECKILL_IMAGE_MAX 128
#define SECKILL_STOCK_MAX 1000000
#define SECKILL_PRICE_MAX_CENTS 9999999999LL /* DECIMAL(10,2) */
#define SECKILL_DEFAULT_IMAGE "/static/product_img/robot.svg"

/* The field names of the API and the forms, by seckill_pfield. */
extern const char *const seckill_pfield_names[SECKILL_PF__COUNT];

typedef struct {
    const char *text[SECKILL_PF__COUNT]; /* NULL or "" = not given */
} seckill_product_input;

typedef struct {
    char name[4 * SECKILL_NAME_MAX_CHARS + 1];
    char image[SECKILL_IMAGE_MAX + 1];
    char base_price[16]; /* normalised, "399.00" */
    char seckill_price[16];
    long long base_cents, seckill_cents;
    int stock; /* units put on sale */
    time_t start, end;
} seckill_product_values;

typedef struct {
    const char *msg[SECKILL_PF__COUNT]; /* NULL = the field is fine; static strings */
} seckill_product_errors;

/* Checks every field (all required but image, which defaults to SECKILL_DEFAULT_IMAGE):
 * name 1-64 characters of UTF-8 without control characters; image a path under /static/
 * or an http(s) URL of printable ASCII, at most 128 bytes; prices positive, at most 2
 * decimals, seckill <= base; stock 0..SECKILL_STOCK_MAX; start/end valid, end > start and,
 * when end_after is not 0, end > end_after (a new product must not be over already).
 * Returns the number of bad fields (0: *out is complete). */
int seckill_product_validate(const seckill_product_input *in, time_t end_after,
                             seckill_product_values *out, seckill_product_errors *err);

/* "399", "399.5", "0.01" -> cents; -1 when not a positive price with at most 2 decimals
 * (or over DECIMAL(10,2)). */
long long seckill_price_cents(const char *s);
/* "2026-11-25T10:00", "...:05", a space for the T, optional "Z" / "+08:00" / "+0800"
 * (without one: local time). 0 ok, -1 bad. Years 2000-2099. */
int seckill_datetime_parse(const char *s, time_t *out);
/* Local "YYYY-MM-DDTHH:MM:SS" of t, as an <input type="datetime-local"> takes it (20 bytes). */
void seckill_datetime_local(time_t t, char *buf);

#endif
