/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * repair.c - plan and apply a recipe on one image (see repair.h).
 */
#include "repair/repair.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/timefmt.h"
#include "base/util.h"
#include "fs/hive.h"
#include "io/ptable.h"
#include "repair/quarantine.h"
#include "repair/undo.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WALK_MAX_DEPTH 64
#define PATH_CAP 4096

const char *lb_repair_status_name(enum lb_repair_status s)
{
	switch (s) {
	case LB_REPAIR_CLEAN:
		return "clean";
	case LB_REPAIR_CHANGED:
		return "changed";
	case LB_REPAIR_REFUSED:
		return "refused";
	case LB_REPAIR_FAILED:
		return "failed";
	}
	return "unknown";
}

void lb_repair_result_release(struct lb_repair_result *res)
{
	for (unsigned i = 0; i < res->nitems; i++) {
		free(res->items[i].path);
		free(res->items[i].key);
	}
	free(res->items);
	free(res->vols);
	memset(res, 0, sizeof(*res));
}

/* ---- volumes ------------------------------------------------------------------- */

/* The volumes of an opened disk: partitions (or the whole disk), as slices. */
struct vol_dev {
	unsigned part;
	struct lb_dev *dev;
};

static void vol_devs_free(struct vol_dev *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		lb_dev_unref(v[i].dev);
	free(v);
}

static bool wanted_part(const struct lb_repair_opts *o, unsigned part)
{
	return !o->partition_set || o->partition == part;
}

static int list_volumes(struct lb_dev *disk, const struct lb_repair_opts *o, struct vol_dev **out,
			unsigned *n)
{
	struct lb_ptable pt;
	struct vol_dev *v;
	unsigned k = 0;
	int r;

	r = lb_ptable_read(disk, &pt);
	if (r < 0)
		return r;
	v = calloc(pt.n ? pt.n : 1, sizeof(*v));
	if (!v) {
		lb_ptable_release(&pt);
		return -ENOMEM;
	}
	if (pt.kind == LB_PTABLE_NONE) {
		if (wanted_part(o, 0)) {
			v[0].part = 0;
			v[0].dev = lb_dev_ref(disk);
			k = 1;
		}
	} else {
		for (unsigned i = 0; i < pt.n; i++) {
			const struct lb_part *p = &pt.parts[i];

			/* an MBR extended container holds only the logical partitions */
			if (p->mbr_type == 0x05 || p->mbr_type == 0x0f || p->mbr_type == 0x85)
				continue;
			if (!wanted_part(o, p->number))
				continue;
			r = lb_part_dev_new(disk, p, &v[k].dev);
			if (r < 0) {
				vol_devs_free(v, k);
				lb_ptable_release(&pt);
				return r;
			}
			v[k++].part = p->number;
		}
	}
	lb_ptable_release(&pt);
	if (o->partition_set && !k) {
		free(v);
		return lb_err(-ENOENT, "--partition", "see 'lifeboat inspect' for the partitions",
			      "the image has no partition %u", o->partition);
	}
	*out = v;
	*n = k;
	return 0;
}

static bool recipe_wants(const struct lb_recipe *r, enum lb_fs_kind kind)
{
	bool ntfs = kind == LB_FS_NTFS || kind == LB_FS_BITLOCKER;
	bool ext = kind == LB_FS_EXT2 || kind == LB_FS_EXT3 || kind == LB_FS_EXT4;

	switch (r->fs) {
	case LB_RECIPE_FS_NTFS:
		return ntfs;
	case LB_RECIPE_FS_EXT:
		return ext;
	case LB_RECIPE_FS_ANY:
		return ntfs || ext;
	}
	return false;
}

/* ---- items --------------------------------------------------------------------- */

static int add_item(struct lb_repair_result *res, unsigned action, unsigned part,
		    enum lb_action_kind kind, const char *path, struct lb_repair_item **out)
{
	struct lb_repair_item *it;

	if (res->nitems >= LB_REPAIR_MAX_ITEMS)
		return lb_err(-EOVERFLOW, path, "narrow the pattern",
			      "more than %u matches in one image", LB_REPAIR_MAX_ITEMS);
	if (!(res->nitems & (res->nitems + 1))) { /* grow at 0, 1, 3, 7, ... */
		size_t cap = (size_t)res->nitems * 2 + 1;

		it = realloc(res->items, cap * sizeof(*it));
		if (!it)
			return -ENOMEM;
		res->items = it;
	}
	it = &res->items[res->nitems];
	memset(it, 0, sizeof(*it));
	it->path = strdup(path);
	if (!it->path)
		return -ENOMEM;
	it->action = action;
	it->part = part;
	it->kind = kind;
	res->nitems++;
	*out = it;
	return 0;
}

static void item_reason(struct lb_repair_item *it, enum lb_item_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void item_reason(struct lb_repair_item *it, enum lb_item_state st, const char *fmt, ...)
{
	va_list ap;

	it->state = st;
	va_start(ap, fmt);
	vsnprintf(it->reason, sizeof(it->reason), fmt, ap);
	va_end(ap);
}

/* Read the head and, if small enough, the SHA-256 of a file. */
static int read_file_facts(struct lb_fs *fs, struct lb_repair_item *it)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct lb_sha256 h;
	uint64_t off = 0;
	const size_t chunk = 1u << 20;
	ssize_t n;

	n = lb_fs_pread(fs, it->path, it->head, sizeof(it->head), 0);
	if (n < 0)
		return (int)n;
	it->head_len = (size_t)n;
	if (it->st.size > LB_REPAIR_HASH_MAX)
		return 0;
	buf = malloc(chunk);
	if (!buf)
		return -ENOMEM;
	lb_sha256_init(&h);
	for (;;) {
		n = lb_fs_pread(fs, it->path, buf, chunk, off);
		if (n < 0) {
			lb_sha256_release(&h);
			return (int)n;
		}
		if (n == 0)
			break;
		lb_sha256_update(&h, buf, (size_t)n);
		off += (uint64_t)n;
		if (off > LB_REPAIR_HASH_MAX) {
			lb_sha256_release(&h);
			return 0;
		}
	}
	if (lb_sha256_final(&h, it->sha256) < 0)
		return -ENOMEM;
	it->hashed = true;
	return 0;
}

static bool head_matches(const struct lb_repair_item *it, const uint8_t *want, size_t len,
			 struct lb_fs *fs)
{
	uint8_t buf[LB_RECIPE_MAX_HEADER];
	ssize_t n;

	if (len <= it->head_len)
		return !memcmp(it->head, want, len);
	n = lb_fs_pread(fs, it->path, buf, len, 0);
	return n == (ssize_t)len && !memcmp(buf, want, len);
}

/* Decide what a matched file becomes: CHANGE, KEEP (with the reason) or SKIP. */
static int evaluate(struct lb_fs *fs, const struct lb_action *a, struct lb_repair_item *it)
{
	char t1[40], t2[40];
	int r;

	if (it->st.type == LB_FT_DIR) {
		item_reason(it, LB_ITEM_SKIP, "a folder (folders are never deleted)");
		return 0;
	}
	if (it->st.type == LB_FT_OTHER) {
		item_reason(it, LB_ITEM_SKIP, "not a regular file or symbolic link");
		return 0;
	}
	if (it->st.type == LB_FT_FILE && !(a->types & LB_TYPE_FILE)) {
		item_reason(it, LB_ITEM_SKIP, "a regular file (the action deletes symbolic links)");
		return 0;
	}
	if (it->st.type == LB_FT_SYMLINK && !(a->types & LB_TYPE_SYMLINK)) {
		item_reason(it, LB_ITEM_SKIP, "a symbolic link (the action deletes regular files)");
		return 0;
	}
	if (it->st.type == LB_FT_FILE) {
		r = read_file_facts(fs, it);
		if (r < 0) {
			item_reason(it, LB_ITEM_FAILED, "cannot read the file: %s",
				    lb_err_last()->problem);
			return 0;
		}
	}
	for (unsigned i = 0; i < a->nflags; i++) {
		const struct lb_flag *f = &a->flags[i];
		bool hit;

		if (f->kind == LB_FLAG_MTIME)
			hit = lb_timespec_cmp(&f->from, &it->st.mtime) <= 0 &&
			      lb_timespec_cmp(&it->st.mtime, &f->to) < 0;
		else
			hit = it->st.type == LB_FT_FILE &&
			      head_matches(it, f->header, f->header_len, fs);
		if (hit)
			it->flags_hit |= 1u << i;
	}
	if (a->has_max_size && it->st.size > a->max_size) {
		item_reason(it, LB_ITEM_KEEP,
			    "larger than max-size (%" PRIu64 " > %" PRIu64 " bytes)", it->st.size,
			    a->max_size);
		return 0;
	}
	if (a->has_mtime_after && lb_timespec_cmp(&it->st.mtime, &a->mtime_after) < 0) {
		item_reason(it, LB_ITEM_KEEP, "written %s, before mtime-after %s",
			    lb_format_time(&it->st.mtime, 0, t1, sizeof(t1)),
			    lb_format_time(&a->mtime_after, 0, t2, sizeof(t2)));
		return 0;
	}
	if (a->has_mtime_before && lb_timespec_cmp(&it->st.mtime, &a->mtime_before) >= 0) {
		item_reason(it, LB_ITEM_KEEP, "written %s, not before mtime-before %s",
			    lb_format_time(&it->st.mtime, 0, t1, sizeof(t1)),
			    lb_format_time(&a->mtime_before, 0, t2, sizeof(t2)));
		return 0;
	}
	if (a->header_len &&
	    (it->st.type != LB_FT_FILE || !head_matches(it, a->header, a->header_len, fs))) {
		item_reason(it, LB_ITEM_KEEP, "does not start with the header the action requires");
		return 0;
	}
	if (a->has_sha256) {
		if (!it->hashed) {
			item_reason(it, LB_ITEM_KEEP, "too large to check its SHA-256");
			return 0;
		}
		if (memcmp(it->sha256, a->sha256, LB_SHA256_LEN)) {
			item_reason(it, LB_ITEM_KEEP,
				    "its SHA-256 is not the one the action names");
			return 0;
		}
	}
	it->state = LB_ITEM_CHANGE;
	return 0;
}

/* ---- glob walk ------------------------------------------------------------------- */

struct walk {
	struct lb_fs *fs;
	const struct lb_action *a;
	unsigned action, part;
	struct lb_repair_result *res;
	char **comps;
	unsigned ncomps;
	int err;
};

static uint32_t fold_fs(const void *ctx, uint32_t c)
{
	return lb_fs_upcase(ctx, c);
}

static int walk(struct walk *w, const char *dir, unsigned i, unsigned depth);

static int join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATH_CAP, "%s%s%s", dir, *dir ? "/" : "", name);

	if (n < 0 || n >= PATH_CAP)
		return lb_err(-ENAMETOOLONG, name, NULL, "path too long");
	return 0;
}

static int matched(struct walk *w, const char *path, const struct lb_fs_stat *st)
{
	struct lb_repair_item *it;
	int r = add_item(w->res, w->action, w->part, LB_ACT_DELETE, path, &it);

	if (r < 0)
		return r;
	it->st = *st;
	return evaluate(w->fs, w->a, it);
}

struct dir_ctx {
	struct walk *w;
	const char *dir;
	unsigned i, depth;
	bool any; /* '**': recurse into every folder */
};

static int dir_entry(void *opaque, const struct lb_fs_dirent *e)
{
	struct dir_ctx *c = opaque;
	struct walk *w = c->w;
	const char *pat = c->any ? NULL : w->comps[c->i];
	char path[PATH_CAP];
	int r;

	if (lb_interrupted_check())
		return -EINTR;
	r = join(path, c->dir, e->name);
	if (r < 0)
		return r;
	if (c->any) {
		/* '**' continues in every folder below */
		if (e->st.type == LB_FT_DIR)
			return walk(w, path, c->i, c->depth + 1);
		return 0;
	}
	if (!lb_glob_match(pat, e->name, lb_fs_case_insensitive(w->fs) ? fold_fs : NULL, w->fs))
		return 0;
	if (c->i + 1 == w->ncomps)
		return matched(w, path, &e->st);
	if (e->st.type == LB_FT_DIR)
		return walk(w, path, c->i + 1, c->depth + 1);
	return 0;
}

/* Match components [i, n) of the pattern below @dir (a stored path, "" for the root). */
static int walk(struct walk *w, const char *dir, unsigned i, unsigned depth)
{
	char path[PATH_CAP], stored[PATH_CAP];
	struct lb_fs_stat st;
	struct dir_ctx c = {w, dir, i, depth, false};
	int r;

	if (depth > WALK_MAX_DEPTH)
		return lb_err(-ELOOP, dir, "narrow the pattern", "folders nested deeper than %d",
			      WALK_MAX_DEPTH);
	if (!strcmp(w->comps[i], "**")) {
		if (i + 1 == w->ncomps)
			return lb_err(-EINVAL, w->a->arg, NULL, "a pattern cannot end in '**'");
		/* zero folders, then every folder below */
		r = walk(w, dir, i + 1, depth + 1);
		if (r < 0)
			return r;
		c.any = true;
		r = lb_fs_readdir(w->fs, dir, dir_entry, &c);
		return r == -ENOENT || r == -ENOTDIR ? 0 : r;
	}
	if (!lb_glob_has_magic(w->comps[i])) {
		/* a plain name: one lookup, as the file system compares names */
		r = join(path, dir, w->comps[i]);
		if (r < 0)
			return r;
		r = lb_fs_stat(w->fs, path, &st, stored, sizeof(stored));
		if (r == -ENOENT || r == -ENOTDIR)
			return 0;
		if (r < 0)
			return r;
		if (i + 1 == w->ncomps)
			return matched(w, stored, &st);
		if (st.type != LB_FT_DIR)
			return 0;
		return walk(w, stored, i + 1, depth + 1);
	}
	r = lb_fs_readdir(w->fs, dir, dir_entry, &c);
	return r == -ENOENT || r == -ENOTDIR ? 0 : r;
}

static int plan_delete(struct lb_fs *fs, const struct lb_action *a, unsigned action, unsigned part,
		       struct lb_repair_result *res)
{
	_cleanup_free_ char *pat = strdup(a->arg);
	char *comps[WALK_MAX_DEPTH + 1];
	struct walk w = {fs, a, action, part, res, comps, 0, 0};
	char *save = NULL;

	if (!pat)
		return -ENOMEM;
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
	for (char *t = strtok_r(pat, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (w.ncomps == WALK_MAX_DEPTH)
			return lb_err(-EINVAL, a->arg, NULL, "too many path components");
		comps[w.ncomps++] = t;
	}
	if (!w.ncomps)
		return 0;
	return walk(&w, "", 0, 0);
}

static int plan_reg(struct lb_fs *fs, const struct lb_action *a, unsigned action, unsigned part,
		    struct lb_repair_result *res)
{
	struct lb_fs_stat st;
	char stored[PATH_CAP], key[1024];
	struct lb_hive *h = NULL;
	struct lb_reg_value cur = {0};
	struct lb_repair_item *it;
	bool dirty = false;
	int r;

	r = lb_fs_stat(fs, a->reg.hive_file, &st, stored, sizeof(stored));
	if (r == -ENOENT || r == -ENOTDIR)
		return 0; /* not a Windows volume */
	if (r < 0)
		return r;
	r = add_item(res, action, part, a->kind, stored, &it);
	if (r < 0)
		return r;
	r = lb_hive_load(fs, stored, false, &h, &dirty);
	if (r < 0) {
		item_reason(it, LB_ITEM_FAILED, "cannot read the %s hive: %s", a->reg.hive_name,
			    lb_err_last()->problem);
		return 0;
	}
	r = lb_hive_resolve_ccs(h, a->reg.key, key, sizeof(key));
	if (r < 0) {
		item_reason(it, LB_ITEM_FAILED, "%s", lb_err_last()->problem);
		goto out;
	}
	it->key = strdup(key);
	if (!it->key) {
		r = -ENOMEM;
		goto out;
	}
	r = lb_hive_get_value(h, key, a->reg.value, &cur);
	if (r == 0) {
		it->had_old = true;
		lb_reg_value_format(&cur, it->old_text, sizeof(it->old_text));
	} else if (r != -ENOENT) {
		item_reason(it, LB_ITEM_FAILED, "%s", lb_err_last()->problem);
		r = 0;
		goto out;
	}
	r = 0;
	if (a->kind == LB_ACT_REG_SET) {
		lb_reg_value_format(&a->value, it->new_text, sizeof(it->new_text));
		if (it->had_old && cur.type == a->value.type && cur.len == a->value.len &&
		    !memcmp(cur.data, a->value.data, cur.len))
			item_reason(it, LB_ITEM_KEEP, "already set to %s", it->new_text);
		else
			it->state = LB_ITEM_CHANGE;
	} else {
		if (!it->had_old)
			item_reason(it, LB_ITEM_KEEP, "no such value");
		else
			it->state = LB_ITEM_CHANGE;
	}
	it->hive_dirty = dirty;
	if (it->state == LB_ITEM_CHANGE && dirty)
		snprintf(it->reason, sizeof(it->reason),
			 "the hive's .LOG files hold changes not yet written into it (Windows did "
			 "not "
			 "shut down cleanly); writing the hive makes Windows ignore them");
out:
	lb_reg_value_release(&cur);
	lb_hive_free(h);
	return r;
}

static struct lb_repair_volume *vol_of(struct lb_repair_result *res, unsigned part)
{
	for (unsigned i = 0; i < res->nvols; i++)
		if (res->vols[i].part == part)
			return &res->vols[i];
	return NULL;
}

/* Phase 1: examine every volume read-only. */
static int plan_disk(struct lb_dev *disk, const struct lb_repair_opts *o,
		     struct lb_repair_result *res)
{
	struct vol_dev *vd = NULL;
	unsigned nvd = 0;
	int r;

	res->virtual_size = disk->size;
	r = list_volumes(disk, o, &vd, &nvd);
	if (r < 0)
		goto out;
	res->vols = calloc(nvd ? nvd : 1, sizeof(*res->vols));
	if (!res->vols) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < nvd; i++) {
		struct lb_fs_info info;
		struct lb_repair_volume *v;
		struct lb_fs *fs = NULL;

		r = lb_fs_probe(vd[i].dev, &info);
		if (r < 0) {
			/* unreadable: say so for this volume, go on with the others */
			v = &res->vols[res->nvols++];
			v->part = vd[i].part;
			v->err = r;
			lb_err_save(&v->error);
			continue;
		}
		if (!recipe_wants(o->recipe, info.kind))
			continue;
		v = &res->vols[res->nvols++];
		v->part = vd[i].part;
		v->kind = info.kind;
		v->dirty = info.dirty;
		v->hibernated = info.hibernated;
		lb_strlcpy(v->label, info.label, sizeof(v->label));
		lb_err_clear();
		r = lb_fs_open(vd[i].dev, LB_FS_RDONLY, &fs);
		if (r < 0) {
			v->err = r;
			lb_err_save(&v->error);
			continue;
		}
		for (unsigned k = 0; k < o->recipe->nactions && r >= 0; k++) {
			const struct lb_action *a = &o->recipe->actions[k];

			if (a->kind == LB_ACT_DELETE)
				r = plan_delete(fs, a, k, v->part, res);
			else
				r = plan_reg(fs, a, k, v->part, res);
		}
		lb_fs_close(fs);
		if (r == -ENOMEM || r == -EINTR)
			goto out;
		if (r < 0) {
			v->err = r;
			lb_err_save(&v->error);
		}
	}
	r = 0;
	for (unsigned i = 0; i < res->nitems; i++)
		if (res->items[i].state == LB_ITEM_CHANGE) {
			struct lb_repair_volume *v = vol_of(res, res->items[i].part);

			res->changes++;
			if (v)
				v->changes++;
		}
out:
	vol_devs_free(vd, nvd);
	return r;
}

int lb_repair_plan_disk(struct lb_dev *disk, const struct lb_repair_opts *o,
			struct lb_repair_result *res)
{
	int r;

	memset(res, 0, sizeof(*res));
	r = plan_disk(disk, o, res);
	if (r < 0) {
		res->status = LB_REPAIR_FAILED;
		res->err = r;
		lb_err_save(&res->error);
		return r;
	}
	res->status = res->changes ? LB_REPAIR_CHANGED : LB_REPAIR_CLEAN;
	return 0;
}

static int plan(const char *path, const struct lb_repair_opts *o, struct lb_repair_result *res)
{
	struct lb_image_opts io = {.read_only = true, .format = o->format};
	struct lb_image *img = NULL;
	int r;

	r = lb_image_open(path, &io, &img);
	if (r < 0)
		return r;
	lb_strlcpy(res->format, lb_image_format_name(img->format), sizeof(res->format));
	if (o->image_opened)
		o->image_opened(img);
	r = plan_disk(img->disk, o, res);
	lb_image_free(img);
	return r;
}

/* ---- apply ----------------------------------------------------------------------- */

static int apply_delete(struct lb_fs *fs, const char *qdir, struct lb_repair_item *it)
{
	struct lb_fs_stat st;
	uint8_t sha[LB_SHA256_LEN];
	int r;

	r = lb_fs_stat(fs, it->path, &st, NULL, 0);
	if (r < 0)
		return r;
	if (st.ino != it->st.ino || st.size != it->st.size ||
	    lb_timespec_cmp(&st.mtime, &it->st.mtime) || st.type != it->st.type)
		return lb_err(-ESTALE, it->path, "run the repair again",
			      "the file changed between planning and deleting");
	r = lb_quarantine_save(qdir, it->part, fs, it->path, &st, sha);
	if (r < 0)
		return r;
	if (it->hashed && memcmp(sha, it->sha256, sizeof(sha)))
		return lb_err(-ESTALE, it->path, "run the repair again",
			      "the file's content changed between planning and deleting");
	if (!it->hashed && st.type == LB_FT_FILE) {
		memcpy(it->sha256, sha, sizeof(sha));
		it->hashed = true;
	}
	return lb_fs_unlink(fs, it->path);
}

static int apply_reg(struct lb_fs *fs, const struct lb_action *a, struct lb_repair_item *it)
{
	struct lb_hive *h = NULL;
	int r;

	r = lb_hive_load(fs, it->path, true, &h, NULL);
	if (r < 0)
		return r;
	if (a->kind == LB_ACT_REG_SET) {
		struct lb_reg_value v = a->value;

		v.name = (char *)a->reg
				 .value; /* the spec holds the data; the path names the value */
		r = lb_hive_set_value(h, it->key, &v, false);
	} else {
		r = lb_hive_delete_value(h, it->key, a->reg.value);
	}
	if (r >= 0)
		r = lb_hive_store(h);
	lb_hive_free(h);
	return r;
}

/* Refuse before writing anything if a volume to change cannot be written safely. */
static int check_writable(const struct lb_repair_opts *o, struct lb_repair_result *res)
{
	for (unsigned i = 0; i < res->nitems && !o->allow_dirty_hive; i++) {
		const struct lb_repair_item *it = &res->items[i];

		if (it->state == LB_ITEM_CHANGE && it->hive_dirty)
			return lb_err(
				-EPERM, it->path,
				"boot Windows once and shut it down cleanly, or give "
				"--allow-dirty-hive to accept losing those last changes",
				"the hive's .LOG files hold changes not yet written into it, and "
				"lifeboat does not replay them; writing the hive would drop them");
	}
	for (unsigned i = 0; i < res->nvols; i++) {
		struct lb_repair_volume *v = &res->vols[i];
		const char *what = v->part ? "partition" : "the whole disk";

		if (!v->changes)
			continue;
		if (v->hibernated == 1)
			return lb_err(
				-EPERM, NULL,
				"boot Windows and shut it down fully (shutdown /s /t 0), or turn "
				"off Fast Startup, then repair again",
				"%s %u: the NTFS volume is hibernated (Fast Startup); writing it "
				"would lose the hibernated session and can corrupt it",
				what, v->part);
		if (v->dirty == 1 && !o->fix_dirty)
			return lb_err(
				-EPERM, NULL,
				"drop --no-dirty to reset the journal the way ntfsfix does",
				"%s %u: the volume is dirty (journal not clean) and --no-dirty "
				"was given",
				what, v->part);
	}
	return 0;
}

static int apply(const char *path, const struct lb_repair_opts *o, struct lb_repair_result *res,
		 char *undo_path, size_t undo_cap)
{
	struct lb_image_opts io = {.read_only = false, .format = o->format};
	struct lb_image *img = NULL;
	struct lb_undo *u = NULL;
	struct lb_undo_meta meta = {0};
	struct lb_dev *disk = NULL;
	struct vol_dev *vd = NULL;
	unsigned nvd = 0;
	char qdir[PATH_CAP];
	int r, r2;

	snprintf(undo_path, undo_cap, "%s/undo.log", o->run_dir);
	snprintf(qdir, sizeof(qdir), "%s/quarantine", o->run_dir);
	r = lb_image_open(path, &io, &img);
	if (r < 0)
		return r;
	if (img->disk->size != res->virtual_size) {
		r = lb_err(-ESTALE, path, "run the repair again", "the image changed size");
		goto out;
	}
	meta.virtual_size = img->disk->size;
	lb_strlcpy(meta.image_path, path, sizeof(meta.image_path));
	lb_strlcpy(meta.format, lb_image_format_name(img->format), sizeof(meta.format));
	{
		char *abs = realpath(path, NULL);

		r = lb_sha256(abs ? abs : path, strlen(abs ? abs : path), meta.identity);
		free(abs);
		if (r < 0)
			goto out;
	}
	r = lb_undo_create(undo_path, &meta, &u);
	if (r < 0)
		goto out;
	lb_undo_set_window(u, LB_UNDO_SAVE_WINDOW);
	r = lb_undo_dev_new(u, img->disk, &disk);
	if (r < 0)
		goto out;
	r = list_volumes(disk, o, &vd, &nvd);
	if (r < 0)
		goto out;
	for (unsigned i = 0; i < nvd && r >= 0; i++) {
		struct lb_repair_volume *v = vol_of(res, vd[i].part);
		struct lb_fs *fs = NULL;

		if (!v || !v->changes)
			continue;
		r = lb_fs_open(vd[i].dev, o->fix_dirty ? LB_FS_FIX_DIRTY : 0, &fs);
		if (r < 0)
			break;
		v->journal_reset = lb_fs_info(fs)->journal_reset;
		v->marked_for_chkdsk = lb_fs_info(fs)->marked_for_chkdsk;
		for (unsigned k = 0; k < res->nitems; k++) {
			struct lb_repair_item *it = &res->items[k];

			if (it->part != v->part || it->state != LB_ITEM_CHANGE)
				continue;
			if (lb_interrupted_check()) {
				r = lb_err(-EINTR, NULL, NULL, "interrupted");
				break;
			}
			if (it->kind == LB_ACT_DELETE)
				r = apply_delete(fs, qdir, it);
			else
				r = apply_reg(fs, &o->recipe->actions[it->action], it);
			if (r < 0) {
				lb_err_context("%s", it->path);
				break;
			}
		}
		r2 = lb_fs_close(fs);
		if (r >= 0 && r2 < 0)
			r = r2;
	}
	vol_devs_free(vd, nvd);
	vd = NULL;
	nvd = 0;
	if (r >= 0)
		r = lb_dev_flush(disk);
	if (r >= 0)
		r = lb_undo_commit(u, disk);
	if (r >= 0)
		res->undo_committed = true;
out:
	if (u) {
		res->undo_ranges = lb_undo_ranges(u);
		res->undo_bytes = lb_undo_bytes(u);
	}
	vol_devs_free(vd, nvd);
	lb_dev_unref(disk);
	r2 = 0;
	lb_image_free(img); /* flushes and stops qemu-nbd */
	lb_undo_free(u);
	return r < 0 ? r : r2;
}

/* Phase 3: re-read the image and check every change is in place. */
static int verify(const char *path, const struct lb_repair_opts *o, struct lb_repair_result *res)
{
	struct lb_image_opts io = {.read_only = true, .format = o->format, .fault_spec = ""};
	struct lb_image *img = NULL;
	struct vol_dev *vd = NULL;
	unsigned nvd = 0, ok = 0;
	int r;

	r = lb_image_open(path, &io, &img);
	if (r < 0)
		return r;
	r = list_volumes(img->disk, o, &vd, &nvd);
	for (unsigned i = 0; i < nvd && r >= 0; i++) {
		struct lb_repair_volume *v = vol_of(res, vd[i].part);
		struct lb_fs *fs = NULL;

		if (!v || !v->changes)
			continue;
		r = lb_fs_open(vd[i].dev, LB_FS_RDONLY, &fs);
		if (r < 0)
			break;
		for (unsigned k = 0; k < res->nitems; k++) {
			struct lb_repair_item *it = &res->items[k];
			struct lb_fs_stat st;

			if (it->part != v->part || it->state != LB_ITEM_CHANGE)
				continue;
			if (it->kind == LB_ACT_DELETE) {
				it->done = lb_fs_stat(fs, it->path, &st, NULL, 0) == -ENOENT;
			} else {
				const struct lb_action *a = &o->recipe->actions[it->action];
				struct lb_hive *h = NULL;
				struct lb_reg_value cur = {0};
				int g;

				if (lb_hive_load(fs, it->path, false, &h, NULL) < 0)
					continue;
				g = lb_hive_get_value(h, it->key, a->reg.value, &cur);
				if (a->kind == LB_ACT_REG_DELETE)
					it->done = g == -ENOENT;
				else
					it->done = g == 0 && cur.type == a->value.type &&
						   cur.len == a->value.len &&
						   !memcmp(cur.data, a->value.data, cur.len);
				lb_reg_value_release(&cur);
				lb_hive_free(h);
			}
			if (it->done)
				ok++;
			else
				snprintf(it->reason, sizeof(it->reason),
					 "the change is not there when the image is read again");
		}
		lb_fs_close(fs);
	}
	vol_devs_free(vd, nvd);
	lb_image_free(img);
	res->done = ok;
	res->verified = r >= 0 && ok == res->changes;
	return r;
}

int lb_repair_rollback(const char *image, enum lb_image_format format, const char *undo_log,
		       uint64_t *ranges_out)
{
	struct lb_image_opts io = {.read_only = false, .format = format, .fault_spec = ""};
	struct lb_undo_info info;
	struct lb_undo_result ur = {0};
	struct lb_image *img = NULL;
	int r;

	r = lb_undo_read_info(undo_log, &info);
	if (r < 0)
		return r;
	r = lb_image_open(image, &io, &img);
	if (r < 0)
		return r;
	r = lb_undo_apply(undo_log, img->disk, info.committed ? 0 : LB_UNDO_FORCE, &ur);
	lb_image_free(img);
	if (ranges_out)
		*ranges_out = ur.ranges;
	return r;
}

int lb_repair_image(const char *path, const struct lb_repair_opts *o, struct lb_repair_result *res)
{
	char undo_path[PATH_CAP];
	int r;

	memset(res, 0, sizeof(*res));
	lb_err_clear();
	r = plan(path, o, res);
	if (r < 0)
		goto failed;
	if (!res->changes) {
		res->status = LB_REPAIR_CLEAN;
		/* a volume that could not be examined may hide what the recipe looks for */
		for (unsigned i = 0; i < res->nvols; i++)
			if (res->vols[i].err < 0) {
				lb_err_restore(&res->vols[i].error);
				r = res->vols[i].err;
				res->status = r == -EPERM ? LB_REPAIR_REFUSED : LB_REPAIR_FAILED;
				res->err = r;
				lb_err_save(&res->error);
				if (!res->vols[i].part)
					lb_err_context("whole disk");
				else
					lb_err_context("partition %u", res->vols[i].part);
				lb_err_save(&res->error);
				return r;
			}
		return 0;
	}
	r = check_writable(o, res);
	if (r < 0) {
		res->status = LB_REPAIR_REFUSED;
		res->err = r;
		lb_err_save(&res->error);
		return r;
	}
	res->status = LB_REPAIR_CHANGED;
	if (o->dry_run)
		return 0;
	r = apply(path, o, res, undo_path, sizeof(undo_path));
	if (r < 0) {
		struct lb_error save;
		uint64_t n = 0;
		int rb;

		lb_err_save(&save);
		/* put back every byte written so far */
		rb = res->undo_ranges || access(undo_path, F_OK) == 0
			     ? lb_repair_rollback(path, o->format, undo_path, &n)
			     : 0;
		lb_err_restore(&save);
		if (rb < 0)
			lb_err_context("rolling back also failed (%s); run 'lifeboat undo %s'",
				       strerror(-rb), undo_path);
		goto failed;
	}
	r = verify(path, o, res);
	if (r < 0)
		goto failed;
	return 0;
failed:
	res->status = r == -EPERM ? LB_REPAIR_REFUSED : LB_REPAIR_FAILED;
	res->err = r;
	lb_err_save(&res->error);
	if (!res->error.code)
		res->error.code = r;
	return r;
}
