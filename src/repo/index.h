/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * index.h - which chunk is where: the in-memory table, and the index objects
 * that persist it (format: docs/repository-format.md, "Index objects").
 *
 * In memory, one entry per stored chunk: the first 16 bytes of its ID, its
 * frame (an index into the frame table) and its offset and length in the
 * frame: 28 bytes, in an open-addressing hash table kept at most 80 % full.
 * Frames (pack number, offset, lengths) and packs (ID, salt, size) have
 * tables of their own. Memory grows with the unique chunks stored, never
 * with the number of snapshots.
 *
 * Chunks a running backup has queued but not yet written (their pack is not
 * finished) are added with lb_index_add_pending(): a lookup finds them (so
 * they are not stored twice) but cannot locate them until their pack is added.
 * If their pack is never finished, lb_index_drop_pending() forgets them: a
 * later backup must not dedupe against chunks that were never stored.
 *
 * The table is split into 4096 shards (by hash), each an open-addressing
 * table with linear probing that grows by 1/8 when it would pass 80 % full:
 * the load stays between 71 % and 80 % (35-39 bytes per chunk), and growing
 * copies one small shard, never the whole table. The hash is the ID's first
 * 16 bytes times two random odd multipliers (per index), so even the plain
 * SHA-256 IDs of an unencrypted repository cannot be chosen to collide.
 *
 * Threads: lookups may run in parallel with each other, not with a change
 * (add_pack, add_pending, drop_pending, load); the caller serialises.
 */
#ifndef LB_REPO_INDEX_H
#define LB_REPO_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repo/crypto.h"
#include "repo/pack.h"
#include "store/store.h"

#define LB_INDEX_MAX_OBJECT (1u << 30) /* bytes of one index object, at most */
#define LB_INDEX_MAX_BODY (1u << 30)   /* bytes of its body, decompressed, at most */
/*
 * Packs a writer should put in one index object, at most (about 2 M chunks
 * of 8 KiB, a body of about 90 MB): a larger backup writes several objects.
 */
#define LB_INDEX_OBJECT_PACKS 1024

struct lb_index;

/* Where a chunk is. */
struct lb_index_loc {
	bool pending;		  /* queued in this process, not yet in a finished pack */
	const uint8_t *pack_id;	  /* 32 bytes, valid while the index lives */
	const uint8_t *pack_salt; /* 16 bytes */
	uint32_t pack;		  /* pack number in this index */
	uint32_t frame_no;	  /* frame number in its pack */
	struct lb_frame_info frame;
	uint32_t off, len; /* in the frame's raw bytes */
};

/* A new, empty index (free with lb_index_free). Returns 0, -ENOMEM, -EIO (no randomness). */
int lb_index_new(struct lb_index **out);
void lb_index_free(struct lb_index *ix);

/*
 * Add every chunk of a pack. A chunk already present elsewhere keeps its
 * first location (duplicates across packs are harmless); a pending one gets
 * this location. A pack already added is ignored. All or nothing: on error
 * the index is unchanged. @p is copied. Returns 0, -EINVAL (a chunk in a
 * frame the pack does not have), -EOVERFLOW (more than 2^32 - 3 frames or 2^29 packs in
 * all), -ENOMEM.
 */
int lb_index_add_pack(struct lb_index *ix, const struct lb_pack_info *p);

/*
 * Make room for about @nchunks more chunks now (when their number is known,
 * as lb_index_load estimates it from the index objects' sizes): adding them
 * then does not grow the table step by step. Returns 0, -ENOMEM.
 */
int lb_index_reserve(struct lb_index *ix, uint64_t nchunks);

/* Mark @id as queued for writing. Returns 0, -EEXIST (already known), -ENOMEM. */
int lb_index_add_pending(struct lb_index *ix, const uint8_t id[LB_ID_LEN]);

/* Forget every pending chunk (their pack was abandoned). Returns how many. */
uint64_t lb_index_drop_pending(struct lb_index *ix);

/* true if @id is known (stored or pending); fills @loc if not NULL. */
bool lb_index_lookup(const struct lb_index *ix, const uint8_t id[LB_ID_LEN],
		     struct lb_index_loc *loc);

bool lb_index_has_pack(const struct lb_index *ix, const uint8_t id[LB_ID_LEN]);

/*
 * Counts and the bytes the tables use (for --json stats and the docs'
 * figure). lb_index_chunks counts stored and pending chunks.
 */
uint64_t lb_index_chunks(const struct lb_index *ix);
uint64_t lb_index_pending(const struct lb_index *ix);
uint32_t lb_index_packs(const struct lb_index *ix);
size_t lb_index_memory(const struct lb_index *ix);

/* Call @fn for each pack (check, prune), in the order added; a negative return stops and is returned. */
int lb_index_foreach_pack(const struct lb_index *ix,
			  int (*fn)(void *ctx, const uint8_t id[LB_ID_LEN], uint64_t size),
			  void *ctx);

/*
 * Encode an index object for @n packs (plaintext header, zstd-compressed
 * body sealed with a key derived from @keys and a fresh salt). Returns 0 and
 * a malloc'ed object (free() it; store it as lb_index_object_name() says),
 * -EOVERFLOW (a body over LB_INDEX_MAX_BODY: split the packs over several
 * objects), -ENOMEM, -EIO.
 *
 *   0  magic "LBINDX\r\n"  8  version (1)  12  header length (32)  16  salt (16)
 *  32  seal(zstd(body)), aad "lifeboat-index" | salt, key "index" | salt
 *  body: pack count (4), then per pack: ID (32), salt (16), size (8),
 *        trailer length (4), the pack's trailer plaintext
 */
int lb_index_object_encode(const struct lb_keys *keys, const struct lb_pack_info *packs, size_t n,
			   uint8_t **out, size_t *len);

/*
 * Decode an index object and call @fn for each pack in it (the info is only
 * valid during the call). Returns 0, -EBADMSG (damaged, or another key),
 * -EOVERFLOW (over LB_INDEX_MAX_OBJECT or LB_INDEX_MAX_BODY, or a trailer's
 * counts over the caps), -ENOMEM, or @fn's negative return. Fuzzed.
 */
int lb_index_object_decode(const struct lb_keys *keys, const uint8_t *buf, size_t len,
			   int (*fn)(void *ctx, const struct lb_pack_info *p), void *ctx);

/* The body parser of lb_index_object_decode (plaintext, decompressed). Fuzzed. */
int lb_index_body_parse(const uint8_t *body, size_t len,
			int (*fn)(void *ctx, const struct lb_pack_info *p), void *ctx);

/* "index/<64 hex>": the SHA-256 of the object's bytes. Returns 0 or -ENOMEM. */
int lb_index_object_name(const uint8_t *obj, size_t len, char out[80]);

/* "index/<64 hex>": the store name of an index object (the SHA-256 of its bytes). */
int lb_index_object_name(const uint8_t *obj, size_t len, char out[80]);

/*
 * Load a repository's index: every index/ object (its SHA-256 checked
 * against its name), then every pack under data/ that no index lists (left
 * by an interrupted backup), from its own trailer. @orphans (may be NULL;
 * then @norphans may be too) gets the list of those packs' infos (the
 * caller writes an index object for them, so the next load is quicker;
 * release each with lb_pack_info_release and free the array). A damaged
 * index object is an error (run 'lifeboat check'); a damaged orphan pack
 * (-EBADMSG, -ENODATA, -EOVERFLOW) is skipped and counted in @bad_orphans
 * (may be NULL); one that vanished meanwhile (-ENOENT) is skipped. Objects
 * whose names are not an index or pack name are ignored. Returns 0 or an
 * error (the index then holds what was loaded so far).
 */
int lb_index_load(struct lb_index *ix, struct lb_store *s, const struct lb_keys *keys,
		  struct lb_pack_info **orphans, size_t *norphans, size_t *bad_orphans);

#endif
