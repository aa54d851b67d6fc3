/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * chunker.h - content-defined chunking for files (FastCDC with a gear hash
 * and normalised chunking: a stricter mask below the average size and a
 * looser one above it, so chunk sizes cluster around the average).
 *
 * The gear table is fixed (part of the repository format: changing it would
 * change every chunk boundary and defeat deduplication with older backups);
 * the exact definition is in docs/repository-format.md, "File chunking".
 * A boundary depends only on the 64 bytes before it and its distance from
 * the chunk's start, so an insertion in a file moves only the chunks around
 * it. The boundary search runs at several GB/s (test_chunker reports it).
 */
#ifndef LB_REPO_CHUNKER_H
#define LB_REPO_CHUNKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LB_CDC_MIN_DEFAULT (256u << 10)
#define LB_CDC_AVG_DEFAULT (1u << 20)
#define LB_CDC_MAX_DEFAULT (4u << 20)

struct lb_cdc {
	uint32_t min, avg, max;
	uint64_t mask_small, mask_large; /* derived from avg */
};

/*
 * Set up for chunks of @min..@max bytes around @avg (a power of two; 64 <=
 * min < avg < max <= 64 MiB). Thread-safe (the gear table is built once, on
 * first use). Returns 0 or -EINVAL (nothing recorded: a programming error).
 */
int lb_cdc_init(struct lb_cdc *c, uint32_t min, uint32_t avg, uint32_t max);

/*
 * The length of the next chunk at the start of @data (@len bytes available).
 * If no boundary is found and @eof is false, returns 0 when fewer than @max
 * bytes were given (give more), else @max. At @eof returns at most @len
 * (the last chunk may be short; 0 only for @len 0). A boundary found is
 * final: given more bytes, the same length comes back. Pure: no state
 * between calls, any number of threads may share @c.
 */
size_t lb_cdc_next(const struct lb_cdc *c, const uint8_t *data, size_t len, bool eof);

#endif
