/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_pack_trailer - the pack trailer parser (lb_pack_trailer_parse) on
 * arbitrary bytes: counts against the caps, frames inside the pack and in
 * order, chunks inside their frames.
 *
 * Input: the trailer's offset in the pack (8 bytes, little-endian), then the
 * trailer's plaintext. Seeds: tests/unit/test_pack.c (test_trailer_bounds)
 * with LB_CORPUS_OUT set (tests/fuzz/make-pack-corpus.sh).
 */
#include "fuzz.h"

#include "base/endian.h"
#include "repo/pack.h"

static void check_accepted(const struct lb_pack_info *p, uint64_t toff, const uint8_t *buf,
			   size_t len)
{
	uint64_t end = LB_PACK_HEADER;
	uint8_t *again = NULL;
	size_t alen = 0;

	LB_FUZZ_ASSERT(p->nframes <= LB_PACK_READ_MAX_FRAMES);
	LB_FUZZ_ASSERT(p->nchunks <= LB_PACK_MAX_CHUNKS);
	for (uint32_t i = 0; i < p->nframes; i++) {
		const struct lb_frame_info *f = &p->frames[i];

		LB_FUZZ_ASSERT(f->off >= end);
		LB_FUZZ_ASSERT(f->off <= toff && f->sealed_len <= toff - f->off);
		LB_FUZZ_ASSERT(f->raw_len <= LB_FRAME_MAX_RAW);
		LB_FUZZ_ASSERT(f->sealed_len >= LB_FRAME_OVERHEAD &&
			       f->sealed_len - LB_FRAME_OVERHEAD <= f->raw_len);
		end = f->off + f->sealed_len;
	}
	for (uint32_t i = 0; i < p->nchunks; i++) {
		const struct lb_chunk_ref *c = &p->chunks[i];

		LB_FUZZ_ASSERT(c->frame < p->nframes);
		LB_FUZZ_ASSERT((uint64_t)c->off + c->len <= p->frames[c->frame].raw_len);
	}
	/* what was accepted encodes back to the same bytes */
	if (lb_pack_trailer_encode(p, &again, &alen) == 0) {
		LB_FUZZ_ASSERT(alen == len && !memcmp(again, buf, len));
		free(again);
	}
}

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	struct lb_pack_info info;
	uint64_t toff;
	int r;

	if (size < 8) /* no offset: the trailer alone (too short to be one) */
		return lb_pack_trailer_parse(data, size, 0, &info);
	toff = lb_le64(data);
	r = lb_pack_trailer_parse(data + 8, size - 8, toff, &info);
	if (r == 0)
		check_accepted(&info, toff, data + 8, size - 8);
	else
		LB_FUZZ_ASSERT(info.frames == NULL && info.chunks == NULL && info.nframes == 0);
	lb_pack_info_release(&info);
	return r;
}

LB_FUZZ_TARGET
