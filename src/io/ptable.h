/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ptable.h - partition tables: MBR (with extended/logical partitions) and GPT.
 *
 * lb_ptable_read() finds and validates the table of a disk and returns its
 * partitions in byte units; lb_part_dev_new() turns one into a device (a
 * slice of the disk). Everything read from disk is bounds-checked: entries
 * must lie inside the disk and must not overlap, GPT headers and entry arrays
 * must pass their CRC32s, EBR chains are capped and may not loop.
 *
 * MBR sector (512 bytes, little-endian):
 *   off  size field
 *   440    4  disk signature
 *   446   64  four entries of 16 bytes:
 *               +0 status (0x00, or 0x80 = active)  +1 CHS first (3)
 *               +4 type   +5 CHS last (3)   +8 first LBA (4)   +12 sectors (4)
 *   510    2  0x55 0xAA
 * An extended partition (type 0x05, 0x0F, 0x85) holds a chain of EBRs, each
 * an MBR whose entry 0 is a logical partition (start relative to this EBR)
 * and entry 1 links the next EBR (start relative to the extended partition).
 *
 * GPT header (at LBA 1; the backup at the last LBA), little-endian:
 *   off  size field
 *     0    8  "EFI PART"
 *     8    4  revision (0x00010000)
 *    12    4  header size (92 .. sector size)
 *    16    4  CRC32 of the header (this field taken as zero)
 *    20    4  reserved, zero
 *    24    8  LBA of this header
 *    32    8  LBA of the other header
 *    40    8  first usable LBA
 *    48    8  last usable LBA
 *    56   16  disk GUID
 *    72    8  LBA of the partition entry array
 *    80    4  number of entries
 *    84    4  size of an entry (128 * 2^n)
 *    88    4  CRC32 of the entry array
 * GPT entry:
 *     0   16  type GUID (all zero: unused)     16  16  partition GUID
 *    32    8  first LBA     40  8  last LBA (inclusive)     48  8  attributes
 *    56   72  name, UTF-16LE
 */
#ifndef LB_IO_PTABLE_H
#define LB_IO_PTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "io/dev.h"

#define LB_MBR_MAX_LOGICAL 128
#define LB_GPT_MAX_ENTRIES 4096	    /* entries we accept in a header */
#define LB_GPT_MAX_ARRAY (4u << 20) /* bytes of entry array we read */

enum lb_ptable_kind {
	LB_PTABLE_NONE = 0, /* no partition table: the file system may start at 0 */
	LB_PTABLE_MBR,
	LB_PTABLE_GPT,
};

struct lb_part {
	unsigned number;       /* 1-based: GPT entry index + 1; MBR 1-4 primary, 5+ logical */
	uint64_t start;	       /* bytes from the start of the disk */
	uint64_t size;	       /* bytes */
	const char *type_name; /* "EFI system", "Microsoft basic data", ...; never NULL */
	/* MBR */
	uint8_t mbr_type;
	bool bootable;
	bool logical;
	/* GPT */
	uint8_t type_guid[16];
	uint8_t part_guid[16];
	uint64_t attributes;
	char name[36 * 4 + 1]; /* UTF-8 */
};

struct lb_ptable {
	enum lb_ptable_kind kind;
	uint32_t sector_size;
	uint32_t mbr_signature;
	uint8_t disk_guid[16];
	/* GPT header health; both true for a healthy disk */
	bool gpt_primary_ok;
	bool gpt_backup_ok;
	bool gpt_used_backup;		    /* the partitions came from the backup header */
	uint32_t gpt_entries;		    /* entry slots in the header */
	uint64_t first_usable, last_usable; /* bytes */
	char note[512];			    /* a warning for the user, or "" */
	unsigned n;
	struct lb_part *parts; /* n entries, sorted by number; owned */
};

/*
 * Read the partition table of @disk. Returns 0 with kind NONE if there is
 * none, 0 with the partitions, or: -EBADMSG (both GPT headers damaged, an EBR
 * chain that loops, ...), -EOVERFLOW (impossible sizes), -ERANGE (entries
 * beyond the disk or overlapping), -ENOMEM, or a read error; all recorded.
 * Release with lb_ptable_release().
 */
int lb_ptable_read(struct lb_dev *disk, struct lb_ptable *out);
void lb_ptable_release(struct lb_ptable *pt);

/* Name of a table kind: "none", "mbr", "gpt". */
const char *lb_ptable_kind_name(enum lb_ptable_kind kind);

/* A device for one partition (a slice of @disk named "partition N"). */
int lb_part_dev_new(struct lb_dev *disk, const struct lb_part *part, struct lb_dev **out);

/* Names of known types; "unknown" otherwise. */
const char *lb_gpt_type_name(const uint8_t guid[16]);
const char *lb_mbr_type_name(uint8_t type);

/*
 * Parse the 4 primary entries of an MBR sector without touching a device
 * (used by lb_ptable_read and the fuzzer). Returns 0, -EMEDIUMTYPE if the
 * sector is not an MBR (no 0x55AA, or it is a file system boot sector), or
 * -EBADMSG (an entry with an invalid status byte). @is_gpt is set if an entry
 * has type 0xEE (protective MBR).
 */
struct lb_mbr_entry {
	uint8_t status, type;
	uint32_t lba, sectors;
};
int lb_mbr_parse(const uint8_t sector[512], struct lb_mbr_entry entries[4], uint32_t *signature,
		 bool *is_gpt);

#endif
