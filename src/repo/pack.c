/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pack.c - frames (zstd + AEAD) and packs (a header, frames, a sealed
 * trailer, a footer). Format: docs/repository-format.md, "Frames and packs".
 *
 *   pack:    0  magic "LBPACK\r\n"   8  version (1)   12  header length (32)
 *           16  salt (16)           32  frames, back to back
 *            T  sealed trailer      end-16  T (8), sealed trailer length (4), "LBPT"
 *   frame:   nonce (12) | seal(codec (1), reserved (3), raw length (4), payload) | tag (16)
 *   trailer: "LBTR", F (4), F x {offset (8), sealed length (4), raw length (4)},
 *            C (4), C x {ID (32), frame (4), offset (4), length (4)}
 */
#include "repo/pack.h"
#include "base/cleanup.h"
#include "base/endian.h"
#include "base/err.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#define PACK_MAGIC "LBPACK\r\n"
#define PACK_VERSION 1
#define FOOTER_MAGIC "LBPT"
#define TRAILER_MAGIC "LBTR"
#define TRAILER_FIXED 12 /* magic, frame count, chunk count */
#define TRAILER_FRAME 16
#define TRAILER_CHUNK 44
#define CODEC_RAW 0
#define CODEC_ZSTD 1

#define FRAME_AAD "lifeboat-frame"
#define TRAILER_AAD "lifeboat-trailer"

/*
 * Incompressible data: libzstd 1.5 and later skip it by themselves at about
 * 10 GB/s (a random 512 KiB frame: ~50 us at level 3, against ~2 ms for
 * text), so their result is simply checked; sampling first would cost ~9 %
 * on every compressible frame. Older libzstd gets the samples: four 16 KiB
 * pieces at level 1 must save 3 % before the frame is compressed whole.
 */
#define SAMPLE_LEN (16u << 10)
#define SAMPLES 4
#define SAMPLE_ABOVE (128u << 10) /* smaller frames are simply compressed whole */
#define SAMPLE_LEVEL 1
#define ZSTD_SKIPS_INCOMPRESSIBLE 10500 /* ZSTD_versionNumber() from which we trust it */

static int sampling_mode; /* lb_frame_set_sampling(): 0 by libzstd's version, 1 on, -1 off */
#define MIN_SAVING_PCT 3

#define HINT_CHECK "run 'lifeboat check'"

/* ---- zstd contexts, one per thread ---------------------------------------------- */

struct zctx {
	ZSTD_CCtx *c;
	ZSTD_DCtx *d;
};

static __thread struct zctx *tls_z; /* also keeps the contexts reachable for leak checkers */
static pthread_key_t zkey;
static pthread_once_t zonce = PTHREAD_ONCE_INIT;
static bool zkey_ok;

static void zctx_free(void *arg)
{
	struct zctx *z = arg;

	ZSTD_freeCCtx(z->c);
	ZSTD_freeDCtx(z->d);
	free(z);
	tls_z = NULL;
}

static void zkey_init(void)
{
	zkey_ok = pthread_key_create(&zkey, zctx_free) == 0;
}

static struct zctx *zctx_get(void)
{
	struct zctx *z = tls_z;

	if (z)
		return z;
	pthread_once(&zonce, zkey_init);
	z = calloc(1, sizeof(*z));
	if (!z)
		return NULL;
	/* freed at thread exit; without a key, kept for the life of the thread */
	if (zkey_ok)
		pthread_setspecific(zkey, z);
	tls_z = z;
	return z;
}

static ZSTD_CCtx *cctx_get(void)
{
	struct zctx *z = zctx_get();

	if (z && !z->c)
		z->c = ZSTD_createCCtx();
	return z ? z->c : NULL;
}

static ZSTD_DCtx *dctx_get(void)
{
	struct zctx *z = zctx_get();

	if (z && !z->d)
		z->d = ZSTD_createDCtx();
	return z ? z->d : NULL;
}

size_t lb_zstd_bound(size_t len)
{
	return ZSTD_compressBound(len);
}

int lb_zstd_compress(int level, const void *src, size_t len, void *dst, size_t cap, size_t *out_len)
{
	ZSTD_CCtx *c = cctx_get();
	size_t n;

	if (!c)
		return -ENOMEM;
	n = ZSTD_compressCCtx(c, dst, cap, src, len, level);
	if (ZSTD_isError(n))
		return lb_err(-EIO, "zstd", NULL, "compression failed: %s", ZSTD_getErrorName(n));
	*out_len = n;
	return 0;
}

int lb_zstd_frame_size(const void *src, size_t len, uint64_t *size)
{
	unsigned long long n;
	size_t flen;

	if (len < 4 || lb_le32(src) != ZSTD_MAGICNUMBER)
		return lb_err(-EBADMSG, "zstd frame", HINT_CHECK, "not a zstd frame");
	flen = ZSTD_findFrameCompressedSize(src, len);
	if (ZSTD_isError(flen))
		return lb_err(-EBADMSG, "zstd frame", HINT_CHECK, "damaged: %s",
			      ZSTD_getErrorName(flen));
	if (flen != len)
		return lb_err(-EBADMSG, "zstd frame", HINT_CHECK,
			      "%zu bytes follow the frame's %zu bytes", len - flen, flen);
	n = ZSTD_getFrameContentSize(src, len);
	if (n == ZSTD_CONTENTSIZE_UNKNOWN || n == ZSTD_CONTENTSIZE_ERROR)
		return lb_err(-EBADMSG, "zstd frame", HINT_CHECK,
			      "the frame does not record its decompressed size");
	*size = n;
	return 0;
}

int lb_zstd_decompress(const void *src, size_t len, void *dst, size_t dst_len)
{
	ZSTD_DCtx *d;
	uint64_t want;
	size_t n;
	int r;

	r = lb_zstd_frame_size(src, len, &want);
	if (r < 0)
		return r;
	if (want != dst_len)
		return lb_err(-EBADMSG, "zstd frame", HINT_CHECK,
			      "it holds %llu bytes, %zu expected", (unsigned long long)want,
			      dst_len);
	d = dctx_get();
	if (!d)
		return -ENOMEM;
	/* the exact capacity: zstd cannot write a byte more than the size checked above */
	n = ZSTD_decompressDCtx(d, dst, dst_len, src, len);
	if (ZSTD_isError(n))
		return lb_err(-EBADMSG, "zstd frame", HINT_CHECK, "damaged: %s",
			      ZSTD_getErrorName(n));
	if (n != dst_len)
		return lb_err(-EBADMSG, "zstd frame", HINT_CHECK,
			      "it decompressed to %zu bytes, %zu expected", n, dst_len);
	return 0;
}

/* ---- names, keys, info ---------------------------------------------------------- */

char *lb_pack_name(const uint8_t id[LB_ID_LEN], char out[80])
{
	char hex[2 * LB_ID_LEN + 1];

	lb_id_hex(id, hex);
	snprintf(out, 80, "data/%.2s/%s", hex, hex);
	return out;
}

int lb_pack_key(const struct lb_keys *keys, const uint8_t salt[LB_SALT_LEN],
		struct lb_aead_key *out)
{
	return lb_aead_derive(keys, "pack", salt, LB_SALT_LEN, out);
}

void lb_pack_info_release(struct lb_pack_info *p)
{
	if (!p)
		return;
	free(p->frames);
	free(p->chunks);
	p->frames = NULL;
	p->chunks = NULL;
	p->nframes = 0;
	p->nchunks = 0;
}

/* aad of frame @frame_no: "lifeboat-frame" | salt | frame number; returns its length */
static size_t frame_aad(uint8_t aad[64], const uint8_t salt[LB_SALT_LEN], uint32_t frame_no)
{
	size_t n = strlen(FRAME_AAD);

	memcpy(aad, FRAME_AAD, n);
	memcpy(aad + n, salt, LB_SALT_LEN);
	lb_put_le32(aad + n + LB_SALT_LEN, frame_no);
	return n + LB_SALT_LEN + 4;
}

static size_t trailer_aad(uint8_t aad[64], const uint8_t salt[LB_SALT_LEN])
{
	size_t n = strlen(TRAILER_AAD);

	memcpy(aad, TRAILER_AAD, n);
	memcpy(aad + n, salt, LB_SALT_LEN);
	return n + LB_SALT_LEN;
}

/* ---- frames ----------------------------------------------------------------------- */

static bool saves_enough(size_t packed, size_t raw)
{
	return (uint64_t)packed * 100 <= (uint64_t)raw * (100 - MIN_SAVING_PCT);
}

void lb_frame_set_sampling(int mode)
{
	__atomic_store_n(&sampling_mode, mode, __ATOMIC_RELAXED);
}

static bool sampling(void)
{
	int mode = __atomic_load_n(&sampling_mode, __ATOMIC_RELAXED);

	return mode ? mode > 0 : ZSTD_versionNumber() < ZSTD_SKIPS_INCOMPRESSIBLE;
}

/*
 * Does @raw look compressible? Compress four samples spread over it at level
 * 1 into @scratch (room for @cap): random data is rejected at a fraction of
 * the cost of compressing it whole (with a libzstd that does not skip it).
 */
static int sample_compresses(const uint8_t *raw, size_t len, uint8_t *scratch, size_t cap,
			     bool *yes)
{
	size_t in = 0, outn = 0;

	*yes = true;
	if (len <= SAMPLE_ABOVE || cap < lb_zstd_bound(SAMPLE_LEN) || !sampling())
		return 0;
	for (size_t i = 0; i < SAMPLES; i++) {
		size_t off = i * (len - SAMPLE_LEN) / (SAMPLES - 1), n;
		int r = lb_zstd_compress(SAMPLE_LEVEL, raw + off, SAMPLE_LEN, scratch, cap, &n);

		if (r < 0)
			return r;
		in += SAMPLE_LEN;
		outn += n;
	}
	*yes = saves_enough(outn, in);
	return 0;
}

int lb_frame_encode(const struct lb_aead_key *pk, const uint8_t salt[LB_SALT_LEN],
		    uint32_t frame_no, int level, const void *raw, size_t raw_len, uint8_t **out,
		    size_t *out_len)
{
	uint8_t aad[64], *buf, *pt, *payload;
	size_t cap, bound, plen = raw_len, total, aad_len;
	int codec = CODEC_RAW, r;
	bool try_zstd = false;

	if (raw_len > LB_FRAME_MAX_RAW)
		return lb_err(-EINVAL, "frame", NULL, "%zu bytes, more than a frame may hold (%u)",
			      raw_len, LB_FRAME_MAX_RAW);
	bound = lb_zstd_bound(raw_len);
	cap = LB_FRAME_OVERHEAD + LB_MAX(bound, raw_len);
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	pt = buf + LB_SEAL_NONCE;
	payload = pt + LB_FRAME_HEADER;

	if (raw_len) {
		r = sample_compresses(raw, raw_len, payload, bound, &try_zstd);
		if (r < 0)
			goto fail;
	}
	if (try_zstd) {
		size_t n;

		r = lb_zstd_compress(level, raw, raw_len, payload, bound, &n);
		if (r < 0)
			goto fail;
		if (saves_enough(n, raw_len)) {
			codec = CODEC_ZSTD;
			plen = n;
		}
	}
	if (codec == CODEC_RAW && raw_len)
		memcpy(payload, raw, raw_len);
	pt[0] = (uint8_t)codec;
	pt[1] = pt[2] = pt[3] = 0;
	lb_put_le32(pt + 4, (uint32_t)raw_len);

	/* sealed in place: the plaintext sits right after the nonce */
	aad_len = frame_aad(aad, salt, frame_no);
	r = lb_seal(pk, aad, aad_len, pt, LB_FRAME_HEADER + plen, buf);
	if (r < 0) {
		lb_err(r, "frame", NULL, "sealing failed");
		goto fail;
	}
	total = LB_FRAME_OVERHEAD + plen;
	if (cap - total > cap / 8) {
		uint8_t *smaller = realloc(buf, total);

		if (smaller)
			buf = smaller;
	}
	*out = buf;
	*out_len = total;
	return 0;
fail:
	free(buf);
	return r;
}

/*
 * Open sealed frame @sealed into @pt (room for len - LB_SEAL_OVERHEAD; may be
 * sealed + LB_SEAL_NONCE) and decode it into @raw.
 */
static int frame_open(const struct lb_aead_key *pk, const uint8_t salt[LB_SALT_LEN],
		      uint32_t frame_no, const uint8_t *sealed, size_t len, uint8_t *pt,
		      uint8_t *raw, size_t raw_len)
{
	char obj[32];
	uint8_t aad[64];
	size_t aad_len, plen;
	int r;

	snprintf(obj, sizeof(obj), "frame %u", frame_no);
	if (raw_len > LB_FRAME_MAX_RAW)
		return lb_err(-EBADMSG, obj, HINT_CHECK, "raw length %zu over the cap (%u)",
			      raw_len, LB_FRAME_MAX_RAW);
	if (len < LB_FRAME_OVERHEAD || len - LB_FRAME_OVERHEAD > raw_len)
		return lb_err(-EBADMSG, obj, HINT_CHECK,
			      "%zu sealed bytes cannot hold %zu raw bytes", len, raw_len);
	aad_len = frame_aad(aad, salt, frame_no);
	r = lb_unseal(pk, aad, aad_len, sealed, len, pt);
	if (r == -EBADMSG)
		return lb_err(r, obj, HINT_CHECK,
			      "the tag does not match: damaged, or not frame %u of this pack",
			      frame_no);
	if (r < 0)
		return r;
	plen = len - LB_FRAME_OVERHEAD;
	if (pt[1] || pt[2] || pt[3])
		return lb_err(-EBADMSG, obj, HINT_CHECK, "reserved bytes are not zero");
	if (lb_le32(pt + 4) != raw_len)
		return lb_err(-EBADMSG, obj, HINT_CHECK, "it holds %u raw bytes, %zu expected",
			      lb_le32(pt + 4), raw_len);
	switch (pt[0]) {
	case CODEC_RAW:
		if (plen != raw_len)
			return lb_err(-EBADMSG, obj, HINT_CHECK,
				      "raw frame of %zu bytes, %zu expected", plen, raw_len);
		memmove(raw, pt + LB_FRAME_HEADER, raw_len);
		return 0;
	case CODEC_ZSTD:
		r = lb_zstd_decompress(pt + LB_FRAME_HEADER, plen, raw, raw_len);
		if (r == -EBADMSG)
			lb_err_context("%s", obj);
		return r;
	default:
		return lb_err(-EBADMSG, obj, HINT_CHECK, "unknown codec %u", pt[0]);
	}
}

int lb_frame_decode(const struct lb_aead_key *pk, const uint8_t salt[LB_SALT_LEN],
		    uint32_t frame_no, const uint8_t *sealed, size_t len, uint8_t *raw,
		    size_t raw_len)
{
	_cleanup_free_ uint8_t *pt = NULL;

	if (len < LB_FRAME_OVERHEAD)
		return lb_err(-EBADMSG, "frame", HINT_CHECK, "%zu bytes: too short for a frame",
			      len);
	pt = malloc(len - LB_SEAL_OVERHEAD);
	if (!pt)
		return -ENOMEM;
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
	return frame_open(pk, salt, frame_no, sealed, len, pt, raw, raw_len);
}

/* ---- trailers --------------------------------------------------------------------- */

int lb_pack_trailer_encode(const struct lb_pack_info *p, uint8_t **out, size_t *len)
{
	size_t nf, nc, n;
	uint8_t *buf, *q;

	if (__builtin_mul_overflow((size_t)p->nframes, TRAILER_FRAME, &nf) ||
	    __builtin_mul_overflow((size_t)p->nchunks, TRAILER_CHUNK, &nc) ||
	    __builtin_add_overflow(nf, nc, &n) || __builtin_add_overflow(n, TRAILER_FIXED, &n))
		return lb_err(-EOVERFLOW, "pack trailer", NULL, "too many frames or chunks");
	buf = malloc(n);
	if (!buf)
		return -ENOMEM;
	q = buf;
	memcpy(q, TRAILER_MAGIC, 4);
	lb_put_le32(q + 4, p->nframes);
	q += 8;
	for (uint32_t i = 0; i < p->nframes; i++, q += TRAILER_FRAME) {
		lb_put_le64(q, p->frames[i].off);
		lb_put_le32(q + 8, p->frames[i].sealed_len);
		lb_put_le32(q + 12, p->frames[i].raw_len);
	}
	lb_put_le32(q, p->nchunks);
	q += 4;
	for (uint32_t i = 0; i < p->nchunks; i++, q += TRAILER_CHUNK) {
		memcpy(q, p->chunks[i].id, LB_ID_LEN);
		lb_put_le32(q + 32, p->chunks[i].frame);
		lb_put_le32(q + 36, p->chunks[i].off);
		lb_put_le32(q + 40, p->chunks[i].len);
	}
	*out = buf;
	*len = n;
	return 0;
}

#define TRAILER_ERR(code, ...) lb_err((code), "pack trailer", HINT_CHECK, __VA_ARGS__)

static int parse_frames(const uint8_t *q, struct lb_pack_info *out, uint64_t trailer_off)
{
	uint64_t end = LB_PACK_HEADER;

	for (uint32_t i = 0; i < out->nframes; i++, q += TRAILER_FRAME) {
		struct lb_frame_info *f = &out->frames[i];

		f->off = lb_le64(q);
		f->sealed_len = lb_le32(q + 8);
		f->raw_len = lb_le32(q + 12);
		if (f->raw_len > LB_FRAME_MAX_RAW)
			return TRAILER_ERR(-EOVERFLOW, "frame %u: %u raw bytes, over the cap (%u)",
					   i, f->raw_len, LB_FRAME_MAX_RAW);
		if (f->sealed_len < LB_FRAME_OVERHEAD ||
		    f->sealed_len - LB_FRAME_OVERHEAD > f->raw_len)
			return TRAILER_ERR(-EBADMSG,
					   "frame %u: %u sealed bytes cannot hold %u raw bytes", i,
					   f->sealed_len, f->raw_len);
		if (f->off < end)
			return TRAILER_ERR(-EBADMSG,
					   "frame %u at offset %llu overlaps what comes before it "
					   "(which ends at %llu)",
					   i, (unsigned long long)f->off, (unsigned long long)end);
		if (f->off > trailer_off || f->sealed_len > trailer_off - f->off)
			return TRAILER_ERR(-EBADMSG,
					   "frame %u (offset %llu, %u bytes) runs past the trailer "
					   "(offset %llu)",
					   i, (unsigned long long)f->off, f->sealed_len,
					   (unsigned long long)trailer_off);
		end = f->off + f->sealed_len;
	}
	return 0;
}

static int parse_chunks(const uint8_t *q, struct lb_pack_info *out)
{
	for (uint32_t i = 0; i < out->nchunks; i++, q += TRAILER_CHUNK) {
		struct lb_chunk_ref *c = &out->chunks[i];

		memcpy(c->id, q, LB_ID_LEN);
		c->frame = lb_le32(q + 32);
		c->off = lb_le32(q + 36);
		c->len = lb_le32(q + 40);
		if (c->frame >= out->nframes)
			return TRAILER_ERR(-EBADMSG, "chunk %u is in frame %u of %u", i, c->frame,
					   out->nframes);
		if ((uint64_t)c->off + c->len > out->frames[c->frame].raw_len)
			return TRAILER_ERR(-EBADMSG,
					   "chunk %u (offset %u, %u bytes) runs past the end of "
					   "frame %u (%u bytes)",
					   i, c->off, c->len, c->frame,
					   out->frames[c->frame].raw_len);
	}
	return 0;
}

int lb_pack_trailer_parse(const uint8_t *buf, size_t len, uint64_t trailer_off,
			  struct lb_pack_info *out)
{
	uint64_t need;
	uint32_t nf, nc;
	int r;

	memset(out, 0, sizeof(*out));
	if (len < TRAILER_FIXED)
		return TRAILER_ERR(-EBADMSG, "%zu bytes, too short for a trailer", len);
	if (memcmp(buf, TRAILER_MAGIC, 4))
		return TRAILER_ERR(-EBADMSG, "bad magic");
	nf = lb_le32(buf + 4);
	if (nf > LB_PACK_READ_MAX_FRAMES)
		return TRAILER_ERR(-EOVERFLOW, "%u frames, more than the %u allowed", nf,
				   LB_PACK_READ_MAX_FRAMES);
	need = 8 + (uint64_t)nf * TRAILER_FRAME + 4; /* nf is capped: no overflow */
	if (len < need)
		return TRAILER_ERR(-EBADMSG, "%zu bytes cannot hold %u frames", len, nf);
	nc = lb_le32(buf + need - 4);
	if (nc > LB_PACK_MAX_CHUNKS)
		return TRAILER_ERR(-EOVERFLOW, "%u chunks, more than the %u allowed", nc,
				   LB_PACK_MAX_CHUNKS);
	need += (uint64_t)nc * TRAILER_CHUNK;
	if (len != need)
		return TRAILER_ERR(-EBADMSG, "%zu bytes, but %u frames and %u chunks take %llu",
				   len, nf, nc, (unsigned long long)need);
	/* both counts are capped and backed by input bytes: the allocations are bounded */
	out->frames = calloc(nf ? nf : 1, sizeof(*out->frames));
	out->chunks = calloc(nc ? nc : 1, sizeof(*out->chunks));
	if (!out->frames || !out->chunks) {
		lb_pack_info_release(out);
		return -ENOMEM;
	}
	out->nframes = nf;
	out->nchunks = nc;
	r = parse_frames(buf + 8, out, trailer_off);
	if (r == 0)
		r = parse_chunks(buf + 8 + (size_t)nf * TRAILER_FRAME + 4, out);
	if (r < 0)
		lb_pack_info_release(out);
	return r;
}

int lb_pack_trailer_offset(uint64_t pack_size, size_t trailer_len, uint64_t *off)
{
	uint64_t tail = (uint64_t)trailer_len + LB_SEAL_OVERHEAD + LB_PACK_FOOTER;

	if (pack_size < LB_PACK_HEADER || pack_size - LB_PACK_HEADER < tail)
		return lb_err(-EBADMSG, "pack", HINT_CHECK,
			      "%llu bytes cannot hold a trailer of %zu bytes",
			      (unsigned long long)pack_size, trailer_len);
	*off = pack_size - tail;
	return 0;
}

/* ---- writing ---------------------------------------------------------------------- */

struct lb_pack_writer {
	struct lb_store *s;
	struct lb_store_writer *sw;
	char name[80];
	uint8_t id[LB_ID_LEN];
	uint8_t salt[LB_SALT_LEN];
	struct lb_aead_key key;
	uint64_t size;	   /* bytes written */
	uint32_t reserved; /* frame numbers handed out */
	uint32_t added;	   /* frames written */
	int failed;	   /* a store write failed: only abort is left */
	struct lb_frame_info frames[LB_PACK_MAX_FRAMES];
	struct lb_chunk_ref *chunks;
	size_t nchunks, cap;
};

static void writer_free(struct lb_pack_writer *w)
{
	free(w->chunks);
	explicit_bzero(&w->key, sizeof(w->key));
	free(w);
}

static int writer_write(struct lb_pack_writer *w, const void *p, size_t n)
{
	int r = lb_store_write(w->sw, p, n);

	if (r < 0) {
		w->failed = r;
		return r;
	}
	w->size += n;
	return 0;
}

int lb_pack_writer_new(struct lb_store *s, const struct lb_keys *keys, struct lb_pack_writer **out)
{
	struct lb_pack_writer *w = calloc(1, sizeof(*w));
	uint8_t hdr[LB_PACK_HEADER] = {0};
	int r;

	if (!w)
		return -ENOMEM;
	w->s = s;
	r = lb_random(w->id, sizeof(w->id));
	if (r == 0)
		r = lb_random(w->salt, sizeof(w->salt));
	if (r == 0)
		r = lb_pack_key(keys, w->salt, &w->key);
	if (r < 0)
		goto fail;
	lb_pack_name(w->id, w->name);
	r = lb_store_create(s, w->name, &w->sw);
	if (r < 0)
		goto fail;
	memcpy(hdr, PACK_MAGIC, 8);
	lb_put_le32(hdr + 8, PACK_VERSION);
	lb_put_le32(hdr + 12, LB_PACK_HEADER);
	memcpy(hdr + 16, w->salt, LB_SALT_LEN);
	r = writer_write(w, hdr, sizeof(hdr));
	if (r < 0)
		goto fail;
	*out = w;
	return 0;
fail:
	lb_store_abort(w->sw);
	writer_free(w);
	return r;
}

const uint8_t *lb_pack_writer_id(const struct lb_pack_writer *w)
{
	return w->id;
}

const uint8_t *lb_pack_writer_salt(const struct lb_pack_writer *w)
{
	return w->salt;
}

const struct lb_aead_key *lb_pack_writer_key(const struct lb_pack_writer *w)
{
	return &w->key;
}

uint64_t lb_pack_writer_size(const struct lb_pack_writer *w)
{
	return w->size;
}

int lb_pack_next_frame(struct lb_pack_writer *w)
{
	if (w->failed)
		return w->failed;
	if (w->reserved >= LB_PACK_MAX_FRAMES)
		return lb_err(-ENOSPC, w->name, NULL, "the pack is full (%u frames)",
			      LB_PACK_MAX_FRAMES);
	return (int)w->reserved++;
}

int lb_pack_add_frame(struct lb_pack_writer *w, uint32_t frame_no, const uint8_t *sealed,
		      size_t len, uint32_t raw_len, const struct lb_chunk_ref *chunks, size_t n)
{
	int r;

	if (w->failed)
		return w->failed;
	if (frame_no != w->added || frame_no >= w->reserved)
		return lb_err(-EINVAL, w->name, NULL,
			      "frame %u added out of order (%u frames added, %u reserved)",
			      frame_no, w->added, w->reserved);
	if (raw_len > LB_FRAME_MAX_RAW || len < LB_FRAME_OVERHEAD ||
	    len - LB_FRAME_OVERHEAD > raw_len)
		return lb_err(-EINVAL, w->name, NULL,
			      "frame %u: %zu sealed bytes for %u raw bytes is not a frame",
			      frame_no, len, raw_len);
	if (n > LB_FRAME_MAX_CHUNKS)
		return lb_err(-EINVAL, w->name, NULL, "frame %u: %zu chunks, more than %u",
			      frame_no, n, LB_FRAME_MAX_CHUNKS);
	for (size_t i = 0; i < n; i++)
		if ((uint64_t)chunks[i].off + chunks[i].len > raw_len)
			return lb_err(-EINVAL, w->name, NULL,
				      "frame %u: chunk %zu (offset %u, %u bytes) is not inside its "
				      "%u bytes",
				      frame_no, i, chunks[i].off, chunks[i].len, raw_len);
	if (w->nchunks + n > w->cap) {
		size_t cap = LB_MAX(w->cap * 2, w->nchunks + n);
		struct lb_chunk_ref *c;

		cap = LB_MAX(cap, (size_t)256);
		c = reallocarray(w->chunks, cap, sizeof(*c));
		if (!c)
			return -ENOMEM;
		w->chunks = c;
		w->cap = cap;
	}
	w->frames[frame_no] = (struct lb_frame_info){w->size, (uint32_t)len, raw_len};
	r = writer_write(w, sealed, len);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		w->chunks[w->nchunks + i] = chunks[i];
		w->chunks[w->nchunks + i].frame = frame_no;
	}
	w->nchunks += n;
	w->added++;
	return 0;
}

void lb_pack_abort(struct lb_pack_writer *w)
{
	if (!w)
		return;
	lb_store_abort(w->sw);
	writer_free(w);
}

int lb_pack_finish(struct lb_pack_writer *w, struct lb_pack_info *info)
{
	struct lb_pack_info p = {0};
	_cleanup_free_ uint8_t *pt = NULL, *sealed = NULL;
	uint8_t aad[64], footer[LB_PACK_FOOTER];
	size_t len, aad_len;
	uint64_t trailer_off;
	int r;

	memset(info, 0, sizeof(*info));
	if (w->failed) {
		r = w->failed;
		goto fail;
	}
	if (w->added != w->reserved) {
		r = lb_err(-EINVAL, w->name, NULL, "frame %u was reserved but never added",
			   w->added);
		goto fail;
	}
	p.nframes = w->added;
	p.frames = w->frames;
	p.nchunks = (uint32_t)w->nchunks;
	p.chunks = w->chunks;
	r = lb_pack_trailer_encode(&p, &pt, &len);
	if (r < 0)
		goto fail;
	sealed = malloc(len + LB_SEAL_OVERHEAD);
	if (!sealed) {
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
		r = -ENOMEM;
		goto fail;
	}
	aad_len = trailer_aad(aad, w->salt);
	r = lb_seal(&w->key, aad, aad_len, pt, len, sealed);
	if (r < 0) {
		lb_err(r, w->name, NULL, "sealing the trailer failed");
		goto fail;
	}
	trailer_off = w->size;
	lb_put_le64(footer, trailer_off);
	lb_put_le32(footer + 8, (uint32_t)(len + LB_SEAL_OVERHEAD));
	memcpy(footer + 12, FOOTER_MAGIC, 4);
	r = writer_write(w, sealed, len + LB_SEAL_OVERHEAD);
	if (r == 0)
		r = writer_write(w, footer, sizeof(footer));
	if (r < 0)
		goto fail;

	/* everything the caller gets is ready before the pack becomes visible */
	memcpy(info->id, w->id, LB_ID_LEN);
	memcpy(info->salt, w->salt, LB_SALT_LEN);
	info->size = w->size;
	info->nframes = w->added;
	info->frames = malloc(sizeof(*info->frames) * (w->added ? w->added : 1));
	if (!info->frames) {
		r = -ENOMEM;
		goto fail;
	}
	memcpy(info->frames, w->frames, sizeof(*info->frames) * w->added);
	info->nchunks = (uint32_t)w->nchunks;
	info->chunks = TAKE_PTR(w->chunks);
	if (!info->chunks) {
		info->chunks = calloc(1, sizeof(*info->chunks));
		if (!info->chunks) {
			r = -ENOMEM;
			goto fail;
		}
	}
	r = lb_store_commit(TAKE_PTR(w->sw));
	writer_free(w);
	if (r < 0)
		lb_pack_info_release(info);
	return r;
fail:
	lb_pack_info_release(info);
	memset(info, 0, sizeof(*info));
	lb_pack_abort(w);
	return r;
}

/* ---- reading ---------------------------------------------------------------------- */

int lb_pack_read_info(struct lb_store *s, const struct lb_keys *keys, const uint8_t id[LB_ID_LEN],
		      struct lb_pack_info *info)
{
	char name[80];
	uint8_t footer[LB_PACK_FOOTER], hdr[LB_PACK_HEADER], aad[64];
	_cleanup_free_ uint8_t *sealed = NULL;
	struct lb_aead_key key;
	uint64_t size, toff;
	uint32_t tlen;
	size_t aad_len;
	int r;

	memset(info, 0, sizeof(*info));
	lb_pack_name(id, name);
	r = lb_store_stat(s, name, &size);
	if (r < 0)
		return r;
	if (size < LB_PACK_HEADER + LB_PACK_FOOTER)
		return lb_err(-ENODATA, name, HINT_CHECK, "only %llu bytes: truncated",
			      (unsigned long long)size);
	r = lb_store_get(s, name, size - LB_PACK_FOOTER, LB_PACK_FOOTER, footer);
	if (r < 0)
		return r;
	if (memcmp(footer + 12, FOOTER_MAGIC, 4))
		return lb_err(-EBADMSG, name, HINT_CHECK,
			      "no pack footer at the end (truncated or damaged)");
	toff = lb_le64(footer);
	tlen = lb_le32(footer + 8);
	if (tlen > LB_PACK_MAX_TRAILER)
		return lb_err(-EOVERFLOW, name, HINT_CHECK,
			      "the footer gives a trailer of %u bytes, over the cap (%u)", tlen,
			      LB_PACK_MAX_TRAILER);
	if (tlen < LB_SEAL_OVERHEAD + TRAILER_FIXED || toff < LB_PACK_HEADER)
		return lb_err(-EBADMSG, name, HINT_CHECK,
			      "the footer gives an impossible trailer (offset %llu, %u bytes)",
			      (unsigned long long)toff, tlen);
	if (toff > size - LB_PACK_FOOTER || tlen != size - LB_PACK_FOOTER - toff)
		/* a trailer said to run past the footer: the object lost its end */
		return lb_err(toff > size - LB_PACK_FOOTER || tlen > size - LB_PACK_FOOTER - toff
				      ? -ENODATA
				      : -EBADMSG,
			      name, HINT_CHECK,
			      "the footer gives a trailer at offset %llu of %u bytes, but the "
			      "pack has %llu bytes",
			      (unsigned long long)toff, tlen, (unsigned long long)size);
	r = lb_store_get(s, name, 0, sizeof(hdr), hdr);
	if (r < 0)
		return r;
	if (memcmp(hdr, PACK_MAGIC, 8))
		return lb_err(-EBADMSG, name, HINT_CHECK, "not a pack (bad magic)");
	if (lb_le32(hdr + 8) != PACK_VERSION || lb_le32(hdr + 12) != LB_PACK_HEADER)
		return lb_err(-EBADMSG, name, HINT_CHECK,
			      "pack version %u with a header of %u bytes (this lifeboat reads "
			      "version %u, %u bytes)",
			      lb_le32(hdr + 8), lb_le32(hdr + 12), PACK_VERSION, LB_PACK_HEADER);
	sealed = malloc(tlen);
	if (!sealed)
		return -ENOMEM;
	r = lb_store_get(s, name, toff, tlen, sealed);
	if (r < 0)
		return r;
	r = lb_pack_key(keys, hdr + 16, &key);
	if (r < 0)
		return r;
	aad_len = trailer_aad(aad, hdr + 16);
	r = lb_unseal(&key, aad, aad_len, sealed, tlen, sealed + LB_SEAL_NONCE);
	explicit_bzero(&key, sizeof(key));
	if (r == -EBADMSG)
		return lb_err(r, name, HINT_CHECK,
			      "the trailer's tag does not match: damaged, or another "
			      "repository's pack");
	if (r < 0)
		return r;
	r = lb_pack_trailer_parse(sealed + LB_SEAL_NONCE, tlen - LB_SEAL_OVERHEAD, toff, info);
	if (r < 0) {
		lb_err_context("%s", name);
		return r;
	}
	memcpy(info->id, id, LB_ID_LEN);
	memcpy(info->salt, hdr + 16, LB_SALT_LEN);
	info->size = size;
	return 0;
}

int lb_pack_read_frame(struct lb_store *s, const struct lb_aead_key *pk,
		       const uint8_t id[LB_ID_LEN], const uint8_t salt[LB_SALT_LEN],
		       uint32_t frame_no, const struct lb_frame_info *f, uint8_t *raw)
{
	_cleanup_free_ uint8_t *buf = NULL;
	char name[80];
	int r;

	lb_pack_name(id, name);
	if (f->raw_len > LB_FRAME_MAX_RAW || f->sealed_len < LB_FRAME_OVERHEAD ||
	    f->sealed_len - LB_FRAME_OVERHEAD > f->raw_len)
		return lb_err(-EBADMSG, name, HINT_CHECK,
			      "frame %u: %u sealed bytes for %u raw bytes is not a frame", frame_no,
			      f->sealed_len, f->raw_len);
	buf = malloc(f->sealed_len);
	if (!buf)
		return -ENOMEM;
	r = lb_store_get(s, name, f->off, f->sealed_len, buf);
	if (r < 0)
		return r;
	/* opened in place: the plaintext lands right after the nonce */
	r = frame_open(pk, salt, frame_no, buf, f->sealed_len, buf + LB_SEAL_NONCE, raw,
		       f->raw_len);
	if (r == -EBADMSG)
		lb_err_context("%s", name);
	return r;
}
