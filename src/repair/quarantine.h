/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * quarantine.h - a copy of every file a repair deletes, with its name and
 * metadata, in a folder on the host, so a person can look at it (or put it
 * back by hand) without replaying the undo log.
 *
 * Layout of a quarantine folder DIR (folders 0700, files 0600):
 *   DIR/p<N>/<path as stored>       the file's data (p0: the whole disk had no
 *                                   partition table); symlinks as a text file
 *                                   holding the target. Awkward bytes in names
 *                                   are %XX-escaped and a taken name gets ".1",
 *                                   ".2", ... (see lb_quarantine_name)
 *   DIR/manifest.jsonl              one line per file: partition, path, type,
 *                                   size, the four timestamps (ISO 8601 UTC,
 *                                   with nanoseconds), NTFS attributes, mode,
 *                                   uid, gid, symlink target, sha256
 * Files are written to a temporary name, fsync'ed and renamed; the manifest
 * line is appended (and fsync'ed) after the copy is durable.
 */
#ifndef LB_REPAIR_QUARANTINE_H
#define LB_REPAIR_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/sha256.h"
#include "fs/fs.h"

/* Largest file copied (a larger one is refused: -EFBIG, and so not deleted). */
#define LB_QUARANTINE_MAX_FILE (4ULL << 30)

/*
 * Copy @path (as stored, see lb_fs_stat; @st is its stat) of @fs, partition
 * @part, into @dir (created if missing, with 0700) and append its manifest
 * line. A regular file must hold exactly st->size bytes (-EIO otherwise: the
 * copy would be incomplete). @sha256_out (may be NULL) receives the SHA-256
 * of the data (of the target, for a symlink). Returns 0, -EFBIG, -EISDIR (a
 * directory), -ENOSPC (the host is full or over a file-size limit), -EEXIST
 * (no free name), -ENAMETOOLONG, -EIO, -ENOMEM, or an error of lb_fs_pread
 * (recorded). On failure nothing is left in @dir but folders.
 */
int lb_quarantine_save(const char *dir, unsigned part, struct lb_fs *fs, const char *path,
		       const struct lb_fs_stat *st, uint8_t sha256_out[LB_SHA256_LEN]);

/*
 * lb_quarantine_save() with the size limit @max_file instead of
 * LB_QUARANTINE_MAX_FILE; @stored_as (may be NULL) receives where the copy
 * went, relative to @dir ("p2/Windows/System32/x.sys.1").
 */
int lb_quarantine_save_ex(const char *dir, unsigned part, struct lb_fs *fs, const char *path,
			  const struct lb_fs_stat *st, uint64_t max_file,
			  uint8_t sha256_out[LB_SHA256_LEN], char *stored_as, size_t stored_cap);

/*
 * The relative name a stored @path gets below a quarantine folder, before
 * any ".N" suffix: "p<part>/" and the escaped components (see quarantine.c).
 * Returns 0, -EINVAL (no component), -ENAMETOOLONG (recorded).
 */
int lb_quarantine_name(unsigned part, const char *path, char *out, size_t cap);

#endif
