/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * index.c - the in-memory chunk index and index objects.
 *
 * Entries are 28 bytes: the ID's first 16 bytes and {ref, off, len}, where
 * ref is 0 for an empty slot, REF_PENDING for a chunk queued but not yet in
 * a finished pack, and otherwise 1 + its frame's number in the frame table.
 * (0 for empty lets a new shard come from calloc.)
 *
 * A change either completes or leaves the index as it was: lb_index_add_pack
 * first makes room everywhere (frames, packs, every shard it will touch),
 * then inserts, which cannot fail.
 */
#include "repo/index.h"
#include "base/cleanup.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARD_BITS 12
#define NSHARDS (1u << SHARD_BITS)
#define SHARD_MIN_CAP 8
#define SHARD_MAX_CAP (1u << 30)
#define REF_EMPTY 0u
#define REF_PENDING UINT32_MAX
#define MAX_FRAMES (UINT32_MAX - 2u) /* refs 1 .. UINT32_MAX - 1 */
#define PACK_BLOCK 1024		     /* packs per block: their addresses never change */
#define MAX_PACKS (1u << 29)	     /* 8 PiB of 16 MiB packs */
#define PREFETCH 8		     /* chunks ahead whose slot add_pack prefetches */

#define INDEX_MAGIC "LBINDX\r\n"
#define INDEX_VERSION 1
#define INDEX_HEADER 32
#define INDEX_AAD "lifeboat-index"
#define INDEX_LEVEL 3
#define PACK_RECORD 60 /* ID, salt, size, trailer length */

#define HINT_CHECK "run 'lifeboat check'"

struct entry {
	uint8_t id[16];
	uint32_t ref, off, len;
};
_Static_assert(sizeof(struct entry) == 28, "an index entry is 28 bytes");

struct shard {
	struct entry *e;
	uint32_t n, cap;
};

struct frame {
	uint64_t off;
	uint32_t pack, frame_no, sealed_len, raw_len;
};

struct pack {
	uint8_t id[LB_ID_LEN];
	uint8_t salt[LB_SALT_LEN];
	uint64_t size;
};

struct lb_index {
	uint64_t mul[2]; /* the hash's multipliers: random and odd */
	struct shard shards[NSHARDS];
	uint32_t *room;	   /* scratch of add_pack: new chunks per shard, zero between calls */
	uint16_t *touched; /* scratch of add_pack: the shards with room[] set */
	uint64_t nchunks, npending;
	struct frame *frames;
	uint32_t nframes, frames_cap;
	struct pack **blocks;
	uint32_t npacks, blocks_cap;
	uint32_t *pack_table; /* pack number + 1, 0 empty; a power of two, at most half full */
	uint32_t pack_table_cap;
};

/* ---- hashing and probing ------------------------------------------------------------ */

static inline uint64_t hash16(const struct lb_index *ix, const uint8_t *id)
{
	return lb_le64(id) * ix->mul[0] + lb_le64(id + 8) * ix->mul[1];
}

static inline struct shard *shard_of(const struct lb_index *ix, uint64_t h)
{
	return (struct shard *)&ix->shards[h >> (64 - SHARD_BITS)];
}

/* The home slot: the next 32 bits of the hash, scaled to the capacity. */
static inline uint32_t home(uint64_t h, uint32_t cap)
{
	return (uint32_t)(((h >> (32 - SHARD_BITS)) & 0xffffffffu) * (uint64_t)cap >> 32);
}

/* The slot holding @id, or the empty slot where it would go (the shard has room). */
static uint32_t probe(const struct shard *sh, const uint8_t *id, uint64_t h, bool *found)
{
	uint32_t i = home(h, sh->cap);

	for (;;) {
		const struct entry *e = &sh->e[i];

		if (e->ref == REF_EMPTY) {
			*found = false;
			return i;
		}
		if (!memcmp(e->id, id, 16)) {
			*found = true;
			return i;
		}
		if (++i == sh->cap)
			i = 0;
	}
}

/* Move the entries of @sh into a new table of @cap slots. */
static int rehash(const struct lb_index *ix, struct shard *sh, uint32_t cap)
{
	struct entry *e = calloc(cap, sizeof(*e));
	uint32_t n = 0;

	if (!e)
		return -ENOMEM;
	for (uint32_t i = 0; i < sh->cap; i++) {
		const struct entry *old = &sh->e[i];
		struct shard tmp = {e, n, cap};
		bool found;

		if (old->ref == REF_EMPTY)
			continue;
		e[probe(&tmp, old->id, hash16(ix, old->id), &found)] = *old;
		n++;
	}
	free(sh->e);
	sh->e = e;
	sh->n = n;
	sh->cap = cap;
	return 0;
}

/* Make room in @sh for @extra more entries at most 80 % full; grows by at least 1/8. */
static int shard_reserve(const struct lb_index *ix, struct shard *sh, uint64_t extra)
{
	uint64_t need = sh->n + extra, cap;

	if (extra > SHARD_MAX_CAP)
		return lb_err(-ENOMEM, "index", NULL, "%llu chunks for one shard of the index",
			      (unsigned long long)extra);
	if (need * 5 <= (uint64_t)sh->cap * 4)
		return 0;
	cap = LB_MAX((uint64_t)sh->cap + sh->cap / 8, (need * 5 + 3) / 4);
	cap = LB_MAX(cap, (uint64_t)SHARD_MIN_CAP);
	if (cap > SHARD_MAX_CAP)
		return lb_err(-ENOMEM, "index", NULL, "a shard of the index would need %llu slots",
			      (unsigned long long)cap);
	return rehash(ix, sh, (uint32_t)cap);
}

/* ---- packs ---------------------------------------------------------------------------- */

static inline struct pack *pack_at(const struct lb_index *ix, uint32_t i)
{
	return &ix->blocks[i / PACK_BLOCK][i % PACK_BLOCK];
}

static uint32_t pack_slot(const struct lb_index *ix, const uint8_t *id, bool *found)
{
	uint32_t mask = ix->pack_table_cap - 1;
	uint32_t i = (uint32_t)((lb_le64(id) * ix->mul[0]) >> 32) & mask;

	for (;; i = (i + 1) & mask) {
		uint32_t v = ix->pack_table[i];

		if (!v || !memcmp(pack_at(ix, v - 1)->id, id, LB_ID_LEN)) {
			*found = v != 0;
			return i;
		}
	}
}

bool lb_index_has_pack(const struct lb_index *ix, const uint8_t id[LB_ID_LEN])
{
	bool found = false;

	if (ix->pack_table_cap)
		pack_slot(ix, id, &found);
	return found;
}

/* Room for one more pack: its block and a pack-table slot. */
static int packs_reserve(struct lb_index *ix)
{
	uint32_t nb = ix->npacks / PACK_BLOCK;

	if (ix->npacks >= MAX_PACKS)
		return lb_err(-EOVERFLOW, "index", NULL, "more than %u packs", MAX_PACKS);
	if (nb >= ix->blocks_cap) {
		uint32_t cap = ix->blocks_cap ? ix->blocks_cap * 2 : 16;
		struct pack **b = reallocarray(ix->blocks, cap, sizeof(*b));

		if (!b)
			return -ENOMEM;
		memset(b + ix->blocks_cap, 0, (cap - ix->blocks_cap) * sizeof(*b));
		ix->blocks = b;
		ix->blocks_cap = cap;
	}
	if (!ix->blocks[nb]) {
		ix->blocks[nb] = malloc(PACK_BLOCK * sizeof(struct pack));
		if (!ix->blocks[nb])
			return -ENOMEM;
	}
	if ((uint64_t)(ix->npacks + 1) * 2 > ix->pack_table_cap) {
		uint32_t cap = ix->pack_table_cap ? ix->pack_table_cap * 2 : 64;
		uint32_t *t = calloc(cap, sizeof(*t)), *old = ix->pack_table;

		if (!t)
			return -ENOMEM;
		ix->pack_table = t;
		ix->pack_table_cap = cap;
		for (uint32_t i = 0; i < ix->npacks; i++) {
			bool found;

			t[pack_slot(ix, pack_at(ix, i)->id, &found)] = i + 1;
		}
		free(old);
	}
	return 0;
}

/* ---- the index ------------------------------------------------------------------------ */

int lb_index_new(struct lb_index **out)
{
	struct lb_index *ix = calloc(1, sizeof(*ix));
	int r;

	if (!ix)
		return -ENOMEM;
	ix->room = calloc(NSHARDS, sizeof(*ix->room));
	ix->touched = calloc(NSHARDS, sizeof(*ix->touched));
	r = ix->room && ix->touched ? lb_random(ix->mul, sizeof(ix->mul)) : -ENOMEM;
	if (r < 0) {
		lb_index_free(ix);
		return r;
	}
	ix->mul[0] |= 1;
	ix->mul[1] |= 1;
	*out = ix;
	return 0;
}

void lb_index_free(struct lb_index *ix)
{
	if (!ix)
		return;
	for (uint32_t i = 0; i < NSHARDS; i++)
		free(ix->shards[i].e);
	for (uint32_t i = 0; i < ix->blocks_cap; i++)
		free(ix->blocks[i]);
	free(ix->blocks);
	free(ix->pack_table);
	free(ix->frames);
	free(ix->room);
	free(ix->touched);
	free(ix);
}

/* Make room in every shard for the chunks of @p (counted per shard in @ix->room). */
static int reserve_for(struct lb_index *ix, const struct lb_pack_info *p)
{
	uint32_t ntouched = 0;
	int r = 0;

	for (uint32_t i = 0; i < p->nchunks; i++) {
		uint32_t s = (uint32_t)(hash16(ix, p->chunks[i].id) >> (64 - SHARD_BITS));

		if (!ix->room[s]++)
			ix->touched[ntouched++] = (uint16_t)s;
	}
	for (uint32_t i = 0; i < ntouched; i++) {
		uint32_t s = ix->touched[i];

		if (r == 0)
			r = shard_reserve(ix, &ix->shards[s], ix->room[s]);
		ix->room[s] = 0; /* ready for the next call */
	}
	return r;
}

int lb_index_reserve(struct lb_index *ix, uint64_t nchunks)
{
	uint64_t per = nchunks / NSHARDS;

	for (uint32_t s = 0; s < NSHARDS && per; s++) {
		int r = shard_reserve(ix, &ix->shards[s], per);

		if (r < 0)
			return r;
	}
	return 0;
}

int lb_index_add_pack(struct lb_index *ix, const struct lb_pack_info *p)
{
	uint32_t base = ix->nframes, pn = ix->npacks;
	bool found;
	int r;

	if (lb_index_has_pack(ix, p->id))
		return 0;
	for (uint32_t i = 0; i < p->nchunks; i++)
		if (p->chunks[i].frame >= p->nframes)
			return lb_err(-EINVAL, "index", NULL, "chunk %u is in frame %u of %u", i,
				      p->chunks[i].frame, p->nframes);
	if (p->nframes > MAX_FRAMES - ix->nframes)
		return lb_err(-EOVERFLOW, "index", NULL, "too many frames");

	/* make room for everything first: what follows cannot fail */
	if (ix->nframes + p->nframes > ix->frames_cap) {
		uint64_t cap = LB_MAX((uint64_t)ix->frames_cap * 3 / 2,
				      (uint64_t)ix->nframes + p->nframes);
		struct frame *f;

		cap = LB_MIN(LB_MAX(cap, (uint64_t)256), (uint64_t)MAX_FRAMES);
		f = reallocarray(ix->frames, (size_t)cap, sizeof(*f));
		if (!f)
			return -ENOMEM;
		ix->frames = f;
		ix->frames_cap = (uint32_t)cap;
	}
	r = packs_reserve(ix);
	if (r < 0)
		return r;
	r = reserve_for(ix, p);
	if (r < 0)
		return r;

	*pack_at(ix, pn) = (struct pack){.size = p->size};
	memcpy(pack_at(ix, pn)->id, p->id, LB_ID_LEN);
	memcpy(pack_at(ix, pn)->salt, p->salt, LB_SALT_LEN);
	ix->pack_table[pack_slot(ix, p->id, &found)] = pn + 1;
	ix->npacks++;
	for (uint32_t i = 0; i < p->nframes; i++)
		ix->frames[base + i] = (struct frame){
			p->frames[i].off, pn, i, p->frames[i].sealed_len, p->frames[i].raw_len};
	ix->nframes += p->nframes;
	for (uint32_t i = 0; i < p->nchunks; i++) {
		const struct lb_chunk_ref *c = &p->chunks[i];
		uint64_t h = hash16(ix, c->id);
		struct shard *sh = shard_of(ix, h);
		struct entry *e;

		/* the table is far larger than the caches: ask early for a later chunk's slot */
		if (i + PREFETCH < p->nchunks) {
			uint64_t h2 = hash16(ix, p->chunks[i + PREFETCH].id);
			const struct shard *sh2 = shard_of(ix, h2);

			__builtin_prefetch(&sh2->e[home(h2, sh2->cap)], 1);
		}
		e = &sh->e[probe(sh, c->id, h, &found)];

		if (found && e->ref != REF_PENDING)
			continue; /* stored elsewhere already: keep the first copy */
		if (!found) {
			memcpy(e->id, c->id, 16);
			sh->n++;
			ix->nchunks++;
		} else {
			ix->npending--;
		}
		e->ref = base + c->frame + 1;
		e->off = c->off;
		e->len = c->len;
	}
	return 0;
}

int lb_index_add_pending(struct lb_index *ix, const uint8_t id[LB_ID_LEN])
{
	uint64_t h = hash16(ix, id);
	struct shard *sh = shard_of(ix, h);
	struct entry *e;
	bool found;
	int r;

	if (sh->cap) {
		probe(sh, id, h, &found);
		if (found)
			return -EEXIST;
	}
	r = shard_reserve(ix, sh, 1);
	if (r < 0)
		return r;
	e = &sh->e[probe(sh, id, h, &found)];
	*e = (struct entry){.ref = REF_PENDING};
	memcpy(e->id, id, 16);
	sh->n++;
	ix->nchunks++;
	ix->npending++;
	return 0;
}

/*
 * Empty slot @i of @sh, shifting back the entries after it that would
 * otherwise no longer be found (deletion without tombstones).
 */
static void shard_delete(const struct lb_index *ix, struct shard *sh, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t k;

		if (++j == sh->cap)
			j = 0;
		if (sh->e[j].ref == REF_EMPTY)
			break;
		k = home(hash16(ix, sh->e[j].id), sh->cap);
		/* the entry at j may stay if its home lies cyclically in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		sh->e[i] = sh->e[j];
		i = j;
	}
	sh->e[i].ref = REF_EMPTY;
	sh->n--;
}

uint64_t lb_index_drop_pending(struct lb_index *ix)
{
	uint64_t dropped = 0;

	for (uint32_t s = 0; s < NSHARDS && ix->npending; s++) {
		struct shard *sh = &ix->shards[s];

		for (uint32_t i = 0; i < sh->cap; i++)
			while (sh->e[i].ref == REF_PENDING) {
				shard_delete(ix, sh, i);
				dropped++;
				ix->npending--;
				ix->nchunks--;
			}
	}
	return dropped;
}

bool lb_index_lookup(const struct lb_index *ix, const uint8_t id[LB_ID_LEN],
		     struct lb_index_loc *loc)
{
	uint64_t h = hash16(ix, id);
	const struct shard *sh = shard_of(ix, h);
	const struct entry *e;
	const struct frame *f;
	const struct pack *pk;
	bool found;

	if (!sh->cap)
		return false;
	e = &sh->e[probe(sh, id, h, &found)];
	if (!found)
		return false;
	if (!loc)
		return true;
	memset(loc, 0, sizeof(*loc));
	if (e->ref == REF_PENDING) {
		loc->pending = true;
		return true;
	}
	f = &ix->frames[e->ref - 1];
	pk = pack_at(ix, f->pack);
	loc->pack_id = pk->id;
	loc->pack_salt = pk->salt;
	loc->pack = f->pack;
	loc->frame_no = f->frame_no;
	loc->frame = (struct lb_frame_info){f->off, f->sealed_len, f->raw_len};
	loc->off = e->off;
	loc->len = e->len;
	return true;
}

uint64_t lb_index_chunks(const struct lb_index *ix)
{
	return ix->nchunks;
}

uint64_t lb_index_pending(const struct lb_index *ix)
{
	return ix->npending;
}

uint32_t lb_index_packs(const struct lb_index *ix)
{
	return ix->npacks;
}

size_t lb_index_memory(const struct lb_index *ix)
{
	size_t n = sizeof(*ix) + NSHARDS * (sizeof(*ix->room) + sizeof(*ix->touched));

	for (uint32_t i = 0; i < NSHARDS; i++)
		n += (size_t)ix->shards[i].cap * sizeof(struct entry);
	n += (size_t)ix->frames_cap * sizeof(struct frame);
	n += (size_t)ix->blocks_cap * sizeof(*ix->blocks);
	for (uint32_t i = 0; i < ix->blocks_cap && ix->blocks[i]; i++)
		n += PACK_BLOCK * sizeof(struct pack);
	n += (size_t)ix->pack_table_cap * sizeof(*ix->pack_table);
	return n;
}

int lb_index_foreach_pack(const struct lb_index *ix,
			  int (*fn)(void *ctx, const uint8_t id[LB_ID_LEN], uint64_t size),
			  void *ctx)
{
	for (uint32_t i = 0; i < ix->npacks; i++) {
		const struct pack *pk = pack_at(ix, i);
		int r = fn(ctx, pk->id, pk->size);

		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- index objects ----------------------------------------------------------------------- */

static size_t index_aad(uint8_t aad[64], const uint8_t salt[LB_SALT_LEN])
{
	size_t n = strlen(INDEX_AAD);

	memcpy(aad, INDEX_AAD, n);
	memcpy(aad + n, salt, LB_SALT_LEN);
	return n + LB_SALT_LEN;
}

/* The body, plaintext: pack count, then per pack its record and its trailer. */
static int body_encode(const struct lb_pack_info *packs, size_t n, uint8_t **out, size_t *len)
{
	_cleanup_free_ uint8_t *body = NULL;
	size_t total = 4, pos = 4;

	if (n > UINT32_MAX)
		return lb_err(-EOVERFLOW, "index object", "split the packs over several objects",
			      "%zu packs", n);
	for (size_t i = 0; i < n; i++) {
		size_t t;

		if (__builtin_mul_overflow((size_t)packs[i].nchunks, (size_t)44, &t) ||
		    __builtin_add_overflow(t, (size_t)packs[i].nframes * 16 + 12 + PACK_RECORD,
					   &t) ||
		    __builtin_add_overflow(total, t, &total) || total > LB_INDEX_MAX_BODY)
			return lb_err(
				-EOVERFLOW, "index object", "split the packs over several objects",
				"the body of %zu packs would pass %u bytes", n, LB_INDEX_MAX_BODY);
	}
	body = malloc(total);
	if (!body)
		return -ENOMEM;
	lb_put_le32(body, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ uint8_t *tr = NULL;
		size_t tlen;
		int r = lb_pack_trailer_encode(&packs[i], &tr, &tlen);

		if (r < 0)
			/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
			return r;
		memcpy(body + pos, packs[i].id, LB_ID_LEN);
		memcpy(body + pos + 32, packs[i].salt, LB_SALT_LEN);
		lb_put_le64(body + pos + 48, packs[i].size);
		lb_put_le32(body + pos + 56, (uint32_t)tlen);
		memcpy(body + pos + PACK_RECORD, tr, tlen);
		pos += PACK_RECORD + tlen;
	}
	*out = TAKE_PTR(body);
	*len = total;
	return 0;
}

int lb_index_object_encode(const struct lb_keys *keys, const struct lb_pack_info *packs, size_t n,
			   uint8_t **out, size_t *len)
{
	_cleanup_free_ uint8_t *body = NULL, *obj = NULL;
	uint8_t salt[LB_SALT_LEN], aad[64], *pt;
	struct lb_aead_key key;
	size_t blen, clen, cap, total;
	int r;

	r = body_encode(packs, n, &body, &blen);
	if (r < 0)
		return r;
	r = lb_random(salt, sizeof(salt));
	if (r < 0)
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
		return r;
	r = lb_aead_derive(keys, "index", salt, sizeof(salt), &key);
	if (r < 0)
		return r;
	cap = INDEX_HEADER + LB_SEAL_OVERHEAD + lb_zstd_bound(blen);
	obj = malloc(cap);
	if (!obj)
		return -ENOMEM;
	memcpy(obj, INDEX_MAGIC, 8);
	lb_put_le32(obj + 8, INDEX_VERSION);
	lb_put_le32(obj + 12, INDEX_HEADER);
	memcpy(obj + 16, salt, LB_SALT_LEN);
	pt = obj + INDEX_HEADER + LB_SEAL_NONCE;
	r = lb_zstd_compress(INDEX_LEVEL, body, blen, pt, lb_zstd_bound(blen), &clen);
	if (r < 0)
		return r;
	/* sealed in place: the compressed body sits right after the nonce */
	r = lb_seal(&key, aad, index_aad(aad, salt), pt, clen, obj + INDEX_HEADER);
	explicit_bzero(&key, sizeof(key));
	if (r < 0)
		return lb_err(r, "index object", NULL, "sealing failed");
	total = INDEX_HEADER + LB_SEAL_OVERHEAD + clen;
	if (total > LB_INDEX_MAX_OBJECT)
		return lb_err(-EOVERFLOW, "index object", "split the packs over several objects",
			      "%zu bytes, more than the %u allowed", total, LB_INDEX_MAX_OBJECT);
	pt = realloc(obj, total);
	if (pt)
		obj = pt;
	*out = TAKE_PTR(obj);
	*len = total;
	return 0;
}

#define INDEX_ERR(code, ...) lb_err((code), "index object", HINT_CHECK, __VA_ARGS__)

int lb_index_body_parse(const uint8_t *body, size_t len,
			int (*fn)(void *ctx, const struct lb_pack_info *p), void *ctx)
{
	size_t pos = 4;
	uint32_t np;

	if (len < 4)
		return INDEX_ERR(-EBADMSG, "a body of %zu bytes", len);
	np = lb_le32(body);
	/* every pack takes its record and a trailer of 12 bytes at least */
	if (np > (len - 4) / (PACK_RECORD + 12))
		return INDEX_ERR(-EBADMSG, "%u packs cannot fit in %zu bytes", np, len);
	for (uint32_t i = 0; i < np; i++) {
		struct lb_pack_info info;
		uint64_t size, toff;
		uint32_t tlen;
		int r;

		if (len - pos < PACK_RECORD)
			return INDEX_ERR(-EBADMSG, "pack %u of %u: the body ends", i, np);
		size = lb_le64(body + pos + 48);
		tlen = lb_le32(body + pos + 56);
		if (tlen > len - pos - PACK_RECORD)
			return INDEX_ERR(-EBADMSG,
					 "pack %u: a trailer of %u bytes runs past the body", i,
					 tlen);
		r = lb_pack_trailer_offset(size, tlen, &toff);
		if (r == 0)
			r = lb_pack_trailer_parse(body + pos + PACK_RECORD, tlen, toff, &info);
		if (r < 0) {
			lb_err_context("index object: pack %u", i);
			return r;
		}
		memcpy(info.id, body + pos, LB_ID_LEN);
		memcpy(info.salt, body + pos + 32, LB_SALT_LEN);
		info.size = size;
		r = fn(ctx, &info);
		lb_pack_info_release(&info);
		if (r < 0)
			return r;
		pos += PACK_RECORD + tlen;
	}
	if (pos != len)
		return INDEX_ERR(-EBADMSG, "%zu bytes follow the last pack", len - pos);
	return 0;
}

int lb_index_object_decode(const struct lb_keys *keys, const uint8_t *buf, size_t len,
			   int (*fn)(void *ctx, const struct lb_pack_info *p), void *ctx)
{
	_cleanup_free_ uint8_t *pt = NULL, *body = NULL;
	struct lb_aead_key key;
	uint8_t aad[64];
	uint64_t blen;
	size_t plen;
	int r;

	if (len > LB_INDEX_MAX_OBJECT)
		return INDEX_ERR(-EOVERFLOW, "%zu bytes, more than the %u allowed", len,
				 LB_INDEX_MAX_OBJECT);
	if (len < INDEX_HEADER + LB_SEAL_OVERHEAD)
		return INDEX_ERR(-EBADMSG, "%zu bytes: too short", len);
	if (memcmp(buf, INDEX_MAGIC, 8))
		return INDEX_ERR(-EBADMSG, "not an index object (bad magic)");
	if (lb_le32(buf + 8) != INDEX_VERSION || lb_le32(buf + 12) != INDEX_HEADER)
		return INDEX_ERR(-EBADMSG,
				 "version %u with a header of %u bytes (this lifeboat reads "
				 "version %u, %u bytes)",
				 lb_le32(buf + 8), lb_le32(buf + 12), INDEX_VERSION, INDEX_HEADER);
	plen = len - INDEX_HEADER - LB_SEAL_OVERHEAD;
	pt = malloc(plen ? plen : 1);
	if (!pt)
		return -ENOMEM;
	r = lb_aead_derive(keys, "index", buf + 16, LB_SALT_LEN, &key);
	if (r < 0)
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
		return r;
	r = lb_unseal(&key, aad, index_aad(aad, buf + 16), buf + INDEX_HEADER, len - INDEX_HEADER,
		      pt);
	explicit_bzero(&key, sizeof(key));
	if (r == -EBADMSG)
		return INDEX_ERR(r, "the tag does not match: damaged, or another repository's "
				    "index");
	if (r < 0)
		return r;
	r = lb_zstd_frame_size(pt, plen, &blen);
	if (r < 0) {
		lb_err_context("index object");
		return r;
	}
	if (blen > LB_INDEX_MAX_BODY)
		return INDEX_ERR(-EOVERFLOW, "a body of %llu bytes, more than the %u allowed",
				 (unsigned long long)blen, LB_INDEX_MAX_BODY);
	body = malloc(blen ? (size_t)blen : 1);
	if (!body)
		return -ENOMEM;
	r = lb_zstd_decompress(pt, plen, body, (size_t)blen);
	if (r < 0) {
		if (r == -EBADMSG)
			lb_err_context("index object");
		return r;
	}
	free(TAKE_PTR(pt));
	return lb_index_body_parse(body, (size_t)blen, fn, ctx);
}

int lb_index_object_name(const uint8_t *obj, size_t len, char out[80])
{
	uint8_t d[LB_SHA256_LEN];
	char hex[LB_SHA256_HEX];
	int r = lb_sha256(obj, len, d);

	if (r < 0)
		return r;
	snprintf(out, 80, "index/%s", lb_hex(d, sizeof(d), hex));
	return 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

struct load {
	struct lb_index *ix;
	struct lb_store *s;
	const struct lb_keys *keys;
	struct lb_pack_info *orphans;
	size_t norphans, cap, bad;
	bool want_orphans;
};

static int add_pack_cb(void *ctx, const struct lb_pack_info *p)
{
	return lb_index_add_pack(ctx, p);
}

/* One index object: read, checked against its name, decoded, its packs added. */
static int load_object(struct load *l, const char *name, uint64_t size)
{
	_cleanup_free_ uint8_t *buf = NULL;
	uint8_t want[LB_SHA256_LEN], got[LB_SHA256_LEN];
	size_t len;
	int r;

	if (lb_unhex(name + 6, want, sizeof(want)) < 0)
		return 0;
	if (size > LB_INDEX_MAX_OBJECT)
		return lb_err(-EOVERFLOW, name, HINT_CHECK, "%llu bytes, more than the %u allowed",
			      (unsigned long long)size, LB_INDEX_MAX_OBJECT);
	r = lb_store_get_all(l->s, name, LB_INDEX_MAX_OBJECT, &buf, &len);
	if (r == -EFBIG)
		return lb_err(-EOVERFLOW, name, HINT_CHECK, "more than %u bytes",
			      LB_INDEX_MAX_OBJECT);
	if (r < 0)
		return r;
	r = lb_sha256(buf, len, got);
	if (r < 0)
		return r;
	if (memcmp(want, got, sizeof(got)))
		return lb_err(-EBADMSG, name, HINT_CHECK,
			      "the content does not match its name (damaged)");
	r = lb_index_object_decode(l->keys, buf, len, add_pack_cb, l->ix);
	if (r < 0)
		lb_err_context("%s", name);
	return r;
}

struct object_list {
	struct listed {
		char name[80];
		uint64_t size;
	} * o;
	size_t n, cap;
	uint64_t bytes;
};

static int list_object(void *ctx, const char *name, uint64_t size)
{
	struct object_list *o = ctx;
	uint8_t id[LB_SHA256_LEN];

	if (strlen(name) != 6 + 2 * LB_SHA256_LEN || lb_unhex(name + 6, id, sizeof(id)) < 0)
		return 0; /* not an index object's name */
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		struct listed *p = reallocarray(o->o, cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		o->o = p;
		o->cap = cap;
	}
	memcpy(o->o[o->n].name, name, strlen(name) + 1);
	o->o[o->n++].size = size;
	o->bytes += size;
	return 0;
}

/* "data/xx/<64 hex>" with xx the ID's first byte */
static bool pack_name_id(const char *name, uint8_t id[LB_ID_LEN])
{
	return strlen(name) == 8 + 2 * LB_ID_LEN && !strncmp(name, "data/", 5) && name[7] == '/' &&
	       !strncmp(name + 5, name + 8, 2) && lb_unhex(name + 8, id, LB_ID_LEN) == 0;
}

static int load_orphan(void *ctx, const char *name, uint64_t size)
{
	struct load *l = ctx;
	struct lb_pack_info info;
	uint8_t id[LB_ID_LEN];
	int r;

	if (!pack_name_id(name, id) || lb_index_has_pack(l->ix, id))
		return 0;
	r = lb_pack_read_info(l->s, l->keys, id, &info);
	if (r == -EBADMSG || r == -ENODATA || r == -EOVERFLOW) {
		l->bad++;
		lb_err_clear();
		return 0;
	}
	if (r == -ENOENT) {
		lb_err_clear();
		return 0;
	}
	if (r < 0)
		return r;
	if (l->want_orphans && l->norphans == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct lb_pack_info *o = reallocarray(l->orphans, cap, sizeof(*o));

		if (!o) {
			lb_pack_info_release(&info);
			return -ENOMEM;
		}
		l->orphans = o;
		l->cap = cap;
	}
	r = lb_index_add_pack(l->ix, &info);
	if (r < 0 || !l->want_orphans)
		lb_pack_info_release(&info);
	else
		l->orphans[l->norphans++] = info;
	return r;
}

int lb_index_load(struct lb_index *ix, struct lb_store *s, const struct lb_keys *keys,
		  struct lb_pack_info **orphans, size_t *norphans, size_t *bad_orphans)
{
	struct load l = {.ix = ix, .s = s, .keys = keys, .want_orphans = orphans != NULL};
	struct object_list o = {0};
	int r;

	/*
	 * The objects' sizes tell how many chunks are coming (a chunk's ID is 32
	 * random bytes that zstd cannot shrink; the rest of its record compresses
	 * to about 1 byte), so the table is sized once.
	 */
	r = lb_store_list(s, "index/", list_object, &o);
	if (r == 0)
		r = lb_index_reserve(ix, o.bytes / 33);
	for (size_t i = 0; r == 0 && i < o.n; i++)
		r = load_object(&l, o.o[i].name, o.o[i].size);
	free(o.o);
	if (r == 0)
		r = lb_store_list(s, "data/", load_orphan, &l);
	if (r < 0) {
		for (size_t i = 0; i < l.norphans; i++)
			lb_pack_info_release(&l.orphans[i]);
		free(l.orphans);
		return r;
	}
	if (orphans) {
		*orphans = l.orphans;
		if (norphans)
			*norphans = l.norphans;
	}
	if (bad_orphans)
		*bad_orphans = l.bad;
	return 0;
}
