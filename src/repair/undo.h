/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * undo.h - the write-ahead undo log: nothing a repair writes can be lost.
 *
 * The undo filter sits between the guest disk and everything above it
 * (partition slices, file systems). Before the first write to any byte range
 * reaches the disk, the filter reads the current bytes of the range (widened
 * to the aligned window around it, see lb_undo_set_window()), appends them
 * to the log as a record, and makes the record durable (fdatasync); only then
 * does the write go down. Bytes already saved are not saved again, so the log
 * holds each byte's contents from before the repair exactly once.
 *
 * Replaying the log (lb_undo_apply) writes every saved range back: a raw or
 * fixed-VHD image becomes byte-identical to what it was, a qcow2/VHDX/VMDK
 * image identical in guest-visible content. A log without a commit record
 * (the repair was killed) is replayed the same way: every record whose write
 * may have happened is in the log, because the record came first.
 *
 * Log file layout (all integers little-endian; see docs/undo-format.md):
 *
 *   header, 4096 bytes:
 *     0    8  magic "LBUNDO\r\n"
 *     8    4  version (1)
 *    12    4  header length (4096)
 *    16    8  virtual size of the guest disk
 *    24    8  creation time, seconds since the epoch (UTC)
 *    32   16  run id (random)
 *    48  256  image path as given, NUL-padded
 *   304   16  image format name ("raw", "qcow2", ...), NUL-padded
 *   320   32  SHA-256 of the image's identity at creation: see lb_undo_meta
 *   ...       zero
 *  4092    4  CRC-32C of bytes [0, 4092)
 *
 *   record, 32 bytes + data:
 *     0    4  magic "LBUR"
 *     4    4  kind: 1 = saved range, 2 = commit, 3 = undo begun
 *     8    8  offset on the guest disk (range) / number of ranges (commit)
 *    16    8  length of the data that follows (range) / bytes saved (commit)
 *    24    4  CRC-32C of the data that follows (commit: of the 32-byte digest)
 *    28    4  CRC-32C of bytes [0, 28) of this record
 *   then the data: the old bytes (range), or for a commit the SHA-256 of the
 *   guest disk's contents over all saved ranges after the repair, in log
 *   order (so undo can tell whether the image changed since). An "undo
 *   begun" record (offset 0, length 0, no data, data CRC 0) may follow the
 *   commit: lb_undo_apply() appends it before its first write, so that a run
 *   interrupted half-way can be resumed without the changed-since check
 *   (which a half-undone image can no longer pass).
 *
 * A record that fails its checksums ends the log (a torn tail from a crash;
 * its write never reached the disk) only where an interrupted append can have
 * left it: at most one record's worth of bytes before the end, with no valid
 * record after it. Anywhere else it is damage, and the log is refused
 * (-EBADMSG) before anything is written. Records are capped at
 * LB_UNDO_MAX_RECORD bytes of data (a larger write is saved as several
 * records) and the log at LB_UNDO_MAX_LOG.
 *
 * After a failed write or sync of the log, the log refuses every later write
 * (the kernel may have dropped the unwritten pages and forgotten the error, so
 * the log's state is unknown): the repair must stop and roll back.
 */
#ifndef LB_REPAIR_UNDO_H
#define LB_REPAIR_UNDO_H

#include <stdbool.h>
#include <stdint.h>

#include "base/sha256.h"
#include "io/dev.h"

#define LB_UNDO_HEADER_SIZE 4096
/* The window repairs use (see lb_undo_set_window()). */
#define LB_UNDO_SAVE_WINDOW (64u << 10)
#define LB_UNDO_MAX_RECORD (4u << 20)
#define LB_UNDO_MAX_LOG (64ULL << 30)

struct lb_undo;

struct lb_undo_meta {
	uint64_t virtual_size;
	int64_t created; /* seconds since the epoch */
	uint8_t run_id[16];
	char image_path[256];
	char format[16];
	uint8_t identity[LB_SHA256_LEN]; /* caller's choice: SHA-256 of path + virtual size */
};

/*
 * Create a new log at @path: the header is written to a temporary file in the
 * same folder and fsync'ed, then moved to @path without replacing anything
 * (an existing file is never overwritten: -EEXIST), and the folder fsync'ed,
 * so no one ever sees a log with half a header. @meta's created and run_id
 * are filled in here when zero. Returns 0, -EEXIST, -ENOENT/-ENOTDIR/-EACCES/
 * -EROFS (the folder), -ENOSPC, -EIO, -ENOMEM (recorded). Free with
 * lb_undo_free().
 */
int lb_undo_create(const char *path, const struct lb_undo_meta *meta, struct lb_undo **out);

/*
 * The undo filter over @lower (the guest disk, whose size must be the log's
 * virtual size: -EINVAL). Every write is saved as described above; if saving
 * fails, the write fails with the saving error (-ENOSPC when the host is out
 * of space or over a file-size limit, -EFBIG past LB_UNDO_MAX_LOG, -EIO,
 * -ENOMEM, -EROFS after lb_undo_commit()) and never reaches @lower. Reads,
 * flushes and extent queries pass through. The filter holds a reference to
 * @lower; @u must outlive it. Returns 0, -EINVAL, -ENOMEM.
 */
int lb_undo_dev_new(struct lb_undo *u, struct lb_dev *lower, struct lb_dev **out);

/*
 * After the repair's last write and flush: read the log back (every record
 * must verify), read the saved ranges from @dev (the filter or the disk),
 * append the commit record with their digest, fsync. Afterwards the filter
 * refuses writes. Returns 0, -EINVAL (committed already, wrong size), -ENOSPC,
 * -EIO (recorded).
 */
int lb_undo_commit(struct lb_undo *u, struct lb_dev *dev);

/*
 * Save whole aligned windows of @window bytes (a power of two; 1, the
 * default, saves exactly what is written) around each write. File systems
 * write metadata in many small pieces (resetting an NTFS journal is thousands
 * of 4 KiB writes): one record and one sync per window instead of per write
 * is what keeps that fast, and putting back bytes that were not written
 * changes nothing.
 */
void lb_undo_set_window(struct lb_undo *u, uint32_t window);

/* Ranges and bytes saved so far. */
uint64_t lb_undo_ranges(const struct lb_undo *u);
uint64_t lb_undo_bytes(const struct lb_undo *u);

/* Close the log file and free; NULL-safe. The log stays on disk. */
void lb_undo_free(struct lb_undo *u);

struct lb_undo_info {
	struct lb_undo_meta meta;
	uint64_t ranges;	      /* valid range records */
	uint64_t bytes;		      /* data bytes in them */
	bool committed;		      /* a valid commit record ends the log */
	bool torn_tail;		      /* bytes after the last valid record (a crash mid-append) */
	bool begun;		      /* an undo of this committed log has started (see above) */
	uint64_t end;		      /* log offset just past the last valid record */
	uint8_t after[LB_SHA256_LEN]; /* the commit's digest, if committed */
};

/*
 * Read and check a whole log without touching any image. Returns 0, -ENOENT,
 * -EBADMSG (bad header: not an undo log, or damaged; or a damaged record that
 * is not a torn tail), -EIO, -ENOMEM (recorded).
 */
int lb_undo_read_info(const char *path, struct lb_undo_info *out);

enum {
	/* Write the old bytes back even if the image changed since the repair. */
	LB_UNDO_FORCE = 1 << 0,
	/* Check everything, write nothing. */
	LB_UNDO_DRY_RUN = 1 << 1,
};

struct lb_undo_result {
	uint64_t ranges, bytes; /* written back (or, with LB_UNDO_DRY_RUN, that would be) */
	bool changed_since;	/* the image's saved ranges no longer hold what the repair left */
	bool already_undone;	/* every saved range already holds its old bytes */
	bool resumed;		/* an earlier undo of this log was interrupted; resumed it */
};

/*
 * Write every saved range of the log at @path back to @dev (the guest disk,
 * opened read-write), then flush. Checks first, writes after: the header must
 * match @dev's size, every record must pass its checksums; for a committed
 * log the current contents must match the commit digest unless LB_UNDO_FORCE
 * (-ESTALE otherwise: "the image changed after the repair"; an image whose
 * saved ranges all hold their old bytes already is not stale). Ranges are
 * written back in reverse log order, then @dev is flushed. Safe to run again
 * after an interruption: for a committed log an "undo begun" record is
 * appended to the log (when it can be opened for writing) before the first
 * write, and a later run that finds it skips the changed-since check. A torn
 * tail is ignored. The log must not be open in an lb_undo (the writer holds
 * a lock on it until lb_undo_free(): -EBUSY). Returns 0, -ENOENT, -EBADMSG,
 * -ESTALE, -EINVAL (size mismatch: another image), -EBUSY, -EIO, -ENOMEM
 * (recorded).
 */
int lb_undo_apply(const char *path, struct lb_dev *dev, unsigned flags, struct lb_undo_result *res);

/*
 * Parse a log held in memory (fuzzing, tests): the checks of
 * lb_undo_read_info(). Returns 0 or -EBADMSG (recorded); allocates nothing.
 */
int lb_undo_parse(const uint8_t *buf, size_t len, struct lb_undo_info *out);

#endif
