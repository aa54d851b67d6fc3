/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_find.c - lifeboat find IMAGE --name GLOB [--path DIR]: search the file
 * systems inside an image for names matching a glob, read-only.
 *
 * The walk goes depth-first, each folder in sorted order (so the output is
 * stable), never follows symlinks or junctions, visits each folder once (a
 * damaged file system whose folders loop cannot make it spin), stops at
 * FIND_MAX_DEPTH levels, and checks for Ctrl-C between folders. Names
 * compare the way the volume compares them: on NTFS in any case, folded
 * with the volume's own $UpCase table.
 */
#include "cli/cli.h"
#include "cli/volume.h"
#include "base/err.h"
#include "base/json.h"
#include "base/timefmt.h"
#include "base/util.h"
#include "repair/recipe.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define FIND_MAX_DEPTH 64
#define FIND_PATH_CAP 4096
#define FIND_MAX_ERRORS 64 /* walk errors kept for the JSON report */

/* The folders already walked in one volume, by inode (open addressing). */
struct inoset {
	uint64_t *slot; /* 0 is free; inode numbers are stored + 1 */
	size_t cap, n;
};

static int inoset_add(struct inoset *s, uint64_t ino)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		uint64_t *slot = calloc(cap, sizeof(*slot));

		if (!slot)
			return -ENOMEM;
		for (size_t k = 0; k < s->cap; k++) {
			if (!s->slot[k])
				continue;
			for (i = (size_t)(s->slot[k] * 0x9e3779b97f4a7c15ull) & (cap - 1); slot[i];
			     i = (i + 1) & (cap - 1))
				;
			slot[i] = s->slot[k];
		}
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
	for (i = (size_t)((ino + 1) * 0x9e3779b97f4a7c15ull) & (s->cap - 1); s->slot[i];
	     i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == ino + 1)
			return 0; /* seen */
	s->slot[i] = ino + 1;
	s->n++;
	return 1;
}

struct walk_error {
	unsigned part;
	struct lb_error e;
};

struct walk {
	const char *image;
	const char *glob;
	unsigned types; /* 1 << enum lb_ftype */
	unsigned max_depth;
	struct lb_vol *vol;
	struct inoset seen;
	char path[FIND_PATH_CAP];
	struct lb_json *j;
	uint64_t matches, entries;
	unsigned errors;
	int first_code;
	bool depth_warned;
	struct walk_error *errs; /* up to FIND_MAX_ERRORS, for JSON */
	unsigned nerrs;
};

static uint32_t fold(const void *ctx, uint32_t cp)
{
	return lb_fs_upcase(ctx, cp);
}

/* A folder (or entry) that could not be read: print it, keep it, go on. */
static void walk_failed(struct walk *w, int r, const char *path)
{
	int code;

	if (!lb_err_last()->code)
		lb_err_errno(r, path[0] ? path : "/", "reading the folder");
	if (w->vol->part)
		lb_err_context("partition %u", w->vol->part);
	lb_err_default_hint("the file system may be damaged; see 'lifeboat inspect IMAGE'");
	code = lb_cli_error(w->image);
	if (!w->first_code)
		w->first_code = code;
	w->errors++;
	if (w->nerrs < FIND_MAX_ERRORS) {
		w->errs[w->nerrs].part = w->vol->part;
		lb_err_save(&w->errs[w->nerrs].e);
		w->nerrs++;
	}
}

static void emit(struct walk *w, const struct lb_vol_ent *e)
{
	char t[64];

	w->matches++;
	if (w->j) {
		lb_json_begin_object(w->j, NULL);
		lb_json_u64(w->j, "partition", w->vol->part);
		lb_json_string(w->j, "filesystem", lb_fs_kind_name(w->vol->kind));
		lb_json_string(w->j, "path", w->path);
		lb_vol_json_stat(w->j, w->vol, e->name, &e->st, e->target);
		lb_json_end_object(w->j);
		return;
	}
	printf("%u:", w->vol->part);
	lb_vol_print_name(stdout, w->path);
	printf("  %" PRIu64 "  %s\n", e->st.size, lb_format_time(&e->st.mtime, 0, t, sizeof(t)));
}

static bool matches(struct walk *w, const struct lb_vol_ent *e)
{
	if (!(w->types & (1u << e->st.type)))
		return false;
	return lb_glob_match(w->glob, e->name, lb_fs_case_insensitive(w->vol->fs) ? fold : NULL,
			     w->vol->fs);
}

/* Walk the folder whose path is w->path[0..plen). */
static int walk_dir(struct walk *w, size_t plen, unsigned depth)
{
	struct lb_vol_list l = {0};
	int r = 0;

	if (lb_interrupted_check())
		return -EINTR;
	lb_err_clear();
	r = lb_vol_list_dir(w->vol, w->path, &l);
	if (r < 0) {
		if (r == -ENOMEM)
			return r;
		walk_failed(w, r, w->path);
		lb_vol_list_release(&l);
		return 0;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct lb_vol_ent *e = &l.e[i];
		size_t nlen = strlen(e->name);

		w->entries++;
		if (plen + 1 + nlen >= sizeof(w->path)) {
			lb_cli_warn(w->image,
				    "partition %u: skipped a name in %s: the path is "
				    "longer than %d bytes",
				    w->vol->part, plen ? w->path : "/", FIND_PATH_CAP - 1);
			continue;
		}
		if (plen)
			w->path[plen] = '/';
		memcpy(w->path + plen + (plen ? 1 : 0), e->name, nlen + 1);
		if (matches(w, e)) {
			struct lb_vol_list one = {.e = e, .n = 1, .cap = 1};

			if (e->st.type == LB_FT_SYMLINK && !e->target)
				lb_vol_list_targets(w->vol, &one, w->path, true);
			emit(w, e);
		}
		if (e->st.type == LB_FT_DIR) {
			if (depth + 1 >= w->max_depth) {
				if (w->max_depth == FIND_MAX_DEPTH && !w->depth_warned) {
					lb_cli_warn(w->image,
						    "partition %u: not descending below %u "
						    "folder levels (at %s)",
						    w->vol->part, FIND_MAX_DEPTH, w->path);
					w->depth_warned = true;
				}
			} else {
				r = inoset_add(&w->seen, e->st.ino);
				if (r > 0)
					r = walk_dir(w, plen + (plen ? 1 : 0) + nlen, depth + 1);
				if (r < 0)
					break;
				r = 0;
			}
		}
		w->path[plen] = '\0';
	}
	w->path[plen] = '\0';
	lb_vol_list_release(&l);
	return r;
}

static int walk_hit(struct walk *w, const struct lb_vol_hit *hit)
{
	size_t len = strlen(hit->stored);
	int r;

	w->vol = hit->vol;
	free(w->seen.slot);
	memset(&w->seen, 0, sizeof(w->seen));
	w->depth_warned = false;
	if (len >= sizeof(w->path))
		return lb_err(-ENAMETOOLONG, hit->stored, NULL, "the path is too long");
	memcpy(w->path, hit->stored, len + 1);
	if (hit->st.type != LB_FT_DIR) {
		/* --path names a file: test that one */
		struct lb_vol_ent e = {.st = hit->st};
		const char *slash = strrchr(hit->stored, '/');

		e.name = (char *)(slash ? slash + 1 : hit->stored);
		if (matches(w, &e)) {
			struct lb_vol_list one = {.e = &e, .n = 1, .cap = 1};

			lb_vol_list_targets(w->vol, &one, w->path, true);
			emit(w, &e);
			free(e.target);
		}
		return 0;
	}
	r = inoset_add(&w->seen, hit->st.ino);
	if (r < 0)
		return r;
	return walk_dir(w, len, 0);
}

static int parse_types(const char *s, unsigned *out)
{
	*out = 0;
	for (; *s; s++) {
		switch (*s) {
		case 'f':
			*out |= 1u << LB_FT_FILE;
			break;
		case 'd':
			*out |= 1u << LB_FT_DIR;
			break;
		case 'l':
			*out |= 1u << LB_FT_SYMLINK;
			break;
		case 'o':
			*out |= 1u << LB_FT_OTHER;
			break;
		case ',':
			break;
		default:
			return -EINVAL;
		}
	}
	return *out ? 0 : -EINVAL;
}

int cmd_find(int argc, char **argv, const struct lb_cmd *cmd)
{
	struct lb_vol_opts vo = {0};
	const char *glob = "*", *dir = NULL, *type = NULL;
	unsigned max_depth = FIND_MAX_DEPTH;
	const struct lb_option opts[] = {
		{LB_OPT_STRING, 0, "name", &glob, "GLOB",
		 "names to find: * ? [a-z] [!a-z] (default: every name); on NTFS in any case"},
		{LB_OPT_STRING, 0, "path", &dir, "DIR",
		 "search below this folder ([PART:]DIR, as for ls; default: the root)"},
		{LB_OPT_STRING, 0, "type", &type, "f|d|l",
		 "only files (f), folders (d) or symlinks (l); several: f,l"},
		{LB_OPT_UINT, 0, "max-depth", &max_depth, "N",
		 "descend at most N folder levels below DIR (default and limit: 64)"},
		LB_VOL_OPTIONS(&vo),
		{LB_OPT_END},
	};
	const char *image;
	enum lb_image_format fmt;
	struct lb_volumes vs;
	struct lb_vol_hit *hits = NULL;
	unsigned nhits = 0, walked = 0,
		 types = (1u << LB_FT_FILE) | (1u << LB_FT_DIR) | (1u << LB_FT_SYMLINK) |
			 (1u << LB_FT_OTHER);
	struct walk w;
	struct lb_error err;
	struct lb_json j;
	bool failed = false, interrupted = false, holes = false;
	int n, r, code = 0;

	n = lb_parse_options(argc, argv, opts, cmd);
	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (n == 0)
		return lb_cli_usage("no image given");
	if (n > 1)
		return lb_cli_usage("unexpected argument '%s' (give the folder with --path)",
				    argv[2]);
	image = argv[1];
	if (!glob[0] || strchr(glob, '/') || strchr(glob, '\\'))
		return lb_cli_usage("--name: '%s' is not a name pattern (a folder goes in --path)",
				    glob);
	if (type && parse_types(type, &types) < 0)
		return lb_cli_usage("--type: '%s' is not f, d or l (or several, as f,l)", type);
	if (max_depth < 1 || max_depth > FIND_MAX_DEPTH)
		return lb_cli_usage("--max-depth: %u is not between 1 and %u", max_depth,
				    FIND_MAX_DEPTH);
	if (dir && (r = lb_vol_split_operand(dir, &vo, &dir)) != 0)
		return r;
	if ((r = lb_vol_opts_validate(&vo, &fmt)) != 0)
		return r;
	lb_cli_install_signals();

	memset(&w, 0, sizeof(w));
	w.image = image;
	w.glob = glob;
	w.types = types;
	w.max_depth = max_depth;
	w.errs = calloc(FIND_MAX_ERRORS, sizeof(*w.errs));
	if (!w.errs)
		return LB_EXIT_FAILURE;
	if (lb_cli.json) {
		lb_json_init(&j, stdout, LB_JSON_PRETTY);
		lb_json_begin_object(&j, NULL);
		lb_json_u64(&j, "version", 1);
		lb_json_string(&j, "image", image);
		lb_json_string(&j, "name", glob);
		lb_json_string(&j, "path", dir);
		w.j = &j;
	}

	lb_err_clear();
	r = lb_volumes_open(image, &vo, &vs);
	if (r < 0) {
		lb_err_save(&err);
		code = lb_cli_error(image);
		failed = true;
	} else if (lb_volumes_need_one(&vs) < 0) {
		lb_err_save(&err);
		code = lb_volumes_print_none(&vs);
		failed = true;
	} else if ((r = lb_volumes_locate(&vs, dir ? dir : "", &hits, &nhits)) < 0) {
		lb_err_save(&err);
		if (r == -ENOENT)
			lb_volumes_report(&vs, true);
		code = lb_cli_print_error(image, &err);
		failed = true;
	}
	if (failed) {
		if (lb_cli.json)
			lb_json_begin_array(&j, "matches");
		goto out;
	}
	/* a volume that could not be searched is a hole in the answer */
	if (lb_volumes_failed_count(&vs)) {
		code = lb_volumes_report(&vs, false);
		holes = true;
	}

	if (lb_cli.json)
		lb_json_begin_array(&j, "matches");
	for (unsigned i = 0; i < nhits; i++) {
		r = walk_hit(&w, &hits[i]);
		if (r == -EINTR) {
			interrupted = true;
			break;
		}
		if (r < 0) {
			walk_failed(&w, r, hits[i].stored);
			continue;
		}
		walked++;
	}
	free(w.seen.slot);
	if (interrupted) {
		lb_err_clear();
		lb_err(-EINTR, NULL, "run it again to search everything",
		       "interrupted; the matches above are not all there are");
		lb_err_save(&err);
		code = lb_cli_error(image);
		failed = true;
	}

out:
	if (lb_cli.json) {
		lb_json_end_array(&j);
		lb_json_begin_array(&j, "searched");
		for (unsigned i = 0; i < nhits; i++)
			lb_json_u64(&j, NULL, hits[i].vol->part);
		lb_json_end_array(&j);
		lb_volumes_json_skipped(&j, &vs);
		lb_json_begin_array(&j, "errors");
		for (unsigned i = 0; i < w.nerrs; i++) {
			lb_json_begin_object(&j, NULL);
			lb_json_u64(&j, "partition", w.errs[i].part);
			lb_vol_json_error(&j, "error", image, &w.errs[i].e);
			lb_json_end_object(&j);
		}
		lb_json_end_array(&j);
		lb_json_u64(&j, "count", w.matches);
		if (failed)
			lb_vol_json_error(&j, "error", image, &err);
		else
			lb_json_null(&j, "error");
		lb_json_end_object(&j);
		lb_json_finish(&j);
	}
	lb_vol_hits_free(hits, nhits);
	lb_volumes_release(&vs);
	free(w.errs);
	if (failed)
		return code;
	if (!w.errors && !holes)
		return LB_EXIT_OK;
	return walked ? LB_EXIT_PARTIAL : (w.first_code ? w.first_code : code);
}
