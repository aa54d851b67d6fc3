/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs_int.h - what a file-system backend implements for fs.c (private to
 * src/fs/). fs.c owns the handle and the dispatch; a backend fills in @ops
 * and @priv from its open function and frees @priv in ops->close.
 *
 * fs.c normalizes every path before a backend sees it (no leading '/', no
 * empty, "." or ".." components), so backends split on '/' only.
 */
#ifndef LB_FS_FS_INT_H
#define LB_FS_FS_INT_H

#include "fs/fs.h"

struct lb_fs_ops {
	enum lb_fs_kind kind;
	bool case_insensitive;
	/* Write back and release priv. Returns 0 or the first write error. */
	int (*close)(struct lb_fs *fs);
	uint32_t (*upcase)(const struct lb_fs *fs, uint32_t cp);
	int (*stat)(struct lb_fs *fs, const char *path, struct lb_fs_stat *st, char *stored,
		    size_t stored_cap);
	int (*readdir)(struct lb_fs *fs, const char *path, lb_fs_dir_fn fn, void *opaque);
	ssize_t (*pread)(struct lb_fs *fs, const char *path, void *buf, size_t len, uint64_t off);
	ssize_t (*readlink)(struct lb_fs *fs, const char *path, char *buf, size_t cap);
	int (*unlink)(struct lb_fs *fs, const char *path);
	int (*replace)(struct lb_fs *fs, const char *path, const void *data, size_t len);
};

struct lb_fs {
	const struct lb_fs_ops *ops;
	void *priv;	    /* the backend's */
	struct lb_dev *dev; /* reference held; dropped by fs.c after ops->close */
	bool read_only;
	struct lb_fs_open_info info;
};

/*
 * Backend open functions: fill fs->ops, fs->priv and fs->info (kind, label,
 * dirty handling). fs->dev and fs->read_only are set by fs.c beforehand.
 * Return 0 or a negative errno (recorded); on failure nothing is left to free.
 */
int lb_ntfs_fs_open(struct lb_fs *fs, unsigned flags);
int lb_ext_fs_open(struct lb_fs *fs, unsigned flags);

#endif
