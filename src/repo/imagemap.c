/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imagemap.c - image map blobs.
 *
 *   off  size  field
 *     0     4  magic "LBMP"
 *     4     4  version (1)
 *     8     8  first chunk number (a multiple of LB_MAP_SPAN)
 *    16     4  number of chunks covered N (1..LB_MAP_SPAN)
 *    20     4  chunk size (a power of two, 4 KiB..1 MiB)
 *    24     4  number of runs R (1..N)
 *    28   ...  R runs: kind (1: 0 hole, 1 zero, 2 data), count (4, >= 1),
 *              then for data count IDs of 32 bytes
 *
 * Runs are maximal (two neighbours never have the same kind), their counts
 * add up to N exactly, and nothing follows the last one: one map has one
 * encoding, so an unchanged region of a disk keeps its blob (and its ID).
 */
#include "repo/imagemap.h"

#include "base/endian.h"
#include "base/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAP_MAGIC "LBMP"
#define MAP_VERSION 1
#define MAP_HEADER 28
#define RUN_HEADER 5
#define OBJ "image map blob"
#define HINT_DAMAGED "the repository is damaged; run 'lifeboat check'"

bool lb_map_check_chunk_size(uint32_t chunk_size)
{
	return chunk_size >= LB_MAP_MIN_CHUNK && chunk_size <= LB_MAP_MAX_CHUNK &&
	       (chunk_size & (chunk_size - 1)) == 0;
}

int lb_map_count(uint64_t virtual_size, uint32_t chunk_size, uint64_t *nchunks, uint64_t *nblobs)
{
	uint64_t chunks;

	if (!lb_map_check_chunk_size(chunk_size))
		return -EINVAL;
	chunks = virtual_size / chunk_size + (virtual_size % chunk_size != 0);
	if (nchunks)
		*nchunks = chunks;
	if (nblobs)
		*nblobs = chunks / LB_MAP_SPAN + (chunks % LB_MAP_SPAN != 0);
	return 0;
}

/* The blob's place on the disk is possible: 0 or -EINVAL/-EOVERFLOW. */
static int check_range(uint64_t first, uint32_t count, uint32_t chunk_size)
{
	uint64_t end, bytes;

	if (count < 1 || count > LB_MAP_SPAN || !lb_map_check_chunk_size(chunk_size) ||
	    first % LB_MAP_SPAN)
		return -EINVAL;
	if (__builtin_add_overflow(first, count, &end) ||
	    __builtin_mul_overflow(end, (uint64_t)chunk_size, &bytes) || bytes > INT64_MAX)
		return -EOVERFLOW;
	return 0;
}

int lb_map_init(struct lb_map_blob *m, uint64_t first, uint32_t count, uint32_t chunk_size)
{
	int r;

	memset(m, 0, sizeof(*m));
	r = check_range(first, count, chunk_size);
	if (r < 0)
		return lb_err(-EINVAL, OBJ, NULL,
			      "invalid map: first chunk %llu, %u chunks of %u bytes",
			      (unsigned long long)first, count, chunk_size);
	m->kinds = calloc(count, 1);
	m->ids = calloc(count, LB_ID_LEN);
	if (!m->kinds || !m->ids) {
		lb_map_release(m);
		return lb_err(-ENOMEM, OBJ, NULL, "out of memory for a map of %u chunks", count);
	}
	m->first = first;
	m->count = count;
	m->chunk_size = chunk_size;
	return 0;
}

void lb_map_release(struct lb_map_blob *m)
{
	if (!m)
		return;
	free(m->kinds);
	free(m->ids);
	memset(m, 0, sizeof(*m));
}

int lb_map_encode(const struct lb_map_blob *m, uint8_t **out, size_t *len)
{
	size_t runs = 0, ndata = 0, n, pos;
	uint8_t *p;

	*out = NULL;
	*len = 0;
	if (check_range(m->first, m->count, m->chunk_size) < 0 || !m->kinds || !m->ids)
		return lb_err(-EINVAL, OBJ, NULL, "invalid map: first chunk %llu, %u chunks of %u",
			      (unsigned long long)m->first, m->count, m->chunk_size);
	for (uint32_t i = 0; i < m->count; i++) {
		if (m->kinds[i] > LB_MAP_DATA)
			return lb_err(-EINVAL, OBJ, NULL, "chunk %u: invalid kind %u", i,
				      m->kinds[i]);
		runs += i == 0 || m->kinds[i] != m->kinds[i - 1];
		ndata += m->kinds[i] == LB_MAP_DATA;
	}
	/* at most 28 + 5 * 8192 + 32 * 8192 bytes: no overflow */
	n = MAP_HEADER + RUN_HEADER * runs + LB_ID_LEN * ndata;
	p = malloc(n);
	if (!p)
		return lb_err(-ENOMEM, OBJ, NULL, "out of memory encoding a map");
	memcpy(p, MAP_MAGIC, 4);
	lb_put_le32(p + 4, MAP_VERSION);
	lb_put_le64(p + 8, m->first);
	lb_put_le32(p + 16, m->count);
	lb_put_le32(p + 20, m->chunk_size);
	lb_put_le32(p + 24, (uint32_t)runs);
	pos = MAP_HEADER;
	for (uint32_t i = 0; i < m->count;) {
		uint32_t j = i;

		while (j < m->count && m->kinds[j] == m->kinds[i])
			j++;
		p[pos] = m->kinds[i];
		lb_put_le32(p + pos + 1, j - i);
		pos += RUN_HEADER;
		if (m->kinds[i] == LB_MAP_DATA) {
			memcpy(p + pos, m->ids[i], (size_t)(j - i) * LB_ID_LEN);
			pos += (size_t)(j - i) * LB_ID_LEN;
		}
		i = j;
	}
	*out = p;
	*len = pos;
	return 0;
}

int lb_map_decode(const uint8_t *buf, size_t len, struct lb_map_blob *out)
{
	uint64_t first;
	uint32_t count, chunk_size, runs, covered = 0;
	size_t pos = MAP_HEADER;
	int prev = -1, r;

	memset(out, 0, sizeof(*out));
	if (len < MAP_HEADER)
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "truncated: %zu bytes, the header is %d",
			      len, MAP_HEADER);
	if (memcmp(buf, MAP_MAGIC, 4))
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "bad magic (not an image map blob)");
	if (lb_le32(buf + 4) != MAP_VERSION)
		return lb_err(-EBADMSG, OBJ, "use a newer lifeboat", "unknown version %u",
			      lb_le32(buf + 4));
	first = lb_le64(buf + 8);
	count = lb_le32(buf + 16);
	chunk_size = lb_le32(buf + 20);
	runs = lb_le32(buf + 24);
	if (count > LB_MAP_SPAN)
		return lb_err(-EOVERFLOW, OBJ, HINT_DAMAGED, "%u chunks, at most %d in one blob",
			      count, LB_MAP_SPAN);
	r = check_range(first, count, chunk_size);
	if (r == -EOVERFLOW)
		return lb_err(-EOVERFLOW, OBJ, HINT_DAMAGED,
			      "chunks %llu + %u of %u bytes are beyond any disk",
			      (unsigned long long)first, count, chunk_size);
	if (r < 0)
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED,
			      "invalid header: first chunk %llu, %u chunks of %u bytes",
			      (unsigned long long)first, count, chunk_size);
	if (runs < 1 || runs > count)
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "%u runs for %u chunks", runs, count);
	r = lb_map_init(out, first, count, chunk_size);
	if (r < 0)
		return r;
	for (uint32_t k = 0; k < runs; k++) {
		uint8_t kind;
		uint32_t n;

		if (len - pos < RUN_HEADER) {
			r = lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "truncated in run %u of %u", k,
				   runs);
			goto fail;
		}
		kind = buf[pos];
		n = lb_le32(buf + pos + 1);
		pos += RUN_HEADER;
		if (kind > LB_MAP_DATA || kind == prev || n < 1 || n > count - covered) {
			r = lb_err(-EBADMSG, OBJ, HINT_DAMAGED,
				   "run %u (kind %u, %u chunks at chunk %u of %u) is invalid", k,
				   kind, n, covered, count);
			goto fail;
		}
		memset(out->kinds + covered, kind, n);
		if (kind == LB_MAP_DATA) {
			if ((len - pos) / LB_ID_LEN < n) {
				r = lb_err(-EBADMSG, OBJ, HINT_DAMAGED,
					   "truncated in the IDs of run %u", k);
				goto fail;
			}
			memcpy(out->ids[covered], buf + pos, (size_t)n * LB_ID_LEN);
			pos += (size_t)n * LB_ID_LEN;
		}
		covered += n;
		prev = kind;
	}
	if (covered != count || pos != len) {
		r = lb_err(-EBADMSG, OBJ, HINT_DAMAGED,
			   "the runs cover %u of %u chunks and end at byte %zu of %zu", covered,
			   count, pos, len);
		goto fail;
	}
	return 0;
fail:
	lb_map_release(out);
	return r;
}
