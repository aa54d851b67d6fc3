/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * chunker.c - FastCDC (gear hash, normalised chunking, cut-point skipping).
 *
 * The definition (docs/repository-format.md, "File chunking"):
 *
 *   G[0..255]   the first 256 outputs of splitmix64 seeded with LB_CDC_SEED
 *   fp(i)       sum over j = 0..63 of G[d[i - j]] << j, modulo 2^64: the gear
 *               hash of the 64 bytes ending at byte i; computed as
 *               fp = (fp << 1) + G[d[i]], which forgets bytes older than 64
 *   a chunk ends after byte i (length L = i + 1) for the first L >= min with
 *               fp(i) & mask == 0, mask = mask_small while L <= avg, else
 *               mask_large; at L = max it ends anyway.
 *
 * With avg = 2^b, mask_small is the top b + 2 bits of the word and
 * mask_large the top b - 2 bits (normalisation level 2). Top bits, because
 * bit k of fp depends on the last k + 1 bytes only: the top bits see the
 * whole 64-byte window. Hashing starts 64 bytes before min (min >= 64), so
 * every candidate cut sees a full window and a cut depends only on the 64
 * bytes before it and the distance from the chunk's start.
 */
#include "repo/chunker.h"

#include <errno.h>
#include <pthread.h>

#define LB_CDC_SEED 0x6c6966656261743aull /* "lifebat:" */
#define WINDOW 64

static uint64_t gear[256];
static pthread_once_t gear_once = PTHREAD_ONCE_INIT;

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void gear_init(void)
{
	uint64_t s = LB_CDC_SEED;

	for (unsigned i = 0; i < 256; i++)
		gear[i] = splitmix64(&s);
}

static uint64_t top_bits(unsigned n)
{
	return n ? ~0ull << (64 - n) : 0;
}

int lb_cdc_init(struct lb_cdc *c, uint32_t min, uint32_t avg, uint32_t max)
{
	unsigned bits;

	if (min < WINDOW || min >= avg || avg >= max || max > (64u << 20) || (avg & (avg - 1)) != 0)
		return -EINVAL;
	bits = (unsigned)__builtin_ctz(avg); /* 7..25: min >= 64 and avg > min */
	if (bits < 3 || bits > 60)
		return -EINVAL; /* cannot happen with the checks above; says so to the analyser */
	c->min = min;
	c->avg = avg;
	c->max = max;
	c->mask_small = top_bits(bits + 2);
	c->mask_large = top_bits(bits - 2);
	pthread_once(&gear_once, gear_init);
	return 0;
}

size_t lb_cdc_next(const struct lb_cdc *c, const uint8_t *data, size_t len, bool eof)
{
	size_t n = len < c->max ? len : c->max;
	size_t normal = n < c->avg ? n : c->avg;
	const uint64_t ms = c->mask_small, ml = c->mask_large;
	uint64_t fp = 0;
	size_t i;

	if (len <= c->min - 1)
		return eof ? len : 0;
	/* warm up: the 63 bytes before the first candidate's last byte */
	for (i = c->min - WINDOW; i < c->min - 1; i++)
		fp = (fp << 1) + gear[data[i]];
	/* candidates L = i + 1 <= avg: the strict mask */
	for (; i < normal; i++) {
		fp = (fp << 1) + gear[data[i]];
		if (!(fp & ms))
			return i + 1;
	}
	for (; i < n; i++) {
		fp = (fp << 1) + gear[data[i]];
		if (!(fp & ml))
			return i + 1;
	}
	if (n == c->max)
		return n;
	return eof ? len : 0;
}
