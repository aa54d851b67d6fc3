/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs.h - the files inside a volume, whatever its file system: one interface
 * over NTFS (libntfs-3g, fs/ntfs.c) and ext2/3/4 (libext2fs, fs/ext4.c),
 * opened straight from a device (a partition slice of an image): no mount,
 * no loop device, no root.
 *
 * Paths are UTF-8 with components separated by '/', relative to the root of
 * the volume ("Windows/System32/config/SYSTEM"; a leading '/' is allowed).
 * Callers turn what users type (backslashes, "C:\", "%SystemRoot%") into this
 * form with lb_path_normalize(). Each file system looks names up by its own
 * rules: NTFS compares case-insensitively with the volume's $UpCase table,
 * ext compares bytes. Names handed out are as stored on disk.
 *
 * Invariants:
 *  - a volume opened with LB_FS_RDONLY never writes (the device below may
 *    also be read-only: then opening without LB_FS_RDONLY fails with -EROFS);
 *  - lb_fs_readdir() never reports ".", "..", NTFS 8.3 (DOS) names or NTFS
 *    metadata files ($MFT, ...) of the root; each file appears once;
 *  - every change is written to the device by lb_fs_close() at the latest,
 *    which returns the first write error; a failed close leaves the device in
 *    whatever state the writes reached (the repair layer's undo log below
 *    the file system is what makes that safe).
 *
 * Error codes (recorded with lb_err):
 *   -ENOENT  a path component does not exist      -ENOTDIR  a component is not a directory
 *   -EISDIR  a directory where a file was wanted  -EROFS    written while read-only
 *   -EPERM   refused to protect data: hibernated volume, journal not clean
 *            without LB_FS_FIX_DIRTY, BitLocker
 *   -EBADMSG the file system is damaged            -EMEDIUMTYPE not a supported file system
 *   -EFBIG   a file larger than a caller's cap      -ENOSPC  no room to write
 *   -EIO     the device failed                      -ENOMEM
 */
#ifndef LB_FS_FS_H
#define LB_FS_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "fs/probe.h"
#include "io/dev.h"

struct lb_fs;

enum lb_ftype {
	LB_FT_FILE = 0,
	LB_FT_DIR,
	LB_FT_SYMLINK, /* ext symlink; NTFS reparse point of symlink/junction kind */
	LB_FT_OTHER,   /* device, fifo, socket, other reparse points */
};

struct lb_fs_stat {
	enum lb_ftype type;
	uint64_t ino;	       /* NTFS MFT record number / ext inode number */
	uint64_t size;	       /* bytes of (unnamed) data; symlinks: length of the target */
	uint64_t allocated;    /* bytes allocated on the volume, 0 if unknown */
	struct timespec btime; /* creation (NTFS; ext4 crtime when present, else {0,0}) */
	struct timespec mtime; /* data last modified */
	struct timespec ctime; /* NTFS: MFT record changed; ext: inode changed */
	struct timespec atime; /* last access */
	uint32_t mode;	       /* ext: st_mode; NTFS: synthesized (S_IFREG|0644, S_IFDIR|0755) */
	uint32_t uid, gid;     /* ext only */
	uint32_t nlink;
	uint32_t attributes; /* NTFS FILE_ATTRIBUTE_* (read-only, hidden, system, ...); ext 0 */
	char short_name[16]; /* NTFS 8.3 name when the file has one besides its long name */
};

struct lb_fs_dirent {
	const char *name; /* as stored, UTF-8; valid during the callback only */
	struct lb_fs_stat st;
};

/* Called once per entry; a negative return stops the walk and is returned. */
typedef int (*lb_fs_dir_fn)(void *opaque, const struct lb_fs_dirent *e);

enum {
	LB_FS_RDONLY = 1 << 0,
	/*
	 * NTFS: open a volume whose journal is not clean (the state a crashed
	 * Windows leaves) for writing the way ntfsfix does: reset $LogFile and
	 * set the dirty flag so that Windows runs chkdsk at next boot. Without
	 * this flag such a volume opens read-only only (-EPERM for writing).
	 * A hibernated volume is refused for writing whatever the flags.
	 */
	LB_FS_FIX_DIRTY = 1 << 1,
};

/* What opening did to the volume, for the report. */
struct lb_fs_open_info {
	enum lb_fs_kind kind;
	bool was_dirty;		/* journal not clean or dirty flag set when found */
	bool journal_reset;	/* LB_FS_FIX_DIRTY reset $LogFile */
	bool marked_for_chkdsk; /* the dirty flag was set so Windows checks the volume */
	char label[256];
};

/*
 * Open the file system on @dev: NTFS or ext2/3/4, found by content. Returns
 * 0 and a handle in @out (close with lb_fs_close()), or -EMEDIUMTYPE (not a
 * file system lifeboat can open; the recorded error names what was found:
 * BitLocker gives -EPERM), -EPERM (hibernated, or journal not clean and no
 * LB_FS_FIX_DIRTY, when opening for writing), -EROFS, -EBADMSG, -EIO,
 * -ENOMEM. The handle holds a reference to @dev.
 */
int lb_fs_open(struct lb_dev *dev, unsigned flags, struct lb_fs **out);

/* Write back everything and free; NULL-safe. Returns 0 or the first write error. */
int lb_fs_close(struct lb_fs *fs);

/* What was found and done when the volume was opened. Never NULL. */
const struct lb_fs_open_info *lb_fs_info(const struct lb_fs *fs);

/* true when names compare case-insensitively (NTFS). */
bool lb_fs_case_insensitive(const struct lb_fs *fs);

/*
 * Upper-case one Unicode code point the way the file system compares names
 * (NTFS: the volume's $UpCase table, BMP only; ext: unchanged).
 */
uint32_t lb_fs_upcase(const struct lb_fs *fs, uint32_t cp);

/*
 * Look @path up. Returns 0 and fills @st, and, if @stored is not NULL, the
 * path with every component spelled as stored on disk ("windows/system32" ->
 * "Windows/System32"; capacity @stored_cap, -ENAMETOOLONG if short). Errors:
 * -ENOENT, -ENOTDIR, -EIO, -EBADMSG. Symlinks are not followed.
 */
int lb_fs_stat(struct lb_fs *fs, const char *path, struct lb_fs_stat *st, char *stored,
	       size_t stored_cap);

/* Call @fn for each entry of directory @path (order: as stored). Errors as lb_fs_stat. */
int lb_fs_readdir(struct lb_fs *fs, const char *path, lb_fs_dir_fn fn, void *opaque);

/*
 * Read up to @len bytes of the file @path's data at @off. Returns the number
 * of bytes read (0 at end of file), -EISDIR, or the errors of lb_fs_stat.
 */
ssize_t lb_fs_pread(struct lb_fs *fs, const char *path, void *buf, size_t len, uint64_t off);

/* The target of symlink @path, NUL-terminated in @buf. Returns its length, -EINVAL if not a symlink. */
ssize_t lb_fs_readlink(struct lb_fs *fs, const char *path, char *buf, size_t cap);

/*
 * Remove the regular file or symlink @path (NTFS: with its 8.3 name and all
 * its streams). Returns 0, -EISDIR (a directory: never removed), -ENOENT,
 * -EROFS, -EIO.
 */
int lb_fs_unlink(struct lb_fs *fs, const char *path);

/*
 * Replace the whole data of the existing regular file @path with @len bytes
 * (the file is truncated or extended; its other metadata is kept, mtime is
 * set to now). Used to write back a registry hive. Returns 0, -ENOENT,
 * -EISDIR, -ENOSPC, -EROFS, -EIO.
 */
int lb_fs_replace(struct lb_fs *fs, const char *path, const void *data, size_t len);

/*
 * Turn a path as users write it into the form above: '\' becomes '/', a
 * leading drive ("C:") or "%SystemRoot%"/"%windir%" (any case; the latter
 * become "Windows"), repeated and trailing separators and "." components go;
 * ".." is refused (-EINVAL), as is an empty result for @allow_root false.
 * The lb_fs_* calls normalize their paths themselves, by the volume's rules:
 * on ext only '/' separates and there are no drives (a '\' is part of a name).
 * Writes at most @cap bytes to @out. Returns 0, -EINVAL or -ENAMETOOLONG.
 */
int lb_path_normalize(const char *in, char *out, size_t cap, bool allow_root);

#endif
