/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/io/dev.c (the interface's invariants, the memory device,
 * slices, extents), src/io/fault.c (every rule, bad specs) and src/io/file.c
 * (holes of a sparse file).
 */
#include "harness.h"

#include "base/cleanup.h"
#include "base/err.h"
#include "io/dev.h"
#include "io/fault.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define KIB 1024

static void fill(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 13 + 1);
}

/* ---- a scripted device: counts calls, can misbehave ------------------------ */

struct script {
	uint8_t *mem;
	size_t max_io; /* > 0: transfer at most this much per call */
	ssize_t force; /* != 0: every call returns this */
	bool eof;      /* every call returns 0 */
	unsigned reads, writes;
	/* extents to report, as given (possibly out of order or out of range) */
	const uint64_t (*ext)[3];
	size_t next;
};

static ssize_t script_pread(struct lb_dev *dev, void *buf, size_t len, uint64_t off)
{
	struct script *s = dev->priv;

	s->reads++;
	if (s->eof)
		return 0;
	if (s->force)
		return s->force;
	if (s->max_io && len > s->max_io)
		len = s->max_io;
	memcpy(buf, s->mem + off, len);
	return (ssize_t)len;
}

static ssize_t script_pwrite(struct lb_dev *dev, const void *buf, size_t len, uint64_t off)
{
	struct script *s = dev->priv;

	s->writes++;
	if (s->eof)
		return 0;
	if (s->force)
		return s->force;
	if (s->max_io && len > s->max_io)
		len = s->max_io;
	memcpy(s->mem + off, buf, len);
	return (ssize_t)len;
}

static int script_extents(struct lb_dev *dev, uint64_t off, uint64_t len, lb_extent_fn fn,
			  void *opaque)
{
	struct script *s = dev->priv;

	(void)off;
	(void)len;
	for (size_t i = 0; s->ext && s->ext[i][1]; i++) {
		int r = fn(opaque, s->ext[i][0], s->ext[i][1], (enum lb_extent_type)s->ext[i][2]);

		if (r < 0)
			return r;
	}
	return 0;
}

static const struct lb_dev_ops script_ops = {
	.version = LB_DEV_OPS_VERSION,
	.kind = "script",
	.pread = script_pread,
	.pwrite = script_pwrite,
	.extents = script_extents,
};

/* ---- collecting extents ----------------------------------------------------- */

struct ext_list {
	uint64_t off[32], len[32];
	enum lb_extent_type type[32];
	unsigned n;
	int stop_after; /* > 0: return -ECANCELED after this many */
};

static int collect(void *opaque, uint64_t off, uint64_t len, enum lb_extent_type type)
{
	struct ext_list *l = opaque;

	if (l->n < 32) {
		l->off[l->n] = off;
		l->len[l->n] = len;
		l->type[l->n] = type;
	}
	l->n++;
	if (l->stop_after && l->n >= (unsigned)l->stop_after)
		return -ECANCELED;
	return 0;
}

/* The invariant of lb_dev_extents: [off, off+len) covered in order, with no gaps. */
static void check_cover(const struct ext_list *l, uint64_t off, uint64_t len)
{
	uint64_t next = off;

	CHECK(l->n <= 32);
	for (unsigned i = 0; i < l->n && i < 32; i++) {
		CHECK_U64(l->off[i], next);
		CHECK(l->len[i] > 0);
		next = l->off[i] + l->len[i];
	}
	CHECK_U64(next, off + len);
}

/* ---- memory device, refcounts ------------------------------------------------ */

static void test_mem_dev(void)
{
	uint8_t mem[4096], buf[4096];
	struct lb_dev *d = lb_mem_dev_new(mem, sizeof(mem), false, "memory");
	struct ext_list l = {0};
	uint64_t alloc = 0;

	fill(mem, sizeof(mem));
	CHECK_STR(d->name, "memory");
	CHECK_STR(d->ops->kind, "mem");
	CHECK_U64(d->size, 4096);
	CHECK_INT(d->sector_size, 512);
	CHECK_INT(d->refs, 1);
	CHECK(!d->read_only);
	CHECK_INT(lb_dev_pread(d, buf, 4096, 0), 0);
	CHECK(memcmp(buf, mem, 4096) == 0);
	CHECK_INT(lb_dev_pread(d, buf, 0, 4096), 0); /* empty, at the end */
	CHECK_INT(lb_dev_pread(d, buf, 1, 4096), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "beyond the end");
	CHECK_STR(lb_err_last()->object, "memory");
	CHECK_INT(lb_dev_pread(d, buf, 4097, 0), -EINVAL);
	CHECK_INT(lb_dev_pread(d, buf, 2, UINT64_MAX), -EINVAL);
	CHECK_INT(lb_dev_pread(d, buf, SIZE_MAX, 1), -EINVAL);
	memcpy(buf, "hello", 5);
	CHECK_INT(lb_dev_pwrite(d, buf, 5, 4091), 0);
	CHECK(memcmp(mem + 4091, "hello", 5) == 0);
	CHECK_INT(lb_dev_pwrite(d, buf, 6, 4091), -EINVAL);
	CHECK_INT(lb_dev_flush(d), 0);
	/* a device that cannot tell holes reports one data extent */
	CHECK_INT(lb_dev_extents(d, 100, 1000, collect, &l), 0);
	CHECK_INT(l.n, 1);
	CHECK_INT(l.type[0], LB_EXTENT_DATA);
	check_cover(&l, 100, 1000);
	/* a range past the end is clipped, a start past the end is refused */
	l.n = 0;
	CHECK_INT(lb_dev_extents(d, 4000, 1000, collect, &l), 0);
	check_cover(&l, 4000, 96);
	CHECK_INT(lb_dev_extents(d, 4097, 1, collect, &l), -EINVAL);
	CHECK_INT(lb_dev_allocated(d, &alloc), 0);
	CHECK_U64(alloc, 4096);
	lb_dev_unref(d);

	/* a NULL name takes the kind */
	d = lb_mem_dev_new(mem, sizeof(mem), false, NULL);
	CHECK_STR(d->name, "mem");
	lb_dev_unref(d);
	lb_dev_unref(NULL);
}

static void test_read_only(void)
{
	uint8_t mem[1024], copy[1024], buf[16] = {1, 2, 3};
	struct lb_dev *d = lb_mem_dev_new(mem, sizeof(mem), true, "ro");
	struct lb_dev *s;

	fill(mem, sizeof(mem));
	memcpy(copy, mem, sizeof(mem));
	CHECK(d->read_only);
	CHECK_INT(lb_dev_pwrite(d, buf, 16, 0), -EROFS);
	CHECK_CONTAINS(lb_err_last()->problem, "read-only");
	/* refused before the range is looked at */
	CHECK_INT(lb_dev_pwrite(d, buf, 16, UINT64_MAX), -EROFS);
	CHECK(memcmp(mem, copy, sizeof(mem)) == 0);
	/* a slice of a read-only device is read-only */
	CHECK_INT(lb_slice_dev_new(d, 0, 512, "slice", &s), 0);
	CHECK(s->read_only);
	CHECK_INT(lb_dev_pwrite(s, buf, 1, 0), -EROFS);
	CHECK(memcmp(mem, copy, sizeof(mem)) == 0);
	lb_dev_unref(s);
	lb_dev_unref(d);
}

static void test_refcounts(void)
{
	uint8_t mem[1024], buf[4];
	struct lb_dev *d = lb_mem_dev_new(mem, sizeof(mem), false, "disk");
	struct lb_dev *s1, *s2;

	memset(mem, 'x', sizeof(mem));
	CHECK(lb_dev_ref(d) == d);
	CHECK_INT(d->refs, 2);
	lb_dev_unref(d);
	CHECK_INT(d->refs, 1);
	CHECK_INT(lb_slice_dev_new(d, 0, 512, "a", &s1), 0);
	CHECK_INT(lb_slice_dev_new(s1, 256, 256, "b", &s2), 0);
	CHECK_INT(d->refs, 2);
	CHECK_INT(s1->refs, 2);
	/* the caller drops its references: the stack lives on through s2 */
	lb_dev_unref(d);
	lb_dev_unref(s1);
	CHECK_INT(s2->lower->refs, 1);
	CHECK_INT(s2->lower->lower->refs, 1);
	CHECK_INT(lb_dev_pread(s2, buf, 4, 252), 0);
	CHECK(memcmp(buf, "xxxx", 4) == 0);
	lb_dev_unref(s2); /* frees all three (valgrind checks) */
	CHECK(lb_dev_ref(NULL) == NULL);
}

/* ---- slices ------------------------------------------------------------------ */

static void test_slice(void)
{
	uint8_t mem[8192], buf[8192];
	struct lb_dev *d = lb_mem_dev_new(mem, sizeof(mem), false, "disk");
	struct lb_dev *s = NULL, *s2 = NULL;

	fill(mem, sizeof(mem));
	/* windows that do not fit are refused */
	CHECK_INT(lb_slice_dev_new(d, 8192, 1, "s", &s), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "is outside disk");
	CHECK_INT(lb_slice_dev_new(d, 8193, 0, "s", &s), -EINVAL);
	CHECK_INT(lb_slice_dev_new(d, 4096, 4097, "s", &s), -EINVAL);
	CHECK_INT(lb_slice_dev_new(d, UINT64_MAX, 2, "s", &s), -EINVAL);
	CHECK_INT(lb_slice_dev_new(d, 2, UINT64_MAX, "s", &s), -EINVAL);
	CHECK(s == NULL);
	CHECK_INT(lb_slice_dev_new(d, 8192, 0, "empty", &s), 0);
	CHECK_U64(s->size, 0);
	CHECK_INT(lb_dev_pread(s, buf, 1, 0), -EINVAL);
	lb_dev_unref(s);

	CHECK_INT(lb_slice_dev_new(d, 1000, 3000, "part", &s), 0);
	CHECK_STR(s->ops->kind, "slice");
	CHECK_U64(s->size, 3000);
	CHECK_INT(lb_dev_pread(s, buf, 3000, 0), 0);
	CHECK(memcmp(buf, mem + 1000, 3000) == 0);
	CHECK_INT(lb_dev_pread(s, buf, 1, 3000), -EINVAL);
	CHECK_INT(lb_dev_pread(s, buf, 3001, 0), -EINVAL);
	memset(buf, 0xab, 16);
	CHECK_INT(lb_dev_pwrite(s, buf, 16, 2990), -EINVAL);
	CHECK_INT(mem[3990], (uint8_t)(3990 * 13 + 1)); /* nothing written */
	CHECK_INT(lb_dev_pwrite(s, buf, 10, 2990), 0);
	CHECK_INT(mem[3999], 0xab);
	CHECK_INT(mem[4000], (uint8_t)(4000 * 13 + 1));
	/* a slice of a slice adds the offsets and stays inside both */
	CHECK_INT(lb_slice_dev_new(s, 500, 2501, "sub", &s2), -EINVAL);
	CHECK_INT(lb_slice_dev_new(s, 500, 2500, "sub", &s2), 0);
	CHECK_INT(lb_dev_pread(s2, buf, 4, 0), 0);
	CHECK(memcmp(buf, mem + 1500, 4) == 0);
	CHECK_INT(lb_dev_pread(s2, buf, 1, 2500), -EINVAL);
	CHECK_INT(lb_dev_flush(s2), 0);
	lb_dev_unref(s2);
	lb_dev_unref(s);
	lb_dev_unref(d);
}

static void test_extents_guard(void)
{
	static const uint64_t holes[][3] = {
		{0, 4096, LB_EXTENT_DATA},
		{4096, 8192, LB_EXTENT_HOLE},
		{12288, 4096, LB_EXTENT_ZERO},
		{0, 0, 0},
	};
	/* out of order, overlapping, zero-length, past the end, an unknown type */
	static const uint64_t messy[][3] = {
		{1000, 0, LB_EXTENT_HOLE},
		{2048, 2048, LB_EXTENT_HOLE},
		{0, 3000, LB_EXTENT_ZERO},
		{4096, 4096, 7},
		{6000, 100, LB_EXTENT_HOLE},
		{12288, UINT64_MAX, LB_EXTENT_HOLE},
		{0, 0, 0},
	};
	uint8_t mem[32768];
	struct script sc = {.mem = mem, .ext = holes};
	struct lb_dev *d = lb_dev_new(&script_ops, &sc, sizeof(mem), NULL, false, "holes");
	struct lb_dev *s;
	struct ext_list l = {0};
	uint64_t alloc;

	/* gaps are filled as data; adjacent extents of one type merged */
	CHECK_INT(lb_dev_extents(d, 0, sizeof(mem), collect, &l), 0);
	check_cover(&l, 0, sizeof(mem));
	CHECK_INT(l.n, 4);
	CHECK_INT(l.type[0], LB_EXTENT_DATA);
	CHECK_INT(l.type[1], LB_EXTENT_HOLE);
	CHECK_U64(l.off[1], 4096);
	CHECK_U64(l.len[1], 8192);
	CHECK_INT(l.type[2], LB_EXTENT_ZERO);
	CHECK_INT(l.type[3], LB_EXTENT_DATA);
	CHECK_U64(l.off[3], 16384);
	CHECK_INT(lb_dev_allocated(d, &alloc), 0);
	CHECK_U64(alloc, sizeof(mem) - 8192);

	/* a slice reports its own offsets */
	CHECK_INT(lb_slice_dev_new(d, 2048, 12288, "slice", &s), 0);
	l.n = 0;
	CHECK_INT(lb_dev_extents(s, 0, s->size, collect, &l), 0);
	check_cover(&l, 0, 12288);
	CHECK_INT(l.n, 3);
	CHECK_U64(l.len[0], 2048);
	CHECK_INT(l.type[1], LB_EXTENT_HOLE);
	CHECK_U64(l.off[1], 2048);
	CHECK_U64(l.len[1], 8192);
	CHECK_INT(l.type[2], LB_EXTENT_ZERO);
	CHECK_U64(l.len[2], 2048);
	lb_dev_unref(s);

	/* a callback's error stops the walk and is returned */
	l.n = 0;
	l.stop_after = 2;
	CHECK_INT(lb_dev_extents(d, 0, sizeof(mem), collect, &l), -ECANCELED);
	CHECK_INT(l.n, 2);

	/* whatever an implementation reports, the caller sees the invariant */
	sc.ext = messy;
	for (uint64_t off = 0; off < sizeof(mem); off += 1500) {
		memset(&l, 0, sizeof(l));
		CHECK_INT(lb_dev_extents(d, off, sizeof(mem) - off, collect, &l), 0);
		check_cover(&l, off, sizeof(mem) - off);
		for (unsigned i = 0; i < l.n && i < 32; i++)
			CHECK(l.type[i] <= LB_EXTENT_HOLE);
	}
	lb_dev_unref(d);
}

static void test_short_and_failing_io(void)
{
	uint8_t mem[4096], buf[4096];
	struct script sc = {.mem = mem, .max_io = 100};
	struct lb_dev *d = lb_dev_new(&script_ops, &sc, sizeof(mem), NULL, false, "script");

	fill(mem, sizeof(mem));
	/* short transfers are repeated until done */
	CHECK_INT(lb_dev_pread(d, buf, 1000, 10), 0);
	CHECK(memcmp(buf, mem + 10, 1000) == 0);
	CHECK_INT(sc.reads, 10);
	memset(buf, 0x77, 1000);
	CHECK_INT(lb_dev_pwrite(d, buf, 1000, 3000), 0);
	CHECK_INT(sc.writes, 10);
	CHECK_INT(mem[3999], 0x77);
	/* an error, no progress, or more than asked: an error, not a loop */
	sc.max_io = 0;
	sc.force = -EIO;
	CHECK_INT(lb_dev_pread(d, buf, 10, 0), -EIO);
	CHECK_INT(lb_dev_pwrite(d, buf, 10, 0), -EIO);
	sc.force = -ENOSPC;
	CHECK_INT(lb_dev_pwrite(d, buf, 10, 0), -ENOSPC);
	sc.force = 20;
	CHECK_INT(lb_dev_pread(d, buf, 10, 0), -EIO);
	CHECK_CONTAINS(lb_err_last()->problem, "unexpected end of data");
	CHECK_INT(lb_dev_pwrite(d, buf, 10, 0), -EIO);
	sc.eof = true;
	sc.force = 0;
	sc.reads = 0;
	CHECK_INT(lb_dev_pread(d, buf, 10, 0), -EIO);
	CHECK_INT(sc.reads, 1);
	CHECK_INT(lb_dev_pwrite(d, buf, 10, 0), -EIO);
	CHECK_CONTAINS(lb_err_last()->problem, "no progress");
	sc.eof = false;
	{
		/* no pwrite: read-only by nature */
		static const struct lb_dev_ops ro_ops = {
			.version = LB_DEV_OPS_VERSION,
			.kind = "ro",
			.pread = script_pread,
		};
		struct lb_dev *ro = lb_dev_new(&ro_ops, &sc, sizeof(mem), NULL, false, NULL);

		CHECK(ro->read_only);
		CHECK_STR(ro->name, "ro");
		CHECK_INT(lb_dev_pread(ro, buf, 10, 0), 0);
		CHECK_INT(lb_dev_pwrite(ro, buf, 1, 0), -EROFS);
		CHECK_INT(lb_dev_flush(ro), 0);
		lb_dev_unref(ro);
	}
	lb_dev_unref(d);
}

/* ---- fault filter ------------------------------------------------------------- */

static struct lb_dev *faulty(uint8_t *mem, size_t n, struct script *sc, const char *spec)
{
	struct lb_dev *lower, *f = NULL;

	memset(sc, 0, sizeof(*sc));
	sc->mem = mem;
	lower = lb_dev_new(&script_ops, sc, n, NULL, false, "guest");
	if (lb_fault_dev_new(lower, spec, &f) < 0)
		lb_test_fail(__FILE__, __LINE__, "spec '%s' refused: %s", spec,
			     lb_err_last()->problem);
	lb_dev_unref(lower);
	return f;
}

static void test_fault_read_error(void)
{
	uint8_t mem[8192], buf[8192];
	struct script sc;
	struct lb_dev *f = faulty(mem, sizeof(mem), &sc, "read-error=4K+512");

	fill(mem, sizeof(mem));
	CHECK_STR(f->ops->kind, "fault");
	CHECK_STR(f->name, "guest");
	CHECK_U64(f->size, sizeof(mem));
	CHECK_INT(lb_dev_pread(f, buf, 4096, 0), 0);   /* ends just before */
	CHECK_INT(lb_dev_pread(f, buf, 100, 4608), 0); /* starts just after */
	CHECK(memcmp(buf, mem + 4608, 100) == 0);
	CHECK_INT(lb_dev_pread(f, buf, 4097, 0), -EIO);
	CHECK_CONTAINS(lb_err_last()->problem, "(injected)");
	CHECK_INT(lb_dev_pread(f, buf, 1, 4607), -EIO);
	CHECK_INT(lb_dev_pread(f, buf, 8192, 0), -EIO);
	/* writes are not affected */
	CHECK_INT(lb_dev_pwrite(f, buf, 512, 4096), 0);
	lb_dev_unref(f);

	f = faulty(mem, sizeof(mem), &sc, "read-error=100"); /* one byte */
	CHECK_INT(lb_dev_pread(f, buf, 100, 0), 0);
	CHECK_INT(lb_dev_pread(f, buf, 1, 100), -EIO);
	CHECK_INT(lb_dev_pread(f, buf, 1, 101), 0);
	lb_dev_unref(f);
}

static void test_fault_write_error(void)
{
	uint8_t mem[8192], copy[8192], buf[1024];
	struct script sc;
	struct lb_dev *f = faulty(mem, sizeof(mem), &sc, "write-error=1K+1K");

	fill(mem, sizeof(mem));
	memcpy(copy, mem, sizeof(mem));
	memset(buf, 0x55, sizeof(buf));
	CHECK_INT(lb_dev_pwrite(f, buf, 1, 1023), 0);
	CHECK_INT(lb_dev_pwrite(f, buf, 2, 2047), -EIO);
	CHECK_INT(lb_dev_pwrite(f, buf, 1, 2048), 0);
	CHECK_INT(mem[1023], 0x55);
	CHECK_INT(mem[2047], copy[2047]);		/* the failed write did not land */
	CHECK_INT(lb_dev_pread(f, buf, 1024, 1024), 0); /* reads are not affected */
	lb_dev_unref(f);
}

static void test_fault_enospc(void)
{
	uint8_t mem[8192], buf[1024] = {0};
	struct script sc;
	struct lb_dev *f = faulty(mem, sizeof(mem), &sc, "enospc=6K");

	CHECK_INT(lb_dev_pwrite(f, buf, 1024, 5 * 1024), 0);
	CHECK_INT(lb_dev_pwrite(f, buf, 1024, 5 * 1024 + 1), -ENOSPC);
	CHECK_INT(lb_dev_pwrite(f, buf, 1, 8191), -ENOSPC);
	CHECK_CONTAINS(lb_err_last()->hint, "free space");
	lb_dev_unref(f);
}

static void test_fault_flip(void)
{
	uint8_t mem[4096], buf[4096];
	struct script sc;
	struct lb_dev *f = faulty(mem, sizeof(mem), &sc, "flip=1000:7");

	memset(mem, 0x0f, sizeof(mem));
	CHECK_INT(lb_dev_pread(f, buf, 4096, 0), 0);
	CHECK_INT(buf[1000], 0x8f);
	CHECK_INT(buf[999], 0x0f);
	CHECK_INT(buf[1001], 0x0f);
	CHECK_INT(mem[1000], 0x0f); /* only what is read is changed */
	CHECK_INT(lb_dev_pread(f, buf, 1, 1000), 0);
	CHECK_INT(buf[0], 0x8f);
	CHECK_INT(lb_dev_pread(f, buf, 10, 1001), 0);
	CHECK_INT(buf[0], 0x0f);
	CHECK_INT(lb_dev_pread(f, buf, 1000, 0), 0);
	CHECK_INT(buf[999], 0x0f);
	lb_dev_unref(f);

	f = faulty(mem, sizeof(mem), &sc, "flip=0,flip=4095:1"); /* default bit 0 */
	CHECK_INT(lb_dev_pread(f, buf, 4096, 0), 0);
	CHECK_INT(buf[0], 0x0e);
	CHECK_INT(buf[4095], 0x0d);
	lb_dev_unref(f);
	/* a flip beyond the device never touches memory */
	f = faulty(mem, sizeof(mem), &sc, "flip=1G");
	CHECK_INT(lb_dev_pread(f, buf, 4096, 0), 0);
	CHECK_INT(buf[0], 0x0f);
	lb_dev_unref(f);
}

static void test_fault_short_reads(void)
{
	uint8_t mem[4096], buf[4096];
	struct script sc;
	struct lb_dev *f = faulty(mem, sizeof(mem), &sc, "short-reads");

	fill(mem, sizeof(mem));
	CHECK_INT(lb_dev_pread(f, buf, 4096, 0), 0);
	CHECK(memcmp(buf, mem, 4096) == 0);
	CHECK(sc.reads >= 12); /* halved each time: 2048, 1024, ... */
	sc.reads = 0;
	CHECK_INT(lb_dev_pread(f, buf, 1, 4095), 0);
	CHECK_INT(buf[0], mem[4095]);
	CHECK_INT(sc.reads, 1);
	lb_dev_unref(f);
	/* with a flip: the flipped byte is where it should be, however the read is cut */
	f = faulty(mem, sizeof(mem), &sc, "short-reads,flip=3000:3");
	CHECK_INT(lb_dev_pread(f, buf, 4000, 96), 0);
	CHECK_INT(buf[3000 - 96], mem[3000] ^ 8);
	CHECK_INT(buf[2999 - 96], mem[2999]);
	lb_dev_unref(f);
}

static void test_fault_write_limit(void)
{
	uint8_t mem[4096], buf[16] = {9};
	struct script sc;
	struct lb_dev *f = faulty(mem, sizeof(mem), &sc, "write-limit=3");

	for (int i = 0; i < 3; i++)
		CHECK_INT(lb_dev_pwrite(f, buf, 16, (uint64_t)i * 16), 0);
	CHECK_INT(lb_dev_pwrite(f, buf, 16, 100), -EIO);
	CHECK_CONTAINS(lb_err_last()->problem, "after 3 writes");
	CHECK_INT(lb_dev_pwrite(f, buf, 16, 200), -EIO);
	CHECK_INT(sc.writes, 3);
	CHECK_INT(lb_dev_pread(f, mem, 16, 0), 0);
	lb_dev_unref(f);
	f = faulty(mem, sizeof(mem), &sc, "write-limit=0");
	CHECK_INT(lb_dev_pwrite(f, buf, 1, 0), -EIO);
	lb_dev_unref(f);
}

static void test_fault_specs(void)
{
	static const char *const good[] = {
		"",
		"short-reads",
		"read-error=0",
		"read-error=1M+4K",
		"read-error=2048s+1s",
		"write-error=10+10",
		"enospc=1G",
		"flip=7",
		"flip=7:0",
		"flip=7:7",
		"write-limit=0",
		"write-limit=18446744073709551615",
		"read-error=1,write-error=2,enospc=3,flip=4:5,short-reads,write-limit=6",
		"read-error=1,", /* a trailing comma ends the list */
		"kill-at-write=1",
		"kill-after-write=3",
		"crash-at-write=18446744073709551615",
	};
	static const char *const bad[] = {
		"bogus",
		"read-error",
		"read-error=",
		"read-error=x",
		"read-error=1+0",
		"read-error=1+",
		"read-error=+1",
		"read-error=-1",
		"read-error=1X",
		"write-error=1++1",
		"enospc=",
		"enospc=1+1",
		"flip=1:8",
		"flip=1:",
		"flip=:1",
		"flip=1:1:1",
		"flip=99999999999999999999",
		"short-reads=1",
		"short-reads2",
		"write-limit=1K",
		"write-limit=-1",
		",",
		"read-error=1,,flip=2",
		",read-error=1",
		"READ-ERROR=1",
		"read-error =1",
		"read-error=1 ",
		"kill-at-write=0", /* write requests count from 1 */
		"kill-at-write",
		"kill-after-write=1K",
		"crash-at-write=-1",
		"kill-at-writes=1",
	};
	char spec[4096];
	struct lb_dev *lower, *f = NULL;
	uint8_t mem[16];
	size_t n = 0;

	for (size_t i = 0; i < LB_ARRAY_SIZE(good); i++)
		if (lb_fault_spec_check(good[i]) != 0)
			lb_test_fail(__FILE__, __LINE__, "good spec '%s' refused", good[i]);
	for (size_t i = 0; i < LB_ARRAY_SIZE(bad); i++)
		if (lb_fault_spec_check(bad[i]) != -EINVAL)
			lb_test_fail(__FILE__, __LINE__, "bad spec '%s' accepted", bad[i]);
	CHECK_INT(lb_fault_spec_check("enospc=1,bogus=2"), -EINVAL);
	CHECK_STR(lb_err_last()->object, "LIFEBOAT_FAULT");
	CHECK_CONTAINS(lb_err_last()->problem, "'bogus=2'");

	/* 32 rules are fine, 33 are not */
	spec[0] = '\0';
	for (int i = 0; i < LB_FAULT_MAX_RULES; i++)
		n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%sflip=%d", i ? "," : "", i);
	CHECK_INT(lb_fault_spec_check(spec), 0);
	snprintf(spec + n, sizeof(spec) - n, ",flip=99");
	CHECK_INT(lb_fault_spec_check(spec), -EINVAL);
	/* over-long rules and values */
	memset(spec, '1', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	memcpy(spec, "read-error=", 11);
	CHECK_INT(lb_fault_spec_check(spec), -EINVAL);
	spec[100] = '\0';
	CHECK_INT(lb_fault_spec_check(spec), -EINVAL); /* 89 digits: out of range */

	/* the filter is not created for a bad spec */
	lower = lb_mem_dev_new(mem, sizeof(mem), true, "x");
	CHECK_INT(lb_fault_dev_new(lower, "flip=1:9", &f), -EINVAL);
	CHECK(f == NULL);
	CHECK_INT(lower->refs, 1);
	CHECK_INT(lb_fault_dev_new(lower, "flip=1", &f), 0);
	CHECK(f->read_only);
	CHECK_INT(lb_dev_pwrite(f, mem, 1, 0), -EROFS);
	lb_dev_unref(f);
	lb_dev_unref(lower);
}

/* ---- file device --------------------------------------------------------------- */

static void test_file_sparse(void)
{
	char path[] = "/tmp/lifeboat-test-dev-XXXXXX";
	uint8_t data[4096], buf[4096];
	struct lb_dev *d = NULL;
	struct ext_list l = {0};
	uint64_t alloc = 0;
	bool holes;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	fill(data, sizeof(data));
	CHECK_INT(ftruncate(fd, 1 << 20), 0);
	CHECK_INT(pwrite(fd, data, sizeof(data), 512 * KIB), (ssize_t)sizeof(data));
	holes = lseek(fd, 0, SEEK_DATA) == 512 * KIB;
	close(fd);

	CHECK_INT(lb_file_dev_open(path, true, &d), 0);
	if (!d)
		goto out;
	CHECK_STR(d->ops->kind, "file");
	CHECK_STR(d->name, path);
	CHECK_U64(d->size, 1 << 20);
	CHECK(d->read_only);
	CHECK_INT(lb_dev_pread(d, buf, 4096, 512 * KIB), 0);
	CHECK(memcmp(buf, data, 4096) == 0);
	CHECK_INT(lb_dev_pwrite(d, buf, 1, 0), -EROFS);
	CHECK(lb_file_dev_allocated(d) >= 4096);
	CHECK(lb_file_dev_allocated(d) < (1 << 20));

	CHECK_INT(lb_dev_extents(d, 0, d->size, collect, &l), 0);
	check_cover(&l, 0, 1 << 20);
	CHECK_INT(lb_dev_allocated(d, &alloc), 0);
	if (!holes) {
		printf("# the file system of /tmp reports no holes: only the invariants checked\n");
		goto out;
	}
	/* a hole, the data (at file system block granularity), a hole */
	CHECK_INT(l.n, 3);
	CHECK_INT(l.type[0], LB_EXTENT_HOLE);
	CHECK_U64(l.off[0], 0);
	CHECK(l.off[0] + l.len[0] <= 512 * KIB);
	CHECK_INT(l.type[1], LB_EXTENT_DATA);
	CHECK(l.off[1] + l.len[1] >= 516 * KIB);
	CHECK_INT(l.type[2], LB_EXTENT_HOLE);
	CHECK(alloc >= 4096);
	CHECK(alloc <= 128 * KIB);
	/* a window inside the first hole */
	l.n = 0;
	CHECK_INT(lb_dev_extents(d, 4096, 8192, collect, &l), 0);
	CHECK_INT(l.n, 1);
	CHECK_INT(l.type[0], LB_EXTENT_HOLE);
	check_cover(&l, 4096, 8192);
out:
	lb_dev_unref(d);
	unlink(path);
}

static void test_file_errors(void)
{
	struct lb_dev *d = NULL;

	CHECK_INT(lb_file_dev_open("/nonexistent/lifeboat/disk.img", true, &d), -ENOENT);
	CHECK_INT(lb_file_dev_open("/tmp", true, &d), -EISDIR);
	CHECK_INT(lb_file_dev_open("/dev/null", true, &d), -ENODEV);
	CHECK(d == NULL);
	CHECK_U64(lb_file_dev_allocated(NULL), 0);
}

LB_TEST_MAIN(T(test_mem_dev), T(test_read_only), T(test_refcounts), T(test_slice),
	     T(test_extents_guard), T(test_short_and_failing_io), T(test_fault_read_error),
	     T(test_fault_write_error), T(test_fault_enospc), T(test_fault_flip),
	     T(test_fault_short_reads), T(test_fault_write_limit), T(test_fault_specs),
	     T(test_file_sparse), T(test_file_errors))
