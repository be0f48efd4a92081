#include "slot.h"

#include <stdio.h>

const int seckill_slots[SECKILL_SLOT_COUNT] = {8, 10, 12, 14, 16, 18, 20, 22};

int seckill_slot_of_hour(int hour)
{
    if (hour < SECKILL_SLOT_FIRST)
        return SECKILL_SLOT_FIRST;
    if (hour >= SECKILL_SLOT_LAST)
        return SECKILL_SLOT_LAST;
    return hour - hour % 2;
}

int seckill_slot_of_time(time_t t)
{
    struct tm tm;
    localtime_r(&t, &tm);
    return seckill_slot_of_hour(tm.tm_hour);
}

int seckill_slot_valid(int slot)
{
    return slot >= SECKILL_SLOT_FIRST && slot <= SECKILL_SLOT_LAST && slot % 2 == 0;
}

int seckill_slot_parse(const char *s, int *slot)
{
    int v = 0;
    int n = 0;
    if (!s)
        return -1;
    for (; *s; s++, n++) {
        if (*s < '0' || *s > '9' || n >= 2)
            return -1;
        v = v * 10 + (*s - '0');
    }
    if (n == 0 || !seckill_slot_valid(v))
        return -1;
    *slot = v;
    return 0;
}

/* mktime on a broken-down local date with the given hour; DST-safe because tm_isdst=-1. */
static time_t local_at(time_t day, int hour)
{
    struct tm tm;
    localtime_r(&day, &tm);
    tm.tm_hour = hour;
    tm.tm_min = 0;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return mktime(&tm);
}

time_t seckill_day_start(time_t t)
{
    return local_at(t, 0);
}

int seckill_slot_window(time_t day, int slot, time_t *start, time_t *end)
{
    if (!seckill_slot_valid(slot))
        return -1;
    *start = local_at(day, slot == SECKILL_SLOT_FIRST ? 0 : slot);
    *end = local_at(day, slot == SECKILL_SLOT_LAST ? 24 : slot + 2);
    return 0;
}

void seckill_slot_date(time_t t, char *buf)
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, 9, "%Y%m%d", &tm);
}
