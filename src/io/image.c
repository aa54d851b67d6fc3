/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "io/image.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/util.h"
#include "io/fault.h"
#include "io/nbd.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define HEAD_LEN (136 * 1024) /* covers the VHDX headers at 64 and 128 KiB */

static const struct {
	enum lb_image_format fmt;
	const char *name;
	const char *qemu;
} formats[] = {
	{LB_FMT_AUTO, "auto", NULL},	     {LB_FMT_RAW, "raw", "raw"},
	{LB_FMT_VHD, "vhd", "vpc"},	     {LB_FMT_VHDX, "vhdx", "vhdx"},
	{LB_FMT_QCOW2, "qcow2", "qcow2"},    {LB_FMT_VMDK, "vmdk", "vmdk"},
	{LB_FMT_VDI, "vdi", "vdi"},	     {LB_FMT_NBD, "nbd", NULL},
	{LB_FMT_SNAPSHOT, "snapshot", NULL},
};

static lb_image_resolver_fn resolver;

void lb_image_set_resolver(lb_image_resolver_fn fn)
{
	resolver = fn;
}

const char *lb_image_format_name(enum lb_image_format fmt)
{
	for (size_t i = 0; i < LB_ARRAY_SIZE(formats); i++)
		if (formats[i].fmt == fmt)
			return formats[i].name;
	return "unknown";
}

int lb_image_format_parse(const char *s, enum lb_image_format *out)
{
	for (size_t i = 0; i < LB_ARRAY_SIZE(formats); i++) {
		if (formats[i].fmt == LB_FMT_NBD || formats[i].fmt == LB_FMT_SNAPSHOT)
			continue;
		if (!strcasecmp(s, formats[i].name)) {
			*out = formats[i].fmt;
			return 0;
		}
	}
	if (!strcasecmp(s, "vpc")) {
		*out = LB_FMT_VHD;
		return 0;
	}
	return -EINVAL;
}

static const char *qemu_name(enum lb_image_format fmt)
{
	for (size_t i = 0; i < LB_ARRAY_SIZE(formats); i++)
		if (formats[i].fmt == fmt)
			return formats[i].qemu;
	return NULL;
}

/* The format a file name claims, for catching mismatches; AUTO if it claims none. */
static enum lb_image_format format_from_name(const char *path)
{
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');

	if (!dot || (slash && dot < slash))
		return LB_FMT_AUTO;
	dot++;
	if (!strcasecmp(dot, "qcow2") || !strcasecmp(dot, "qcow"))
		return LB_FMT_QCOW2;
	if (!strcasecmp(dot, "vhd") || !strcasecmp(dot, "vpc"))
		return LB_FMT_VHD;
	if (!strcasecmp(dot, "vhdx") || !strcasecmp(dot, "avhdx"))
		return LB_FMT_VHDX;
	if (!strcasecmp(dot, "vmdk"))
		return LB_FMT_VMDK;
	if (!strcasecmp(dot, "vdi"))
		return LB_FMT_VDI;
	return LB_FMT_AUTO;
}

void lb_image_free(struct lb_image *img)
{
	if (!img)
		return;
	lb_dev_unref(img->disk);
	free(img->path);
	free(img);
}

static int read_file_at(void *ctx, void *buf, size_t len, uint64_t off)
{
	return lb_dev_pread(ctx, buf, len, off);
}

static int stack_fault(struct lb_image *img, const struct lb_image_opts *opts)
{
	const char *spec = opts->fault_spec ? opts->fault_spec : getenv("LIFEBOAT_FAULT");
	struct lb_dev *f;
	int r;

	if (!spec || !*spec)
		return 0;
	r = lb_fault_dev_new(img->disk, spec, &f);
	if (r < 0)
		return r;
	lb_dev_unref(img->disk);
	img->disk = f;
	return 0;
}

/*
 * qemu (file-posix.c) takes OFD read locks on bytes of the image file to
 * announce its permissions: byte 100 + N for each permission N it holds
 * (1: write). A process that may write, such as a running VM, therefore
 * holds a lock on byte 101, and an F_WRLCK there conflicts with it. This is
 * what qemu-nbd checks for the formats it serves; lifeboat checks the same
 * for the files it serves itself (raw, fixed VHD).
 */
#define QEMU_LOCK_PERM_WRITE 101

static int check_qemu_write_lock(const char *path)
{
	struct flock fl = {.l_type = F_WRLCK,
			   .l_whence = SEEK_SET,
			   .l_start = QEMU_LOCK_PERM_WRITE,
			   .l_len = 1};
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int r;

	if (fd < 0)
		return 0; /* opened a moment ago; any real problem shows on the next read */
	r = fcntl(fd, F_OFD_GETLK, &fl);
	close(fd);
	if (r < 0 || fl.l_type == F_UNLCK)
		return 0;
	return lb_err(-EBUSY, path,
		      "stop the VM that uses it first; to read it anyway, pass --force-share "
		      "(what is read may be inconsistent while the VM writes)",
		      "the image is in use by another process (a running VM?): it holds qemu's "
		      "write lock");
}

/* The problem text when the name says @named and the content is raw. */
static const char *missing_magic(enum lb_image_format named)
{
	switch (named) {
	case LB_FMT_VHD:
		return "\"conectix\" footer at the end: a truncated copy looks like this too";
	case LB_FMT_QCOW2:
		return "\"QFI\\xfb\" magic at offset 0";
	case LB_FMT_VHDX:
		return "\"vhdxfile\" signature at offset 0";
	case LB_FMT_VMDK:
		return "VMDK header at offset 0";
	case LB_FMT_VDI:
		return "VDI signature at offset 0x40";
	default:
		return "signature";
	}
}

static int open_file_image(struct lb_image *img, const struct lb_image_opts *opts)
{
	struct lb_dev *file = NULL;
	_cleanup_free_ uint8_t *head = NULL;
	uint8_t tail[512];
	size_t head_len;
	struct lb_image_probe probe;
	enum lb_image_format named = format_from_name(img->path);
	int r;

	r = lb_file_dev_open(img->path, opts->read_only, &file);
	if (r < 0)
		return r;
	img->file_size = file->size;
	img->file_allocated = lb_file_dev_allocated(file);
	if (file->size == 0) {
		lb_dev_unref(file);
		return lb_err(-ENODATA, img->path, "check that the copy or export finished",
			      "the file is empty (0 bytes); it holds no disk");
	}
	head_len = (size_t)LB_MIN(file->size, (uint64_t)HEAD_LEN);
	head = malloc(head_len);
	if (!head) {
		lb_dev_unref(file);
		return -ENOMEM;
	}
	r = lb_dev_pread(file, head, head_len, 0);
	if (r == 0 && file->size >= 512)
		r = lb_dev_pread(file, tail, 512, file->size - 512);
	if (r < 0) {
		lb_dev_unref(file);
		return r;
	}
	r = lb_image_probe(head, head_len, file->size >= 512 ? tail : NULL, file->size,
			   opts->format, &probe);
	if (r < 0) {
		lb_dev_unref(file);
		if (r == -EMEDIUMTYPE && opts->format != LB_FMT_AUTO)
			lb_err_default_hint("check the image, or drop --format to detect the "
					    "format from the content");
		return r;
	}
	if (opts->format == LB_FMT_AUTO && named != LB_FMT_AUTO && named != probe.format) {
		struct lb_image_probe as_named;

		/*
		 * Content that is no known format under a format's name may still
		 * be that format, damaged (a truncated dynamic VHD keeps only its
		 * footer copy at offset 0): let that format's parser say so.
		 */
		if (probe.format == LB_FMT_RAW) {
			r = lb_image_probe(head, head_len, file->size >= 512 ? tail : NULL,
					   file->size, named, &as_named);
			if (r < 0 && r != -EMEDIUMTYPE) {
				lb_dev_unref(file);
				return r;
			}
		}
		lb_dev_unref(file);
		if (probe.format == LB_FMT_RAW)
			return lb_err(
				-EMEDIUMTYPE, img->path,
				"if the name is wrong, pass --format to say what the file holds",
				"the name says %s but the content is not a known image format (no "
				"%s)",
				lb_image_format_name(named), missing_magic(named));
		return lb_err(-EMEDIUMTYPE, img->path,
			      "if the name is wrong, pass --format to say what the file holds",
			      "the name says %s but the content is %s", lb_image_format_name(named),
			      lb_image_format_name(probe.format));
	}
	if (probe.format == LB_FMT_QCOW2) {
		r = lb_qcow2_tables_check(&probe, file->size, read_file_at, file);
		if (r < 0) {
			lb_dev_unref(file);
			return r;
		}
	}
	img->format = probe.format;
	lb_strlcpy(img->subformat, probe.subformat, sizeof(img->subformat));
	lb_strlcpy(img->backing_file, probe.backing_file, sizeof(img->backing_file));
	if (probe.encrypted) {
		lb_dev_unref(file);
		return lb_err(-ENOTSUP, img->path, "decrypt it first with 'qemu-img convert'",
			      "the %s image is encrypted", lb_image_format_name(probe.format));
	}
	if (probe.dirty)
		snprintf(img->note, sizeof(img->note),
			 "the image was not closed cleanly (dirty %s metadata)",
			 lb_image_format_name(probe.format));

	if (probe.format == LB_FMT_RAW) {
		r = opts->force_share && opts->read_only ? 0 : check_qemu_write_lock(img->path);
		if (r < 0) {
			lb_dev_unref(file);
			return r;
		}
		img->disk = file;
		return 0;
	}
	if (probe.format == LB_FMT_VHD) {
		r = lb_vhd_footer_parse(tail, &img->vhd);
		if (r == 0 && img->vhd.disk_type == LB_VHD_FIXED) {
			r = opts->force_share && opts->read_only ? 0
								 : check_qemu_write_lock(img->path);
			if (r == 0)
				r = lb_vhd_fixed_dev_new(file, &img->vhd, &img->disk);
			lb_dev_unref(file);
			return r;
		}
		if (r == 0) {
			uint8_t dyn[LB_VHD_DYN_HEADER_SIZE];
			struct lb_vhd_dyn_header dh;

			r = lb_dev_pread(file, dyn, sizeof(dyn), img->vhd.data_offset);
			if (r == 0)
				r = lb_vhd_dyn_header_parse(dyn, &img->vhd, file->size, &dh);
			if (r == 0 && img->vhd.disk_type == LB_VHD_DIFFERENCING)
				lb_strlcpy(img->backing_file, dh.parent_name,
					   sizeof(img->backing_file));
		}
		if (r < 0) {
			lb_dev_unref(file);
			return r;
		}
	}
	lb_dev_unref(file);
	return lb_nbd_dev_open(img->path, qemu_name(probe.format),
			       (opts->read_only ? LB_NBD_READ_ONLY : 0) |
				       (opts->force_share ? LB_NBD_FORCE_SHARE : 0),
			       &img->disk);
}

int lb_image_open(const char *path, const struct lb_image_opts *opts, struct lb_image **out)
{
	struct lb_image *img = calloc(1, sizeof(*img));
	int r;

	if (!img)
		return -ENOMEM;
	img->path = strdup(path);
	if (!img->path) {
		free(img);
		return -ENOMEM;
	}
	img->read_only = opts->read_only;
	r = resolver ? resolver(path, opts->read_only, &img->disk, img->note, sizeof(img->note))
		     : 0;
	if (r != 0) {
		if (r < 0) {
			lb_image_free(img);
			return r;
		}
		img->format = LB_FMT_SNAPSHOT;
		*out = img;
		return 0;
	}
	if (lb_is_nbd_uri(path)) {
		img->format = LB_FMT_NBD;
		r = lb_nbd_dev_connect_uri(path, opts->read_only, &img->disk);
	} else {
		r = open_file_image(img, opts);
	}
	if (r == 0)
		r = stack_fault(img, opts);
	if (r < 0) {
		lb_image_free(img);
		return r;
	}
	*out = img;
	return 0;
}
