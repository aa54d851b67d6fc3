/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * formats.c - detection and validation of image headers lifeboat does not
 * serve itself (qemu-nbd does), so that a damaged header gets a precise error
 * before qemu sees it.
 *
 * qcow2 header (big-endian):
 *   off size field
 *     0    4  magic "QFI\xfb"
 *     4    4  version (2 or 3)
 *     8    8  backing file name offset (0: none)   16  4  its length (< 1024)
 *    20    4  cluster_bits (9..21)
 *    24    8  virtual size in bytes
 *    32    4  crypt method (0 none, 1 AES, 2 LUKS)
 *    36    4  L1 entries                           40  8  L1 table offset
 *    48    8  refcount table offset                56  4  refcount table clusters
 *    60    4  snapshots                            64  8  snapshot table offset
 *    v3: 72 8 incompatible features (bit 0 dirty, bit 1 corrupt, bit 2 external data)
 *        80 8 compatible   88 8 autoclear   96 4 refcount order   100 4 header length
 *
 * VMDK sparse extent header (little-endian):
 *     0    4  "KDMV"            4  4  version (1..3)     8  4  flags
 *    12    8  capacity (sectors)                       20  8  grain size (sectors)
 *    28    8  descriptor offset (sectors)              36  8  descriptor size (sectors)
 *    44    4  grain table entries per table            48  8  redundant directory offset
 *    56    8  grain directory offset (~0: at the end, stream-optimized)
 *    64    8  overhead (sectors)   72  1  unclean shutdown   73  4  "\n \r\n"
 *
 * VHDX: "vhdxfile" at 0; two 4 KiB headers at 64 KiB and 128 KiB:
 *     0    4  "head"           4  4  CRC-32C of the 4 KiB (this field as zero)
 *     8    8  sequence number 16 48  file-write, data-write, log GUIDs
 *    64    2  log version     66  2  version (1)   68  4  log length   72  8  log offset
 */
#include "io/image.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HINT_DAMAGED \
	"the image header is damaged; try 'qemu-img check', or restore the image from a backup"
#define HINT_TRUNC "the image looks truncated; restore it from a backup"

static const uint8_t qcow2_magic[4] = {'Q', 'F', 'I', 0xfb};

/* qemu's limit: an L1 table of at most 32 MiB */
#define QCOW2_MAX_L1_ENTRIES ((32u << 20) / 8)

uint32_t lb_crc32c(uint32_t crc, const void *data, size_t len)
{
	static uint32_t table[256];
	static int init;
	const uint8_t *p = data;

	if (!init) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
			table[i] = c;
		}
		init = 1;
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

int lb_qcow2_header_parse(const uint8_t *b, size_t len, uint64_t file_size,
			  struct lb_image_probe *out)
{
	uint32_t version, cluster_bits, l1_size, crypt, rt_clusters, bf_size;
	uint64_t size, l1_off, rt_off, bf_off, cluster, l2_entries, cover, incompat = 0;

	memset(out, 0, sizeof(*out));
	out->format = LB_FMT_QCOW2;
	if (len < 4 || memcmp(b, qcow2_magic, 4))
		return lb_err(-EMEDIUMTYPE, "qcow2 header", NULL, "no qcow2 magic at offset 0");
	if (len < 72)
		return lb_err(-EBADMSG, "qcow2 header", HINT_TRUNC,
			      "the header is cut short (%zu of 72 bytes)", len);
	version = lb_be32(b + 4);
	bf_off = lb_be64(b + 8);
	bf_size = lb_be32(b + 16);
	cluster_bits = lb_be32(b + 20);
	size = lb_be64(b + 24);
	crypt = lb_be32(b + 32);
	l1_size = lb_be32(b + 36);
	l1_off = lb_be64(b + 40);
	rt_off = lb_be64(b + 48);
	rt_clusters = lb_be32(b + 56);
	if (version != 2 && version != 3)
		return lb_err(-EBADMSG, "qcow2 header", HINT_DAMAGED,
			      "unsupported version %" PRIu32, version);
	snprintf(out->subformat, sizeof(out->subformat), "v%" PRIu32, version);
	if (version == 3) {
		if (len < 104)
			return lb_err(-EBADMSG, "qcow2 header", HINT_TRUNC,
				      "version 3 header is cut short");
		incompat = lb_be64(b + 72);
	}
	if (cluster_bits < 9)
		return lb_err(-EBADMSG, "qcow2 header", HINT_DAMAGED,
			      "cluster size 2^%" PRIu32 " is below 512 bytes", cluster_bits);
	if (cluster_bits > 21)
		return lb_err(-EOVERFLOW, "qcow2 header", HINT_DAMAGED,
			      "cluster size 2^%" PRIu32 " exceeds 2 MiB", cluster_bits);
	cluster = UINT64_C(1) << cluster_bits;
	if (size > (UINT64_C(1) << 56))
		return lb_err(-EOVERFLOW, "qcow2 header", HINT_DAMAGED,
			      "virtual size %" PRIu64 " is impossibly large", size);
	if (l1_size > QCOW2_MAX_L1_ENTRIES)
		return lb_err(-EOVERFLOW, "qcow2 header", HINT_DAMAGED,
			      "L1 table of %" PRIu32 " entries exceeds %u", l1_size,
			      QCOW2_MAX_L1_ENTRIES);
	out->virtual_size = size;
	out->l1_offset = l1_off;
	out->l1_entries = l1_size;
	out->cluster_bits = cluster_bits;
	/* L1 must be able to map the whole disk, and lie inside the file */
	l2_entries = cluster / 8;
	cover = (uint64_t)l1_size * l2_entries; /* clusters mapped; < 2^32 * 2^18 */
	if (cover < (size + cluster - 1) / cluster)
		return lb_err(-EBADMSG, "qcow2 header", HINT_DAMAGED,
			      "L1 table of %" PRIu32 " entries cannot map a %" PRIu64 "-byte disk",
			      l1_size, size);
	if (l1_size &&
	    (l1_off % cluster || l1_off > file_size || (uint64_t)l1_size * 8 > file_size - l1_off))
		return lb_err(-EBADMSG, "qcow2 header", HINT_TRUNC,
			      "L1 table (%" PRIu64 " bytes at offset %" PRIu64
			      ") lies outside the file (%" PRIu64 " bytes)",
			      (uint64_t)l1_size * 8, l1_off, file_size);
	if (rt_off % cluster || rt_off > file_size ||
	    (uint64_t)rt_clusters * cluster > file_size - rt_off || rt_clusters == 0)
		return lb_err(-EBADMSG, "qcow2 header", HINT_TRUNC,
			      "refcount table (%" PRIu32 " clusters at offset %" PRIu64
			      ") lies outside the file (%" PRIu64 " bytes)",
			      rt_clusters, rt_off, file_size);
	if (bf_off) {
		if (bf_size == 0 || bf_size > 1023 || bf_off > cluster ||
		    bf_size > cluster - bf_off)
			return lb_err(-EBADMSG, "qcow2 header", HINT_DAMAGED,
				      "backing file name (%" PRIu32 " bytes at offset %" PRIu64
				      ") is invalid",
				      bf_size, bf_off);
		if (bf_off + bf_size <= len) {
			memcpy(out->backing_file, b + bf_off, bf_size);
			out->backing_file[bf_size] = '\0';
		}
	}
	if (crypt != 0)
		out->encrypted = true;
	if (incompat & 1)
		out->dirty = true;
	if (incompat & 2)
		return lb_err(-EBADMSG, "qcow2 header",
			      "run 'qemu-img check -r all' on a copy of the image",
			      "qemu marked the image corrupt");
	return 0;
}

int lb_vmdk_header_parse(const uint8_t *b, size_t len, uint64_t file_size,
			 struct lb_image_probe *out)
{
	uint32_t version;
	uint64_t capacity, grain, desc_off, desc_size, gd_off;

	memset(out, 0, sizeof(*out));
	out->format = LB_FMT_VMDK;
	if (len >= 21 && !memcmp(b, "# Disk DescriptorFile", 21)) {
		snprintf(out->subformat, sizeof(out->subformat), "descriptor");
		return 0;
	}
	if (len < 4 || memcmp(b, "KDMV", 4))
		return lb_err(-EMEDIUMTYPE, "VMDK header", NULL, "no VMDK magic at offset 0");
	if (len < 77)
		return lb_err(-EBADMSG, "VMDK header", HINT_TRUNC,
			      "the header is cut short (%zu of 77 bytes)", len);
	version = lb_le32(b + 4);
	capacity = lb_le64(b + 12);
	grain = lb_le64(b + 20);
	desc_off = lb_le64(b + 28);
	desc_size = lb_le64(b + 36);
	gd_off = lb_le64(b + 56);
	if (version < 1 || version > 3)
		return lb_err(-EBADMSG, "VMDK header", HINT_DAMAGED, "unsupported version %" PRIu32,
			      version);
	if (capacity > (UINT64_C(1) << 47))
		return lb_err(-EOVERFLOW, "VMDK header", HINT_DAMAGED,
			      "capacity of %" PRIu64 " sectors is impossibly large", capacity);
	if (grain == 0 || (grain & (grain - 1)))
		return lb_err(-EBADMSG, "VMDK header", HINT_DAMAGED,
			      "grain size of %" PRIu64 " sectors is not a power of two", grain);
	if (grain > 1 << 16)
		return lb_err(-EOVERFLOW, "VMDK header", HINT_DAMAGED,
			      "grain size of %" PRIu64 " sectors exceeds 65536", grain);
	if (desc_off && (desc_off > file_size / 512 || desc_size > file_size / 512 - desc_off))
		return lb_err(-EBADMSG, "VMDK header", HINT_TRUNC,
			      "embedded descriptor lies outside the file");
	if (gd_off != UINT64_MAX && gd_off > file_size / 512)
		return lb_err(-EBADMSG, "VMDK header", HINT_TRUNC,
			      "grain directory at sector %" PRIu64 " lies outside the file",
			      gd_off);
	out->virtual_size = capacity * 512;
	out->dirty = b[72] != 0;
	snprintf(out->subformat, sizeof(out->subformat), "%s",
		 gd_off == UINT64_MAX ? "streamOptimized" : "monolithicSparse");
	return 0;
}

static bool vhdx_header_ok(const uint8_t *h, uint64_t *seq)
{
	uint8_t tmp[4096];
	uint32_t stored;

	if (memcmp(h, "head", 4))
		return false;
	memcpy(tmp, h, sizeof(tmp));
	stored = lb_le32(tmp + 4);
	memset(tmp + 4, 0, 4);
	if (lb_crc32c(0, tmp, sizeof(tmp)) != stored)
		return false;
	if (lb_le16(h + 66) != 1)
		return false;
	*seq = lb_le64(h + 8);
	return true;
}

int lb_vhdx_header_parse(const uint8_t *b, size_t len, uint64_t file_size,
			 struct lb_image_probe *out)
{
	uint64_t s1 = 0, s2 = 0;
	bool ok1, ok2;
	const uint8_t *cur;

	memset(out, 0, sizeof(*out));
	out->format = LB_FMT_VHDX;
	if (len < 8 || memcmp(b, "vhdxfile", 8))
		return lb_err(-EMEDIUMTYPE, "VHDX header", NULL,
			      "no \"vhdxfile\" signature at offset 0");
	if (file_size < (1u << 20) || len < 132 * 1024)
		return lb_err(-EBADMSG, "VHDX header", HINT_TRUNC,
			      "the file (%" PRIu64 " bytes) is too short to hold VHDX headers",
			      file_size);
	ok1 = vhdx_header_ok(b + 64 * 1024, &s1);
	ok2 = vhdx_header_ok(b + 128 * 1024, &s2);
	if (!ok1 && !ok2)
		return lb_err(-EBADMSG, "VHDX header", HINT_DAMAGED,
			      "both headers (at 64 KiB and 128 KiB) fail their CRC-32C");
	cur = (ok1 && (!ok2 || s1 >= s2)) ? b + 64 * 1024 : b + 128 * 1024;
	/* a non-zero log GUID means the log holds writes not yet applied */
	out->dirty = !lb_is_zero(cur + 48, 16);
	if (lb_le64(cur + 72) > file_size || lb_le32(cur + 68) > file_size - lb_le64(cur + 72))
		return lb_err(-EBADMSG, "VHDX header", HINT_TRUNC, "the log lies outside the file");
	return 0;
}

static int probe_vhd(const uint8_t *head, size_t head_len, const uint8_t *tail, uint64_t file_size,
		     struct lb_image_probe *out)
{
	struct lb_vhd_footer f;
	int r;

	memset(out, 0, sizeof(*out));
	out->format = LB_FMT_VHD;
	if (!tail || !lb_vhd_footer_magic(tail)) {
		if (head_len >= 512 && lb_vhd_footer_magic(head))
			return lb_err(-EBADMSG, "VHD footer", HINT_TRUNC,
				      "the footer at the end of the file is missing (only the copy "
				      "at offset 0 is present)");
		return lb_err(-EMEDIUMTYPE, "VHD footer", NULL,
			      "no \"conectix\" footer at the end of the file");
	}
	r = lb_vhd_footer_parse(tail, &f);
	if (r < 0)
		return r;
	r = lb_vhd_footer_check_layout(&f, file_size - 512, file_size);
	if (r < 0)
		return r;
	snprintf(out->subformat, sizeof(out->subformat), "%s", lb_vhd_type_name(f.disk_type));
	out->virtual_size = f.current_size;
	return 0;
}

int lb_image_probe(const uint8_t *head, size_t head_len, const uint8_t *tail, uint64_t file_size,
		   enum lb_image_format want, struct lb_image_probe *out)
{
	enum lb_image_format found = LB_FMT_RAW;

	memset(out, 0, sizeof(*out));
	if (head_len >= 4 && !memcmp(head, qcow2_magic, 4))
		found = LB_FMT_QCOW2;
	else if (head_len >= 8 && !memcmp(head, "vhdxfile", 8))
		found = LB_FMT_VHDX;
	else if (head_len >= 4 && (!memcmp(head, "KDMV", 4) ||
				   (head_len >= 21 && !memcmp(head, "# Disk DescriptorFile", 21))))
		found = LB_FMT_VMDK;
	else if (head_len >= 0x44 && lb_le32(head + 0x40) == 0xbeda107fu)
		found = LB_FMT_VDI;
	else if (tail && lb_vhd_footer_magic(tail))
		found = LB_FMT_VHD;
	else if (head_len >= 512 && lb_vhd_footer_magic(head))
		found = LB_FMT_VHD; /* a dynamic VHD that lost its footer: probe_vhd says so */

	if (want == LB_FMT_NBD) /* not a file format: no content is "nbd" */
		return lb_err(-EMEDIUMTYPE, "image", "give an nbd:// URI instead of a file",
			      "a file cannot hold the NBD format");
	if (want != LB_FMT_AUTO && want != found) {
		if (want == LB_FMT_RAW) {
			out->format = LB_FMT_RAW;
			return 0;
		}
		/* let the named format's parser say precisely what is missing */
		found = want;
	}
	switch (found) {
	case LB_FMT_QCOW2:
		return lb_qcow2_header_parse(head, head_len, file_size, out);
	case LB_FMT_VHDX:
		return lb_vhdx_header_parse(head, head_len, file_size, out);
	case LB_FMT_VMDK:
		return lb_vmdk_header_parse(head, head_len, file_size, out);
	case LB_FMT_VHD:
		return probe_vhd(head, head_len, tail, file_size, out);
	case LB_FMT_VDI:
		out->format = LB_FMT_VDI;
		if (head_len < 0x44 || lb_le32(head + 0x40) != 0xbeda107fu)
			return lb_err(-EMEDIUMTYPE, "VDI header", NULL,
				      "no VDI signature at offset 0x40");
		return 0;
	default:
		out->format = LB_FMT_RAW;
		return 0;
	}
}

#define QCOW2_OFFSET_MASK UINT64_C(0x00fffffffffffe00)
#define QCOW2_COMPRESSED (UINT64_C(1) << 62)

int lb_qcow2_tables_check(const struct lb_image_probe *p, uint64_t file_size,
			  int (*read)(void *ctx, void *buf, size_t len, uint64_t off), void *ctx)
{
	uint64_t cluster = UINT64_C(1) << p->cluster_bits, l2_bytes = 0;
	size_t l1_len = (size_t)p->l1_entries * 8;
	uint8_t *l1 = NULL, *l2 = NULL;
	bool data_too;
	int r = 0;

	if (!p->l1_entries)
		return 0;
	l1 = malloc(l1_len);
	if (!l1)
		return -ENOMEM;
	r = read(ctx, l1, l1_len, p->l1_offset);
	if (r < 0)
		goto out;
	for (uint32_t i = 0; i < p->l1_entries; i++) {
		uint64_t off = lb_be64(l1 + 8 * (size_t)i) & QCOW2_OFFSET_MASK;

		if (!off)
			continue;
		if (off % cluster || off > file_size || cluster > file_size - off) {
			r = lb_err(-EBADMSG, "qcow2 L1 table", HINT_TRUNC,
				   "entry %" PRIu32 " points to an L2 table at offset %" PRIu64
				   ", beyond the end of the file (%" PRIu64 " bytes)",
				   i, off, file_size);
			goto out;
		}
		l2_bytes += cluster;
	}
	/* the data clusters too, while that is cheap (L2 tables of up to 64 MiB in all) */
	data_too = l2_bytes <= LB_QCOW2_CHECK_MAX;
	l2 = data_too ? malloc(cluster) : NULL;
	if (data_too && !l2) {
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; data_too && i < p->l1_entries; i++) {
		uint64_t off = lb_be64(l1 + 8 * (size_t)i) & QCOW2_OFFSET_MASK;

		if (!off)
			continue;
		r = read(ctx, l2, cluster, off);
		if (r < 0)
			goto out;
		for (uint64_t k = 0; k < cluster / 8; k++) {
			uint64_t e = lb_be64(l2 + 8 * k), d = e & QCOW2_OFFSET_MASK;

			if ((e & QCOW2_COMPRESSED) || !d)
				continue;
			if (d > file_size || cluster > file_size - d) {
				r = lb_err(-EBADMSG, "qcow2 L2 table", HINT_TRUNC,
					   "a data cluster at offset %" PRIu64
					   " lies beyond the end of the file (%" PRIu64 " bytes)",
					   d, file_size);
				goto out;
			}
		}
	}
out:
	free(l1);
	free(l2);
	return r;
}
