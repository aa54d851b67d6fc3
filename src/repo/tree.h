/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tree.h - file trees in the repository: one tree blob per directory
 * (format: docs/repository-format.md, "Tree blobs"), and reading/applying
 * the metadata of host files (what a file-tree backup keeps: mode, owner
 * (numbers and names), times with nanoseconds, symlink targets, hard links,
 * device numbers, extended attributes, sparse files' holes).
 *
 * Decoding is fuzzed: every length is checked against the blob, names may
 * not be empty, ".", ".." or contain '/', entries must be sorted and unique
 * (a restore never writes outside its target). The encoder applies the same
 * rules, so a blob that decodes encodes back to the same bytes.
 *
 * Ownership: every string and array an entry points to is malloc'ed and
 * belongs to the entry (lb_tree_entry_release frees them); a tree owns its
 * entries array. A blob may be larger than a frame (LB_FRAME_MAX_RAW): the
 * repository layer must store such blobs in parts (see the format doc).
 */
#ifndef LB_REPO_TREE_H
#define LB_REPO_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "repo/crypto.h"

/* Caps, checked on both sides (format: docs/repository-format.md, "Tree blobs") */
#define LB_TREE_MAX_ENTRIES (1u << 22)
#define LB_TREE_MAX_BLOB (1u << 30)	 /* bytes of one tree blob */
#define LB_TREE_MAX_NAME 4096		 /* bytes of an entry's name */
#define LB_TREE_MAX_TARGET 4096		 /* bytes of a symlink's target */
#define LB_TREE_MAX_OWNER 256		 /* bytes of a user or group name */
#define LB_TREE_MAX_XATTRS 1024		 /* extended attributes of one entry */
#define LB_TREE_MAX_XATTR_NAME 255	 /* bytes of an attribute's name */
#define LB_TREE_MAX_XATTR (64u << 10)	 /* bytes of one attribute value */
#define LB_TREE_MAX_RUNS (1u << 24)	 /* runs of one file */
#define LB_TREE_MAX_DATA_RUN (64u << 20) /* bytes of one data run (one chunk) */

enum lb_tree_type {
	LB_TREE_FILE = 1,
	LB_TREE_DIR,
	LB_TREE_SYMLINK,
	LB_TREE_CHR,
	LB_TREE_BLK,
	LB_TREE_FIFO,
	LB_TREE_SOCK,
};

/* A file's content: runs of holes and of stored chunks, in order. */
struct lb_tree_run {
	bool hole;
	uint64_t len;	       /* bytes */
	uint8_t id[LB_ID_LEN]; /* the chunk, when not a hole */
};

struct lb_xattr {
	char *name;
	uint8_t *value;
	size_t len;
};

struct lb_tree_entry {
	char *name;
	enum lb_tree_type type;
	uint32_t mode; /* permission and special bits (07777) */
	uint32_t uid, gid;
	char *user, *group; /* names at backup time, or NULL */
	struct timespec atime, mtime, ctime;
	uint64_t size;
	uint64_t rdev;	   /* CHR/BLK */
	uint64_t hardlink; /* entries with the same non-zero number are one inode */
	char *target;	   /* SYMLINK */
	size_t nxattrs;
	struct lb_xattr *xattrs;
	size_t nruns; /* FILE */
	struct lb_tree_run *runs;
	uint8_t subtree[LB_ID_LEN]; /* DIR: its tree blob */
};

struct lb_tree {
	size_t n;
	struct lb_tree_entry *e;
};

void lb_tree_entry_release(struct lb_tree_entry *e);
void lb_tree_release(struct lb_tree *t);

/*
 * Encode into a malloc'ed buffer (the caller frees it). Entries must be
 * sorted by name (strcmp) and unique and pass every check the decoder makes
 * (names, lengths, caps, sizes; docs/repository-format.md); adjacent hole
 * runs are merged. Returns 0, -EINVAL (an entry breaks a rule: recorded,
 * naming it), -EOVERFLOW (the blob would exceed LB_TREE_MAX_BLOB), -ENOMEM.
 */
int lb_tree_encode(const struct lb_tree *t, uint8_t **out, size_t *len);

/*
 * Decode and check (fills @out; the caller releases it on success; it is
 * empty on failure). Strings come out NUL-terminated; an absent user,
 * group or target is NULL. Returns 0, -EBADMSG (bad magic or version,
 * truncated, trailing bytes, a rule broken), -EOVERFLOW (a count or length
 * over a cap), -ENOMEM (recorded).
 */
int lb_tree_decode(const uint8_t *buf, size_t len, struct lb_tree *out);

/*
 * Read the metadata of @name in directory @dirfd (not following symlinks)
 * into @e, which is overwritten (release it): name (a copy of @name), type,
 * mode, owner numbers and names (NULL where the system has none), times,
 * size (files: st_size; symlinks: the target's length; else 0), rdev
 * (devices), target (symlinks), xattrs of every namespace the caller may
 * read (sorted by name). Runs and hardlink are the caller's. @dev_out,
 * @ino_out, @nlink_out (may be NULL) give what hard-link detection needs.
 * Returns 0 or -errno (recorded; @e is then empty): those of fstatat,
 * readlinkat, llistxattr, lgetxattr; -ENOTSUP (an unknown file type),
 * -EOVERFLOW (an attribute over the caps), -ENAMETOOLONG, -ENOMEM.
 */
int lb_meta_read(int dirfd, const char *name, struct lb_tree_entry *e, uint64_t *dev_out,
		 uint64_t *ino_out, uint64_t *nlink_out);

enum {
	LB_META_OWNER = 1 << 0,	  /* chown (root only); else owners are left as they come */
	LB_META_XATTRS = 1 << 1,  /* set the extended attributes */
	LB_META_BY_NAME = 1 << 2, /* with OWNER: map user and group names to this system's
				     ids where they exist (like tar), else use the numbers */
};

/*
 * Apply @e's metadata to the existing @name in @dirfd (after its content is
 * written; its type must be @e's): owner (with LB_META_OWNER), mode (not for
 * symlinks), xattrs (with LB_META_XATTRS; existing ones are left), then
 * times last (atime and mtime; ctime cannot be set). Nothing follows a
 * symlink.
 *
 * An attribute the target refuses because it is in a privileged namespace
 * ("security.*", "trusted.*" as non-root: EPERM/EACCES) or because the file
 * system does not support it (ENOTSUP) is skipped, not fatal: the rest is
 * applied, and the number skipped is returned (> 0) with a message recorded
 * (code -EPERM or -ENOTSUP, naming the first) for the caller to show as a
 * warning. Returns that count (0: everything applied), or -errno (recorded):
 * -EINVAL (@name is of another type), or those of fstatat, fchownat,
 * fchmodat, lsetxattr, utimensat.
 */
int lb_meta_apply(int dirfd, const char *name, const struct lb_tree_entry *e, unsigned flags);

#endif
