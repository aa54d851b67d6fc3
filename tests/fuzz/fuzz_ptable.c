/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_ptable - the whole input is a disk (512-byte sectors unless a GPT
 * header at 4096 says otherwise), read by lb_ptable_read(). What it returns
 * must lie inside the disk, and each partition must work as a device.
 */
#include "fuzz.h"

#include "base/err.h"
#include "io/dev.h"
#include "io/ptable.h"

static bool is_extended(const struct lb_part *p)
{
	return p->mbr_type == 0x05 || p->mbr_type == 0x0f || p->mbr_type == 0x85;
}

static void check_table(struct lb_dev *disk, const struct lb_ptable *pt)
{
	LB_FUZZ_TERMINATED(pt->note);
	if (pt->kind == LB_PTABLE_NONE)
		LB_FUZZ_ASSERT(pt->n == 0);
	if (pt->kind == LB_PTABLE_GPT)
		LB_FUZZ_ASSERT(pt->sector_size == 512 || pt->sector_size == 4096);
	for (unsigned i = 0; i < pt->n; i++) {
		const struct lb_part *p = &pt->parts[i];
		struct lb_dev *d;
		uint8_t b;

		LB_FUZZ_ASSERT(p->type_name != NULL);
		LB_FUZZ_TERMINATED(p->name);
		LB_FUZZ_ASSERT(p->size > 0);
		LB_FUZZ_ASSERT(p->start <= disk->size && p->size <= disk->size - p->start);
		if (i > 0)
			LB_FUZZ_ASSERT(pt->parts[i - 1].number < p->number);
		/* no overlaps, except an MBR extended partition with its logicals */
		for (unsigned k = 0; k < i; k++) {
			const struct lb_part *q = &pt->parts[k];

			if (is_extended(p) || is_extended(q))
				continue;
			LB_FUZZ_ASSERT(q->start + q->size <= p->start ||
				       p->start + p->size <= q->start);
		}
		LB_FUZZ_ASSERT(lb_part_dev_new(disk, p, &d) == 0);
		LB_FUZZ_ASSERT(d->size == p->size);
		LB_FUZZ_ASSERT(lb_dev_pread(d, &b, 1, 0) == 0);
		LB_FUZZ_ASSERT(lb_dev_pread(d, &b, 1, d->size - 1) == 0);
		LB_FUZZ_ASSERT(lb_dev_pread(d, &b, 1, d->size) == -EINVAL);
		lb_dev_unref(d);
	}
}

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	/* read-only: the memory is never written, so the input can be used as is */
	struct lb_dev *disk = lb_mem_dev_new((void *)data, size, true, "disk");
	struct lb_ptable pt;
	int r;

	if (!disk)
		return -ENOMEM;
	lb_err_clear();
	r = lb_ptable_read(disk, &pt);
	if (r == 0) {
		check_table(disk, &pt);
	} else {
		/* nothing half-built comes back, and the error is recorded */
		LB_FUZZ_ASSERT(pt.parts == NULL && pt.n == 0);
		LB_FUZZ_ASSERT(lb_err_last()->code == r);
	}
	lb_ptable_release(&pt);
	lb_dev_unref(disk);
	return r;
}

LB_FUZZ_TARGET
