/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vhd.h - Microsoft Virtual Hard Disk (VHD) footer and dynamic header.
 *
 * A fixed VHD is the raw disk followed by a 512-byte footer; dynamic and
 * differencing VHDs keep a copy of the footer at offset 0, a dynamic header,
 * and a block allocation table (BAT). lifeboat reads and writes fixed VHDs
 * itself (a slice of the file that ends before the footer, so no write can
 * reach it) and hands dynamic ones to qemu-nbd after validating these headers.
 *
 * Footer (512 bytes, big-endian):
 *   off size field
 *     0    8 cookie "conectix"
 *     8    4 features (bit 1 reserved, always set)
 *    12    4 file format version, 0x00010000
 *    16    8 data offset: ~0 for fixed disks, else offset of the dynamic header
 *    24    4 timestamp, seconds since 2000-01-01 00:00:00 UTC
 *    28    4 creator application ("qemu", "win ", "vpc ", ...)
 *    32    4 creator version
 *    36    4 creator host OS ("Wi2k", "Mac ")
 *    40    8 original size in bytes
 *    48    8 current size in bytes (the guest disk size)
 *    56    4 geometry: cylinders (2), heads (1), sectors per track (1)
 *    60    4 disk type: 2 fixed, 3 dynamic, 4 differencing
 *    64    4 checksum: one's complement of the byte sum of the footer with
 *            this field taken as zero
 *    68   16 unique id
 *    84    1 saved state
 *    85  427 reserved (zero)
 *
 * Dynamic header (1024 bytes, big-endian, at the footer's data offset):
 *     0    8 cookie "cxsparse"
 *     8    8 data offset (unused, ~0)
 *    16    8 table offset: absolute file offset of the BAT
 *    24    4 header version, 0x00010000
 *    28    4 max table entries (BAT entries, 4 bytes each)
 *    32    4 block size (power of two, default 2 MiB)
 *    36    4 checksum (as the footer's, over 1024 bytes)
 *    40   16 parent unique id (differencing)
 *    56    4 parent timestamp
 *    60    4 reserved
 *    64  512 parent unicode name (UTF-16BE)
 *   576  192 parent locators, 8 x 24 bytes
 *   768  256 reserved
 */
#ifndef LB_IO_VHD_H
#define LB_IO_VHD_H

#include <stdbool.h>
#include <stdint.h>

#include "io/dev.h"

#define LB_VHD_FOOTER_SIZE 512
#define LB_VHD_DYN_HEADER_SIZE 1024

enum lb_vhd_type {
	LB_VHD_FIXED = 2,
	LB_VHD_DYNAMIC = 3,
	LB_VHD_DIFFERENCING = 4,
};

struct lb_vhd_footer {
	uint32_t features;
	uint32_t version;
	uint64_t data_offset;
	uint32_t timestamp;  /* seconds since 2000-01-01 UTC */
	char creator_app[5]; /* NUL-terminated, printable */
	uint32_t creator_version;
	char creator_os[5];
	uint64_t original_size;
	uint64_t current_size;
	uint16_t cylinders;
	uint8_t heads, sectors;
	uint32_t disk_type;
	uint32_t checksum;
	uint8_t uuid[16];
	bool saved_state;
};

struct lb_vhd_dyn_header {
	uint64_t table_offset;
	uint32_t version;
	uint32_t max_table_entries;
	uint32_t block_size;
	uint32_t checksum;
	uint8_t parent_uuid[16];
	char parent_name[256 * 3 + 1]; /* UTF-8 */
};

/* Seconds between 1970-01-01 and 2000-01-01 (the VHD epoch). */
#define LB_VHD_EPOCH 946684800LL

/* true if @buf (512 bytes) starts with the footer cookie. */
bool lb_vhd_footer_magic(const uint8_t *buf);

/*
 * Parse and validate a footer. Returns 0, or -EBADMSG (wrong cookie,
 * checksum, version or disk type; recorded with the field and values).
 */
int lb_vhd_footer_parse(const uint8_t buf[LB_VHD_FOOTER_SIZE], struct lb_vhd_footer *out);

/*
 * Check that a parsed footer fits a file of @file_size bytes whose footer
 * sits at @footer_off: a fixed disk's data must fit before the footer; a
 * dynamic disk's header must lie inside the file. Returns 0, -EBADMSG or
 * -EOVERFLOW (recorded).
 */
int lb_vhd_footer_check_layout(const struct lb_vhd_footer *f, uint64_t footer_off,
			       uint64_t file_size);

/*
 * Parse and validate a dynamic header against the footer and the file size:
 * the BAT must lie inside the file and cover current_size. Returns 0,
 * -EBADMSG or -EOVERFLOW (recorded).
 */
int lb_vhd_dyn_header_parse(const uint8_t buf[LB_VHD_DYN_HEADER_SIZE],
			    const struct lb_vhd_footer *footer, uint64_t file_size,
			    struct lb_vhd_dyn_header *out);

/* One's-complement byte-sum checksum with the 4 bytes at @skip taken as zero. */
uint32_t lb_vhd_checksum(const uint8_t *buf, size_t len, size_t skip);

/* Name of a disk type: "fixed", "dynamic", "differencing", or "unknown". */
const char *lb_vhd_type_name(uint32_t type);

/*
 * The guest disk of a fixed VHD: @file without its footer. Returns 0 or an
 * error from lb_slice_dev_new().
 */
int lb_vhd_fixed_dev_new(struct lb_dev *file, const struct lb_vhd_footer *f, struct lb_dev **out);

#endif
