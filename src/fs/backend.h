/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backend.h - what a file-system implementation provides to fs.c. The
 * device-based ones (NTFS, ext) live in src/fs/ (fs_int.h); a file system that
 * is not on a device at all - a file-tree snapshot read from a repository
 * (src/repo/treefs.c) - is built above this layer with lb_fs_new(), so that
 * the file commands (ls, find, cat, reg) read it like any volume.
 *
 * fs.c owns the handle and the dispatch; a backend fills in @ops and @priv
 * and frees @priv in ops->close. fs.c normalizes every path before a backend
 * sees it (no leading '/', no empty, "." or ".." components), so backends
 * split on '/' only. Writes (unlink, replace) are refused by fs.c on a
 * read-only handle before a backend sees them; they may be NULL then.
 */
#ifndef LB_FS_BACKEND_H
#define LB_FS_BACKEND_H

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
 * A read-only file system made of @ops and @priv (no device). @info gives
 * the kind and label shown to users. Returns 0 and the handle (lb_fs_close()
 * calls ops->close), or -ENOMEM (then @priv is the caller's to free).
 */
int lb_fs_new(const struct lb_fs_ops *ops, void *priv, const struct lb_fs_open_info *info,
	      struct lb_fs **out);

#endif
