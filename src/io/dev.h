/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dev.h - the device interface: a disk, or part of one, that lifeboat reads
 * and writes by byte offset.
 *
 * A device is a small versioned ops table (SQLite's VFS idea) plus a size.
 * Filters stack: a partition is a slice of a disk, a fixed VHD is a file
 * without its footer, a fault injector wraps anything. Each filter holds a
 * reference to the device below it (nbdkit's filter idea), so a disk can be
 * shared by all its partitions.
 *
 * Invariants:
 *  - lb_dev_pread()/lb_dev_pwrite() transfer exactly len bytes or fail; the
 *    range is checked against the size here, once, so implementations never
 *    see an out-of-range request;
 *  - a device opened read-only refuses every write with -EROFS before any
 *    implementation is called;
 *  - lb_dev_extents() reports the whole requested range, in order, with no
 *    gaps, merging nothing it does not know: a device that cannot tell holes
 *    reports one DATA extent.
 */
#ifndef LB_IO_DEV_H
#define LB_IO_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct lb_dev;

enum lb_extent_type {
	LB_EXTENT_DATA = 0, /* allocated; may hold anything */
	LB_EXTENT_ZERO = 1, /* allocated, reads as zeros */
	LB_EXTENT_HOLE = 2, /* not allocated, reads as zeros */
};

/* Called for each extent in order; a negative return stops the walk and is returned. */
typedef int (*lb_extent_fn)(void *opaque, uint64_t off, uint64_t len, enum lb_extent_type type);

#define LB_DEV_OPS_VERSION 1

struct lb_dev_ops {
	int version;	  /* LB_DEV_OPS_VERSION */
	const char *kind; /* "file", "vhd-fixed", "nbd", "slice", "fault", "mem" */
	/*
	 * Read up to @len bytes at @off (in range). Return the number of bytes
	 * read (> 0; fewer than @len is a short read and the caller asks again),
	 * or a negative errno with the error recorded. 0 means end of data, which
	 * inside the device's size is an error (-EIO) for the caller.
	 */
	ssize_t (*pread)(struct lb_dev *dev, void *buf, size_t len, uint64_t off);
	/* Same contract for writes. NULL: the device is read-only by nature. */
	ssize_t (*pwrite)(struct lb_dev *dev, const void *buf, size_t len, uint64_t off);
	/* Make written data durable. NULL: nothing to do. */
	int (*flush)(struct lb_dev *dev);
	/* Report extents covering [off, off+len) (in range). NULL: all data. */
	int (*extents)(struct lb_dev *dev, uint64_t off, uint64_t len, lb_extent_fn fn,
		       void *opaque);
	/* Release @dev->priv (and nothing else). NULL: nothing to release. */
	void (*destroy)(struct lb_dev *dev);
};

struct lb_dev {
	const struct lb_dev_ops *ops;
	void *priv;	      /* owned by the implementation */
	struct lb_dev *lower; /* device this filter reads from; a reference is held */
	uint64_t size;	      /* bytes addressable, [0, size) */
	uint32_t sector_size; /* logical sector size the disk presents: 512 or 4096 */
	bool read_only;
	int refs;
	char *name; /* for messages: a path, "partition 2", ... */
};

/*
 * Allocate a device with one reference. @lower (may be NULL) gains a
 * reference that the new device drops when it is freed. @name is copied.
 * Returns NULL on allocation failure (then @priv is not touched).
 */
struct lb_dev *lb_dev_new(const struct lb_dev_ops *ops, void *priv, uint64_t size,
			  struct lb_dev *lower, bool read_only, const char *name);

struct lb_dev *lb_dev_ref(struct lb_dev *dev);
/* Drop a reference; the last one calls ops->destroy and unrefs lower. NULL-safe. */
void lb_dev_unref(struct lb_dev *dev);

/*
 * Read exactly @len bytes at @off. Returns 0, -EINVAL if the range is outside
 * the device (recorded), -EIO on unexpected end of data, or the
 * implementation's negative errno.
 */
int lb_dev_pread(struct lb_dev *dev, void *buf, size_t len, uint64_t off);
/* Write exactly @len bytes at @off. Returns 0, -EROFS, -EINVAL, or an implementation error. */
int lb_dev_pwrite(struct lb_dev *dev, const void *buf, size_t len, uint64_t off);
int lb_dev_flush(struct lb_dev *dev);
/* Walk extents in [off, off+len); see the invariants above. */
int lb_dev_extents(struct lb_dev *dev, uint64_t off, uint64_t len, lb_extent_fn fn, void *opaque);

/* Sum of DATA and ZERO extents (bytes the image allocates for the guest). */
int lb_dev_allocated(struct lb_dev *dev, uint64_t *out);

/* ---- implementations ------------------------------------------------- */

/*
 * Open a regular file or a block device. @read_only opens O_RDONLY, and no
 * write can reach the file. Errors: -ENOENT, -EISDIR, -EACCES, -ENODEV (not
 * a file or block device), with the error recorded.
 */
int lb_file_dev_open(const char *path, bool read_only, struct lb_dev **out);
/* Bytes the file occupies on the host (st_blocks * 512), or 0 if unknown. */
uint64_t lb_file_dev_allocated(struct lb_dev *dev);

/*
 * A device over caller-owned memory (tests, fuzz targets, parsed buffers).
 * The memory must outlive the device. Writes go to the memory unless @read_only.
 */
struct lb_dev *lb_mem_dev_new(void *data, size_t len, bool read_only, const char *name);

/*
 * A window [off, off+len) of @lower: a partition, or a file without its
 * trailer. I/O is clamped to the window. Returns -EINVAL if the window is not
 * inside @lower (recorded), -ENOMEM.
 */
int lb_slice_dev_new(struct lb_dev *lower, uint64_t off, uint64_t len, const char *name,
		     struct lb_dev **out);

#endif
