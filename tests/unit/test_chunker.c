/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/repo/chunker.c: FastCDC.
 *
 * test_reference recomputes the boundaries from the definition in
 * docs/repository-format.md with a slow implementation of its own (the gear
 * table from splitmix64, the window hash summed from scratch at every
 * candidate), so the fast code is checked against the documented format,
 * and test_golden pins a few boundaries of the default parameters. Random
 * data comes from a seeded generator: every run does the same thing.
 */
#include "harness.h"

#include "base/cleanup.h"
#include "repo/chunker.h"

#include <stdlib.h>
#include <time.h>

static uint64_t rng;

static uint64_t next_rand(void)
{
	/* xorshift64*, independent of the chunker's generator */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static uint8_t *random_buf(size_t n, uint64_t seed)
{
	uint8_t *p = malloc(n);

	rng = seed;
	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = next_rand();

		for (size_t k = 0; k < 8 && i + k < n; k++)
			p[i + k] = (uint8_t)(v >> (8 * k));
	}
	return p;
}

/* Cut @n bytes into chunks, all data given at once; returns the number of chunks. */
static size_t cut_all(const struct lb_cdc *c, const uint8_t *p, size_t n, size_t *lens, size_t cap)
{
	size_t k = 0, off = 0;

	while (off < n && k < cap) {
		size_t l = lb_cdc_next(c, p + off, n - off, true);

		if (!l)
			break;
		lens[k++] = l;
		off += l;
	}
	return k;
}

static void test_init_rejects(void)
{
	struct lb_cdc c;

	CHECK_INT(lb_cdc_init(&c, LB_CDC_MIN_DEFAULT, LB_CDC_AVG_DEFAULT, LB_CDC_MAX_DEFAULT), 0);
	CHECK_INT(__builtin_popcountll(c.mask_small), 22);
	CHECK_INT(__builtin_popcountll(c.mask_large), 18);
	CHECK(c.mask_small >> 63 && c.mask_large >> 63);
	CHECK_INT(lb_cdc_init(&c, 64, 128, 129), 0);
	CHECK_INT(lb_cdc_init(&c, 63, 128, 256), -EINVAL);		/* min below the window */
	CHECK_INT(lb_cdc_init(&c, 128, 128, 256), -EINVAL);		/* min == avg */
	CHECK_INT(lb_cdc_init(&c, 200, 128, 256), -EINVAL);		/* min > avg */
	CHECK_INT(lb_cdc_init(&c, 64, 256, 256), -EINVAL);		/* avg == max */
	CHECK_INT(lb_cdc_init(&c, 64, 3000, 8192), -EINVAL);		/* avg not a power of two */
	CHECK_INT(lb_cdc_init(&c, 64, 1024, (64u << 20) + 1), -EINVAL); /* max too big */
	CHECK_INT(lb_cdc_init(&c, 64, 32u << 20, 64u << 20), 0);
	CHECK_INT(lb_cdc_init(&c, 0, 0, 0), -EINVAL);
}

/* ---- the definition, slowly ---------------------------------------------------------- */

static uint64_t ref_gear[256];

static void ref_gear_init(void)
{
	uint64_t s = 0x6c6966656261743aull;

	for (int i = 0; i < 256; i++) {
		uint64_t z;

		s += 0x9e3779b97f4a7c15ull;
		z = s;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		ref_gear[i] = z ^ (z >> 31);
	}
}

static size_t ref_next(const uint8_t *d, size_t n, uint32_t min, uint32_t avg, uint32_t max)
{
	unsigned b = (unsigned)__builtin_ctz(avg);
	uint64_t ms = ~0ull << (64 - (b + 2)), ml = ~0ull << (64 - (b - 2));

	for (size_t l = min; l <= max && l <= n; l++) {
		uint64_t fp = 0;
		size_t i = l - 1;

		for (size_t j = 0; j < 64; j++)
			fp += ref_gear[d[i - j]] << j;
		if (!(fp & (l <= avg ? ms : ml)))
			return l;
	}
	return n < max ? n : max;
}

static void test_reference(void)
{
	const size_t n = 1 << 20;
	uint8_t *p = random_buf(n, 7);
	struct lb_cdc c;
	size_t off = 0, chunks = 0, small = 0;

	ref_gear_init();
	/* as docs/repository-format.md says */
	CHECK_U64(ref_gear[0], 0xce105083cc152d49ull);
	CHECK_U64(ref_gear[1], 0x876b57970d9d57c1ull);
	CHECK_U64(ref_gear[2], 0xa38a42e44706f341ull);
	CHECK_INT(lb_cdc_init(&c, 256, 1024, 4096), 0);
	while (off < n) {
		size_t want = ref_next(p + off, n - off, 256, 1024, 4096);
		size_t got = lb_cdc_next(&c, p + off, n - off, true);

		if (got != want) {
			printf("#   chunk %zu at %zu: %zu, reference %zu\n", chunks, off, got,
			       want);
			CHECK_U64(got, want);
			break;
		}
		small += got <= 1024;
		off += got;
		chunks++;
	}
	/* both masks were used */
	CHECK(chunks > 100);
	CHECK(small > 10 && small < chunks - 10);
	free(p);
}

/* Boundaries of the default parameters on a fixed input: the format, pinned. */
static void test_golden(void)
{
	static const size_t want[] = {298415, 1334225, 1104369, 1446984, 1145990, 1321403};
	const size_t n = 8 << 20;
	uint8_t *p = random_buf(n, 42);
	size_t lens[16];
	struct lb_cdc c;
	size_t k;

	CHECK_INT(lb_cdc_init(&c, LB_CDC_MIN_DEFAULT, LB_CDC_AVG_DEFAULT, LB_CDC_MAX_DEFAULT), 0);
	k = cut_all(&c, p, n, lens, 16);
	CHECK(k >= LB_ARRAY_SIZE(want));
	for (size_t i = 0; i < LB_ARRAY_SIZE(want) && i < k; i++) {
		if (lens[i] != want[i])
			printf("#   chunk %zu: %zu\n", i, lens[i]);
		CHECK_U64(lens[i], want[i]);
	}
	free(p);
}

/*
 * Fed in small pieces (as a reader would: give more while it returns 0),
 * the boundaries are those of the whole buffer; every chunk is within
 * [min, max] but the last.
 */
static void test_streaming_and_bounds(void)
{
	const size_t n = 6 << 20;
	uint8_t *p = random_buf(n, 3);
	size_t *all = malloc(4096 * sizeof(*all));
	struct lb_cdc c;
	size_t k, off = 0, avail = 0, i = 0, step = 0;

	CHECK_INT(lb_cdc_init(&c, 4096, 16384, 65536), 0);
	k = cut_all(&c, p, n, all, 4096);
	CHECK(k > 100);
	for (size_t j = 0; j + 1 < k; j++)
		CHECK(all[j] >= 4096 && all[j] <= 65536);
	CHECK(all[k - 1] >= 1 && all[k - 1] <= 65536);
	while (off < n) {
		bool eof;
		size_t l;

		/* pieces of 1..9000 bytes, so every kind of split happens */
		avail += 1 + (size_t)(next_rand() % 9000);
		if (off + avail > n)
			avail = n - off;
		eof = off + avail == n;
		l = lb_cdc_next(&c, p + off, avail, eof);
		step++;
		if (!l) {
			CHECK(!eof);
			CHECK(avail < 65536);
			continue;
		}
		CHECK(l <= avail);
		if (i >= k || l != all[i]) {
			printf("#   chunk %zu: %zu from pieces, %zu at once\n", i, l,
			       i < k ? all[i] : 0);
			CHECK(0);
			break;
		}
		i++;
		off += l;
		avail -= l;
	}
	CHECK_U64(i, k);
	CHECK(step > i);
	free(all);
	free(p);
}

static void test_short_inputs(void)
{
	static uint8_t zero[300000];
	struct lb_cdc c;

	CHECK_INT(lb_cdc_init(&c, 1024, 4096, 16384), 0);
	CHECK_U64(lb_cdc_next(&c, zero, 0, true), 0);
	CHECK_U64(lb_cdc_next(&c, zero, 0, false), 0);
	CHECK_U64(lb_cdc_next(&c, zero, 1, true), 1);
	CHECK_U64(lb_cdc_next(&c, zero, 1023, true), 1023);
	CHECK_U64(lb_cdc_next(&c, zero, 1023, false), 0);
	/* zeros: a constant hash, so either always min or always max */
	{
		size_t l = lb_cdc_next(&c, zero, sizeof(zero), false);

		CHECK(l == 1024 || l == 16384);
		CHECK_U64(lb_cdc_next(&c, zero, sizeof(zero), true), l);
	}
	/* exactly max bytes without a boundary yet cut at max, eof or not */
	{
		uint8_t *p = random_buf(1 << 20, 11);
		size_t l = lb_cdc_next(&c, p, 1 << 20, false);

		CHECK(l >= 1024 && l <= 16384);
		CHECK_U64(lb_cdc_next(&c, p, l, false), l); /* the boundary needs no more bytes */
		if (l > 1024)
			CHECK_U64(lb_cdc_next(&c, p, l - 1, false), 0);
		free(p);
	}
}

/* An insertion near the start changes the first chunk or two; the rest are the same bytes. */
static void test_insertion(void)
{
	const size_t n = 20 << 20;
	uint8_t *a = random_buf(n, 99), *b = malloc(n + 5);
	size_t *la = malloc(256 * sizeof(size_t)), *lb = malloc(256 * sizeof(size_t));
	struct lb_cdc c;
	size_t ka, kb, same = 0;

	CHECK_INT(lb_cdc_init(&c, LB_CDC_MIN_DEFAULT, LB_CDC_AVG_DEFAULT, LB_CDC_MAX_DEFAULT), 0);
	memcpy(b, a, 1000);
	memcpy(b + 1000, "XYZZY", 5);
	memcpy(b + 1005, a + 1000, n - 1000);
	ka = cut_all(&c, a, n, la, 256);
	kb = cut_all(&c, b, n + 5, lb, 256);
	CHECK(ka > 10);
	/* compare from the end: chunks that are the same by content */
	{
		size_t ea = n, eb = n + 5, ia = ka, ib = kb;

		while (ia > 0 && ib > 0 && la[ia - 1] == lb[ib - 1] &&
		       !memcmp(a + ea - la[ia - 1], b + eb - lb[ib - 1], la[ia - 1])) {
			ea -= la[--ia];
			eb -= lb[--ib];
			same++;
		}
		CHECK(ia <= 2 && ib <= 2);
		CHECK(ea <= 2 * LB_CDC_MAX_DEFAULT);
	}
	CHECK(same + 2 >= ka);
	free(la);
	free(lb);
	free(a);
	free(b);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void average(uint32_t min, uint32_t avg, uint32_t max, bool report)
{
	const size_t n = 64 << 20;
	uint8_t *p = random_buf(n, 1234 + avg);
	struct lb_cdc c;
	size_t off = 0, k = 0;
	double t0, t;

	CHECK_INT(lb_cdc_init(&c, min, avg, max), 0);
	t0 = now();
	while (off < n) {
		size_t l = lb_cdc_next(&c, p + off, n - off, true);

		if (!l)
			break;
		off += l;
		k++;
	}
	t = now() - t0;
	CHECK_U64(off, n);
	{
		double mean = (double)n / (double)k;

		printf("#   min %u avg %u max %u: %zu chunks, mean %.0f (%.2f of avg)\n", min, avg,
		       max, k, mean, mean / avg);
		CHECK(mean >= 0.75 * avg && mean <= 1.25 * avg);
	}
	if (report)
		printf("#   boundary search: %.0f MB/s (information, not checked)\n",
		       (double)n / t / 1e6);
	free(p);
}

static void test_average(void)
{
	average(LB_CDC_MIN_DEFAULT, LB_CDC_AVG_DEFAULT, LB_CDC_MAX_DEFAULT, true);
	average(2048, 8192, 65536, true);
}

LB_TEST_MAIN(T(test_init_rejects), T(test_reference), T(test_golden), T(test_streaming_and_bounds),
	     T(test_short_inputs), T(test_insertion), T(test_average))
