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

#include "fs/backend.h"

/*
 * Backend open functions: fill fs->ops, fs->priv and fs->info (kind, label,
 * dirty handling). fs->dev and fs->read_only are set by fs.c beforehand.
 * Return 0 or a negative errno (recorded); on failure nothing is left to free.
 */
int lb_ntfs_fs_open(struct lb_fs *fs, unsigned flags);
int lb_ext_fs_open(struct lb_fs *fs, unsigned flags);

#endif
