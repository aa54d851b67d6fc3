/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_reg_value - the input, up to its first NUL, as a --reg-set value spec
 * ("dword:4", "multi_sz:a,b", ...) for lb_reg_value_parse(); an accepted
 * value must be well-formed for its type and format into any buffer. The
 * formatter also gets the raw input as value data of every type, since it
 * shows data read from hives (untrusted).
 */
#include "fuzz.h"

#include "base/endian.h"
#include "base/err.h"
#include "fs/hive.h"

static void check_format(const struct lb_reg_value *v)
{
	char small[16], big[4096];

	lb_reg_value_format(v, small, sizeof(small));
	LB_FUZZ_TERMINATED(small);
	lb_reg_value_format(v, big, sizeof(big));
	LB_FUZZ_TERMINATED(big);
	LB_FUZZ_ASSERT(lb_reg_type_name(v->type) != NULL);
}

static bool utf16_terminated(const struct lb_reg_value *v)
{
	return v->len >= 2 && v->len % 2 == 0 && lb_le16(v->data + v->len - 2) == 0;
}

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	char *spec = malloc(size + 1);
	struct lb_reg_value v;
	int r;

	LB_FUZZ_ASSERT(spec != NULL);
	memcpy(spec, data, size);
	spec[size] = '\0';
	lb_err_clear();
	r = lb_reg_value_parse(spec, &v);
	LB_FUZZ_ASSERT(r == 0 || r == -ENOMEM || (r == -EINVAL && lb_err_last()->code == -EINVAL));
	if (r == 0) {
		LB_FUZZ_ASSERT(v.data != NULL && v.name == NULL);
		switch (v.type) {
		case LB_REG_DWORD:
			LB_FUZZ_ASSERT(v.len == 4);
			break;
		case LB_REG_QWORD:
			LB_FUZZ_ASSERT(v.len == 8);
			break;
		case LB_REG_SZ:
		case LB_REG_EXPAND_SZ:
			LB_FUZZ_ASSERT(utf16_terminated(&v));
			/* one terminator, at the end */
			for (size_t i = 0; i + 2 < v.len; i += 2)
				LB_FUZZ_ASSERT(lb_le16(v.data + i) != 0);
			break;
		case LB_REG_MULTI_SZ:
			LB_FUZZ_ASSERT(utf16_terminated(&v));
			LB_FUZZ_ASSERT(v.len == 2 ||
				       (v.len >= 6 && lb_le16(v.data + v.len - 4) == 0));
			/* no empty string before the end */
			for (size_t i = 2; i + 2 < v.len; i += 2)
				LB_FUZZ_ASSERT(lb_le16(v.data + i) || lb_le16(v.data + i - 2));
			break;
		case LB_REG_BINARY:
			LB_FUZZ_ASSERT(v.len <= size / 2);
			break;
		case LB_REG_NONE:
			LB_FUZZ_ASSERT(v.len == 0);
			break;
		default:
			LB_FUZZ_ASSERT(!"unexpected type");
		}
		check_format(&v);
		lb_reg_value_release(&v);
	} else {
		LB_FUZZ_ASSERT(v.data == NULL && v.len == 0);
	}
	free(spec);

	/* the raw bytes as hive data of each type */
	for (int t = 0; t <= 12; t++) {
		struct lb_reg_value raw = {
			.type = (enum lb_reg_type)t, .data = (uint8_t *)data, .len = size};

		check_format(&raw);
	}
	return r;
}

LB_FUZZ_TARGET
