/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * replay.c - run a fuzz target over saved inputs without libFuzzer.
 *
 *   replay [DIR|FILE]... [--expect-reject DIR|FILE...]
 *
 * Every input is one test: it passes if the target returns (a crash fails
 * the whole run, loudly) and, after --expect-reject, if the parser rejected
 * it. Ends with "N passed, N failed".
 */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static unsigned passed, failed;

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
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		printf("not ok - %s: cannot read\n", path);
		failed++;
		free(buf);
		fclose(f);
		return;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	r = lb_fuzz_check(buf, (size_t)n);
	free(buf);
	if (expect_reject && r >= 0) {
		printf("not ok - %s: accepted, but it is a known-bad input\n", path);
		failed++;
		return;
	}
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
