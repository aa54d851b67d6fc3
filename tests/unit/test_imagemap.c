/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/repo/imagemap.c: image map blobs.
 *
 * Malformed blobs are made by hand from the byte layout in
 * docs/repository-format.md (not through the encoder), so the tests also pin
 * the format. With LB_CORPUS_OUT=DIR, test_corpus writes the seeds it checks
 * to DIR/corpus/imagemap/ and DIR/bad/imagemap/ (tests/fuzz/make-repo-corpus.sh).
 */
#include "harness.h"

#include "base/endian.h"
#include "base/err.h"
#include "repo/imagemap.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void fill_id(uint8_t id[LB_ID_LEN], uint32_t n)
{
	for (int i = 0; i < LB_ID_LEN; i++)
		id[i] = (uint8_t)(n * 31 + (uint32_t)i * 7);
}

static void roundtrip(const char *what, struct lb_map_blob *m, size_t want_len)
{
	struct lb_map_blob d;
	uint8_t *p = NULL, *q = NULL;
	size_t n = 0, qn = 0;

	CHECK_INT(lb_map_encode(m, &p, &n), 0);
	if (!p)
		return;
	if (want_len && n != want_len)
		printf("#   %s: %zu bytes, expected %zu\n", what, n, want_len);
	if (want_len)
		CHECK_U64(n, want_len);
	CHECK_INT(lb_map_decode(p, n, &d), 0);
	CHECK_U64(d.first, m->first);
	CHECK_U64(d.count, m->count);
	CHECK_U64(d.chunk_size, m->chunk_size);
	if (d.kinds && d.ids) {
		CHECK(!memcmp(d.kinds, m->kinds, m->count));
		for (uint32_t i = 0; i < m->count; i++)
			if (m->kinds[i] == LB_MAP_DATA && memcmp(d.ids[i], m->ids[i], LB_ID_LEN)) {
				printf("#   %s: ID of chunk %u differs\n", what, i);
				CHECK(0);
				break;
			}
		/* one map, one encoding */
		CHECK_INT(lb_map_encode(&d, &q, &qn), 0);
		CHECK(qn == n && q && !memcmp(p, q, n));
	}
	free(q);
	free(p);
	lb_map_release(&d);
}

static void test_roundtrip(void)
{
	struct lb_map_blob m;

	/* all holes: one run */
	CHECK_INT(lb_map_init(&m, 0, LB_MAP_SPAN, 8192), 0);
	roundtrip("holes", &m, 28 + 5);
	lb_map_release(&m);

	/* all data */
	CHECK_INT(lb_map_init(&m, 3 * LB_MAP_SPAN, LB_MAP_SPAN, 4096), 0);
	for (uint32_t i = 0; i < m.count; i++) {
		m.kinds[i] = LB_MAP_DATA;
		fill_id(m.ids[i], i);
	}
	roundtrip("data", &m, 28 + 5 + 32 * LB_MAP_SPAN);
	lb_map_release(&m);

	/* all zeros, a short last blob of a disk, 1 MiB chunks */
	CHECK_INT(lb_map_init(&m, LB_MAP_SPAN, 17, 1 << 20), 0);
	memset(m.kinds, LB_MAP_ZERO, m.count);
	roundtrip("zeros", &m, 28 + 5);
	lb_map_release(&m);

	/* mixed: hole, data x3, zero x2, data, hole */
	CHECK_INT(lb_map_init(&m, 0, 8, 65536), 0);
	m.kinds[1] = m.kinds[2] = m.kinds[3] = m.kinds[6] = LB_MAP_DATA;
	m.kinds[4] = m.kinds[5] = LB_MAP_ZERO;
	for (uint32_t i = 0; i < 8; i++)
		fill_id(m.ids[i], i + 100);
	roundtrip("mixed", &m, 28 + 5 * 5 + 32 * 4);
	lb_map_release(&m);

	/* alternating hole and data: the most runs */
	CHECK_INT(lb_map_init(&m, 0, LB_MAP_SPAN, 8192), 0);
	for (uint32_t i = 0; i < m.count; i++) {
		m.kinds[i] = i % 2 ? LB_MAP_DATA : LB_MAP_HOLE;
		fill_id(m.ids[i], i);
	}
	roundtrip("alternating", &m, 28 + 5 * LB_MAP_SPAN + 32 * LB_MAP_SPAN / 2);
	/* alternating zero and data, one chunk */
	for (uint32_t i = 0; i < m.count; i++)
		m.kinds[i] = i % 3 == 0 ? LB_MAP_ZERO : i % 3 == 1 ? LB_MAP_DATA : LB_MAP_HOLE;
	roundtrip("three kinds", &m, 0);
	lb_map_release(&m);

	/* a disk ends before 2^63 bytes (its size is an off_t) */
	CHECK_INT(lb_map_init(&m, (1ull << 51) - LB_MAP_SPAN, LB_MAP_SPAN - 1, 4096), 0);
	roundtrip("far", &m, 28 + 5);
	lb_map_release(&m);
}

static void test_init_and_count(void)
{
	struct lb_map_blob m;
	uint64_t c = 0, b = 0;
	uint8_t *p = (uint8_t *)1;
	size_t n = 1;

	CHECK_INT(lb_map_init(&m, 0, 0, 8192), -EINVAL);
	CHECK_INT(lb_map_init(&m, 0, LB_MAP_SPAN + 1, 8192), -EINVAL);
	CHECK_INT(lb_map_init(&m, 1, 1, 8192), -EINVAL);
	CHECK_INT(lb_map_init(&m, 0, 1, 2048), -EINVAL);
	CHECK_INT(lb_map_init(&m, 0, 1, 3 << 12), -EINVAL);
	CHECK_INT(lb_map_init(&m, 0, 1, 2 << 20), -EINVAL);
	CHECK_INT(lb_map_init(&m, 1ull << 51, 1, 4096), -EINVAL);
	CHECK_INT(lb_map_init(&m, (1ull << 51) - LB_MAP_SPAN, LB_MAP_SPAN, 4096), -EINVAL);
	CHECK_INT(lb_map_init(&m, UINT64_MAX - 8191, LB_MAP_SPAN, 4096), -EINVAL);
	lb_map_release(&m);
	lb_map_release(NULL);

	CHECK_INT(lb_map_init(&m, 0, 4, 8192), 0);
	m.kinds[2] = 3;
	CHECK_INT(lb_map_encode(&m, &p, &n), -EINVAL);
	CHECK(p == NULL && n == 0);
	lb_map_release(&m);

	CHECK_INT(lb_map_count(0, 8192, &c, &b), 0);
	CHECK_U64(c, 0);
	CHECK_U64(b, 0);
	CHECK_INT(lb_map_count(1, 8192, &c, &b), 0);
	CHECK_U64(c, 1);
	CHECK_U64(b, 1);
	CHECK_INT(lb_map_count(64ull << 20, 8192, &c, &b), 0);
	CHECK_U64(c, 8192);
	CHECK_U64(b, 1);
	CHECK_INT(lb_map_count((64ull << 20) + 1, 8192, &c, &b), 0);
	CHECK_U64(c, 8193);
	CHECK_U64(b, 2);
	CHECK_INT(lb_map_count(UINT64_MAX, 4096, &c, &b), 0);
	CHECK_U64(c, 1ull << 52);
	CHECK_U64(b, 1ull << 39);
	CHECK_INT(lb_map_count(100, 1000, &c, NULL), -EINVAL);
}

/* ---- malformed blobs, by hand --------------------------------------------------------- */

struct blob {
	uint8_t p[28 + 5 * 8 + 32 * 8 + 64];
	size_t n;
};

static void header(struct blob *b, uint64_t first, uint32_t count, uint32_t cs, uint32_t runs)
{
	memset(b->p, 0, sizeof(b->p));
	memcpy(b->p, "LBMP", 4);
	lb_put_le32(b->p + 4, 1);
	lb_put_le64(b->p + 8, first);
	lb_put_le32(b->p + 16, count);
	lb_put_le32(b->p + 20, cs);
	lb_put_le32(b->p + 24, runs);
	b->n = 28;
}

static void run(struct blob *b, uint8_t kind, uint32_t count, uint32_t ids)
{
	b->p[b->n] = kind;
	lb_put_le32(b->p + b->n + 1, count);
	b->n += 5;
	for (uint32_t i = 0; i < ids; i++) {
		fill_id(b->p + b->n, i);
		b->n += 32;
	}
}

static void mkdirs(const char *path)
{
	char tmp[1024];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *s = tmp + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(tmp, 0755);
			*s = '/';
		}
}

static void save_seed(const char *kind, const char *name, const uint8_t *p, size_t n)
{
	const char *out = getenv("LB_CORPUS_OUT");
	char path[1024];
	int fd;

	if (!out || !*out)
		return;
	snprintf(path, sizeof(path), "%s/%s/imagemap/%s", out, kind, name);
	mkdirs(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(write(fd, p, n), (long long)n);
	close(fd);
}

/* Decode must return @want; seeds are saved as corpus (0) or bad (E...-name). */
static void expect(const char *name, const uint8_t *p, size_t n, int want)
{
	struct lb_map_blob d;
	int r = lb_map_decode(p, n, &d);
	char file[128];

	if (r != want)
		printf("#   %s: decode returned %d (%s), expected %d\n", name, r,
		       lb_err_last()->problem, want);
	CHECK_INT(r, want);
	if (r == 0)
		lb_map_release(&d);
	else
		CHECK(d.kinds == NULL && d.ids == NULL && d.count == 0);
	snprintf(file, sizeof(file), "%s%s",
		 want == -EBADMSG     ? "EBADMSG-"
		 : want == -EOVERFLOW ? "EOVERFLOW-"
				      : "",
		 name);
	save_seed(want < 0 ? "bad" : "corpus", file, p, n);
}

static void test_malformed(void)
{
	struct blob b, g;

	/* the good one: hole 2, data 3, zero 1, data 2 */
	header(&g, LB_MAP_SPAN * 5, 8, 8192, 4);
	run(&g, 0, 2, 0);
	run(&g, 2, 3, 3);
	run(&g, 1, 1, 0);
	run(&g, 2, 2, 2);
	expect("mixed", g.p, g.n, 0);

	/* every truncation */
	for (size_t n = 0; n < g.n; n++) {
		struct lb_map_blob d;

		CHECK_INT(lb_map_decode(g.p, n, &d), -EBADMSG);
	}
	expect("truncated-in-ids", g.p, g.n - 1, -EBADMSG);
	expect("truncated-header", g.p, 27, -EBADMSG);
	b = g;
	b.p[b.n++] = 0;
	expect("trailing-byte", b.p, b.n, -EBADMSG);
	b = g;
	b.p[0] = 'X';
	expect("magic", b.p, b.n, -EBADMSG);
	b = g;
	lb_put_le32(b.p + 4, 2);
	expect("version-2", b.p, b.n, -EBADMSG);

	header(&b, 0, 0, 8192, 0);
	expect("no-chunks", b.p, b.n, -EBADMSG);
	header(&b, 0, LB_MAP_SPAN + 1, 8192, 1);
	run(&b, 0, LB_MAP_SPAN + 1, 0);
	expect("count-over-span", b.p, b.n, -EOVERFLOW);
	header(&b, 0, 0xffffffff, 8192, 1);
	run(&b, 0, 0xffffffff, 0);
	expect("count-huge", b.p, b.n, -EOVERFLOW);
	header(&b, 0, 1, 3000, 1);
	run(&b, 0, 1, 0);
	expect("chunk-size-not-power-of-2", b.p, b.n, -EBADMSG);
	header(&b, 0, 1, 2048, 1);
	run(&b, 0, 1, 0);
	expect("chunk-size-small", b.p, b.n, -EBADMSG);
	header(&b, 0, 1, 2 << 20, 1);
	run(&b, 0, 1, 0);
	expect("chunk-size-big", b.p, b.n, -EBADMSG);
	header(&b, 0, 1, 0, 1);
	run(&b, 0, 1, 0);
	expect("chunk-size-zero", b.p, b.n, -EBADMSG);
	header(&b, 100, 1, 8192, 1);
	run(&b, 0, 1, 0);
	expect("first-unaligned", b.p, b.n, -EBADMSG);
	header(&b, UINT64_MAX - (LB_MAP_SPAN - 1), LB_MAP_SPAN, 4096, 1);
	run(&b, 0, LB_MAP_SPAN, 0);
	expect("first-plus-count-wraps", b.p, b.n, -EOVERFLOW);
	header(&b, (1ull << 51) - LB_MAP_SPAN, LB_MAP_SPAN, 4096, 1);
	run(&b, 0, LB_MAP_SPAN, 0);
	expect("ends-at-2-63-bytes", b.p, b.n, -EOVERFLOW);
	header(&b, (1ull << 51) - LB_MAP_SPAN, LB_MAP_SPAN - 1, 4096, 1);
	run(&b, 0, LB_MAP_SPAN - 1, 0);
	expect("last-possible", b.p, b.n, 0);

	header(&b, 0, 4, 8192, 0);
	expect("no-runs", b.p, b.n, -EBADMSG);
	header(&b, 0, 4, 8192, 5);
	run(&b, 0, 1, 0);
	run(&b, 1, 1, 0);
	run(&b, 0, 1, 0);
	run(&b, 1, 1, 0);
	expect("more-runs-than-chunks", b.p, b.n, -EBADMSG);
	header(&b, 0, 4, 8192, 2);
	run(&b, 3, 2, 0);
	run(&b, 0, 2, 0);
	expect("kind-3", b.p, b.n, -EBADMSG);
	header(&b, 0, 4, 8192, 2);
	run(&b, 0, 0, 0);
	run(&b, 1, 4, 0);
	expect("empty-run", b.p, b.n, -EBADMSG);
	header(&b, 0, 4, 8192, 2);
	run(&b, 0, 2, 0);
	run(&b, 1, 3, 0);
	expect("runs-exceed-count", b.p, b.n, -EBADMSG);
	header(&b, 0, 4, 8192, 2);
	run(&b, 0, 1, 0);
	run(&b, 1, 2, 0);
	expect("runs-short-of-count", b.p, b.n, -EBADMSG);
	header(&b, 0, 4, 8192, 1);
	run(&b, 0, 3, 0);
	run(&b, 1, 1, 0);
	expect("run-count-too-small", b.p, b.n, -EBADMSG);
	header(&b, 0, 4, 8192, 2);
	run(&b, 0, 2, 0);
	run(&b, 0, 2, 0);
	expect("holes-not-merged", b.p, b.n, -EBADMSG);
	header(&b, 0, 4, 8192, 2);
	run(&b, 2, 2, 2);
	run(&b, 2, 2, 2);
	expect("data-not-merged", b.p, b.n, -EBADMSG);
	header(&b, 0, 4, 8192, 1);
	run(&b, 2, 4, 3);
	expect("ids-missing", b.p, b.n, -EBADMSG);
	header(&b, 0, 0x40000000, 8192, 1);
	run(&b, 2, 0x40000000, 0);
	expect("data-count-overflows-ids", b.p, b.n, -EOVERFLOW);
	header(&b, 0, 8, 8192, 1);
	run(&b, 2, 0x08000000, 0); /* 32 * count wraps a 32-bit size */
	expect("run-count-wraps", b.p, b.n, -EBADMSG);
}

/* What the encoder writes is also saved as seeds. */
static void test_corpus(void)
{
	struct lb_map_blob m;
	uint8_t *p = NULL;
	size_t n = 0;

	CHECK_INT(lb_map_init(&m, 0, 64, 8192), 0);
	for (uint32_t i = 0; i < 64; i++) {
		m.kinds[i] = (uint8_t)((i / 5) % 3);
		fill_id(m.ids[i], i);
	}
	CHECK_INT(lb_map_encode(&m, &p, &n), 0);
	if (p)
		expect("encoded-mixed", p, n, 0);
	free(p);
	lb_map_release(&m);
	CHECK_INT(lb_map_init(&m, LB_MAP_SPAN, 1, 4096), 0);
	CHECK_INT(lb_map_encode(&m, &p, &n), 0);
	if (p)
		expect("encoded-one-hole", p, n, 0);
	free(p);
	lb_map_release(&m);
}

static void test_alloc_failures(void)
{
	struct lb_map_blob m, d;
	uint8_t *p = NULL;
	size_t n = 0;
	unsigned ok = 0, failed = 0;

	CHECK_INT(lb_map_init(&m, 0, 100, 8192), 0);
	for (uint32_t i = 0; i < 100; i++)
		m.kinds[i] = i % 7 ? LB_MAP_DATA : LB_MAP_ZERO;
	CHECK_INT(lb_map_encode(&m, &p, &n), 0);
	for (unsigned long k = 1; k < 8; k++) {
		uint8_t *q = NULL;
		size_t qn;
		int r;

		lb_test_alloc_fail_at(k);
		r = lb_map_decode(p, n, &d);
		lb_test_alloc_fail_at(0);
		CHECK(r == 0 || r == -ENOMEM);
		if (r == 0)
			lb_map_release(&d);
		else
			CHECK(d.kinds == NULL && d.ids == NULL);
		ok += r == 0;
		failed += r == -ENOMEM;
		lb_test_alloc_fail_at(k);
		r = lb_map_encode(&m, &q, &qn);
		lb_test_alloc_fail_at(0);
		CHECK(r == 0 || r == -ENOMEM);
		free(q);
	}
	CHECK(ok > 0);
#ifndef __SANITIZE_ADDRESS__
	CHECK(failed >= 2); /* kinds, ids */
#endif
	free(p);
	lb_map_release(&m);
}

LB_TEST_MAIN(T(test_roundtrip), T(test_init_and_count), T(test_malformed), T(test_corpus),
	     T(test_alloc_failures))
