/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_store_fault - the input, NUL-terminated, as a LIFEBOAT_STORE_FAULT
 * spec (src/store/fault.h): accepted, or rejected with -EINVAL recorded.
 */
#include "fuzz.h"

#include "base/err.h"
#include "store/fault.h"

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	char *spec = malloc(size + 1);
	int r;

	LB_FUZZ_ASSERT(spec != NULL);
	memcpy(spec, data, size);
	spec[size] = '\0';
	lb_err_clear();
	r = lb_store_fault_spec_check(spec);
	LB_FUZZ_ASSERT(r == 0 || (r == -EINVAL && lb_err_last()->code == -EINVAL));
	free(spec);
	return r;
}

LB_FUZZ_TARGET
