/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * harness.h - a tiny unit-test harness.
 *
 *     static void test_gpt_roundtrip(void) { CHECK(x == 1); CHECK_INT(r, -EBADMSG); }
 *     LB_TEST_MAIN(T(test_gpt_roundtrip), T(...))
 *
 * Each test function is one test; it fails if any CHECK in it fails (and
 * goes on, to report every failed check). The binary prints one line per test
 * and ends with "N passed, N failed"; it exits 1 if any failed.
 * An argument runs only the tests whose names contain it.
 *
 * Allocation failure: LB_TEST_FAIL_ALLOC=N makes the N-th malloc/calloc/
 * realloc/strdup of the process (counted from lb_test_alloc_arm()) fail, so a
 * test can walk N = 1, 2, ... and check that every failure is handled.
 */
#ifndef LB_TESTS_HARNESS_H
#define LB_TESTS_HARNESS_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct lb_test {
	const char *name;
	void (*fn)(void);
};

extern int lb_test_failed_checks;

void lb_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int lb_test_main(int argc, char **argv, const struct lb_test *tests, size_t n);

/* Directory holding the source tree's tests/ (from $LB_SRCDIR, else "."). */
const char *lb_test_srcdir(void);

/*
 * A scratch folder for one test program: "$TMPDIR/lb-TAG-XXXXXX" made in
 * @dir (exits 2 if it cannot be made); removed with everything in it by
 * lb_test_scratch_done() unless LB_TEST_KEEP is set. lb_test_path() joins a
 * name to a folder in one of four rotating static buffers.
 */
void lb_test_scratch_new(const char *tag, char *dir, size_t cap);
void lb_test_scratch_done(const char *dir);
char *lb_test_path(const char *dir, const char *name);
/* Read a whole file (test data) into a malloc'ed buffer; NULL on error. */
uint8_t *lb_test_read_file(const char *path, size_t *len);

/* Allocation-failure knob: fail the @n-th allocation from now on (0: never). */
void lb_test_alloc_fail_at(unsigned long n);
/* Allocations counted since the last lb_test_alloc_fail_at(). */
unsigned long lb_test_alloc_count(void);

#define T(fn)           \
	{               \
#fn, fn \
	}

#define LB_TEST_MAIN(...)                                                                    \
	int main(int argc, char **argv)                                                      \
	{                                                                                    \
		static const struct lb_test tests_[] = {__VA_ARGS__};                        \
		return lb_test_main(argc, argv, tests_, sizeof(tests_) / sizeof(tests_[0])); \
	}

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond))                                                  \
			lb_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
	} while (0)

#define CHECK_INT(got, want)                                                                      \
	do {                                                                                      \
		long long g_ = (long long)(got), w_ = (long long)(want);                          \
		if (g_ != w_)                                                                     \
			lb_test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #got, \
				     g_, #want, w_);                                              \
	} while (0)

#define CHECK_U64(got, want)                                                                     \
	do {                                                                                     \
		uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);                            \
		if (g_ != w_)                                                                    \
			lb_test_fail(__FILE__, __LINE__, "%s == %" PRIu64 ", expected %" PRIu64, \
				     #got, g_, w_);                                              \
	} while (0)

#define CHECK_STR(got, want)                                                                    \
	do {                                                                                    \
		const char *g_ = (got), *w_ = (want);                                           \
		if (!g_ || !w_ || strcmp(g_, w_))                                               \
			lb_test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #got, \
				     g_ ? g_ : "(null)", w_ ? w_ : "(null)");                   \
	} while (0)

/* The string contains a substring. */
#define CHECK_CONTAINS(got, part)                                                                \
	do {                                                                                     \
		const char *g_ = (got), *p_ = (part);                                            \
		if (!g_ || !strstr(g_, p_))                                                      \
			lb_test_fail(__FILE__, __LINE__, "%s == \"%s\" does not contain \"%s\"", \
				     #got, g_ ? g_ : "(null)", p_);                              \
	} while (0)

#endif
