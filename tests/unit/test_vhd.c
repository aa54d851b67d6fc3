/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/io/vhd.c: the footer, the layout check, the dynamic
 * header, and the fixed-VHD device that must never reach the footer.
 *
 * Footers and headers are built here field by field (offsets from vhd.h), and
 * their checksums are computed here too, independently of lb_vhd_checksum().
 */
#include "harness.h"

#include "base/endian.h"
#include "base/err.h"
#include "io/dev.h"
#include "io/vhd.h"

#include <stdlib.h>

/* The VHD checksum as the specification words it: one's complement of the byte sum. */
static uint32_t spec_checksum(const uint8_t *b, size_t len, size_t field)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += b[i];
	for (size_t i = field; i < field + 4; i++)
		sum -= b[i];
	return ~sum;
}

static void seal_footer(uint8_t f[512])
{
	lb_put_be32(f + 64, spec_checksum(f, 512, 64));
}

static void seal_dyn(uint8_t h[1024])
{
	lb_put_be32(h + 36, spec_checksum(h, 1024, 36));
}

static void make_footer(uint8_t f[512], uint32_t type, uint64_t size, uint64_t data_offset)
{
	memset(f, 0, 512);
	memcpy(f, "conectix", 8);
	lb_put_be32(f + 8, 2);
	lb_put_be32(f + 12, 0x00010000);
	lb_put_be64(f + 16, data_offset);
	lb_put_be32(f + 24, 0x2a2b2c2d);
	memcpy(f + 28, "qemu", 4);
	lb_put_be32(f + 32, 0x00050003);
	memcpy(f + 36, "Wi2k", 4);
	lb_put_be64(f + 40, size);
	lb_put_be64(f + 48, size);
	lb_put_be16(f + 56, 1024);
	f[58] = 16;
	f[59] = 63;
	lb_put_be32(f + 60, type);
	for (int i = 0; i < 16; i++)
		f[68 + i] = (uint8_t)(i * 17);
	seal_footer(f);
}

static void make_dyn(uint8_t h[1024], uint64_t table_offset, uint32_t entries, uint32_t block)
{
	memset(h, 0, 1024);
	memcpy(h, "cxsparse", 8);
	lb_put_be64(h + 8, UINT64_MAX);
	lb_put_be64(h + 16, table_offset);
	lb_put_be32(h + 24, 0x00010000);
	lb_put_be32(h + 28, entries);
	lb_put_be32(h + 32, block);
	seal_dyn(h);
}

static void test_checksum_matches_spec(void)
{
	uint8_t f[512];

	make_footer(f, LB_VHD_FIXED, 1 << 20, UINT64_MAX);
	CHECK_U64(lb_vhd_checksum(f, 512, 64), lb_be32(f + 64));
	f[100] = 0xff;
	CHECK_U64(lb_vhd_checksum(f, 512, 64), spec_checksum(f, 512, 64));
	CHECK(lb_vhd_checksum(f, 512, 64) != lb_be32(f + 64));
}

static void test_footer_good(void)
{
	uint8_t f[512];
	struct lb_vhd_footer v;

	make_footer(f, LB_VHD_DYNAMIC, 64 << 20, 512);
	f[84] = 1;
	seal_footer(f);
	CHECK(lb_vhd_footer_magic(f));
	CHECK_INT(lb_vhd_footer_parse(f, &v), 0);
	CHECK_U64(v.features, 2);
	CHECK_U64(v.version, 0x00010000);
	CHECK_U64(v.data_offset, 512);
	CHECK_U64(v.timestamp, 0x2a2b2c2d);
	CHECK_STR(v.creator_app, "qemu");
	CHECK_U64(v.creator_version, 0x00050003);
	CHECK_STR(v.creator_os, "Wi2k");
	CHECK_U64(v.original_size, 64 << 20);
	CHECK_U64(v.current_size, 64 << 20);
	CHECK_INT(v.cylinders, 1024);
	CHECK_INT(v.heads, 16);
	CHECK_INT(v.sectors, 63);
	CHECK_U64(v.disk_type, LB_VHD_DYNAMIC);
	CHECK_U64(v.checksum, lb_be32(f + 64));
	CHECK_INT(v.uuid[15], 15 * 17);
	CHECK(v.saved_state);
	CHECK_STR(lb_vhd_type_name(v.disk_type), "dynamic");
	CHECK_STR(lb_vhd_type_name(LB_VHD_FIXED), "fixed");
	CHECK_STR(lb_vhd_type_name(LB_VHD_DIFFERENCING), "differencing");
	CHECK_STR(lb_vhd_type_name(7), "unknown");

	/* creator fields are made printable */
	memcpy(f + 28,
	       "a\x01\xff"
	       "b",
	       4);
	seal_footer(f);
	CHECK_INT(lb_vhd_footer_parse(f, &v), 0);
	CHECK_STR(v.creator_app, "a??b");
	/* the largest size accepted */
	lb_put_be64(f + 48, UINT64_C(1) << 50);
	seal_footer(f);
	CHECK_INT(lb_vhd_footer_parse(f, &v), 0);
}

static void test_footer_bad(void)
{
	uint8_t f[512];
	struct lb_vhd_footer v;

	make_footer(f, LB_VHD_FIXED, 1 << 20, UINT64_MAX);
	f[0] = 'C';
	seal_footer(f);
	CHECK(!lb_vhd_footer_magic(f));
	CHECK_INT(lb_vhd_footer_parse(f, &v), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "cookie");
	CHECK_STR(lb_err_last()->object, "VHD footer");

	/* one byte changed after sealing */
	make_footer(f, LB_VHD_FIXED, 1 << 20, UINT64_MAX);
	f[48 + 5] ^= 0x01;
	CHECK_INT(lb_vhd_footer_parse(f, &v), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "checksum mismatch");
	/* the checksum field itself off by one */
	make_footer(f, LB_VHD_FIXED, 1 << 20, UINT64_MAX);
	f[67]++;
	CHECK_INT(lb_vhd_footer_parse(f, &v), -EBADMSG);

	/* disk types other than 2, 3, 4 */
	for (uint32_t t = 0; t < 8; t++) {
		make_footer(f, t, 1 << 20, UINT64_MAX);
		if (t >= 2 && t <= 4) {
			CHECK_INT(lb_vhd_footer_parse(f, &v), 0);
			continue;
		}
		CHECK_INT(lb_vhd_footer_parse(f, &v), -EBADMSG);
		CHECK_CONTAINS(lb_err_last()->problem, "unknown disk type");
	}
	make_footer(f, 0xffffffffu, 1 << 20, UINT64_MAX);
	CHECK_INT(lb_vhd_footer_parse(f, &v), -EBADMSG);

	/* version 2.0 */
	make_footer(f, LB_VHD_FIXED, 1 << 20, UINT64_MAX);
	lb_put_be32(f + 12, 0x00020000);
	seal_footer(f);
	CHECK_INT(lb_vhd_footer_parse(f, &v), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "version");

	/* sizes */
	make_footer(f, LB_VHD_FIXED, (1 << 20) + 1, UINT64_MAX);
	CHECK_INT(lb_vhd_footer_parse(f, &v), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "not a multiple of 512");
	make_footer(f, LB_VHD_FIXED, (UINT64_C(1) << 50) + 512, UINT64_MAX);
	CHECK_INT(lb_vhd_footer_parse(f, &v), -EOVERFLOW);
	make_footer(f, LB_VHD_FIXED, UINT64_MAX - 511, UINT64_MAX);
	CHECK_INT(lb_vhd_footer_parse(f, &v), -EOVERFLOW);
	CHECK_CONTAINS(lb_err_last()->problem, "impossibly large");
}

static void test_layout(void)
{
	uint8_t f[512];
	struct lb_vhd_footer v;

	/* fixed: the data must fit before the footer */
	make_footer(f, LB_VHD_FIXED, 1 << 20, UINT64_MAX);
	CHECK_INT(lb_vhd_footer_parse(f, &v), 0);
	CHECK_INT(lb_vhd_footer_check_layout(&v, 1 << 20, (1 << 20) + 512), 0);
	CHECK_INT(lb_vhd_footer_check_layout(&v, (1 << 20) + 4096, (1 << 20) + 4608), 0);
	CHECK_INT(lb_vhd_footer_check_layout(&v, (1 << 20) - 512, 1 << 20), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "only 1048064 precede the footer");
	CHECK_INT(lb_vhd_footer_check_layout(&v, 0, 512), -EBADMSG);

	/* dynamic: the header (1024 bytes) must lie inside the file */
	make_footer(f, LB_VHD_DYNAMIC, 1 << 20, 512);
	CHECK_INT(lb_vhd_footer_parse(f, &v), 0);
	CHECK_INT(lb_vhd_footer_check_layout(&v, 2048, 2560), 0);
	CHECK_INT(lb_vhd_footer_check_layout(&v, 1024, 1535), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "dynamic header offset 512 is outside the file");
	v.data_offset = UINT64_MAX - 100; /* no wrap-around */
	CHECK_INT(lb_vhd_footer_check_layout(&v, 2048, 2560), -EBADMSG);
	v.data_offset = UINT64_MAX;
	CHECK_INT(lb_vhd_footer_check_layout(&v, 2048, 2560), -EBADMSG);
}

static void test_dyn_header_good(void)
{
	uint8_t f[512], h[1024];
	struct lb_vhd_footer v;
	struct lb_vhd_dyn_header d;
	const char *parent = "parent-\xc3\xa9.vhd"; /* é */

	make_footer(f, LB_VHD_DIFFERENCING, 4 << 20, 512);
	CHECK_INT(lb_vhd_footer_parse(f, &v), 0);
	make_dyn(h, 1536, 2, 2 << 20);
	for (int i = 0; i < 16; i++)
		h[40 + i] = (uint8_t)(0xf0 + i);
	/* the parent name in UTF-16 big-endian */
	for (size_t i = 0, k = 0; parent[i]; i++, k++) {
		uint16_t cu = (uint8_t)parent[i];

		if (cu == 0xc3) {
			cu = 0x00e9;
			i++;
		}
		lb_put_be16(h + 64 + 2 * k, cu);
	}
	seal_dyn(h);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 2048, &d), 0);
	CHECK_U64(d.table_offset, 1536);
	CHECK_U64(d.version, 0x00010000);
	CHECK_U64(d.max_table_entries, 2);
	CHECK_U64(d.block_size, 2 << 20);
	CHECK_U64(d.checksum, lb_be32(h + 36));
	CHECK_INT(d.parent_uuid[0], 0xf0);
	CHECK_STR(d.parent_name, parent);

	/* the BAT may end exactly at the end of the file */
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 1544, &d), 0);
	/* small and large block sizes that are powers of two */
	make_dyn(h, 1536, 8192, 512);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 1536 + 8192 * 4, &d), 0);
	make_dyn(h, 1536, 1, 256 << 20);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 2048, &d), 0);
}

static void test_dyn_header_bad(void)
{
	uint8_t f[512], h[1024];
	struct lb_vhd_footer v;
	struct lb_vhd_dyn_header d;

	make_footer(f, LB_VHD_DYNAMIC, 4 << 20, 512);
	CHECK_INT(lb_vhd_footer_parse(f, &v), 0);

	/* cookie, checksum, version */
	make_dyn(h, 1536, 2, 2 << 20);
	h[1] = 'Y';
	seal_dyn(h);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 4096, &d), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "cxsparse");
	make_dyn(h, 1536, 2, 2 << 20);
	h[600] = 1;
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 4096, &d), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "checksum mismatch");
	make_dyn(h, 1536, 2, 2 << 20);
	lb_put_be32(h + 24, 0x00020000);
	seal_dyn(h);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 4096, &d), -EBADMSG);

	/* the BAT outside the file */
	make_dyn(h, 8192, 2, 2 << 20);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 4096, &d), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "extends beyond the end of the file");
	make_dyn(h, 4090, 2, 2 << 20); /* starts inside, ends outside */
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 4096, &d), -EBADMSG);
	make_dyn(h, UINT64_MAX - 3, 2, 2 << 20); /* offset + length wraps */
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 4096, &d), -EBADMSG);

	/* block sizes */
	make_dyn(h, 1536, 2, 3 << 20);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 4096, &d), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "not a power of two");
	make_dyn(h, 1536, 2, 0);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 4096, &d), -EBADMSG);
	make_dyn(h, 1536, 2, 256);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 4096, &d), -EBADMSG);
	make_dyn(h, 1536, 2, 512u << 20);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 4096, &d), -EOVERFLOW);
	make_dyn(h, 1536, 2, 0x80000000u);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 4096, &d), -EOVERFLOW);

	/* a BAT that does not cover the disk (4 MiB needs two 2 MiB blocks) */
	make_dyn(h, 1536, 1, 2 << 20);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 4096, &d), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "covers 2097152 bytes, less than the disk size");
	make_dyn(h, 1536, 0, 2 << 20);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, 4096, &d), -EBADMSG);

	/* overflow-sized: a BAT mapping 2^32 blocks of 2 MiB (8 PiB), even in a file that holds it */
	make_dyn(h, 1536, 0xffffffffu, 2 << 20);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, UINT64_MAX, &d), -EOVERFLOW);
	CHECK_CONTAINS(lb_err_last()->problem, "impossibly large");
	make_dyn(h, 1536, 0xffffffffu, 256 << 20);
	CHECK_INT(lb_vhd_dyn_header_parse(h, &v, UINT64_MAX, &d), -EOVERFLOW);
}

/* A fixed VHD of @disk bytes in memory: data then the footer. */
static uint8_t *fixed_file(size_t disk, struct lb_vhd_footer *v)
{
	uint8_t *b = calloc(1, disk + 512);

	for (size_t i = 0; i < disk; i++)
		b[i] = (uint8_t)(i * 7);
	make_footer(b + disk, LB_VHD_FIXED, disk, UINT64_MAX);
	if (lb_vhd_footer_parse(b + disk, v) < 0)
		lb_test_fail(__FILE__, __LINE__, "test footer does not parse");
	return b;
}

static void test_fixed_dev(void)
{
	const size_t n = 64 * 1024;
	struct lb_vhd_footer v;
	uint8_t *b = fixed_file(n, &v);
	uint8_t saved[512], buf[1024];
	struct lb_dev *file = lb_mem_dev_new(b, n + 512, false, "disk.vhd");
	struct lb_dev *disk = NULL;

	memcpy(saved, b + n, 512);
	CHECK_INT(lb_vhd_fixed_dev_new(file, &v, &disk), 0);
	if (!disk)
		goto out;
	CHECK_U64(disk->size, n);
	CHECK_STR(disk->name, "disk.vhd");
	CHECK(!disk->read_only);
	/* the last byte of the guest disk is readable, the footer is not */
	CHECK_INT(lb_dev_pread(disk, buf, 1, n - 1), 0);
	CHECK_INT(buf[0], (uint8_t)((n - 1) * 7));
	CHECK_INT(lb_dev_pread(disk, buf, 8, n), -EINVAL);
	/* writes that would reach the footer are refused, whole */
	memset(buf, 0xee, sizeof(buf));
	CHECK_INT(lb_dev_pwrite(disk, buf, 2, n - 1), -EINVAL);
	CHECK_INT(lb_dev_pwrite(disk, buf, 512, n), -EINVAL);
	CHECK_INT(lb_dev_pwrite(disk, buf, 1024, n - 512), -EINVAL);
	CHECK_INT(lb_dev_pwrite(disk, buf, 1, UINT64_MAX), -EINVAL);
	CHECK(memcmp(b + n, saved, 512) == 0);
	CHECK_INT(b[n - 1], (uint8_t)((n - 1) * 7));
	/* a write up to the end is fine and lands in the file */
	CHECK_INT(lb_dev_pwrite(disk, buf, 512, n - 512), 0);
	CHECK_INT(b[n - 1], 0xee);
	CHECK(memcmp(b + n, saved, 512) == 0);
	lb_dev_unref(disk);

	/* a footer that claims the whole file (layout not checked by the caller) */
	v.current_size = n + 512;
	disk = NULL;
	CHECK_INT(lb_vhd_fixed_dev_new(file, &v, &disk), -EINVAL);
	CHECK(disk == NULL);
	v.current_size = n + 1024;
	CHECK_INT(lb_vhd_fixed_dev_new(file, &v, &disk), -EINVAL);
	/* a file shorter than a footer */
	lb_dev_unref(file);
	file = lb_mem_dev_new(b, 100, false, "tiny.vhd");
	v.current_size = 0;
	CHECK_INT(lb_vhd_fixed_dev_new(file, &v, &disk), -EINVAL);
	/* a read-only file gives a read-only disk */
	lb_dev_unref(file);
	file = lb_mem_dev_new(b, n + 512, true, "disk.vhd");
	v.current_size = n;
	CHECK_INT(lb_vhd_fixed_dev_new(file, &v, &disk), 0);
	if (disk) {
		CHECK(disk->read_only);
		CHECK_INT(lb_dev_pwrite(disk, buf, 1, 0), -EROFS);
		lb_dev_unref(disk);
	}
out:
	lb_dev_unref(file);
	free(b);
}

LB_TEST_MAIN(T(test_checksum_matches_spec), T(test_footer_good), T(test_footer_bad), T(test_layout),
	     T(test_dyn_header_good), T(test_dyn_header_bad), T(test_fixed_dev))
