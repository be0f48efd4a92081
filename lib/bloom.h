/* Bloom filter of product ids, kept in Redis as a bitmap (SECKILL_KEY_BLOOM) by preheat
 * and admin, mirrored by each httpd child. Bit numbering is Redis SETBIT's: bit 0 is the
 * most significant bit of byte 0, so a GET of the key can be tested here directly. */
#ifndef SECKILL_BLOOM_H
#define SECKILL_BLOOM_H

#include <stddef.h>
#include <stdint.h>

#define SECKILL_BLOOM_BITS (1u << 20)
#define SECKILL_BLOOM_HASHES 7

/* The bit positions of id, each < SECKILL_BLOOM_BITS. */
void seckill_bloom_positions(long long id, uint32_t pos[SECKILL_BLOOM_HASHES]);
/* 1 when every bit of id is set in bits[0..len) (missing bytes read as 0). */
int seckill_bloom_maybe(const unsigned char *bits, size_t len, long long id);

#endif
