/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fs/probe.h"
#include "base/cleanup.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/util.h"
#include "fs/ntfs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t fve_guid[16] = {0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a,
				     0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01};

const char *lb_fs_kind_name(enum lb_fs_kind kind)
{
	static const char *const names[] = {
		[LB_FS_UNKNOWN] = "unknown", [LB_FS_EMPTY] = "empty",
		[LB_FS_NTFS] = "ntfs",	     [LB_FS_BITLOCKER] = "bitlocker",
		[LB_FS_FAT12] = "fat12",     [LB_FS_FAT16] = "fat16",
		[LB_FS_FAT32] = "fat32",     [LB_FS_EXFAT] = "exfat",
		[LB_FS_REFS] = "refs",	     [LB_FS_EXT2] = "ext2",
		[LB_FS_EXT3] = "ext3",	     [LB_FS_EXT4] = "ext4",
		[LB_FS_XFS] = "xfs",	     [LB_FS_BTRFS] = "btrfs",
		[LB_FS_LUKS] = "luks",	     [LB_FS_SWAP] = "swap",
		[LB_FS_LVM2] = "lvm2",	     [LB_FS_FILES] = "files",
	};

	if ((unsigned)kind < LB_ARRAY_SIZE(names) && names[kind])
		return names[kind];
	return "unknown";
}

static void format_uuid_be(const uint8_t *u, char *out, size_t cap)
{
	snprintf(out, cap, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

/* NTFS boot sector: cluster size and size, checked for sanity. */
static void probe_ntfs_boot(const uint8_t *b, struct lb_fs_info *fs)
{
	uint16_t bps = lb_le16(b + 0x0b);
	uint8_t spc = b[0x0d];
	uint64_t total = lb_le64(b + 0x28);
	uint32_t cluster;

	fs->kind = LB_FS_NTFS;
	snprintf(fs->uuid, sizeof(fs->uuid), "%016" PRIX64, lb_le64(b + 0x48));
	if (bps < 256 || bps > 4096 || (bps & (bps - 1))) {
		snprintf(fs->note, sizeof(fs->note), "boot sector: invalid bytes per sector %u",
			 bps);
		return;
	}
	if (spc <= 0x80) {
		if (spc == 0 || (spc & (spc - 1))) {
			snprintf(fs->note, sizeof(fs->note),
				 "boot sector: invalid sectors per cluster %u", spc);
			return;
		}
		cluster = (uint32_t)bps * spc;
	} else {
		/* 0xF4..0xFF: 2^(256 - v) bytes... expressed in sectors */
		unsigned shift = 256u - spc;

		if (shift > 12) {
			snprintf(fs->note, sizeof(fs->note),
				 "boot sector: invalid sectors per cluster 0x%02x", spc);
			return;
		}
		cluster = (uint32_t)bps << shift;
	}
	fs->cluster_size = cluster;
	if (total <= UINT64_MAX / bps)
		fs->size = total * bps;
}

static void probe_fat(const uint8_t *b, struct lb_fs_info *fs, bool fat32)
{
	uint16_t bps = lb_le16(b + 0x0b);
	uint8_t spc = b[0x0d];
	const uint8_t *label = b + (fat32 ? 0x47 : 0x2b);
	uint32_t serial = lb_le32(b + (fat32 ? 0x43 : 0x27));
	uint32_t total = lb_le16(b + 0x13) ? lb_le16(b + 0x13) : lb_le32(b + 0x20);

	if (!fat32)
		fs->kind = !memcmp(b + 0x36, "FAT12", 5) ? LB_FS_FAT12 : LB_FS_FAT16;
	else
		fs->kind = LB_FS_FAT32;
	if (bps >= 512 && bps <= 4096 && !(bps & (bps - 1)) && spc && !(spc & (spc - 1))) {
		fs->cluster_size = (uint32_t)bps * spc;
		fs->size = (uint64_t)total * bps;
	}
	lb_copy_label(label, 11, fs->label, sizeof(fs->label));
	if (!strcmp(fs->label, "NO NAME"))
		fs->label[0] = '\0';
	snprintf(fs->uuid, sizeof(fs->uuid), "%04X-%04X", serial >> 16, serial & 0xffff);
}

static bool probe_ext(const uint8_t *buf, size_t len, struct lb_fs_info *fs)
{
	const uint8_t *sb = buf + 1024;
	uint32_t log_bs, compat, incompat, ro_compat;
	uint64_t blocks;
	uint16_t state;

	if (len < 2048 || lb_le16(sb + 0x38) != 0xef53)
		return false;
	log_bs = lb_le32(sb + 0x18);
	compat = lb_le32(sb + 0x5c);
	incompat = lb_le32(sb + 0x60);
	ro_compat = lb_le32(sb + 0x64);
	state = lb_le16(sb + 0x3a);
	blocks = lb_le32(sb + 0x04);
	if (incompat & 0x80) /* 64bit */
		blocks |= (uint64_t)lb_le32(sb + 0x150) << 32;
	if (incompat & (0x40 | 0x80 | 0x200) || ro_compat & (0x8 | 0x20 | 0x40 | 0x400))
		fs->kind = LB_FS_EXT4;
	else if (compat & 0x4)
		fs->kind = LB_FS_EXT3;
	else
		fs->kind = LB_FS_EXT2;
	if (log_bs <= 6) {
		fs->cluster_size = 1024u << log_bs;
		if (blocks <= UINT64_MAX / fs->cluster_size)
			fs->size = blocks * fs->cluster_size;
	}
	format_uuid_be(sb + 0x68, fs->uuid, sizeof(fs->uuid));
	lb_copy_label(sb + 0x78, 16, fs->label, sizeof(fs->label));
	/* needs_recovery (journal to replay) or not marked clean */
	fs->dirty = ((incompat & 0x4) || !(state & 1)) ? 1 : 0;
	return true;
}

void lb_fs_probe_buf(const uint8_t *b, size_t len, uint64_t part_size, struct lb_fs_info *fs)
{
	memset(fs, 0, sizeof(*fs));
	fs->dirty = fs->dirty_flag = fs->journal_clean = fs->hibernated = -1;
	(void)part_size;

	if (len >= 512 && (!memcmp(b + 3, "-FVE-FS-", 8) || !memcmp(b + 0xa0, fve_guid, 16) ||
			   !memcmp(b + 0x1a8, fve_guid, 16))) {
		fs->kind = LB_FS_BITLOCKER;
		fs->togo = memcmp(b + 3, "-FVE-FS-", 8) != 0;
		return;
	}
	if (len >= 512 && !memcmp(b + 3, "NTFS    ", 8)) {
		probe_ntfs_boot(b, fs);
		return;
	}
	if (len >= 512 && !memcmp(b + 3, "EXFAT   ", 8)) {
		fs->kind = LB_FS_EXFAT;
		if (b[0x6c] >= 9 && b[0x6c] <= 12 && b[0x6d] <= 25 - b[0x6c])
			fs->cluster_size = 1u << (b[0x6c] + b[0x6d]);
		snprintf(fs->uuid, sizeof(fs->uuid), "%04X-%04X", lb_le32(b + 0x64) >> 16,
			 lb_le32(b + 0x64) & 0xffff);
		return;
	}
	if (len >= 512 && !memcmp(b + 3, "ReFS", 4)) {
		fs->kind = LB_FS_REFS;
		return;
	}
	if (len >= 512 && b[510] == 0x55 && b[511] == 0xaa &&
	    (!memcmp(b + 0x36, "FAT12   ", 8) || !memcmp(b + 0x36, "FAT16   ", 8))) {
		probe_fat(b, fs, false);
		return;
	}
	if (len >= 512 && b[510] == 0x55 && b[511] == 0xaa && !memcmp(b + 0x52, "FAT32   ", 8)) {
		probe_fat(b, fs, true);
		return;
	}
	if (len >= 8 && !memcmp(b, "LUKS\xba\xbe", 6)) { /* magic, then the version */
		fs->kind = LB_FS_LUKS;
		snprintf(fs->version, sizeof(fs->version), "%u", lb_be16(b + 6));
		if (len >= 208)
			lb_copy_label(b + 168, 40, fs->uuid, sizeof(fs->uuid));
		if (len >= 72 && lb_be16(b + 6) == 2)
			lb_copy_label(b + 24, 48, fs->label, sizeof(fs->label));
		return;
	}
	if (len >= 120 && !memcmp(b, "XFSB", 4)) {
		uint32_t bs = lb_be32(b + 4);
		uint64_t blocks = lb_be64(b + 8);

		fs->kind = LB_FS_XFS;
		if (bs >= 512 && bs <= 65536 && !(bs & (bs - 1))) {
			fs->cluster_size = bs;
			if (blocks <= UINT64_MAX / bs)
				fs->size = blocks * bs;
		}
		format_uuid_be(b + 32, fs->uuid, sizeof(fs->uuid));
		lb_copy_label(b + 108, 12, fs->label, sizeof(fs->label));
		return;
	}
	if (probe_ext(b, len, fs))
		return;
	if (len >= 0x10040 + 8 && !memcmp(b + 0x10040, "_BHRfS_M", 8)) {
		fs->kind = LB_FS_BTRFS;
		format_uuid_be(b + 0x10020, fs->uuid, sizeof(fs->uuid));
		if (len >= 0x10000 + 0x12b + 256)
			lb_copy_label(b + 0x10000 + 0x12b, 256, fs->label, sizeof(fs->label));
		return;
	}
	if (len >= 4096 &&
	    (!memcmp(b + 4086, "SWAPSPACE2", 10) || !memcmp(b + 4086, "SWAP-SPACE", 10))) {
		fs->kind = LB_FS_SWAP;
		format_uuid_be(b + 1024 + 12, fs->uuid, sizeof(fs->uuid));
		lb_copy_label(b + 1024 + 28, 16, fs->label, sizeof(fs->label));
		return;
	}
	for (size_t s = 0; s < 4 && (s + 1) * 512 <= len; s++) {
		if (!memcmp(b + s * 512, "LABELONE", 8) &&
		    !memcmp(b + s * 512 + 24, "LVM2 001", 8)) {
			fs->kind = LB_FS_LVM2;
			lb_copy_label(b + s * 512 + 32, 32, fs->uuid, sizeof(fs->uuid));
			return;
		}
	}
	if (len >= 65536 && lb_is_zero(b, 65536)) {
		fs->kind = LB_FS_EMPTY;
		return;
	}
	fs->kind = LB_FS_UNKNOWN;
}

/*
 * What only mounting tells: label, dirty, hibernation. A volume libntfs-3g
 * cannot make sense of is still NTFS, with a note; a device that fails to
 * read (or no memory) is an error for the caller.
 */
static int ntfs_details(struct lb_dev *dev, struct lb_fs_info *fs)
{
	struct lb_ntfs *v;
	struct lb_ntfs_info ni;
	struct lb_error saved;
	int r;

	lb_err_save(&saved);
	r = lb_ntfs_open(dev, LB_NTFS_READ_ONLY, &v);
	if (r == -EIO || r == -ENOMEM) /* the device failed, not the file system */
		return r;
	if (r < 0) {
		snprintf(fs->note, sizeof(fs->note), "libntfs-3g cannot open the volume: %s",
			 lb_err_last()->problem);
		lb_err_restore(&saved);
		return 0;
	}
	lb_ntfs_get_info(v, &ni);
	lb_ntfs_close(v);
	lb_err_restore(&saved);
	lb_strlcpy(fs->label, ni.label, sizeof(fs->label));
	lb_strlcpy(fs->version, ni.version, sizeof(fs->version));
	fs->cluster_size = ni.cluster_size;
	fs->dirty_flag = ni.dirty_flag;
	fs->journal_clean = ni.journal_clean;
	fs->hibernated = ni.hibernated;
	fs->dirty = ni.dirty_flag || ni.journal_clean == 0;
	return 0;
}

int lb_fs_probe(struct lb_dev *dev, struct lb_fs_info *out)
{
	size_t len = (size_t)LB_MIN(dev->size, (uint64_t)LB_FS_PROBE_LEN);
	_cleanup_free_ uint8_t *buf = malloc(len ? len : 1);
	int r;

	if (!buf)
		return -ENOMEM;
	r = len ? lb_dev_pread(dev, buf, len, 0) : 0;
	if (r < 0)
		return r;
	lb_fs_probe_buf(buf, len, dev->size, out);
	if (out->kind == LB_FS_NTFS && !out->note[0])
		return ntfs_details(dev, out);
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
	return 0;
}
