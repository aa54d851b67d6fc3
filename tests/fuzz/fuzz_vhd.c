/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_vhd - the input is a (small) VHD file. Its footer is the last 512
 * bytes (zero-padded if the input is shorter); a fixed disk becomes a device
 * that must keep the footer out of reach; a dynamic or differencing disk has
 * its dynamic header parsed from the footer's data offset.
 */
#include "fuzz.h"

#include "base/err.h"
#include "io/dev.h"
#include "io/vhd.h"

/* The guest disk of a fixed VHD reads everything before the footer, and writes nothing into it. */
static void check_fixed(const uint8_t *data, size_t size, const struct lb_vhd_footer *f)
{
	uint8_t *copy = malloc(size);
	struct lb_dev *file, *disk;
	uint8_t b[2] = {0xa5, 0x5a};

	LB_FUZZ_ASSERT(copy != NULL);
	memcpy(copy, data, size);
	file = lb_mem_dev_new(copy, size, false, "fuzz.vhd");
	LB_FUZZ_ASSERT(file != NULL);
	LB_FUZZ_ASSERT(lb_vhd_fixed_dev_new(file, f, &disk) == 0);
	LB_FUZZ_ASSERT(disk->size == f->current_size);
	LB_FUZZ_ASSERT(disk->size <= size - LB_VHD_FOOTER_SIZE);
	LB_FUZZ_ASSERT(lb_dev_pwrite(disk, b, 2, disk->size - 1) == -EINVAL);
	LB_FUZZ_ASSERT(lb_dev_pwrite(disk, b, 1, disk->size) == -EINVAL);
	if (disk->size >= 2)
		LB_FUZZ_ASSERT(lb_dev_pwrite(disk, b, 2, disk->size - 2) == 0);
	LB_FUZZ_ASSERT(memcmp(copy + size - LB_VHD_FOOTER_SIZE, data + size - LB_VHD_FOOTER_SIZE,
			      LB_VHD_FOOTER_SIZE) == 0);
	lb_dev_unref(disk);
	lb_dev_unref(file);
	free(copy);
}

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	uint8_t *foot = calloc(1, LB_VHD_FOOTER_SIZE);
	uint8_t *dyn = NULL;
	struct lb_vhd_footer f;
	struct lb_vhd_dyn_header h;
	int r;

	LB_FUZZ_ASSERT(foot != NULL);
	if (size >= LB_VHD_FOOTER_SIZE)
		memcpy(foot, data + size - LB_VHD_FOOTER_SIZE, LB_VHD_FOOTER_SIZE);
	else
		memcpy(foot, data, size);
	lb_err_clear();
	r = lb_vhd_footer_parse(foot, &f);
	if (r < 0)
		goto out;
	LB_FUZZ_ASSERT(f.current_size % 512 == 0);
	LB_FUZZ_TERMINATED(f.creator_app);
	LB_FUZZ_TERMINATED(f.creator_os);
	LB_FUZZ_ASSERT(strcmp(lb_vhd_type_name(f.disk_type), "unknown") != 0);
	if (size < LB_VHD_FOOTER_SIZE) {
		r = lb_err(-EBADMSG, "VHD", NULL, "shorter than a footer");
		goto out;
	}
	r = lb_vhd_footer_check_layout(&f, size - LB_VHD_FOOTER_SIZE, size);
	if (r < 0)
		goto out;
	if (f.disk_type == LB_VHD_FIXED) {
		check_fixed(data, size, &f);
		goto out;
	}
	LB_FUZZ_ASSERT(f.data_offset <= size && size - f.data_offset >= LB_VHD_DYN_HEADER_SIZE);
	dyn = malloc(LB_VHD_DYN_HEADER_SIZE);
	LB_FUZZ_ASSERT(dyn != NULL);
	memcpy(dyn, data + f.data_offset, LB_VHD_DYN_HEADER_SIZE);
	r = lb_vhd_dyn_header_parse(dyn, &f, size, &h);
	if (r == 0) {
		LB_FUZZ_TERMINATED(h.parent_name);
		LB_FUZZ_ASSERT(h.block_size >= 512 && !(h.block_size & (h.block_size - 1)));
		LB_FUZZ_ASSERT(h.table_offset <= size);
		LB_FUZZ_ASSERT((uint64_t)h.max_table_entries * 4 <= size - h.table_offset);
		LB_FUZZ_ASSERT((uint64_t)h.max_table_entries * h.block_size >= f.current_size);
	}
out:
	if (r < 0) {
		LB_FUZZ_ASSERT(r == -EBADMSG || r == -EOVERFLOW);
		LB_FUZZ_ASSERT(lb_err_last()->code == r);
	}
	free(dyn);
	free(foot);
	return r;
}

LB_FUZZ_TARGET
