/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store.h - where repository objects live: a local directory today, S3-
 * compatible object storage next. One interface, shaped by object storage:
 *
 *  - objects are immutable and named by '/'-separated paths ("config",
 *    "data/3f/3f5c...", "index/...", "snapshots/...");
 *  - writes are create-only: writing a name that exists fails with -EEXIST
 *    and leaves the existing object alone; an object becomes visible only
 *    complete (no partial object is ever seen by a reader, even after a
 *    crash);
 *  - reads are whole or ranged (an offset and a length);
 *  - listing is by prefix; deleting removes one object.
 *  No renames, no appends, no in-place updates.
 *
 * Local directory layout: the object "a/b/c" is the file ROOT/a/b/c. A write
 * goes to a temporary file in the same directory ("c.tmp.XXXXXX", ignored by
 * listings), is fsync'ed, linked to its name (link(2) fails if the name
 * exists: create-only), unlinked, and the directory fsync'ed.
 *
 * S3 (s3://BUCKET/PREFIX, src/store/s3.c, docs/s3.md): the object "a/b" is
 * the key "PREFIX/a/b"; single PUTs with If-None-Match: * (create-only), and
 * multipart uploads for streamed objects larger than one part (8 MiB), whose
 * completion is create-only only as far as a HEAD before it can tell (two
 * writers completing the same name at the same instant can both succeed;
 * pack names are random, so packs never meet this).
 *
 * Any thread may call any function on a store; a writer is used by one
 * thread at a time.
 *
 * Error codes (recorded): -ENOENT (no such object / store / bucket),
 * -EEXIST, -ENOSPC, -EIO (also: the S3 server could not be reached after the
 * retries), -EACCES (also: S3 credentials refused), -EINVAL (a bad name:
 * empty, absolute, "." or ".." components; a bad URL), -ENOMEM, -ENOTSUP (a
 * URL scheme this build does not have).
 */
#ifndef LB_STORE_STORE_H
#define LB_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lb_store;
struct lb_store_writer;

enum {
	LB_STORE_CREATE = 1 << 0, /* lb_store_open: create the root if missing (init) */
};

/*
 * Open the store at @url: a directory path (or file:///path), or
 * s3://BUCKET/PREFIX. Returns 0 and the store (close with lb_store_close()),
 * -ENOENT (the directory does not exist, without LB_STORE_CREATE; the bucket
 * does not exist), -ENOTDIR, -EACCES (also: no or refused S3 credentials),
 * -EEXIST (S3 with LB_STORE_CREATE: the prefix holds objects other than a
 * repository's), -EINVAL (a bad URL or S3 setting), -EIO.
 */
int lb_store_open(const char *url, unsigned flags, struct lb_store **out);
void lb_store_close(struct lb_store *s);

/*
 * The S3 endpoint (scheme://host[:port]) for s3:// stores opened after this
 * call; NULL: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS. The string
 * must outlive the stores (the CLI passes an argv string).
 */
void lb_store_set_s3_endpoint(const char *url);

/* The URL as given, for messages. */
const char *lb_store_url(const struct lb_store *s);

/* Write a whole object, create-only. Returns 0, -EEXIST, -ENOSPC, -EIO, -EINVAL. */
int lb_store_put(struct lb_store *s, const char *name, const void *data, size_t len);

/*
 * Stream a large object (a pack): create, write any number of times, then
 * commit (durable and visible, create-only: -EEXIST) or abort (nothing
 * visible). The writer is freed by commit and abort, whatever they return.
 */
int lb_store_create(struct lb_store *s, const char *name, struct lb_store_writer **out);
int lb_store_write(struct lb_store_writer *w, const void *data, size_t len);
int lb_store_commit(struct lb_store_writer *w);
void lb_store_abort(struct lb_store_writer *w);

/*
 * Read exactly @len bytes at @off of object @name. Returns 0, -ENOENT,
 * -ENODATA (the object is shorter than @off + @len: truncated), -EIO.
 */
int lb_store_get(struct lb_store *s, const char *name, uint64_t off, size_t len, void *buf);

/*
 * Read a whole object of at most @max bytes into a malloc'ed buffer (free()
 * it). Returns 0, -ENOENT, -EFBIG (larger than @max), -ENOMEM, -EIO.
 */
int lb_store_get_all(struct lb_store *s, const char *name, size_t max, uint8_t **data, size_t *len);

/* Size of an object. Returns 0, -ENOENT, -EIO. */
int lb_store_stat(struct lb_store *s, const char *name, uint64_t *size);

/*
 * Call @fn for each object whose name starts with @prefix (a folder such as
 * "snapshots/" or "data/"), in no particular order; a negative return from
 * @fn stops the listing and is returned. Returns 0 or an error.
 */
typedef int (*lb_store_list_fn)(void *ctx, const char *name, uint64_t size);
int lb_store_list(struct lb_store *s, const char *prefix, lb_store_list_fn fn, void *ctx);

/* Remove one object. Returns 0, -ENOENT, -EIO. */
int lb_store_delete(struct lb_store *s, const char *name);

#endif
