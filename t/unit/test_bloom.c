/* Bloom filter bits as Redis SETBIT numbers them: the module tests a GET of the bitmap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bloom.h"

#define BYTES (SECKILL_BLOOM_BITS / 8)

/* What SETBIT key pos 1 does to the string. */
static void setbit(unsigned char *bits, uint32_t pos)
{
    bits[pos >> 3] |= (unsigned char)(0x80u >> (pos & 7));
}

static void add(unsigned char *bits, long long id)
{
    uint32_t pos[SECKILL_BLOOM_HASHES];
    seckill_bloom_positions(id, pos);
    for (int i = 0; i < SECKILL_BLOOM_HASHES; i++)
        setbit(bits, pos[i]);
}

static void positions_in_range_and_stable(void **state)
{
    uint32_t a[SECKILL_BLOOM_HASHES], b[SECKILL_BLOOM_HASHES];
    for (long long id = 0; id < 10000; id += 37) {
        seckill_bloom_positions(id, a);
        seckill_bloom_positions(id, b);
        assert_memory_equal(a, b, sizeof a);
        for (int i = 0; i < SECKILL_BLOOM_HASHES; i++)
            assert_true(a[i] < SECKILL_BLOOM_BITS);
    }
}

static void members_found_others_mostly_not(void **state)
{
    unsigned char *bits = calloc(1, BYTES);
    int false_pos = 0;
    assert_non_null(bits);
    for (long long id = 1; id <= 10000; id++)
        add(bits, id);
    for (long long id = 1; id <= 10000; id++)
        assert_true(seckill_bloom_maybe(bits, BYTES, id));
    for (long long id = 1000001; id <= 1100000; id++)
        false_pos += seckill_bloom_maybe(bits, BYTES, id);
    /* 10,000 ids in 2^20 bits with 7 hashes: about 1e-6 expected; allow 1e-4. */
    assert_true(false_pos <= 10);
    free(bits);
}

static void short_bitmap_reads_as_zero(void **state)
{
    unsigned char bits[4] = {0xff, 0xff, 0xff, 0xff};
    assert_false(seckill_bloom_maybe(bits, sizeof bits, 42));
    assert_false(seckill_bloom_maybe(NULL, 0, 42));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(positions_in_range_and_stable),
        cmocka_unit_test(members_found_others_mostly_not),
        cmocka_unit_test(short_bitmap_reads_as_zero),
    };
    return cmocka_run_group_tests_name("bloom", tests, NULL, NULL);
}
