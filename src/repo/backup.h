/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backup.h - back up a disk image or a file tree into a repository, and
 * restore it; read an image snapshot in place as a device.
 *
 * Images are read through the image layer (src/io/image.h), so a qcow2,
 * VHDX, VHD or VMDK is backed up as the guest disk it holds. Extents the
 * image reports as holes or zeros are not read; chunks that read as zeros are
 * not stored. The work runs as a pipeline on every core: the caller's thread
 * reads segments and feeds the writer in order, the pool's threads hash the
 * chunks of the segments ahead and compress and seal frames.
 *
 * Errors: those of the image layer, the store and the repository, recorded;
 * -EINTR when lb_stop_requested is set (nothing is saved: no snapshot).
 */
#ifndef LB_REPO_BACKUP_H
#define LB_REPO_BACKUP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "io/dev.h"
#include "io/image.h"
#include "repo/repo.h"

typedef void (*lb_progress_fn)(void *ctx, uint64_t done, uint64_t total, const char *what);

struct lb_backup_opts {
	const char *name; /* groups the snapshots of one VM/tree; NULL: from the path */
	const char *const *tags;
	size_t ntags;
	struct timespec time; /* when the source was captured; {0,0}: now */
	enum lb_image_format format;
	bool force_share; /* read an image a running VM holds */
	lb_progress_fn progress;
	void *progress_ctx;
};

struct lb_backup_result {
	struct lb_snapshot snap; /* as saved (release it) */
	struct lb_repo_stats st;
	uint64_t bytes_skipped; /* holes and zero extents never read */
	uint64_t files;		/* file trees: regular files backed up */
	uint64_t errors;	/* file trees: entries that could not be read (skipped) */
	char first_error[512];	/* the first of them, for the report */
	double seconds;
};

/* Fill the common fields of a new snapshot (name, host, source, times, tags). Internal. */
int lb_backup_fill_snapshot(struct lb_snapshot *s, const struct lb_backup_opts *o, const char *path,
			    enum lb_snapshot_kind kind, time_t started);

/* The name a backup of @path gets by default: its file name without the image extension. */
void lb_backup_default_name(const char *path, char *out, size_t cap);

int lb_backup_image(struct lb_repo *r, const char *path, const struct lb_backup_opts *o,
		    struct lb_backup_result *res);
int lb_backup_files(struct lb_repo *r, const char *dir, const struct lb_backup_opts *o,
		    struct lb_backup_result *res);

struct lb_restore_opts {
	const char *target;	     /* a file (created), a block device, or a folder (files) */
	enum lb_image_format format; /* LB_FMT_AUTO/RAW: raw; QCOW2, VHD, VHDX: that format */
	bool overwrite;		     /* an existing target file may be replaced */
	bool owners;		     /* files: restore owners (default when root) */
	lb_progress_fn progress;
	void *progress_ctx;
};

struct lb_restore_result {
	uint64_t bytes_written; /* data written (holes and zeros are not) */
	uint64_t files;		/* files restored */
	double seconds;
};

int lb_restore_image(struct lb_repo *r, const struct lb_snapshot *s,
		     const struct lb_restore_opts *o, struct lb_restore_result *res);
int lb_restore_files(struct lb_repo *r, const struct lb_snapshot *s,
		     const struct lb_restore_opts *o, struct lb_restore_result *res);

/*
 * A read-only device over an image snapshot: reads come from the repository
 * (each chunk verified), extents from the image map. What the file-system
 * layer needs to read a backup in place. Returns 0 or an error.
 */
int lb_snapshot_dev_open(struct lb_repo *r, const struct lb_snapshot *s, struct lb_dev **out);

struct lb_fs;

/*
 * A file-tree snapshot as a read-only file system (kind LB_FS_FILES, label
 * the snapshot's name; repo/treefs.c): its root is the folder backed up.
 * @r and @s must outlive it. Returns 0, -EINVAL (an image snapshot),
 * -EBADMSG (a damaged root tree), or the errors of lb_chunk_read.
 */
int lb_snapshot_fs_open(struct lb_repo *r, const struct lb_snapshot *s, struct lb_fs **out);

#endif
