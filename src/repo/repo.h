/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * repo.h - a repository: its store, config and keys, the index, writing
 * chunks (deduplicated, in frames and packs, on every core) and reading them
 * back (each one verified), and snapshots. Format: docs/repository-format.md.
 *
 * Write order is what makes a repository crash-safe: a writer's packs are
 * committed first, then the index object listing them (lb_repo_writer_flush),
 * and only then may a snapshot referring to their chunks be saved. Nothing
 * is ever rewritten.
 *
 * Threads: a writer uses a pool of worker threads internally (compressing
 * and sealing frames) and may be fed from one thread; lb_repo_hash() is
 * thread-safe with one lb_idhash per thread. Chunk readers are per thread.
 */
#ifndef LB_REPO_REPO_H
#define LB_REPO_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/pool.h"
#include "repo/config.h"
#include "repo/crypto.h"
#include "repo/index.h"
#include "repo/pack.h"
#include "repo/snapshot.h"
#include "store/store.h"

struct lb_repo {
	struct lb_store *store;
	struct lb_repo_config cfg;
	struct lb_keys keys;
	struct lb_index *index; /* NULL until lb_repo_load_index() */
	struct lb_pool *pool;	/* NULL until first needed */
	size_t orphans_adopted; /* packs of interrupted backups found by the last index load */
};

struct lb_repo_init_opts {
	bool encrypted;	      /* false: --no-encryption */
	uint32_t image_chunk; /* 0: default (8 KiB) */
};

/*
 * Create a repository at @url (a folder, created if missing; it must be
 * empty of a repository). Returns 0 and the open repository, -EEXIST (one is
 * there already), a store error, -ENOMEM.
 */
int lb_repo_init(const char *url, const char *password, const struct lb_repo_init_opts *o,
		 struct lb_repo **out);

/*
 * Open the repository at @url with @password (ignored if unencrypted).
 * Returns 0, -ENOENT (no repository there), -EBADMSG (damaged config or
 * keys), -EACCES (wrong password), -ENOTSUP (a newer format).
 */
int lb_repo_open(const char *url, const char *password, struct lb_repo **out);
void lb_repo_close(struct lb_repo *r);

/* true if the repository needs a password (it is encrypted). @url must hold one. */
int lb_repo_needs_password(const char *url, bool *out);

/*
 * Load the index (once): index objects, then packs no index lists (an
 * interrupted backup's), which get an index object of their own so that the
 * next load is quick. Returns 0 or an error.
 */
int lb_repo_load_index(struct lb_repo *r);

/* The worker pool (started on first use). Returns 0 or -ENOMEM. */
int lb_repo_pool(struct lb_repo *r, struct lb_pool **out);

/* ---- writing ------------------------------------------------------------------- */

struct lb_repo_writer;

struct lb_repo_stats {
	uint64_t chunks_total, chunks_new;
	uint64_t bytes_total;  /* bytes of chunks offered */
	uint64_t bytes_new;    /* of which new (not in the repository) */
	uint64_t bytes_stored; /* what the new ones cost in packs (compressed, sealed) */
	uint64_t packs;
};

/* Start writing (loads the index). Returns 0 or an error. */
int lb_repo_writer_new(struct lb_repo *r, struct lb_repo_writer **out);

/*
 * Offer one chunk whose ID the caller computed (lb_repo_hash). A known chunk
 * costs nothing; a new one is copied into the current frame. Returns 1 (new),
 * 0 (known), or an error (a failed frame or pack write: the writer is then
 * unusable; free it).
 */
int lb_repo_writer_add(struct lb_repo_writer *w, enum lb_chunk_type type,
		       const uint8_t id[LB_ID_LEN], const void *data, size_t len);

/*
 * Metadata blobs (map and tree blobs) larger than LB_BLOB_PART are stored in
 * parts of LB_BLOB_PART bytes (the last shorter), each one chunk of the
 * blob's type, and the blob's ID is that of a list of the parts
 * (docs/repository-format.md, "Blob parts"):
 *   off 0  magic "LBPB"   4  version (1)   8  total length (8 bytes)
 *   16  number of parts (4)   20  the parts' IDs, 32 bytes each
 * Map and tree blobs start with their own magic, so a list is never taken
 * for one. A blob is at most LB_BLOB_MAX bytes.
 */
#define LB_BLOB_PART (4u << 20)
#define LB_BLOB_MAX (1u << 30)
#define LB_BLOB_PARTS_MAGIC "LBPB"
#define LB_BLOB_PARTS_HEADER 20

/*
 * Hash and add a metadata blob (in parts if it is large). Returns 1 (something
 * was new), 0 or an error as above, the blob's ID in @id.
 */
int lb_repo_writer_add_blob(struct lb_repo_writer *w, enum lb_chunk_type type, const void *data,
			    size_t len, uint8_t id[LB_ID_LEN]);

/*
 * Write everything queued: the last frame, the last pack, then an index
 * object for every pack this writer made. After it returns 0, every chunk
 * added is durable and listed: a snapshot may refer to them.
 */
int lb_repo_writer_flush(struct lb_repo_writer *w);

const struct lb_repo_stats *lb_repo_writer_stats(const struct lb_repo_writer *w);

/* Abandon what is not flushed (packs already committed stay: the next backup adopts them). */
void lb_repo_writer_free(struct lb_repo_writer *w);

/* The chunk ID of @data (HMAC-SHA-256 or SHA-256). Thread-safe with one @h per thread. */
int lb_repo_hash(struct lb_idhash *h, const void *data, size_t len, uint8_t id[LB_ID_LEN]);

/* ---- reading ------------------------------------------------------------------- */

struct lb_chunk_reader;

/* A reader with a cache of decoded frames (one per thread). Loads the index. */
int lb_chunk_reader_new(struct lb_repo *r, struct lb_chunk_reader **out);
void lb_chunk_reader_free(struct lb_chunk_reader *cr);

/*
 * Read chunk @id into @buf (room for @cap bytes); its length in @len. The
 * frame is authenticated and the chunk's ID recomputed. Returns 0, -ENOENT
 * (not in the index), -EBADMSG (damaged: the message names the pack),
 * -ENODATA (a pack is truncated), -EOVERFLOW (@cap too small), -EIO.
 */
int lb_chunk_read(struct lb_chunk_reader *cr, const uint8_t id[LB_ID_LEN], uint8_t *buf, size_t cap,
		  size_t *len);

/*
 * Read a whole blob (map, tree) into a malloc'ed buffer, joining its parts if
 * it was stored in parts. Same errors.
 */
int lb_chunk_read_alloc(struct lb_chunk_reader *cr, const uint8_t id[LB_ID_LEN], uint8_t **out,
			size_t *len);

/*
 * If @list (a chunk's bytes) is a list of blob parts: check it and return 1,
 * with the blob's length and number of parts (their IDs follow the header).
 * Returns 0 if it is not a list, -EBADMSG if it is a malformed one (recorded).
 */
int lb_blob_parts_decode(const uint8_t *list, size_t len, uint64_t *total, uint32_t *nparts);

/* ---- snapshots --------------------------------------------------------------------- */

/* Save @s (after lb_repo_writer_flush): "snapshots/<sha256>"; sets s->id. */
int lb_repo_save_snapshot(struct lb_repo *r, struct lb_snapshot *s);

/*
 * Every snapshot, sorted by capture time then ID (release each and free the
 * array). A snapshot object that cannot be read is an error (check).
 */
int lb_repo_list_snapshots(struct lb_repo *r, struct lb_snapshot **out, size_t *n);

/*
 * Resolve a snapshot reference: an ID or a unique prefix of at least 4 hex
 * digits; "latest" (the newest); "NAME@latest"; "NAME@TIME" (the newest of
 * NAME captured strictly before TIME, ISO 8601 with a zone). Returns 0, -ENOENT
 * (none matches: the message says what there is), -EINVAL (a bad reference or
 * an ambiguous prefix).
 */
int lb_repo_find_snapshot(struct lb_repo *r, const char *ref, struct lb_snapshot *out);

/* "snapshots/<64 hex>" */
char *lb_snapshot_name(const uint8_t id[LB_ID_LEN], char out[80]);

#endif
