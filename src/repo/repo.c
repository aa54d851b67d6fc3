/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * repo.c - open and create repositories; the chunk writer (frames sealed on
 * the worker pool, written in order into packs, then an index object); the
 * chunk reader (a small cache of decoded frames, every chunk re-verified);
 * snapshots.
 */
#include "repo/repo.h"
#include "base/cleanup.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/sha256.h"
#include "base/timefmt.h"
#include "base/util.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HINT_CHECK "run 'lifeboat check' to see what is damaged"

/* ---- open and create ---------------------------------------------------------- */

static int read_config(struct lb_store *s, struct lb_repo_config *c)
{
	uint8_t buf[LB_CONFIG_SIZE + 1];
	uint64_t size;
	int r;

	r = lb_store_stat(s, "config", &size);
	if (r == -ENOENT)
		return lb_err(-ENOENT, lb_store_url(s),
			      "create one with 'lifeboat init', or check -r / LIFEBOAT_REPOSITORY",
			      "not a lifeboat repository (no config)");
	if (r < 0)
		return r;
	if (size != LB_CONFIG_SIZE)
		return lb_err(-EBADMSG, "config", HINT_CHECK, "the config has %" PRIu64 " bytes",
			      size);
	r = lb_store_get(s, "config", 0, LB_CONFIG_SIZE, buf);
	if (r < 0)
		return r;
	return lb_config_decode(buf, LB_CONFIG_SIZE, c);
}

int lb_repo_needs_password(const char *url, bool *out)
{
	struct lb_store *s;
	struct lb_repo_config c;
	int r = lb_store_open(url, 0, &s);

	if (r < 0)
		return r;
	r = read_config(s, &c);
	lb_store_close(s);
	if (r < 0)
		return r;
	*out = c.encrypted;
	return 0;
}

static struct lb_repo *repo_alloc(void)
{
	return calloc(1, sizeof(struct lb_repo));
}

int lb_repo_init(const char *url, const char *password, const struct lb_repo_init_opts *o,
		 struct lb_repo **out)
{
	struct lb_repo *r = repo_alloc();
	struct lb_keyfile kf;
	uint8_t cbuf[LB_CONFIG_SIZE], kbuf[LB_KEYFILE_SIZE], kid[LB_SHA256_LEN];
	char name[80], hex[LB_SHA256_HEX];
	uint64_t size;
	int rc;

	if (!r)
		return -ENOMEM;
	rc = lb_store_open(url, LB_STORE_CREATE, &r->store);
	if (rc < 0)
		goto fail;
	if (lb_store_stat(r->store, "config", &size) == 0) {
		rc = lb_err(-EEXIST, url, "use it, or choose another folder",
			    "a repository exists here already");
		goto fail;
	}
	lb_err_clear();
	rc = lb_config_default(&r->cfg, o->encrypted);
	if (rc < 0)
		goto fail;
	if (o->image_chunk) {
		if (o->image_chunk < 4096 || o->image_chunk > (1u << 20) ||
		    (o->image_chunk & (o->image_chunk - 1))) {
			rc = lb_err(-EINVAL, "--image-chunk-size", "a power of two from 4K to 1M",
				    "%u is not allowed", o->image_chunk);
			goto fail;
		}
		r->cfg.image_chunk = o->image_chunk;
	}
	rc = lb_keys_generate(&r->keys, o->encrypted);
	if (rc < 0)
		goto fail;
	rc = lb_keyfile_make(&r->cfg, &r->keys, password ? password : "", &kf);
	if (rc < 0)
		goto fail;
	lb_keyfile_encode(&kf, kbuf);
	rc = lb_sha256(kbuf, sizeof(kbuf), kid);
	if (rc < 0)
		goto fail;
	snprintf(name, sizeof(name), "keys/%s", lb_hex(kid, sizeof(kid), hex));
	/* the key first, the config last: a folder is a repository once its config is there */
	rc = lb_store_put(r->store, name, kbuf, sizeof(kbuf));
	if (rc < 0)
		goto fail;
	lb_config_encode(&r->cfg, cbuf);
	rc = lb_store_put(r->store, "config", cbuf, sizeof(cbuf));
	if (rc < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	lb_repo_close(r);
	return rc;
}

struct key_try {
	struct lb_repo *r;
	const char *password;
	bool opened;
	int seen, wrong;
	struct lb_error first_err;
};

static int try_key(void *ctx, const char *name, uint64_t size)
{
	struct key_try *t = ctx;
	uint8_t buf[LB_KEYFILE_SIZE];
	struct lb_keyfile kf;
	int rc;

	if (t->opened || size != LB_KEYFILE_SIZE)
		return 0;
	t->seen++;
	rc = lb_store_get(t->r->store, name, 0, sizeof(buf), buf);
	if (rc == 0)
		rc = lb_keyfile_decode(buf, sizeof(buf), &kf);
	if (rc == 0)
		rc = lb_keyfile_open(&t->r->cfg, &kf, t->password ? t->password : "", &t->r->keys);
	if (rc == 0) {
		t->opened = true;
		return 0;
	}
	if (rc == -ENOMEM)
		return rc;
	if (rc == -EACCES)
		t->wrong++;
	if (!t->first_err.code || rc == -EACCES)
		lb_err_save(&t->first_err);
	return 0;
}

int lb_repo_open(const char *url, const char *password, struct lb_repo **out)
{
	struct lb_repo *r = repo_alloc();
	struct key_try t = {0};
	int rc;

	if (!r)
		return -ENOMEM;
	rc = lb_store_open(url, 0, &r->store);
	if (rc < 0)
		goto fail;
	rc = read_config(r->store, &r->cfg);
	if (rc < 0)
		goto fail;
	if (r->cfg.encrypted && (!password || !*password)) {
		rc = lb_err(
			-EACCES, "password",
			"set LIFEBOAT_PASSWORD or LIFEBOAT_PASSWORD_FILE, or give --password-file",
			"the repository is encrypted and no password was given");
		goto fail;
	}
	t.r = r;
	t.password = password;
	rc = lb_store_list(r->store, "keys/", try_key, &t);
	if (rc < 0)
		goto fail;
	if (!t.opened) {
		if (t.first_err.code) {
			lb_err_restore(&t.first_err);
			rc = t.first_err.code;
		} else {
			rc = lb_err(-EBADMSG, "keys", HINT_CHECK,
				    "the repository has no key record");
		}
		goto fail;
	}
	*out = r;
	return 0;
fail:
	lb_repo_close(r);
	return rc;
}

void lb_repo_close(struct lb_repo *r)
{
	if (!r)
		return;
	lb_pool_free(r->pool);
	lb_index_free(r->index);
	lb_store_close(r->store);
	memset(&r->keys, 0, sizeof(r->keys));
	free(r);
}

int lb_repo_pool(struct lb_repo *r, struct lb_pool **out)
{
	int rc;

	if (!r->pool) {
		rc = lb_pool_new(0, &r->pool);
		if (rc < 0)
			return rc;
	}
	*out = r->pool;
	return 0;
}

/* Index objects for @n packs, LB_INDEX_OBJECT_PACKS at most in each. */
static int put_index_object(struct lb_repo *r, const struct lb_pack_info *packs, size_t n)
{
	for (size_t done = 0; done < n;) {
		size_t k = LB_MIN(n - done, (size_t)LB_INDEX_OBJECT_PACKS);
		_cleanup_free_ uint8_t *obj = NULL;
		size_t len = 0;
		char name[80];
		int rc;

		rc = lb_index_object_encode(&r->keys, packs + done, k, &obj, &len);
		if (rc < 0)
			return rc;
		rc = lb_index_object_name(obj, len, name);
		if (rc < 0)
			return rc;
		rc = lb_store_put(r->store, name, obj, len);
		if (rc < 0 && rc != -EEXIST)
			return rc;
		done += k;
	}
	return 0;
}

int lb_repo_load_index(struct lb_repo *r)
{
	struct lb_pack_info *orph = NULL;
	size_t norph = 0, bad = 0;
	int rc;

	if (r->index)
		return 0;
	rc = lb_index_new(&r->index);
	if (rc < 0)
		return rc;
	rc = lb_index_load(r->index, r->store, &r->keys, &orph, &norph, &bad);
	if (rc >= 0 && norph) {
		/* an interrupted backup's packs: index them now, so they are found quickly */
		rc = put_index_object(r, orph, norph);
		r->orphans_adopted = norph;
	}
	for (size_t i = 0; i < norph; i++)
		lb_pack_info_release(&orph[i]);
	free(orph);
	if (rc < 0) {
		lb_index_free(r->index);
		r->index = NULL;
	}
	return rc;
}

/* ---- writing -------------------------------------------------------------------- */

struct frame {
	struct lb_repo_writer *w;
	struct lb_pack_writer *pack;
	uint32_t frame_no;
	uint8_t *raw;
	size_t raw_len, raw_cap;
	struct lb_chunk_ref *chunks;
	size_t nchunks, chunks_cap;
	/* set by the job */
	uint8_t *sealed;
	size_t sealed_len;
	int err;
	bool done;
};

#define INDEX_EVERY 16 /* packs (about 256 MiB): an index object for them goes out */
#define QMAX 6 /* frames in flight (3 per core on 2 cores): bounds the writer's memory */

struct lb_repo_writer {
	struct lb_repo *r;
	struct lb_pool *pool;
	struct lb_idhash *h;
	struct frame *cur;
	struct frame *q[QMAX];
	size_t qhead, qlen;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct lb_pack_writer *pack;
	struct lb_pack_info *packs;
	size_t npacks, packs_cap;
	struct lb_repo_stats st;
	int err; /* sticky */
};

static void frame_free(struct frame *f)
{
	if (!f)
		return;
	free(f->raw);
	free(f->chunks);
	free(f->sealed);
	free(f);
}

int lb_repo_writer_new(struct lb_repo *r, struct lb_repo_writer **out)
{
	struct lb_repo_writer *w;
	int rc;

	rc = lb_repo_load_index(r);
	if (rc < 0)
		return rc;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->r = r;
	rc = lb_repo_pool(r, &w->pool);
	if (rc >= 0)
		rc = lb_idhash_new(&r->keys, &w->h);
	if (rc < 0) {
		free(w);
		return rc;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	*out = w;
	return 0;
}

const struct lb_repo_stats *lb_repo_writer_stats(const struct lb_repo_writer *w)
{
	return &w->st;
}

int lb_repo_hash(struct lb_idhash *h, const void *data, size_t len, uint8_t id[LB_ID_LEN])
{
	return lb_idhash(h, data, len, id);
}

static void encode_job(void *arg)
{
	struct frame *f = arg;
	struct lb_repo_writer *w = f->w;
	uint8_t *sealed = NULL;
	size_t len = 0;
	int rc;

	rc = lb_frame_encode(lb_pack_writer_key(f->pack), lb_pack_writer_salt(f->pack), f->frame_no,
			     w->r->cfg.zstd_level, f->raw, f->raw_len, &sealed, &len);
	/*
	 * The raw bytes are not needed any more, and the sealed buffer was
	 * sized for the worst case: give both back now, not when the frame is
	 * written (frames wait in the queue; this keeps the writer's memory low).
	 */
	free(f->raw);
	f->raw = NULL;
	if (rc >= 0 && sealed) {
		uint8_t *shrunk = realloc(sealed, len ? len : 1);

		if (shrunk)
			sealed = shrunk;
	}
	pthread_mutex_lock(&w->mu);
	f->sealed = sealed;
	f->sealed_len = len;
	f->err = rc;
	f->done = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Write the oldest frame in flight, waiting for it if @wait. Returns 1 if one was written. */
static int write_head(struct lb_repo_writer *w, bool wait)
{
	struct frame *f;
	int rc;

	if (!w->qlen)
		return 0;
	f = w->q[w->qhead];
	/* help with the pool's work rather than sleep while the frame is sealed */
	while (wait) {
		bool done;

		pthread_mutex_lock(&w->mu);
		done = f->done;
		pthread_mutex_unlock(&w->mu);
		if (done || !lb_pool_run_one(w->pool))
			break;
	}
	pthread_mutex_lock(&w->mu);
	while (wait && !f->done)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	if (!f->done)
		return 0;
	w->qhead = (w->qhead + 1) % QMAX;
	w->qlen--;
	rc = f->err;
	if (rc >= 0)
		rc = lb_pack_add_frame(f->pack, f->frame_no, f->sealed, f->sealed_len,
				       (uint32_t)f->raw_len, f->chunks, f->nchunks);
	if (rc >= 0)
		w->st.bytes_stored += f->sealed_len;
	frame_free(f);
	if (rc < 0)
		return w->err = rc;
	return 1;
}

static int drain(struct lb_repo_writer *w)
{
	int rc;

	while (w->qlen) {
		rc = write_head(w, true);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int finish_pack(struct lb_repo_writer *w)
{
	struct lb_pack_info info;
	int rc;

	if (!w->pack)
		return 0;
	rc = drain(w);
	if (rc < 0)
		return rc;
	rc = lb_pack_finish(w->pack, &info);
	w->pack = NULL;
	if (rc < 0)
		return w->err = rc;
	w->st.packs++;
	rc = lb_index_add_pack(w->r->index, &info);
	if (rc < 0) {
		lb_pack_info_release(&info);
		return w->err = rc;
	}
	if (w->npacks == w->packs_cap) {
		size_t cap = w->packs_cap ? 2 * w->packs_cap : 8;
		struct lb_pack_info *p = realloc(w->packs, cap * sizeof(*p));

		if (!p) {
			lb_pack_info_release(&info);
			return w->err = -ENOMEM;
		}
		w->packs = p;
		w->packs_cap = cap;
	}
	w->packs[w->npacks++] = info;
	/*
	 * Index what is written every so often, not only at the end: the list
	 * would otherwise grow with the backup (44 bytes a chunk).
	 */
	if (w->npacks >= INDEX_EVERY) {
		rc = put_index_object(w->r, w->packs, w->npacks);
		if (rc < 0)
			return w->err = rc;
		for (size_t i = 0; i < w->npacks; i++)
			lb_pack_info_release(&w->packs[i]);
		w->npacks = 0;
	}
	return 0;
}

/* Hand the frame being filled to the pool. */
static int submit_cur(struct lb_repo_writer *w)
{
	struct frame *f = w->cur;
	int no, rc;

	if (!f)
		return 0;
	w->cur = NULL;
	for (;;) {
		if (!w->pack) {
			rc = lb_pack_writer_new(w->r->store, &w->r->keys, &w->pack);
			if (rc < 0) {
				frame_free(f);
				return w->err = rc;
			}
		}
		no = lb_pack_next_frame(w->pack);
		if (no != -ENOSPC)
			break;
		rc = finish_pack(w);
		if (rc < 0) {
			frame_free(f);
			return rc;
		}
	}
	if (no < 0) {
		frame_free(f);
		return w->err = no;
	}
	f->pack = w->pack;
	f->frame_no = (uint32_t)no;
	/* room in the queue: write (or wait for) the oldest frames */
	while (w->qlen == QMAX) {
		rc = write_head(w, true);
		if (rc < 0) {
			frame_free(f);
			return rc;
		}
	}
	w->q[(w->qhead + w->qlen) % QMAX] = f;
	w->qlen++;
	lb_pool_submit(w->pool, encode_job, f);
	/* write whatever is done already, without waiting */
	while ((rc = write_head(w, false)) > 0)
		;
	return rc;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 16;
	void *n;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	n = realloc(*p, c * elem);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = c;
	return 0;
}

int lb_repo_writer_add(struct lb_repo_writer *w, enum lb_chunk_type type,
		       const uint8_t id[LB_ID_LEN], const void *data, size_t len)
{
	struct frame *f;
	int rc;

	(void)type;
	if (w->err)
		return w->err;
	if (len > LB_FRAME_MAX_RAW)
		return lb_err(-EINVAL, "chunk", NULL, "a chunk of %zu bytes is too large", len);
	w->st.chunks_total++;
	w->st.bytes_total += len;
	if (lb_index_lookup(w->r->index, id, NULL))
		return 0;
	/* a full frame goes first */
	if (w->cur && w->cur->raw_len &&
	    (w->cur->raw_len + len > w->r->cfg.frame_size ||
	     w->cur->nchunks >= LB_FRAME_MAX_CHUNKS)) {
		rc = submit_cur(w);
		if (rc < 0)
			return rc;
	}
	if (!w->cur) {
		w->cur = calloc(1, sizeof(*w->cur));
		if (!w->cur)
			return w->err = -ENOMEM;
		w->cur->w = w;
		/* the size a frame reaches, at once: no doubling past it */
		w->cur->raw_cap = (size_t)w->r->cfg.frame_size + (len > w->r->cfg.frame_size ? len : 0);
		w->cur->raw = malloc(w->cur->raw_cap);
		if (!w->cur->raw)
			return w->err = -ENOMEM;
	}
	f = w->cur;
	if (grow((void **)&f->raw, &f->raw_cap, f->raw_len + len, 1) < 0 ||
	    grow((void **)&f->chunks, &f->chunks_cap, f->nchunks + 1, sizeof(*f->chunks)) < 0)
		return w->err = -ENOMEM;
	rc = lb_index_add_pending(w->r->index, id);
	if (rc < 0 && rc != -EEXIST)
		return w->err = rc;
	memcpy(f->raw + f->raw_len, data, len);
	memcpy(f->chunks[f->nchunks].id, id, LB_ID_LEN);
	f->chunks[f->nchunks].frame = 0;
	f->chunks[f->nchunks].off = (uint32_t)f->raw_len;
	f->chunks[f->nchunks].len = (uint32_t)len;
	f->nchunks++;
	f->raw_len += len;
	w->st.chunks_new++;
	w->st.bytes_new += len;
	if (f->raw_len >= w->r->cfg.frame_size) {
		rc = submit_cur(w);
		if (rc < 0)
			return rc;
	}
	return 1;
}

int lb_repo_writer_add_blob(struct lb_repo_writer *w, enum lb_chunk_type type, const void *data,
			    size_t len, uint8_t id[LB_ID_LEN])
{
	_cleanup_free_ uint8_t *list = NULL;
	size_t nparts, list_len;
	int rc, any = 0;

	if (len <= LB_BLOB_PART) {
		rc = lb_idhash(w->h, data, len, id);
		if (rc < 0)
			return rc;
		return lb_repo_writer_add(w, type, id, data, len);
	}
	/* a large blob: its parts, then the list of them (format doc, "Blob parts") */
	if (len > LB_BLOB_MAX)
		return lb_err(-EOVERFLOW, "blob", NULL, "a metadata blob of %zu bytes is over the %u-byte cap",
			      len, LB_BLOB_MAX);
	nparts = (len + LB_BLOB_PART - 1) / LB_BLOB_PART;
	list_len = LB_BLOB_PARTS_HEADER + nparts * LB_ID_LEN;
	list = malloc(list_len);
	if (!list)
		return -ENOMEM;
	memcpy(list, LB_BLOB_PARTS_MAGIC, 4);
	lb_put_le32(list + 4, 1);
	lb_put_le64(list + 8, len);
	lb_put_le32(list + 16, (uint32_t)nparts);
	for (size_t i = 0; i < nparts; i++) {
		const uint8_t *p = (const uint8_t *)data + i * LB_BLOB_PART;
		size_t plen = LB_MIN((size_t)LB_BLOB_PART, len - i * LB_BLOB_PART);
		uint8_t *pid = list + LB_BLOB_PARTS_HEADER + i * LB_ID_LEN;

		rc = lb_idhash(w->h, p, plen, pid);
		if (rc >= 0)
			rc = lb_repo_writer_add(w, type, pid, p, plen);
		if (rc < 0)
			return rc;
		any |= rc;
	}
	rc = lb_idhash(w->h, list, list_len, id);
	if (rc >= 0)
		rc = lb_repo_writer_add(w, type, id, list, list_len);
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
	return rc < 0 ? rc : (rc | any);
}

int lb_repo_writer_flush(struct lb_repo_writer *w)
{
	int rc;

	if (w->err)
		return w->err;
	rc = submit_cur(w);
	if (rc >= 0)
		rc = finish_pack(w);
	if (rc >= 0)
		rc = put_index_object(w->r, w->packs, w->npacks);
	if (rc < 0)
		return w->err = rc;
	for (size_t i = 0; i < w->npacks; i++)
		lb_pack_info_release(&w->packs[i]);
	w->npacks = 0;
	return 0;
}

void lb_repo_writer_free(struct lb_repo_writer *w)
{
	if (!w)
		return;
	/* let the jobs in flight finish before their frames go */
	lb_pool_wait(w->pool);
	while (w->qlen) {
		frame_free(w->q[w->qhead]);
		w->qhead = (w->qhead + 1) % QMAX;
		w->qlen--;
	}
	frame_free(w->cur);
	lb_pack_abort(w->pack);
	/* chunks queued but never written must not be taken as stored by a later writer */
	lb_index_drop_pending(w->r->index);
	for (size_t i = 0; i < w->npacks; i++)
		lb_pack_info_release(&w->packs[i]);
	free(w->packs);
	lb_idhash_free(w->h);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

/* ---- reading -------------------------------------------------------------------- */

#define CACHE_FRAMES 4

struct cached_frame {
	bool valid;
	uint32_t pack, frame_no;
	uint8_t *raw;
	size_t raw_len, cap;
	uint64_t used;
};

struct lb_chunk_reader {
	struct lb_repo *r;
	struct lb_idhash *h;
	struct cached_frame cache[CACHE_FRAMES];
	uint64_t clock;
};

int lb_chunk_reader_new(struct lb_repo *r, struct lb_chunk_reader **out)
{
	struct lb_chunk_reader *cr;
	int rc = lb_repo_load_index(r);

	if (rc < 0)
		return rc;
	cr = calloc(1, sizeof(*cr));
	if (!cr)
		return -ENOMEM;
	cr->r = r;
	rc = lb_idhash_new(&r->keys, &cr->h);
	if (rc < 0) {
		free(cr);
		return rc;
	}
	*out = cr;
	return 0;
}

void lb_chunk_reader_free(struct lb_chunk_reader *cr)
{
	if (!cr)
		return;
	for (int i = 0; i < CACHE_FRAMES; i++)
		free(cr->cache[i].raw);
	lb_idhash_free(cr->h);
	free(cr);
}

static int get_frame(struct lb_chunk_reader *cr, const struct lb_index_loc *loc,
		     struct cached_frame **out)
{
	struct cached_frame *victim = &cr->cache[0];
	struct lb_aead_key pk;
	int rc;

	for (int i = 0; i < CACHE_FRAMES; i++) {
		struct cached_frame *c = &cr->cache[i];

		if (c->valid && c->pack == loc->pack && c->frame_no == loc->frame_no) {
			c->used = ++cr->clock;
			*out = c;
			return 0;
		}
		if (!c->valid || c->used < victim->used)
			victim = c;
	}
	victim->valid = false;
	if (victim->cap < loc->frame.raw_len) {
		uint8_t *n = realloc(victim->raw, loc->frame.raw_len ? loc->frame.raw_len : 1);

		if (!n)
			return -ENOMEM;
		victim->raw = n;
		victim->cap = loc->frame.raw_len;
	}
	rc = lb_pack_key(&cr->r->keys, loc->pack_salt, &pk);
	if (rc < 0)
		return rc;
	rc = lb_pack_read_frame(cr->r->store, &pk, loc->pack_id, loc->pack_salt, loc->frame_no,
				&loc->frame, victim->raw);
	memset(&pk, 0, sizeof(pk));
	if (rc < 0)
		return rc; /* the pack reader names the pack and the frame */
	victim->valid = true;
	victim->pack = loc->pack;
	victim->frame_no = loc->frame_no;
	victim->raw_len = loc->frame.raw_len;
	victim->used = ++cr->clock;
	*out = victim;
	return 0;
}

int lb_chunk_read(struct lb_chunk_reader *cr, const uint8_t id[LB_ID_LEN], uint8_t *buf, size_t cap,
		  size_t *len)
{
	struct lb_index_loc loc;
	struct cached_frame *f = NULL;
	uint8_t check[LB_ID_LEN];
	char hex[LB_SHA256_HEX], phex[LB_SHA256_HEX];
	int rc;

	if (!lb_index_lookup(cr->r->index, id, &loc) || loc.pending)
		return lb_err(-ENOENT, "chunk", HINT_CHECK,
			      "chunk %.16s is not in the repository's index", lb_hex(id, 8, hex));
	if (loc.len > cap)
		return lb_err(-EOVERFLOW, "chunk", NULL, "chunk %.16s has %u bytes, more than %zu",
			      lb_hex(id, 8, hex), loc.len, cap);
	rc = get_frame(cr, &loc, &f);
	if (rc < 0)
		return rc;
	if ((uint64_t)loc.off + loc.len > f->raw_len)
		return lb_err(-EBADMSG, "chunk", HINT_CHECK, "chunk %.16s lies outside its frame",
			      lb_hex(id, 8, hex));
	memcpy(buf, f->raw + loc.off, loc.len);
	rc = lb_idhash(cr->h, buf, loc.len, check);
	if (rc < 0)
		return rc;
	if (memcmp(check, id, LB_ID_LEN))
		return lb_err(-EBADMSG, "chunk", HINT_CHECK,
			      "chunk %.16s in pack %.16s does not match its ID", lb_hex(id, 8, hex),
			      lb_hex(loc.pack_id, 8, phex));
	*len = loc.len;
	return 0;
}

int lb_blob_parts_decode(const uint8_t *list, size_t len, uint64_t *total, uint32_t *nparts)
{
	uint64_t t;
	uint32_t n;

	if (len < LB_BLOB_PARTS_HEADER || memcmp(list, LB_BLOB_PARTS_MAGIC, 4))
		return 0;
	t = lb_le64(list + 8);
	n = lb_le32(list + 16);
	if (lb_le32(list + 4) != 1 || t <= LB_BLOB_PART || t > LB_BLOB_MAX ||
	    n != (t + LB_BLOB_PART - 1) / LB_BLOB_PART ||
	    len != LB_BLOB_PARTS_HEADER + (size_t)n * LB_ID_LEN)
		return lb_err(-EBADMSG, "blob", HINT_CHECK, "a list of blob parts is malformed");
	*total = t;
	*nparts = n;
	return 1;
}

int lb_chunk_read_alloc(struct lb_chunk_reader *cr, const uint8_t id[LB_ID_LEN], uint8_t **out,
			size_t *len)
{
	struct lb_index_loc loc;
	_cleanup_free_ uint8_t *buf = NULL, *whole = NULL;
	char hex[LB_SHA256_HEX];
	uint64_t total;
	uint32_t nparts;
	size_t got;
	int rc;

	if (!lb_index_lookup(cr->r->index, id, &loc) || loc.pending)
		return lb_err(-ENOENT, "chunk", HINT_CHECK,
			      "chunk %.16s is not in the repository's index", lb_hex(id, 8, hex));
	buf = malloc(loc.len ? loc.len : 1);
	if (!buf)
		return -ENOMEM;
	rc = lb_chunk_read(cr, id, buf, loc.len, len);
	if (rc < 0)
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
		return rc;
	rc = lb_blob_parts_decode(buf, *len, &total, &nparts);
	if (rc <= 0) {
		if (rc == 0)
			*out = TAKE_PTR(buf);
		return rc;
	}
	/* a large blob stored in parts: each is one chunk, never itself a list */
	whole = malloc(total);
	if (!whole)
		return -ENOMEM;
	for (uint32_t i = 0; i < nparts; i++) {
		uint64_t off = (uint64_t)i * LB_BLOB_PART;
		size_t want = LB_MIN((uint64_t)LB_BLOB_PART, total - off);

		rc = lb_chunk_read(cr, buf + LB_BLOB_PARTS_HEADER + (size_t)i * LB_ID_LEN,
				   whole + off, want, &got);
		if (rc < 0)
			/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
			return rc;
		if (got != want)
			return lb_err(-EBADMSG, "blob", HINT_CHECK,
				      "part %u of blob %.16s has %zu bytes, not %zu", i,
				      lb_hex(id, 8, hex), got, want);
	}
	*len = total;
	*out = TAKE_PTR(whole);
	return 0;
}

/* ---- snapshots -------------------------------------------------------------------- */

char *lb_snapshot_name(const uint8_t id[LB_ID_LEN], char out[80])
{
	char hex[LB_SHA256_HEX];

	snprintf(out, 80, "snapshots/%s", lb_hex(id, LB_ID_LEN, hex));
	return out;
}

int lb_repo_save_snapshot(struct lb_repo *r, struct lb_snapshot *s)
{
	_cleanup_free_ uint8_t *obj = NULL;
	size_t len = 0;
	char name[80];
	int rc;

	rc = lb_snapshot_encode(&r->keys, s, &obj, &len);
	if (rc < 0)
		return rc;
	rc = lb_sha256(obj, len, s->id);
	if (rc < 0)
		return rc;
	rc = lb_store_put(r->store, lb_snapshot_name(s->id, name), obj, len);
	return rc == -EEXIST ? 0 : rc;
}

struct snap_list {
	struct lb_repo *r;
	struct lb_snapshot *v;
	size_t n, cap;
};

static int load_snap(void *ctx, const char *name, uint64_t size)
{
	struct snap_list *l = ctx;
	_cleanup_free_ uint8_t *buf = NULL;
	char expect[80];
	size_t len;
	int rc;

	(void)size;
	rc = lb_store_get_all(l->r->store, name, LB_SNAPSHOT_MAX, &buf, &len);
	if (rc < 0)
		return rc;
	if (grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0)
		return -ENOMEM;
	rc = lb_snapshot_decode(&l->r->keys, buf, len, &l->v[l->n]);
	if (rc < 0)
		return lb_err_context("%s", name);
	if (strcmp(lb_snapshot_name(l->v[l->n].id, expect), name)) {
		lb_snapshot_release(&l->v[l->n]);
		return lb_err(-EBADMSG, name, HINT_CHECK,
			      "the snapshot's content does not match its name");
	}
	l->n++;
	return 0;
}

static int snap_cmp(const void *a, const void *b)
{
	const struct lb_snapshot *x = a, *y = b;
	int c = lb_timespec_cmp(&x->time, &y->time);

	return c ? c : memcmp(x->id, y->id, LB_ID_LEN);
}

int lb_repo_list_snapshots(struct lb_repo *r, struct lb_snapshot **out, size_t *n)
{
	struct snap_list l = {r, NULL, 0, 0};
	int rc = lb_store_list(r->store, "snapshots/", load_snap, &l);

	if (rc < 0) {
		for (size_t i = 0; i < l.n; i++)
			lb_snapshot_release(&l.v[i]);
		free(l.v);
		return rc;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), snap_cmp);
	*out = l.v;
	*n = l.n;
	return 0;
}

static bool is_hex(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		      (*s >= 'A' && *s <= 'F')))
			return false;
	return true;
}

int lb_repo_find_snapshot(struct lb_repo *r, const char *ref, struct lb_snapshot *out)
{
	struct lb_snapshot *v = NULL;
	size_t n = 0, pick = SIZE_MAX, matches = 0;
	const char *at = strrchr(ref, '@');
	struct timespec before = {0};
	bool latest = false;
	_cleanup_free_ char *name = NULL;
	char hex[LB_SHA256_HEX];
	int rc;

	if (!strcmp(ref, "latest")) {
		latest = true;
	} else if (at) {
		name = strndup(ref, (size_t)(at - ref));
		if (!name)
			return -ENOMEM;
		if (!strcmp(at + 1, "latest"))
			latest = true;
		else if (lb_parse_time(at + 1, &before) < 0)
			/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
			return lb_err(-EINVAL, ref,
				      "write NAME@latest or NAME@2024-07-19T04:09:00Z",
				      "not a snapshot reference: %s", lb_err_last()->problem);
	} else if (strlen(ref) < 4 || strlen(ref) > 64 || !is_hex(ref)) {
		return lb_err(-EINVAL, ref,
			      "give a snapshot ID (4 or more hex digits), latest, NAME@latest or "
			      "NAME@TIME",
			      "not a snapshot reference");
	}
	rc = lb_repo_list_snapshots(r, &v, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (name && strcmp(v[i].name, name))
			continue;
		if (latest) {
			pick = i; /* sorted by time: the last wins */
			matches = 1;
		} else if (name) {
			if (lb_timespec_cmp(&v[i].time, &before) < 0) {
				pick = i;
				matches = 1;
			}
		} else if (!strncasecmp(lb_hex(v[i].id, LB_ID_LEN, hex), ref, strlen(ref))) {
			pick = i;
			matches++;
		}
	}
	if (matches > 1)
		rc = lb_err(-EINVAL, ref, "give more digits of the ID",
			    "%zu snapshots have IDs starting with %s", matches, ref);
	else if (pick == SIZE_MAX && name && !latest)
		rc = lb_err(-ENOENT, ref, "see 'lifeboat snapshots --name NAME'",
			    "no snapshot of %s was captured before %s", name, at + 1);
	else if (pick == SIZE_MAX && name)
		rc = lb_err(-ENOENT, ref, "see 'lifeboat snapshots'", "no snapshot of %s", name);
	else if (pick == SIZE_MAX)
		rc = lb_err(-ENOENT, ref, "see 'lifeboat snapshots'", "no such snapshot");
	else
		rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && i == pick)
			*out = v[i];
		else
			lb_snapshot_release(&v[i]);
	}
	free(v);
	return rc;
}
