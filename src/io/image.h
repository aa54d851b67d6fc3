/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * image.h - open a VM disk image, whatever its format, as a device holding
 * the guest disk.
 *
 * The format is detected from content (magic bytes), never from the file
 * name; the name is only used to catch a mismatch ("x.qcow2" that holds no
 * qcow2 header is refused rather than read as raw). Headers lifeboat parses
 * itself are validated before anything else looks at them.
 *
 *   format  detected by                      served by
 *   raw     nothing else matched             the file itself
 *   vhd     "conectix" footer at the end     fixed: a slice of the file (the footer is
 *                                            out of reach); dynamic/differencing: qemu-nbd
 *   vhdx    "vhdxfile" at 0                  qemu-nbd
 *   qcow2   "QFI\xfb" at 0                   qemu-nbd
 *   vmdk    "KDMV" at 0 or a text descriptor qemu-nbd
 *   vdi     0xbeda107f at 0x40               qemu-nbd
 *   nbd     an nbd:// or nbd+unix:// URI     libnbd
 *
 * A read-only image never changes: the file is opened O_RDONLY and qemu-nbd
 * runs with --read-only.
 */
#ifndef LB_IO_IMAGE_H
#define LB_IO_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "io/dev.h"
#include "io/vhd.h"

enum lb_image_format {
	LB_FMT_AUTO = 0, /* in options: detect */
	LB_FMT_RAW,
	LB_FMT_VHD,
	LB_FMT_VHDX,
	LB_FMT_QCOW2,
	LB_FMT_VMDK,
	LB_FMT_VDI,
	LB_FMT_NBD,
	LB_FMT_SNAPSHOT, /* a backup read in place, through a resolver (below) */
};

struct lb_image_opts {
	bool read_only;
	enum lb_image_format format; /* LB_FMT_AUTO to detect */
	const char *fault_spec;	     /* NULL: use $LIFEBOAT_FAULT if set */
	/*
	 * Read-only only: open even if a running VM (any qemu process with write
	 * permission) holds the image's lock. Without it such an image is refused
	 * with -EBUSY, whether qemu-nbd or lifeboat itself serves the format.
	 */
	bool force_share;
};

struct lb_image {
	char *path;
	enum lb_image_format format;
	char subformat[32];  /* "fixed", "dynamic", "v3", "monolithicSparse", ... */
	struct lb_dev *disk; /* the guest disk; owned */
	bool read_only;
	uint64_t file_size;	  /* bytes of the container file (0 for NBD URIs) */
	uint64_t file_allocated;  /* bytes it occupies on the host */
	char backing_file[1024];  /* qcow2/VHD parent, if any */
	struct lb_vhd_footer vhd; /* valid when format == LB_FMT_VHD */
	char note[256];		  /* a warning for the user, or "" */
};

/*
 * Open @path (or an NBD URI). Returns 0 and the image in @out (free with
 * lb_image_free()), or a negative errno with the error recorded: -ENOENT,
 * -EISDIR, -EACCES, -ENODATA (empty file), -EMEDIUMTYPE (the content is not
 * the format named by --format or by the file name), -EBADMSG / -EOVERFLOW
 * (a damaged header), -ENOTSUP (encrypted qcow2, ...), -EBUSY (locked by a
 * running VM), -EIO.
 */
int lb_image_open(const char *path, const struct lb_image_opts *opts, struct lb_image **out);
void lb_image_free(struct lb_image *img);

/*
 * A resolver lets a layer above open other things as images (the CLI: a
 * snapshot in a repository, read in place) without this layer knowing about
 * them. Called first by lb_image_open(): returns 0 when @path is not its
 * business, 1 with a read-only device in @out (and a description in @desc),
 * or a negative errno (recorded).
 */
typedef int (*lb_image_resolver_fn)(const char *path, bool read_only, struct lb_dev **out,
				    char *desc, size_t cap);
void lb_image_set_resolver(lb_image_resolver_fn fn);

/* "raw", "vhd", "vhdx", "qcow2", "vmdk", "vdi", "nbd". */
const char *lb_image_format_name(enum lb_image_format fmt);
/* Parse a --format value ("auto" too). Returns 0 or -EINVAL. */
int lb_image_format_parse(const char *s, enum lb_image_format *out);

/* ---- header parsers (pure, fuzzed) --------------------------------------- */

struct lb_image_probe {
	enum lb_image_format format;
	char subformat[32];
	uint64_t virtual_size; /* from the header; 0 if the header does not say */
	char backing_file[1024];
	bool encrypted;
	bool dirty; /* qcow2 dirty bit / VMDK unclean shutdown */
	/* qcow2: where the L1 table is, for lb_qcow2_tables_check() */
	uint64_t l1_offset;
	uint32_t l1_entries;
	uint32_t cluster_bits;
};

/*
 * Detect the format of a file from its first @head_len bytes (up to 4 KiB is
 * enough) and its last 512 bytes (@tail, NULL if the file is shorter), and
 * validate the header against @file_size. With @want != LB_FMT_AUTO, check
 * that the content is that format. Returns 0, -EMEDIUMTYPE, -EBADMSG or
 * -EOVERFLOW (recorded). For formats whose header is elsewhere (qcow2
 * backing name in the first cluster, VHD dynamic header, VHDX headers at
 * 64 KiB), @head must hold what is needed or the check is partial: see
 * lb_image_open(), which reads more.
 */
int lb_image_probe(const uint8_t *head, size_t head_len, const uint8_t *tail, uint64_t file_size,
		   enum lb_image_format want, struct lb_image_probe *out);

/* The qcow2 header alone (@buf holds at least the first 4 KiB or the whole file). */
int lb_qcow2_header_parse(const uint8_t *buf, size_t len, uint64_t file_size,
			  struct lb_image_probe *out);
int lb_vmdk_header_parse(const uint8_t *buf, size_t len, uint64_t file_size,
			 struct lb_image_probe *out);
/* VHDX: @buf holds the file's first 256 KiB (or all of it if shorter). */
int lb_vhdx_header_parse(const uint8_t *buf, size_t len, uint64_t file_size,
			 struct lb_image_probe *out);

/*
 * The qcow2 mapping tables must lie inside the file: qemu reads what lies
 * beyond the end of a truncated file as zeros, so without this check a cut
 * image would look like an empty disk. @read reads @len bytes at @off of the
 * file (returns 0 or a negative errno). Checks every L2 table the L1 table
 * names and, while at most LB_QCOW2_CHECK_MAX bytes of L2 tables, every data
 * cluster they map. Returns 0, -EBADMSG (recorded), -ENOMEM or a read error.
 */
#define LB_QCOW2_CHECK_MAX (64u << 20)
int lb_qcow2_tables_check(const struct lb_image_probe *p, uint64_t file_size,
			  int (*read)(void *ctx, void *buf, size_t len, uint64_t off), void *ctx);

/* CRC-32C (Castagnoli), as used by VHDX. */
uint32_t lb_crc32c(uint32_t crc, const void *data, size_t len);

#endif
