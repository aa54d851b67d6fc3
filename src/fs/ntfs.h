/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ntfs.h - NTFS volumes inside images, through libntfs-3g, over an lb_dev.
 *
 * libntfs-3g is given our own struct ntfs_device_operations whose I/O goes
 * to an lb_dev (a partition slice of an image), so a volume inside a qcow2
 * or VHDX opens with no mount, no loop device, no FUSE and no root.
 * libntfs-3g's own log output is captured, never printed: its last message
 * becomes part of our recorded error.
 */
#ifndef LB_FS_NTFS_H
#define LB_FS_NTFS_H

#include <stdbool.h>
#include <stdint.h>

#include "io/dev.h"

struct lb_ntfs;

enum {
	LB_NTFS_READ_ONLY = 1 << 0,
};

/*
 * Open the NTFS volume on @dev. Returns 0, or: -EINVAL (not NTFS), -EPERM
 * (hibernated or journal not clean, for read-write), -EOPNOTSUPP (unclean),
 * -EROFS, -EIO, with the error recorded. Close with lb_ntfs_close().
 */
int lb_ntfs_open(struct lb_dev *dev, unsigned flags, struct lb_ntfs **out);
/* Unmount and free; NULL-safe. Returns 0 or a negative errno from writing back. */
int lb_ntfs_close(struct lb_ntfs *v);

struct lb_ntfs_info {
	char label[256];
	char version[16];
	uint32_t cluster_size;
	uint64_t size;
	bool dirty_flag;   /* $Volume says "dirty": Windows runs chkdsk at boot */
	int journal_clean; /* 1 clean, 0 not (a crash left transactions), -1 unknown */
	int hibernated;	   /* 1 yes (Fast Startup / hibernation), 0 no, -1 unknown */
};

int lb_ntfs_get_info(struct lb_ntfs *v, struct lb_ntfs_info *out);

/* The last message libntfs-3g logged in this thread ("" if none). */
const char *lb_ntfs_last_message(void);

#endif
