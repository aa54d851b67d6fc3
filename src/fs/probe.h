/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * probe.h - which file system (or container) a partition holds, by content.
 *
 * lb_fs_probe_buf() looks only at a buffer holding the first bytes of the
 * partition (LB_FS_PROBE_LEN, or all of it if shorter) and is fuzzed;
 * lb_fs_probe() reads that buffer from a device and, for NTFS, opens the
 * volume read-only through libntfs-3g for what the boot sector does not say
 * (label, dirty flag, journal state, hibernation).
 *
 * Signatures (offsets from the partition start):
 *   NTFS       "NTFS    " at 3           BitLocker  "-FVE-FS-" at 3, or the FVE GUID
 *   exFAT      "EXFAT   " at 3                      at 0xA0 / 0x1A8 (BitLocker To Go)
 *   ReFS       "ReFS" at 3               FAT        "FAT12   "/"FAT16   " at 0x36,
 *   ext2/3/4   0xEF53 at 1024+0x38                  "FAT32   " at 0x52, and 0x55AA at 510
 *   XFS        "XFSB" at 0               LUKS       "LUKS\xba\xbe" at 0
 *   Btrfs      "_BHRfS_M" at 0x10040     swap       "SWAPSPACE2" at 4086
 *   LVM2 PV    "LABELONE" at 512, "LVM2 001" at 536
 */
#ifndef LB_FS_PROBE_H
#define LB_FS_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/dev.h"

#define LB_FS_PROBE_LEN (72 * 1024)

enum lb_fs_kind {
	LB_FS_UNKNOWN = 0,
	LB_FS_EMPTY, /* the first 64 KiB are zero */
	LB_FS_NTFS,
	LB_FS_BITLOCKER,
	LB_FS_FAT12,
	LB_FS_FAT16,
	LB_FS_FAT32,
	LB_FS_EXFAT,
	LB_FS_REFS,
	LB_FS_EXT2,
	LB_FS_EXT3,
	LB_FS_EXT4,
	LB_FS_XFS,
	LB_FS_BTRFS,
	LB_FS_LUKS,
	LB_FS_SWAP,
	LB_FS_LVM2,
	LB_FS_FILES, /* not on a disk: a file-tree snapshot in a repository (repo/treefs.c) */
};

struct lb_fs_info {
	enum lb_fs_kind kind;
	char label[256];       /* UTF-8, "" if none */
	char uuid[48];	       /* text as the file system's tools print it, "" if none */
	char version[16];      /* "3.1" (NTFS), "2" (LUKS), ... */
	uint32_t cluster_size; /* bytes per cluster / block, 0 if not applicable */
	uint64_t size;	       /* bytes the file system says it spans, 0 if unknown */
	/* -1 unknown, 0 no, 1 yes */
	int dirty;	/* NTFS: dirty flag or journal not clean; ext: needs recovery / not clean */
	int dirty_flag; /* NTFS: $Volume dirty flag */
	int journal_clean; /* NTFS: $LogFile clean */
	int hibernated;	   /* NTFS: hiberfil.sys holds a hibernation image */
	bool togo;	   /* BitLocker To Go */
	char note[256];	   /* what could not be determined, and why */
};

/* Short lower-case name: "ntfs", "bitlocker", "fat32", "ext4", ..., "unknown". */
const char *lb_fs_kind_name(enum lb_fs_kind kind);

/* Classify from the first bytes of a partition; never fails. @part_size may be 0. */
void lb_fs_probe_buf(const uint8_t *buf, size_t len, uint64_t part_size, struct lb_fs_info *out);

/*
 * Probe @dev (a partition or a whole disk). Returns 0 (kind may be UNKNOWN),
 * or a read error. A volume libntfs-3g cannot open is still reported as NTFS
 * with a note.
 */
int lb_fs_probe(struct lb_dev *dev, struct lb_fs_info *out);

#endif
