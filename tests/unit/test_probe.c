/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/fs/probe.c: file systems and containers recognised from
 * synthetic boot sectors and superblocks (offsets from probe.h and each
 * format's documentation), and what is read from them.
 *
 * Buffers are allocated at their exact length, so a read past the end shows
 * up under valgrind and the sanitizers.
 */
#include "harness.h"

#include "base/cleanup.h"
#include "base/endian.h"
#include "fs/probe.h"
#include "io/dev.h"

#include <stdlib.h>

static uint8_t *zbuf(size_t len)
{
	return calloc(1, len ? len : 1);
}

static struct lb_fs_info probe(const uint8_t *b, size_t len)
{
	struct lb_fs_info fs;

	lb_fs_probe_buf(b, len, len, &fs);
	return fs;
}

/* ---- NTFS, BitLocker, exFAT, ReFS ------------------------------------------ */

static void ntfs_boot(uint8_t *b, uint16_t bps, uint8_t spc)
{
	b[0] = 0xeb;
	b[1] = 0x52;
	b[2] = 0x90;
	memcpy(b + 3, "NTFS    ", 8);
	lb_put_le16(b + 0x0b, bps);
	b[0x0d] = spc;
	lb_put_le64(b + 0x28, 204799);		   /* sectors */
	lb_put_le64(b + 0x48, 0x1122334455667788); /* serial */
	b[510] = 0x55;
	b[511] = 0xaa;
}

static void test_ntfs(void)
{
	uint8_t *b = zbuf(512);
	struct lb_fs_info fs;

	ntfs_boot(b, 512, 8);
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_NTFS);
	CHECK_STR(lb_fs_kind_name(fs.kind), "ntfs");
	CHECK_INT(fs.cluster_size, 4096);
	CHECK_U64(fs.size, 204799ULL * 512);
	CHECK_STR(fs.uuid, "1122334455667788");
	CHECK_STR(fs.note, "");
	/* from the boot sector alone these are unknown */
	CHECK_INT(fs.dirty, -1);
	CHECK_INT(fs.dirty_flag, -1);
	CHECK_INT(fs.journal_clean, -1);
	CHECK_INT(fs.hibernated, -1);

	/* large clusters: 2^(256 - v) sectors */
	ntfs_boot(b, 4096, 0xf4);
	fs = probe(b, 512);
	CHECK_INT(fs.cluster_size, 4096u << 12);
	ntfs_boot(b, 512, 0xff);
	fs = probe(b, 512);
	CHECK_INT(fs.cluster_size, 1024);

	/* a damaged boot sector is NTFS with a note, and no made-up numbers */
	ntfs_boot(b, 300, 8);
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_NTFS);
	CHECK_CONTAINS(fs.note, "invalid bytes per sector 300");
	CHECK_INT(fs.cluster_size, 0);
	ntfs_boot(b, 0, 8);
	fs = probe(b, 512);
	CHECK_CONTAINS(fs.note, "bytes per sector");
	ntfs_boot(b, 512, 3);
	fs = probe(b, 512);
	CHECK_CONTAINS(fs.note, "invalid sectors per cluster 3");
	ntfs_boot(b, 512, 0);
	fs = probe(b, 512);
	CHECK_CONTAINS(fs.note, "sectors per cluster");
	ntfs_boot(b, 512, 0x81);
	fs = probe(b, 512);
	CHECK_CONTAINS(fs.note, "0x81");
	CHECK_INT(fs.cluster_size, 0);
	/* a size that would overflow is not reported */
	ntfs_boot(b, 4096, 8);
	lb_put_le64(b + 0x28, UINT64_MAX);
	fs = probe(b, 512);
	CHECK_U64(fs.size, 0);
	/* too short to be a boot sector */
	fs = probe(b, 511);
	CHECK_INT(fs.kind, LB_FS_UNKNOWN);
	free(b);
}

static void test_bitlocker(void)
{
	static const uint8_t fve[16] = {0x3b, 0xd6, 0x67, 0x49, 0x29, 0x2e, 0xd8, 0x4a,
					0x83, 0x99, 0xf6, 0xa3, 0x39, 0xe3, 0xd0, 0x01};
	uint8_t *b = zbuf(512);
	struct lb_fs_info fs;

	memcpy(b + 3, "-FVE-FS-", 8);
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_BITLOCKER);
	CHECK_STR(lb_fs_kind_name(fs.kind), "bitlocker");
	CHECK(!fs.togo);
	/* BitLocker To Go: a FAT boot sector carrying the FVE GUID */
	memset(b, 0, 512);
	memcpy(b + 3, "MSWIN4.1", 8);
	memcpy(b + 0x52, "FAT32   ", 8);
	b[510] = 0x55;
	b[511] = 0xaa;
	memcpy(b + 0xa0, fve, 16);
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_BITLOCKER);
	CHECK(fs.togo);
	memset(b + 0xa0, 0, 16);
	memcpy(b + 0x1a8, fve, 16);
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_BITLOCKER);
	CHECK(fs.togo);
	/* one GUID byte off: plain FAT32 */
	b[0x1a8 + 15] ^= 1;
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_FAT32);
	free(b);
}

static void test_exfat_refs(void)
{
	uint8_t *b = zbuf(512);
	struct lb_fs_info fs;

	memcpy(b + 3, "EXFAT   ", 8);
	lb_put_le32(b + 0x64, 0xa1b2c3d4);
	b[0x6c] = 9; /* 512-byte sectors */
	b[0x6d] = 3; /* 8 sectors per cluster */
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_EXFAT);
	CHECK_STR(lb_fs_kind_name(fs.kind), "exfat");
	CHECK_INT(fs.cluster_size, 4096);
	CHECK_STR(fs.uuid, "A1B2-C3D4");
	b[0x6c] = 12;
	b[0x6d] = 14; /* 2^26: over the 32 MiB limit */
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_EXFAT);
	CHECK_INT(fs.cluster_size, 0);
	b[0x6c] = 255;
	b[0x6d] = 255;
	fs = probe(b, 512);
	CHECK_INT(fs.cluster_size, 0);

	memset(b, 0, 512);
	memcpy(b + 3, "ReFS", 4);
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_REFS);
	CHECK_STR(lb_fs_kind_name(fs.kind), "refs");
	free(b);
}

/* ---- FAT ---------------------------------------------------------------------- */

static void fat_boot(uint8_t *b, const char *type, bool fat32)
{
	memset(b, 0, 512);
	b[0] = 0xeb;
	b[1] = 0x3c;
	b[2] = 0x90;
	memcpy(b + 3, "mkfs.fat", 8);
	lb_put_le16(b + 0x0b, 512);
	b[0x0d] = 4;
	if (fat32) {
		lb_put_le32(b + 0x20, 1048576); /* 512 MiB */
		lb_put_le32(b + 0x43, 0x1234abcd);
		memcpy(b + 0x47, "BIGDISK    ", 11);
		memcpy(b + 0x52, type, 8);
	} else {
		lb_put_le16(b + 0x13, 20480); /* 10 MiB */
		lb_put_le32(b + 0x27, 0x1234abcd);
		memcpy(b + 0x2b, "MYDISK     ", 11);
		memcpy(b + 0x36, type, 8);
	}
	b[510] = 0x55;
	b[511] = 0xaa;
}

static void test_fat(void)
{
	uint8_t *b = zbuf(512);
	struct lb_fs_info fs;

	fat_boot(b, "FAT12   ", false);
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_FAT12);
	CHECK_STR(lb_fs_kind_name(fs.kind), "fat12");
	CHECK_INT(fs.cluster_size, 2048);
	CHECK_U64(fs.size, 20480ULL * 512);
	CHECK_STR(fs.uuid, "1234-ABCD");
	CHECK_STR(fs.label, "MYDISK");

	fat_boot(b, "FAT16   ", false);
	lb_put_le16(b + 0x13, 0);
	lb_put_le32(b + 0x20, 65536); /* the 32-bit count when the 16-bit one is 0 */
	memcpy(b + 0x2b, "NO NAME    ", 11);
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_FAT16);
	CHECK_STR(lb_fs_kind_name(fs.kind), "fat16");
	CHECK_U64(fs.size, 65536ULL * 512);
	CHECK_STR(fs.label, "");

	fat_boot(b, "FAT32   ", true);
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_FAT32);
	CHECK_STR(lb_fs_kind_name(fs.kind), "fat32");
	CHECK_INT(fs.cluster_size, 2048);
	CHECK_U64(fs.size, 1048576ULL * 512);
	CHECK_STR(fs.label, "BIGDISK");
	CHECK_STR(fs.uuid, "1234-ABCD");

	/* non-printable label bytes are replaced */
	memcpy(b + 0x47,
	       "A\x01"
	       "B        ",
	       11);
	fs = probe(b, 512);
	CHECK_STR(fs.label, "A?B");
	/* an impossible geometry gives no sizes, still FAT */
	lb_put_le16(b + 0x0b, 100);
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_FAT32);
	CHECK_INT(fs.cluster_size, 0);
	CHECK_U64(fs.size, 0);
	fat_boot(b, "FAT32   ", true);
	b[0x0d] = 3;
	fs = probe(b, 512);
	CHECK_INT(fs.cluster_size, 0);

	/* without 0x55AA it is not FAT */
	fat_boot(b, "FAT16   ", false);
	b[511] = 0;
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_UNKNOWN);
	free(b);
}

/* ---- ext2/3/4 ------------------------------------------------------------------ */

static void ext_sb(uint8_t *b, uint32_t compat, uint32_t incompat, uint32_t ro_compat)
{
	uint8_t *sb = b + 1024;

	memset(sb, 0, 1024);
	lb_put_le32(sb + 0x04, 25600); /* blocks */
	lb_put_le32(sb + 0x18, 2);     /* 4 KiB blocks */
	lb_put_le16(sb + 0x38, 0xef53);
	lb_put_le16(sb + 0x3a, 1); /* clean */
	lb_put_le32(sb + 0x5c, compat);
	lb_put_le32(sb + 0x60, incompat);
	lb_put_le32(sb + 0x64, ro_compat);
	for (int i = 0; i < 16; i++)
		sb[0x68 + i] = (uint8_t)(0x10 * (i & 15) + i);
	memcpy(sb + 0x78, "rootfs", 6);
}

static void test_ext(void)
{
	uint8_t *b = zbuf(4096);
	struct lb_fs_info fs;

	/* the features decide the generation */
	ext_sb(b, 0x38, 0x2, 0x3); /* ext_attr, resize_inode, dir_index; filetype; sparse, large */
	fs = probe(b, 4096);
	CHECK_INT(fs.kind, LB_FS_EXT2);
	CHECK_STR(lb_fs_kind_name(fs.kind), "ext2");
	CHECK_INT(fs.cluster_size, 4096);
	CHECK_U64(fs.size, 25600ULL * 4096);
	CHECK_STR(fs.label, "rootfs");
	CHECK_STR(fs.uuid, "00112233-4455-6677-8899-aabbccddeeff");
	CHECK_INT(fs.dirty, 0);

	ext_sb(b, 0x3c, 0x2, 0x3); /* + has_journal */
	fs = probe(b, 4096);
	CHECK_INT(fs.kind, LB_FS_EXT3);
	CHECK_STR(lb_fs_kind_name(fs.kind), "ext3");

	ext_sb(b, 0x3c, 0x2 | 0x40, 0x3); /* + extents */
	fs = probe(b, 4096);
	CHECK_INT(fs.kind, LB_FS_EXT4);
	CHECK_STR(lb_fs_kind_name(fs.kind), "ext4");
	ext_sb(b, 0x3c, 0x2 | 0x200, 0x3); /* + flex_bg */
	CHECK_INT(probe(b, 4096).kind, LB_FS_EXT4);
	ext_sb(b, 0x3c, 0x2, 0x3 | 0x400); /* + metadata_csum */
	CHECK_INT(probe(b, 4096).kind, LB_FS_EXT4);
	ext_sb(b, 0x3c, 0x2, 0x3 | 0x8); /* + huge_file */
	CHECK_INT(probe(b, 4096).kind, LB_FS_EXT4);
	ext_sb(b, 0, 0x2 | 0x80, 0x3); /* 64bit: the block count has a high half */
	lb_put_le32(b + 1024 + 0x150, 1);
	fs = probe(b, 4096);
	CHECK_INT(fs.kind, LB_FS_EXT4);
	CHECK_U64(fs.size, ((1ULL << 32) + 25600) * 4096);

	/* a journal to replay, or not marked clean: dirty */
	ext_sb(b, 0x3c, 0x2 | 0x40 | 0x4, 0x3);
	CHECK_INT(probe(b, 4096).dirty, 1);
	ext_sb(b, 0x3c, 0x2 | 0x40, 0x3);
	lb_put_le16(b + 1024 + 0x3a, 0);
	CHECK_INT(probe(b, 4096).dirty, 1);

	/* an impossible block size gives no sizes */
	ext_sb(b, 0, 0, 0);
	lb_put_le32(b + 1024 + 0x18, 40);
	fs = probe(b, 4096);
	CHECK_INT(fs.kind, LB_FS_EXT2);
	CHECK_INT(fs.cluster_size, 0);
	CHECK_U64(fs.size, 0);
	/* the superblock must be inside the buffer */
	ext_sb(b, 0, 0, 0);
	CHECK_INT(probe(b, 2047).kind, LB_FS_UNKNOWN);
	CHECK_INT(probe(b, 2048).kind, LB_FS_EXT2);
	/* the magic decides */
	lb_put_le16(b + 1024 + 0x38, 0xef52);
	CHECK_INT(probe(b, 4096).kind, LB_FS_UNKNOWN);
	free(b);
}

/* ---- XFS, Btrfs, LUKS, swap, LVM2 ----------------------------------------------- */

static void test_xfs_btrfs(void)
{
	uint8_t *b = zbuf(LB_FS_PROBE_LEN);
	struct lb_fs_info fs;

	memcpy(b, "XFSB", 4);
	lb_put_be32(b + 4, 4096);
	lb_put_be64(b + 8, 76800);
	for (int i = 0; i < 16; i++)
		b[32 + i] = (uint8_t)(0xf0 - i);
	memcpy(b + 108, "xfs-data", 8);
	fs = probe(b, 512);
	CHECK_INT(fs.kind, LB_FS_XFS);
	CHECK_STR(lb_fs_kind_name(fs.kind), "xfs");
	CHECK_INT(fs.cluster_size, 4096);
	CHECK_U64(fs.size, 76800ULL * 4096);
	CHECK_STR(fs.label, "xfs-data");
	CHECK_STR(fs.uuid, "f0efeeed-eceb-eae9-e8e7-e6e5e4e3e2e1");
	lb_put_be32(b + 4, 3000);
	fs = probe(b, 512);
	CHECK_INT(fs.cluster_size, 0);
	CHECK_INT(probe(b, 119).kind, LB_FS_UNKNOWN);

	memset(b, 0, LB_FS_PROBE_LEN);
	memcpy(b + 0x10040, "_BHRfS_M", 8);
	memcpy(b + 0x1012b, "btrfs-root", 10);
	fs = probe(b, LB_FS_PROBE_LEN);
	CHECK_INT(fs.kind, LB_FS_BTRFS);
	CHECK_STR(lb_fs_kind_name(fs.kind), "btrfs");
	CHECK_STR(fs.label, "btrfs-root");
	/* the superblock cut short: found, no label read past the end */
	fs = probe(b, 0x10048);
	CHECK_INT(fs.kind, LB_FS_BTRFS);
	CHECK_STR(fs.label, "");
	free(b);
}

static void test_luks(void)
{
	uint8_t *b = zbuf(4096);
	uint8_t *tiny;
	struct lb_fs_info fs;

	memcpy(b, "LUKS\xba\xbe", 6);
	lb_put_be16(b + 6, 2);
	memcpy(b + 24, "cryptroot", 9);
	memcpy(b + 168, "0b5e3f3c-1f27-4c6b-9f0e-2f4f3c2a1b0d", 36);
	fs = probe(b, 4096);
	CHECK_INT(fs.kind, LB_FS_LUKS);
	CHECK_STR(lb_fs_kind_name(fs.kind), "luks");
	CHECK_STR(fs.version, "2");
	CHECK_STR(fs.label, "cryptroot");
	CHECK_STR(fs.uuid, "0b5e3f3c-1f27-4c6b-9f0e-2f4f3c2a1b0d");
	/* LUKS1 has no label */
	lb_put_be16(b + 6, 1);
	fs = probe(b, 4096);
	CHECK_STR(fs.version, "1");
	CHECK_STR(fs.label, "");
	/* just the magic and the version: found, nothing read beyond */
	tiny = zbuf(8);
	memcpy(tiny, b, 8);
	fs = probe(tiny, 8);
	CHECK_INT(fs.kind, LB_FS_LUKS);
	CHECK_STR(fs.uuid, "");
	/* the magic without the version is not enough (the version would be read past the end) */
	CHECK_INT(probe(tiny, 7).kind, LB_FS_UNKNOWN);
	CHECK_INT(probe(tiny, 6).kind, LB_FS_UNKNOWN);
	free(tiny);
	free(b);
}

static void test_swap_lvm(void)
{
	uint8_t *b = zbuf(8192);
	struct lb_fs_info fs;

	memcpy(b + 4086, "SWAPSPACE2", 10);
	for (int i = 0; i < 16; i++)
		b[1024 + 12 + i] = (uint8_t)i;
	memcpy(b + 1024 + 28, "swappy", 6);
	fs = probe(b, 4096);
	CHECK_INT(fs.kind, LB_FS_SWAP);
	CHECK_STR(lb_fs_kind_name(fs.kind), "swap");
	CHECK_STR(fs.label, "swappy");
	CHECK_STR(fs.uuid, "00010203-0405-0607-0809-0a0b0c0d0e0f");
	memcpy(b + 4086, "SWAP-SPACE", 10);
	CHECK_INT(probe(b, 4096).kind, LB_FS_SWAP);
	CHECK_INT(probe(b, 4095).kind, LB_FS_UNKNOWN);

	memset(b, 0, 8192);
	memcpy(b + 512, "LABELONE", 8);
	memcpy(b + 536, "LVM2 001", 8);
	memcpy(b + 544, "Abcdef0123456789Abcdef0123456789", 32);
	fs = probe(b, 8192);
	CHECK_INT(fs.kind, LB_FS_LVM2);
	CHECK_STR(lb_fs_kind_name(fs.kind), "lvm2");
	CHECK_STR(fs.uuid, "Abcdef0123456789Abcdef0123456789");
	/* the label may be in any of the first four sectors, and must be whole */
	memmove(b + 3 * 512, b + 512, 512);
	memset(b + 512, 0, 512);
	CHECK_INT(probe(b, 2048).kind, LB_FS_LVM2);
	CHECK_INT(probe(b, 2047).kind, LB_FS_UNKNOWN);
	memcpy(b + 3 * 512 + 24, "LVM1 001", 8);
	CHECK_INT(probe(b, 2048).kind, LB_FS_UNKNOWN);
	free(b);
}

/* ---- empty, unknown, names, the device path ---------------------------------- */

static void test_empty_unknown(void)
{
	uint8_t *b = zbuf(LB_FS_PROBE_LEN);
	struct lb_fs_info fs;

	fs = probe(b, LB_FS_PROBE_LEN);
	CHECK_INT(fs.kind, LB_FS_EMPTY);
	CHECK_STR(lb_fs_kind_name(fs.kind), "empty");
	/* zeros are only "empty" over the first 64 KiB */
	CHECK_INT(probe(b, 65535).kind, LB_FS_UNKNOWN);
	b[65535] = 1;
	CHECK_INT(probe(b, LB_FS_PROBE_LEN).kind, LB_FS_UNKNOWN);
	b[65535] = 0;
	b[65536] = 1; /* beyond 64 KiB: still empty */
	CHECK_INT(probe(b, LB_FS_PROBE_LEN).kind, LB_FS_EMPTY);
	for (size_t i = 0; i < LB_FS_PROBE_LEN; i++)
		b[i] = (uint8_t)(i * 31 + 7);
	fs = probe(b, LB_FS_PROBE_LEN);
	CHECK_INT(fs.kind, LB_FS_UNKNOWN);
	CHECK_STR(lb_fs_kind_name(fs.kind), "unknown");
	CHECK_STR(fs.label, "");
	CHECK_INT(probe(b, 0).kind, LB_FS_UNKNOWN);
	CHECK_STR(lb_fs_kind_name((enum lb_fs_kind)999), "unknown");
	CHECK_STR(lb_fs_kind_name((enum lb_fs_kind) - 1), "unknown");
	free(b);
}

static void test_probe_dev(void)
{
	uint8_t *b = zbuf(LB_FS_PROBE_LEN + 4096);
	struct lb_dev *d;
	struct lb_fs_info fs;

	ext_sb(b, 0x3c, 0x2 | 0x40, 0x3);
	d = lb_mem_dev_new(b, LB_FS_PROBE_LEN + 4096, true, "part");
	CHECK_INT(lb_fs_probe(d, &fs), 0);
	CHECK_INT(fs.kind, LB_FS_EXT4);
	lb_dev_unref(d);
	/* a device shorter than the probe length */
	d = lb_mem_dev_new(b, 3000, true, "small");
	CHECK_INT(lb_fs_probe(d, &fs), 0);
	CHECK_INT(fs.kind, LB_FS_EXT4);
	lb_dev_unref(d);
	d = lb_mem_dev_new(b, 0, true, "empty");
	CHECK_INT(lb_fs_probe(d, &fs), 0);
	CHECK_INT(fs.kind, LB_FS_UNKNOWN);
	lb_dev_unref(d);
	/* an NTFS boot sector over nothing: NTFS, with a note saying libntfs-3g could not open it */
	memset(b, 0, LB_FS_PROBE_LEN + 4096);
	ntfs_boot(b, 512, 8);
	lb_put_le64(b + 0x28, 100);
	d = lb_mem_dev_new(b, LB_FS_PROBE_LEN + 4096, true, "ntfs");
	CHECK_INT(lb_fs_probe(d, &fs), 0);
	CHECK_INT(fs.kind, LB_FS_NTFS);
	CHECK_CONTAINS(fs.note, "libntfs-3g cannot open the volume");
	lb_dev_unref(d);
	free(b);
}

LB_TEST_MAIN(T(test_ntfs), T(test_bitlocker), T(test_exfat_refs), T(test_fat), T(test_ext),
	     T(test_xfs_btrfs), T(test_luks), T(test_swap_lvm), T(test_empty_unknown),
	     T(test_probe_dev))
