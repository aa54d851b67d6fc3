/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imagemap.h - what each chunk of a disk image holds: a hole, zeros, or a
 * stored chunk (format: docs/repository-format.md, "Image map blobs").
 *
 * A map blob covers LB_MAP_SPAN chunks (the last one of a disk fewer); a
 * snapshot of an image lists its map blobs. Encoding run-length-codes holes
 * and zeros. Decoding checks every count against the blob's size and the
 * caps (fuzzed).
 */
#ifndef LB_REPO_IMAGEMAP_H
#define LB_REPO_IMAGEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repo/crypto.h"

#define LB_MAP_SPAN 8192 /* chunks per map blob */
#define LB_MAP_MIN_CHUNK (4u << 10)
#define LB_MAP_MAX_CHUNK (1u << 20)

enum lb_map_kind {
	LB_MAP_HOLE = 0, /* not allocated in the source */
	LB_MAP_ZERO = 1, /* allocated, all zeros */
	LB_MAP_DATA = 2, /* a stored chunk */
};

struct lb_map_blob {
	uint64_t first;		   /* number of the first chunk covered */
	uint32_t count;		   /* chunks covered, 1..LB_MAP_SPAN */
	uint32_t chunk_size;	   /* bytes per chunk (the image's, from config) */
	uint8_t *kinds;		   /* count entries, enum lb_map_kind */
	uint8_t (*ids)[LB_ID_LEN]; /* count entries; meaningful for DATA only */
};

/* Is @chunk_size an image chunk size (a power of two, 4 KiB..1 MiB)? */
bool lb_map_check_chunk_size(uint32_t chunk_size);

/*
 * The chunks of a disk of @virtual_size bytes (the last may be short) and
 * the map blobs that cover them (blob k covers chunks k * LB_MAP_SPAN ..);
 * either pointer may be NULL. Returns 0 or -EINVAL (a bad chunk size).
 */
int lb_map_count(uint64_t virtual_size, uint32_t chunk_size, uint64_t *nchunks, uint64_t *nblobs);

/*
 * Allocate kinds and ids for @count chunks (all HOLE). @first must be a
 * multiple of LB_MAP_SPAN, @count 1..LB_MAP_SPAN, the chunk size valid and
 * (first + count) * chunk size below 2^63. Returns 0, -EINVAL, -ENOMEM
 * (recorded); on failure @m is empty (release is harmless).
 */
int lb_map_init(struct lb_map_blob *m, uint64_t first, uint32_t count, uint32_t chunk_size);
void lb_map_release(struct lb_map_blob *m);

/*
 * Encode (the canonical form: maximal runs) into a malloc'ed buffer the
 * caller frees. Returns 0, -EINVAL (a kind out of range, a bad header
 * field), -ENOMEM (recorded).
 */
int lb_map_encode(const struct lb_map_blob *m, uint8_t **out, size_t *len);

/*
 * Decode and check (fills @out; the caller releases it on success, and it
 * is empty on failure). Returns 0, -EBADMSG (bad magic or version,
 * truncated, trailing bytes, runs that do not add up or are not maximal, an
 * invalid kind, chunk size or first chunk), -EOVERFLOW (more than
 * LB_MAP_SPAN chunks, a range beyond 2^63 bytes), -ENOMEM (recorded).
 */
int lb_map_decode(const uint8_t *buf, size_t len, struct lb_map_blob *out);

#endif
