/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz.h - conventions for fuzz targets.
 *
 * Each tests/fuzz/fuzz_NAME.c defines lb_fuzz_check(), which runs the parser
 * on the input and returns its result (< 0: rejected), and gets
 * LLVMFuzzerTestOneInput() from LB_FUZZ_TARGET. Built with clang
 * -fsanitize=fuzzer by 'make fuzz'; linked with replay.c by 'make check',
 * which replays tests/fuzz/corpus/NAME/ (must not crash) and
 * tests/fuzz/bad/NAME/ (must not crash and must be rejected; a file named
 * E<NAME>-what, e.g. EBADMSG-both-gpt-headers-corrupt.bin, must be rejected
 * with exactly -E<NAME>).
 */
#ifndef LB_TESTS_FUZZ_H
#define LB_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lb_fuzz_check(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A property the parser promises (results inside the input, strings
 * terminated, errors recorded): abort, so libFuzzer saves the input and
 * replay fails loudly.
 */
#define LB_FUZZ_ASSERT(cond)                                                                      \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                           \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

/* A fixed-size field holds a NUL-terminated string. */
#define LB_FUZZ_TERMINATED(field) LB_FUZZ_ASSERT(memchr((field), 0, sizeof(field)) != NULL)

#define LB_FUZZ_TARGET                                               \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) \
	{                                                            \
		(void)lb_fuzz_check(data, size);                     \
		return 0;                                            \
	}

#endif
