/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_index - the in-memory chunk index (a million random IDs, pending
 * chunks, all-or-nothing adds), index objects (round trip, damage, another
 * key) and lb_index_load against a real local store with index objects,
 * orphan packs and a damaged orphan.
 *
 * With LB_CORPUS_OUT=DIR, test_object_seeds writes the fuzz seeds it checks
 * to DIR/corpus/index_object/ and DIR/bad/index_object/
 * (tests/fuzz/make-pack-corpus.sh). They are sealed with the fixed key that
 * tests/fuzz/fuzz_index_object.c uses.
 */
#include "harness.h"

#include "base/endian.h"
#include "base/err.h"
#include "repo/crypto.h"
#include "repo/index.h"
#include "repo/pack.h"
#include "store/store.h"

#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------ */

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static void fill_random(uint8_t *p, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8)
		lb_put_le64(p + i, rnd());
	for (; i < n; i++)
		p[i] = (uint8_t)(rnd() >> 56);
}

static char scratch[256];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static struct lb_store *store_new(void)
{
	const char *t = getenv("TMPDIR");
	struct lb_store *s = NULL;

	snprintf(scratch, sizeof(scratch), "%s/lb-index-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(scratch)) {
		perror("mkdtemp");
		exit(2);
	}
	CHECK_INT(lb_store_open(scratch, LB_STORE_CREATE, &s), 0);
	if (!s)
		exit(2);
	return s;
}

static void store_done(struct lb_store *s)
{
	lb_store_close(s);
	if (!getenv("LB_TEST_KEEP"))
		nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(write(fd, p, n), (long long)n);
	close(fd);
}

static void save_seed(const char *kind, const char *name, const uint8_t *p, size_t n)
{
	const char *out = getenv("LB_CORPUS_OUT");
	char path[1024];

	if (!out || !*out)
		return;
	snprintf(path, sizeof(path), "%s/%s/index_object/%s", out, kind, name);
	write_file(path, p, n);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* keys[0] encrypted, keys[1] not; keys[2] the fixed key of fuzz_index_object. */
static struct lb_keys keys[3];

static void keys_init(void)
{
	static bool done;

	if (done)
		return;
	CHECK_INT(lb_keys_generate(&keys[0], true), 0);
	CHECK_INT(lb_keys_generate(&keys[1], false), 0);
	keys[2].encrypted = true;
	for (int i = 0; i < LB_KEY_LEN; i++) {
		keys[2].enc[i] = (uint8_t)(0x10 + i); /* as in tests/fuzz/fuzz_index_object.c */
		keys[2].mac[i] = (uint8_t)(0x50 + i);
	}
	done = true;
}

/* A made-up pack: @nframes frames back to back of 512 KiB, @per chunks of 8 KiB in each. */
static void fake_pack(struct lb_pack_info *p, uint32_t nframes, uint32_t per)
{
	uint64_t off = LB_PACK_HEADER;

	memset(p, 0, sizeof(*p));
	fill_random(p->id, LB_ID_LEN);
	fill_random(p->salt, LB_SALT_LEN);
	p->nframes = nframes;
	p->nchunks = nframes * per;
	p->frames = calloc(nframes ? nframes : 1, sizeof(*p->frames));
	p->chunks = calloc(p->nchunks ? p->nchunks : 1, sizeof(*p->chunks));
	if (!p->frames || !p->chunks)
		exit(2);
	for (uint32_t f = 0; f < nframes; f++) {
		p->frames[f].off = off;
		p->frames[f].raw_len = per * 8192;
		p->frames[f].sealed_len = (uint32_t)(p->frames[f].raw_len / 2 + LB_FRAME_OVERHEAD);
		off += p->frames[f].sealed_len;
		for (uint32_t c = 0; c < per; c++) {
			struct lb_chunk_ref *ch = &p->chunks[f * per + c];

			fill_random(ch->id, LB_ID_LEN);
			ch->frame = f;
			ch->off = c * 8192;
			ch->len = 8192 - c;
		}
	}
	/* where a real trailer of this size would end the pack */
	p->size =
		off + 12 + 16ull * nframes + 44ull * p->nchunks + LB_SEAL_OVERHEAD + LB_PACK_FOOTER;
}

static bool loc_is(const struct lb_index_loc *l, const struct lb_pack_info *p, uint32_t c)
{
	const struct lb_chunk_ref *ch = &p->chunks[c];
	const struct lb_frame_info *f = &p->frames[ch->frame];

	return !l->pending && l->pack_id && !memcmp(l->pack_id, p->id, LB_ID_LEN) && l->pack_salt &&
	       !memcmp(l->pack_salt, p->salt, LB_SALT_LEN) && l->frame_no == ch->frame &&
	       l->frame.off == f->off && l->frame.sealed_len == f->sealed_len &&
	       l->frame.raw_len == f->raw_len && l->off == ch->off && l->len == ch->len;
}

/* Every chunk of @p found where @p says (in @expect_pack: the pack's number). */
static unsigned misplaced(const struct lb_index *ix, const struct lb_pack_info *p)
{
	unsigned bad = 0;

	for (uint32_t c = 0; c < p->nchunks; c++) {
		struct lb_index_loc l;

		if (!lb_index_lookup(ix, p->chunks[c].id, &l) || !loc_is(&l, p, c))
			bad++;
	}
	return bad;
}

static int count_pack(void *ctx, const uint8_t id[LB_ID_LEN], uint64_t size)
{
	(*(uint32_t *)ctx)++;
	return 0;
}

static int stop_at_two(void *ctx, const uint8_t id[LB_ID_LEN], uint64_t size)
{
	return ++*(uint32_t *)ctx == 2 ? -ECANCELED : 0;
}

/* ---- the table -------------------------------------------------------------------- */

#define MILLION 1000000u
#define PER_FRAME 64
#define FRAMES 32

static void test_million(void)
{
	const uint32_t per_pack = PER_FRAME * FRAMES;
	const uint32_t npacks = (MILLION + per_pack - 1) / per_pack;
	struct lb_pack_info *packs = calloc(npacks, sizeof(*packs));
	struct lb_index *ix = NULL;
	uint64_t total = 0;
	unsigned bad = 0, false_hits = 0;
	uint32_t counted = 0;
	double t0, t1, t2;

	CHECK(packs != NULL);
	if (!packs)
		return;
	CHECK_INT(lb_index_new(&ix), 0);
	if (!ix)
		goto out;
	for (uint32_t i = 0; i < npacks; i++) {
		fake_pack(&packs[i], FRAMES, PER_FRAME);
		if (i == npacks - 1) /* trim the last pack to make exactly a million */
			packs[i].nchunks = MILLION - (npacks - 1) * per_pack;
	}
	t0 = now();
	for (uint32_t i = 0; i < npacks; i++) {
		CHECK_INT(lb_index_add_pack(ix, &packs[i]), 0);
		total += packs[i].nchunks;
	}
	t1 = now();
	CHECK_U64(total, MILLION);
	CHECK_U64(lb_index_chunks(ix), MILLION);
	CHECK_INT(lb_index_packs(ix), npacks);
	for (uint32_t i = 0; i < npacks; i++)
		bad += misplaced(ix, &packs[i]);
	t2 = now();
	CHECK_INT(bad, 0);

	/* absent IDs: random ones, and ones differing from a stored one in the first 16 bytes */
	for (uint32_t i = 0; i < MILLION; i++) {
		uint8_t id[LB_ID_LEN];

		fill_random(id, sizeof(id));
		false_hits += lb_index_lookup(ix, id, NULL);
	}
	for (uint32_t i = 0; i < 1000; i++) {
		uint8_t id[LB_ID_LEN];

		memcpy(id, packs[i % npacks].chunks[i].id, LB_ID_LEN);
		id[i % 16] ^= 0x40;
		false_hits += lb_index_lookup(ix, id, NULL);
	}
	CHECK_INT(false_hits, 0);

	/* memory: 28-byte entries at 71-80 % load, plus frames and packs */
	{
		double per = (double)lb_index_memory(ix) / MILLION;

		CHECK(per <= 40.0);
		CHECK(per >= 28.0);
		if (per > 40.0 || getenv("LB_TEST_TIMING"))
			printf("#   %.1f bytes per chunk, %zu bytes in all\n", per,
			       lb_index_memory(ix));
	}
	if (getenv("LB_TEST_TIMING"))
		printf("#   1M chunks: insert %.0f ns/chunk, lookup (hit) %.0f ns/chunk\n",
		       (t1 - t0) * 1e9 / MILLION, (t2 - t1) * 1e9 / MILLION);

	/* a pack added twice is ignored; every pack is listed once */
	CHECK_INT(lb_index_add_pack(ix, &packs[7]), 0);
	CHECK_U64(lb_index_chunks(ix), MILLION);
	CHECK_INT(lb_index_packs(ix), npacks);
	CHECK(lb_index_has_pack(ix, packs[0].id));
	CHECK(lb_index_has_pack(ix, packs[npacks - 1].id));
	{
		uint8_t id[LB_ID_LEN];

		fill_random(id, sizeof(id));
		CHECK(!lb_index_has_pack(ix, id));
	}
	CHECK_INT(lb_index_foreach_pack(ix, count_pack, &counted), 0);
	CHECK_INT(counted, npacks);
	counted = 0;
	CHECK_INT(lb_index_foreach_pack(ix, stop_at_two, &counted), -ECANCELED);
	CHECK_INT(counted, 2);
out:
	for (uint32_t i = 0; i < npacks; i++)
		lb_pack_info_release(&packs[i]);
	free(packs);
	lb_index_free(ix);
}

/* Reserving for the chunks to come sizes the table once, and not larger than growing would. */
static void test_reserve(void)
{
	const uint32_t npacks = 100;
	struct lb_pack_info *packs = calloc(npacks, sizeof(*packs));
	struct lb_index *ix = NULL;
	size_t after_reserve, after_adds;
	unsigned bad = 0;

	CHECK_INT(lb_index_new(&ix), 0);
	if (!ix || !packs)
		goto out;
	CHECK_INT(lb_index_reserve(ix, npacks * 2048ull), 0);
	after_reserve = lb_index_memory(ix);
	for (uint32_t i = 0; i < npacks; i++) {
		fake_pack(&packs[i], 32, 64);
		CHECK_INT(lb_index_add_pack(ix, &packs[i]), 0);
	}
	after_adds = lb_index_memory(ix);
	for (uint32_t i = 0; i < npacks; i++)
		bad += misplaced(ix, &packs[i]);
	CHECK_INT(bad, 0);
	/* the entries barely grew (a few fuller shards took one step); frames and packs came */
	CHECK(after_adds < after_reserve + after_reserve / 8);
	CHECK((double)after_adds / (npacks * 2048.0) <= 40.0);
	/* absurd reservations are refused, and change nothing */
	CHECK_INT(lb_index_reserve(ix, UINT64_MAX), -ENOMEM);
	CHECK_U64(lb_index_memory(ix), after_adds);
out:
	for (uint32_t i = 0; packs && i < npacks; i++)
		lb_pack_info_release(&packs[i]);
	free(packs);
	lb_index_free(ix);
}

/* A chunk in two packs keeps the first location; lookups of the pack's pointers stay valid. */
static void test_duplicates(void)
{
	struct lb_pack_info a, b;
	struct lb_index *ix = NULL;
	struct lb_index_loc l;
	const uint8_t *first_pack_id;

	CHECK_INT(lb_index_new(&ix), 0);
	if (!ix)
		return;
	fake_pack(&a, 2, 4);
	fake_pack(&b, 3, 4);
	memcpy(b.chunks[5].id, a.chunks[1].id, LB_ID_LEN);
	CHECK_INT(lb_index_add_pack(ix, &a), 0);
	CHECK(lb_index_lookup(ix, a.chunks[1].id, &l) && loc_is(&l, &a, 1));
	first_pack_id = l.pack_id;
	CHECK_INT(lb_index_add_pack(ix, &b), 0);
	CHECK_U64(lb_index_chunks(ix), 8 + 12 - 1);
	CHECK(lb_index_lookup(ix, a.chunks[1].id, &l) && loc_is(&l, &a, 1));
	CHECK(lb_index_lookup(ix, b.chunks[6].id, &l) && loc_is(&l, &b, 6));
	CHECK_INT(l.pack, 1);
	/* many more packs: the first pack's ID pointer still reads the same */
	for (int i = 0; i < 3000; i++) {
		struct lb_pack_info c;

		fake_pack(&c, 1, 1);
		CHECK_INT(lb_index_add_pack(ix, &c), 0);
		lb_pack_info_release(&c);
	}
	CHECK(lb_index_lookup(ix, a.chunks[0].id, &l) && l.pack_id == first_pack_id);
	CHECK(!memcmp(first_pack_id, a.id, LB_ID_LEN));
	CHECK_INT(misplaced(ix, &a), 0);
	CHECK_INT(misplaced(ix, &b), 1); /* the shared chunk */

	/* a chunk in a frame the pack does not have: refused, nothing added */
	{
		struct lb_pack_info d;
		uint64_t before = lb_index_chunks(ix);

		fake_pack(&d, 2, 2);
		d.chunks[3].frame = 2;
		CHECK_INT(lb_index_add_pack(ix, &d), -EINVAL);
		CHECK_U64(lb_index_chunks(ix), before);
		CHECK(!lb_index_has_pack(ix, d.id));
		CHECK(!lb_index_lookup(ix, d.chunks[0].id, NULL));
		lb_pack_info_release(&d);
	}
	lb_pack_info_release(&a);
	lb_pack_info_release(&b);
	lb_index_free(ix);
	lb_index_free(NULL);
}

static void test_pending(void)
{
	struct lb_pack_info p;
	struct lb_index *ix = NULL;
	struct lb_index_loc l;

	CHECK_INT(lb_index_new(&ix), 0);
	if (!ix)
		return;
	fake_pack(&p, 2, 8);
	/* half of the pack's chunks are queued first */
	for (uint32_t c = 0; c < p.nchunks; c += 2)
		CHECK_INT(lb_index_add_pending(ix, p.chunks[c].id), 0);
	CHECK_INT(lb_index_add_pending(ix, p.chunks[0].id), -EEXIST);
	CHECK_U64(lb_index_pending(ix), 8);
	CHECK_U64(lb_index_chunks(ix), 8);
	memset(&l, 0xff, sizeof(l));
	CHECK(lb_index_lookup(ix, p.chunks[2].id, &l));
	CHECK(l.pending && l.pack_id == NULL && l.len == 0);
	CHECK(!lb_index_lookup(ix, p.chunks[1].id, NULL));

	CHECK_INT(lb_index_add_pack(ix, &p), 0);
	CHECK_U64(lb_index_pending(ix), 0);
	CHECK_U64(lb_index_chunks(ix), 16);
	CHECK_INT(misplaced(ix, &p), 0);
	/* a stored chunk cannot be queued again */
	CHECK_INT(lb_index_add_pending(ix, p.chunks[3].id), -EEXIST);
	CHECK_INT(lb_index_drop_pending(ix), 0);
	lb_pack_info_release(&p);
	lb_index_free(ix);
}

/*
 * Dropping pending chunks from crowded shards (deletion shifts entries back):
 * every stored chunk is still found, every dropped one is gone.
 */
static void test_drop_pending(void)
{
	const uint32_t n = 200000;
	struct lb_pack_info p;
	uint8_t(*pend)[LB_ID_LEN] = calloc(n, LB_ID_LEN);
	struct lb_index *ix = NULL;
	unsigned still = 0;

	CHECK_INT(lb_index_new(&ix), 0);
	if (!ix || !pend)
		goto out;
	fake_pack(&p, 16, 8192);
	/* interleaved: pending chunks and stored ones share the probe runs */
	for (uint32_t i = 0; i < n; i++) {
		fill_random(pend[i], LB_ID_LEN);
		CHECK_INT(lb_index_add_pending(ix, pend[i]), 0);
		if (i == n / 2)
			CHECK_INT(lb_index_add_pack(ix, &p), 0);
	}
	CHECK_U64(lb_index_chunks(ix), n + p.nchunks);
	CHECK_U64(lb_index_drop_pending(ix), n);
	CHECK_U64(lb_index_pending(ix), 0);
	CHECK_U64(lb_index_chunks(ix), p.nchunks);
	CHECK_INT(misplaced(ix, &p), 0);
	for (uint32_t i = 0; i < n; i++)
		still += lb_index_lookup(ix, pend[i], NULL);
	CHECK_INT(still, 0);
	/* and they can be queued again */
	CHECK_INT(lb_index_add_pending(ix, pend[0]), 0);
	lb_pack_info_release(&p);
out:
	free(pend);
	lb_index_free(ix);
}

/* add_pack with each allocation failing in turn: -ENOMEM and the index unchanged. */
static void test_add_pack_alloc_fail(void)
{
	struct lb_pack_info a, b;
	struct lb_index *ix = NULL;
	unsigned long n;
	int r = -1;

	CHECK_INT(lb_index_new(&ix), 0);
	if (!ix)
		return;
	fake_pack(&a, 4, 256);
	fake_pack(&b, 32, 512);
	CHECK_INT(lb_index_add_pack(ix, &a), 0);
	for (n = 1; n < 100000; n++) {
		lb_test_alloc_fail_at(n);
		r = lb_index_add_pack(ix, &b);
		lb_test_alloc_fail_at(0);
		if (r == 0)
			break;
		CHECK_INT(r, -ENOMEM);
		if (r != -ENOMEM)
			break;
		CHECK_U64(lb_index_chunks(ix), a.nchunks);
		CHECK(!lb_index_has_pack(ix, b.id));
		CHECK(!lb_index_lookup(ix, b.chunks[0].id, NULL));
		CHECK(!lb_index_lookup(ix, b.chunks[b.nchunks - 1].id, NULL));
	}
	CHECK_INT(r, 0);
#if !defined(__SANITIZE_ADDRESS__)
	CHECK(n > 10); /* shards grew: many allocations, each failure survived */
#endif
	CHECK_INT(misplaced(ix, &a), 0);
	CHECK_INT(misplaced(ix, &b), 0);
	lb_pack_info_release(&a);
	lb_pack_info_release(&b);
	lb_index_free(ix);
}

/* ---- index objects ---------------------------------------------------------------- */

struct collect {
	struct lb_pack_info *p;
	size_t n;
};

static int collect_cb(void *ctx, const struct lb_pack_info *p)
{
	struct collect *c = ctx;
	struct lb_pack_info *q = &c->p[c->n++];

	*q = *p;
	q->frames = malloc(p->nframes * sizeof(*p->frames) + 1);
	q->chunks = malloc(p->nchunks * sizeof(*p->chunks) + 1);
	if (!q->frames || !q->chunks)
		return -ENOMEM;
	memcpy(q->frames, p->frames, p->nframes * sizeof(*p->frames));
	memcpy(q->chunks, p->chunks, p->nchunks * sizeof(*p->chunks));
	return 0;
}

static bool info_equal(const struct lb_pack_info *a, const struct lb_pack_info *b)
{
	return !memcmp(a->id, b->id, LB_ID_LEN) && !memcmp(a->salt, b->salt, LB_SALT_LEN) &&
	       a->size == b->size && a->nframes == b->nframes && a->nchunks == b->nchunks &&
	       !memcmp(a->frames, b->frames, a->nframes * sizeof(*a->frames)) &&
	       !memcmp(a->chunks, b->chunks, a->nchunks * sizeof(*a->chunks));
}

static int decode_all(const struct lb_keys *k, const uint8_t *obj, size_t len, struct collect *c,
		      size_t max)
{
	int r;

	c->p = calloc(max + 1, sizeof(*c->p));
	c->n = 0;
	lb_err_clear();
	r = lb_index_object_decode(k, obj, len, collect_cb, c);
	return r;
}

static void collect_release(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		lb_pack_info_release(&c->p[i]);
	free(c->p);
	c->p = NULL;
	c->n = 0;
}

static void expect_decode(const struct lb_keys *k, const uint8_t *obj, size_t len, int want,
			  const char *what)
{
	struct collect c;
	int r = decode_all(k, obj, len, &c, 16);

	if (r != want)
		printf("#   %s: decode returned %d (%s), expected %d\n", what, r,
		       lb_err_last()->problem, want);
	CHECK_INT(r, want);
	if (r < 0)
		CHECK_INT(lb_err_last()->code, r);
	collect_release(&c);
}

static void test_object_roundtrip(void)
{
	struct lb_pack_info packs[3];
	uint8_t *obj = NULL;
	size_t len = 0;
	char name[80];

	keys_init();
	fake_pack(&packs[0], 3, 5);
	fake_pack(&packs[1], 32, 64);
	fake_pack(&packs[2], 0, 0);
	for (int k = 0; k < 2; k++) {
		struct collect c;

		CHECK_INT(lb_index_object_encode(&keys[k], packs, 3, &obj, &len), 0);
		if (!obj)
			continue;
		CHECK(!memcmp(obj, "LBINDX\r\n", 8));
		/* compressed: the random IDs do not shrink, the rest does */
		CHECK(len < 4 + 3 * 72 + (3 + 32) * 16 + (15 + 2048) * 44);
		CHECK_INT(decode_all(&keys[k], obj, len, &c, 3), 0);
		CHECK_INT(c.n, 3);
		for (size_t i = 0; i < c.n && i < 3; i++)
			CHECK(info_equal(&c.p[i], &packs[i]));
		collect_release(&c);

		CHECK_INT(lb_index_object_name(obj, len, name), 0);
		CHECK(!strncmp(name, "index/", 6) && strlen(name) == 70);

		/* damage and other keys */
		expect_decode(&keys[1 - k], obj, len, -EBADMSG, "the other kind of key");
		obj[len / 2] ^= 1;
		expect_decode(&keys[k], obj, len, -EBADMSG, "a flipped byte");
		obj[len / 2] ^= 1;
		obj[20] ^= 1; /* the salt */
		expect_decode(&keys[k], obj, len, -EBADMSG, "salt");
		obj[20] ^= 1;
		obj[8] = 2;
		expect_decode(&keys[k], obj, len, -EBADMSG, "version");
		obj[8] = 1;
		obj[0] = 'X';
		expect_decode(&keys[k], obj, len, -EBADMSG, "magic");
		obj[0] = 'L';
		expect_decode(&keys[k], obj, len - 1, -EBADMSG, "truncated");
		expect_decode(&keys[k], obj, 40, -EBADMSG, "truncated to 40 bytes");
		expect_decode(&keys[k], obj, len, 0, "intact again");
		free(obj);
		obj = NULL;

		/* no packs at all */
		CHECK_INT(lb_index_object_encode(&keys[k], packs, 0, &obj, &len), 0);
		expect_decode(&keys[k], obj, len, 0, "empty");
		free(obj);
		obj = NULL;
	}
	{
		struct lb_keys other;

		CHECK_INT(lb_keys_generate(&other, true), 0);
		CHECK_INT(lb_index_object_encode(&keys[0], packs, 3, &obj, &len), 0);
		expect_decode(&other, obj, len, -EBADMSG, "another repository's key");
		free(obj);
	}
	for (int i = 0; i < 3; i++)
		lb_pack_info_release(&packs[i]);
}

static int fail_cb(void *ctx, const struct lb_pack_info *p)
{
	return ++*(int *)ctx == 2 ? -ECANCELED : 0;
}

/* Seal @body (compressed unless @raw) as an index object under @k, by hand. */
static uint8_t *object_by_hand(const struct lb_keys *k, const uint8_t *body, size_t blen, bool raw,
			       size_t *len)
{
	size_t cap = 32 + LB_SEAL_OVERHEAD + lb_zstd_bound(blen) + blen, clen = blen;
	uint8_t *obj = malloc(cap), *z = malloc(lb_zstd_bound(blen) + blen + 1), aad[64];
	uint8_t salt[LB_SALT_LEN];
	struct lb_aead_key key;

	if (!obj || !z)
		exit(2);
	fill_random(salt, sizeof(salt));
	memcpy(obj, "LBINDX\r\n", 8);
	lb_put_le32(obj + 8, 1);
	lb_put_le32(obj + 12, 32);
	memcpy(obj + 16, salt, LB_SALT_LEN);
	if (raw)
		memcpy(z, body, blen);
	else
		CHECK_INT(lb_zstd_compress(3, body, blen, z, lb_zstd_bound(blen), &clen), 0);
	memcpy(aad, "lifeboat-index", 14);
	memcpy(aad + 14, salt, LB_SALT_LEN);
	CHECK_INT(lb_aead_derive(k, "index", salt, LB_SALT_LEN, &key), 0);
	CHECK_INT(lb_seal(&key, aad, 14 + LB_SALT_LEN, z, clen, obj + 32), 0);
	free(z);
	*len = 32 + LB_SEAL_OVERHEAD + clen;
	return obj;
}

/* A body by hand: one pack record around @tr (a trailer of @tlen bytes). */
static uint8_t *body_by_hand(const struct lb_pack_info *p, const uint8_t *tr, size_t tlen,
			     size_t *len)
{
	uint8_t *b = calloc(1, 4 + 60 + tlen + 8);

	if (!b)
		exit(2);
	lb_put_le32(b, 1);
	memcpy(b + 4, p->id, LB_ID_LEN);
	memcpy(b + 36, p->salt, LB_SALT_LEN);
	lb_put_le64(b + 52, p->size);
	lb_put_le32(b + 60, (uint32_t)tlen);
	memcpy(b + 64, tr, tlen);
	*len = 64 + tlen;
	return b;
}

/* The fuzz seeds (sealed with the fuzz target's fixed key) and the checks behind the tag. */
static void test_object_seeds(void)
{
	const struct lb_keys *fk;
	struct lb_pack_info packs[2];
	uint8_t *obj = NULL, *tr = NULL, *body, *o;
	size_t len = 0, tlen = 0, blen = 0, olen = 0;
	int calls = 0;

	keys_init();
	fk = &keys[2];
	fake_pack(&packs[0], 2, 3);
	fake_pack(&packs[1], 1, 1);
	CHECK_INT(lb_index_object_encode(fk, packs, 2, &obj, &len), 0);
	if (!obj)
		return;
	expect_decode(fk, obj, len, 0, "good");
	save_seed("corpus", "good-2-packs", obj, len);
	free(obj);
	CHECK_INT(lb_index_object_encode(fk, packs, 0, &obj, &len), 0);
	expect_decode(fk, obj, len, 0, "good empty");
	save_seed("corpus", "good-empty", obj, len);
	free(obj);
	CHECK_INT(lb_index_object_encode(fk, packs, 2, &obj, &len), 0);

	/* the callback's error is returned, and stops the walk */
	CHECK_INT(lb_index_object_decode(fk, obj, len, fail_cb, &calls), -ECANCELED);
	CHECK_INT(calls, 2);

#define BAD(name, want, stmt)                            \
	do {                                             \
		uint8_t *m_ = malloc(len);               \
		size_t mlen = len;                       \
		memcpy(m_, obj, len);                    \
		stmt;                                    \
		expect_decode(fk, m_, mlen, want, name); \
		save_seed("bad", name, m_, mlen);        \
		free(m_);                                \
	} while (0)

	BAD("EBADMSG-magic", -EBADMSG, m_[1] = 'x');
	BAD("EBADMSG-version", -EBADMSG, m_[8] = 9);
	BAD("EBADMSG-header-length", -EBADMSG, m_[12] = 33);
	BAD("EBADMSG-salt", -EBADMSG, m_[16] ^= 1);
	BAD("EBADMSG-flipped-body", -EBADMSG, m_[len - 30] ^= 1);
	BAD("EBADMSG-flipped-tag", -EBADMSG, m_[len - 1] ^= 1);
	BAD("EBADMSG-truncated", -EBADMSG, mlen = len - 1);
	BAD("EBADMSG-header-only", -EBADMSG, mlen = 32);
	BAD("EBADMSG-empty", -EBADMSG, mlen = 0);
#undef BAD
	free(obj);

	/* sealed properly around bad contents */
	CHECK_INT(lb_pack_trailer_encode(&packs[0], &tr, &tlen), 0);
	body = body_by_hand(&packs[0], tr, tlen, &blen);
	o = object_by_hand(fk, body, blen, false, &olen);
	expect_decode(fk, o, olen, 0, "by hand");
	save_seed("corpus", "good-by-hand", o, olen);
	free(o);

	o = object_by_hand(fk, body, blen, true, &olen);
	expect_decode(fk, o, olen, -EBADMSG, "not compressed");
	save_seed("bad", "EBADMSG-not-compressed", o, olen);
	free(o);

	o = object_by_hand(fk, body, blen + 1, false, &olen);
	expect_decode(fk, o, olen, -EBADMSG, "a byte after the last pack");
	save_seed("bad", "EBADMSG-trailing-byte", o, olen);
	free(o);

	lb_put_le32(body, 2);
	o = object_by_hand(fk, body, blen, false, &olen);
	expect_decode(fk, o, olen, -EBADMSG, "two packs said, one there");
	save_seed("bad", "EBADMSG-pack-count", o, olen);
	free(o);
	lb_put_le32(body, UINT32_MAX);
	o = object_by_hand(fk, body, blen, false, &olen);
	expect_decode(fk, o, olen, -EBADMSG, "pack count huge");
	save_seed("bad", "EBADMSG-pack-count-huge", o, olen);
	free(o);
	lb_put_le32(body, 1);

	lb_put_le32(body + 60, (uint32_t)tlen + 1);
	o = object_by_hand(fk, body, blen, false, &olen);
	expect_decode(fk, o, olen, -EBADMSG, "trailer length past the body");
	save_seed("bad", "EBADMSG-trailer-length", o, olen);
	free(o);
	lb_put_le32(body + 60, (uint32_t)tlen);

	/* the pack's size must leave room for the frames and the trailer */
	lb_put_le64(body + 52, packs[0].size - 1);
	o = object_by_hand(fk, body, blen, false, &olen);
	expect_decode(fk, o, olen, -EBADMSG, "pack size one short");
	save_seed("bad", "EBADMSG-pack-size", o, olen);
	free(o);
	lb_put_le64(body + 52, 10);
	o = object_by_hand(fk, body, blen, false, &olen);
	expect_decode(fk, o, olen, -EBADMSG, "pack size tiny");
	save_seed("bad", "EBADMSG-pack-size-tiny", o, olen);
	free(o);
	lb_put_le64(body + 52, packs[0].size);

	lb_put_le32(body + 64 + 4, LB_PACK_READ_MAX_FRAMES + 1);
	o = object_by_hand(fk, body, blen, false, &olen);
	expect_decode(fk, o, olen, -EOVERFLOW, "frames over the cap");
	save_seed("bad", "EOVERFLOW-frame-count", o, olen);
	free(o);
	lb_put_le32(body + 64 + 4, 2);

	lb_put_le32(body + 64 + 8 + 2 * 16 + 4 + 32, 2);
	o = object_by_hand(fk, body, blen, false, &olen);
	expect_decode(fk, o, olen, -EBADMSG, "a chunk in a missing frame");
	save_seed("bad", "EBADMSG-chunk-frame", o, olen);
	free(o);

	/* the body parser alone */
	CHECK_INT(lb_index_body_parse(body, 3, fail_cb, &calls), -EBADMSG);
	free(body);
	free(tr);
	lb_pack_info_release(&packs[0]);
	lb_pack_info_release(&packs[1]);
}

static void test_object_alloc_fail(void)
{
	struct lb_pack_info packs[2];
	uint8_t *obj = NULL;
	size_t len = 0;
	unsigned long n, total, failed = 0;
	int r = -1;

	keys_init();
	fake_pack(&packs[0], 2, 30);
	fake_pack(&packs[1], 4, 10);
	/* unencrypted: OpenSSL's cipher setup would turn a failed allocation into a bad tag */
	CHECK_INT(lb_index_object_encode(&keys[1], packs, 2, &obj, &len), 0);
	expect_decode(&keys[1], obj, len, 0, "warm-up");
	/* how many allocations a decode makes, then each of them failing in turn */
	lb_test_alloc_fail_at(ULONG_MAX);
	expect_decode(&keys[1], obj, len, 0, "counting");
	total = lb_test_alloc_count();
	lb_test_alloc_fail_at(0);
	for (n = 1; n <= total; n++) {
		struct collect c = {calloc(3, sizeof(*c.p)), 0};

		lb_test_alloc_fail_at(n);
		r = lb_index_object_decode(&keys[1], obj, len, collect_cb, &c);
		lb_test_alloc_fail_at(0);
		collect_release(&c);
		/* (OpenSSL survives some of its own allocations failing) */
		if (r != 0)
			CHECK_INT(r, -ENOMEM);
		failed += r == -ENOMEM;
	}
#if !defined(__SANITIZE_ADDRESS__)
	CHECK(failed >= 5); /* the object, the body, the trailer's two lists, the callback */
#endif
	free(obj);
	for (n = 1; n < 1000; n++) {
		obj = NULL;
		lb_test_alloc_fail_at(n);
		r = lb_index_object_encode(&keys[1], packs, 2, &obj, &len);
		lb_test_alloc_fail_at(0);
		free(obj);
		if (r == 0)
			break;
		CHECK_INT(r, -ENOMEM);
	}
	CHECK_INT(r, 0);
	lb_pack_info_release(&packs[0]);
	lb_pack_info_release(&packs[1]);
}

/* ---- loading a repository's index --------------------------------------------------- */

/* A real pack of @nframes frames of @per chunks of 1 KiB. */
static void real_pack(struct lb_store *s, const struct lb_keys *k, uint32_t nframes, uint32_t per,
		      struct lb_pack_info *info)
{
	struct lb_pack_writer *w = NULL;
	uint8_t *raw = malloc(per * 1024), *sealed = NULL;
	struct lb_chunk_ref *refs = calloc(per, sizeof(*refs));
	size_t slen = 0;

	memset(info, 0, sizeof(*info));
	CHECK_INT(lb_pack_writer_new(s, k, &w), 0);
	if (!w || !raw || !refs)
		exit(2);
	for (uint32_t f = 0; f < nframes; f++) {
		int no = lb_pack_next_frame(w);

		fill_random(raw, per * 1024);
		for (uint32_t c = 0; c < per; c++) {
			fill_random(refs[c].id, LB_ID_LEN);
			refs[c].off = c * 1024;
			refs[c].len = 1024;
		}
		CHECK_INT(lb_frame_encode(lb_pack_writer_key(w), lb_pack_writer_salt(w),
					  (uint32_t)no, 3, raw, per * 1024, &sealed, &slen),
			  0);
		CHECK_INT(lb_pack_add_frame(w, (uint32_t)no, sealed, slen, per * 1024, refs, per),
			  0);
		free(sealed);
	}
	CHECK_INT(lb_pack_finish(w, info), 0);
	free(raw);
	free(refs);
}

static void put_index(struct lb_store *s, const struct lb_keys *k, const struct lb_pack_info *p,
		      size_t n)
{
	uint8_t *obj = NULL;
	size_t len = 0;
	char name[80];

	CHECK_INT(lb_index_object_encode(k, p, n, &obj, &len), 0);
	CHECK_INT(lb_index_object_name(obj, len, name), 0);
	CHECK_INT(lb_store_put(s, name, obj, len), 0);
	free(obj);
}

static void damage_file(const char *name, uint64_t off)
{
	char path[600];
	uint8_t b;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", scratch, name);
	fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(pread(fd, &b, 1, (off_t)off), 1);
	b ^= 0x20;
	CHECK_INT(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static void test_load(void)
{
	keys_init();
	for (int k = 0; k < 2; k++) {
		struct lb_store *s = store_new();
		struct lb_pack_info p[5], *orphans = NULL;
		struct lb_index *ix = NULL;
		size_t norphans = 99, bad = 99;
		char name[80];

		real_pack(s, &keys[k], 2, 16, &p[0]);
		real_pack(s, &keys[k], 3, 8, &p[1]);
		real_pack(s, &keys[k], 1, 4, &p[2]); /* orphan */
		real_pack(s, &keys[k], 2, 4, &p[3]); /* orphan, damaged below */
		real_pack(s, &keys[k], 1, 2, &p[4]); /* in an index object of its own */
		put_index(s, &keys[k], p, 2);
		put_index(s, &keys[k], &p[4], 1);
		damage_file(lb_pack_name(p[3].id, name), p[3].size - 30);
		/* names that are not packs are ignored */
		CHECK_INT(lb_store_put(s, "data/zz/not-a-pack", "x", 1), 0);
		CHECK_INT(lb_store_put(s, "index/README", "x", 1), 0);

		CHECK_INT(lb_index_new(&ix), 0);
		if (!ix)
			continue;
		CHECK_INT(lb_index_load(ix, s, &keys[k], &orphans, &norphans, &bad), 0);
		CHECK_INT(norphans, 1);
		CHECK_INT(bad, 1);
		CHECK(orphans && norphans == 1 && !memcmp(orphans[0].id, p[2].id, LB_ID_LEN));
		if (orphans && norphans == 1)
			CHECK(info_equal(&orphans[0], &p[2]));
		CHECK_INT(lb_index_packs(ix), 4);
		CHECK_INT(misplaced(ix, &p[0]), 0);
		CHECK_INT(misplaced(ix, &p[1]), 0);
		CHECK_INT(misplaced(ix, &p[2]), 0);
		CHECK_INT(misplaced(ix, &p[4]), 0);
		CHECK(!lb_index_has_pack(ix, p[3].id));
		CHECK(!lb_index_lookup(ix, p[3].chunks[0].id, NULL));
		CHECK_U64(lb_index_chunks(ix), 32 + 24 + 4 + 2);
		for (size_t i = 0; i < norphans && orphans; i++)
			lb_pack_info_release(&orphans[i]);
		free(orphans);
		lb_index_free(ix);

		/* without the orphan list; the orphan's index object written: none left */
		put_index(s, &keys[k], &p[2], 1);
		CHECK_INT(lb_index_new(&ix), 0);
		CHECK_INT(lb_index_load(ix, s, &keys[k], NULL, NULL, &bad), 0);
		CHECK_INT(bad, 1);
		CHECK_INT(lb_index_packs(ix), 4);
		lb_index_free(ix);

		/* a damaged index object is an error */
		{
			uint8_t *obj = NULL;
			size_t len = 0;

			CHECK_INT(lb_index_object_encode(&keys[k], &p[1], 1, &obj, &len), 0);
			CHECK_INT(lb_index_object_name(obj, len, name), 0);
			obj[len - 5] ^= 1;
			CHECK_INT(lb_store_put(s, name, obj, len), 0);
			free(obj);
			CHECK_INT(lb_index_new(&ix), 0);
			lb_err_clear();
			CHECK_INT(lb_index_load(ix, s, &keys[k], NULL, NULL, NULL), -EBADMSG);
			CHECK_CONTAINS(lb_err_last()->object, "index/");
			lb_index_free(ix);
			CHECK_INT(lb_store_delete(s, name), 0);
		}
		/* an index object sealed right but stored under another name */
		{
			uint8_t *obj = NULL;
			size_t len = 0;

			CHECK_INT(lb_index_object_encode(&keys[k], &p[1], 1, &obj, &len), 0);
			snprintf(name, sizeof(name), "index/%064d", 0);
			CHECK_INT(lb_store_put(s, name, obj, len), 0);
			free(obj);
			CHECK_INT(lb_index_new(&ix), 0);
			CHECK_INT(lb_index_load(ix, s, &keys[k], NULL, NULL, NULL), -EBADMSG);
			CHECK_CONTAINS(lb_err_last()->problem, "name");
			lb_index_free(ix);
		}
		for (int i = 0; i < 5; i++)
			lb_pack_info_release(&p[i]);
		store_done(s);
	}
}

LB_TEST_MAIN(T(test_million), T(test_reserve), T(test_duplicates), T(test_pending),
	     T(test_drop_pending), T(test_add_pack_alloc_fail), T(test_object_roundtrip),
	     T(test_object_seeds), T(test_object_alloc_fail), T(test_load))
