/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_audit - the audit journal verifier (lb_audit_verify_buf) on arbitrary
 * bytes: the line framing, the seq/prev prefix, the JSON validator.
 */
#include "fuzz.h"

#include "repair/audit.h"

#include <errno.h>

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	struct lb_audit_check c;
	int r = lb_audit_verify_buf((const char *)data, size, &c);

	if (r == 0 && c.bad_line != 0)
		__builtin_trap();
	if (r < 0 && r != -ENOMEM && c.bad_line != c.records + 1)
		__builtin_trap();
	return r;
}

LB_FUZZ_TARGET
