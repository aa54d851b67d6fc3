/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/io/ptable.c: MBR (primary, extended, logical), GPT
 * (healthy, damaged primary or backup, impossible sizes, 4096-byte sectors,
 * names and type names), partition devices, and allocation failures.
 *
 * Disks are built in memory by the small builders below: they write the
 * on-disk structures field by field (offsets from ptable.h) and compute the
 * GPT CRC32s, so every test states exactly what is on the disk.
 */
#include "harness.h"

#include "base/cleanup.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/util.h"
#include "io/dev.h"
#include "io/ptable.h"

#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__) || defined(LB_NO_ALLOC_KNOB)
#define HAVE_ALLOC_KNOB 0
#else
#define HAVE_ALLOC_KNOB 1
#endif

#define MIB (1024 * 1024)

/* ---- MBR builder --------------------------------------------------------- */

static void mbr_entry(uint8_t *sector, int i, uint8_t status, uint8_t type, uint32_t lba,
		      uint32_t sectors)
{
	uint8_t *p = sector + 446 + 16 * i;

	memset(p, 0, 16);
	p[0] = status;
	p[4] = type;
	lb_put_le32(p + 8, lba);
	lb_put_le32(p + 12, sectors);
	sector[510] = 0x55;
	sector[511] = 0xaa;
}

/*
 * An EBR at absolute sector @ebr: a logical partition at @ebr + @rel (of
 * @sectors, @type) and a link to the next EBR at @next (relative to the
 * extended partition; 0 ends the chain).
 */
static void ebr_write(uint8_t *disk, uint32_t ebr, uint32_t rel, uint32_t sectors, uint8_t type,
		      uint32_t next)
{
	uint8_t *s = disk + (size_t)ebr * 512;

	memset(s, 0, 512);
	if (sectors)
		mbr_entry(s, 0, 0, type, rel, sectors);
	if (next)
		mbr_entry(s, 1, 0, 0x05, next, 2);
	s[510] = 0x55;
	s[511] = 0xaa;
}

/* ---- GPT builder --------------------------------------------------------- */

struct tgpt {
	uint8_t *disk;
	size_t size;
	uint32_t ss;
	uint32_t nentries, entry_size;
	uint8_t *entries; /* nentries * entry_size */
	uint64_t last_lba, array_sectors, first_usable, last_usable;
};

static void put_guid(uint8_t *p, const char *text)
{
	if (lb_parse_guid(text, p) < 0)
		lb_test_fail(__FILE__, __LINE__, "bad GUID in the test: %s", text);
}

static void tgpt_init(struct tgpt *g, size_t size, uint32_t ss)
{
	memset(g, 0, sizeof(*g));
	g->disk = calloc(1, size);
	g->size = size;
	g->ss = ss;
	g->nentries = 128;
	g->entry_size = 128;
	g->entries = calloc(g->nentries, g->entry_size);
	g->last_lba = size / ss - 1;
	g->array_sectors = ((uint64_t)g->nentries * g->entry_size + ss - 1) / ss;
	g->first_usable = 2 + g->array_sectors;
	g->last_usable = g->last_lba - g->array_sectors - 1;
}

static void tgpt_free(struct tgpt *g)
{
	free(g->disk);
	free(g->entries);
}

/* Entry @idx: @type GUID text, LBAs first..last, an ASCII name. */
static uint8_t *tgpt_part(struct tgpt *g, unsigned idx, const char *type, uint64_t first,
			  uint64_t last, const char *name)
{
	uint8_t *e = g->entries + (size_t)idx * g->entry_size;

	memset(e, 0, g->entry_size);
	put_guid(e, type);
	for (int i = 0; i < 16; i++)
		e[16 + i] = (uint8_t)(0xa0 + idx + i); /* a distinct partition GUID */
	lb_put_le64(e + 32, first);
	lb_put_le64(e + 40, last);
	for (size_t i = 0; name && name[i] && i < 36; i++)
		lb_put_le16(e + 56 + 2 * i, (uint8_t)name[i]);
	return e;
}

static uint8_t *hdr_at(struct tgpt *g, uint64_t lba)
{
	return g->disk + lba * g->ss;
}

/*
 * Recompute the CRC of the header at @lba (after a field was changed). An
 * impossible header size is refused before its CRC is looked at, so the CRC
 * then covers 92 bytes.
 */
static void tgpt_fix_crc(struct tgpt *g, uint64_t lba)
{
	uint8_t *h = hdr_at(g, lba);
	uint32_t hsize = lb_le32(h + 12);

	if (hsize < 92 || hsize > g->ss)
		hsize = 92;
	lb_put_le32(h + 16, 0);
	lb_put_le32(h + 16, lb_crc32(0, h, hsize));
}

static void tgpt_header(struct tgpt *g, uint64_t lba, uint64_t alt, uint64_t entry_lba,
			uint32_t entries_crc)
{
	uint8_t *h = hdr_at(g, lba);

	memset(h, 0, g->ss);
	memcpy(h, "EFI PART", 8);
	lb_put_le32(h + 8, 0x00010000);
	lb_put_le32(h + 12, 92);
	lb_put_le64(h + 24, lba);
	lb_put_le64(h + 32, alt);
	lb_put_le64(h + 40, g->first_usable);
	lb_put_le64(h + 48, g->last_usable);
	put_guid(h + 56, "11223344-5566-7788-99AA-BBCCDDEEFF00");
	lb_put_le64(h + 72, entry_lba);
	lb_put_le32(h + 80, g->nentries);
	lb_put_le32(h + 84, g->entry_size);
	lb_put_le32(h + 88, entries_crc);
	tgpt_fix_crc(g, lba);
}

/* Write the protective MBR, both entry arrays and both headers. */
static void tgpt_commit(struct tgpt *g)
{
	size_t bytes = (size_t)g->nentries * g->entry_size;
	uint64_t backup_array = g->last_lba - g->array_sectors;
	uint32_t crc = lb_crc32(0, g->entries, bytes);
	uint64_t lbas = g->size / g->ss;

	memset(g->disk, 0, 512);
	mbr_entry(g->disk, 0, 0, 0xee, 1,
		  lbas - 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(lbas - 1));
	memcpy(g->disk + 2 * g->ss, g->entries, bytes);
	memcpy(g->disk + backup_array * g->ss, g->entries, bytes);
	tgpt_header(g, 1, g->last_lba, 2, crc);
	tgpt_header(g, g->last_lba, 1, backup_array, crc);
}

static int read_table(void *disk, size_t size, struct lb_ptable *pt)
{
	struct lb_dev *d = lb_mem_dev_new(disk, size, true, "disk");
	int r;

	if (!d)
		return -ENOMEM;
	r = lb_ptable_read(d, pt);
	lb_dev_unref(d);
	return r;
}

#define EFI_SYSTEM "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
#define MS_RESERVED "E3C9E316-0B5C-4DB8-817D-F92DF00215AE"
#define MS_BASIC "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"
#define WIN_RECOVERY "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC"
#define LINUX_FS "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
#define LINUX_SWAP "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"
#define LINUX_LVM "E6D6D379-F507-44C2-A23C-238F2A3DF928"

/* A 1 MiB disk, 512-byte sectors, with a typical Windows + Linux layout (see checks below). */
static void tgpt_typical(struct tgpt *g)
{
	uint8_t *e;

	tgpt_init(g, MIB, 512);
	tgpt_part(g, 0, EFI_SYSTEM, 34, 133, "EFI system partition");
	tgpt_part(g, 1, MS_RESERVED, 134, 233, "Microsoft reserved partition");
	e = tgpt_part(g, 2, MS_BASIC, 234, 533, NULL);
	/* "Données": U+00E9 is two bytes in UTF-8 */
	lb_put_le16(e + 56, 'D');
	lb_put_le16(e + 58, 'o');
	lb_put_le16(e + 60, 'n');
	lb_put_le16(e + 62, 'n');
	lb_put_le16(e + 64, 0x00e9);
	lb_put_le16(e + 66, 'e');
	lb_put_le16(e + 68, 's');
	e = tgpt_part(g, 3, WIN_RECOVERY, 534, 633, "Recovery");
	lb_put_le64(e + 48, 0x8000000000000001ULL);
	/* entry 5 (index 4) is unused: numbers follow entry slots */
	e = tgpt_part(g, 5, LINUX_FS, 634, 1033, "root ");
	/* U+1F4BE as a surrogate pair after "root " */
	lb_put_le16(e + 66, 0xd83d);
	lb_put_le16(e + 68, 0xdcbe);
	tgpt_part(g, 6, LINUX_SWAP, 1034, 1233, "swap");
	tgpt_part(g, 7, LINUX_LVM, 1234, 1833, "lvm");
	tgpt_part(g, 8, "01234567-89AB-CDEF-0123-456789ABCDEF", 1834, g->last_usable, "other");
	tgpt_commit(g);
}

static void check_typical(const struct lb_ptable *pt)
{
	static const struct {
		unsigned number;
		uint64_t first, last;
		const char *type, *name;
	} want[] = {
		{1, 34, 133, "EFI system", "EFI system partition"},
		{2, 134, 233, "Microsoft reserved", "Microsoft reserved partition"},
		{3, 234, 533, "Microsoft basic data",
		 "Donn\xc3\xa9"
		 "es"},
		{4, 534, 633, "Windows recovery", "Recovery"},
		{6, 634, 1033, "Linux filesystem", "root \xf0\x9f\x92\xbe"},
		{7, 1034, 1233, "Linux swap", "swap"},
		{8, 1234, 1833, "Linux LVM", "lvm"},
		{9, 1834, 2014, "unknown", "other"},
	};
	uint8_t guid[16];

	CHECK_INT(pt->kind, LB_PTABLE_GPT);
	CHECK_INT(pt->sector_size, 512);
	CHECK_INT(pt->gpt_entries, 128);
	CHECK_U64(pt->first_usable, 34 * 512);
	CHECK_U64(pt->last_usable, 2015 * 512 - 1);
	put_guid(guid, "11223344-5566-7788-99AA-BBCCDDEEFF00");
	CHECK(memcmp(pt->disk_guid, guid, 16) == 0);
	CHECK_INT(pt->n, LB_ARRAY_SIZE(want));
	for (unsigned i = 0; i < pt->n && i < LB_ARRAY_SIZE(want); i++) {
		const struct lb_part *p = &pt->parts[i];

		CHECK_INT(p->number, want[i].number);
		CHECK_U64(p->start, want[i].first * 512);
		CHECK_U64(p->size, (want[i].last - want[i].first + 1) * 512);
		CHECK_STR(p->type_name, want[i].type);
		CHECK_STR(p->name, want[i].name);
		CHECK(!p->logical);
	}
	if (pt->n >= 4) {
		CHECK_U64(pt->parts[3].attributes, 0x8000000000000001ULL);
		CHECK_INT(pt->parts[3].part_guid[0], 0xa0 + 3);
	}
}

/* ---- MBR tests ------------------------------------------------------------ */

/*
 * 1 MiB disk: 1 = Linux 63+100 (active), 2 = extended 200+1000 holding
 * EBRs at 200 and 500: 5 = NTFS 202+100, 6 = swap 502+150.
 */
static uint8_t *mbr_with_logicals(void)
{
	uint8_t *d = calloc(1, MIB);

	mbr_entry(d, 0, 0x80, 0x83, 63, 100);
	mbr_entry(d, 1, 0x00, 0x0f, 200, 1000);
	lb_put_le32(d + 440, 0xdeadbeef);
	ebr_write(d, 200, 2, 100, 0x07, 300);
	ebr_write(d, 500, 2, 150, 0x82, 0);
	return d;
}

static void test_mbr_logicals(void)
{
	uint8_t *d = mbr_with_logicals();
	struct lb_ptable pt;

	CHECK_INT(read_table(d, MIB, &pt), 0);
	CHECK_INT(pt.kind, LB_PTABLE_MBR);
	CHECK_STR(lb_ptable_kind_name(pt.kind), "mbr");
	CHECK_U64(pt.mbr_signature, 0xdeadbeef);
	CHECK_INT(pt.n, 4);
	if (pt.n == 4) {
		CHECK_INT(pt.parts[0].number, 1);
		CHECK(pt.parts[0].bootable);
		CHECK_U64(pt.parts[0].start, 63 * 512);
		CHECK_U64(pt.parts[0].size, 100 * 512);
		CHECK_STR(pt.parts[0].type_name, "Linux");
		CHECK_INT(pt.parts[1].number, 2);
		CHECK_STR(pt.parts[1].type_name, "extended");
		CHECK_INT(pt.parts[2].number, 5);
		CHECK(pt.parts[2].logical);
		CHECK(!pt.parts[2].bootable);
		CHECK_U64(pt.parts[2].start, 202 * 512);
		CHECK_U64(pt.parts[2].size, 100 * 512);
		CHECK_INT(pt.parts[2].mbr_type, 0x07);
		CHECK_STR(pt.parts[2].type_name, "NTFS/exFAT");
		CHECK_INT(pt.parts[3].number, 6);
		CHECK(pt.parts[3].logical);
		CHECK_U64(pt.parts[3].start, 502 * 512);
		CHECK_U64(pt.parts[3].size, 150 * 512);
		CHECK_STR(pt.parts[3].type_name, "Linux swap");
	}
	lb_ptable_release(&pt);
	CHECK(pt.parts == NULL);
	free(d);
}

static void test_mbr_ebr_loop(void)
{
	uint8_t *d = mbr_with_logicals();
	struct lb_ptable pt;

	/* the second EBR links back to itself */
	ebr_write(d, 500, 2, 150, 0x82, 300);
	CHECK_INT(read_table(d, MIB, &pt), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "loops");
	CHECK(pt.parts == NULL);
	CHECK_INT(pt.n, 0);
	lb_ptable_release(&pt);

	/* a longer cycle: 200 -> 500 -> 700 -> 500 */
	ebr_write(d, 500, 2, 150, 0x82, 500);
	ebr_write(d, 700, 2, 50, 0x83, 300);
	CHECK_INT(read_table(d, MIB, &pt), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "loops back to sector 500");
	lb_ptable_release(&pt);
	free(d);
}

/* An extended partition at 100 holding @n EBRs (every other sector) with one-sector logicals. */
static uint8_t *mbr_long_chain(unsigned n)
{
	uint8_t *d = calloc(1, MIB);

	mbr_entry(d, 0, 0, 0x05, 100, 2 * n + 2);
	for (unsigned i = 0; i < n; i++)
		ebr_write(d, 100 + 2 * i, 1, 1, 0x83, i + 1 < n ? 2 * (i + 1) : 0);
	return d;
}

static void test_mbr_ebr_chain_cap(void)
{
	uint8_t *d = mbr_long_chain(LB_MBR_MAX_LOGICAL);
	struct lb_ptable pt;

	CHECK_INT(read_table(d, MIB, &pt), 0);
	CHECK_INT(pt.n, 1 + LB_MBR_MAX_LOGICAL);
	if (pt.n == 1 + LB_MBR_MAX_LOGICAL) {
		CHECK_INT(pt.parts[pt.n - 1].number, 4 + LB_MBR_MAX_LOGICAL);
		CHECK_U64(pt.parts[pt.n - 1].start, (100 + 2 * (LB_MBR_MAX_LOGICAL - 1) + 1) * 512);
	}
	lb_ptable_release(&pt);
	free(d);

	d = mbr_long_chain(LB_MBR_MAX_LOGICAL + 1);
	CHECK_INT(read_table(d, MIB, &pt), -EOVERFLOW);
	CHECK_CONTAINS(lb_err_last()->problem, "more than 128 logical partitions");
	CHECK(pt.parts == NULL);
	lb_ptable_release(&pt);
	free(d);
}

static void test_mbr_beyond_disk(void)
{
	uint8_t *d = calloc(1, MIB);
	struct lb_ptable pt;

	/* a primary partition running past the end (2048 sectors) */
	mbr_entry(d, 0, 0, 0x83, 2000, 49);
	CHECK_INT(read_table(d, MIB, &pt), -ERANGE);
	CHECK_CONTAINS(lb_err_last()->problem, "beyond the end of the disk");
	lb_ptable_release(&pt);
	/* ending exactly at the end is fine */
	mbr_entry(d, 0, 0, 0x83, 2000, 48);
	CHECK_INT(read_table(d, MIB, &pt), 0);
	CHECK_INT(pt.n, 1);
	lb_ptable_release(&pt);
	/* an LBA near 2^32 does not wrap around */
	mbr_entry(d, 0, 0, 0x83, 0xffffffffu, 0xffffffffu);
	CHECK_INT(read_table(d, MIB, &pt), -ERANGE);
	lb_ptable_release(&pt);
	/* an extended partition past the end */
	mbr_entry(d, 0, 0, 0x0f, 1000, 2000);
	CHECK_INT(read_table(d, MIB, &pt), -ERANGE);
	lb_ptable_release(&pt);
	free(d);

	/* a logical partition running past its extended partition */
	d = mbr_with_logicals();
	ebr_write(d, 500, 2, 800, 0x82, 0);
	CHECK_INT(read_table(d, MIB, &pt), -ERANGE);
	CHECK_CONTAINS(lb_err_last()->problem, "beyond its extended partition");
	lb_ptable_release(&pt);
	/* an EBR link outside the extended partition */
	ebr_write(d, 500, 2, 150, 0x82, 5000);
	CHECK_INT(read_table(d, MIB, &pt), -EBADMSG);
	lb_ptable_release(&pt);
	free(d);
}

static void test_mbr_overlap(void)
{
	uint8_t *d = calloc(1, MIB);
	struct lb_ptable pt;

	mbr_entry(d, 0, 0, 0x83, 100, 200);
	mbr_entry(d, 1, 0, 0x07, 299, 100);
	CHECK_INT(read_table(d, MIB, &pt), -ERANGE);
	CHECK_CONTAINS(lb_err_last()->problem, "partitions 1 and 2 overlap");
	CHECK(pt.parts == NULL);
	lb_ptable_release(&pt);
	/* adjacent is fine */
	mbr_entry(d, 1, 0, 0x07, 300, 100);
	CHECK_INT(read_table(d, MIB, &pt), 0);
	CHECK_INT(pt.n, 2);
	lb_ptable_release(&pt);
	free(d);

	/* a logical overlapping a primary */
	d = mbr_with_logicals();
	mbr_entry(d, 2, 0, 0x83, 510, 10);
	CHECK_INT(read_table(d, MIB, &pt), -ERANGE);
	CHECK_CONTAINS(lb_err_last()->problem, "overlap");
	lb_ptable_release(&pt);
	free(d);
}

static void test_mbr_malformed(void)
{
	uint8_t s[512] = {0};
	struct lb_mbr_entry e[4];
	uint32_t sig;
	bool gpt;
	uint8_t *d;
	struct lb_ptable pt;

	/* no 0x55AA */
	CHECK_INT(lb_mbr_parse(s, e, &sig, &gpt), -EMEDIUMTYPE);
	/* an NTFS boot sector is not an MBR */
	memcpy(s + 3, "NTFS    ", 8);
	s[510] = 0x55;
	s[511] = 0xaa;
	CHECK_INT(lb_mbr_parse(s, e, &sig, &gpt), -EMEDIUMTYPE);
	memset(s + 3, 0, 8);
	/* a FAT32 boot sector neither */
	memcpy(s + 0x52, "FAT32   ", 8);
	CHECK_INT(lb_mbr_parse(s, e, &sig, &gpt), -EMEDIUMTYPE);
	memset(s + 0x52, 0, 8);
	/* an invalid status byte */
	mbr_entry(s, 2, 0x12, 0x83, 10, 10);
	CHECK_INT(lb_mbr_parse(s, e, &sig, &gpt), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "entry 3 has an invalid status byte 0x12");
	/* ... ignored in an unused entry */
	mbr_entry(s, 2, 0x12, 0x00, 0, 0);
	CHECK_INT(lb_mbr_parse(s, e, &sig, &gpt), 0);
	CHECK(!gpt);
	mbr_entry(s, 0, 0x00, 0xee, 1, 100);
	lb_put_le32(s + 440, 0x01020304);
	CHECK_INT(lb_mbr_parse(s, e, &sig, &gpt), 0);
	CHECK(gpt);
	CHECK_U64(sig, 0x01020304);
	CHECK_INT(e[0].type, 0xee);
	CHECK_U64(e[0].lba, 1);
	CHECK_U64(e[0].sectors, 100);

	/* two extended partitions */
	d = calloc(1, MIB);
	mbr_entry(d, 0, 0, 0x05, 100, 100);
	mbr_entry(d, 1, 0, 0x0f, 300, 100);
	ebr_write(d, 100, 1, 10, 0x83, 0);
	ebr_write(d, 300, 1, 10, 0x83, 0);
	CHECK_INT(read_table(d, MIB, &pt), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "more than one extended partition");
	lb_ptable_release(&pt);
	/* an EBR without its signature */
	mbr_entry(d, 1, 0, 0, 0, 0);
	d[100 * 512 + 511] = 0;
	CHECK_INT(read_table(d, MIB, &pt), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "no 0x55AA");
	lb_ptable_release(&pt);
	free(d);
}

static void test_no_table(void)
{
	uint8_t *d = calloc(1, MIB);
	struct lb_ptable pt;

	CHECK_INT(read_table(d, MIB, &pt), 0);
	CHECK_INT(pt.kind, LB_PTABLE_NONE);
	CHECK_STR(lb_ptable_kind_name(pt.kind), "none");
	CHECK_INT(pt.n, 0);
	lb_ptable_release(&pt);
	/* shorter than a sector */
	CHECK_INT(read_table(d, 100, &pt), 0);
	CHECK_INT(pt.kind, LB_PTABLE_NONE);
	/* an unpartitioned NTFS volume */
	memcpy(d + 3, "NTFS    ", 8);
	d[510] = 0x55;
	d[511] = 0xaa;
	CHECK_INT(read_table(d, MIB, &pt), 0);
	CHECK_INT(pt.kind, LB_PTABLE_NONE);
	lb_ptable_release(&pt);
	free(d);
}

/* ---- GPT tests ------------------------------------------------------------ */

static void test_gpt_healthy(void)
{
	struct tgpt g;
	struct lb_ptable pt;

	tgpt_typical(&g);
	CHECK_INT(read_table(g.disk, g.size, &pt), 0);
	check_typical(&pt);
	CHECK_STR(lb_ptable_kind_name(pt.kind), "gpt");
	CHECK(pt.gpt_primary_ok);
	CHECK(pt.gpt_backup_ok);
	CHECK(!pt.gpt_used_backup);
	CHECK_STR(pt.note, "");
	lb_ptable_release(&pt);

	/* without the protective MBR the GPT is still found, with a note */
	memset(g.disk, 0, 512);
	CHECK_INT(read_table(g.disk, g.size, &pt), 0);
	check_typical(&pt);
	CHECK_CONTAINS(pt.note, "protective MBR is missing");
	lb_ptable_release(&pt);

	/* a protective MBR with a garbage status byte does not hide the GPT */
	tgpt_commit(&g);
	g.disk[446] = 0x42;
	CHECK_INT(read_table(g.disk, g.size, &pt), 0);
	check_typical(&pt);
	lb_ptable_release(&pt);
	tgpt_free(&g);
}

static void test_gpt_primary_header_damaged(void)
{
	struct tgpt g;
	struct lb_ptable pt;

	tgpt_typical(&g);
	hdr_at(&g, 1)[60] ^= 0x01; /* a disk GUID byte: the header CRC no longer matches */
	CHECK_INT(read_table(g.disk, g.size, &pt), 0);
	check_typical(&pt); /* the backup's copy of the same table */
	CHECK(!pt.gpt_primary_ok);
	CHECK(pt.gpt_backup_ok);
	CHECK(pt.gpt_used_backup);
	CHECK_CONTAINS(pt.note, "primary GPT header is damaged (header CRC32 mismatch at LBA 1");
	CHECK_CONTAINS(pt.note, "backup at LBA 2047 is used");
	lb_ptable_release(&pt);

	/* the primary is gone altogether */
	memset(hdr_at(&g, 1), 0, 512);
	CHECK_INT(read_table(g.disk, g.size, &pt), 0);
	check_typical(&pt);
	CHECK(pt.gpt_used_backup);
	CHECK_CONTAINS(pt.note, "no \"EFI PART\" signature at LBA 1");
	lb_ptable_release(&pt);
	tgpt_free(&g);
}

static void test_gpt_primary_entries_damaged(void)
{
	struct tgpt g;
	struct lb_ptable pt;

	tgpt_typical(&g);
	g.disk[2 * 512 + 40] ^= 0x80; /* entry 1's last LBA, in the primary array only */
	CHECK_INT(read_table(g.disk, g.size, &pt), 0);
	check_typical(&pt);
	CHECK(!pt.gpt_primary_ok);
	CHECK(pt.gpt_backup_ok);
	CHECK(pt.gpt_used_backup);
	CHECK_CONTAINS(pt.note, "entry array CRC32 mismatch");
	lb_ptable_release(&pt);
	tgpt_free(&g);
}

static void test_gpt_backup_damaged(void)
{
	struct tgpt g;
	struct lb_ptable pt;

	tgpt_typical(&g);
	hdr_at(&g, g.last_lba)[0] = 'X';
	CHECK_INT(read_table(g.disk, g.size, &pt), 0);
	check_typical(&pt);
	CHECK(pt.gpt_primary_ok);
	CHECK(!pt.gpt_backup_ok);
	CHECK(!pt.gpt_used_backup);
	CHECK_CONTAINS(pt.note, "backup GPT header is damaged");
	lb_ptable_release(&pt);

	/* a primary that names itself as the backup is not trusted for that */
	tgpt_commit(&g);
	lb_put_le64(hdr_at(&g, 1) + 32, 1);
	tgpt_fix_crc(&g, 1);
	CHECK_INT(read_table(g.disk, g.size, &pt), 0);
	CHECK(!pt.gpt_primary_ok);
	CHECK(pt.gpt_used_backup);
	CHECK_CONTAINS(pt.note, "names itself as the other header");
	lb_ptable_release(&pt);
	tgpt_free(&g);
}

static void test_gpt_both_damaged(void)
{
	struct tgpt g;
	struct lb_ptable pt;

	tgpt_typical(&g);
	hdr_at(&g, 1)[60] ^= 0x01;
	g.disk[(g.last_lba - g.array_sectors) * 512 + 100] ^= 0x01; /* backup array */
	CHECK_INT(read_table(g.disk, g.size, &pt), -EBADMSG);
	CHECK_INT(lb_err_last()->code, -EBADMSG);
	CHECK_STR(lb_err_last()->object, "GPT");
	CHECK_CONTAINS(lb_err_last()->problem, "both headers are damaged");
	CHECK_CONTAINS(lb_err_last()->problem, "entry array CRC32 mismatch");
	CHECK(pt.parts == NULL);
	CHECK_INT(pt.n, 0);
	lb_ptable_release(&pt);
	tgpt_free(&g);
}

/* Set a 32-bit header field in one or both headers and fix their CRCs. */
static void set_hdr32(struct tgpt *g, bool both, size_t off, uint32_t v)
{
	tgpt_commit(g);
	lb_put_le32(hdr_at(g, 1) + off, v);
	tgpt_fix_crc(g, 1);
	if (both) {
		lb_put_le32(hdr_at(g, g->last_lba) + off, v);
		tgpt_fix_crc(g, g->last_lba);
	}
}

static void test_gpt_impossible_sizes(void)
{
	static const struct {
		size_t off;
		uint32_t value;
		int err;
		const char *why;
	} cases[] = {
		{12, 91, -EBADMSG, "header size 91 is below 92"},
		{12, 513, -EOVERFLOW, "header size 513 exceeds the sector size"},
		{12, 0xffffffffu, -EOVERFLOW, "header size 4294967295"},
		{84, 0, -EBADMSG, "entry size 0"},
		{84, 129, -EBADMSG, "entry size 129"},
		{84, 64, -EBADMSG, "entry size 64"},
		{84, 8192, -EOVERFLOW, "entry size 8192 exceeds 4096"},
		{84, 0x80000000u, -EOVERFLOW, "entry size 2147483648"},
		{80, 0, -EBADMSG, "entry count is zero"},
		{80, LB_GPT_MAX_ENTRIES + 1, -EOVERFLOW, "entry count 4097 exceeds 4096"},
		{80, 0xffffffffu, -EOVERFLOW, "entry count 4294967295"},
	};
	struct tgpt g;
	struct lb_ptable pt;

	tgpt_typical(&g);
	for (size_t i = 0; i < LB_ARRAY_SIZE(cases); i++) {
		/* in the primary only: the backup takes over */
		set_hdr32(&g, false, cases[i].off, cases[i].value);
		CHECK_INT(read_table(g.disk, g.size, &pt), 0);
		check_typical(&pt);
		CHECK(pt.gpt_used_backup);
		CHECK_CONTAINS(pt.note, cases[i].why);
		lb_ptable_release(&pt);
		/* in both */
		set_hdr32(&g, true, cases[i].off, cases[i].value);
		CHECK_INT(read_table(g.disk, g.size, &pt), cases[i].err);
		CHECK_CONTAINS(lb_err_last()->problem, cases[i].why);
		CHECK(pt.parts == NULL);
		lb_ptable_release(&pt);
	}
	/* entries within the caps but an array over 4 MiB */
	set_hdr32(&g, true, 80, 2048);
	lb_put_le32(hdr_at(&g, 1) + 84, 4096);
	tgpt_fix_crc(&g, 1);
	lb_put_le32(hdr_at(&g, g.last_lba) + 84, 4096);
	tgpt_fix_crc(&g, g.last_lba);
	CHECK_INT(read_table(g.disk, g.size, &pt), -EOVERFLOW);
	CHECK_CONTAINS(lb_err_last()->problem, "entry array of 8388608 bytes exceeds");
	lb_ptable_release(&pt);
	/* one header impossible, the other damaged otherwise: -EBADMSG */
	set_hdr32(&g, false, 80, 0xffffffffu);
	hdr_at(&g, g.last_lba)[0] = 0;
	CHECK_INT(read_table(g.disk, g.size, &pt), -EBADMSG);
	lb_ptable_release(&pt);
	tgpt_free(&g);
}

static void test_gpt_bad_entries(void)
{
	struct tgpt g;
	struct lb_ptable pt;

	/* overlapping partitions */
	tgpt_typical(&g);
	tgpt_part(&g, 10, LINUX_FS, 500, 700, "overlap");
	tgpt_commit(&g);
	CHECK_INT(read_table(g.disk, g.size, &pt), -ERANGE);
	CHECK_CONTAINS(lb_err_last()->problem, "partitions 3 and 11 overlap");
	CHECK(pt.parts == NULL);
	lb_ptable_release(&pt);
	tgpt_free(&g);

	/* past the last usable LBA, and past the disk */
	tgpt_typical(&g);
	tgpt_part(&g, 8, LINUX_FS, 1834, g.last_usable + 1, "x");
	tgpt_commit(&g);
	CHECK_INT(read_table(g.disk, g.size, &pt), -ERANGE);
	CHECK_CONTAINS(lb_err_last()->problem, "partition 9 (LBA 1834..2015) lies outside");
	lb_ptable_release(&pt);
	tgpt_part(&g, 8, LINUX_FS, 1834, UINT64_MAX, "x");
	tgpt_commit(&g);
	CHECK_INT(read_table(g.disk, g.size, &pt), -ERANGE);
	lb_ptable_release(&pt);
	/* before the first usable LBA */
	tgpt_part(&g, 8, LINUX_FS, 33, 33, "x");
	tgpt_commit(&g);
	CHECK_INT(read_table(g.disk, g.size, &pt), -ERANGE);
	lb_ptable_release(&pt);
	/* ending before it starts */
	tgpt_part(&g, 8, LINUX_FS, 1900, 1899, "x");
	tgpt_commit(&g);
	CHECK_INT(read_table(g.disk, g.size, &pt), -ERANGE);
	CHECK_CONTAINS(lb_err_last()->problem, "ends (LBA 1899) before it starts (LBA 1900)");
	lb_ptable_release(&pt);
	tgpt_free(&g);
}

static void test_gpt_truncated(void)
{
	struct tgpt g;
	struct lb_ptable pt;

	/* cut in the backup area: the primary is used, with a note */
	tgpt_typical(&g);
	CHECK_INT(read_table(g.disk, g.size - 16 * 512, &pt), 0);
	check_typical(&pt);
	CHECK(!pt.gpt_backup_ok);
	CHECK_CONTAINS(pt.note, "the image may be truncated");
	lb_ptable_release(&pt);
	/* cut into the partitions: -ERANGE with a truncation hint, not "repair the table" */
	CHECK_INT(read_table(g.disk, g.size / 2, &pt), -ERANGE);
	CHECK_CONTAINS(lb_err_last()->problem, "describes a larger disk");
	CHECK_CONTAINS(lb_err_last()->hint, "truncated");
	lb_ptable_release(&pt);
	tgpt_free(&g);
}

static void test_gpt_4k_sectors(void)
{
	struct tgpt g;
	struct lb_ptable pt;
	struct lb_dev *d, *p;
	uint8_t buf[8];

	tgpt_init(&g, MIB, 4096); /* 256 sectors: entries at 2..5, usable 6..250 */
	CHECK_U64(g.first_usable, 6);
	CHECK_U64(g.last_usable, 250);
	tgpt_part(&g, 0, EFI_SYSTEM, 6, 69, "ESP");
	tgpt_part(&g, 1, MS_BASIC, 70, 250, "data");
	tgpt_commit(&g);
	memcpy(g.disk + 70 * 4096, "PART2...", 8);
	d = lb_mem_dev_new(g.disk, g.size, true, "disk");
	CHECK_INT(lb_ptable_read(d, &pt), 0);
	CHECK_INT(pt.kind, LB_PTABLE_GPT);
	CHECK_INT(pt.sector_size, 4096);
	CHECK_INT(d->sector_size, 4096);
	CHECK(pt.gpt_primary_ok && pt.gpt_backup_ok);
	CHECK_U64(pt.first_usable, 6 * 4096);
	CHECK_U64(pt.last_usable, 251 * 4096 - 1);
	CHECK_INT(pt.n, 2);
	if (pt.n == 2) {
		CHECK_U64(pt.parts[0].start, 6 * 4096);
		CHECK_U64(pt.parts[0].size, 64 * 4096);
		CHECK_STR(pt.parts[0].name, "ESP");
		CHECK_U64(pt.parts[1].start, 70 * 4096);
		CHECK_U64(pt.parts[1].size, 181 * 4096);
		CHECK_INT(lb_part_dev_new(d, &pt.parts[1], &p), 0);
		CHECK_INT(p->sector_size, 4096);
		CHECK_INT(lb_dev_pread(p, buf, 8, 0), 0);
		CHECK(memcmp(buf, "PART2...", 8) == 0);
		lb_dev_unref(p);
	}
	lb_ptable_release(&pt);
	/* the primary damaged: the backup at the last 4 KiB sector */
	hdr_at(&g, 1)[40] ^= 1;
	CHECK_INT(lb_ptable_read(d, &pt), 0);
	CHECK(pt.gpt_used_backup);
	CHECK_INT(pt.n, 2);
	CHECK_CONTAINS(pt.note, "backup at LBA 255");
	lb_ptable_release(&pt);
	lb_dev_unref(d);
	tgpt_free(&g);
}

static void test_type_names(void)
{
	static const struct {
		const char *guid, *name;
	} gpt[] = {
		{EFI_SYSTEM, "EFI system"},
		{MS_RESERVED, "Microsoft reserved"},
		{MS_BASIC, "Microsoft basic data"},
		{WIN_RECOVERY, "Windows recovery"},
		{LINUX_FS, "Linux filesystem"},
		{LINUX_SWAP, "Linux swap"},
		{LINUX_LVM, "Linux LVM"},
		{"00000000-0000-0000-0000-000000000001", "unknown"},
	};
	uint8_t g[16];

	for (size_t i = 0; i < LB_ARRAY_SIZE(gpt); i++) {
		put_guid(g, gpt[i].guid);
		CHECK_STR(lb_gpt_type_name(g), gpt[i].name);
	}
	CHECK_STR(lb_mbr_type_name(0x07), "NTFS/exFAT");
	CHECK_STR(lb_mbr_type_name(0x0c), "FAT32");
	CHECK_STR(lb_mbr_type_name(0x83), "Linux");
	CHECK_STR(lb_mbr_type_name(0x8e), "Linux LVM");
	CHECK_STR(lb_mbr_type_name(0xee), "GPT protective");
	CHECK_STR(lb_mbr_type_name(0xef), "EFI system");
	CHECK_STR(lb_mbr_type_name(0x27), "Windows recovery");
	CHECK_STR(lb_mbr_type_name(0x99), "unknown");
}

static void test_part_dev_clamps(void)
{
	uint8_t *d = mbr_with_logicals();
	struct lb_dev *disk = lb_mem_dev_new(d, MIB, false, "disk");
	struct lb_ptable pt;
	struct lb_dev *p;
	uint8_t buf[1024];

	CHECK_INT(lb_ptable_read(disk, &pt), 0);
	CHECK_INT(pt.n, 4);
	CHECK_INT(lb_part_dev_new(disk, &pt.parts[2], &p), 0); /* 5: 202+100 sectors */
	CHECK_STR(p->name, "partition 5");
	CHECK_U64(p->size, 100 * 512);
	CHECK(p->lower == disk);
	CHECK_INT(disk->refs, 2);
	/* the partition's byte 0 is the disk's byte 202*512 */
	memcpy(d + 202 * 512, "first", 5);
	memcpy(d + 302 * 512 - 4, "last", 4);
	CHECK_INT(lb_dev_pread(p, buf, 5, 0), 0);
	CHECK(memcmp(buf, "first", 5) == 0);
	CHECK_INT(lb_dev_pread(p, buf, 4, 100 * 512 - 4), 0);
	CHECK(memcmp(buf, "last", 4) == 0);
	/* nothing past its end, even one byte, even if the disk goes on */
	CHECK_INT(lb_dev_pread(p, buf, 5, 100 * 512 - 4), -EINVAL);
	CHECK_INT(lb_dev_pread(p, buf, 1, 100 * 512), -EINVAL);
	CHECK_INT(lb_dev_pread(p, buf, 1, UINT64_MAX), -EINVAL);
	memset(buf, 'w', sizeof(buf));
	CHECK_INT(lb_dev_pwrite(p, buf, 512, 100 * 512 - 256), -EINVAL);
	CHECK_INT(d[302 * 512], 0); /* the next sector is untouched */
	CHECK_INT(lb_dev_pwrite(p, buf, 2, 0), 0);
	CHECK(memcmp(d + 202 * 512, "ww", 2) == 0);
	lb_dev_unref(p);
	CHECK_INT(disk->refs, 1);
	lb_ptable_release(&pt);
	lb_dev_unref(disk);

	/* over a read-only disk the partition is read-only */
	disk = lb_mem_dev_new(d, MIB, true, "disk");
	CHECK_INT(lb_ptable_read(disk, &pt), 0);
	CHECK_INT(lb_part_dev_new(disk, &pt.parts[0], &p), 0);
	CHECK(p->read_only);
	CHECK_INT(lb_dev_pwrite(p, buf, 1, 0), -EROFS);
	lb_dev_unref(p);
	/* a partition that does not fit the disk is refused */
	pt.parts[0].size = MIB;
	CHECK_INT(lb_part_dev_new(disk, &pt.parts[0], &p), -EINVAL);
	lb_ptable_release(&pt);
	lb_dev_unref(disk);
	free(d);
}

/*
 * Fail each allocation lb_ptable_read() makes, one at a time: every failure
 * must return -ENOMEM with nothing handed back (valgrind checks for leaks),
 * or be absorbed by libc (qsort falls back to an in-place sort) with the same
 * result as without the failure.
 */
static __attribute__((unused)) bool alloc_knob_works(void)
{
	struct lb_dev *d;

	/* an allocation in the library (another object file: not optimised away) */
	lb_test_alloc_fail_at(1);
	d = lb_mem_dev_new(NULL, 0, true, "probe");
	lb_test_alloc_fail_at(0);
	lb_dev_unref(d);
	return d == NULL;
}

static void walk_alloc_failures(void *disk, size_t size, unsigned min_failures)
{
#if HAVE_ALLOC_KNOB
	struct lb_dev *d;
	struct lb_ptable ref;
	unsigned failures = 0;
	unsigned long n;

	if (!alloc_knob_works()) {
		/* valgrind replaces malloc unless run with --soname-synonyms=somalloc=nouserintercepts */
		printf("# the allocation knob is not active here: walk skipped\n");
		return;
	}
	d = lb_mem_dev_new(disk, size, true, "disk");
	CHECK_INT(lb_ptable_read(d, &ref), 0);
	for (n = 1; n < 10000; n++) {
		struct lb_ptable pt;
		unsigned long count;
		int r;

		lb_test_alloc_fail_at(n);
		r = lb_ptable_read(d, &pt);
		count = lb_test_alloc_count();
		lb_test_alloc_fail_at(0);
		if (r == -ENOMEM) {
			failures++;
			CHECK(pt.parts == NULL);
			CHECK_INT(pt.n, 0);
			CHECK_INT(lb_err_last()->code, -ENOMEM);
		} else {
			CHECK_INT(r, 0);
			CHECK_INT(pt.n, ref.n);
			for (unsigned i = 0; i < pt.n && i < ref.n; i++)
				CHECK_U64(pt.parts[i].start, ref.parts[i].start);
		}
		lb_ptable_release(&pt);
		if (count < n)
			break; /* the n-th allocation did not happen: all walked */
	}
	CHECK(n < 10000);
	CHECK(failures >= min_failures);
	lb_ptable_release(&ref);
	lb_dev_unref(d);
#else
	(void)disk;
	(void)size;
	(void)min_failures;
#endif
}

static void test_alloc_failures(void)
{
	struct tgpt g;
	uint8_t *d;

	/* GPT: primary sector, its array, backup sector, its array, parts, layout check */
	tgpt_typical(&g);
	walk_alloc_failures(g.disk, g.size, 6);
	/* the primary damaged: the same through the backup */
	hdr_at(&g, 1)[60] ^= 1;
	walk_alloc_failures(g.disk, g.size, 4);
	tgpt_free(&g);
	/* MBR with logical partitions: parts, layout view, layout check */
	d = mbr_with_logicals();
	walk_alloc_failures(d, MIB, 3);
	free(d);
}

LB_TEST_MAIN(T(test_mbr_logicals), T(test_mbr_ebr_loop), T(test_mbr_ebr_chain_cap),
	     T(test_mbr_beyond_disk), T(test_mbr_overlap), T(test_mbr_malformed), T(test_no_table),
	     T(test_gpt_healthy), T(test_gpt_primary_header_damaged),
	     T(test_gpt_primary_entries_damaged), T(test_gpt_backup_damaged),
	     T(test_gpt_both_damaged), T(test_gpt_impossible_sizes), T(test_gpt_bad_entries),
	     T(test_gpt_truncated), T(test_gpt_4k_sectors), T(test_type_names),
	     T(test_part_dev_clamps), T(test_alloc_failures))
