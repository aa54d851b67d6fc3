/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_fault_spec - the input, NUL-terminated, as a LIFEBOAT_FAULT spec.
 * lb_fault_spec_check() and lb_fault_dev_new() must agree; an accepted spec
 * is then exercised on a 4 KiB memory disk (reads and writes at the edges).
 * Specs with rules that end the process on a write (kill-at-write,
 * kill-after-write, crash-at-write) are only read through: the fuzzer must
 * not take the death they promise for a crash.
 */
#include "fuzz.h"

#include "base/err.h"
#include "io/dev.h"
#include "io/fault.h"

static void exercise(struct lb_dev *f, size_t n, bool writes)
{
	static const uint64_t offs[] = {0, 1, 511, 512, 1000, 2048, 4095};
	static const uint8_t src[100] = {1, 2, 3};
	uint8_t buf[4096];
	int r;

	r = lb_dev_pread(f, buf, n, 0);
	LB_FUZZ_ASSERT(r == 0 || r == -EIO);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		size_t len = n - offs[i] < 100 ? n - offs[i] : 100;

		r = lb_dev_pread(f, buf, len, offs[i]);
		LB_FUZZ_ASSERT(r == 0 || r == -EIO);
		if (!writes)
			continue;
		r = lb_dev_pwrite(f, src, len, offs[i]);
		LB_FUZZ_ASSERT(r == 0 || r == -EIO || r == -ENOSPC);
	}
	LB_FUZZ_ASSERT(lb_dev_pread(f, buf, 1, n) == -EINVAL);
}

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	static uint8_t mem[4096];
	char *spec = malloc(size + 1);
	struct lb_dev *lower, *f = NULL;
	int r, r2;

	LB_FUZZ_ASSERT(spec != NULL);
	memcpy(spec, data, size);
	spec[size] = '\0';
	lb_err_clear();
	r = lb_fault_spec_check(spec);
	LB_FUZZ_ASSERT(r == 0 || (r == -EINVAL && lb_err_last()->code == -EINVAL));

	lower = lb_mem_dev_new(mem, sizeof(mem), false, "disk");
	LB_FUZZ_ASSERT(lower != NULL);
	r2 = lb_fault_dev_new(lower, spec, &f);
	LB_FUZZ_ASSERT(r2 == r);
	if (r2 == 0) {
		LB_FUZZ_ASSERT(f->size == lower->size);
		exercise(f, sizeof(mem),
			 !strstr(spec, "-at-write") && !strstr(spec, "-after-write"));
		lb_dev_unref(f);
	}
	lb_dev_unref(lower);
	free(spec);
	return r;
}

LB_FUZZ_TARGET
