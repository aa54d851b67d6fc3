/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mkfixture - make damaged or special test images that the real tools will
 * not make, for the end-to-end tests. Independent of lifeboat's own code:
 * the checksums are computed here, and NTFS volumes are changed through
 * libntfs-3g directly.
 *
 *   mkfixture gpt-crc IMAGE           recompute the entry-array and header CRC32s
 *                                     of both GPT headers (512-byte sectors), after
 *                                     a test patched an entry
 *   mkfixture vhd-footer-sum FILE     recompute the VHD footer checksum (at the end,
 *                                     and of the copy at offset 0 if there is one)
 *   mkfixture vhd-dyn-sum FILE        recompute the checksum of the dynamic VHD header
 *                                     the footer points to
 *   mkfixture ntfs-dirty VOLUME       set the $Volume dirty flag of an NTFS volume
 *                                     (a file holding only the volume)
 *
 * Exits 0, or 1 with a message on stderr.
 */
#include "fs/ntfs3g.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int die(const char *fmt, const char *arg)
{
	fprintf(stderr, "mkfixture: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 1;
}

/* ---- byte order ------------------------------------------------------ */

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* ---- file I/O -------------------------------------------------------- */

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	return n == (ssize_t)len ? 0 : -1;
}

static int write_at(int fd, const void *buf, size_t len, uint64_t off)
{
	ssize_t n = pwrite(fd, buf, len, (off_t)off);

	return n == (ssize_t)len ? 0 : -1;
}

/* ---- GPT ------------------------------------------------------------- */

/* CRC-32 (IEEE 802.3, reflected, as UEFI uses it). */
static uint32_t crc32_ieee(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	while (len--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

/* Fix the header at @lba: the entry array CRC, then the header CRC. Returns 0, 1 if no header. */
static int gpt_fix_header(int fd, uint64_t lba)
{
	uint8_t h[512];
	uint32_t hsize, n, esize;
	uint64_t entry_lba;
	uint8_t *arr;
	size_t alen;

	if (read_at(fd, h, sizeof(h), lba * 512) < 0 || memcmp(h, "EFI PART", 8))
		return 1;
	hsize = get_le32(h + 12);
	entry_lba = get_le64(h + 72);
	n = get_le32(h + 80);
	esize = get_le32(h + 84);
	if (hsize < 92 || hsize > 512 || n == 0 || n > 4096 || esize < 128 || esize > 4096)
		return 1;
	alen = (size_t)n * esize;
	arr = malloc(alen);
	if (!arr || read_at(fd, arr, alen, entry_lba * 512) < 0) {
		free(arr);
		return 1;
	}
	put_le32(h + 88, crc32_ieee(arr, alen));
	free(arr);
	put_le32(h + 16, 0);
	put_le32(h + 16, crc32_ieee(h, hsize));
	return write_at(fd, h, sizeof(h), lba * 512) < 0 ? -1 : 0;
}

static int cmd_gpt_crc(const char *path)
{
	int fd = open(path, O_RDWR);
	struct stat st;
	uint8_t h[512];
	uint64_t alt;
	int fixed = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return die("cannot open %s", path);
	alt = (uint64_t)st.st_size / 512 - 1;
	if (read_at(fd, h, sizeof(h), 512) == 0 && !memcmp(h, "EFI PART", 8))
		alt = get_le64(h + 32);
	if (gpt_fix_header(fd, 1) == 0)
		fixed++;
	if (alt != 1 && gpt_fix_header(fd, alt) == 0)
		fixed++;
	close(fd);
	if (!fixed)
		return die("%s: no GPT header found", path);
	return 0;
}

/* ---- VHD ------------------------------------------------------------- */

/* One's complement of the byte sum, the checksum field (4 bytes at @skip) left out. */
static uint32_t vhd_sum(const uint8_t *b, size_t len, size_t skip)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i++)
		if (i < skip || i >= skip + 4)
			sum += b[i];
	return ~sum;
}

static int fix_footer_at(int fd, uint64_t off)
{
	uint8_t f[512];

	if (read_at(fd, f, sizeof(f), off) < 0 || memcmp(f, "conectix", 8))
		return 1;
	put_be32(f + 64, vhd_sum(f, 512, 64));
	return write_at(fd, f, sizeof(f), off) < 0 ? -1 : 0;
}

static int cmd_vhd_footer_sum(const char *path)
{
	int fd = open(path, O_RDWR);
	struct stat st;
	int r;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 512)
		return die("cannot open %s", path);
	r = fix_footer_at(fd, (uint64_t)st.st_size - 512);
	if (r == 0 && st.st_size >= 1024)
		fix_footer_at(fd, 0); /* the copy of a dynamic VHD */
	close(fd);
	return r ? die("%s: no VHD footer at the end", path) : 0;
}

static int cmd_vhd_dyn_sum(const char *path)
{
	int fd = open(path, O_RDWR);
	struct stat st;
	uint8_t f[512], h[1024];
	uint64_t off;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 512)
		return die("cannot open %s", path);
	if (read_at(fd, f, sizeof(f), (uint64_t)st.st_size - 512) < 0 || memcmp(f, "conectix", 8))
		return die("%s: no VHD footer at the end", path);
	off = get_be64(f + 16);
	if (read_at(fd, h, sizeof(h), off) < 0 || memcmp(h, "cxsparse", 8))
		return die("%s: no dynamic header where the footer points", path);
	put_be32(h + 36, vhd_sum(h, sizeof(h), 36));
	if (write_at(fd, h, sizeof(h), off) < 0)
		return die("%s: write failed", path);
	close(fd);
	return 0;
}

/* ---- NTFS (libntfs-3g) ----------------------------------------------- */

static int cmd_ntfs_dirty(const char *path)
{
	ntfs_volume *vol = ntfs_mount(path, NTFS_MNT_NONE);
	int r;

	if (!vol)
		return die("libntfs-3g cannot mount %s read-write", path);
	r = ntfs_volume_write_flags(vol, vol->flags | VOLUME_IS_DIRTY);
	if (ntfs_umount(vol, FALSE) < 0 || r < 0)
		return die("%s: cannot write the volume flags", path);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "gpt-crc"))
		return cmd_gpt_crc(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "vhd-footer-sum"))
		return cmd_vhd_footer_sum(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "vhd-dyn-sum"))
		return cmd_vhd_dyn_sum(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "ntfs-dirty"))
		return cmd_ntfs_dirty(argv[2]);
	fprintf(stderr, "usage: mkfixture gpt-crc|vhd-footer-sum|vhd-dyn-sum|ntfs-dirty FILE\n");
	return 2;
}
