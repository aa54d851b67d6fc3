/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_ls.c - lifeboat ls IMAGE [[PART:]PATH]: list a folder (or show one
 * file) of a file system inside an image, read-only.
 *
 * Without PATH, the root of every volume lifeboat can open is listed, one
 * block per partition. With PATH and no partition named, every volume that
 * holds PATH is listed; volumes that could not be searched are warned about.
 * Folders are sorted by name the way the file system compares names (NTFS:
 * case-insensitively), so that the output is stable.
 */
#include "cli/cli.h"
#include "cli/volume.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/json.h"
#include "base/timefmt.h"
#include "base/util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* What one volume shows: the folder's entries, or the one file. */
struct listing {
	const struct lb_vol *vol;
	struct lb_vol_list list;
	int err; /* a recorded error while listing, or 0 */
	struct lb_error error;
};

/* Fill @l with what @hit names: the folder's entries, or the one file. */
static int list_hit(const struct lb_vol_hit *hit, struct listing *l)
{
	int r;

	l->vol = hit->vol;
	if (hit->st.type != LB_FT_DIR) {
		const char *slash = strrchr(hit->stored, '/');

		r = lb_vol_list_add(&l->list, slash ? slash + 1 : hit->stored, &hit->st);
		if (r == 0)
			lb_vol_list_targets(hit->vol, &l->list, hit->stored, true);
		return r;
	}
	lb_err_clear();
	r = lb_vol_list_dir(hit->vol, hit->stored, &l->list);
	if (r == 0)
		lb_vol_list_targets(hit->vol, &l->list, hit->stored, false);
	return r;
}

/* ---- text ---------------------------------------------------------------------- */

static unsigned digits(uint64_t v)
{
	unsigned n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static const char *fmt_time(const struct timespec *t, bool unknown, char *buf, size_t cap)
{
	if (unknown) {
		snprintf(buf, cap, "%-20s", "-");
		return buf;
	}
	return lb_format_time(t, 0, buf, cap);
}

static void mode_string(const struct lb_fs_stat *st, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";
	uint32_t m = st->mode;

	out[0] = lb_vol_type_char(st);
	for (int i = 0; i < 9; i++)
		out[1 + i] = (m & (0400u >> i)) ? rwx[i] : '-';
	if (m & S_ISUID)
		out[3] = (m & 0100) ? 's' : 'S';
	if (m & S_ISGID)
		out[6] = (m & 0010) ? 's' : 'S';
	if (m & S_ISVTX)
		out[9] = (m & 0001) ? 't' : 'T';
	out[10] = '\0';
}

static void print_listing(const struct listing *l, bool lng)
{
	bool ntfs = l->vol->kind == LB_FS_NTFS;
	unsigned wsize = 1, wuid = 1, wgid = 1, wshort = 1;
	char t1[64], t2[64], t3[64], t4[64];

	for (size_t i = 0; i < l->list.n; i++) {
		const struct lb_fs_stat *st = &l->list.e[i].st;

		wsize = LB_MAX(wsize, digits(st->size));
		wuid = LB_MAX(wuid, digits(st->uid));
		wgid = LB_MAX(wgid, digits(st->gid));
		wshort = LB_MAX(wshort, (unsigned)strlen(st->short_name));
	}
	for (size_t i = 0; i < l->list.n; i++) {
		const struct lb_vol_ent *e = &l->list.e[i];
		const struct lb_fs_stat *st = &e->st;

		if (!lng) {
			printf("%c  %*" PRIu64 "  %s  ", lb_vol_type_char(st), (int)wsize, st->size,
			       fmt_time(&st->mtime, false, t1, sizeof(t1)));
		} else if (ntfs) {
			char attrs[16];

			printf("%c  %-5s  %*" PRIu64 "  %s  %s  %s  %s  %-*s  ",
			       lb_vol_type_char(st),
			       lb_vol_attr_letters(st->attributes, attrs, sizeof(attrs)),
			       (int)wsize, st->size, fmt_time(&st->mtime, false, t1, sizeof(t1)),
			       fmt_time(&st->btime, false, t2, sizeof(t2)),
			       fmt_time(&st->ctime, false, t3, sizeof(t3)),
			       fmt_time(&st->atime, false, t4, sizeof(t4)), (int)wshort,
			       st->short_name[0] ? st->short_name : "-");
		} else {
			char mode[11];

			mode_string(st, mode);
			printf("%s  %*" PRIu32 "  %*" PRIu32 "  %*" PRIu64 "  %s  %s  %s  %s  ",
			       mode, (int)wuid, st->uid, (int)wgid, st->gid, (int)wsize, st->size,
			       fmt_time(&st->mtime, false, t1, sizeof(t1)),
			       fmt_time(&st->btime, !st->btime.tv_sec && !st->btime.tv_nsec, t2,
					sizeof(t2)),
			       fmt_time(&st->ctime, false, t3, sizeof(t3)),
			       fmt_time(&st->atime, false, t4, sizeof(t4)));
		}
		lb_vol_print_name(stdout, e->name);
		if (st->type == LB_FT_SYMLINK && e->target) {
			fputs(" -> ", stdout);
			lb_vol_print_name(stdout, e->target);
		}
		putchar('\n');
	}
}

/* ---- JSON ---------------------------------------------------------------------- */

static void json_listing(struct lb_json *j, const struct lb_volumes *vs,
			 const struct lb_vol_hit *hit, const struct listing *l)
{
	const struct lb_vol *v = hit->vol;

	lb_json_begin_object(j, NULL);
	lb_json_u64(j, "partition", v->part);
	lb_json_string(j, "filesystem", lb_fs_kind_name(v->kind));
	lb_json_string(j, "label", v->label[0] ? v->label : NULL);
	lb_json_string(j, "path", hit->stored);
	lb_json_string(j, "type", lb_ftype_name(hit->st.type));
	lb_json_begin_array(j, "entries");
	for (size_t i = 0; !l->err && i < l->list.n; i++) {
		lb_json_begin_object(j, NULL);
		lb_vol_json_stat(j, v, l->list.e[i].name, &l->list.e[i].st, l->list.e[i].target);
		lb_json_end_object(j);
	}
	lb_json_end_array(j);
	if (l->err)
		lb_vol_json_error(j, "error", vs->image, &l->error);
	else
		lb_json_null(j, "error");
	lb_json_end_object(j);
}

static void json_begin(struct lb_json *j, const char *image)
{
	lb_json_init(j, stdout, LB_JSON_PRETTY);
	lb_json_begin_object(j, NULL);
	lb_json_u64(j, "version", 1);
	lb_json_string(j, "image", image);
}

static void json_end(struct lb_json *j, const struct lb_volumes *vs, const struct lb_error *err)
{
	lb_volumes_json_skipped(j, vs);
	if (err)
		lb_vol_json_error(j, "error", vs->image, err);
	else
		lb_json_null(j, "error");
	lb_json_end_object(j);
	lb_json_finish(j);
}

/* ---- the command --------------------------------------------------------------- */

int cmd_ls(int argc, char **argv, const struct lb_cmd *cmd)
{
	struct lb_vol_opts vo = {0};
	int lng = 0;
	const struct lb_option opts[] = {
		{LB_OPT_BOOL, 'l', "long", &lng, NULL,
		 "also the creation, change and access times; NTFS attributes and 8.3 name; "
		 "ext mode, owner and group"},
		LB_VOL_OPTIONS(&vo),
		{LB_OPT_END},
	};
	const char *image, *path = NULL;
	enum lb_image_format fmt;
	struct lb_volumes vs;
	struct lb_vol_hit *hits = NULL;
	unsigned nhits = 0, ok = 0, bad = 0;
	struct lb_error err;
	struct lb_json j;
	int n, r, code = 0;

	n = lb_parse_options(argc, argv, opts, cmd);
	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (n == 0)
		return lb_cli_usage("no image given");
	if (n > 2)
		return lb_cli_usage("unexpected argument '%s' (one image and one path)", argv[3]);
	image = argv[1];
	if (n == 2 && (r = lb_vol_split_operand(argv[2], &vo, &path)) != 0)
		return r;
	if ((r = lb_vol_opts_validate(&vo, &fmt)) != 0)
		return r;

	if (lb_cli.json)
		json_begin(&j, image);
	lb_err_clear();
	r = lb_volumes_open(image, &vo, &vs);
	if (r < 0) {
		lb_err_save(&err);
		code = lb_cli_error(image);
		goto out_fail;
	}
	r = lb_volumes_need_one(&vs);
	if (r < 0) {
		lb_err_save(&err);
		code = lb_volumes_print_none(&vs);
		goto out_fail;
	}
	r = lb_volumes_locate(&vs, path ? path : "", &hits, &nhits);
	if (r < 0) {
		lb_err_save(&err);
		if (r == -ENOENT)
			lb_volumes_report(&vs, true);
		code = lb_cli_print_error(image, &err);
		goto out_fail;
	}
	/* without a path, a volume that cannot be read is a hole in the answer */
	if (path) {
		lb_volumes_report(&vs, true);
	} else if (lb_volumes_failed_count(&vs)) {
		code = lb_volumes_report(&vs, false);
		bad++;
	}

	if (lb_cli.json)
		lb_json_begin_array(&j, "volumes");
	for (unsigned i = 0; i < nhits; i++) {
		struct listing l = {0};
		char desc[512];

		r = list_hit(&hits[i], &l);
		if (r < 0) {
			if (!lb_err_last()->code)
				lb_err_errno(r, hits[i].stored, "listing the folder");
			if (hits[i].vol->part)
				lb_err_context("partition %u", hits[i].vol->part);
			lb_err_save(&l.error);
			l.err = r;
			code = lb_cli_print_error(image, &l.error);
			bad++;
		} else {
			ok++;
		}
		if (lb_cli.json) {
			json_listing(&j, &vs, &hits[i], &l);
		} else if (!l.err) {
			if (i)
				putchar('\n');
			printf("%s: ", lb_vol_describe(hits[i].vol, desc, sizeof(desc)));
			lb_vol_print_name(stdout, hits[i].stored[0] ? hits[i].stored : "/");
			putchar('\n');
			print_listing(&l, lng);
		}
		lb_vol_list_release(&l.list);
	}
	if (lb_cli.json) {
		lb_json_end_array(&j);
		json_end(&j, &vs, NULL);
	}
	lb_vol_hits_free(hits, nhits);
	lb_volumes_release(&vs);
	if (!bad)
		return LB_EXIT_OK;
	return ok ? LB_EXIT_PARTIAL : code;

out_fail:
	if (lb_cli.json) {
		lb_json_begin_array(&j, "volumes");
		lb_json_end_array(&j);
		json_end(&j, &vs, &err);
	}
	lb_volumes_release(&vs);
	return code;
}
