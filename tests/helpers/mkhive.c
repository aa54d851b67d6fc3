/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mkhive - write an empty Windows registry hive (regf) for tests.
 *
 *   mkhive FILE [ROOTNAME]
 *   mkhive --dirty FILE      make an existing hive's sequence numbers differ
 *
 * hivex cannot create a hive and no Debian package ships one, so tests make
 * an empty one with this and add keys and values with `hivexsh -w`. The file
 * is 8 KiB and byte-for-byte reproducible (fixed timestamps):
 *
 *   0x0000  base block, 4096 bytes
 *           0x000 "regf"              0x004 primary sequence number (1)
 *           0x008 secondary seq (1)   0x00c last written (FILETIME)
 *           0x014 major version (1)   0x018 minor version (5)
 *           0x01c file type (0 primary) 0x020 format (1 direct memory load)
 *           0x024 root cell offset    0x028 hive bins data size (4096)
 *           0x02c clustering factor (1) 0x030 file name, UTF-16LE, 64 bytes
 *           0x1fc checksum: XOR of the 127 dwords before it
 *   0x1000  hive bin, 4096 bytes: "hbin", its offset in the bins data (0),
 *           its size, a timestamp at 0x14; cells from 0x20. A cell starts with
 *           its size as a signed 32-bit number, negative when allocated, and
 *           cell offsets count from the start of the bins data (file 0x1000).
 *           0x020 root key node "nk" (flags: hive entry, no delete, ASCII name)
 *           then  its security cell "sk" (a self-relative security descriptor:
 *                 owner Administrators, group SYSTEM, DACL granting both
 *                 KEY_ALL_ACCESS) - hivex copies the parent's sk when it adds
 *                 a child key, so the root must have one
 *           then  one free cell up to the end of the bin
 *
 * Written for lifeboat's tests from the published regf format description;
 * it does not use lifeboat's code (it makes fixtures that code is tested on).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 4096u
#define BINS 0x1000u /* file offset of the hive bins data */

/* 2024-07-19 00:00:00 UTC as a FILETIME (100 ns since 1601). */
#define FIXED_FILETIME 133657920000000000ull

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t align8(uint32_t n)
{
	return (n + 7u) & ~7u;
}

/* A SID with one or two sub-authorities under the NT authority (5). Returns its size. */
static uint32_t put_sid(uint8_t *p, uint32_t sub0, int nsub, uint32_t sub1)
{
	p[0] = 1;	      /* revision */
	p[1] = (uint8_t)nsub; /* sub-authority count */
	memset(p + 2, 0, 6);
	p[7] = 5; /* identifier authority, big-endian 48 bits: NT authority */
	put32(p + 8, sub0);
	if (nsub > 1)
		put32(p + 12, sub1);
	return 8u + 4u * (uint32_t)nsub;
}

/* An ACCESS_ALLOWED_ACE for KEY_ALL_ACCESS, inherited by subkeys. Returns its size. */
static uint32_t put_ace(uint8_t *p, uint32_t sub0, int nsub, uint32_t sub1)
{
	uint32_t n;

	p[0] = 0;    /* ACCESS_ALLOWED_ACE_TYPE */
	p[1] = 0x02; /* CONTAINER_INHERIT_ACE */
	put32(p + 4, 0x000f003f);
	n = 8 + put_sid(p + 8, sub0, nsub, sub1);
	put16(p + 2, (uint16_t)n);
	return n;
}

/* A self-relative security descriptor. Returns its size. */
static uint32_t put_sd(uint8_t *p)
{
	uint32_t acl = 20, off, n;

	p[0] = 1; /* revision */
	p[1] = 0;
	put16(p + 2, 0x8004); /* SE_SELF_RELATIVE | SE_DACL_PRESENT */
	/* DACL: two ACEs, SYSTEM (S-1-5-18) and Administrators (S-1-5-32-544) */
	p[acl] = 2; /* ACL revision */
	p[acl + 1] = 0;
	off = acl + 8;
	off += put_ace(p + off, 18, 1, 0);
	off += put_ace(p + off, 32, 2, 544);
	put16(p + acl + 2, (uint16_t)(off - acl)); /* ACL size */
	put16(p + acl + 4, 2);			   /* ACE count */
	put16(p + acl + 6, 0);
	put32(p + 4, off); /* owner: Administrators */
	n = put_sid(p + off, 32, 2, 544);
	off += n;
	put32(p + 8, off); /* group: SYSTEM */
	off += put_sid(p + off, 18, 1, 0);
	put32(p + 12, 0);   /* no SACL */
	put32(p + 16, acl); /* DACL */
	return off;
}

/*
 * mkhive --dirty FILE: give an existing hive differing sequence numbers (as
 * Windows leaves a hive whose .LOG files hold changes not yet written into
 * it) and fix the base block checksum.
 */
static int make_dirty(const char *path)
{
	uint8_t hdr[512];
	uint32_t sum = 0;
	int fd = open(path, O_RDWR);

	if (fd < 0 || pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, "regf", 4)) {
		fprintf(stderr, "mkhive: %s: not a hive\n", path);
		return 1;
	}
	put32(hdr + 0x04,
	      (uint32_t)(hdr[4] | hdr[5] << 8 | hdr[6] << 16 | (uint32_t)hdr[7] << 24) + 1);
	for (int i = 0; i < 127; i++)
		sum ^= (uint32_t)hdr[4 * i] | (uint32_t)hdr[4 * i + 1] << 8 |
		       (uint32_t)hdr[4 * i + 2] << 16 | (uint32_t)hdr[4 * i + 3] << 24;
	put32(hdr + 0x1fc, sum);
	if (pwrite(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) || close(fd) < 0) {
		fprintf(stderr, "mkhive: %s: cannot write\n", path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t img[2 * BLOCK];
	uint8_t *hdr = img, *bin = img + BINS, sd[256];
	const char *root = argc > 2 ? argv[2] : "ROOT";
	size_t rlen = strlen(root);
	uint32_t nk = 0x20, nk_size, sk, sk_size, sd_len, free_off, sum = 0;
	int fd;

	if (argc == 3 && !strcmp(argv[1], "--dirty"))
		return make_dirty(argv[2]);
	if (argc < 2 || argc > 3 || rlen == 0 || rlen > 255) {
		fprintf(stderr,
			"usage: mkhive FILE [ROOTNAME]  (ROOTNAME: 1 to 255 ASCII characters)\n");
		return 2;
	}
	for (size_t i = 0; i < rlen; i++) {
		if ((unsigned char)root[i] < 0x20 || (unsigned char)root[i] > 0x7e ||
		    root[i] == '\\') {
			fprintf(stderr,
				"mkhive: the root name must be printable ASCII without '\\'\n");
			return 2;
		}
	}

	memset(sd, 0, sizeof(sd));
	sd_len = put_sd(sd);

	/* hive bin header */
	memcpy(bin, "hbin", 4);
	put32(bin + 0x04, 0);	  /* offset of this bin in the bins data */
	put32(bin + 0x08, BLOCK); /* size of this bin */
	put64(bin + 0x14, FIXED_FILETIME);

	/* root key node */
	nk_size = align8(4 + 0x4c + (uint32_t)rlen);
	sk = nk + nk_size;
	put32(bin + nk, (uint32_t) - (int32_t)nk_size);
	memcpy(bin + nk + 4, "nk", 2);
	put16(bin + nk + 4 + 0x02, 0x0004 | 0x0008 | 0x0020);
	put64(bin + nk + 4 + 0x04, FIXED_FILETIME);
	put32(bin + nk + 4 + 0x10, 0);		/* parent: none for the root */
	put32(bin + nk + 4 + 0x14, 0);		/* subkeys */
	put32(bin + nk + 4 + 0x18, 0);		/* volatile subkeys */
	put32(bin + nk + 4 + 0x1c, 0xffffffff); /* subkeys list */
	put32(bin + nk + 4 + 0x20, 0xffffffff); /* volatile subkeys list */
	put32(bin + nk + 4 + 0x24, 0);		/* values */
	put32(bin + nk + 4 + 0x28, 0xffffffff); /* values list */
	put32(bin + nk + 4 + 0x2c, sk);		/* security */
	put32(bin + nk + 4 + 0x30, 0xffffffff); /* class name */
	put16(bin + nk + 4 + 0x48, (uint16_t)rlen);
	put16(bin + nk + 4 + 0x4a, 0); /* class name length */
	memcpy(bin + nk + 4 + 0x4c, root, rlen);

	/* security cell: a ring of one */
	sk_size = align8(4 + 0x14 + sd_len);
	put32(bin + sk, (uint32_t) - (int32_t)sk_size);
	memcpy(bin + sk + 4, "sk", 2);
	put32(bin + sk + 4 + 0x04, sk); /* next sk */
	put32(bin + sk + 4 + 0x08, sk); /* previous sk */
	put32(bin + sk + 4 + 0x0c, 1);	/* reference count */
	put32(bin + sk + 4 + 0x10, sd_len);
	memcpy(bin + sk + 4 + 0x14, sd, sd_len);

	/* the rest of the bin is one free cell (positive size) */
	free_off = sk + sk_size;
	put32(bin + free_off, BLOCK - free_off);

	/* base block */
	memcpy(hdr, "regf", 4);
	put32(hdr + 0x04, 1);
	put32(hdr + 0x08, 1);
	put64(hdr + 0x0c, FIXED_FILETIME);
	put32(hdr + 0x14, 1);
	put32(hdr + 0x18, 5);
	put32(hdr + 0x1c, 0);
	put32(hdr + 0x20, 1);
	put32(hdr + 0x24, nk);
	put32(hdr + 0x28, BLOCK);
	put32(hdr + 0x2c, 1);
	for (size_t i = 0; i < rlen && i < 31; i++)
		put16(hdr + 0x30 + 2 * i, (uint16_t)(unsigned char)root[i]);
	for (unsigned i = 0; i < 127; i++)
		sum ^= get32(hdr + 4 * i);
	if (sum == 0xffffffff)
		sum = 0xfffffffe;
	else if (sum == 0)
		sum = 1;
	put32(hdr + 0x1fc, sum);

	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "mkhive: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (write(fd, img, sizeof(img)) != (ssize_t)sizeof(img) || close(fd) < 0) {
		fprintf(stderr, "mkhive: %s: write failed\n", argv[1]);
		return 1;
	}
	return 0;
}
