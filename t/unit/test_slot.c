/* Slot math: which 2-hour slot a moment belongs to and each slot's window, in local time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "slot.h"

static time_t local(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_isdst = -1;
    return mktime(&tm);
}

static void slot_of_every_hour(void **state)
{
    static const int want[24] = {8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  10, 10,
                                 12, 12, 14, 14, 16, 16, 18, 18, 20, 20, 22, 22};
    for (int h = 0; h < 24; h++)
        assert_int_equal(seckill_slot_of_hour(h), want[h]);
}

static void slot_of_time_uses_local_time(void **state)
{
    assert_int_equal(seckill_slot_of_time(local(2026, 11, 25, 9, 59)), 8);
    assert_int_equal(seckill_slot_of_time(local(2026, 11, 25, 10, 0)), 10);
    assert_int_equal(seckill_slot_of_time(local(2026, 11, 25, 23, 59)), 22);
    assert_int_equal(seckill_slot_of_time(local(2026, 11, 25, 0, 0)), 8);
}

static void valid_slots(void **state)
{
    int n = 0;
    for (int h = -2; h < 30; h++)
        n += seckill_slot_valid(h);
    assert_int_equal(n, SECKILL_SLOT_COUNT);
    for (int i = 0; i < SECKILL_SLOT_COUNT; i++)
        assert_true(seckill_slot_valid(seckill_slots[i]));
    assert_false(seckill_slot_valid(9));
    assert_false(seckill_slot_valid(24));
    assert_false(seckill_slot_valid(6));
}

static void parse_is_strict(void **state)
{
    static const char *bad[] = {
        "",   "7",   "9",   "24",  "0",   "-8",  "+8",  " 8",
        "8 ", "10x", "1e1", "0x8", "008", "100", "abc", "99999999999999999999"};
    int slot = -1;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        slot = -1;
        assert_int_equal(seckill_slot_parse(bad[i], &slot), -1);
        assert_int_equal(slot, -1);
    }
    assert_int_equal(seckill_slot_parse(NULL, &slot), -1);
    assert_int_equal(seckill_slot_parse("8", &slot), 0);
    assert_int_equal(slot, 8);
    assert_int_equal(seckill_slot_parse("08", &slot), 0);
    assert_int_equal(slot, 8);
    assert_int_equal(seckill_slot_parse("22", &slot), 0);
    assert_int_equal(slot, 22);
}

static void windows_partition_the_day(void **state)
{
    time_t day = local(2026, 11, 25, 13, 7), start, end, prev_end;
    assert_int_equal(seckill_slot_window(day, 8, &start, &end), 0);
    assert_int_equal(start, local(2026, 11, 25, 0, 0));
    assert_int_equal(end, local(2026, 11, 25, 10, 0));
    prev_end = end;
    for (int i = 1; i < SECKILL_SLOT_COUNT; i++) {
        assert_int_equal(seckill_slot_window(day, seckill_slots[i], &start, &end), 0);
        assert_int_equal(start, prev_end);
        prev_end = end;
    }
    assert_int_equal(prev_end, local(2026, 11, 26, 0, 0));
    assert_int_equal(seckill_slot_window(day, 9, &start, &end), -1);
    assert_int_equal(seckill_day_start(day), local(2026, 11, 25, 0, 0));
}

static void every_minute_is_in_its_slots_window(void **state)
{
    time_t t0 = local(2026, 11, 25, 0, 0);
    for (int m = 0; m < 24 * 60; m += 7) {
        time_t t = t0 + m * 60, start, end;
        int slot = seckill_slot_of_time(t);
        assert_int_equal(seckill_slot_window(t, slot, &start, &end), 0);
        assert_true(start <= t && t < end);
    }
}

static void date_key(void **state)
{
    char buf[9];
    seckill_slot_date(local(2026, 1, 5, 23, 59), buf);
    assert_string_equal(buf, "20260105");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slot_of_every_hour),
        cmocka_unit_test(slot_of_time_uses_local_time),
        cmocka_unit_test(valid_slots),
        cmocka_unit_test(parse_is_strict),
        cmocka_unit_test(windows_partition_the_day),
        cmocka_unit_test(every_minute_is_in_its_slots_window),
        cmocka_unit_test(date_key),
    };
    int failed;
    setenv("TZ", "Asia/Shanghai", 1);
    failed = cmocka_run_group_tests_name("slot (Asia/Shanghai)", tests, NULL, NULL);
    /* A zone with daylight saving time: the windows must still partition the day. */
    setenv("TZ", "America/New_York", 1);
    failed += cmocka_run_group_tests_name("slot (America/New_York)", tests, NULL, NULL);
    return failed ? 1 : 0;
}
