/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mkdata - the backup benchmark's dataset, deterministic (a fixed PRNG).
 *
 *   mkdata v1 FILE SIZE_MIB     a sparse image in 64 MiB regions: of every
 *                               ten, four are holes, three text-like
 *                               (compressible) and three random; plus 2 %
 *                               of the disk written as zeros
 *   mkdata v2 FILE SIZE_MIB     rewrite 2 % of FILE's 4 KiB pages at
 *                               scattered places with random data, and one
 *                               16 MiB region (in place)
 *
 * Built and run by bench/run.sh; not part of lifeboat.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fill_random(uint8_t *b, size_t n)
{
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t v = rnd();

		memcpy(b + i, &v, 8);
	}
}

/* Text-like: words of a small vocabulary, with numbers: compresses to about a third. */
static void fill_text(uint8_t *b, size_t n)
{
	static const char *words[] = { "the",	 "disk",   "backup", "restore", "virtual",
				       "machine", "error",  "kernel", "driver",  "channel",
				       "file",	 "update", "sensor", "boot",    "loop",
				       "windows", "linux",  "server", "fleet",   "recovery" };
	size_t o = 0;

	while (o < n) {
		char w[64];
		uint64_t r = rnd();
		int k = snprintf(w, sizeof(w), "%s %s %llu%s",
				 words[r % 20], words[(r >> 8) % 20],
				 (unsigned long long)((r >> 16) % 100000), (r >> 40) % 8 ? " " : ".\n");

		for (int i = 0; i < k && o < n; i++)
			b[o++] = (uint8_t)w[i];
	}
}

int main(int argc, char **argv)
{
	const size_t region = 64u << 20;
	uint8_t *buf;
	uint64_t size;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: mkdata v1|v2 FILE SIZE_MIB\n");
		return 2;
	}
	size = (uint64_t)strtoull(argv[3], NULL, 10) << 20;
	buf = malloc(region);
	if (!buf)
		return 1;
	if (!strcmp(argv[1], "v1")) {
		fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
			return 1;
		for (uint64_t r = 0; r * region < size; r++) {
			unsigned kind = (unsigned)(r % 10);

			if (kind < 4)
				continue; /* a hole */
			if (kind < 7)
				fill_text(buf, region);
			else
				fill_random(buf, region);
			if (pwrite(fd, buf, region, (off_t)(r * region)) != (ssize_t)region)
				return 1;
		}
		/* 2 % written zeros, in the first hole */
		memset(buf, 0, region);
		for (uint64_t o = 0; o < size / 50; o += region)
			if (pwrite(fd, buf, (size_t)(size / 50 - o < region ? size / 50 - o : region),
				   (off_t)(region + o)) < 0)
				return 1;
	} else {
		uint64_t pages = size / 4096, n = pages / 50;

		state = 0x0123456789abcdefULL;
		fd = open(argv[2], O_WRONLY);
		if (fd < 0)
			return 1;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t p = rnd() % pages;

			fill_random(buf, 4096);
			if (pwrite(fd, buf, 4096, (off_t)(p * 4096)) != 4096)
				return 1;
		}
		fill_random(buf, 16u << 20);
		if (pwrite(fd, buf, 16u << 20, (off_t)(size / 2 + 12345 * 4096)) != (ssize_t)(16u << 20))
			return 1;
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		return 1;
	free(buf);
	return 0;
}
