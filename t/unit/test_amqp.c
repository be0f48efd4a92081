/* lib/amqp_conn.c without a broker: where a pay timeout waits (the ladder of fixed-TTL queues, then
 * the per-message TTL queue for the last second), and that the steps add up to the deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "amqp_conn.h"

static void route_is(long long delay, const char *key, long exp)
{
    long e = -7;
    const char *k = seckill_amqp_delay_route(delay, &e);
    if (strcmp(k, key) != 0 || e != exp)
        fail_msg("delay %lld: got %s/%ld, want %s/%ld", delay, k, e, key, exp);
}

static void routes(void **state)
{
    route_is(-5000, SECKILL_RK_ORDER_TIMEOUT_WAIT, 1); /* overdue: at once */
    route_is(0, SECKILL_RK_ORDER_TIMEOUT_WAIT, 1);
    route_is(1, SECKILL_RK_ORDER_TIMEOUT_WAIT, 1);
    route_is(999, SECKILL_RK_ORDER_TIMEOUT_WAIT, 999);
    route_is(1000, "order.timeout.wait.1s", 0);
    route_is(1999, "order.timeout.wait.1s", 0);
    route_is(2000, "order.timeout.wait.2s", 0);
    route_is(300000, "order.timeout.wait.256s", 0);
    route_is(65535999, "order.timeout.wait.32768s", 0);
    route_is(65536000, "order.timeout.wait.65536s", 0);
    route_is(86400000LL * 30, "order.timeout.wait.65536s", 0);
}

/* Following the routes from any delay reaches exactly the deadline, never past it, in at most
 * one hop per ladder step plus the last one (more only beyond 2^17 s). */
static void steps_add_up(void **state)
{
    static const long long delays[] = {1,      500,    1000,    1001,     2999,     3000,
                                       299977, 300000, 3600000, 86400000, 131071999};
    for (size_t i = 0; i < sizeof delays / sizeof *delays; i++) {
        long long left = delays[i];
        int hops = 0;
        while (left > 0) {
            long exp;
            const char *k = seckill_amqp_delay_route(left, &exp);
            long s;
            if (exp > 0)
                left -= exp;
            else if (sscanf(k, "order.timeout.wait.%lds", &s) == 1)
                left -= s * 1000;
            else
                fail_msg("%s without expiration", k);
            assert_true(left >= 0);
            hops++;
        }
        assert_true(hops <= SECKILL_AMQP_LADDER_STEPS + 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes),
        cmocka_unit_test(steps_add_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
