#include "bloom.h"

/* Double hashing (Kirsch-Mitzenmacher) over two independent 64-bit mixes of the id. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

void seckill_bloom_positions(long long id, uint32_t pos[SECKILL_BLOOM_HASHES])
{
    uint64_t h1 = mix64((uint64_t)id);
    uint64_t h2 = mix64((uint64_t)id ^ 0x9e3779b97f4a7c15ULL) | 1;
    for (int i = 0; i < SECKILL_BLOOM_HASHES; i++)
        pos[i] = (uint32_t)((h1 + (uint64_t)i * h2) % SECKILL_BLOOM_BITS);
}

int seckill_bloom_maybe(const unsigned char *bits, size_t len, long long id)
{
    uint32_t pos[SECKILL_BLOOM_HASHES];
    seckill_bloom_positions(id, pos);
    for (int i = 0; i < SECKILL_BLOOM_HASHES; i++) {
        size_t byte = pos[i] >> 3;
        if (byte >= len || !(bits[byte] & (0x80u >> (pos[i] & 7))))
            return 0;
    }
    return 1;
}
