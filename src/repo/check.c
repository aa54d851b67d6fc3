/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check.c - check a repository (see check.h).
 */
#include "repo/check.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/sha256.h"
#include "base/util.h"
#include "repo/imagemap.h"
#include "repo/tree.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_RANGES_SHOWN 20

struct check {
	struct lb_repo *r;
	const struct lb_check_opts *o;
	struct lb_check_result *res;
	struct lb_chunk_reader *cr;
	struct lb_idhash *h;
	uint8_t *damaged; /* one byte per pack number: 1 = damaged */
	uint32_t npacks;
	uint32_t pack_no; /* while walking packs */
};

static void problem(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct check *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->res->problems++;
	if (c->o->problem)
		c->o->problem(c->o->ctx, buf);
}

static const char *short_hex(const uint8_t *id, char out[17])
{
	return lb_hex(id, 8, out);
}

/* ---- packs ------------------------------------------------------------------------ */

/*
 * Which packs are read this run: all, or a random sample of exactly
 * ceil(PERCENT of them) (at least one), different each run so that runs
 * cover the whole repository over time. Selection sampling: pack k of n is
 * taken with probability (still to take) / (still to see).
 */
struct sampler {
	uint64_t state;
	uint32_t want, left;
};

static void sampler_init(struct sampler *sm, double pct, uint32_t npacks)
{
	double w = pct >= 100 ? npacks : pct / 100.0 * npacks;

	sm->want = (uint32_t)w + ((double)(uint32_t)w < w ? 1 : 0);
	if (sm->want == 0 && npacks && pct > 0)
		sm->want = 1;
	sm->left = npacks;
	if (getentropy(&sm->state, sizeof(sm->state)) < 0 || !sm->state)
		sm->state = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull | 1;
}

static bool sampled(struct sampler *sm)
{
	bool take;

	if (!sm->left)
		return false;
	/* xorshift64* */
	sm->state ^= sm->state >> 12;
	sm->state ^= sm->state << 25;
	sm->state ^= sm->state >> 27;
	take = (sm->state * 0x2545f4914f6cdd1dull >> 32) % sm->left < sm->want;
	sm->left--;
	if (take)
		sm->want--;
	return take;
}

/* Read a whole pack: every frame authenticated, every chunk's ID recomputed. */
static int read_pack(struct check *c, const uint8_t id[LB_ID_LEN], uint32_t pack_no)
{
	struct lb_pack_info info = {0};
	struct lb_aead_key pk;
	uint8_t *raw = NULL;
	size_t cap = 0;
	char hex[17];
	int rc;
	bool bad = false;

	lb_err_clear();
	rc = lb_pack_read_info(c->r->store, &c->r->keys, id, &info);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		problem(c, "pack %s: %s", short_hex(id, hex), lb_err_last()->problem);
		c->damaged[pack_no] = 1;
		return 0;
	}
	rc = lb_pack_key(&c->r->keys, info.salt, &pk);
	for (uint32_t f = 0; rc >= 0 && f < info.nframes; f++) {
		if (info.frames[f].raw_len > cap) {
			uint8_t *n = realloc(raw, info.frames[f].raw_len);

			if (!n) {
				rc = -ENOMEM;
				break;
			}
			raw = n;
			cap = info.frames[f].raw_len;
		}
		lb_err_clear();
		rc = lb_pack_read_frame(c->r->store, &pk, id, info.salt, f, &info.frames[f], raw);
		if (rc == -ENOMEM)
			break;
		if (rc < 0) {
			problem(c, "pack %s, frame %u: %s", short_hex(id, hex), f,
				lb_err_last()->problem);
			bad = true;
			rc = 0;
			continue;
		}
		c->res->bytes_read += info.frames[f].sealed_len;
		for (uint32_t k = 0; k < info.nchunks; k++) {
			const struct lb_chunk_ref *ch = &info.chunks[k];
			uint8_t got[LB_ID_LEN];

			if (ch->frame != f)
				continue;
			rc = lb_idhash(c->h, raw + ch->off, ch->len, got);
			if (rc < 0)
				break;
			if (memcmp(got, ch->id, LB_ID_LEN)) {
				char chex[17];

				problem(c, "pack %s: chunk %s does not match its ID",
					short_hex(id, hex), short_hex(ch->id, chex));
				bad = true;
			}
		}
	}
	memset(&pk, 0, sizeof(pk));
	free(raw);
	lb_pack_info_release(&info);
	if (bad)
		c->damaged[pack_no] = 1;
	c->res->packs_read++;
	return rc < 0 ? rc : 0;
}

struct pack_walk {
	struct check *c;
	uint32_t no;
	int err;
	struct sampler sm;
};

static int pack_cb(void *ctx, const uint8_t id[LB_ID_LEN], uint64_t size)
{
	struct pack_walk *pw = ctx;
	struct check *c = pw->c;
	uint32_t no = pw->no++;
	char name[80], hex[17];
	uint64_t have;
	int rc;

	c->res->packs++;
	lb_err_clear();
	rc = lb_store_stat(c->r->store, lb_pack_name(id, name), &have);
	if (rc == -ENOENT) {
		problem(c, "pack %s is missing", short_hex(id, hex));
		c->damaged[no] = 1;
		return 0;
	}
	if (rc < 0)
		return rc;
	if (have != size) {
		problem(c, "pack %s has %" PRIu64 " bytes, the index says %" PRIu64,
			short_hex(id, hex), have, size);
		c->damaged[no] = 1;
		return 0;
	}
	if (c->o->read_data > 0 && sampled(&pw->sm))
		rc = read_pack(c, id, no);
	if (c->o->progress)
		c->o->progress(c->o->ctx, pw->no, c->npacks, "packs");
	return rc;
}

/* ---- snapshots ---------------------------------------------------------------------- */

/* 0: fine; 1: missing; 2: in a damaged pack. */
static int chunk_state(struct check *c, const uint8_t id[LB_ID_LEN])
{
	struct lb_index_loc loc;

	if (!lb_index_lookup(c->r->index, id, &loc) || loc.pending)
		return 1;
	return loc.pack < c->npacks && c->damaged[loc.pack] ? 2 : 0;
}

struct ranges {
	struct lb_buf text;
	uint64_t start, end;
	unsigned shown, count;
};

static void range_add(struct ranges *rg, uint64_t a, uint64_t b)
{
	if (rg->count && rg->end == a) {
		rg->end = b;
		return;
	}
	if (rg->count && rg->shown < MAX_RANGES_SHOWN) {
		lb_buf_printf(&rg->text, "%s%" PRIu64 "-%" PRIu64, rg->shown ? ", " : "", rg->start,
			      rg->end - 1);
		rg->shown++;
	}
	rg->start = a;
	rg->end = b;
	rg->count++;
}

static void range_close(struct ranges *rg)
{
	if (rg->count && rg->shown < MAX_RANGES_SHOWN) {
		lb_buf_printf(&rg->text, "%s%" PRIu64 "-%" PRIu64, rg->shown ? ", " : "", rg->start,
			      rg->end - 1);
		rg->shown++;
	}
	if (rg->count > rg->shown)
		lb_buf_printf(&rg->text, " and %u more ranges", rg->count - rg->shown);
}

static int check_image(struct check *c, const struct lb_snapshot *s, const char *label, bool *hit)
{
	struct ranges rg = {0};
	int rc = 0;

	lb_buf_init(&rg.text, 1 << 16);
	for (size_t i = 0; i < s->nmaps; i++) {
		_cleanup_free_ uint8_t *blob = NULL;
		struct lb_map_blob m = {0};
		size_t len;
		int st = chunk_state(c, s->maps[i]);

		if (st) {
			problem(c, "%s: image map blob %zu is %s", label, i,
				st == 1 ? "missing" : "in a damaged pack");
			*hit = true;
			continue;
		}
		lb_err_clear();
		rc = lb_chunk_read_alloc(c->cr, s->maps[i], &blob, &len);
		if (rc >= 0)
			rc = lb_map_decode(blob, len, &m);
		if (rc == -ENOMEM)
			break;
		if (rc < 0) {
			problem(c, "%s: image map blob %zu: %s", label, i, lb_err_last()->problem);
			*hit = true;
			rc = 0;
			continue;
		}
		for (uint32_t k = 0; k < m.count; k++) {
			uint64_t off = (m.first + k) * (uint64_t)s->chunk_size;

			if (m.kinds[k] != LB_MAP_DATA || !chunk_state(c, m.ids[k]))
				continue;
			range_add(&rg, off, LB_MIN(off + s->chunk_size, s->virtual_size));
		}
		c->res->chunks += m.count;
		lb_map_release(&m);
	}
	if (rg.count) {
		range_close(&rg);
		problem(c, "%s: bytes of the disk that cannot be restored: %s", label,
			rg.text.data);
		*hit = true;
	}
	lb_buf_release(&rg.text);
	return rc;
}

static int check_tree(struct check *c, const uint8_t id[LB_ID_LEN], const char *path,
		      const char *label, bool *hit, int depth)
{
	_cleanup_free_ uint8_t *blob = NULL;
	struct lb_tree t = {0};
	size_t len;
	int rc, st = chunk_state(c, id);

	if (depth > 256) {
		problem(c, "%s: %s: folders nested too deep", label, path);
		*hit = true;
		return 0;
	}
	if (st) {
		problem(c, "%s: the folder %s is %s", label, *path ? path : "/",
			st == 1 ? "missing" : "in a damaged pack");
		*hit = true;
		return 0;
	}
	lb_err_clear();
	rc = lb_chunk_read_alloc(c->cr, id, &blob, &len);
	if (rc >= 0)
		rc = lb_tree_decode(blob, len, &t);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		problem(c, "%s: the folder %s: %s", label, *path ? path : "/",
			lb_err_last()->problem);
		*hit = true;
		return 0;
	}
	for (size_t i = 0; rc >= 0 && i < t.n; i++) {
		const struct lb_tree_entry *e = &t.e[i];
		char sub[4096];

		snprintf(sub, sizeof(sub), "%s/%s", path, e->name);
		if (e->type == LB_TREE_DIR) {
			rc = check_tree(c, e->subtree, sub, label, hit, depth + 1);
			continue;
		}
		for (size_t k = 0; k < e->nruns; k++) {
			if (e->runs[k].hole)
				continue;
			c->res->chunks++;
			if (chunk_state(c, e->runs[k].id)) {
				problem(c, "%s: the file %s cannot be restored whole", label, sub);
				*hit = true;
				break;
			}
		}
	}
	lb_tree_release(&t);
	return rc;
}

static int snap_cb(void *ctx, const char *name, uint64_t size)
{
	struct check *c = ctx;
	_cleanup_free_ uint8_t *buf = NULL;
	struct lb_snapshot s = {0};
	char label[128], hex[17], expect[80];
	size_t len;
	bool hit = false;
	int rc;

	(void)size;
	c->res->snapshots++;
	lb_err_clear();
	rc = lb_store_get_all(c->r->store, name, LB_SNAPSHOT_MAX, &buf, &len);
	if (rc >= 0)
		rc = lb_snapshot_decode(&c->r->keys, buf, len, &s);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		problem(c, "%s: %s", name, lb_err_last()->problem);
		c->res->affected_snapshots++;
		return 0;
	}
	if (strcmp(lb_snapshot_name(s.id, expect), name)) {
		problem(c, "%s: its content does not match its name", name);
		c->res->affected_snapshots++;
	}
	snprintf(label, sizeof(label), "snapshot %s (%s)", lb_hex(s.id, 4, hex), s.name);
	if (s.kind == LB_SNAP_IMAGE)
		rc = check_image(c, &s, label, &hit);
	else
		rc = check_tree(c, s.root, "", label, &hit, 0);
	if (hit)
		c->res->affected_snapshots++;
	lb_snapshot_release(&s);
	return rc;
}

static int count_cb(void *ctx, const uint8_t id[LB_ID_LEN], uint64_t size)
{
	(void)id, (void)size;
	(*(uint32_t *)ctx)++;
	return 0;
}

int lb_repo_check(struct lb_repo *r, const struct lb_check_opts *o, struct lb_check_result *res)
{
	struct check c = {r, o, res, NULL, NULL, NULL, 0, 0};
	struct pack_walk pw = {&c, 0, 0};
	int rc;

	memset(res, 0, sizeof(*res));
	lb_err_clear();
	rc = lb_repo_load_index(r);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		problem(&c, "the index: %s", lb_err_last()->problem);
		return 0;
	}
	if (r->orphans_adopted)
		problem(&c,
			"%zu packs were not in any index (an interrupted backup); they are indexed "
			"now",
			r->orphans_adopted);
	res->problems -= r->orphans_adopted ? 1 : 0; /* a note, not damage */
	lb_index_foreach_pack(r->index, count_cb, &c.npacks);
	sampler_init(&pw.sm, o->read_data, c.npacks);
	c.damaged = calloc(c.npacks ? c.npacks : 1, 1);
	rc = c.damaged ? lb_idhash_new(&r->keys, &c.h) : -ENOMEM;
	if (rc >= 0)
		rc = lb_chunk_reader_new(r, &c.cr);
	if (rc >= 0)
		rc = lb_index_foreach_pack(r->index, pack_cb, &pw);
	for (uint32_t i = 0; c.damaged && i < c.npacks; i++)
		res->damaged_packs += c.damaged[i];
	if (rc >= 0)
		rc = lb_store_list(r->store, "snapshots/", snap_cb, &c);
	res->chunks = lb_index_chunks(r->index);
	lb_chunk_reader_free(c.cr);
	lb_idhash_free(c.h);
	free(c.damaged);
	return rc;
}
