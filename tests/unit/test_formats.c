/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/io/formats.c: format detection (lb_image_probe) and the
 * qcow2, VMDK and VHDX header checks, on headers built here field by field
 * (offsets from the table at the top of formats.c).
 */
#include "harness.h"

#include "base/cleanup.h"
#include "base/endian.h"
#include "base/err.h"
#include "io/image.h"
#include "io/vhd.h"

#include <stdlib.h>

#define KIB 1024
#define MIB (1024 * 1024)

/* ---- qcow2 ------------------------------------------------------------------ */

/* The first cluster of a 1 MiB qcow2 v3 image as qemu-img makes it (64 KiB clusters). */
#define Q_FILE_SIZE 196616 /* header, refcount table, refcount block, L1 */
static void make_qcow2(uint8_t *b, size_t len, uint32_t version)
{
	memset(b, 0, len);
	memcpy(b, "QFI\xfb", 4);
	lb_put_be32(b + 4, version);
	lb_put_be32(b + 20, 16);      /* cluster_bits */
	lb_put_be64(b + 24, 1 << 20); /* virtual size */
	lb_put_be32(b + 36, 1);	      /* L1 entries */
	lb_put_be64(b + 40, 0x30000); /* L1 offset */
	lb_put_be64(b + 48, 0x10000); /* refcount table offset */
	lb_put_be32(b + 56, 1);	      /* refcount table clusters */
	if (version == 3) {
		lb_put_be32(b + 96, 4);	   /* refcount order */
		lb_put_be32(b + 100, 104); /* header length */
	}
}

static void test_qcow2_good(void)
{
	uint8_t b[4096];
	struct lb_image_probe p;

	make_qcow2(b, sizeof(b), 3);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), 0);
	CHECK_INT(p.format, LB_FMT_QCOW2);
	CHECK_STR(p.subformat, "v3");
	CHECK_U64(p.virtual_size, 1 << 20);
	CHECK(!p.encrypted);
	CHECK(!p.dirty);
	CHECK_STR(p.backing_file, "");
	/* the same through detection */
	CHECK_INT(lb_image_probe(b, sizeof(b), NULL, Q_FILE_SIZE, LB_FMT_AUTO, &p), 0);
	CHECK_INT(p.format, LB_FMT_QCOW2);
	CHECK_INT(lb_image_probe(b, sizeof(b), NULL, Q_FILE_SIZE, LB_FMT_QCOW2, &p), 0);

	/* version 2: a 72-byte header is enough */
	make_qcow2(b, sizeof(b), 2);
	CHECK_INT(lb_qcow2_header_parse(b, 72, Q_FILE_SIZE, &p), 0);
	CHECK_STR(p.subformat, "v2");

	/* the smallest and the largest cluster sizes */
	make_qcow2(b, sizeof(b), 3);
	lb_put_be32(b + 20, 9);
	lb_put_be32(b + 36, 32); /* 64 entries per L2 of 512 bytes: 32 L1 entries for 1 MiB */
	lb_put_be64(b + 40, 0x200);
	lb_put_be64(b + 48, 0x400);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), 4096, &p), 0);
	make_qcow2(b, sizeof(b), 3);
	lb_put_be32(b + 20, 21);
	lb_put_be64(b + 40, 0x600000);
	lb_put_be64(b + 48, 0x200000);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), 0x600008, &p), 0);

	/* an empty disk needs no L1 */
	make_qcow2(b, sizeof(b), 3);
	lb_put_be64(b + 24, 0);
	lb_put_be32(b + 36, 0);
	lb_put_be64(b + 40, 0);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), 0);
}

static void test_qcow2_truncated(void)
{
	uint8_t b[4096];
	struct lb_image_probe p;

	make_qcow2(b, sizeof(b), 3);
	/* the magic, but not the header: damaged, not another format */
	CHECK_INT(lb_qcow2_header_parse(b, 50, 50, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "cut short");
	CHECK_INT(lb_image_probe(b, 50, NULL, 50, LB_FMT_AUTO, &p), -EBADMSG);
	CHECK_INT(lb_qcow2_header_parse(b, 4, 4, &p), -EBADMSG);
	CHECK_INT(lb_qcow2_header_parse(b, 3, 3, &p), -EMEDIUMTYPE);
	CHECK_INT(lb_qcow2_header_parse(b, 0, 0, &p), -EMEDIUMTYPE);
	/* version 3 needs 104 bytes */
	CHECK_INT(lb_qcow2_header_parse(b, 80, Q_FILE_SIZE, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "version 3 header is cut short");
	/* the whole header, in a file cut before its L1 table */
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), 0x30000, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem,
		       "L1 table (8 bytes at offset 196608) lies outside the file");
	CHECK_INT(lb_image_probe(b, sizeof(b), NULL, 136 * KIB, LB_FMT_AUTO, &p), -EBADMSG);
}

static void test_qcow2_bad(void)
{
	uint8_t b[4096];
	struct lb_image_probe p;

	/* version */
	make_qcow2(b, sizeof(b), 1);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "unsupported version 1");
	make_qcow2(b, sizeof(b), 4);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);

	/* cluster_bits: too small is damage, too large (up to a shift overflow) is impossible */
	for (uint32_t bits = 0; bits < 70; bits++) {
		make_qcow2(b, sizeof(b), 3);
		lb_put_be32(b + 20, bits);
		if (bits >= 9 && bits <= 21)
			continue;
		CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p),
			  bits < 9 ? -EBADMSG : -EOVERFLOW);
	}
	make_qcow2(b, sizeof(b), 3);
	lb_put_be32(b + 20, 63);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EOVERFLOW);
	CHECK_CONTAINS(lb_err_last()->problem, "cluster size 2^63 exceeds 2 MiB");
	lb_put_be32(b + 20, 0xffffffffu);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EOVERFLOW);

	/* virtual size */
	make_qcow2(b, sizeof(b), 3);
	lb_put_be64(b + 24, (UINT64_C(1) << 56) + 1);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EOVERFLOW);
	lb_put_be64(b + 24, UINT64_MAX);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EOVERFLOW);
	CHECK_CONTAINS(lb_err_last()->problem, "impossibly large");

	/* L1: too small to map the disk, too large, misaligned, outside the file */
	make_qcow2(b, sizeof(b), 3);
	lb_put_be64(b + 24, 1ULL << 30); /* 1 GiB needs 2 L1 entries with 64 KiB clusters */
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "cannot map");
	make_qcow2(b, sizeof(b), 3);
	lb_put_be32(b + 36, 0);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);
	lb_put_be32(b + 36, 0xffffffffu);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), UINT64_MAX, &p), -EOVERFLOW);
	make_qcow2(b, sizeof(b), 3);
	lb_put_be64(b + 40, 0x30008);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE + 8, &p), -EBADMSG);
	lb_put_be64(b + 40, 0x40000);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);
	lb_put_be64(b + 40, UINT64_MAX & ~UINT64_C(0xffff));
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);

	/* refcount table */
	make_qcow2(b, sizeof(b), 3);
	lb_put_be32(b + 56, 0);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "refcount table");
	lb_put_be32(b + 56, 0xffffffffu);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);
	make_qcow2(b, sizeof(b), 3);
	lb_put_be64(b + 48, 0x10001);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);
	lb_put_be64(b + 48, UINT64_MAX & ~UINT64_C(0xffff));
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);

	/* marked corrupt by qemu */
	make_qcow2(b, sizeof(b), 3);
	lb_put_be64(b + 72, 2);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "corrupt");
}

static void test_qcow2_flags(void)
{
	uint8_t b[4096];
	struct lb_image_probe p;

	make_qcow2(b, sizeof(b), 3);
	lb_put_be32(b + 32, 1); /* AES */
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), 0);
	CHECK(p.encrypted);
	lb_put_be32(b + 32, 2); /* LUKS */
	CHECK_INT(lb_image_probe(b, sizeof(b), NULL, Q_FILE_SIZE, LB_FMT_AUTO, &p), 0);
	CHECK(p.encrypted);
	make_qcow2(b, sizeof(b), 3);
	lb_put_be64(b + 72, 1); /* dirty */
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), 0);
	CHECK(p.dirty);
	CHECK(!p.encrypted);
	/* in version 2 those bytes are not a feature field */
	make_qcow2(b, sizeof(b), 2);
	lb_put_be64(b + 72, 3);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), 0);
	CHECK(!p.dirty);
}

static void test_qcow2_backing(void)
{
	uint8_t b[4096];
	struct lb_image_probe p;
	char name[1024];

	make_qcow2(b, sizeof(b), 3);
	lb_put_be64(b + 8, 104);
	lb_put_be32(b + 16, 10);
	memcpy(b + 104, "base.qcow2XXXX", 14);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), 0);
	CHECK_STR(p.backing_file, "base.qcow2");

	/* the longest name allowed: 1023 bytes */
	memset(name, 'n', sizeof(name));
	memcpy(b + 104, name, 1023);
	lb_put_be32(b + 16, 1023);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), 0);
	CHECK_U64(strlen(p.backing_file), 1023);
	/* one more is refused */
	lb_put_be32(b + 16, 1024);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "backing file name (1024 bytes at offset 104)");
	lb_put_be32(b + 16, 0xffffffffu);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);
	/* an offset without a length */
	lb_put_be32(b + 16, 0);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);
	/* the name must lie in the first cluster */
	lb_put_be32(b + 16, 16);
	lb_put_be64(b + 8, 65536 - 16);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), 0);
	CHECK_STR(p.backing_file, ""); /* beyond the bytes given: not copied */
	lb_put_be64(b + 8, 65536 - 15);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);
	lb_put_be64(b + 8, UINT64_MAX - 4);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), -EBADMSG);
	/* a name that ends exactly at the end of the buffer is copied */
	lb_put_be64(b + 8, sizeof(b) - 5);
	lb_put_be32(b + 16, 5);
	memcpy(b + sizeof(b) - 5, "tail!", 5);
	CHECK_INT(lb_qcow2_header_parse(b, sizeof(b), Q_FILE_SIZE, &p), 0);
	CHECK_STR(p.backing_file, "tail!");
}

/* ---- VMDK ------------------------------------------------------------------- */

static void make_vmdk(uint8_t *b, size_t len)
{
	memset(b, 0, len);
	memcpy(b, "KDMV", 4);
	lb_put_le32(b + 4, 1);
	lb_put_le32(b + 8, 3);
	lb_put_le64(b + 12, 2048); /* 1 MiB */
	lb_put_le64(b + 20, 128);  /* 64 KiB grains */
	lb_put_le64(b + 28, 1);	   /* descriptor at sector 1 */
	lb_put_le64(b + 36, 20);
	lb_put_le32(b + 44, 512);
	lb_put_le64(b + 48, 21);
	lb_put_le64(b + 56, 22); /* grain directory */
	lb_put_le64(b + 64, 128);
	memcpy(b + 73, "\n \r\n", 4);
}

static void test_vmdk(void)
{
	uint8_t b[512];
	struct lb_image_probe p;
	const char *desc = "# Disk DescriptorFile\nversion=1\n";

	make_vmdk(b, sizeof(b));
	CHECK_INT(lb_vmdk_header_parse(b, sizeof(b), 65536, &p), 0);
	CHECK_INT(p.format, LB_FMT_VMDK);
	CHECK_STR(p.subformat, "monolithicSparse");
	CHECK_U64(p.virtual_size, 1 << 20);
	CHECK(!p.dirty);
	CHECK_INT(lb_image_probe(b, sizeof(b), NULL, 65536, LB_FMT_AUTO, &p), 0);
	CHECK_INT(p.format, LB_FMT_VMDK);
	b[72] = 1;
	CHECK_INT(lb_vmdk_header_parse(b, sizeof(b), 65536, &p), 0);
	CHECK(p.dirty);
	make_vmdk(b, sizeof(b));
	lb_put_le64(b + 56, UINT64_MAX);
	CHECK_INT(lb_vmdk_header_parse(b, sizeof(b), 65536, &p), 0);
	CHECK_STR(p.subformat, "streamOptimized");

	/* a descriptor file */
	CHECK_INT(lb_image_probe((const uint8_t *)desc, strlen(desc), NULL, strlen(desc),
				 LB_FMT_AUTO, &p),
		  0);
	CHECK_INT(p.format, LB_FMT_VMDK);
	CHECK_STR(p.subformat, "descriptor");

	/* damage */
	make_vmdk(b, sizeof(b));
	CHECK_INT(lb_vmdk_header_parse(b, 60, 60, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "cut short");
	CHECK_INT(lb_vmdk_header_parse(b, 3, 3, &p), -EMEDIUMTYPE);
	lb_put_le32(b + 4, 0);
	CHECK_INT(lb_vmdk_header_parse(b, sizeof(b), 65536, &p), -EBADMSG);
	lb_put_le32(b + 4, 4);
	CHECK_INT(lb_vmdk_header_parse(b, sizeof(b), 65536, &p), -EBADMSG);
	make_vmdk(b, sizeof(b));
	lb_put_le64(b + 12, (UINT64_C(1) << 47) + 1);
	CHECK_INT(lb_vmdk_header_parse(b, sizeof(b), 65536, &p), -EOVERFLOW);
	lb_put_le64(b + 12, UINT64_MAX);
	CHECK_INT(lb_vmdk_header_parse(b, sizeof(b), 65536, &p), -EOVERFLOW);
	make_vmdk(b, sizeof(b));
	lb_put_le64(b + 20, 0);
	CHECK_INT(lb_vmdk_header_parse(b, sizeof(b), 65536, &p), -EBADMSG);
	lb_put_le64(b + 20, 96);
	CHECK_INT(lb_vmdk_header_parse(b, sizeof(b), 65536, &p), -EBADMSG);
	lb_put_le64(b + 20, 1 << 17);
	CHECK_INT(lb_vmdk_header_parse(b, sizeof(b), 65536, &p), -EOVERFLOW);
	lb_put_le64(b + 20, UINT64_C(1) << 63);
	CHECK_INT(lb_vmdk_header_parse(b, sizeof(b), 65536, &p), -EOVERFLOW);
	make_vmdk(b, sizeof(b));
	lb_put_le64(b + 36, 128); /* descriptor sectors 1..128 in a 128-sector file */
	CHECK_INT(lb_vmdk_header_parse(b, sizeof(b), 65536, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "descriptor");
	lb_put_le64(b + 36, UINT64_MAX);
	CHECK_INT(lb_vmdk_header_parse(b, sizeof(b), 65536, &p), -EBADMSG);
	make_vmdk(b, sizeof(b));
	lb_put_le64(b + 56, 129);
	CHECK_INT(lb_vmdk_header_parse(b, sizeof(b), 65536, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "grain directory at sector 129");
}

/* ---- VHDX ------------------------------------------------------------------- */

static void vhdx_header(uint8_t *h, uint64_t seq, bool log_pending, uint64_t log_off,
			uint32_t log_len)
{
	memset(h, 0, 4096);
	memcpy(h, "head", 4);
	lb_put_le64(h + 8, seq);
	for (int i = 16; i < 48; i++)
		h[i] = (uint8_t)i;
	if (log_pending)
		memset(h + 48, 0x5a, 16);
	lb_put_le16(h + 66, 1);
	lb_put_le32(h + 68, log_len);
	lb_put_le64(h + 72, log_off);
	lb_put_le32(h + 4, lb_crc32c(0, h, 4096));
}

/* The first 136 KiB of a VHDX file: identifier and both headers. */
static uint8_t *make_vhdx(void)
{
	uint8_t *b = calloc(1, 136 * KIB);

	memcpy(b, "vhdxfile", 8);
	vhdx_header(b + 64 * KIB, 1, false, 1 * MIB, 1 * MIB);
	vhdx_header(b + 128 * KIB, 2, false, 1 * MIB, 1 * MIB);
	return b;
}

static void test_vhdx(void)
{
	uint8_t *b = make_vhdx();
	struct lb_image_probe p;

	/* the standard CRC-32C check value */
	CHECK_U64(lb_crc32c(0, "123456789", 9), 0xe3069283u);

	CHECK_INT(lb_vhdx_header_parse(b, 136 * KIB, 8 * MIB, &p), 0);
	CHECK_INT(p.format, LB_FMT_VHDX);
	CHECK(!p.dirty);
	CHECK_INT(lb_image_probe(b, 136 * KIB, NULL, 8 * MIB, LB_FMT_AUTO, &p), 0);
	CHECK_INT(p.format, LB_FMT_VHDX);

	/* the header with the higher sequence number is current */
	vhdx_header(b + 64 * KIB, 7, true, 1 * MIB, 1 * MIB);
	CHECK_INT(lb_vhdx_header_parse(b, 136 * KIB, 8 * MIB, &p), 0);
	CHECK(p.dirty);
	vhdx_header(b + 128 * KIB, 8, false, 1 * MIB, 1 * MIB);
	CHECK_INT(lb_vhdx_header_parse(b, 136 * KIB, 8 * MIB, &p), 0);
	CHECK(!p.dirty);

	/* one header with a bad CRC-32C: the other one is used */
	b[128 * KIB + 1000] ^= 1;
	CHECK_INT(lb_vhdx_header_parse(b, 136 * KIB, 8 * MIB, &p), 0);
	CHECK(p.dirty); /* header 1 (log pending) is the only valid one now */
	/* both bad */
	b[64 * KIB + 2000] ^= 1;
	CHECK_INT(lb_vhdx_header_parse(b, 136 * KIB, 8 * MIB, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "fail their CRC-32C");
	CHECK_INT(lb_image_probe(b, 136 * KIB, NULL, 8 * MIB, LB_FMT_AUTO, &p), -EBADMSG);
	free(b);

	/* a wrong version counts as a bad header */
	b = make_vhdx();
	lb_put_le16(b + 64 * KIB + 66, 2);
	lb_put_le32(b + 64 * KIB + 4, 0);
	lb_put_le32(b + 64 * KIB + 4, lb_crc32c(0, b + 64 * KIB, 4096));
	CHECK_INT(lb_vhdx_header_parse(b, 136 * KIB, 8 * MIB, &p), 0);
	memcpy(b + 128 * KIB, b + 64 * KIB, 4096);
	CHECK_INT(lb_vhdx_header_parse(b, 136 * KIB, 8 * MIB, &p), -EBADMSG);
	free(b);

	/* truncated */
	b = make_vhdx();
	CHECK_INT(lb_vhdx_header_parse(b, 100 * KIB, 8 * MIB, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "too short");
	CHECK_INT(lb_vhdx_header_parse(b, 136 * KIB, 136 * KIB, &p), -EBADMSG);
	CHECK_INT(lb_vhdx_header_parse(b, 7, 7, &p), -EMEDIUMTYPE);
	/* the log outside the file */
	vhdx_header(b + 128 * KIB, 9, false, 8 * MIB, 1 * MIB);
	CHECK_INT(lb_vhdx_header_parse(b, 136 * KIB, 8 * MIB, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "log lies outside the file");
	vhdx_header(b + 128 * KIB, 9, false, UINT64_MAX, 0xffffffffu);
	CHECK_INT(lb_vhdx_header_parse(b, 136 * KIB, 8 * MIB, &p), -EBADMSG);
	vhdx_header(b + 128 * KIB, 9, false, 7 * MIB, 1 * MIB); /* ends at the end: fine */
	CHECK_INT(lb_vhdx_header_parse(b, 136 * KIB, 8 * MIB, &p), 0);
	free(b);
}

/* ---- detection ---------------------------------------------------------------- */

static void make_footer(uint8_t f[512], uint32_t type, uint64_t size)
{
	memset(f, 0, 512);
	memcpy(f, "conectix", 8);
	lb_put_be32(f + 8, 2);
	lb_put_be32(f + 12, 0x00010000);
	lb_put_be64(f + 16, type == LB_VHD_FIXED ? UINT64_MAX : 512);
	lb_put_be64(f + 48, size);
	lb_put_be32(f + 60, type);
	lb_put_be32(f + 64, lb_vhd_checksum(f, 512, 64));
}

static void test_probe_detect(void)
{
	uint8_t *head = calloc(1, 136 * KIB);
	uint8_t tail[512];
	struct lb_image_probe p;

	/* nothing known: raw */
	CHECK_INT(lb_image_probe(head, 136 * KIB, head, 1 * MIB, LB_FMT_AUTO, &p), 0);
	CHECK_INT(p.format, LB_FMT_RAW);
	CHECK_INT(lb_image_probe(head, 0, NULL, 0, LB_FMT_AUTO, &p), 0);
	CHECK_INT(p.format, LB_FMT_RAW);
	CHECK_INT(lb_image_probe(head, 3, NULL, 3, LB_FMT_AUTO, &p), 0);
	CHECK_INT(p.format, LB_FMT_RAW);

	/* VDI */
	lb_put_le32(head + 0x40, 0xbeda107fu);
	CHECK_INT(lb_image_probe(head, 4096, NULL, 1 * MIB, LB_FMT_AUTO, &p), 0);
	CHECK_INT(p.format, LB_FMT_VDI);
	CHECK_INT(lb_image_probe(head, 0x43, NULL, 0x43, LB_FMT_AUTO, &p), 0);
	CHECK_INT(p.format, LB_FMT_RAW);
	memset(head, 0, 4096);

	/* fixed VHD: the footer at the end */
	make_footer(tail, LB_VHD_FIXED, 1 * MIB);
	CHECK_INT(lb_image_probe(head, 136 * KIB, tail, 1 * MIB + 512, LB_FMT_AUTO, &p), 0);
	CHECK_INT(p.format, LB_FMT_VHD);
	CHECK_STR(p.subformat, "fixed");
	CHECK_U64(p.virtual_size, 1 * MIB);
	/* ... whose data does not fit before the footer */
	CHECK_INT(lb_image_probe(head, 136 * KIB, tail, 1 * MIB, LB_FMT_AUTO, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "precede the footer");
	/* ... with a bad checksum */
	tail[100] = 1;
	CHECK_INT(lb_image_probe(head, 136 * KIB, tail, 1 * MIB + 512, LB_FMT_AUTO, &p), -EBADMSG);

	/* dynamic VHD */
	make_footer(tail, LB_VHD_DYNAMIC, 64 * MIB);
	memcpy(head, tail, 512);
	CHECK_INT(lb_image_probe(head, 4096, tail, 4096, LB_FMT_AUTO, &p), 0);
	CHECK_INT(p.format, LB_FMT_VHD);
	CHECK_STR(p.subformat, "dynamic");
	/* ... that lost its footer: the copy at 0 says what it was */
	CHECK_INT(lb_image_probe(head, 4096, head + 1024, 4096, LB_FMT_AUTO, &p), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "footer at the end of the file is missing");
	CHECK_INT(lb_image_probe(head, 4096, NULL, 4096, LB_FMT_VHD, &p), -EBADMSG);
	/* ... whose header lies beyond the end */
	CHECK_INT(lb_image_probe(head, 1024, tail, 1024, LB_FMT_AUTO, &p), -EBADMSG);
	free(head);
}

static void test_probe_format_mismatch(void)
{
	uint8_t b[4096], zero[4096] = {0}, tail[512];
	struct lb_image_probe p;

	make_qcow2(b, sizeof(b), 3);
	/* --format names another format than the content */
	CHECK_INT(lb_image_probe(b, sizeof(b), NULL, Q_FILE_SIZE, LB_FMT_VHDX, &p), -EMEDIUMTYPE);
	CHECK_CONTAINS(lb_err_last()->problem, "vhdxfile");
	CHECK_INT(lb_image_probe(b, sizeof(b), NULL, Q_FILE_SIZE, LB_FMT_VMDK, &p), -EMEDIUMTYPE);
	CHECK_INT(lb_image_probe(b, sizeof(b), NULL, Q_FILE_SIZE, LB_FMT_VDI, &p), -EMEDIUMTYPE);
	CHECK_INT(lb_image_probe(b, sizeof(b), b, Q_FILE_SIZE, LB_FMT_VHD, &p), -EMEDIUMTYPE);
	CHECK_INT(lb_image_probe(zero, sizeof(zero), zero, 1 * MIB, LB_FMT_QCOW2, &p),
		  -EMEDIUMTYPE);
	CHECK_INT(lb_image_probe(zero, sizeof(zero), zero, 1 * MIB, LB_FMT_VHD, &p), -EMEDIUMTYPE);
	/* --format raw reads anything as raw */
	CHECK_INT(lb_image_probe(b, sizeof(b), NULL, Q_FILE_SIZE, LB_FMT_RAW, &p), 0);
	CHECK_INT(p.format, LB_FMT_RAW);
	make_footer(tail, LB_VHD_FIXED, 1 * MIB);
	CHECK_INT(lb_image_probe(zero, sizeof(zero), tail, 1 * MIB + 512, LB_FMT_RAW, &p), 0);
	CHECK_INT(p.format, LB_FMT_RAW);
	/* a file cannot be "nbd" */
	CHECK_INT(lb_image_probe(zero, sizeof(zero), NULL, sizeof(zero), LB_FMT_NBD, &p),
		  -EMEDIUMTYPE);
	/* the same format is fine */
	CHECK_INT(lb_image_probe(zero, sizeof(zero), tail, 1 * MIB + 512, LB_FMT_VHD, &p), 0);
}

static void test_format_names(void)
{
	enum lb_image_format f = LB_FMT_RAW;

	CHECK_INT(lb_image_format_parse("qcow2", &f), 0);
	CHECK_INT(f, LB_FMT_QCOW2);
	CHECK_INT(lb_image_format_parse("VHDX", &f), 0);
	CHECK_INT(f, LB_FMT_VHDX);
	CHECK_INT(lb_image_format_parse("vpc", &f), 0);
	CHECK_INT(f, LB_FMT_VHD);
	CHECK_INT(lb_image_format_parse("auto", &f), 0);
	CHECK_INT(f, LB_FMT_AUTO);
	CHECK_INT(lb_image_format_parse("nbd", &f), -EINVAL);
	CHECK_INT(lb_image_format_parse("qcow3", &f), -EINVAL);
	CHECK_INT(lb_image_format_parse("", &f), -EINVAL);
	CHECK_STR(lb_image_format_name(LB_FMT_VMDK), "vmdk");
	CHECK_STR(lb_image_format_name(LB_FMT_VDI), "vdi");
}

LB_TEST_MAIN(T(test_qcow2_good), T(test_qcow2_truncated), T(test_qcow2_bad), T(test_qcow2_flags),
	     T(test_qcow2_backing), T(test_vmdk), T(test_vhdx), T(test_probe_detect),
	     T(test_probe_format_mismatch), T(test_format_names))
