/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "io/ptable.h"
#include "base/cleanup.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HINT_GPT                                                                                  \
	"the partition table is damaged; repair it with 'sgdisk --verify' / 'gdisk', or restore " \
	"the disk from a backup"
#define HINT_MBR                                                                                 \
	"the partition table is damaged; check it with 'sfdisk -d', or restore the disk from a " \
	"backup"

static int no_memory(const char *what)
{
	return lb_err(-ENOMEM, "partition table", NULL, "out of memory reading %s", what);
}

/* ---- type names ------------------------------------------------------ */

static const struct {
	const char *guid;
	const char *name;
} gpt_types[] = {
	{"C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI system"},
	{"E3C9E316-0B5C-4DB8-817D-F92DF00215AE", "Microsoft reserved"},
	{"EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "Microsoft basic data"},
	{"DE94BBA4-06D1-4D40-A16A-BFD50179D6AC", "Windows recovery"},
	{"5808C8AA-7E8F-42E0-85D2-E1E90434CFB3", "Windows LDM metadata"},
	{"AF9B60A0-1431-4F62-BC68-3311714A69AD", "Windows LDM data"},
	{"E75CAF8F-F680-4CEE-AFA3-B001E56EFC2D", "Windows Storage Spaces"},
	{"0FC63DAF-8483-4772-8E79-3D69D8477DE4", "Linux filesystem"},
	{"4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "Linux root (x86-64)"},
	{"44479540-F297-41B2-9AF7-D131D5F0458A", "Linux root (x86)"},
	{"B921B045-1DF0-41C3-AF44-4C6F280D3FAE", "Linux root (ARM64)"},
	{"933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "Linux home"},
	{"3B8F8425-20E0-4F3B-907F-1A25A76F98E8", "Linux server data"},
	{"BC13C2FF-59E6-4262-A352-B275FD6F7172", "Linux extended boot"},
	{"0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "Linux swap"},
	{"E6D6D379-F507-44C2-A23C-238F2A3DF928", "Linux LVM"},
	{"A19D880F-05FC-4D3B-A006-743F0F84911E", "Linux RAID"},
	{"CA7D7CCB-63ED-4C53-861C-1742536059CC", "Linux LUKS"},
	{"7FFEC5C9-2D00-49B7-8941-3EA10A5586B7", "Linux dm-crypt"},
	{"21686148-6449-6E6F-744E-656564454649", "BIOS boot"},
	{"6A898CC3-1DD2-11B2-99A6-080020736631", "ZFS"},
	{"516E7CB4-6ECF-11D6-8FF8-00022D09712B", "FreeBSD UFS"},
	{"48465300-0000-11AA-AA11-00306543ECAC", "Apple HFS+"},
};

const char *lb_gpt_type_name(const uint8_t guid[16])
{
	char text[37];

	lb_format_guid(guid, text);
	for (size_t i = 0; i < LB_ARRAY_SIZE(gpt_types); i++)
		if (!strcmp(text, gpt_types[i].guid))
			return gpt_types[i].name;
	return "unknown";
}

const char *lb_mbr_type_name(uint8_t type)
{
	switch (type) {
	case 0x01:
		return "FAT12";
	case 0x04:
	case 0x06:
	case 0x0e:
		return "FAT16";
	case 0x05:
	case 0x0f:
	case 0x85:
		return "extended";
	case 0x07:
		return "NTFS/exFAT";
	case 0x0b:
	case 0x0c:
		return "FAT32";
	case 0x11:
	case 0x14:
	case 0x16:
	case 0x1b:
	case 0x1c:
	case 0x1e:
		return "hidden FAT";
	case 0x17:
		return "hidden NTFS";
	case 0x27:
		return "Windows recovery";
	case 0x42:
		return "Windows dynamic (LDM)";
	case 0x82:
		return "Linux swap";
	case 0x83:
		return "Linux";
	case 0x8e:
		return "Linux LVM";
	case 0xa5:
		return "FreeBSD";
	case 0xee:
		return "GPT protective";
	case 0xef:
		return "EFI system";
	case 0xfd:
		return "Linux RAID";
	default:
		return "unknown";
	}
}

const char *lb_ptable_kind_name(enum lb_ptable_kind kind)
{
	switch (kind) {
	case LB_PTABLE_MBR:
		return "mbr";
	case LB_PTABLE_GPT:
		return "gpt";
	default:
		return "none";
	}
}

void lb_ptable_release(struct lb_ptable *pt)
{
	if (!pt)
		return;
	free(pt->parts);
	pt->parts = NULL;
	pt->n = 0;
}

int lb_part_dev_new(struct lb_dev *disk, const struct lb_part *part, struct lb_dev **out)
{
	char name[64];
	int r;

	snprintf(name, sizeof(name), "partition %u", part->number);
	r = lb_slice_dev_new(disk, part->start, part->size, name, out);
	if (r == 0)
		(*out)->sector_size = disk->sector_size;
	return r;
}

static int add_part(struct lb_ptable *pt, unsigned cap, const struct lb_part *p)
{
	if (pt->n >= cap)
		return lb_err(-EOVERFLOW, "partition table", HINT_MBR, "more than %u partitions",
			      cap);
	pt->parts[pt->n++] = *p;
	return 0;
}

static int cmp_start(const void *a, const void *b)
{
	const struct lb_part *const *x = a, *const *y = b;

	if ((*x)->start != (*y)->start)
		return (*x)->start < (*y)->start ? -1 : 1;
	return 0;
}

static int cmp_number(const void *a, const void *b)
{
	const struct lb_part *x = a, *y = b;

	return (x->number > y->number) - (x->number < y->number);
}

/* Every partition inside the disk and none overlapping another. */
static int check_layout(struct lb_ptable *pt, uint64_t disk_size, const char *hint)
{
	_cleanup_free_ struct lb_part **order = NULL;

	for (unsigned i = 0; i < pt->n; i++) {
		const struct lb_part *p = &pt->parts[i];

		if (p->size == 0)
			return lb_err(-ERANGE, "partition table", hint,
				      "partition %u has zero length", p->number);
		if (p->start > disk_size || p->size > disk_size - p->start)
			return lb_err(-ERANGE, "partition table",
				      "the image may be truncated, or the table damaged; restore "
				      "it from a backup",
				      "partition %u (%" PRIu64 " bytes at offset %" PRIu64
				      ") extends beyond the end of the disk (%" PRIu64 " bytes)",
				      p->number, p->size, p->start, disk_size);
	}
	if (pt->n < 2)
		return 0;
	order = calloc(pt->n, sizeof(*order));
	if (!order)
		return no_memory("the partition list");
	for (unsigned i = 0; i < pt->n; i++)
		order[i] = &pt->parts[i];
	qsort(order, pt->n, sizeof(*order), cmp_start);
	for (unsigned i = 1; i < pt->n; i++) {
		const struct lb_part *a = order[i - 1], *b = order[i];

		if (a->start + a->size > b->start)
			return lb_err(-ERANGE, "partition table", hint,
				      "partitions %u and %u overlap (%" PRIu64 "+%" PRIu64
				      " and %" PRIu64 "+%" PRIu64 ")",
				      a->number, b->number, a->start, a->size, b->start, b->size);
	}
	return 0;
}

/* ---- MBR ------------------------------------------------------------- */

static bool is_extended(uint8_t type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

/* A file system boot sector also ends in 0x55AA: do not read it as an MBR. */
static bool looks_like_boot_sector(const uint8_t *s)
{
	return !memcmp(s + 3, "NTFS    ", 8) || !memcmp(s + 3, "-FVE-FS-", 8) ||
	       !memcmp(s + 3, "EXFAT   ", 8) || !memcmp(s + 3, "ReFS", 4) ||
	       !memcmp(s + 0x36, "FAT1", 4) || !memcmp(s + 0x52, "FAT32   ", 8);
}

int lb_mbr_parse(const uint8_t s[512], struct lb_mbr_entry e[4], uint32_t *signature, bool *is_gpt)
{
	*is_gpt = false;
	*signature = 0;
	memset(e, 0, 4 * sizeof(*e));
	if (s[510] != 0x55 || s[511] != 0xaa)
		return -EMEDIUMTYPE;
	if (looks_like_boot_sector(s))
		return -EMEDIUMTYPE;
	*signature = lb_le32(s + 440);
	for (int i = 0; i < 4; i++) {
		const uint8_t *p = s + 446 + 16 * i;

		e[i].status = p[0];
		e[i].type = p[4];
		e[i].lba = lb_le32(p + 8);
		e[i].sectors = lb_le32(p + 12);
		if (e[i].type == 0xee)
			*is_gpt = true;
	}
	for (int i = 0; i < 4; i++) {
		if (e[i].type == 0)
			continue;
		if (e[i].status != 0x00 && e[i].status != 0x80)
			return lb_err(-EBADMSG, "MBR", HINT_MBR,
				      "entry %d has an invalid status byte 0x%02x", i + 1,
				      e[i].status);
	}
	return 0;
}

static int read_ebr_chain(struct lb_dev *disk, struct lb_ptable *pt, unsigned cap, uint64_t ext_lba,
			  uint64_t ext_sectors)
{
	uint64_t visited[LB_MBR_MAX_LOGICAL];
	unsigned nvisited = 0;
	uint64_t ebr = ext_lba; /* absolute LBA of the current EBR */
	unsigned number = 5;
	uint8_t s[512];

	for (;;) {
		struct lb_mbr_entry e[4];
		uint32_t sig;
		bool gpt;
		int r;

		for (unsigned i = 0; i < nvisited; i++)
			if (visited[i] == ebr)
				return lb_err(-EBADMSG, "MBR extended partition", HINT_MBR,
					      "the chain of logical partitions loops back to "
					      "sector %" PRIu64,
					      ebr);
		if (nvisited >= LB_MBR_MAX_LOGICAL)
			return lb_err(-EOVERFLOW, "MBR extended partition", HINT_MBR,
				      "more than %d logical partitions", LB_MBR_MAX_LOGICAL);
		visited[nvisited++] = ebr;
		if (ebr < ext_lba || ebr - ext_lba >= ext_sectors)
			return lb_err(-EBADMSG, "MBR extended partition", HINT_MBR,
				      "a link points to sector %" PRIu64
				      ", outside the extended partition",
				      ebr);
		if (ebr > (disk->size - 512) / 512)
			return lb_err(-ERANGE, "MBR extended partition",
				      "the image may be truncated; restore it from a backup",
				      "a link points to sector %" PRIu64
				      ", beyond the end of the disk",
				      ebr);
		r = lb_dev_pread(disk, s, 512, ebr * 512);
		if (r < 0) {
			lb_err_context("MBR extended partition");
			return r;
		}
		if (s[510] != 0x55 || s[511] != 0xaa)
			return lb_err(-EBADMSG, "MBR extended partition", HINT_MBR,
				      "the boot record at sector %" PRIu64
				      " has no 0x55AA signature",
				      ebr);
		r = lb_mbr_parse(s, e, &sig, &gpt);
		if (r == -EMEDIUMTYPE)
			return lb_err(-EBADMSG, "MBR extended partition", HINT_MBR,
				      "sector %" PRIu64 " is not an extended boot record", ebr);
		if (r < 0)
			return r;
		if (e[0].type != 0 && e[0].sectors != 0) {
			struct lb_part p = {0};
			uint64_t start = ebr + e[0].lba;

			if (start + e[0].sectors > ext_lba + ext_sectors)
				return lb_err(-ERANGE, "MBR extended partition", HINT_MBR,
					      "logical partition %u extends beyond its extended "
					      "partition",
					      number);
			p.number = number++;
			p.start = start * 512;
			p.size = (uint64_t)e[0].sectors * 512;
			p.mbr_type = e[0].type;
			p.bootable = e[0].status == 0x80;
			p.logical = true;
			p.type_name = lb_mbr_type_name(e[0].type);
			r = add_part(pt, cap, &p);
			if (r < 0)
				return r;
		}
		if (!is_extended(e[1].type) || e[1].lba == 0)
			return 0;
		ebr = ext_lba + e[1].lba;
	}
}

static int read_mbr(struct lb_dev *disk, const uint8_t *s, struct lb_ptable *pt)
{
	const unsigned cap = 4 + LB_MBR_MAX_LOGICAL;
	struct lb_mbr_entry e[4];
	bool gpt;
	int r, extended = -1;

	r = lb_mbr_parse(s, e, &pt->mbr_signature, &gpt);
	if (r < 0)
		return r;
	pt->kind = LB_PTABLE_MBR;
	pt->sector_size = 512;
	pt->parts = calloc(cap, sizeof(*pt->parts));
	if (!pt->parts)
		return no_memory("the MBR");
	for (int i = 0; i < 4; i++) {
		struct lb_part p = {0};

		if (e[i].type == 0 || e[i].sectors == 0)
			continue;
		if (is_extended(e[i].type)) {
			if (extended >= 0)
				return lb_err(
					-EBADMSG, "MBR", HINT_MBR,
					"more than one extended partition (entries %d and %d)",
					extended + 1, i + 1);
			extended = i;
		}
		p.number = (unsigned)i + 1;
		p.start = (uint64_t)e[i].lba * 512;
		p.size = (uint64_t)e[i].sectors * 512;
		p.mbr_type = e[i].type;
		p.bootable = e[i].status == 0x80;
		p.type_name = lb_mbr_type_name(e[i].type);
		if (is_extended(e[i].type) &&
		    (p.start > disk->size || p.size > disk->size - p.start))
			return lb_err(-ERANGE, "partition table",
				      "the image may be truncated; restore it from a backup",
				      "extended partition %u extends beyond the end of the disk",
				      p.number);
		r = add_part(pt, cap, &p);
		if (r < 0)
			return r;
	}
	if (extended >= 0) {
		r = read_ebr_chain(disk, pt, cap, e[extended].lba, e[extended].sectors);
		if (r < 0)
			return r;
	}
	/* the extended container overlaps its logicals by design: check without it */
	{
		struct lb_ptable view = *pt;
		_cleanup_free_ struct lb_part *tmp = calloc(pt->n ? pt->n : 1, sizeof(*tmp));
		unsigned k = 0;

		if (!tmp)
			return no_memory("the MBR");
		for (unsigned i = 0; i < pt->n; i++)
			if (!is_extended(pt->parts[i].mbr_type))
				tmp[k++] = pt->parts[i];
		view.parts = tmp;
		view.n = k;
		r = check_layout(&view, disk->size, HINT_MBR);
		if (r < 0)
			return r;
	}
	qsort(pt->parts, pt->n, sizeof(*pt->parts), cmp_number);
	return 0;
}

/* ---- GPT ------------------------------------------------------------- */

struct gpt_header {
	uint64_t my_lba, alt_lba, first_usable, last_usable, entry_lba;
	uint32_t nentries, entry_size, entries_crc;
	uint8_t disk_guid[16];
	uint8_t *entries; /* malloc'ed array, nentries * entry_size bytes */
	int code;	  /* why the header is not valid: -EBADMSG, -EOVERFLOW (a size
			     beyond the caps) or -ERANGE (it describes a larger disk) */
	char why[256];	  /* ... in words */
};

static bool gpt_signature_at(struct lb_dev *disk, uint64_t off)
{
	uint8_t sig[8];

	if (off > disk->size || disk->size - off < 512)
		return false;
	if (lb_dev_pread(disk, sig, 8, off) < 0)
		return false;
	return !memcmp(sig, "EFI PART", 8);
}

static int gpt_invalid(struct gpt_header *h, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Mark @h invalid with a reason; returns 1 (the "invalid" result of gpt_read_header). */
static int gpt_invalid(struct gpt_header *h, int code, const char *fmt, ...)
{
	va_list ap;

	h->code = code;
	va_start(ap, fmt);
	vsnprintf(h->why, sizeof(h->why), fmt, ap);
	va_end(ap);
	return 1;
}

/*
 * Read and fully validate the header at @lba. Returns 0, 1 if invalid (h->why
 * says why, h->code how: see struct gpt_header), or a negative errno (read
 * error, -ENOMEM).
 */
static int gpt_read_header(struct lb_dev *disk, uint32_t ss, uint64_t lba, struct gpt_header *h)
{
	_cleanup_free_ uint8_t *s = NULL;
	uint64_t disk_lbas = disk->size / ss, array_bytes;
	uint32_t hsize, crc, stored;
	int r;

	memset(h, 0, sizeof(*h));
	if (lba >= disk_lbas)
		return gpt_invalid(h, -EBADMSG, "LBA %" PRIu64 " is beyond the end of the disk",
				   lba);
	s = malloc(ss);
	if (!s)
		return no_memory("a GPT header");
	r = lb_dev_pread(disk, s, ss, lba * ss);
	if (r < 0)
		return r;
	if (memcmp(s, "EFI PART", 8))
		return gpt_invalid(h, -EBADMSG, "no \"EFI PART\" signature at LBA %" PRIu64, lba);
	hsize = lb_le32(s + 12);
	if (hsize < 92)
		return gpt_invalid(h, -EBADMSG, "header size %" PRIu32 " is below 92 bytes", hsize);
	if (hsize > ss)
		return gpt_invalid(h, -EOVERFLOW,
				   "header size %" PRIu32 " exceeds the sector size (%" PRIu32 ")",
				   hsize, ss);
	stored = lb_le32(s + 16);
	memset(s + 16, 0, 4);
	crc = lb_crc32(0, s, hsize);
	if (crc != stored)
		return gpt_invalid(h, -EBADMSG,
				   "header CRC32 mismatch at LBA %" PRIu64 " (stored 0x%08" PRIx32
				   ", computed 0x%08" PRIx32 ")",
				   lba, stored, crc);
	h->my_lba = lb_le64(s + 24);
	h->alt_lba = lb_le64(s + 32);
	h->first_usable = lb_le64(s + 40);
	h->last_usable = lb_le64(s + 48);
	memcpy(h->disk_guid, s + 56, 16);
	h->entry_lba = lb_le64(s + 72);
	h->nentries = lb_le32(s + 80);
	h->entry_size = lb_le32(s + 84);
	h->entries_crc = lb_le32(s + 88);
	if (h->my_lba != lba)
		return gpt_invalid(h, -EBADMSG,
				   "header at LBA %" PRIu64 " says it is at LBA %" PRIu64, lba,
				   h->my_lba);
	if (h->alt_lba == lba)
		return gpt_invalid(h, -EBADMSG,
				   "header at LBA %" PRIu64 " names itself as the other header",
				   lba);
	if (h->first_usable > h->last_usable)
		return gpt_invalid(h, -EBADMSG,
				   "usable area %" PRIu64 "..%" PRIu64 " ends before it starts",
				   h->first_usable, h->last_usable);
	if (h->last_usable >= disk_lbas)
		return gpt_invalid(h, -ERANGE,
				   "usable area %" PRIu64 "..%" PRIu64
				   " does not fit the disk (%" PRIu64 " sectors)",
				   h->first_usable, h->last_usable, disk_lbas);
	if (h->entry_size < 128 || (h->entry_size & (h->entry_size - 1)))
		return gpt_invalid(h, -EBADMSG,
				   "entry size %" PRIu32 " is not 128 times a power of two",
				   h->entry_size);
	if (h->entry_size > 4096)
		return gpt_invalid(h, -EOVERFLOW, "entry size %" PRIu32 " exceeds 4096 bytes",
				   h->entry_size);
	if (h->nentries == 0)
		return gpt_invalid(h, -EBADMSG, "the entry count is zero");
	if (h->nentries > LB_GPT_MAX_ENTRIES)
		return gpt_invalid(h, -EOVERFLOW, "entry count %" PRIu32 " exceeds %u", h->nentries,
				   LB_GPT_MAX_ENTRIES);
	array_bytes = (uint64_t)h->nentries * h->entry_size;
	if (array_bytes > LB_GPT_MAX_ARRAY)
		return gpt_invalid(h, -EOVERFLOW,
				   "entry array of %" PRIu64 " bytes exceeds %u bytes", array_bytes,
				   LB_GPT_MAX_ARRAY);
	if (h->entry_lba >= disk_lbas || array_bytes > disk->size - h->entry_lba * ss)
		return gpt_invalid(h, -ERANGE,
				   "entry array at LBA %" PRIu64
				   " extends beyond the end of the disk",
				   h->entry_lba);
	h->entries = malloc(array_bytes);
	if (!h->entries)
		return no_memory("the GPT entry array");
	r = lb_dev_pread(disk, h->entries, array_bytes, h->entry_lba * ss);
	if (r < 0) {
		free(h->entries);
		h->entries = NULL;
		return r;
	}
	crc = lb_crc32(0, h->entries, array_bytes);
	if (crc != h->entries_crc) {
		free(h->entries);
		h->entries = NULL;
		return gpt_invalid(h, -EBADMSG,
				   "entry array CRC32 mismatch (stored 0x%08" PRIx32
				   ", computed 0x%08" PRIx32 ")",
				   h->entries_crc, crc);
	}
	return 0;
}

static int gpt_fill(struct lb_dev *disk, struct lb_ptable *pt, const struct gpt_header *h)
{
	uint32_t ss = pt->sector_size;
	unsigned used = 0;

	for (uint32_t i = 0; i < h->nentries; i++)
		if (!lb_is_zero(h->entries + (size_t)i * h->entry_size, 16))
			used++;
	pt->parts = calloc(used ? used : 1, sizeof(*pt->parts));
	if (!pt->parts)
		return no_memory("the GPT");
	memcpy(pt->disk_guid, h->disk_guid, 16);
	pt->gpt_entries = h->nentries;
	pt->first_usable = h->first_usable * ss;
	pt->last_usable = h->last_usable * ss + ss - 1;
	for (uint32_t i = 0; i < h->nentries; i++) {
		const uint8_t *e = h->entries + (size_t)i * h->entry_size;
		struct lb_part *p;
		uint64_t first, last;

		if (lb_is_zero(e, 16))
			continue;
		first = lb_le64(e + 32);
		last = lb_le64(e + 40);
		if (first > last)
			return lb_err(-ERANGE, "GPT", HINT_GPT,
				      "partition %" PRIu32 " ends (LBA %" PRIu64
				      ") before it starts (LBA %" PRIu64 ")",
				      i + 1, last, first);
		if (first < h->first_usable || last > h->last_usable)
			return lb_err(-ERANGE, "GPT", HINT_GPT,
				      "partition %" PRIu32 " (LBA %" PRIu64 "..%" PRIu64
				      ") lies outside the usable area (LBA %" PRIu64 "..%" PRIu64
				      ")",
				      i + 1, first, last, h->first_usable, h->last_usable);
		p = &pt->parts[pt->n++];
		p->number = i + 1;
		p->start = first * ss;
		p->size = (last - first + 1) * ss;
		memcpy(p->type_guid, e, 16);
		memcpy(p->part_guid, e + 16, 16);
		p->attributes = lb_le64(e + 48);
		lb_utf16le_to_utf8(e + 56, 36, p->name, sizeof(p->name));
		p->type_name = lb_gpt_type_name(p->type_guid);
	}
	return check_layout(pt, disk->size, HINT_GPT);
}

static int read_gpt(struct lb_dev *disk, struct lb_ptable *pt, uint32_t ss, bool have_pmbr)
{
	struct gpt_header primary, backup;
	uint64_t disk_lbas = disk->size / ss, backup_lba;
	int rp, rb, r;

	pt->kind = LB_PTABLE_GPT;
	pt->sector_size = ss;
	disk->sector_size = ss;
	struct lb_error primary_err = {0};

	rp = gpt_read_header(disk, ss, 1, &primary);
	if (rp == -ENOMEM) {
		free(primary.entries);
		lb_err_context("GPT primary header");
		return rp;
	}
	if (rp < 0) {
		/* unreadable: the backup is there for exactly this */
		lb_err_context("GPT primary header");
		lb_err_save(&primary_err);
		free(primary.entries);
		memset(&primary, 0, sizeof(primary));
		primary.code = rp;
		snprintf(primary.why, sizeof(primary.why), "unreadable: %s", primary_err.problem);
		rp = 1;
	}
	backup_lba = rp == 0 && primary.alt_lba < disk_lbas ? primary.alt_lba : disk_lbas - 1;
	rb = gpt_read_header(disk, ss, backup_lba, &backup);
	/* a good primary survives an unreadable backup, but not a lack of memory */
	if (rb < 0 && (rp != 0 || rb == -ENOMEM)) {
		free(primary.entries);
		lb_err_context("GPT backup header");
		return rb;
	}
	if (rb < 0) {
		snprintf(backup.why, sizeof(backup.why), "unreadable");
		rb = 1;
	}
	pt->gpt_primary_ok = rp == 0;
	pt->gpt_backup_ok = rb == 0;
	if (rp != 0 && rb != 0 && primary_err.code) {
		/* the primary could not be read and the backup is no good: the read error */
		free(backup.entries);
		lb_err_restore(&primary_err);
		return primary_err.code;
	}
	if (rp != 0 && rb != 0) {
		/*
		 * A sound primary that describes a larger disk, with no backup
		 * at the end: the image was cut short, and repairing the table
		 * would make things worse. Impossible sizes in both headers:
		 * -EOVERFLOW. Any other damage: -EBADMSG.
		 */
		if (primary.code == -ERANGE)
			r = lb_err(-ERANGE, "GPT",
				   "the image may be truncated; restore it from a backup",
				   "the primary header describes a larger disk: %s; backup: %s",
				   primary.why, backup.why);
		else
			r = lb_err(primary.code == -EOVERFLOW && backup.code == -EOVERFLOW
					   ? -EOVERFLOW
					   : -EBADMSG,
				   "GPT", HINT_GPT,
				   "both headers are damaged: primary: %s; backup: %s", primary.why,
				   backup.why);
		free(primary.entries);
		free(backup.entries);
		return r;
	}
	if (rp == 0) {
		r = gpt_fill(disk, pt, &primary);
		if (rb != 0)
			snprintf(pt->note, sizeof(pt->note),
				 "backup GPT header is damaged (%s)%s; the primary is used",
				 backup.why,
				 primary.alt_lba >= disk_lbas ? "; the image may be truncated"
							      : "");
	} else {
		pt->gpt_used_backup = true;
		r = gpt_fill(disk, pt, &backup);
		snprintf(pt->note, sizeof(pt->note),
			 "primary GPT header is damaged (%s); the backup at LBA %" PRIu64
			 " is used; repair with 'sgdisk -e' or gdisk's recovery menu",
			 primary.why, backup_lba);
	}
	if (r == 0 && !have_pmbr && !pt->note[0])
		snprintf(pt->note, sizeof(pt->note), "the protective MBR is missing");
	free(primary.entries);
	free(backup.entries);
	return r;
}

static int ptable_read(struct lb_dev *disk, struct lb_ptable *pt)
{
	uint8_t s[512];
	struct lb_mbr_entry e[4];
	uint32_t sig;
	bool pmbr = false, gpt512, gpt4096;
	int r;

	if (disk->size < 512)
		return 0;
	r = lb_dev_pread(disk, s, 512, 0);
	if (r < 0) {
		lb_err_context("MBR");
		/* an unreadable protective MBR does not hide a GPT behind it */
		if (r != -ENOMEM && (gpt_signature_at(disk, 512) || gpt_signature_at(disk, 4096))) {
			struct lb_error save;

			lb_err_save(&save);
			r = read_gpt(disk, pt, gpt_signature_at(disk, 512) ? 512 : 4096, false);
			if (r >= 0) {
				size_t n = strlen(pt->note);

				snprintf(pt->note + n, sizeof(pt->note) - n,
					 "%sthe MBR (sector 0) is unreadable: %s", n ? "; " : "",
					 save.problem);
			}
		}
		return r;
	}
	r = lb_mbr_parse(s, e, &sig, &pmbr);
	gpt512 = gpt_signature_at(disk, 512);
	gpt4096 = gpt_signature_at(disk, 4096);
	/* a damaged MBR does not matter when a GPT follows: GPT is authoritative */
	if (r < 0 && r != -EMEDIUMTYPE && !pmbr && !gpt512 && !gpt4096)
		return r;
	if (r == 0 && !pmbr && !gpt512 && !gpt4096)
		return read_mbr(disk, s, pt);
	if (gpt512 || (pmbr && !gpt4096))
		return read_gpt(disk, pt, 512, pmbr);
	if (gpt4096)
		return read_gpt(disk, pt, 4096, pmbr);
	return 0;
}

int lb_ptable_read(struct lb_dev *disk, struct lb_ptable *pt)
{
	int r;

	memset(pt, 0, sizeof(*pt));
	pt->sector_size = 512;
	r = ptable_read(disk, pt);
	if (r < 0) {
		/* nothing half-built is handed back; lb_ptable_release() stays safe */
		lb_ptable_release(pt);
		pt->kind = LB_PTABLE_NONE;
	}
	return r;
}
