/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_mbr - lb_mbr_parse() on one sector: the first 512 bytes of the input,
 * zero-padded if shorter, in a buffer of exactly 512 bytes.
 */
#include "fuzz.h"

#include "base/endian.h"
#include "base/err.h"
#include "io/ptable.h"

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	struct lb_mbr_entry e[4];
	uint32_t sig;
	bool gpt, any_ee = false;
	uint8_t *s = calloc(1, 512);
	int r;

	if (!s)
		return -ENOMEM;
	memcpy(s, data, size < 512 ? size : 512);
	lb_err_clear();
	r = lb_mbr_parse(s, e, &sig, &gpt);
	if (r == 0) {
		/* the entries are the bytes, and 0xEE anywhere means GPT */
		for (int i = 0; i < 4; i++) {
			const uint8_t *p = s + 446 + 16 * i;

			LB_FUZZ_ASSERT(e[i].status == p[0] && e[i].type == p[4]);
			LB_FUZZ_ASSERT(e[i].lba == lb_le32(p + 8) &&
				       e[i].sectors == lb_le32(p + 12));
			LB_FUZZ_ASSERT(e[i].type == 0 || e[i].status == 0 || e[i].status == 0x80);
			any_ee |= e[i].type == 0xee;
		}
		LB_FUZZ_ASSERT(gpt == any_ee);
		LB_FUZZ_ASSERT(sig == lb_le32(s + 440));
		LB_FUZZ_ASSERT(s[510] == 0x55 && s[511] == 0xaa);
	} else {
		LB_FUZZ_ASSERT(r == -EMEDIUMTYPE || r == -EBADMSG);
		/* a recorded error for a damaged MBR; "not an MBR" is an answer, not an error */
		LB_FUZZ_ASSERT(r == -EMEDIUMTYPE || lb_err_last()->code == r);
	}
	free(s);
	return r;
}

LB_FUZZ_TARGET
