/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapshot.h - snapshot records (format: docs/repository-format.md,
 * "Snapshots"): what was backed up, when, and its root blobs.
 */
#ifndef LB_REPO_SNAPSHOT_H
#define LB_REPO_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "repo/crypto.h"

#define LB_SNAPSHOT_MAX (16u << 20) /* bytes of a snapshot object */
#define LB_SNAPSHOT_HEADER 32	    /* its plaintext header */
#define LB_SNAPSHOT_MAX_TAGS 64
/* bytes of the strings (UTF-8, no NUL) */
#define LB_SNAPSHOT_MAX_NAME 4096 /* 1.. */
#define LB_SNAPSHOT_MAX_HOST 255
#define LB_SNAPSHOT_MAX_SOURCE 4096
#define LB_SNAPSHOT_MAX_TAG 255	  /* 1.. */
#define LB_SNAPSHOT_MAX_FORMAT 32 /* 1.. (images) */

enum lb_snapshot_kind {
	LB_SNAP_IMAGE = 1,
	LB_SNAP_FILES = 2,
};

struct lb_snapshot {
	uint8_t id[LB_ID_LEN]; /* SHA-256 of the object (set by decode; not by encode) */
	enum lb_snapshot_kind kind;
	char *name;		   /* the VM or tree */
	struct timespec time;	   /* when the source was captured */
	int64_t started, finished; /* the backup, seconds */
	char *hostname;		   /* NULL encodes as "", decodes as "" */
	char *source;		   /* the path backed up (likewise) */
	size_t ntags;
	char **tags;
	uint8_t parent[LB_ID_LEN]; /* zeros: none */
	/* image (all zero/NULL in a files snapshot) */
	char *format; /* "qcow2", "raw", ... */
	uint64_t virtual_size;
	uint32_t chunk_size;
	size_t nmaps;		    /* lb_map_count(virtual_size, chunk_size) blobs, exactly */
	uint8_t (*maps)[LB_ID_LEN]; /* map blob IDs, in disk order */
	/* files (zeros in an image snapshot) */
	uint8_t root[LB_ID_LEN];
	/* statistics */
	uint64_t bytes_read, bytes_new, bytes_stored, chunks_total, chunks_new;
};

/* Free every field and zero @s (NULL-safe). */
void lb_snapshot_release(struct lb_snapshot *s);

/*
 * The object: 32-byte plaintext header (magic "LBSNAP\r\n", version, header
 * length, salt) and the sealed body (layout: docs/repository-format.md,
 * "Snapshots"). Encode returns 0 and a malloc'ed object the caller frees
 * (the snapshot's ID is the SHA-256 of it: lb_sha256()), -EINVAL (a field
 * out of range: a string too long, empty where it may not be, or not UTF-8;
 * too many tags; a map count that does not match the virtual size; fields
 * of the other kind set), -EOVERFLOW (more map blobs than fit in
 * LB_SNAPSHOT_MAX), -EIO (no random salt, a failed seal), -ENOMEM; recorded.
 */
int lb_snapshot_encode(const struct lb_keys *keys, const struct lb_snapshot *s, uint8_t **out,
		       size_t *len);

/*
 * Decode and check (fuzzed) into @out (release it on success; it is empty
 * on failure), setting out->id to the SHA-256 of @buf. Strings come out
 * non-NULL (format: NULL in a files snapshot). Returns 0, -EBADMSG (bad
 * magic, version or header length; authentication failed: damaged, or
 * another repository's key; a field out of range, not UTF-8, truncated or
 * followed by bytes; a map count inconsistent with the virtual size),
 * -EOVERFLOW (the object over LB_SNAPSHOT_MAX, a string or count over its
 * cap), -ENOMEM (recorded).
 */
int lb_snapshot_decode(const struct lb_keys *keys, const uint8_t *buf, size_t len,
		       struct lb_snapshot *out);

#endif
