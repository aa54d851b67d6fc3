/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backup.c - back up a disk image (see backup.h).
 *
 * The disk is walked in segments of SEG_CHUNKS chunks. For each segment the
 * reader thread (the caller's) reads what is allocated, in as few requests as
 * the extents allow, and hands the segment to the pool, where a job tells
 * zero chunks apart and hashes the others. Segments are then consumed in
 * order: each chunk goes into the image map, and data chunks to the writer
 * (which stores only the new ones, and seals frames on the pool too). Up to
 * SEG_AHEAD segments are in flight, which bounds memory.
 */
#include "repo/backup.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/util.h"
#include "repo/imagemap.h"

#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEG_BYTES (1u << 20)
#define SEG_AHEAD 4

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void lb_backup_default_name(const char *path, char *out, size_t cap)
{
	static const char *const exts[] = {".qcow2", ".vhdx", ".vhd", ".vmdk",
					   ".vdi",   ".img",  ".raw", ".qcow"};
	char copy[4096];
	const char *b;
	size_t n;

	lb_strlcpy(copy, path, sizeof(copy));
	n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	b = basename(copy);
	lb_strlcpy(out, b, cap);
	n = strlen(out);
	for (size_t i = 0; i < LB_ARRAY_SIZE(exts); i++) {
		size_t e = strlen(exts[i]);

		if (n > e && !strcasecmp(out + n - e, exts[i])) {
			out[n - e] = '\0';
			break;
		}
	}
}

/* ---- extents -------------------------------------------------------------------- */

struct extent {
	uint64_t off, len;
	enum lb_extent_type type;
};

struct extents {
	struct extent *v;
	size_t n, cap;
};

static int ext_cb(void *opaque, uint64_t off, uint64_t len, enum lb_extent_type type)
{
	struct extents *e = opaque;

	if (type == LB_EXTENT_ZERO)
		type = LB_EXTENT_HOLE; /* both read as zeros and are not stored */
	if (e->n && e->v[e->n - 1].type == type && e->v[e->n - 1].off + e->v[e->n - 1].len == off) {
		e->v[e->n - 1].len += len;
		return 0;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 256;
		struct extent *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = (struct extent){off, len, type};
	return 0;
}

/* Is [off, off+len) entirely in holes? @i is a cursor into the sorted extents. */
static bool all_hole(const struct extents *e, size_t *i, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;

	while (*i < e->n && e->v[*i].off + e->v[*i].len <= off)
		(*i)++;
	for (size_t k = *i; k < e->n && e->v[k].off < end; k++)
		if (e->v[k].type == LB_EXTENT_DATA)
			return false;
	return true;
}

/* ---- segments -------------------------------------------------------------------- */

struct segment {
	uint64_t first; /* first chunk */
	uint32_t nchunks;
	uint8_t *buf; /* nchunks * chunk size (only read chunks are meaningful) */
	uint8_t kinds[SEG_BYTES / 4096];
	uint8_t ids[SEG_BYTES / 4096][LB_ID_LEN];
	uint32_t lens[SEG_BYTES / 4096];
	const struct lb_keys *keys;
	int err;
	bool done;
	pthread_mutex_t *mu;
	pthread_cond_t *cv;
};

static void hash_job(void *arg)
{
	struct segment *s = arg;
	struct lb_idhash *h = NULL;
	size_t off = 0;
	int rc = lb_idhash_new(s->keys, &h);

	for (uint32_t i = 0; rc >= 0 && i < s->nchunks; i++) {
		if (s->kinds[i] == LB_MAP_DATA) {
			if (lb_is_zero(s->buf + off, s->lens[i]))
				s->kinds[i] = LB_MAP_ZERO;
			else
				rc = lb_idhash(h, s->buf + off, s->lens[i], s->ids[i]);
		}
		off += s->lens[i];
	}
	lb_idhash_free(h);
	pthread_mutex_lock(s->mu);
	s->err = rc < 0 ? rc : 0;
	s->done = true;
	pthread_cond_broadcast(s->cv);
	pthread_mutex_unlock(s->mu);
}

struct image_backup {
	struct lb_repo *r;
	struct lb_repo_writer *w;
	struct lb_dev *disk;
	struct extents ext;
	size_t ext_cursor;
	uint32_t csize;
	uint64_t nchunks, next_chunk;
	struct lb_map_blob map; /* being filled */
	bool map_open;
	uint8_t (*maps)[LB_ID_LEN];
	size_t nmaps;
	uint64_t skipped, done_bytes;
	struct segment *ring[SEG_AHEAD];
	size_t rhead, rlen;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct lb_pool *pool;
	const struct lb_backup_opts *o;
};

/* Read the next segment and queue its hashing. */
static int read_segment(struct image_backup *b, struct lb_pool *pool)
{
	struct segment *s = calloc(1, sizeof(*s));
	uint32_t per = SEG_BYTES / b->csize;
	uint64_t run_start = 0;
	size_t off = 0, run_off = 0;
	bool in_run = false;
	int rc = 0;

	if (!s)
		return -ENOMEM;
	s->first = b->next_chunk;
	s->nchunks = (uint32_t)LB_MIN((uint64_t)per, b->nchunks - b->next_chunk);
	s->buf = malloc((size_t)s->nchunks * b->csize);
	if (!s->buf) {
		free(s);
		return -ENOMEM;
	}
	s->keys = &b->r->keys;
	s->mu = &b->mu;
	s->cv = &b->cv;
	/* classify; read runs of chunks that are not all holes in one request each */
	for (uint32_t i = 0; i <= s->nchunks; i++) {
		bool hole = true;
		uint64_t coff = (s->first + i) * (uint64_t)b->csize;

		if (i < s->nchunks) {
			uint32_t len = (uint32_t)LB_MIN((uint64_t)b->csize, b->disk->size - coff);

			s->lens[i] = len;
			hole = all_hole(&b->ext, &b->ext_cursor, coff, len);
			s->kinds[i] = hole ? LB_MAP_HOLE : LB_MAP_DATA;
			if (hole)
				b->skipped += len;
		}
		if (!hole && !in_run) {
			in_run = true;
			run_start = coff;
			run_off = off;
		}
		if ((hole || i == s->nchunks) && in_run) {
			in_run = false;
			rc = lb_dev_pread(b->disk, s->buf + run_off, off - run_off, run_start);
			if (rc < 0)
				break;
		}
		if (i < s->nchunks)
			off += s->lens[i];
	}
	b->next_chunk += s->nchunks;
	b->done_bytes += off;
	if (rc < 0) {
		free(s->buf);
		free(s);
		return rc;
	}
	b->ring[(b->rhead + b->rlen) % SEG_AHEAD] = s;
	b->rlen++;
	lb_pool_submit(pool, hash_job, s);
	return 0;
}

static int close_map(struct image_backup *b)
{
	_cleanup_free_ uint8_t *blob = NULL;
	size_t len = 0;
	void *n;
	int rc;

	if (!b->map_open)
		return 0;
	rc = lb_map_encode(&b->map, &blob, &len);
	if (rc < 0)
		return rc;
	n = realloc(b->maps, (b->nmaps + 1) * sizeof(*b->maps));
	if (!n)
		return -ENOMEM;
	b->maps = n;
	rc = lb_repo_writer_add_blob(b->w, LB_CHUNK_TREE, blob, len, b->maps[b->nmaps]);
	if (rc < 0)
		return rc;
	b->nmaps++;
	lb_map_release(&b->map);
	b->map_open = false;
	return 0;
}

/* Consume the oldest segment: map entries, and data chunks to the writer. */
static int consume(struct image_backup *b)
{
	struct segment *s = b->ring[b->rhead];
	size_t off = 0;
	int rc;

	/* help with the pool's work while the segment is being hashed */
	for (;;) {
		bool done;

		pthread_mutex_lock(&b->mu);
		done = s->done;
		pthread_mutex_unlock(&b->mu);
		if (done || !lb_pool_run_one(b->pool))
			break;
	}
	pthread_mutex_lock(&b->mu);
	while (!s->done)
		pthread_cond_wait(&b->cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
	b->rhead = (b->rhead + 1) % SEG_AHEAD;
	b->rlen--;
	rc = s->err;
	for (uint32_t i = 0; rc >= 0 && i < s->nchunks; i++) {
		uint64_t c = s->first + i;

		if (!b->map_open) {
			uint64_t left = b->nchunks - c;

			rc = lb_map_init(&b->map, c, (uint32_t)LB_MIN(left, (uint64_t)LB_MAP_SPAN),
					 b->csize);
			if (rc < 0)
				break;
			b->map_open = true;
		}
		b->map.kinds[c - b->map.first] = s->kinds[i];
		if (s->kinds[i] == LB_MAP_DATA) {
			memcpy(b->map.ids[c - b->map.first], s->ids[i], LB_ID_LEN);
			rc = lb_repo_writer_add(b->w, LB_CHUNK_DATA, s->ids[i], s->buf + off,
						s->lens[i]);
		}
		off += s->lens[i];
		if (rc >= 0 && c + 1 == b->map.first + b->map.count)
			rc = close_map(b);
	}
	free(s->buf);
	free(s);
	return rc < 0 ? rc : 0;
}

static void drain_ring(struct image_backup *b)
{
	while (b->rlen) {
		struct segment *s = b->ring[b->rhead];

		pthread_mutex_lock(&b->mu);
		while (!s->done)
			pthread_cond_wait(&b->cv, &b->mu);
		pthread_mutex_unlock(&b->mu);
		free(s->buf);
		free(s);
		b->rhead = (b->rhead + 1) % SEG_AHEAD;
		b->rlen--;
	}
}

int lb_backup_fill_snapshot(struct lb_snapshot *s, const struct lb_backup_opts *o, const char *path,
			    enum lb_snapshot_kind kind, time_t started)
{
	char name[256], host[256] = "";
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	s->kind = kind;
	if (o->name && *o->name)
		lb_strlcpy(name, o->name, sizeof(name));
	else
		lb_backup_default_name(path, name, sizeof(name));
	s->name = strdup(name);
	gethostname(host, sizeof(host) - 1);
	s->hostname = strdup(host);
	s->source = realpath(path, NULL);
	if (!s->source)
		s->source = strdup(path);
	s->time = o->time.tv_sec || o->time.tv_nsec ? o->time : now;
	s->started = (int64_t)started;
	s->finished = (int64_t)now.tv_sec;
	if (o->ntags) {
		s->tags = calloc(o->ntags, sizeof(*s->tags));
		if (!s->tags)
			return -ENOMEM;
		for (size_t i = 0; i < o->ntags; i++) {
			s->tags[i] = strdup(o->tags[i]);
			if (!s->tags[i])
				return -ENOMEM;
			s->ntags++;
		}
	}
	if (!s->name || !s->hostname || !s->source)
		return -ENOMEM;
	/* the record holds text: a name or path that is not UTF-8 gets '?' for its odd bytes */
	lb_utf8_sanitize(s->name);
	lb_utf8_sanitize(s->hostname);
	lb_utf8_sanitize(s->source);
	for (size_t i = 0; i < s->ntags; i++)
		lb_utf8_sanitize(s->tags[i]);
	return 0;
}

int lb_backup_image(struct lb_repo *r, const char *path, const struct lb_backup_opts *o,
		    struct lb_backup_result *res)
{
	struct lb_image_opts io = {
		.read_only = true, .format = o->format, .force_share = o->force_share};
	struct image_backup b = {0};
	struct lb_image *img = NULL;
	struct lb_pool *pool;
	double t0 = now_s();
	time_t started = time(NULL);
	int rc;

	memset(res, 0, sizeof(*res));
	b.r = r;
	b.o = o;
	b.csize = r->cfg.image_chunk;
	pthread_mutex_init(&b.mu, NULL);
	pthread_cond_init(&b.cv, NULL);
	rc = lb_image_open(path, &io, &img);
	if (rc < 0)
		goto out;
	b.disk = img->disk;
	rc = lb_dev_extents(b.disk, 0, b.disk->size, ext_cb, &b.ext);
	if (rc < 0)
		goto out;
	rc = lb_repo_writer_new(r, &b.w);
	if (rc < 0)
		goto out;
	rc = lb_repo_pool(r, &pool);
	if (rc < 0)
		goto out;
	b.pool = pool;
	b.nchunks = (b.disk->size + b.csize - 1) / b.csize;
	while (rc >= 0 && (b.next_chunk < b.nchunks || b.rlen)) {
		if (lb_interrupted_check()) {
			rc = lb_err(-EINTR, path, NULL, "interrupted; no snapshot was saved");
			break;
		}
		while (rc >= 0 && b.rlen < SEG_AHEAD && b.next_chunk < b.nchunks)
			rc = read_segment(&b, pool);
		if (rc >= 0 && b.rlen)
			rc = consume(&b);
		if (o->progress)
			o->progress(o->progress_ctx, b.next_chunk * (uint64_t)b.csize, b.disk->size,
				    path);
	}
	drain_ring(&b);
	if (rc >= 0)
		rc = close_map(&b);
	if (rc >= 0)
		rc = lb_repo_writer_flush(b.w);
	if (rc < 0)
		goto out;
	res->st = *lb_repo_writer_stats(b.w);
	rc = lb_backup_fill_snapshot(&res->snap, o, path, LB_SNAP_IMAGE, started);
	if (rc < 0)
		goto out;
	res->snap.format = strdup(lb_image_format_name(img->format));
	if (!res->snap.format) {
		rc = -ENOMEM;
		goto out;
	}
	res->snap.virtual_size = b.disk->size;
	res->snap.chunk_size = b.csize;
	res->snap.nmaps = b.nmaps;
	res->snap.maps = b.maps;
	b.maps = NULL;
	res->snap.bytes_read = b.done_bytes - b.skipped;
	res->snap.bytes_new = res->st.bytes_new;
	res->snap.bytes_stored = res->st.bytes_stored;
	res->snap.chunks_total = res->st.chunks_total;
	res->snap.chunks_new = res->st.chunks_new;
	rc = lb_repo_save_snapshot(r, &res->snap);
	res->bytes_skipped = b.skipped;
out:
	drain_ring(&b);
	if (b.map_open)
		lb_map_release(&b.map);
	lb_repo_writer_free(b.w);
	free(b.maps);
	free(b.ext.v);
	lb_image_free(img);
	pthread_mutex_destroy(&b.mu);
	pthread_cond_destroy(&b.cv);
	res->seconds = now_s() - t0;
	if (rc < 0)
		lb_snapshot_release(&res->snap);
	return rc;
}
