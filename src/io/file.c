/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * file.c - a regular file or block device as an lb_dev.
 *
 * Holes come from SEEK_DATA/SEEK_HOLE (a file system that does not support
 * them reports the whole file as data). A read-only device is opened
 * O_RDONLY, so not even a bug above can change the file.
 */
#include "io/dev.h"
#include "base/err.h"
#include "base/cleanup.h"
#include "base/util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

struct file_priv {
	int fd;
	uint64_t allocated;
	bool block;
};

static ssize_t file_pread(struct lb_dev *dev, void *buf, size_t len, uint64_t off)
{
	struct file_priv *f = dev->priv;
	ssize_t n;

	if (len > (size_t)1 << 30)
		len = (size_t)1 << 30;
	do
		n = pread(f->fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return lb_err(-errno, dev->name, "check the disk holding the image (dmesg)",
			      "read of %zu bytes at offset %" PRIu64 " failed: %s", len, off,
			      strerror(errno));
	return n;
}

static ssize_t file_pwrite(struct lb_dev *dev, const void *buf, size_t len, uint64_t off)
{
	struct file_priv *f = dev->priv;
	ssize_t n;

	if (len > (size_t)1 << 30)
		len = (size_t)1 << 30;
	do
		n = pwrite(f->fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return lb_err(-errno, dev->name,
			      errno == ENOSPC ? "free space on the host file system" : NULL,
			      "write of %zu bytes at offset %" PRIu64 " failed: %s", len, off,
			      strerror(errno));
	return n;
}

static int file_flush(struct lb_dev *dev)
{
	struct file_priv *f = dev->priv;

	if (fsync(f->fd) < 0)
		return lb_err(-errno, dev->name, NULL, "fsync failed: %s", strerror(errno));
	return 0;
}

static int file_extents(struct lb_dev *dev, uint64_t off, uint64_t len, lb_extent_fn fn,
			void *opaque)
{
	struct file_priv *f = dev->priv;
	uint64_t end = off + len;
	int r;

	if (f->block)
		return fn(opaque, off, len, LB_EXTENT_DATA);
	while (off < end) {
		off_t data = lseek(f->fd, (off_t)off, SEEK_DATA);
		off_t hole;

		if (data < 0) {
			if (errno == ENXIO) /* only a hole up to EOF */
				return fn(opaque, off, end - off, LB_EXTENT_HOLE);
			/* no SEEK_DATA support: everything is data */
			return fn(opaque, off, end - off, LB_EXTENT_DATA);
		}
		if ((uint64_t)data > off) {
			uint64_t h = LB_MIN((uint64_t)data, end) - off;

			r = fn(opaque, off, h, LB_EXTENT_HOLE);
			if (r < 0)
				return r;
			off += h;
			if (off >= end)
				break;
		}
		hole = lseek(f->fd, (off_t)off, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole <= off)
			hole = (off_t)end;
		r = fn(opaque, off, LB_MIN((uint64_t)hole, end) - off, LB_EXTENT_DATA);
		if (r < 0)
			return r;
		off = LB_MIN((uint64_t)hole, end);
	}
	return 0;
}

static void file_destroy(struct lb_dev *dev)
{
	struct file_priv *f = dev->priv;

	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

static const struct lb_dev_ops file_ops = {
	.version = LB_DEV_OPS_VERSION,
	.kind = "file",
	.pread = file_pread,
	.pwrite = file_pwrite,
	.flush = file_flush,
	.extents = file_extents,
	.destroy = file_destroy,
};

int lb_file_dev_open(const char *path, bool read_only, struct lb_dev **out)
{
	struct file_priv *f;
	struct lb_dev *dev;
	struct stat st;
	uint64_t size;
	int fd;

	fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			return lb_err(-e, path, "check the path", "no such file");
		if (e == EISDIR)
			return lb_err(-e, path, "give the path of an image file",
				      "is a directory, not a disk image");
		if (e == EACCES || e == EPERM)
			return lb_err(-e, path,
				      read_only ? "check the file's permissions"
						: "check the file's permissions, or use --dry-run",
				      "permission denied opening %s",
				      read_only ? "for reading" : "for writing");
		if (e == EROFS)
			return lb_err(-e, path, "copy the image to a writable file system",
				      "the file is on a read-only file system");
		return lb_err(-e, path, NULL, "cannot open: %s", strerror(e));
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return lb_err(-e, path, NULL, "cannot stat: %s", strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return lb_err(-EISDIR, path, "give the path of an image file",
			      "is a directory, not a disk image");
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
			int e = errno;

			close(fd);
			return lb_err(-e, path, NULL, "cannot get the block device size: %s",
				      strerror(e));
		}
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		close(fd);
		return lb_err(-ENODEV, path, "give a regular file or a block device",
			      "not a regular file or block device");
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	f->fd = fd;
	f->block = S_ISBLK(st.st_mode);
	f->allocated = S_ISREG(st.st_mode) ? (uint64_t)st.st_blocks * 512 : size;
	dev = lb_dev_new(&file_ops, f, size, NULL, read_only, path);
	if (!dev) {
		close(fd);
		free(f);
		return -ENOMEM;
	}
	*out = dev;
	return 0;
}

uint64_t lb_file_dev_allocated(struct lb_dev *dev)
{
	if (!dev || dev->ops != &file_ops)
		return 0;
	return ((struct file_priv *)dev->priv)->allocated;
}
