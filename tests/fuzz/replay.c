/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * replay.c - run a fuzz target over saved inputs without libFuzzer.
 *
 *   replay [DIR|FILE]... [--expect-reject DIR|FILE...]
 *
 * Every input is one test: it passes if the target returns (a crash fails
 * the whole run, loudly) and, after --expect-reject, if the parser rejected
 * it. A known-bad file named E<NAME>-what (EBADMSG-both-gpt-headers-corrupt.bin)
 * must be rejected with exactly -E<NAME>; any other name accepts any
 * rejection. Ends with "N passed, N failed".
 */
#include "fuzz.h"

#include "base/err.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static unsigned passed, failed;

static const struct {
	const char *name;
	int code;
} errnos[] = {
	{"EBADMSG", EBADMSG},	  {"ERANGE", ERANGE},
	{"EOVERFLOW", EOVERFLOW}, {"EMEDIUMTYPE", EMEDIUMTYPE},
	{"EINVAL", EINVAL},	  {"EIO", EIO},
	{"ENOTSUP", ENOTSUP},	  {"ENODATA", ENODATA},
	{"ENOSPC", ENOSPC},	  {"EROFS", EROFS},
	{"ENOMEM", ENOMEM},
};

/*
 * The rejection a known-bad file's name asks for: 0 for any, the errno for
 * "E<NAME>-...", or -1 if it names an errno this table does not know (a typo
 * must not silently mean "any").
 */
static int expected_errno(const char *path, char *name, size_t cap)
{
	const char *base = strrchr(path, '/');
	size_t n = 0;

	base = base ? base + 1 : path;
	if (base[0] != 'E' || !isupper((unsigned char)base[1]))
		return 0;
	while (isupper((unsigned char)base[n]))
		n++;
	if (base[n] != '-' || n >= cap)
		return 0;
	memcpy(name, base, n);
	name[n] = '\0';
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(errnos[i].name, name))
			return errnos[i].code;
	return -1;
}

static void run_file(const char *path, int expect_reject)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;
	int r;

	if (!f) {
		printf("not ok - %s: cannot open\n", path);
		failed++;
		return;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0)
		n = -1;
	buf = n >= 0 ? malloc(n > 0 ? (size_t)n : 1) : NULL;
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		printf("not ok - %s: cannot read\n", path);
		failed++;
		free(buf);
		fclose(f);
		return;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	lb_err_clear();
	r = lb_fuzz_check(buf, (size_t)n);
	free(buf);
	if (expect_reject && r >= 0) {
		printf("not ok - %s: accepted, but it is a known-bad input\n", path);
		failed++;
		return;
	}
	if (expect_reject) {
		char name[32];
		int want = expected_errno(path, name, sizeof(name));

		if (want < 0) {
			printf("not ok - %s: the name asks for %s, an errno replay does not know\n",
			       path, name);
			failed++;
			return;
		}
		if (want > 0 && r != -want) {
			printf("not ok - %s: rejected with %d (%s), expected -%s (%d)\n", path, r,
			       strerror(-r), name, -want);
			failed++;
			return;
		}
	}
	if (r < 0 && lb_err_last()->code == r)
		printf("ok - %s (%d: %s: %s)\n", path, r, lb_err_last()->object,
		       lb_err_last()->problem);
	else
		printf("ok - %s (%d)\n", path, r);
	passed++;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path, int expect_reject)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (stat(path, &st) < 0)
		return; /* an absent corpus folder is empty */
	if (!S_ISDIR(st.st_mode)) {
		run_file(path, expect_reject);
		return;
	}
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				abort();
		}
		names[n] = malloc(strlen(path) + strlen(e->d_name) + 2);
		if (!names[n])
			abort();
		snprintf(names[n], strlen(path) + strlen(e->d_name) + 2, "%s/%s", path, e->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	for (size_t i = 0; i < n; i++) {
		run_file(names[i], expect_reject);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	int expect_reject = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--expect-reject")) {
			expect_reject = 1;
			continue;
		}
		run_path(argv[i], expect_reject);
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
