/* libFuzzer target: lib/order.c. The input is an order message body: decode it; what
 * decodes must verify or not without harm, encode again, and the encoding must decode to
 * the same message (round trip), which, once signed, verifies. Build and run: make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "order.h"

static const char secret[] = "fuzzing-secret-0123456789abcdefghijklmnop";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seckill_order_msg m, m2;
    char buf[1024];
    int n;

    memset(&m, 0x5a, sizeof m); /* decode must not rely on a zeroed struct */
    if (seckill_order_decode((const char *)data, size, &m) != 0)
        return 0;
    if (memchr(m.user_id, 0, sizeof m.user_id) == NULL ||
        memchr(m.price, 0, sizeof m.price) == NULL ||
        memchr(m.token, 0, sizeof m.token) == NULL)
        abort(); /* a decoded string field is not NUL-terminated */
    (void)seckill_order_verify(&m, secret, sizeof secret - 1);
    n = seckill_order_encode(&m, buf, sizeof buf);
    if (n < 0)
        abort(); /* a decoded message must fit an encoding of 1 KB */
    if ((size_t)n >= sizeof buf || buf[n] != 0)
        abort();
    memset(&m2, 0, sizeof m2);
    if (seckill_order_decode(buf, (size_t)n, &m2) != 0)
        abort(); /* what we encode we must read back */
    if (m2.order_id != m.order_id || strcmp(m2.user_id, m.user_id) ||
        m2.product_id != m.product_id || strcmp(m2.price, m.price) ||
        m2.quantity != m.quantity || m2.created_ms != m.created_ms ||
        m2.pay_deadline_ms != m.pay_deadline_ms || strcmp(m2.token, m.token))
        abort(); /* round trip changed a field */
    /* signed, it verifies; a user id with '|' cannot be signed (lib/token.c refuses a field
     * with the separator, so such a message never verifies, which is what we want) */
    seckill_order_sign(&m2, secret, sizeof secret - 1);
    if (!strchr(m2.user_id, '|') && !seckill_order_verify(&m2, secret, sizeof secret - 1))
        abort();
    if (strchr(m2.user_id, '|') && seckill_order_verify(&m2, secret, sizeof secret - 1))
        abort();
    /* too small buffers must be refused, never overrun */
    for (size_t cap = 0; cap < (size_t)n; cap += 1 + cap / 3) {
        char *small = malloc(cap ? cap : 1);
        if (seckill_order_encode(&m, small, cap) >= 0 && cap <= (size_t)n)
            abort();
        free(small);
    }
    return 0;
}
