/* Sale slots: a day is cut into 2-hour slots named by their start hour (8,10,...,22).
 * As in the seed, slot 8 also covers 00:00-08:00 and slot 22 runs to midnight, so every
 * moment of a day belongs to exactly one slot. Times are the server's local time. */
#ifndef SECKILL_SLOT_H
#define SECKILL_SLOT_H

#include <time.h>

#define SECKILL_SLOT_COUNT 8
#define SECKILL_SLOT_FIRST 8
#define SECKILL_SLOT_LAST 22

extern const int seckill_slots[SECKILL_SLOT_COUNT];

/* The slot an hour of the day (0..23) belongs to. */
int seckill_slot_of_hour(int hour);
/* The slot the moment t belongs to (local time). */
int seckill_slot_of_time(time_t t);
/* 1 when slot is one of 8,10,...,22. */
int seckill_slot_valid(int slot);
/* Strict parse of a slot query value: decimal digits only, a valid slot. 0 ok, -1 bad. */
int seckill_slot_parse(const char *s, int *slot);
/* [start,end) of `slot` on the local day that contains `day`. 0 ok, -1 bad slot. */
int seckill_slot_window(time_t day, int slot, time_t *start, time_t *end);
/* Local midnight of the day containing t. */
time_t seckill_day_start(time_t t);
/* YYYYMMDD of the local day containing t (buf of at least 9 bytes). */
void seckill_slot_date(time_t t, char *buf);

#endif
