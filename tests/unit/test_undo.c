/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/repair/undo.c: the write-ahead undo log.
 *
 * Every test works in its own scratch folder under $TMPDIR (removed at the
 * end unless LB_TEST_KEEP is set). Random writes come from a seeded PRNG, so
 * every run does the same thing.
 *
 * With LB_CORPUS_OUT=DIR, test_corpus also writes the fuzz seeds it checks to
 * DIR/corpus/undo/ and DIR/bad/undo/ (tests/fuzz/make-repair-corpus.sh).
 */
#include "harness.h"

#include "base/cleanup.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/sha256.h"
#include "io/dev.h"
#include "io/fault.h"
#include "io/image.h"
#include "repair/undo.h"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------ */

static uint64_t rng;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rnd() >> 56);
}

static char scratch[256];

static void scratch_new(void)
{
	lb_test_scratch_new("undo", scratch, sizeof(scratch));
}

static void scratch_done(void)
{
	lb_test_scratch_done(scratch);
}

static char *spath(const char *name)
{
	return lb_test_path(scratch, name);
}

static struct lb_undo *new_log(const char *name, uint64_t size)
{
	struct lb_undo_meta m = {.virtual_size = size};
	struct lb_undo *u = NULL;
	int r;

	snprintf(m.image_path, sizeof(m.image_path), "/images/test.img");
	snprintf(m.format, sizeof(m.format), "raw");
	r = lb_undo_create(spath(name), &m, &u);
	CHECK_INT(r, 0);
	return r < 0 ? NULL : u;
}

static void sha(const void *p, size_t n, uint8_t out[LB_SHA256_LEN])
{
	CHECK_INT(lb_sha256(p, n, out), 0);
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(write(fd, p, n), (long long)n);
	close(fd);
}

static uint8_t *read_all(const char *path, size_t *n)
{
	uint8_t *p = lb_test_read_file(path, n);

	CHECK(p != NULL);
	return p;
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* One write: where, how long, and what (the bytes come from @seed). */
struct wr {
	uint64_t off;
	size_t len;
	uint64_t seed;
};

static void wr_data(const struct wr *w, uint8_t *out)
{
	uint64_t save = rng;

	rng = w->seed | 1;
	fill_random(out, w->len);
	rng = save;
}

/* Random writes of random sizes, some overlapping or repeating earlier ones. */
static void plan_writes(struct wr *w, unsigned n, uint64_t size, size_t max_len)
{
	for (unsigned i = 0; i < n; i++) {
		w[i].len = 1 + (size_t)(rnd() % max_len);
		if (w[i].len > size)
			w[i].len = (size_t)size;
		if (i > 0 && rnd() % 4 == 0) {
			/* overlap or repeat an earlier write */
			const struct wr *p = &w[rnd() % i];
			uint64_t o = p->off + rnd() % p->len;

			w[i].off = o > size - w[i].len ? size - w[i].len : o;
		} else {
			w[i].off = rnd() % (size - w[i].len + 1);
		}
		w[i].seed = rnd();
	}
}

static int do_write(struct lb_dev *dev, const struct wr *w)
{
	uint8_t *d = malloc(w->len);
	int r;

	wr_data(w, d);
	r = lb_dev_pwrite(dev, d, w->len, w->off);
	free(d);
	return r;
}

static void apply_mem(uint8_t *img, const struct wr *w, unsigned n)
{
	uint8_t *d;

	for (unsigned i = 0; i < n; i++) {
		d = malloc(w[i].len);
		wr_data(&w[i], d);
		memcpy(img + w[i].off, d, w[i].len);
		free(d);
	}
}

/* ---- round trips ------------------------------------------------------------- */

static void roundtrip_mem(uint64_t seed, unsigned nwrites, size_t size, size_t max_len)
{
	uint8_t *img = malloc(size), *orig = malloc(size);
	uint8_t *bitmap = calloc(size, 1);
	uint8_t h0[LB_SHA256_LEN], h1[LB_SHA256_LEN];
	struct wr *w = calloc(nwrites, sizeof(*w));
	struct lb_undo_result res;
	struct lb_undo_info info;
	struct lb_dev *mem, *dev = NULL;
	struct lb_undo *u;
	uint64_t want_bytes = 0;

	scratch_new();
	rng = seed;
	fill_random(img, size);
	memcpy(orig, img, size);
	sha(img, size, h0);
	plan_writes(w, nwrites, size, max_len);
	mem = lb_mem_dev_new(img, size, false, "img");
	u = new_log("undo.log", size);
	CHECK_INT(lb_undo_dev_new(u, mem, &dev), 0);
	for (unsigned i = 0; i < nwrites; i++) {
		CHECK_INT(do_write(dev, &w[i]), 0);
		for (size_t k = 0; k < w[i].len; k++)
			bitmap[w[i].off + k] = 1;
	}
	for (size_t k = 0; k < size; k++)
		want_bytes += bitmap[k];
	/* every byte saved exactly once */
	CHECK_U64(lb_undo_bytes(u), want_bytes);
	CHECK(memcmp(img, orig, size) != 0);
	CHECK_INT(lb_dev_flush(dev), 0);
	CHECK_INT(lb_undo_commit(u, dev), 0);
	CHECK_INT(lb_undo_read_info(spath("undo.log"), &info), 0);
	CHECK(info.committed);
	CHECK(!info.torn_tail);
	CHECK_U64(info.ranges, lb_undo_ranges(u));
	CHECK_U64(info.bytes, want_bytes);
	CHECK_U64(info.meta.virtual_size, size);
	CHECK_STR(info.meta.format, "raw");
	CHECK_STR(info.meta.image_path, "/images/test.img");
	CHECK(info.meta.created > 0);
	lb_dev_unref(dev);
	lb_undo_free(u);

	CHECK_INT(lb_undo_apply(spath("undo.log"), mem, 0, &res), 0);
	CHECK(!res.changed_since);
	CHECK_U64(res.bytes, want_bytes);
	sha(img, size, h1);
	CHECK(memcmp(h0, h1, sizeof(h0)) == 0);
	CHECK(memcmp(img, orig, size) == 0);
	lb_dev_unref(mem);
	free(img);
	free(orig);
	free(bitmap);
	free(w);
	scratch_done();
}

static void test_roundtrip_mem(void)
{
	roundtrip_mem(1, 300, 1 << 20, 9000);
	roundtrip_mem(2, 50, 64 << 10, 64 << 10); /* big overlapping writes */
	roundtrip_mem(3, 400, 4096, 17);	  /* tiny ones, mostly overlapping */
}

static void sha_file(const char *path, uint8_t out[LB_SHA256_LEN])
{
	size_t n = 0;
	uint8_t *p = read_all(path, &n);

	sha(p, n, out);
	free(p);
}

static void test_roundtrip_file(void)
{
	const size_t size = 3 << 20;
	uint8_t *img = malloc(size);
	uint8_t h0[LB_SHA256_LEN], h1[LB_SHA256_LEN], h2[LB_SHA256_LEN];
	struct wr w[200];
	struct lb_undo_result res;
	struct lb_dev *file = NULL, *dev = NULL;
	struct lb_undo *u;

	scratch_new();
	rng = 42;
	fill_random(img, size);
	write_file(spath("disk.img"), img, size);
	sha_file(spath("disk.img"), h0);
	plan_writes(w, 200, size, 20000);
	CHECK_INT(lb_file_dev_open(spath("disk.img"), false, &file), 0);
	u = new_log("undo.log", size);
	CHECK_INT(lb_undo_dev_new(u, file, &dev), 0);
	for (unsigned i = 0; i < 200; i++)
		CHECK_INT(do_write(dev, &w[i]), 0);
	/* reads through the filter see the writes */
	{
		uint8_t *a = malloc(w[199].len), *b = malloc(w[199].len);

		wr_data(&w[199], b);
		CHECK_INT(lb_dev_pread(dev, a, w[199].len, w[199].off), 0);
		CHECK(memcmp(a, b, w[199].len) == 0);
		free(a);
		free(b);
	}
	CHECK_INT(lb_dev_flush(dev), 0);
	CHECK_INT(lb_undo_commit(u, dev), 0);
	lb_dev_unref(dev);
	lb_undo_free(u);
	lb_dev_unref(file);
	sha_file(spath("disk.img"), h1);
	CHECK(memcmp(h0, h1, sizeof(h0)) != 0);

	CHECK_INT(lb_file_dev_open(spath("disk.img"), false, &file), 0);
	CHECK_INT(lb_undo_apply(spath("undo.log"), file, 0, &res), 0);
	lb_dev_unref(file);
	sha_file(spath("disk.img"), h2);
	CHECK(memcmp(h0, h2, sizeof(h0)) == 0);
	free(img);
	scratch_done();
}

/* ---- the record is in the log before the write reaches the disk --------------- */

static struct {
	const char *log;
	uint64_t want_bytes; /* what the log must hold when the write arrives */
	unsigned writes, bad;
} spy;

static ssize_t spy_pread(struct lb_dev *dev, void *buf, size_t len, uint64_t off)
{
	memcpy(buf, (uint8_t *)dev->priv + off, len);
	return (ssize_t)len;
}

static ssize_t spy_pwrite(struct lb_dev *dev, const void *buf, size_t len, uint64_t off)
{
	struct lb_undo_info info;

	spy.writes++;
	if (lb_undo_read_info(spy.log, &info) < 0 || info.bytes != spy.want_bytes || info.torn_tail)
		spy.bad++;
	memcpy((uint8_t *)dev->priv + off, buf, len);
	return (ssize_t)len;
}

static const struct lb_dev_ops spy_ops = {
	.version = LB_DEV_OPS_VERSION,
	.kind = "spy",
	.pread = spy_pread,
	.pwrite = spy_pwrite,
};

static void test_record_before_write(void)
{
	const size_t size = 256 << 10;
	uint8_t *img = malloc(size), *bitmap = calloc(size, 1);
	struct wr w[100];
	struct lb_dev *lower, *dev = NULL;
	struct lb_undo *u;

	scratch_new();
	rng = 7;
	fill_random(img, size);
	plan_writes(w, 100, size, 10000);
	lower = lb_dev_new(&spy_ops, img, size, NULL, false, "spy");
	u = new_log("undo.log", size);
	CHECK_INT(lb_undo_dev_new(u, lower, &dev), 0);
	memset(&spy, 0, sizeof(spy));
	spy.log = spath("undo.log");
	for (unsigned i = 0; i < 100; i++) {
		for (size_t k = 0; k < w[i].len; k++) {
			spy.want_bytes += !bitmap[w[i].off + k];
			bitmap[w[i].off + k] = 1;
		}
		CHECK_INT(do_write(dev, &w[i]), 0);
	}
	CHECK_INT(spy.writes, 100);
	CHECK_INT(spy.bad, 0);
	lb_dev_unref(dev);
	lb_dev_unref(lower);
	lb_undo_free(u);
	free(img);
	free(bitmap);
	scratch_done();
}

/* A write larger than a record is saved as several records. */
static void test_split_large_write(void)
{
	const size_t size = 16 << 20, len = 9 << 20;
	uint8_t *img = malloc(size), *orig = malloc(size), *data = malloc(len);
	struct lb_undo_result res;
	struct lb_undo_info info;
	struct lb_dev *mem, *dev = NULL;
	struct lb_undo *u;

	scratch_new();
	rng = 99;
	fill_random(img, size);
	memcpy(orig, img, size);
	fill_random(data, len);
	mem = lb_mem_dev_new(img, size, false, "img");
	u = new_log("undo.log", size);
	CHECK_INT(lb_undo_dev_new(u, mem, &dev), 0);
	CHECK_INT(lb_dev_pwrite(dev, data, len, 1), 0);
	CHECK_U64(lb_undo_ranges(u), 3); /* 4 + 4 + 1 MiB */
	CHECK_U64(lb_undo_bytes(u), len);
	/* a write over saved bytes and beyond saves only the new part */
	CHECK_INT(lb_dev_pwrite(dev, data, 4096, len - 100), 0);
	CHECK_U64(lb_undo_ranges(u), 4);
	CHECK_U64(lb_undo_bytes(u), len + 4096 - 101);
	CHECK_INT(lb_undo_commit(u, dev), 0);
	lb_dev_unref(dev);
	lb_undo_free(u);
	CHECK_INT(lb_undo_read_info(spath("undo.log"), &info), 0);
	CHECK_U64(info.ranges, 4);
	CHECK_INT(lb_undo_apply(spath("undo.log"), mem, 0, &res), 0);
	CHECK_U64(res.ranges, 4);
	CHECK(memcmp(img, orig, size) == 0);
	lb_dev_unref(mem);
	free(img);
	free(orig);
	free(data);
	scratch_done();
}

/* ---- kill simulation ---------------------------------------------------------- */

/*
 * Run writes through the filter, keeping the log size after each write. Then
 * cut the log at every record boundary and at random byte offsets, as a crash
 * would, rebuild the image as it was at that moment (writes whose records were
 * all in the log went down; the last of them possibly only in part), apply the
 * cut log and check the original comes back.
 */
static void test_kill_simulation(void)
{
	enum {
		N = 40
	};
	const size_t size = 256 << 10;
	uint8_t *img = malloc(size), *orig = malloc(size), *state = malloc(size);
	uint64_t log_end[N + 1];
	struct wr w[N];
	struct lb_dev *mem, *dev = NULL;
	struct lb_undo *u;
	uint8_t *log;
	size_t loglen = 0;
	uint64_t cuts[400];
	unsigned ncuts = 0, restored = 0, torn = 0;

	scratch_new();
	rng = 1234;
	fill_random(img, size);
	memcpy(orig, img, size);
	plan_writes(w, N, size, 30000);
	mem = lb_mem_dev_new(img, size, false, "img");
	u = new_log("undo.log", size);
	CHECK_INT(lb_undo_dev_new(u, mem, &dev), 0);
	log_end[0] = file_size(spath("undo.log"));
	for (unsigned i = 0; i < N; i++) {
		CHECK_INT(do_write(dev, &w[i]), 0);
		log_end[i + 1] = file_size(spath("undo.log"));
	}
	CHECK_INT(lb_undo_commit(u, dev), 0);
	lb_dev_unref(dev);
	lb_undo_free(u);
	log = read_all(spath("undo.log"), &loglen);
	if (!log)
		return;

	/* every record boundary (found with the documented layout) */
	for (uint64_t pos = LB_UNDO_HEADER_SIZE; pos + 32 <= loglen && ncuts < 300;) {
		uint32_t kind = lb_le32(log + pos + 4);
		uint64_t dlen = kind == 2 ? 32 : lb_le64(log + pos + 16);

		cuts[ncuts++] = pos;
		pos += 32 + dlen;
		if (pos == loglen)
			cuts[ncuts++] = pos;
	}
	CHECK(ncuts > N / 2);
	while (ncuts < LB_ARRAY_SIZE(cuts))
		cuts[ncuts++] = LB_UNDO_HEADER_SIZE + rnd() % (loglen - LB_UNDO_HEADER_SIZE + 1);

	for (unsigned c = 0; c < ncuts; c++) {
		uint64_t cut = cuts[c];
		struct lb_undo_result res;
		struct lb_undo_info info;
		struct lb_dev *sdev;
		unsigned k = 0;
		int r;

		/* writes 1..k had all their records in the log: they may have gone down */
		while (k < N && log_end[k + 1] <= cut)
			k++;
		memcpy(state, orig, size);
		apply_mem(state, w, k);
		CHECK_INT(lb_undo_parse(log, (size_t)cut, &info), 0);
		if (k > 0 && !info.committed && rnd() % 2) {
			/* the crash tore write k on the disk: only a prefix of it landed */
			uint8_t *d = malloc(w[k - 1].len);

			memcpy(state, orig, size);
			apply_mem(state, w, k - 1);
			wr_data(&w[k - 1], d);
			memcpy(state + w[k - 1].off, d, (size_t)(rnd() % w[k - 1].len));
			free(d);
		}
		torn += info.torn_tail;
		write_file(spath("cut.log"), log, (size_t)cut);
		sdev = lb_mem_dev_new(state, size, false, "state");
		r = lb_undo_apply(spath("cut.log"), sdev, 0, &res);
		CHECK_INT(r, 0);
		if (r == 0 && !memcmp(state, orig, size))
			restored++;
		else
			printf("#   cut at %llu (k=%u): not restored\n", (unsigned long long)cut,
			       k);
		lb_dev_unref(sdev);
	}
	CHECK_INT(restored, ncuts);
	CHECK(torn > 0);
	free(log);
	lb_dev_unref(mem);
	free(img);
	free(orig);
	free(state);
	scratch_done();
}

/* ---- failures while saving ------------------------------------------------------- */

/* In a child: the log's file system "fills up" (RLIMIT_FSIZE, SIGXFSZ ignored). */
static void log_full_child(void)
{
	const size_t size = 64 << 10;
	uint8_t *img = malloc(size), *orig = malloc(size), *before = malloc(size);
	uint8_t data[4096];
	struct rlimit rl = {.rlim_cur = 4096 + 32 + 1024 + 100, .rlim_max = RLIM_INFINITY};
	struct lb_undo_result res;
	struct lb_undo_info info;
	struct lb_dev *mem, *dev = NULL;
	struct lb_undo *u;

	signal(SIGXFSZ, SIG_IGN);
	CHECK_INT(setrlimit(RLIMIT_FSIZE, &rl), 0);
	rng = 5;
	fill_random(img, size);
	memcpy(orig, img, size);
	fill_random(data, sizeof(data));
	mem = lb_mem_dev_new(img, size, false, "img");
	u = new_log("undo.log", size);
	if (!u)
		return;
	CHECK_INT(lb_undo_dev_new(u, mem, &dev), 0);
	CHECK_INT(lb_dev_pwrite(dev, data, 1024, 0), 0);
	memcpy(before, img, size);
	/* the log cannot take this one: the write fails and nothing reaches the disk */
	CHECK_INT(lb_dev_pwrite(dev, data, 4096, 8192), -ENOSPC);
	CHECK_CONTAINS(lb_err_last()->problem, "no room");
	CHECK(memcmp(img, before, size) == 0);
	/* and every later write fails too, even one that would fit */
	CHECK_INT(lb_dev_pwrite(dev, data, 10, 40000), -ENOSPC);
	CHECK(memcmp(img, before, size) == 0);
	CHECK_INT(lb_undo_commit(u, dev), -ENOSPC);
	CHECK_U64(lb_undo_ranges(u), 1);
	lb_dev_unref(dev);
	lb_undo_free(u);
	/* the failed append was cut off: the log is clean and undoes the first write */
	CHECK_INT(lb_undo_read_info(spath("undo.log"), &info), 0);
	CHECK(!info.torn_tail);
	CHECK_U64(info.ranges, 1);
	CHECK_INT(lb_undo_apply(spath("undo.log"), mem, 0, &res), 0);
	CHECK(memcmp(img, orig, size) == 0);
	lb_dev_unref(mem);
	free(img);
	free(orig);
	free(before);
}

static void test_log_full(void)
{
	int status = 0;
	pid_t pid;

	scratch_new();
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int before = lb_test_failed_checks;

		log_full_child();
		fflush(stdout);
		_exit(lb_test_failed_checks != before ? 1 : 0);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
	scratch_done();
}

/* The disk fails a write after its old bytes were saved: undo still restores. */
static void test_lower_write_error(void)
{
	const size_t size = 128 << 10;
	uint8_t *img = malloc(size), *orig = malloc(size), *before = malloc(size);
	struct wr w[30];
	struct lb_undo_result res;
	struct lb_dev *mem, *fault = NULL, *dev = NULL;
	struct lb_undo *u;
	unsigned failed = 0;

	scratch_new();
	rng = 77;
	fill_random(img, size);
	memcpy(orig, img, size);
	plan_writes(w, 30, size, 8000);
	w[10].off = 60000;
	w[10].len = 5000;
	mem = lb_mem_dev_new(img, size, false, "img");
	CHECK_INT(lb_fault_dev_new(mem, "write-error=62000+100", &fault), 0);
	u = new_log("undo.log", size);
	CHECK_INT(lb_undo_dev_new(u, fault, &dev), 0);
	for (unsigned i = 0; i < 30; i++) {
		int r;

		memcpy(before, img, size);
		r = do_write(dev, &w[i]);
		if (r < 0) {
			CHECK_INT(r, -EIO);
			CHECK(memcmp(img, before, size) == 0);
			failed++;
		}
	}
	CHECK(failed >= 1);
	CHECK_INT(lb_undo_commit(u, dev), 0);
	lb_dev_unref(dev);
	lb_undo_free(u);
	CHECK_INT(lb_undo_apply(spath("undo.log"), mem, 0, &res), 0);
	CHECK(memcmp(img, orig, size) == 0);
	lb_dev_unref(fault);
	lb_dev_unref(mem);
	free(img);
	free(orig);
	free(before);
	scratch_done();
}

/* Reading the old bytes fails: the write fails, the log is unchanged, later writes work. */
static void test_lower_read_error(void)
{
	const size_t size = 64 << 10;
	uint8_t *img = malloc(size), *orig = malloc(size), data[2000];
	struct lb_undo_result res;
	struct lb_undo_info info;
	struct lb_dev *mem, *fault = NULL, *dev = NULL;
	struct lb_undo *u;

	scratch_new();
	rng = 8;
	fill_random(img, size);
	memcpy(orig, img, size);
	fill_random(data, sizeof(data));
	mem = lb_mem_dev_new(img, size, false, "img");
	CHECK_INT(lb_fault_dev_new(mem, "read-error=30000", &fault), 0);
	u = new_log("undo.log", size);
	CHECK_INT(lb_undo_dev_new(u, fault, &dev), 0);
	CHECK_INT(lb_dev_pwrite(dev, data, 100, 100), 0);
	CHECK_INT(lb_dev_pwrite(dev, data, 2000, 29000), -EIO);
	CHECK(memcmp(img + 29000, orig + 29000, 2000) == 0);
	CHECK_INT(lb_dev_pwrite(dev, data, 2000, 50000), 0);
	CHECK_U64(lb_undo_ranges(u), 2);
	lb_dev_unref(dev);
	lb_undo_free(u);
	CHECK_INT(lb_undo_read_info(spath("undo.log"), &info), 0);
	CHECK(!info.torn_tail);
	CHECK_U64(info.ranges, 2);
	CHECK_INT(lb_undo_apply(spath("undo.log"), mem, 0, &res), 0);
	CHECK(memcmp(img, orig, size) == 0);
	lb_dev_unref(fault);
	lb_dev_unref(mem);
	free(img);
	free(orig);
	scratch_done();
}

/* ---- apply: checks before writes ---------------------------------------------------- */

struct fixture {
	size_t size;
	uint8_t *img, *orig, *after;
	struct lb_dev *mem;
	struct wr w[20];
};

/* A committed repair of 20 writes over a 128 KiB mem image; the log is scratch/undo.log. */
static void fixture_new(struct fixture *f, uint64_t seed)
{
	struct lb_dev *dev = NULL;
	struct lb_undo *u;

	scratch_new();
	f->size = 128 << 10;
	f->img = malloc(f->size);
	f->orig = malloc(f->size);
	f->after = malloc(f->size);
	rng = seed;
	fill_random(f->img, f->size);
	memcpy(f->orig, f->img, f->size);
	/* disjoint writes, so that every record is its own range */
	for (unsigned i = 0; i < 20; i++) {
		f->w[i].off = i * 6000 + rnd() % 1000;
		f->w[i].len = 1 + rnd() % 4000;
		f->w[i].seed = rnd();
	}
	f->mem = lb_mem_dev_new(f->img, f->size, false, "img");
	u = new_log("undo.log", f->size);
	CHECK_INT(lb_undo_dev_new(u, f->mem, &dev), 0);
	for (unsigned i = 0; i < 20; i++)
		CHECK_INT(do_write(dev, &f->w[i]), 0);
	CHECK_INT(lb_undo_commit(u, dev), 0);
	CHECK_U64(lb_undo_ranges(u), 20);
	lb_dev_unref(dev);
	lb_undo_free(u);
	memcpy(f->after, f->img, f->size);
}

static void fixture_free(struct fixture *f)
{
	lb_dev_unref(f->mem);
	free(f->img);
	free(f->orig);
	free(f->after);
	scratch_done();
}

static void test_stale_and_force(void)
{
	struct fixture f;
	struct lb_undo_result res;

	fixture_new(&f, 11);
	/* a change outside every saved range is not a change the check can see */
	f.img[5999] ^= 1;
	CHECK_INT(lb_undo_apply(spath("undo.log"), f.mem, LB_UNDO_DRY_RUN, &res), 0);
	CHECK(!res.changed_since);
	f.img[5999] ^= 1;
	/* inside one: refused, nothing written */
	f.img[f.w[3].off] ^= 0x40;
	memcpy(f.after, f.img, f.size);
	CHECK_INT(lb_undo_apply(spath("undo.log"), f.mem, 0, &res), -ESTALE);
	CHECK(res.changed_since);
	CHECK_CONTAINS(lb_err_last()->problem, "changed after the repair");
	CHECK(memcmp(f.img, f.after, f.size) == 0);
	CHECK_INT(lb_undo_apply(spath("undo.log"), f.mem, LB_UNDO_DRY_RUN, &res), -ESTALE);
	/* forced: every saved range gets its old bytes back */
	CHECK_INT(lb_undo_apply(spath("undo.log"), f.mem, LB_UNDO_FORCE, &res), 0);
	CHECK(res.changed_since);
	CHECK_U64(res.ranges, 20);
	CHECK(memcmp(f.img, f.orig, f.size) == 0);
	fixture_free(&f);
}

static void copy_file(const char *from, const char *to)
{
	size_t n = 0;
	uint8_t *p = read_all(from, &n);

	if (p)
		write_file(to, p, n);
	free(p);
}

static void test_apply_twice(void)
{
	struct fixture f;
	struct lb_undo_result res;
	struct lb_undo_info info;

	fixture_new(&f, 12);
	copy_file(spath("undo.log"), spath("copy.log"));
	CHECK_INT(lb_undo_apply(spath("undo.log"), f.mem, 0, &res), 0);
	CHECK(!res.resumed);
	CHECK(memcmp(f.img, f.orig, f.size) == 0);
	/* the log now says an undo began */
	CHECK_INT(lb_undo_read_info(spath("undo.log"), &info), 0);
	CHECK(info.committed);
	CHECK(info.begun);
	CHECK_INT(lb_undo_apply(spath("undo.log"), f.mem, 0, &res), 0);
	CHECK(res.resumed);
	CHECK(memcmp(f.img, f.orig, f.size) == 0);
	/* a copy of the log without the mark: the image holds the old bytes already */
	CHECK_INT(lb_undo_apply(spath("copy.log"), f.mem, 0, &res), 0);
	CHECK(res.already_undone);
	CHECK(!res.changed_since);
	CHECK(memcmp(f.img, f.orig, f.size) == 0);
	fixture_free(&f);
}

/* An undo interrupted half-way (the disk failed) is finished by running it again. */
static void test_interrupted_apply(void)
{
	struct fixture f;
	struct lb_undo_result res;
	struct lb_dev *fault = NULL;

	fixture_new(&f, 13);
	copy_file(spath("undo.log"), spath("copy.log"));
	CHECK_INT(lb_fault_dev_new(f.mem, "write-limit=7", &fault), 0);
	CHECK_INT(lb_undo_apply(spath("undo.log"), fault, 0, &res), -EIO);
	CHECK_U64(res.ranges, 7);
	lb_dev_unref(fault);
	CHECK(memcmp(f.img, f.orig, f.size) != 0);
	CHECK(memcmp(f.img, f.after, f.size) != 0);
	/* a copy without the mark sees a half-undone image: stale unless forced */
	CHECK_INT(lb_undo_apply(spath("copy.log"), f.mem, LB_UNDO_DRY_RUN, &res), -ESTALE);
	CHECK_CONTAINS(lb_err_last()->problem, "7 of 20");
	/* the log itself was marked before the first write: resume */
	CHECK_INT(lb_undo_apply(spath("undo.log"), f.mem, 0, &res), 0);
	CHECK(res.resumed);
	CHECK(memcmp(f.img, f.orig, f.size) == 0);
	fixture_free(&f);
}

static void test_wrong_size(void)
{
	struct fixture f;
	struct lb_undo_result res;
	struct lb_dev *small;
	struct lb_undo *u = NULL;
	struct lb_undo_meta m = {.virtual_size = 4096};

	fixture_new(&f, 14);
	small = lb_mem_dev_new(f.img, f.size - 512, false, "small");
	CHECK_INT(lb_undo_apply(spath("undo.log"), small, LB_UNDO_FORCE, &res), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "another image");
	CHECK(memcmp(f.img, f.after, f.size) == 0);
	/* the filter and the commit refuse a disk of another size too */
	CHECK_INT(lb_undo_create(spath("other.log"), &m, &u), 0);
	{
		struct lb_dev *dev = NULL;

		CHECK_INT(lb_undo_dev_new(u, small, &dev), -EINVAL);
		CHECK(dev == NULL);
	}
	CHECK_INT(lb_undo_commit(u, small), -EINVAL);
	lb_undo_free(u);
	lb_dev_unref(small);
	fixture_free(&f);
}

/* Log offset of range record @n (0-based), from the documented layout. */
static uint64_t record_pos(const uint8_t *log, size_t len, unsigned n)
{
	uint64_t pos = LB_UNDO_HEADER_SIZE;

	while (n-- > 0 && pos + 32 <= len)
		pos += 32 + lb_le64(log + pos + 16);
	return pos;
}

static void corrupt_and_apply(struct fixture *f, uint64_t at, const char *want)
{
	size_t n = 0;
	uint8_t *log = read_all(spath("undo.log"), &n);
	struct lb_undo_result res;

	if (!log)
		return;
	log[at] ^= 0x10;
	write_file(spath("bad.log"), log, n);
	CHECK_INT(lb_undo_apply(spath("bad.log"), f->mem, LB_UNDO_FORCE, &res), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, want);
	CHECK_U64(res.ranges, 0);
	CHECK(memcmp(f->img, f->after, f->size) == 0);
	free(log);
}

static void test_corrupt_middle(void)
{
	struct fixture f;
	size_t n = 0;
	uint8_t *log;
	uint64_t r5, last;

	fixture_new(&f, 15);
	log = read_all(spath("undo.log"), &n);
	r5 = record_pos(log, n, 5);
	last = record_pos(log, n, 19);
	free(log);
	corrupt_and_apply(&f, r5 + 32 + 3, "data checksum mismatch"); /* data */
	corrupt_and_apply(&f, r5 + 9, "followed by a valid record");  /* header */
	corrupt_and_apply(&f, last + 32, "data checksum mismatch");   /* before commit */
	corrupt_and_apply(&f, 100, "header checksum");		      /* log header */
	corrupt_and_apply(&f, 0, "not a lifeboat undo log");
	fixture_free(&f);
}

static void test_dry_run(void)
{
	struct fixture f;
	struct lb_undo_result res;
	uint8_t h0[LB_SHA256_LEN], h1[LB_SHA256_LEN];

	fixture_new(&f, 16);
	sha_file(spath("undo.log"), h0);
	CHECK_INT(lb_undo_apply(spath("undo.log"), f.mem, LB_UNDO_DRY_RUN, &res), 0);
	CHECK_U64(res.ranges, 20);
	CHECK(res.bytes > 0);
	CHECK(memcmp(f.img, f.after, f.size) == 0);
	sha_file(spath("undo.log"), h1);
	CHECK(memcmp(h0, h1, sizeof(h0)) == 0);
	fixture_free(&f);
}

static void test_torn_tail(void)
{
	struct fixture f;
	struct lb_undo_info info;
	struct lb_undo_result res;
	size_t n = 0;
	uint8_t *log;
	uint64_t last;

	fixture_new(&f, 17);
	log = read_all(spath("undo.log"), &n);
	last = record_pos(log, n, 19);
	/* cut inside the last range record: 19 ranges, no commit, torn tail */
	write_file(spath("cut.log"), log, (size_t)last + 40);
	CHECK_INT(lb_undo_read_info(spath("cut.log"), &info), 0);
	CHECK(info.torn_tail);
	CHECK(!info.committed);
	CHECK_U64(info.ranges, 19);
	CHECK_U64(info.end, last);
	/* a zero-filled tail (size grew, data never landed) is torn too */
	memset(log + last, 0, n - last);
	write_file(spath("zero.log"), log, n);
	CHECK_INT(lb_undo_read_info(spath("zero.log"), &info), 0);
	CHECK(info.torn_tail);
	CHECK_U64(info.ranges, 19);
	/* a cut log undoes what it holds (the last write never went down) */
	memcpy(f.img + f.w[19].off, f.orig + f.w[19].off, f.w[19].len);
	CHECK_INT(lb_undo_apply(spath("cut.log"), f.mem, 0, &res), 0);
	CHECK_U64(res.ranges, 19);
	CHECK(memcmp(f.img, f.orig, f.size) == 0);
	free(log);
	fixture_free(&f);
}

static void test_bad_files(void)
{
	struct lb_undo_info info;
	struct lb_undo_meta m = {.virtual_size = 1 << 20};
	struct lb_undo *u = NULL;
	uint8_t junk[5000];
	uint8_t h0[LB_SHA256_LEN], h1[LB_SHA256_LEN];

	scratch_new();
	CHECK_INT(lb_undo_read_info(spath("missing.log"), &info), -ENOENT);
	rng = 3;
	fill_random(junk, sizeof(junk));
	write_file(spath("junk.log"), junk, sizeof(junk));
	CHECK_INT(lb_undo_read_info(spath("junk.log"), &info), -EBADMSG);
	write_file(spath("short.log"), "LBUNDO\r\n", 8);
	CHECK_INT(lb_undo_read_info(spath("short.log"), &info), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "shorter than its header");
	/* an existing file is never overwritten */
	sha_file(spath("junk.log"), h0);
	CHECK_INT(lb_undo_create(spath("junk.log"), &m, &u), -EEXIST);
	CHECK(u == NULL);
	sha_file(spath("junk.log"), h1);
	CHECK(memcmp(h0, h1, sizeof(h0)) == 0);
	CHECK_INT(lb_undo_create(spath("no/such/dir.log"), &m, &u), -ENOENT);
	/* an empty log (created, nothing written) is valid and undoes nothing */
	CHECK_INT(lb_undo_create(spath("empty.log"), &m, &u), 0);
	CHECK_U64(file_size(spath("empty.log")), LB_UNDO_HEADER_SIZE);
	lb_undo_free(u);
	CHECK_INT(lb_undo_read_info(spath("empty.log"), &info), 0);
	CHECK_U64(info.ranges, 0);
	CHECK(!info.committed);
	CHECK(!info.torn_tail);
	CHECK(info.meta.created > 0);
	CHECK(info.meta.run_id[0] | info.meta.run_id[1] | info.meta.run_id[2] |
	      info.meta.run_id[3]);
	scratch_done();
}

static void test_writes_after_commit(void)
{
	const size_t size = 8192;
	uint8_t img[8192] = {0}, data[16] = "0123456789abcde";
	struct lb_undo_result res;
	struct lb_dev *mem, *dev = NULL;
	struct lb_undo *u;

	scratch_new();
	mem = lb_mem_dev_new(img, size, false, "img");
	u = new_log("undo.log", size);
	CHECK_INT(lb_undo_dev_new(u, mem, &dev), 0);
	CHECK_INT(lb_dev_pwrite(dev, data, 16, 100), 0);
	CHECK_INT(lb_undo_commit(u, dev), 0);
	CHECK_INT(lb_undo_commit(u, dev), -EINVAL);
	CHECK_INT(lb_dev_pwrite(dev, data, 16, 200), -EROFS);
	CHECK(img[200] == 0);
	/* bytes saved before are still refused: nothing after the commit */
	CHECK_INT(lb_dev_pwrite(dev, data, 16, 100), -EROFS);
	/* no undo while the writer holds the log */
	CHECK_INT(lb_undo_apply(spath("undo.log"), mem, LB_UNDO_FORCE, &res), -EBUSY);
	CHECK(img[100] == '0');
	lb_dev_unref(dev);
	lb_undo_free(u);
	CHECK_INT(lb_undo_apply(spath("undo.log"), mem, 0, &res), 0);
	CHECK(img[100] == 0);
	lb_dev_unref(mem);
	scratch_done();
}

/* Allocation failures anywhere in create / save / commit / apply are reported, not crashed on. */
static void test_alloc_failures(void)
{
	const size_t size = 64 << 10;
	uint8_t *img = malloc(size), *orig = malloc(size), data[3000];
	unsigned ok = 0;

	scratch_new();
	rng = 21;
	fill_random(img, size);
	memcpy(orig, img, size);
	fill_random(data, sizeof(data));
	for (unsigned long n = 1; n < 200; n++) {
		struct lb_undo_meta m = {.virtual_size = size};
		struct lb_undo_result res;
		struct lb_dev *mem = lb_mem_dev_new(img, size, false, "img"), *dev = NULL;
		struct lb_undo *u = NULL;
		char name[64];
		int r;

		snprintf(name, sizeof(name), "a%lu.log", n);
		lb_test_alloc_fail_at(n);
		r = lb_undo_create(spath(name), &m, &u);
		if (r == 0)
			r = lb_undo_dev_new(u, mem, &dev);
		if (r == 0)
			r = lb_dev_pwrite(dev, data, sizeof(data), 1000);
		if (r == 0)
			r = lb_dev_pwrite(dev, data, sizeof(data), 30000);
		if (r == 0)
			r = lb_undo_commit(u, dev);
		lb_test_alloc_fail_at(0);
		CHECK(r == 0 || r == -ENOMEM || r == -EIO);
		lb_dev_unref(dev);
		lb_undo_free(u);
		if (access(spath(name), F_OK) == 0) {
			lb_test_alloc_fail_at(n);
			r = lb_undo_apply(spath(name), mem, LB_UNDO_FORCE, &res);
			lb_test_alloc_fail_at(0);
			CHECK(r == 0 || r == -ENOMEM);
			if (r < 0)
				CHECK_INT(lb_undo_apply(spath(name), mem, LB_UNDO_FORCE, &res), 0);
			CHECK(memcmp(img, orig, size) == 0);
		}
		memcpy(img, orig, size);
		lb_dev_unref(mem);
		if (r == 0)
			ok++;
	}
	CHECK(ok > 0);
	free(img);
	free(orig);
	scratch_done();
}

/* ---- fuzz seeds ------------------------------------------------------------------ */

static void put_header(uint8_t *h, uint32_t version, uint64_t vsize)
{
	memset(h, 0, LB_UNDO_HEADER_SIZE);
	memcpy(h, "LBUNDO\r\n", 8);
	lb_put_le32(h + 8, version);
	lb_put_le32(h + 12, LB_UNDO_HEADER_SIZE);
	lb_put_le64(h + 16, vsize);
	lb_put_le64(h + 24, 1721362140);
	memcpy(h + 48, "corpus.img", 10);
	memcpy(h + 304, "raw", 3);
	lb_put_le32(h + 4092, lb_crc32c(0, h, 4092));
}

static size_t put_record(uint8_t *p, uint32_t kind, uint64_t off, uint64_t len, const void *data,
			 size_t dlen)
{
	memcpy(p, "LBUR", 4);
	lb_put_le32(p + 4, kind);
	lb_put_le64(p + 8, off);
	lb_put_le64(p + 16, len);
	lb_put_le32(p + 24, lb_crc32c(0, data, dlen));
	lb_put_le32(p + 28, lb_crc32c(0, p, 28));
	memcpy(p + 32, data, dlen);
	return 32 + dlen;
}

/* Where records overlap (never in logs this writer makes), the oldest bytes win. */
static void test_overlap_oldest_wins(void)
{
	uint8_t log[LB_UNDO_HEADER_SIZE + 2 * 40], img[4096];
	struct lb_undo_result res;
	struct lb_dev *mem;
	size_t k;

	scratch_new();
	put_header(log, 1, sizeof(img));
	k = LB_UNDO_HEADER_SIZE;
	k += put_record(log + k, 1, 0, 8, "OLDOLDOL", 8);
	k += put_record(log + k, 1, 4, 8, "NEWNEWNE", 8);
	write_file(spath("overlap.log"), log, k);
	memset(img, 'x', sizeof(img));
	mem = lb_mem_dev_new(img, sizeof(img), false, "img");
	CHECK_INT(lb_undo_apply(spath("overlap.log"), mem, 0, &res), 0);
	CHECK_U64(res.ranges, 2);
	CHECK(memcmp(img, "OLDOLDOLEWNEx", 13) == 0);
	lb_dev_unref(mem);
	scratch_done();
}

static void save_seed(const char *kind, const char *name, const uint8_t *p, size_t n)
{
	const char *out = getenv("LB_CORPUS_OUT");
	char path[1024];

	if (!out || !*out)
		return;
	snprintf(path, sizeof(path), "%s/%s/undo/%s", out, kind, name);
	write_file(path, p, n);
}

static void expect_parse(const char *name, const uint8_t *p, size_t n, int want)
{
	struct lb_undo_info info;
	int r = lb_undo_parse(p, n, &info);

	if (r != want)
		printf("#   seed %s: parse returned %d\n", name, r);
	CHECK_INT(r, want);
	save_seed(want < 0 ? "bad" : "corpus", name, p, n);
}

static void test_corpus(void)
{
	const size_t size = 64 << 10;
	uint8_t *img = malloc(size), data[700], *log, buf[4 * LB_UNDO_HEADER_SIZE];
	struct lb_dev *mem, *dev = NULL;
	struct lb_undo *u;
	struct lb_undo_info info;
	size_t n = 0, k;
	uint64_t r2;

	/* real logs made by the writer */
	scratch_new();
	rng = 2024;
	fill_random(img, size);
	fill_random(data, sizeof(data));
	mem = lb_mem_dev_new(img, size, false, "img");
	u = new_log("undo.log", size);
	CHECK_INT(lb_undo_dev_new(u, mem, &dev), 0);
	CHECK_INT(lb_dev_pwrite(dev, data, 300, 512), 0);
	CHECK_INT(lb_dev_pwrite(dev, data, 200, 40000), 0);
	CHECK_INT(lb_dev_pwrite(dev, data, 500, 700), 0); /* overlaps the first */
	CHECK_INT(lb_dev_pwrite(dev, data + 1, 100, size - 100), 0);
	copy_file(spath("undo.log"), spath("uncommitted.log"));
	CHECK_INT(lb_undo_commit(u, dev), 0);
	lb_dev_unref(dev);
	lb_undo_free(u);
	log = read_all(spath("undo.log"), &n);
	if (!log)
		return;
	CHECK_INT(lb_undo_parse(log, n, &info), 0);
	CHECK(info.committed);
	CHECK_U64(info.ranges, 4);
	expect_parse("committed", log, n, 0);
	expect_parse("torn-commit", log, n - 5, 0);
	r2 = record_pos(log, n, 2);
	expect_parse("torn-record", log, (size_t)r2 + 50, 0);
	expect_parse("header-only", log, LB_UNDO_HEADER_SIZE, 0);
	{
		size_t un = 0;
		uint8_t *ul = read_all(spath("uncommitted.log"), &un);

		if (ul) {
			expect_parse("uncommitted", ul, un, 0);
			free(ul);
		}
	}
	{
		struct lb_undo_result res;
		size_t bn = 0;
		uint8_t *bl;

		CHECK_INT(lb_undo_apply(spath("undo.log"), mem, 0, &res), 0);
		bl = read_all(spath("undo.log"), &bn);
		if (bl) {
			CHECK_U64(bn, n + 32);
			expect_parse("undo-begun", bl, bn, 0);
			free(bl);
		}
	}

	/* known-bad inputs: each must be refused with -EBADMSG */
	{
		uint8_t *b = malloc(n + 64);

		memcpy(b, log, n);
		b[4092] ^= 1;
		expect_parse("EBADMSG-header-crc", b, n, -EBADMSG);
		memcpy(b, log, n);
		b[1] = 'X';
		expect_parse("EBADMSG-magic", b, n, -EBADMSG);
		memcpy(b, log, n);
		b[r2 + 32 + 10] ^= 0x80;
		expect_parse("EBADMSG-record-data-crc-middle", b, n, -EBADMSG);
		memcpy(b, log, n);
		b[r2 + 20] ^= 0x01;
		expect_parse("EBADMSG-record-header-crc-middle", b, n, -EBADMSG);
		expect_parse("EBADMSG-short-header", log, 100, -EBADMSG);
		/* a record after the commit */
		memcpy(b, log, n);
		k = put_record(b + n, 1, 0, 16, data, 16);
		expect_parse("EBADMSG-record-after-commit", b, n + k, -EBADMSG);
		free(b);
	}
	put_header(buf, 2, size);
	expect_parse("EBADMSG-version-2", buf, LB_UNDO_HEADER_SIZE, -EBADMSG);
	put_header(buf, 1, size);
	lb_put_le32(buf + 12, 512);
	lb_put_le32(buf + 4092, lb_crc32c(0, buf, 4092));
	expect_parse("EBADMSG-header-length", buf, LB_UNDO_HEADER_SIZE, -EBADMSG);
	put_header(buf, 1, size);
	memset(buf + 48, 'a', 256);
	lb_put_le32(buf + 4092, lb_crc32c(0, buf, 4092));
	expect_parse("EBADMSG-unterminated-path", buf, LB_UNDO_HEADER_SIZE, -EBADMSG);

	put_header(buf, 1, size);
	k = LB_UNDO_HEADER_SIZE;
	k += put_record(buf + k, 1, 0, 8, data, 8);
	{
		/* valid header CRC, absurd length: not torn, damaged */
		uint8_t *p = buf + k;

		k += put_record(p, 1, 100, 8, data, 8);
		lb_put_le64(p + 16, 1ULL << 62);
		lb_put_le32(p + 28, lb_crc32c(0, p, 28));
	}
	expect_parse("EBADMSG-huge-length", buf, k, -EBADMSG);

	put_header(buf, 1, size);
	k = LB_UNDO_HEADER_SIZE;
	k += put_record(buf + k, 1, size - 4, 8, data, 8);
	expect_parse("EBADMSG-range-beyond-disk", buf, k, -EBADMSG);

	put_header(buf, 1, size);
	k = LB_UNDO_HEADER_SIZE;
	k += put_record(buf + k, 1, 0xfffffffffffffff0ULL, 32, data, 32);
	expect_parse("EBADMSG-range-offset-overflow", buf, k, -EBADMSG);

	put_header(buf, 1, size);
	k = LB_UNDO_HEADER_SIZE;
	k += put_record(buf + k, 1, 0, 8, data, 8);
	k += put_record(buf + k, 2, 2, 8, data, 32);
	expect_parse("EBADMSG-commit-count", buf, k, -EBADMSG);

	put_header(buf, 1, size);
	k = LB_UNDO_HEADER_SIZE;
	k += put_record(buf + k, 3, 0, 0, data, 0);
	k += put_record(buf + k, 1, 0, 8, data, 8);
	expect_parse("EBADMSG-begun-before-commit", buf, k, -EBADMSG);

	put_header(buf, 1, size);
	k = LB_UNDO_HEADER_SIZE;
	k += put_record(buf + k, 9, 0, 8, data, 8);
	k += put_record(buf + k, 1, 0, 8, data, 8);
	expect_parse("EBADMSG-unknown-kind", buf, k, -EBADMSG);

	put_header(buf, 1, size);
	k = LB_UNDO_HEADER_SIZE;
	k += put_record(buf + k, 1, 0, 0, data, 0);
	expect_parse("EBADMSG-empty-range", buf, k, -EBADMSG);

	free(log);
	free(img);
	lb_dev_unref(mem);
	scratch_done();
}

/* With a save window, 32 sequential 4 KiB writes cost 2 records, and undo still restores. */
static void test_save_window(void)
{
	const size_t size = 1 << 20;
	uint8_t *img = malloc(size), *orig = malloc(size), page[4096];
	struct lb_undo_result res = {0};
	struct lb_dev *mem = NULL, *dev = NULL;
	struct lb_undo *u;

	scratch_new();
	rng = 7;
	fill_random(img, size);
	memcpy(orig, img, size);
	mem = lb_mem_dev_new(img, size, false, "mem");
	u = new_log("win.log", size);
	lb_undo_set_window(u, 64 << 10);
	CHECK_INT(lb_undo_dev_new(u, mem, &dev), 0);
	memset(page, 0x5a, sizeof(page));
	for (unsigned i = 0; i < 32; i++) /* 128 KiB from offset 64 KiB + 4 KiB */
		CHECK_INT(lb_dev_pwrite(dev, page, sizeof(page), (68u << 10) + i * 4096), 0);
	CHECK_U64(lb_undo_ranges(u), 3); /* windows at 64 K, 128 K and 192 K */
	CHECK_U64(lb_undo_bytes(u), 3 * (64 << 10));
	CHECK_INT(lb_undo_commit(u, dev), 0);
	lb_dev_unref(dev);
	lb_undo_free(u);
	CHECK(memcmp(img, orig, size) != 0);
	CHECK_INT(lb_undo_apply(spath("win.log"), mem, 0, &res), 0);
	CHECK(memcmp(img, orig, size) == 0);
	lb_dev_unref(mem);
	free(img);
	free(orig);
}

LB_TEST_MAIN(T(test_roundtrip_mem), T(test_save_window), T(test_roundtrip_file),
	     T(test_record_before_write), T(test_split_large_write), T(test_kill_simulation),
	     T(test_log_full), T(test_lower_write_error), T(test_lower_read_error),
	     T(test_stale_and_force), T(test_apply_twice), T(test_interrupted_apply),
	     T(test_wrong_size), T(test_corrupt_middle), T(test_dry_run), T(test_torn_tail),
	     T(test_bad_files), T(test_writes_after_commit), T(test_alloc_failures),
	     T(test_overlap_oldest_wins), T(test_corpus))
