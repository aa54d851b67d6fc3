/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_fs_probe - lb_fs_probe_buf() on the input as the first bytes of a
 * partition. It never fails; the target returns -EMEDIUMTYPE when nothing was
 * recognised, so known-bad inputs can say "this must not be taken for a file
 * system".
 */
#include "fuzz.h"

#include "base/err.h"
#include "fs/probe.h"

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	struct lb_fs_info fs;

	lb_fs_probe_buf(data, size, size, &fs);
	LB_FUZZ_ASSERT(strcmp(lb_fs_kind_name(fs.kind), "unknown") != 0 ||
		       fs.kind == LB_FS_UNKNOWN);
	LB_FUZZ_TERMINATED(fs.label);
	LB_FUZZ_TERMINATED(fs.uuid);
	LB_FUZZ_TERMINATED(fs.version);
	LB_FUZZ_TERMINATED(fs.note);
	LB_FUZZ_ASSERT(!(fs.cluster_size & (fs.cluster_size - 1)));
	LB_FUZZ_ASSERT(fs.dirty >= -1 && fs.dirty <= 1);
	LB_FUZZ_ASSERT(fs.dirty_flag >= -1 && fs.dirty_flag <= 1);
	LB_FUZZ_ASSERT(fs.journal_clean >= -1 && fs.journal_clean <= 1);
	LB_FUZZ_ASSERT(fs.hibernated >= -1 && fs.hibernated <= 1);
	if (fs.kind == LB_FS_EMPTY)
		LB_FUZZ_ASSERT(size >= 65536);
	return fs.kind == LB_FS_UNKNOWN ? -EMEDIUMTYPE : 0;
}

LB_FUZZ_TARGET
