/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "harness.h"

#include <dlfcn.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int lb_test_failed_checks;

void lb_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	lb_test_failed_checks++;
	fprintf(stdout, "#   %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

const char *lb_test_srcdir(void)
{
	const char *d = getenv("LB_SRCDIR");

	return d && *d ? d : ".";
}

uint8_t *lb_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf)
			*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* ---- allocation failure knob ------------------------------------------- */

static unsigned long alloc_count, alloc_fail_at;

void lb_test_alloc_fail_at(unsigned long n)
{
	alloc_count = 0;
	alloc_fail_at = n;
}

unsigned long lb_test_alloc_count(void)
{
	return alloc_count;
}

static __attribute__((unused)) bool alloc_should_fail(void)
{
	if (!alloc_fail_at)
		return false;
	return ++alloc_count == alloc_fail_at;
}

/*
 * Wrap the allocator with the linker (--wrap is not used: these definitions
 * interpose the libc symbols for this test binary only). Sanitizer builds
 * interpose malloc themselves, so the knob is off there.
 */
#if !defined(__SANITIZE_ADDRESS__) && !defined(LB_NO_ALLOC_KNOB)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

void *malloc(size_t n)
{
	if (alloc_should_fail())
		return NULL;
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	if (alloc_should_fail())
		return NULL;
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	if (alloc_should_fail())
		return NULL;
	return __libc_realloc(p, n);
}
#endif

int lb_test_main(int argc, char **argv, const struct lb_test *tests, size_t n)
{
	unsigned passed = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		int before = lb_test_failed_checks;

		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		tests[i].fn();
		lb_test_alloc_fail_at(0);
		if (lb_test_failed_checks == before) {
			passed++;
			printf("ok %zu - %s\n", i + 1, tests[i].name);
		} else {
			failed++;
			printf("not ok %zu - %s\n", i + 1, tests[i].name);
		}
		fflush(stdout);
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* ---- scratch folders -------------------------------------------------------------- */

void lb_test_scratch_new(const char *tag, char *dir, size_t cap)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, cap, "%s/lb-%s-XXXXXX", t && *t ? t : "/tmp", tag);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

void lb_test_scratch_done(const char *dir)
{
	if (!getenv("LB_TEST_KEEP"))
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *lb_test_path(const char *dir, const char *name)
{
	static char buf[4][1024];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}
