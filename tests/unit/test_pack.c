/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_pack - frames and packs against a real local store in a scratch
 * folder, with real keys (encrypted and unencrypted): round trips, the codec
 * choice, tampering, truncation, the trailer's bounds, allocation failures.
 *
 * With LB_CORPUS_OUT=DIR, test_trailer_bounds and test_pack_roundtrip also write the fuzz seeds it
 * checks to DIR/corpus/pack_trailer/ and DIR/bad/pack_trailer/
 * (tests/fuzz/make-pack-corpus.sh). A seed is the trailer's offset in the
 * pack (8 bytes, little-endian) followed by the trailer's plaintext.
 */
#include "harness.h"

#include "base/endian.h"
#include "base/err.h"
#include "base/pool.h"
#include "repo/crypto.h"
#include "repo/pack.h"
#include "store/store.h"

#include <fcntl.h>
#include <limits.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

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

/* Text that compresses (about 3:1 with zstd), different for each @seed. */
static void fill_text(uint8_t *p, size_t n, unsigned seed)
{
	static const char *const words[] = {
		"lifeboat", "backup",  "frame",	 "pack", "chunk",   "index", "the",	 "of",
		"disk",	    "image",   "volume", "ntfs", "restore", "store", "snapshot", "zstd",
		"sealed",   "trailer", "and",	 "a",	 "to",	    "in",    "write",	 "read",
	};
	uint64_t save = rng;
	size_t i = 0;

	rng = 0x1234567ULL + seed;
	while (i < n) {
		char line[128];
		int k = snprintf(line, sizeof(line), "%u %s %s %s %u\n", (unsigned)(rnd() % 1000),
				 words[rnd() % 24], words[rnd() % 24], words[rnd() % 24],
				 (unsigned)(rnd() % 100000));

		for (int j = 0; j < k && i < n; j++)
			p[i++] = (uint8_t)line[j];
	}
	rng = save;
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

	snprintf(scratch, sizeof(scratch), "%s/lb-pack-XXXXXX", t && *t ? t : "/tmp");
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

static void save_seed(const char *kind, const char *name, const uint64_t toff, const uint8_t *p,
		      size_t n)
{
	const char *out = getenv("LB_CORPUS_OUT");
	char path[1024];
	uint8_t *buf;

	if (!out || !*out)
		return;
	buf = malloc(n + 8);
	if (!buf)
		return;
	lb_put_le64(buf, toff);
	memcpy(buf + 8, p, n);
	snprintf(path, sizeof(path), "%s/%s/pack_trailer/%s", out, kind, name);
	write_file(path, buf, n + 8);
	free(buf);
}

/* The two kinds of repository: keys[0] encrypted, keys[1] not. */
static struct lb_keys keys[2];

static void keys_init(void)
{
	static bool done;

	if (done)
		return;
	CHECK_INT(lb_keys_generate(&keys[0], true), 0);
	CHECK_INT(lb_keys_generate(&keys[1], false), 0);
	done = true;
}

static const char *kind(int k)
{
	return k == 0 ? "encrypted" : "unencrypted";
}

static void random_salt(uint8_t salt[LB_SALT_LEN])
{
	fill_random(salt, LB_SALT_LEN);
}

/* Encode, check the size rule, decode, compare. */
static void roundtrip(int k, const uint8_t *raw, size_t n, const char *what)
{
	struct lb_aead_key pk;
	uint8_t salt[LB_SALT_LEN], *sealed = NULL, *back = malloc(n ? n : 1);
	size_t slen = 0;
	int r;

	random_salt(salt);
	CHECK_INT(lb_pack_key(&keys[k], salt, &pk), 0);
	r = lb_frame_encode(&pk, salt, 7, 3, raw, n, &sealed, &slen);
	CHECK_INT(r, 0);
	if (r == 0 && back) {
		CHECK(slen >= LB_FRAME_OVERHEAD && slen <= n + LB_FRAME_OVERHEAD);
		memset(back, 0xee, n);
		r = lb_frame_decode(&pk, salt, 7, sealed, slen, back, n);
		if (r)
			printf("#   %s, %s: decode returned %d\n", kind(k), what, r);
		CHECK_INT(r, 0);
		CHECK(n == 0 || memcmp(back, raw, n) == 0);
	}
	free(sealed);
	free(back);
}

/* The codec byte of a sealed frame (opened with the key). */
static int codec_of(const struct lb_aead_key *pk, const uint8_t salt[LB_SALT_LEN], uint32_t no,
		    const uint8_t *sealed, size_t len)
{
	uint8_t aad[64], *pt = malloc(len);
	size_t n = strlen("lifeboat-frame");
	int codec = -1;

	memcpy(aad, "lifeboat-frame", n);
	memcpy(aad + n, salt, LB_SALT_LEN);
	lb_put_le32(aad + n + LB_SALT_LEN, no);
	if (pt && lb_unseal(pk, aad, n + LB_SALT_LEN + 4, sealed, len, pt) == 0)
		codec = pt[0];
	free(pt);
	return codec;
}

/* Seal @pt as frame @no by hand (to forge frames whose contents are wrong). */
static uint8_t *seal_by_hand(const struct lb_aead_key *pk, const uint8_t salt[LB_SALT_LEN],
			     uint32_t no, const uint8_t *pt, size_t n)
{
	uint8_t aad[64], *out = malloc(n + LB_SEAL_OVERHEAD);
	size_t a = strlen("lifeboat-frame");

	memcpy(aad, "lifeboat-frame", a);
	memcpy(aad + a, salt, LB_SALT_LEN);
	lb_put_le32(aad + a + LB_SALT_LEN, no);
	CHECK(out != NULL);
	if (out)
		CHECK_INT(lb_seal(pk, aad, a + LB_SALT_LEN + 4, pt, n, out), 0);
	return out;
}

/* ---- frames ----------------------------------------------------------------------- */

static void test_frame_roundtrip(void)
{
	const size_t big = LB_FRAME_MAX_RAW;
	uint8_t *text = malloc(big), *rand = malloc(big);

	keys_init();
	CHECK(text && rand);
	if (!text || !rand)
		goto out;
	fill_text(text, big, 1);
	fill_random(rand, big);
	for (int k = 0; k < 4; k++) {
		if (k >= 2) /* again, sampling first */
			lb_frame_set_sampling(1);
		roundtrip(k % 2, text, 0, "empty");
		roundtrip(k % 2, text, 1, "one byte");
		roundtrip(k % 2, text, 4096, "4 KiB of text");
		roundtrip(k % 2, rand, 4096, "4 KiB of random bytes");
		roundtrip(k % 2, text, 512 << 10, "512 KiB of text");
		roundtrip(k % 2, rand, 512 << 10, "512 KiB of random bytes");
		roundtrip(k % 2, text, (128 << 10) + 1, "just over the sampling size");
		roundtrip(k % 2, text, big, "the largest frame, text");
		roundtrip(k % 2, rand, big, "the largest frame, random");
	}
	lb_frame_set_sampling(0);
	/* one byte over the cap is refused */
	{
		struct lb_aead_key pk;
		uint8_t salt[LB_SALT_LEN] = {0}, *out = NULL;
		size_t n = 0;

		lb_pack_key(&keys[0], salt, &pk);
		CHECK_INT(lb_frame_encode(&pk, salt, 0, 3, text, big + 1, &out, &n), -EINVAL);
		CHECK(out == NULL);
	}
out:
	free(text);
	free(rand);
}

static void frame_codec(void)
{
	const size_t n = 512 << 10;
	uint8_t *text = malloc(n), *rand = malloc(n), *mixed = malloc(n), *sealed = NULL;
	uint8_t salt[LB_SALT_LEN];
	struct lb_aead_key pk;
	size_t len = 0;

	keys_init();
	CHECK(text && rand && mixed);
	if (!text || !rand || !mixed)
		goto out;
	fill_text(text, n, 2);
	fill_random(rand, n);
	/* random bytes with text in the middle third: the samples see some of each */
	memcpy(mixed, rand, n);
	memcpy(mixed + n / 3, text, n / 3);
	for (int k = 0; k < 2; k++) {
		random_salt(salt);
		lb_pack_key(&keys[k], salt, &pk);

		CHECK_INT(lb_frame_encode(&pk, salt, 1, 3, rand, n, &sealed, &len), 0);
		CHECK_U64(len, n + LB_FRAME_OVERHEAD);
		CHECK_INT(codec_of(&pk, salt, 1, sealed, len), 0);
		free(sealed);
		sealed = NULL;

		CHECK_INT(lb_frame_encode(&pk, salt, 1, 3, text, n, &sealed, &len), 0);
		CHECK(len < n / 2);
		CHECK_INT(codec_of(&pk, salt, 1, sealed, len), 1);
		free(sealed);
		sealed = NULL;

		/* small frames are not sampled: compressed or not on the result */
		CHECK_INT(lb_frame_encode(&pk, salt, 1, 3, text, 8192, &sealed, &len), 0);
		CHECK_INT(codec_of(&pk, salt, 1, sealed, len), 1);
		free(sealed);
		sealed = NULL;
		CHECK_INT(lb_frame_encode(&pk, salt, 1, 3, rand, 8192, &sealed, &len), 0);
		CHECK_INT(codec_of(&pk, salt, 1, sealed, len), 0);
		CHECK_U64(len, 8192 + LB_FRAME_OVERHEAD);
		free(sealed);
		sealed = NULL;

		/* a third compressible: worth it (saves far more than 3 %) */
		CHECK_INT(lb_frame_encode(&pk, salt, 1, 3, mixed, n, &sealed, &len), 0);
		CHECK_INT(codec_of(&pk, salt, 1, sealed, len), 1);
		CHECK(len < n - n / 10);
		free(sealed);
		sealed = NULL;
	}
out:
	free(text);
	free(rand);
	free(mixed);
}

static void expect_decode(const struct lb_aead_key *pk, const uint8_t *salt, uint32_t no,
			  const uint8_t *sealed, size_t len, size_t raw_len, int want,
			  const char *what)
{
	uint8_t *raw = malloc(raw_len + 64);
	int r;

	if (!raw)
		return;
	/* a canary after the room given: nothing may be written past it */
	memset(raw, 0x5a, raw_len + 64);
	lb_err_clear();
	r = lb_frame_decode(pk, salt, no, sealed, len, raw, raw_len);
	if (r != want)
		printf("#   %s: got %d, expected %d\n", what, r, want);
	CHECK_INT(r, want);
	if (r < 0) {
		CHECK_INT(lb_err_last()->code, r);
		CHECK_CONTAINS(lb_err_last()->object, "frame");
	}
	for (size_t i = raw_len; i < raw_len + 64; i++)
		if (raw[i] != 0x5a) {
			CHECK(!"decode wrote past the room it was given");
			break;
		}
	free(raw);
}

static void test_frame_tamper(void)
{
	const size_t n = 256 << 10;
	uint8_t *text = malloc(n), *sealed = NULL, salt[LB_SALT_LEN], salt2[LB_SALT_LEN];
	struct lb_aead_key pk, other;
	struct lb_keys k2;
	size_t len = 0;

	keys_init();
	if (!text)
		return;
	fill_text(text, n, 3);
	CHECK_INT(lb_keys_generate(&k2, true), 0);
	for (int k = 0; k < 2; k++) {
		random_salt(salt);
		memcpy(salt2, salt, sizeof(salt));
		salt2[5] ^= 1;
		lb_pack_key(&keys[k], salt, &pk);
		CHECK_INT(lb_frame_encode(&pk, salt, 3, 3, text, n, &sealed, &len), 0);
		if (!sealed)
			continue;
		expect_decode(&pk, salt, 3, sealed, len, n, 0, "intact");
		/*
		 * a flipped bit anywhere: nonce, header, payload, tag (an unencrypted
		 * frame's nonce is unused zeros that its tag does not cover)
		 */
		for (size_t at = k ? LB_SEAL_NONCE : 0; at < len; at += len / 7 + 1) {
			sealed[at] ^= 0x10;
			expect_decode(&pk, salt, 3, sealed, len, n, -EBADMSG, "flipped byte");
			sealed[at] ^= 0x10;
		}
		sealed[len - 1] ^= 0x80;
		expect_decode(&pk, salt, 3, sealed, len, n, -EBADMSG, "flipped tag");
		sealed[len - 1] ^= 0x80;
		/* another place in the pack: frame number or salt */
		expect_decode(&pk, salt, 4, sealed, len, n, -EBADMSG, "wrong frame number");
		expect_decode(&pk, salt2, 3, sealed, len, n, -EBADMSG, "wrong salt");
		/* the length the trailer gives must be the frame's */
		expect_decode(&pk, salt, 3, sealed, len, n - 1, -EBADMSG, "raw length too small");
		expect_decode(&pk, salt, 3, sealed, len, n + 1, -EBADMSG, "raw length too large");
		expect_decode(&pk, salt, 3, sealed, len - 1, n, -EBADMSG, "one byte short");
		expect_decode(&pk, salt, 3, sealed, 20, n, -EBADMSG, "shorter than a frame");
		if (k == 0) {
			/* another repository's key (with the same salt) */
			lb_pack_key(&k2, salt, &other);
			expect_decode(&other, salt, 3, sealed, len, n, -EBADMSG, "another key");
		}
		free(sealed);
		sealed = NULL;
	}
	free(text);
}

/* The codec choice, with and without sampling first (which one is the default depends on libzstd). */
static void test_frame_codec(void)
{
	const size_t n = 512 << 10, block = 64 << 10;
	uint8_t *rep = malloc(n), *sealed = NULL, salt[LB_SALT_LEN];
	struct lb_aead_key pk;
	size_t len = 0;

	lb_frame_set_sampling(1);
	frame_codec();
	lb_frame_set_sampling(-1);
	frame_codec();
	lb_frame_set_sampling(0);
	frame_codec();

	/*
	 * One random 64 KiB block, eight times: every 16 KiB sample looks random,
	 * the whole compresses eightfold. Sampling stores it raw; zstd alone finds it.
	 */
	if (!rep)
		return;
	fill_random(rep, block);
	for (size_t i = block; i < n; i += block)
		memcpy(rep + i, rep, block);
	random_salt(salt);
	lb_pack_key(&keys[0], salt, &pk);
	lb_frame_set_sampling(1);
	CHECK_INT(lb_frame_encode(&pk, salt, 0, 3, rep, n, &sealed, &len), 0);
	CHECK_INT(codec_of(&pk, salt, 0, sealed, len), 0);
	free(sealed);
	sealed = NULL;
	lb_frame_set_sampling(-1);
	CHECK_INT(lb_frame_encode(&pk, salt, 0, 3, rep, n, &sealed, &len), 0);
	CHECK_INT(codec_of(&pk, salt, 0, sealed, len), 1);
	CHECK(len < n / 4);
	free(sealed);
	lb_frame_set_sampling(0);
	free(rep);
}

/* Frames sealed correctly around wrong contents: the checks behind the tag. */
static void test_frame_forged(void)
{
	const size_t n = 64 << 10;
	uint8_t *text = malloc(n), *pt = malloc(n + 4096), *sealed, salt[LB_SALT_LEN];
	struct lb_aead_key pk;
	size_t clen = 0;

	keys_init();
	if (!text || !pt)
		goto out;
	fill_text(text, n, 4);
	for (int k = 0; k < 2; k++) {
		random_salt(salt);
		lb_pack_key(&keys[k], salt, &pk);

		/* a good zstd frame, by hand: accepted */
		memset(pt, 0, 8);
		pt[0] = 1;
		lb_put_le32(pt + 4, (uint32_t)n);
		CHECK_INT(lb_zstd_compress(3, text, n, pt + 8, n + 4000, &clen), 0);
		sealed = seal_by_hand(&pk, salt, 0, pt, 8 + clen);
		expect_decode(&pk, salt, 0, sealed, 8 + clen + LB_SEAL_OVERHEAD, n, 0, "by hand");
		free(sealed);

		/* unknown codec */
		pt[0] = 7;
		sealed = seal_by_hand(&pk, salt, 0, pt, 8 + clen);
		expect_decode(&pk, salt, 0, sealed, 8 + clen + LB_SEAL_OVERHEAD, n, -EBADMSG,
			      "codec 7");
		free(sealed);
		pt[0] = 1;

		/* reserved bytes set */
		pt[2] = 1;
		sealed = seal_by_hand(&pk, salt, 0, pt, 8 + clen);
		expect_decode(&pk, salt, 0, sealed, 8 + clen + LB_SEAL_OVERHEAD, n, -EBADMSG,
			      "reserved");
		free(sealed);
		pt[2] = 0;

		/* zstd says n bytes, the header and the trailer say n - 1 */
		lb_put_le32(pt + 4, (uint32_t)n - 1);
		sealed = seal_by_hand(&pk, salt, 0, pt, 8 + clen);
		expect_decode(&pk, salt, 0, sealed, 8 + clen + LB_SEAL_OVERHEAD, n - 1, -EBADMSG,
			      "zstd content size");
		free(sealed);
		lb_put_le32(pt + 4, (uint32_t)n);

		/* bytes after the zstd frame */
		pt[8 + clen] = 0;
		sealed = seal_by_hand(&pk, salt, 0, pt, 8 + clen + 1);
		expect_decode(&pk, salt, 0, sealed, 8 + clen + 1 + LB_SEAL_OVERHEAD, n, -EBADMSG,
			      "trailing bytes");
		free(sealed);

		/* a damaged zstd block (the tag is right: damaged before sealing) */
		pt[8 + clen / 2] ^= 0xff;
		sealed = seal_by_hand(&pk, salt, 0, pt, 8 + clen);
		expect_decode(&pk, salt, 0, sealed, 8 + clen + LB_SEAL_OVERHEAD, n, -EBADMSG,
			      "damaged zstd");
		free(sealed);
		pt[8 + clen / 2] ^= 0xff;

		/* a raw frame whose payload is shorter than its raw length */
		pt[0] = 0;
		memcpy(pt + 8, text, 1000);
		lb_put_le32(pt + 4, 1001);
		sealed = seal_by_hand(&pk, salt, 0, pt, 8 + 1000);
		expect_decode(&pk, salt, 0, sealed, 8 + 1000 + LB_SEAL_OVERHEAD, 1001, -EBADMSG,
			      "short raw frame");
		free(sealed);
	}
out:
	free(text);
	free(pt);
}

/* ---- packs ------------------------------------------------------------------------- */

struct enc_job {
	const struct lb_aead_key *pk;
	const uint8_t *salt;
	uint32_t no;
	const uint8_t *raw;
	size_t len;
	uint8_t *sealed;
	size_t slen;
	int r;
};

static void enc_job(void *arg)
{
	struct enc_job *j = arg;

	j->r = lb_frame_encode(j->pk, j->salt, j->no, 3, j->raw, j->len, &j->sealed, &j->slen);
}

struct written {
	uint8_t *data;	     /* every frame's raw bytes, concatenated */
	size_t *frame_start; /* where each frame's raw bytes start in data */
	struct lb_pack_info info;
};

/*
 * Write a pack of @nframes frames, encoded on a pool in parallel and added in
 * order, with chunks of mixed sizes and contents.
 */
static int write_pack(struct lb_store *s, const struct lb_keys *k, uint32_t nframes,
		      size_t frame_size, struct written *w)
{
	struct lb_pack_writer *pw = NULL;
	struct lb_pool *pool = NULL;
	struct enc_job *jobs = calloc(nframes, sizeof(*jobs));
	struct lb_chunk_ref *refs = calloc(frame_size / 512 + 2, sizeof(*refs));
	uint64_t expect = LB_PACK_HEADER;
	int r = -ENOMEM;

	memset(w, 0, sizeof(*w));
	w->data = malloc(nframes * frame_size + 1);
	w->frame_start = calloc(nframes + 1, sizeof(size_t));
	if (!jobs || !refs || !w->data || !w->frame_start)
		goto out;
	r = lb_pool_new(4, &pool);
	if (r < 0)
		goto out;
	r = lb_pack_writer_new(s, k, &pw);
	if (r < 0)
		goto out;
	for (uint32_t f = 0; f < nframes; f++) {
		uint8_t *p = w->data + f * frame_size;

		if (f % 3 == 1)
			fill_random(p, frame_size);
		else
			fill_text(p, frame_size, f);
		w->frame_start[f] = f * frame_size;
		r = lb_pack_next_frame(pw);
		CHECK_INT(r, (int)f);
		jobs[f] = (struct enc_job){lb_pack_writer_key(pw),
					   lb_pack_writer_salt(pw),
					   (uint32_t)r,
					   p,
					   frame_size,
					   NULL,
					   0,
					   0};
		lb_pool_submit(pool, enc_job, &jobs[f]);
	}
	lb_pool_wait(pool);
	for (uint32_t f = 0; f < nframes; f++) {
		size_t off = 0, n = 0;

		CHECK_INT(jobs[f].r, 0);
		/* chunks of 1 byte to 8 KiB, the last one taking the rest */
		while (off < frame_size) {
			size_t len = 1 + rnd() % 8192;

			if (len > frame_size - off || n == frame_size / 512)
				len = frame_size - off;
			fill_random(refs[n].id, LB_ID_LEN);
			refs[n].frame = 999; /* set by the writer */
			refs[n].off = (uint32_t)off;
			refs[n].len = (uint32_t)len;
			off += len;
			n++;
		}
		r = lb_pack_add_frame(pw, f, jobs[f].sealed, jobs[f].slen, (uint32_t)frame_size,
				      refs, n);
		CHECK_INT(r, 0);
		if (r < 0)
			goto out;
		expect += jobs[f].slen;
		CHECK_U64(lb_pack_writer_size(pw), expect);
	}
	r = lb_pack_finish(pw, &w->info);
	pw = NULL;
out:
	lb_pack_abort(pw);
	for (uint32_t f = 0; jobs && f < nframes; f++)
		free(jobs[f].sealed);
	free(jobs);
	free(refs);
	lb_pool_free(pool);
	return r;
}

static void written_release(struct written *w)
{
	free(w->data);
	free(w->frame_start);
	lb_pack_info_release(&w->info);
}

static bool info_equal(const struct lb_pack_info *a, const struct lb_pack_info *b)
{
	return !memcmp(a->id, b->id, LB_ID_LEN) && !memcmp(a->salt, b->salt, LB_SALT_LEN) &&
	       a->size == b->size && a->nframes == b->nframes && a->nchunks == b->nchunks &&
	       !memcmp(a->frames, b->frames, a->nframes * sizeof(*a->frames)) &&
	       !memcmp(a->chunks, b->chunks, a->nchunks * sizeof(*a->chunks));
}

/* Read every chunk back by the trailer's location; byte-equal to what was written. */
static void check_chunks(struct lb_store *s, const struct lb_keys *k, const struct written *w,
			 const struct lb_pack_info *info)
{
	struct lb_aead_key pk;
	uint8_t *raw;
	unsigned bad = 0;

	CHECK_INT(lb_pack_key(k, info->salt, &pk), 0);
	for (uint32_t f = 0; f < info->nframes; f++) {
		raw = malloc(info->frames[f].raw_len);
		if (!raw)
			return;
		CHECK_INT(
			lb_pack_read_frame(s, &pk, info->id, info->salt, f, &info->frames[f], raw),
			0);
		for (uint32_t c = 0; c < info->nchunks; c++) {
			const struct lb_chunk_ref *ch = &info->chunks[c];

			if (ch->frame != f)
				continue;
			if (memcmp(raw + ch->off, w->data + w->frame_start[f] + ch->off, ch->len))
				bad++;
		}
		free(raw);
	}
	CHECK_INT(bad, 0);
}

static void test_pack_roundtrip(void)
{
	keys_init();
	for (int k = 0; k < 2; k++) {
		struct lb_store *s = store_new();
		struct written w;
		struct lb_pack_info back;
		uint64_t size = 0;
		char name[80];
		uint32_t chunks_in_frame0 = 0;

		CHECK_INT(write_pack(s, &keys[k], 12, 128 << 10, &w), 0);
		CHECK_INT(w.info.nframes, 12);
		CHECK(w.info.nchunks > 12);
		for (uint32_t c = 0; c < w.info.nchunks; c++) {
			CHECK(w.info.chunks[c].frame < 12);
			chunks_in_frame0 += w.info.chunks[c].frame == 0;
		}
		CHECK(chunks_in_frame0 > 0);
		CHECK_INT(lb_store_stat(s, lb_pack_name(w.info.id, name), &size), 0);
		CHECK_U64(size, w.info.size);
		CHECK(!strncmp(name, "data/", 5) && name[7] == '/' && strlen(name) == 72);

		CHECK_INT(lb_pack_read_info(s, &keys[k], w.info.id, &back), 0);
		CHECK(info_equal(&back, &w.info));
		check_chunks(s, &keys[k], &w, &back);
		if (k == 0) {
			/* a real pack's trailer as a fuzz seed (random IDs: it changes each run) */
			uint8_t *t = NULL;
			size_t tl = 0;
			uint64_t toff = 0;

			CHECK_INT(lb_pack_trailer_encode(&back, &t, &tl), 0);
			CHECK_INT(lb_pack_trailer_offset(back.size, tl, &toff), 0);
			save_seed("corpus", "good-real-pack", toff, t, tl);
			free(t);
		}
		lb_pack_info_release(&back);
		lb_pack_info_release(&back); /* twice: harmless */

		/* the other kind of key cannot read it */
		lb_err_clear();
		CHECK_INT(lb_pack_read_info(s, &keys[1 - k], w.info.id, &back), -EBADMSG);
		CHECK_CONTAINS(lb_err_last()->problem, "tag");
		CHECK(back.frames == NULL && back.chunks == NULL);
		written_release(&w);
		store_done(s);
	}
}

static void test_pack_empty_and_full(void)
{
	struct lb_store *s;
	struct lb_pack_writer *pw = NULL;
	struct lb_pack_info info, back;
	uint8_t raw[100], *sealed = NULL;
	size_t slen = 0;

	keys_init();
	s = store_new();
	/* a pack without frames is valid (an empty trailer) */
	CHECK_INT(lb_pack_writer_new(s, &keys[0], &pw), 0);
	CHECK_INT(lb_pack_finish(pw, &info), 0);
	CHECK_INT(info.nframes, 0);
	CHECK_INT(info.nchunks, 0);
	CHECK_INT(lb_pack_read_info(s, &keys[0], info.id, &back), 0);
	CHECK(info_equal(&info, &back));
	lb_pack_info_release(&info);
	lb_pack_info_release(&back);

	/* 32 frames, then -ENOSPC */
	fill_text(raw, sizeof(raw), 5);
	CHECK_INT(lb_pack_writer_new(s, &keys[0], &pw), 0);
	for (int i = 0; i < LB_PACK_MAX_FRAMES; i++) {
		struct lb_chunk_ref c = {.off = 0, .len = sizeof(raw)};

		CHECK_INT(lb_pack_next_frame(pw), i);
		CHECK_INT(lb_frame_encode(lb_pack_writer_key(pw), lb_pack_writer_salt(pw),
					  (uint32_t)i, 3, raw, sizeof(raw), &sealed, &slen),
			  0);
		fill_random(c.id, sizeof(c.id));
		CHECK_INT(lb_pack_add_frame(pw, (uint32_t)i, sealed, slen, sizeof(raw), &c, 1), 0);
		free(sealed);
	}
	CHECK_INT(lb_pack_next_frame(pw), -ENOSPC);
	CHECK_INT(lb_pack_finish(pw, &info), 0);
	CHECK_INT(info.nframes, LB_PACK_MAX_FRAMES);
	CHECK_INT(info.nchunks, LB_PACK_MAX_FRAMES);
	CHECK_INT(lb_pack_read_info(s, &keys[0], info.id, &back), 0);
	CHECK(info_equal(&info, &back));
	for (uint32_t i = 0; i < back.nchunks; i++)
		CHECK_INT(back.chunks[i].frame, i);
	lb_pack_info_release(&info);
	lb_pack_info_release(&back);
	store_done(s);
}

static int count_cb(void *ctx, const char *name, uint64_t size)
{
	(*(int *)ctx)++;
	return 0;
}

static int count_objects(struct lb_store *s, const char *prefix)
{
	int n = 0;

	CHECK_INT(lb_store_list(s, prefix, count_cb, &n), 0);
	return n;
}

static void test_writer_misuse(void)
{
	struct lb_store *s;
	struct lb_pack_writer *pw = NULL;
	struct lb_pack_info info;
	uint8_t raw[4096], *sealed = NULL;
	size_t slen = 0;
	struct lb_chunk_ref c = {.off = 0, .len = sizeof(raw)}, *many;

	keys_init();
	s = store_new();
	fill_text(raw, sizeof(raw), 6);
	CHECK_INT(lb_pack_writer_new(s, &keys[0], &pw), 0);
	CHECK_INT(lb_pack_next_frame(pw), 0);
	CHECK_INT(lb_pack_next_frame(pw), 1);
	CHECK_INT(lb_frame_encode(lb_pack_writer_key(pw), lb_pack_writer_salt(pw), 1, 3, raw,
				  sizeof(raw), &sealed, &slen),
		  0);
	/* frame 1 before frame 0 */
	CHECK_INT(lb_pack_add_frame(pw, 1, sealed, slen, sizeof(raw), &c, 1), -EINVAL);
	/* a frame number never reserved */
	CHECK_INT(lb_pack_add_frame(pw, 5, sealed, slen, sizeof(raw), &c, 1), -EINVAL);
	/* a chunk outside the frame */
	c.off = 1;
	CHECK_INT(lb_pack_add_frame(pw, 0, sealed, slen, sizeof(raw), &c, 1), -EINVAL);
	c.off = UINT32_MAX;
	c.len = 2;
	CHECK_INT(lb_pack_add_frame(pw, 0, sealed, slen, sizeof(raw), &c, 1), -EINVAL);
	/* a sealed length the raw length cannot explain */
	c.off = 0;
	c.len = 10;
	CHECK_INT(lb_pack_add_frame(pw, 0, sealed, slen, 10, &c, 1), -EINVAL);
	CHECK_INT(lb_pack_add_frame(pw, 0, sealed, 20, sizeof(raw), &c, 1), -EINVAL);
	/* too many chunks for one frame */
	many = calloc(LB_FRAME_MAX_CHUNKS + 1, sizeof(*many));
	if (many)
		CHECK_INT(lb_pack_add_frame(pw, 0, sealed, slen, sizeof(raw), many,
					    LB_FRAME_MAX_CHUNKS + 1),
			  -EINVAL);
	free(many);
	/* nothing was written by the refusals */
	CHECK_U64(lb_pack_writer_size(pw), LB_PACK_HEADER);
	CHECK_INT(lb_pack_add_frame(pw, 0, sealed, slen, sizeof(raw), &c, 1), 0);
	/* frame 1 reserved, never added: finish refuses, nothing becomes visible */
	CHECK_INT(lb_pack_finish(pw, &info), -EINVAL);
	CHECK(info.frames == NULL && info.chunks == NULL);
	CHECK_INT(count_objects(s, "data/"), 0);

	/* abort leaves nothing either */
	CHECK_INT(lb_pack_writer_new(s, &keys[0], &pw), 0);
	lb_pack_abort(pw);
	lb_pack_abort(NULL);
	CHECK_INT(count_objects(s, "data/"), 0);
	free(sealed);
	store_done(s);
}

/* Put @len bytes as the pack named by a new random ID; return the ID in @id. */
static void put_as_pack(struct lb_store *s, const uint8_t *p, size_t len, uint8_t id[LB_ID_LEN])
{
	char name[80];

	fill_random(id, LB_ID_LEN);
	CHECK_INT(lb_store_put(s, lb_pack_name(id, name), p, len), 0);
}

static void expect_info(struct lb_store *s, const struct lb_keys *k, const uint8_t *p, size_t len,
			int want1, int want2, const char *what)
{
	uint8_t id[LB_ID_LEN];
	struct lb_pack_info info;
	int r;

	put_as_pack(s, p, len, id);
	lb_err_clear();
	r = lb_pack_read_info(s, k, id, &info);
	if (r != want1 && r != want2)
		printf("#   %s: got %d (%s), expected %d or %d\n", what, r, lb_err_last()->problem,
		       want1, want2);
	CHECK(r == want1 || r == want2);
	if (r < 0) {
		CHECK_INT(lb_err_last()->code, r);
		CHECK_CONTAINS(lb_err_last()->object, "data/");
	}
	lb_pack_info_release(&info);
}

static void test_pack_damaged(void)
{
	keys_init();
	for (int k = 0; k < 2; k++) {
		struct lb_store *s = store_new();
		struct written w;
		uint8_t *pack = NULL, *copy, missing[LB_ID_LEN] = {0};
		size_t len = 0;
		char name[80];
		struct lb_pack_info info;
		struct lb_aead_key pk;
		uint64_t toff;
		uint32_t tlen;

		CHECK_INT(write_pack(s, &keys[k], 4, 64 << 10, &w), 0);
		CHECK_INT(lb_store_get_all(s, lb_pack_name(w.info.id, name), 1 << 30, &pack, &len),
			  0);
		if (!pack) {
			store_done(s);
			continue;
		}
		copy = malloc(len);
		toff = lb_le64(pack + len - 16);
		tlen = lb_le32(pack + len - 8);
		CHECK_U64(toff + tlen + 16, len);

		/* truncated copies: every way of cutting the end off is caught */
		expect_info(s, &keys[k], pack, len - 1, -EBADMSG, -ENODATA, "1 byte short");
		expect_info(s, &keys[k], pack, len - 16, -EBADMSG, -ENODATA, "no footer");
		expect_info(s, &keys[k], pack, len / 2, -EBADMSG, -ENODATA, "half");
		expect_info(s, &keys[k], pack, 40, -EBADMSG, -ENODATA, "40 bytes");
		expect_info(s, &keys[k], pack, 10, -ENODATA, -ENODATA, "10 bytes");
		expect_info(s, &keys[k], pack, 0, -ENODATA, -ENODATA, "empty");
		/* a footer moved to a truncated pack: the trailer runs past the end */
		memcpy(copy, pack, len);
		memcpy(copy + len - 100 - 16, pack + len - 16, 16);
		expect_info(s, &keys[k], copy, len - 100, -ENODATA, -ENODATA, "trailer cut");

		/* damage */
		memcpy(copy, pack, len);
		copy[toff + tlen / 2] ^= 1;
		expect_info(s, &keys[k], copy, len, -EBADMSG, -EBADMSG, "trailer byte");
		memcpy(copy, pack, len);
		copy[3] ^= 1;
		expect_info(s, &keys[k], copy, len, -EBADMSG, -EBADMSG, "header magic");
		memcpy(copy, pack, len);
		copy[8] = 2;
		expect_info(s, &keys[k], copy, len, -EBADMSG, -EBADMSG, "header version");
		memcpy(copy, pack, len);
		copy[20] ^= 1; /* the salt: another key, another aad */
		expect_info(s, &keys[k], copy, len, -EBADMSG, -EBADMSG, "salt");
		memcpy(copy, pack, len);
		lb_put_le64(copy + len - 16, toff - 1);
		expect_info(s, &keys[k], copy, len, -EBADMSG, -EBADMSG, "trailer offset");
		memcpy(copy, pack, len);
		lb_put_le64(copy + len - 16, UINT64_MAX - 5);
		expect_info(s, &keys[k], copy, len, -ENODATA, -ENODATA, "huge trailer offset");
		memcpy(copy, pack, len);
		lb_put_le32(copy + len - 8, LB_PACK_MAX_TRAILER + 1);
		expect_info(s, &keys[k], copy, len, -EOVERFLOW, -EOVERFLOW, "trailer over the cap");
		memcpy(copy, pack, len);
		lb_put_le32(copy + len - 8, 5);
		expect_info(s, &keys[k], copy, len, -EBADMSG, -EBADMSG, "tiny trailer");

		/* no such pack */
		CHECK_INT(lb_pack_read_info(s, &keys[k], missing, &info), -ENOENT);

		/* frames: a damaged byte in the store, and a truncated copy */
		lb_pack_key(&keys[k], w.info.salt, &pk);
		{
			uint8_t *raw = malloc(w.info.frames[2].raw_len);
			uint8_t id[LB_ID_LEN];
			const struct lb_frame_info *f = &w.info.frames[2];

			memcpy(copy, pack, len);
			copy[f->off + f->sealed_len / 2] ^= 4;
			put_as_pack(s, copy, len, id);
			lb_err_clear();
			CHECK_INT(lb_pack_read_frame(s, &pk, id, w.info.salt, 2, f, raw), -EBADMSG);
			CHECK_CONTAINS(lb_err_last()->object, "data/");
			CHECK_CONTAINS(lb_err_last()->object, "frame 2");
			/* the frames around it are fine */
			CHECK_INT(lb_pack_read_frame(s, &pk, id, w.info.salt, 1, &w.info.frames[1],
						     raw),
				  0);
			put_as_pack(s, pack, f->off + f->sealed_len - 1, id);
			CHECK_INT(lb_pack_read_frame(s, &pk, id, w.info.salt, 2, f, raw), -ENODATA);
			/* frame 2's bytes asked for as frame 3 */
			CHECK_INT(lb_pack_read_frame(s, &pk, w.info.id, w.info.salt, 3, f, raw),
				  -EBADMSG);
			free(raw);
		}
		free(copy);
		free(pack);
		written_release(&w);
		store_done(s);
	}
}

/* ---- trailers ---------------------------------------------------------------------- */

static uint8_t *trailer_of(const struct lb_pack_info *p, size_t *len)
{
	uint8_t *t = NULL;

	CHECK_INT(lb_pack_trailer_encode(p, &t, len), 0);
	return t;
}

static void expect_parse(const char *name, const uint8_t *t, size_t len, uint64_t toff, int want)
{
	struct lb_pack_info out;
	int r;

	lb_err_clear();
	r = lb_pack_trailer_parse(t, len, toff, &out);
	if (r != want)
		printf("#   %s: parse returned %d (%s), expected %d\n", name, r,
		       lb_err_last()->problem, want);
	CHECK_INT(r, want);
	if (r < 0) {
		CHECK_INT(lb_err_last()->code, r);
		CHECK(out.frames == NULL && out.chunks == NULL);
	}
	lb_pack_info_release(&out);
	save_seed(want < 0 ? "bad" : "corpus", name, toff, t, len);
}

/* A plausible pack: 3 frames back to back, 6 chunks. */
static void sample_info(struct lb_pack_info *p, struct lb_frame_info *f, struct lb_chunk_ref *c)
{
	memset(p, 0, sizeof(*p));
	f[0] = (struct lb_frame_info){32, 1000, 4000};
	f[1] = (struct lb_frame_info){1032, 36 + 8192, 8192};
	f[2] = (struct lb_frame_info){1032 + 36 + 8192, 36, 0};
	for (int i = 0; i < 6; i++) {
		memset(c[i].id, 0x11 * (i + 1), LB_ID_LEN);
		c[i].frame = (uint32_t)i / 3;
		c[i].off = (uint32_t)(i % 3) * 1000;
		c[i].len = 1000;
	}
	p->nframes = 3;
	p->frames = f;
	p->nchunks = 6;
	p->chunks = c;
}

#define T_OFF (1032 + 36 + 8192 + 36)

static void test_trailer_bounds(void)
{
	struct lb_pack_info p, out;
	struct lb_frame_info f[3];
	struct lb_chunk_ref c[6];
	uint8_t *t, *m;
	size_t len = 0;

	sample_info(&p, f, c);
	t = trailer_of(&p, &len);
	if (!t)
		return;
	CHECK_U64(len, 12 + 3 * 16 + 6 * 44);
	m = malloc(len + 64);
	if (!m) {
		free(t);
		return;
	}
	CHECK_INT(lb_pack_trailer_parse(t, len, T_OFF, &out), 0);
	CHECK(out.nframes == 3 && out.nchunks == 6);
	CHECK(!memcmp(out.frames, f, sizeof(f)) && !memcmp(out.chunks, c, sizeof(c)));
	lb_pack_info_release(&out);
	expect_parse("good-3-frames", t, len, T_OFF, 0);
	expect_parse("good-trailer-far-away", t, len, UINT64_MAX, 0);

#define MUT(name, want, toff, stmt)                      \
	do {                                             \
		memcpy(m, t, len);                       \
		size_t mlen = len;                       \
		stmt;                                    \
		expect_parse(name, m, mlen, toff, want); \
	} while (0)

	/* frames: 8 + 16 i; chunks: 8 + 48 + 4 + 44 i */
	MUT("EBADMSG-magic", -EBADMSG, T_OFF, m[0] = 'X');
	MUT("EBADMSG-short", -EBADMSG, T_OFF, mlen = 11);
	MUT("EBADMSG-empty", -EBADMSG, T_OFF, mlen = 0);
	MUT("EBADMSG-one-byte-more", -EBADMSG, T_OFF, mlen = len + 1);
	MUT("EBADMSG-one-byte-less", -EBADMSG, T_OFF, mlen = len - 1);
	MUT("EBADMSG-frames-cut", -EBADMSG, T_OFF, mlen = 8 + 16 + 2);
	MUT("EOVERFLOW-frame-count", -EOVERFLOW, T_OFF, lb_put_le32(m + 4, 4097));
	MUT("EOVERFLOW-frame-count-huge", -EOVERFLOW, T_OFF, lb_put_le32(m + 4, UINT32_MAX));
	MUT("EBADMSG-frame-count-minus-one", -EBADMSG, T_OFF, lb_put_le32(m + 4, 2));
	MUT("EOVERFLOW-frame-count-plus-one", -EOVERFLOW, T_OFF, lb_put_le32(m + 4, 4));
	MUT("EOVERFLOW-chunk-count", -EOVERFLOW, T_OFF,
	    lb_put_le32(m + 56, LB_PACK_MAX_CHUNKS + 1));
	MUT("EBADMSG-chunk-count-plus-one", -EBADMSG, T_OFF, lb_put_le32(m + 56, 7));
	MUT("EBADMSG-frame-in-header", -EBADMSG, T_OFF, lb_put_le64(m + 8, 31));
	MUT("EBADMSG-frames-overlap", -EBADMSG, T_OFF, lb_put_le64(m + 24, 1031));
	MUT("EBADMSG-frames-out-of-order", -EBADMSG, T_OFF,
	    (lb_put_le64(m + 8, 1032), lb_put_le64(m + 24, 32)));
	MUT("EBADMSG-frame-past-trailer", -EBADMSG, T_OFF - 1, (void)0);
	MUT("EBADMSG-frame-offset-huge", -EBADMSG, T_OFF, lb_put_le64(m + 40, UINT64_MAX - 10));
	MUT("EBADMSG-sealed-too-short", -EBADMSG, T_OFF, lb_put_le32(m + 48, 35));
	MUT("EBADMSG-sealed-longer-than-raw", -EBADMSG, T_OFF, lb_put_le32(m + 12, 4000 + 37));
	MUT("EOVERFLOW-raw-over-cap", -EOVERFLOW, T_OFF, lb_put_le32(m + 20, LB_FRAME_MAX_RAW + 1));
	MUT("EBADMSG-chunk-frame", -EBADMSG, T_OFF, lb_put_le32(m + 60 + 5 * 44 + 32, 3));
	MUT("EBADMSG-chunk-frame-huge", -EBADMSG, T_OFF,
	    lb_put_le32(m + 60 + 5 * 44 + 32, UINT32_MAX));
	MUT("EBADMSG-chunk-past-frame", -EBADMSG, T_OFF, lb_put_le32(m + 60 + 2 * 44 + 40, 2001));
	MUT("EBADMSG-chunk-offset-wraps", -EBADMSG, T_OFF,
	    (lb_put_le32(m + 60 + 36, UINT32_MAX), lb_put_le32(m + 60 + 40, 2)));
	MUT("EBADMSG-chunk-in-empty-frame", -EBADMSG, T_OFF,
	    (lb_put_le32(m + 60 + 32, 2), lb_put_le32(m + 60 + 36, 0),
	     lb_put_le32(m + 60 + 40, 1)));
	/* accepted: an empty chunk at the very end of a frame, a gap between frames */
	MUT("good-empty-chunk", 0, T_OFF,
	    (lb_put_le32(m + 60 + 36, 4000), lb_put_le32(m + 60 + 40, 0)));
	MUT("good-gap", 0, T_OFF + 10, lb_put_le64(m + 40, 1032 + 36 + 8192 + 10));
#undef MUT

	/* no frames, no chunks */
	{
		struct lb_pack_info e = {0};
		uint8_t *te;
		size_t tl = 0;

		te = trailer_of(&e, &tl);
		if (te) {
			CHECK_U64(tl, 12);
			expect_parse("good-empty", te, tl, 32, 0);
		}
		free(te);
	}
	free(m);
	free(t);
}

static void test_trailer_alloc_fail(void)
{
	struct lb_pack_info p, out;
	struct lb_frame_info f[3];
	struct lb_chunk_ref c[6];
	uint8_t *t;
	size_t len = 0;
	unsigned long n;
	int r;

	sample_info(&p, f, c);
	t = trailer_of(&p, &len);
	if (!t)
		return;
	for (n = 1; n < 20; n++) {
		lb_test_alloc_fail_at(n);
		r = lb_pack_trailer_parse(t, len, T_OFF, &out);
		lb_test_alloc_fail_at(0);
		lb_pack_info_release(&out);
		if (r == 0)
			break;
		CHECK_INT(r, -ENOMEM);
	}
#if !defined(__SANITIZE_ADDRESS__)
	CHECK_INT(n, 3); /* two allocations, each failure reported */
#endif
	for (n = 1; n < 20; n++) {
		uint8_t *e = NULL;
		size_t el = 0;

		lb_test_alloc_fail_at(n);
		r = lb_pack_trailer_encode(&p, &e, &el);
		lb_test_alloc_fail_at(0);
		free(e);
		if (r == 0)
			break;
		CHECK_INT(r, -ENOMEM);
	}
	free(t);
}

/* lb_pack_read_info and lb_pack_read_frame with every allocation failing in turn. */
static void test_read_alloc_fail(void)
{
	struct lb_store *s;
	struct written w;
	struct lb_pack_info info;
	struct lb_aead_key pk;
	uint8_t *raw;
	unsigned long n, total, failed = 0;
	int r;

	keys_init();
	s = store_new();
	/* unencrypted: OpenSSL's cipher setup would turn a failed allocation into a bad tag */
	CHECK_INT(write_pack(s, &keys[1], 3, 32 << 10, &w), 0);
	lb_pack_key(&keys[1], w.info.salt, &pk);
	raw = malloc(32 << 10);
	/* once without failures: the thread's zstd context exists afterwards */
	CHECK_INT(lb_pack_read_frame(s, &pk, w.info.id, w.info.salt, 0, &w.info.frames[0], raw), 0);
	/* how many allocations a read makes, then each of them failing in turn */
	lb_test_alloc_fail_at(ULONG_MAX);
	CHECK_INT(lb_pack_read_info(s, &keys[1], w.info.id, &info), 0);
	total = lb_test_alloc_count();
	lb_test_alloc_fail_at(0);
	lb_pack_info_release(&info);
	for (n = 1; n <= total; n++) {
		lb_test_alloc_fail_at(n);
		r = lb_pack_read_info(s, &keys[1], w.info.id, &info);
		lb_test_alloc_fail_at(0);
		lb_pack_info_release(&info);
		/* (OpenSSL survives some of its own allocations failing) */
		if (r != 0)
			CHECK_INT(r, -ENOMEM);
		failed += r == -ENOMEM;
	}
#if !defined(__SANITIZE_ADDRESS__)
	CHECK(failed >= 3); /* the trailer, its two lists */
#endif
	lb_test_alloc_fail_at(ULONG_MAX);
	CHECK_INT(lb_pack_read_frame(s, &pk, w.info.id, w.info.salt, 0, &w.info.frames[0], raw), 0);
	total = lb_test_alloc_count();
	lb_test_alloc_fail_at(0);
	failed = 0;
	for (n = 1; n <= total; n++) {
		memset(raw, 0, 32 << 10);
		lb_test_alloc_fail_at(n);
		r = lb_pack_read_frame(s, &pk, w.info.id, w.info.salt, 0, &w.info.frames[0], raw);
		lb_test_alloc_fail_at(0);
		if (r != 0)
			CHECK_INT(r, -ENOMEM);
		failed += r == -ENOMEM;
	}
#if !defined(__SANITIZE_ADDRESS__)
	CHECK(failed >= 1);
#endif
	CHECK_INT(lb_pack_read_frame(s, &pk, w.info.id, w.info.salt, 0, &w.info.frames[0], raw), 0);
	CHECK(!memcmp(raw, w.data, 32 << 10));
	free(raw);
	written_release(&w);
	store_done(s);
}

LB_TEST_MAIN(T(test_frame_roundtrip), T(test_frame_codec), T(test_frame_tamper),
	     T(test_frame_forged), T(test_pack_roundtrip), T(test_pack_empty_and_full),
	     T(test_writer_misuse), T(test_pack_damaged), T(test_trailer_bounds),
	     T(test_trailer_alloc_fail), T(test_read_alloc_fail))
