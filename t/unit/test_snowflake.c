/* Order ids: unique and increasing across threads, through a clock that steps back and a
 * millisecond that runs out of sequence numbers; node and slot bits where they belong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pthread.h>

#include "snowflake.h"

#define NOW 1764000000000ULL /* a fixed wall clock, ms */

static void layout(void **state)
{
    seckill_snowflake sf;
    uint64_t id;
    assert_int_equal(seckill_snowflake_init(&sf, 17, 9), 0);
    id = seckill_snowflake_next(&sf, NOW);
    assert_int_equal(seckill_snowflake_ms(id), NOW);
    assert_int_equal((id >> 17) & 31, 17); /* node */
    assert_int_equal((id >> 12) & 31, 9);  /* child slot */
    assert_int_equal(id & 4095, 0);
    assert_true(id < (1ULL << 63)); /* fits a signed BIGINT */
    assert_int_equal(seckill_snowflake_init(&sf, 32, 0), -1);
    assert_int_equal(seckill_snowflake_init(&sf, 0, 32), -1);
}

static void same_ms_counts_then_borrows(void **state)
{
    seckill_snowflake sf;
    uint64_t prev = 0;
    seckill_snowflake_init(&sf, 1, 1);
    for (int i = 0; i < 5000; i++) {
        uint64_t id = seckill_snowflake_next(&sf, NOW);
        assert_true(id > prev);
        prev = id;
    }
    /* 5000 ids in one millisecond: the generator ran one millisecond ahead */
    assert_int_equal(seckill_snowflake_ms(prev), NOW + 1);
}

static void clock_stepping_back(void **state)
{
    seckill_snowflake sf;
    uint64_t a, b, c;
    seckill_snowflake_init(&sf, 1, 1);
    a = seckill_snowflake_next(&sf, NOW);
    b = seckill_snowflake_next(&sf, NOW - 5000); /* NTP stepped the clock back 5 s */
    c = seckill_snowflake_next(&sf, NOW + 1);
    assert_true(b > a);
    assert_true(c > b);
}

#define THREADS 8
#define PER_THREAD 20000

static seckill_snowflake shared;
static uint64_t ids[THREADS][PER_THREAD];

static void *take(void *arg)
{
    uint64_t *out = arg;
    for (int i = 0; i < PER_THREAD; i++)
        out[i] = seckill_snowflake_next(&shared, NOW + (uint64_t)(i / 1000));
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void unique_across_threads(void **state)
{
    pthread_t t[THREADS];
    uint64_t *all = malloc(sizeof ids);
    seckill_snowflake_init(&shared, 3, 4);
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, take, ids[i]);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++)
        for (int j = 1; j < PER_THREAD; j++)
            assert_true(ids[i][j] > ids[i][j - 1]); /* increasing within a thread */
    memcpy(all, ids, sizeof ids);
    qsort(all, THREADS * PER_THREAD, sizeof *all, cmp);
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        assert_true(all[i] != all[i - 1]);
    free(all);
}

static void distinct_slots_never_collide(void **state)
{
    seckill_snowflake a, b;
    seckill_snowflake_init(&a, 1, 0);
    seckill_snowflake_init(&b, 1, 1);
    for (int i = 0; i < 10000; i++)
        assert_true(seckill_snowflake_next(&a, NOW) != seckill_snowflake_next(&b, NOW));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layout),
        cmocka_unit_test(same_ms_counts_then_borrows),
        cmocka_unit_test(clock_stepping_back),
        cmocka_unit_test(unique_across_threads),
        cmocka_unit_test(distinct_slots_never_collide),
    };
    return cmocka_run_group_tests_name("snowflake", tests, NULL, NULL);
}
