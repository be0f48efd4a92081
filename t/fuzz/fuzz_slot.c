/* libFuzzer target: lib/slot.c (seckill_slot_parse, the ?slot= value, and the window of
 * what it accepts). Build and run: make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    int slot = -12345;
    memcpy(s, data, size);
    s[size] = 0;
    if (seckill_slot_parse(s, &slot) == 0) {
        time_t start, end;
        if (!seckill_slot_valid(slot) || strspn(s, "0123456789") != strlen(s) || !*s)
            abort(); /* accepted something that is not a slot in digits */
        if (seckill_slot_window(1764000000, slot, &start, &end) != 0 || end <= start)
            abort();
    }
    free(s);
    return 0;
}
