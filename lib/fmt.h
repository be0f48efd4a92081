/* A printf subset for the hot path: glibc's snprintf costs ~800 instructions for a Redis key
 * or a number, ten of them a buy. seckill_fmt understands %d %lld %llu %s and %% only, so the
 * key formats of keys.h (and plain numbers) format the same bytes as snprintf would. */
#ifndef SECKILL_FMT_H
#define SECKILL_FMT_H

#include <stddef.h>

/* Formats into buf (cap bytes, NUL included) as snprintf would. Returns the length, or -1
 * (buf empty) when it does not fit or fmt has another directive. */
int seckill_fmt(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
