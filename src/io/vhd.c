/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "io/vhd.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/util.h"

#include <inttypes.h>
#include <string.h>

#define OBJ_FOOTER "VHD footer"
#define OBJ_DYN "VHD dynamic header"
#define HINT_CORRUPT "the image is damaged; restore it from a backup, or try 'qemu-img check'"

/* Largest disk a footer may describe, and what a block table may map (twice that). */
#define LB_VHD_MAX_SIZE (UINT64_C(1) << 50)
#define LB_VHD_MAX_MAPPED (UINT64_C(1) << 51)
#define LB_VHD_MAX_BLOCK (UINT32_C(1) << 28)

bool lb_vhd_footer_magic(const uint8_t *buf)
{
	return memcmp(buf, "conectix", 8) == 0;
}

uint32_t lb_vhd_checksum(const uint8_t *buf, size_t len, size_t skip)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i++)
		if (i < skip || i >= skip + 4)
			sum += buf[i];
	return ~sum;
}

const char *lb_vhd_type_name(uint32_t type)
{
	switch (type) {
	case LB_VHD_FIXED:
		return "fixed";
	case LB_VHD_DYNAMIC:
		return "dynamic";
	case LB_VHD_DIFFERENCING:
		return "differencing";
	default:
		return "unknown";
	}
}

static void copy4(char out[5], const uint8_t *p)
{
	for (int i = 0; i < 4; i++)
		out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[4] = '\0';
}

int lb_vhd_footer_parse(const uint8_t b[LB_VHD_FOOTER_SIZE], struct lb_vhd_footer *f)
{
	uint32_t sum;

	memset(f, 0, sizeof(*f));
	if (!lb_vhd_footer_magic(b))
		return lb_err(-EBADMSG, OBJ_FOOTER, HINT_CORRUPT, "cookie is not \"conectix\"");
	f->features = lb_be32(b + 8);
	f->version = lb_be32(b + 12);
	f->data_offset = lb_be64(b + 16);
	f->timestamp = lb_be32(b + 24);
	copy4(f->creator_app, b + 28);
	f->creator_version = lb_be32(b + 32);
	copy4(f->creator_os, b + 36);
	f->original_size = lb_be64(b + 40);
	f->current_size = lb_be64(b + 48);
	f->cylinders = lb_be16(b + 56);
	f->heads = b[58];
	f->sectors = b[59];
	f->disk_type = lb_be32(b + 60);
	f->checksum = lb_be32(b + 64);
	memcpy(f->uuid, b + 68, 16);
	f->saved_state = b[84] != 0;

	sum = lb_vhd_checksum(b, LB_VHD_FOOTER_SIZE, 64);
	if (sum != f->checksum)
		return lb_err(-EBADMSG, OBJ_FOOTER, HINT_CORRUPT,
			      "checksum mismatch (stored 0x%08" PRIx32 ", computed 0x%08" PRIx32
			      ")",
			      f->checksum, sum);
	if (f->version >> 16 != 1)
		return lb_err(-EBADMSG, OBJ_FOOTER, HINT_CORRUPT,
			      "unsupported format version 0x%08" PRIx32, f->version);
	if (f->disk_type != LB_VHD_FIXED && f->disk_type != LB_VHD_DYNAMIC &&
	    f->disk_type != LB_VHD_DIFFERENCING)
		return lb_err(-EBADMSG, OBJ_FOOTER, HINT_CORRUPT, "unknown disk type %" PRIu32,
			      f->disk_type);
	if (f->current_size % 512)
		return lb_err(-EBADMSG, OBJ_FOOTER, HINT_CORRUPT,
			      "disk size %" PRIu64 " is not a multiple of 512 bytes",
			      f->current_size);
	if (f->current_size > LB_VHD_MAX_SIZE)
		return lb_err(-EOVERFLOW, OBJ_FOOTER, HINT_CORRUPT,
			      "disk size %" PRIu64 " is impossibly large", f->current_size);
	return 0;
}

int lb_vhd_footer_check_layout(const struct lb_vhd_footer *f, uint64_t footer_off,
			       uint64_t file_size)
{
	if (f->disk_type == LB_VHD_FIXED) {
		if (f->current_size > footer_off)
			return lb_err(-EBADMSG, OBJ_FOOTER,
				      "the file is truncated; restore it from a backup",
				      "says the disk holds %" PRIu64 " bytes but only %" PRIu64
				      " precede the footer",
				      f->current_size, footer_off);
		return 0;
	}
	if (f->data_offset > file_size || LB_VHD_DYN_HEADER_SIZE > file_size - f->data_offset)
		return lb_err(-EBADMSG, OBJ_FOOTER, HINT_CORRUPT,
			      "dynamic header offset %" PRIu64 " is outside the file (%" PRIu64
			      " bytes)",
			      f->data_offset, file_size);
	return 0;
}

int lb_vhd_dyn_header_parse(const uint8_t b[LB_VHD_DYN_HEADER_SIZE],
			    const struct lb_vhd_footer *footer, uint64_t file_size,
			    struct lb_vhd_dyn_header *h)
{
	uint64_t bat_bytes, covered;
	uint32_t sum;
	uint8_t name_le[512];

	memset(h, 0, sizeof(*h));
	if (memcmp(b, "cxsparse", 8) != 0)
		return lb_err(-EBADMSG, OBJ_DYN, HINT_CORRUPT, "cookie is not \"cxsparse\"");
	h->table_offset = lb_be64(b + 16);
	h->version = lb_be32(b + 24);
	h->max_table_entries = lb_be32(b + 28);
	h->block_size = lb_be32(b + 32);
	h->checksum = lb_be32(b + 36);
	memcpy(h->parent_uuid, b + 40, 16);
	/* the parent name is UTF-16 big-endian: swap to reuse the LE converter */
	for (int i = 0; i < 256; i++) {
		name_le[2 * i] = b[64 + 2 * i + 1];
		name_le[2 * i + 1] = b[64 + 2 * i];
	}
	lb_utf16le_to_utf8(name_le, 256, h->parent_name, sizeof(h->parent_name));

	sum = lb_vhd_checksum(b, LB_VHD_DYN_HEADER_SIZE, 36);
	if (sum != h->checksum)
		return lb_err(-EBADMSG, OBJ_DYN, HINT_CORRUPT,
			      "checksum mismatch (stored 0x%08" PRIx32 ", computed 0x%08" PRIx32
			      ")",
			      h->checksum, sum);
	if (h->version >> 16 != 1)
		return lb_err(-EBADMSG, OBJ_DYN, HINT_CORRUPT,
			      "unsupported header version 0x%08" PRIx32, h->version);
	if (h->block_size < 512 || (h->block_size & (h->block_size - 1)))
		return lb_err(-EBADMSG, OBJ_DYN, HINT_CORRUPT,
			      "block size %" PRIu32 " is not a power of two of at least 512 bytes",
			      h->block_size);
	if (h->block_size > LB_VHD_MAX_BLOCK)
		return lb_err(-EOVERFLOW, OBJ_DYN, HINT_CORRUPT,
			      "block size %" PRIu32 " exceeds %" PRIu32 " bytes", h->block_size,
			      LB_VHD_MAX_BLOCK);
	covered = (uint64_t)h->max_table_entries * h->block_size; /* < 2^60 */
	if (covered > LB_VHD_MAX_MAPPED)
		return lb_err(-EOVERFLOW, OBJ_DYN, HINT_CORRUPT,
			      "block table of %" PRIu32 " entries of %" PRIu32
			      " bytes maps an impossibly large disk",
			      h->max_table_entries, h->block_size);
	bat_bytes = (uint64_t)h->max_table_entries * 4;
	if (h->table_offset > file_size || bat_bytes > file_size - h->table_offset)
		return lb_err(-EBADMSG, OBJ_DYN,
			      "the file is truncated or damaged; restore it from a backup",
			      "block table (%" PRIu64 " bytes at offset %" PRIu64
			      ") extends beyond the end of the file (%" PRIu64 " bytes)",
			      bat_bytes, h->table_offset, file_size);
	if (covered < footer->current_size)
		return lb_err(-EBADMSG, OBJ_DYN, HINT_CORRUPT,
			      "block table covers %" PRIu64
			      " bytes, less than the disk size %" PRIu64,
			      covered, footer->current_size);
	return 0;
}

int lb_vhd_fixed_dev_new(struct lb_dev *file, const struct lb_vhd_footer *f, struct lb_dev **out)
{
	/* whatever the caller checked, the footer (the last 512 bytes) stays out of reach */
	if (file->size < LB_VHD_FOOTER_SIZE || f->current_size > file->size - LB_VHD_FOOTER_SIZE)
		return lb_err(
			-EINVAL, file->name, "the file is truncated; restore it from a backup",
			"the VHD footer says the disk holds %" PRIu64 " bytes but only %" PRIu64
			" precede the footer",
			f->current_size,
			file->size < LB_VHD_FOOTER_SIZE ? 0 : file->size - LB_VHD_FOOTER_SIZE);
	return lb_slice_dev_new(file, 0, f->current_size, file->name, out);
}
