/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * volume.c - open an image's volumes read-only for ls, find, cat and reg,
 * pick the ones that hold a path, and print what they share (see volume.h).
 */
#include "cli/volume.h"
#include "base/cleanup.h"
#include "base/timefmt.h"
#include "base/util.h"
#include "io/ptable.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define VOL_PATH_CAP 4097
#define VOL_PART_MAX 100000u

/* ---- options ------------------------------------------------------------------ */

static int parse_part(const char *s, size_t len, unsigned *out)
{
	unsigned v = 0;

	if (!len || len > 6)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > VOL_PART_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

int lb_vol_partition_cb(const struct lb_option *opt, const char *arg)
{
	struct lb_vol_opts *o = opt->value;
	unsigned part;

	if (!arg || parse_part(arg, strlen(arg), &part) < 0) {
		lb_cli_usage("--partition: '%s' is not a partition number (see 'lifeboat inspect')",
			     arg ? arg : "");
		return -1;
	}
	o->has_part = true;
	o->part = part;
	return 0;
}

/* A path users typed must normalize ('..' is refused, ...): a usage error otherwise. */
static int check_path(const char *path)
{
	_cleanup_free_ char *norm = malloc(VOL_PATH_CAP);

	if (!norm)
		return LB_EXIT_FAILURE;
	lb_err_clear();
	if (lb_path_normalize(path, norm, VOL_PATH_CAP, true) < 0) {
		lb_err_default_hint("write the path from the root of the volume");
		lb_cli_error(NULL);
		return LB_EXIT_USAGE;
	}
	return 0;
}

int lb_vol_split_operand(const char *arg, struct lb_vol_opts *o, const char **path)
{
	size_t n = 0;
	unsigned part;

	while (arg[n] >= '0' && arg[n] <= '9')
		n++;
	if (!n || arg[n] != ':') {
		*path = arg;
		return check_path(arg);
	}
	if (parse_part(arg, n, &part) < 0)
		return lb_cli_usage("'%.*s' is not a partition number (see 'lifeboat inspect')",
				    (int)n, arg);
	if (o->has_part && o->part != part)
		return lb_cli_usage("'%s' names partition %u, but --partition says %u", arg, part,
				    o->part);
	o->has_part = true;
	o->part = part;
	*path = arg + n + 1;
	return check_path(*path);
}

int lb_vol_opts_validate(const struct lb_vol_opts *o, enum lb_image_format *fmt)
{
	*fmt = LB_FMT_AUTO;
	if (o->format && lb_image_format_parse(o->format, fmt) < 0)
		return lb_cli_usage("--format: '%s' is not one of raw, vhd, vhdx, qcow2, vmdk, vdi",
				    o->format);
	return 0;
}

/* ---- opening ------------------------------------------------------------------ */

static bool is_container(const struct lb_part *p)
{
	return p->mbr_type == 0x05 || p->mbr_type == 0x0f || p->mbr_type == 0x85;
}

/* The file system kind from the first bytes, for volumes lb_fs_open() refused. */
static enum lb_fs_kind probe_kind(struct lb_dev *dev)
{
	size_t len = (size_t)LB_MIN(dev->size, (uint64_t)LB_FS_PROBE_LEN);
	_cleanup_free_ uint8_t *buf = NULL;
	struct lb_fs_info info;
	struct lb_error save;

	if (!len)
		return LB_FS_EMPTY;
	buf = malloc(len);
	if (!buf)
		return LB_FS_UNKNOWN;
	lb_err_save(&save);
	if (lb_dev_pread(dev, buf, len, 0) < 0) {
		lb_err_restore(&save);
		return LB_FS_UNKNOWN;
	}
	lb_fs_probe_buf(buf, len, dev->size, &info);
	return info.kind;
}

static void open_volume(struct lb_dev *dev, struct lb_vol *v)
{
	const struct lb_fs_open_info *info;
	int r;

	lb_err_clear();
	r = lb_fs_open(dev, LB_FS_RDONLY, &v->fs);
	if (r == 0) {
		info = lb_fs_info(v->fs);
		v->kind = info->kind;
		lb_strlcpy(v->label, info->label, sizeof(v->label));
		return;
	}
	v->fs = NULL;
	v->err = r;
	if (!lb_err_last()->code)
		lb_err_errno(r, NULL, "opening the file system");
	if (r == -EMEDIUMTYPE)
		lb_err_default_hint("name a partition that holds NTFS or ext2/3/4 "
				    "(see 'lifeboat inspect IMAGE')");
	else
		lb_err_default_hint("see 'lifeboat inspect IMAGE' for the state of the volume");
	if (v->part)
		lb_err_context("partition %u", v->part);
	lb_err_save(&v->error);
	v->kind = probe_kind(dev);
}

int lb_volumes_open(const char *image, const struct lb_vol_opts *o, struct lb_volumes *vs)
{
	struct lb_image_opts io = {.read_only = true, .force_share = o->force_share != 0};
	struct lb_ptable pt;
	struct lb_fs *fs = NULL;
	unsigned k = 0;
	int r;

	memset(vs, 0, sizeof(*vs));
	memset(&pt, 0, sizeof(pt));
	vs->image = image;
	vs->part_given = o->has_part;
	if (o->format && lb_image_format_parse(o->format, &io.format) < 0)
		return lb_err(-EINVAL, "--format", NULL, "'%s' is not an image format", o->format);
	r = lb_cli_snapshot_fs(image, &fs);
	if (r < 0)
		return r;
	if (r > 0) {
		/* a file-tree snapshot: one volume, with no disk below it */
		if (o->has_part && o->part != 0) {
			lb_fs_close(fs);
			return lb_err(-ENOENT, "partition", "leave the partition out",
				      "a file-tree snapshot has no partitions");
		}
		vs->v = calloc(1, sizeof(*vs->v));
		if (!vs->v) {
			lb_fs_close(fs);
			return -ENOMEM;
		}
		vs->v[0].fs = fs;
		vs->v[0].kind = LB_FS_FILES;
		lb_strlcpy(vs->v[0].label, lb_fs_info(fs)->label, sizeof(vs->v[0].label));
		vs->n = 1;
		return 0;
	}
	r = lb_image_open(image, &io, &vs->img);
	if (r < 0)
		return r;
	r = lb_ptable_read(vs->img->disk, &pt);
	if (r < 0)
		return r;
	vs->v = calloc(pt.n ? pt.n : 1, sizeof(*vs->v));
	if (!vs->v) {
		r = -ENOMEM;
		goto out;
	}
	if (pt.kind == LB_PTABLE_NONE) {
		if (!o->has_part || o->part == 0) {
			open_volume(vs->img->disk, &vs->v[0]);
			k = 1;
		}
	} else {
		for (unsigned i = 0; i < pt.n; i++) {
			const struct lb_part *p = &pt.parts[i];
			struct lb_dev *dev;

			if (is_container(p) || (o->has_part && p->number != o->part))
				continue;
			r = lb_part_dev_new(vs->img->disk, p, &dev);
			if (r < 0)
				goto out;
			vs->v[k].part = p->number;
			open_volume(dev, &vs->v[k]);
			lb_dev_unref(dev);
			k++;
		}
	}
	vs->n = k;
	r = 0;
	if (o->has_part && !k) {
		char have[256] = "", object[32];
		bool container = false;
		size_t len = 0;

		for (unsigned i = 0; i < pt.n && len < sizeof(have); i++)
			if (!is_container(&pt.parts[i]))
				len += (size_t)snprintf(have + len, sizeof(have) - len, "%s%u",
							len ? ", " : "", pt.parts[i].number);
		snprintf(object, sizeof(object), "partition %u", o->part);
		for (unsigned i = 0; i < pt.n; i++)
			if (pt.parts[i].number == o->part)
				container = true;
		if (container)
			r = lb_err(-ENOENT, object, "name one of the logical partitions in it",
				   "an extended partition holds no file system (the image has %s)",
				   have);
		else if (pt.kind == LB_PTABLE_NONE)
			r = lb_err(-ENOENT, object, "name it 0, or leave the partition out",
				   "the image has no partition table, so no such partition");
		else if (!have[0])
			r = lb_err(-ENOENT, object, "see 'lifeboat inspect IMAGE'",
				   "no such partition (the partition table is empty)");
		else
			r = lb_err(-ENOENT, object, "see 'lifeboat inspect IMAGE'",
				   "no such partition (the image has %s)", have);
	}
out:
	lb_ptable_release(&pt);
	return r;
}

void lb_volumes_release(struct lb_volumes *vs)
{
	for (unsigned i = 0; vs->v && i < vs->n; i++)
		lb_fs_close(vs->v[i].fs);
	free(vs->v);
	lb_image_free(vs->img);
	memset(vs, 0, sizeof(*vs));
}

bool lb_vol_unsupported(const struct lb_vol *v)
{
	return !v->fs && v->err == -EMEDIUMTYPE;
}

static bool usable(const struct lb_vol *v)
{
	return v->fs && !v->err;
}

/* Failed in a way worth telling: anything but "not a file system lifeboat reads". */
static bool failed(const struct lb_vol *v)
{
	return v->err < 0 && !lb_vol_unsupported(v);
}

unsigned lb_volumes_open_count(const struct lb_volumes *vs)
{
	unsigned n = 0;

	for (unsigned i = 0; i < vs->n; i++)
		n += usable(&vs->v[i]);
	return n;
}

unsigned lb_volumes_failed_count(const struct lb_volumes *vs)
{
	unsigned n = 0;

	for (unsigned i = 0; i < vs->n; i++)
		n += failed(&vs->v[i]);
	return n;
}

int lb_volumes_need_one(struct lb_volumes *vs)
{
	char found[512] = "";
	size_t len = 0;

	if (lb_volumes_open_count(vs))
		return 0;
	if (vs->part_given && vs->n == 1) {
		lb_err_restore(&vs->v[0].error);
		return vs->v[0].err;
	}
	for (unsigned i = 0; i < vs->n; i++) {
		if (failed(&vs->v[i])) {
			lb_err_restore(&vs->v[i].error);
			return vs->v[i].err;
		}
	}
	for (unsigned i = 0; i < vs->n && len < sizeof(found); i++) {
		if (vs->v[i].part)
			len += (size_t)snprintf(found + len, sizeof(found) - len, "%s%u %s",
						len ? ", " : "", vs->v[i].part,
						lb_fs_kind_name(vs->v[i].kind));
		else
			len += (size_t)snprintf(found + len, sizeof(found) - len, "%s",
						lb_fs_kind_name(vs->v[i].kind));
	}
	if (!vs->n)
		return lb_err(-ENOENT, "partition table", "see 'lifeboat inspect IMAGE'",
			      "the image has no partitions");
	return lb_err(-EMEDIUMTYPE, NULL, "lifeboat reads files on NTFS and ext2/3/4 only",
		      "no partition holds a file system lifeboat reads (found: %s)", found);
}

int lb_volumes_print_none(const struct lb_volumes *vs)
{
	struct lb_error save;
	int code;

	lb_err_save(&save);
	if (!vs->part_given && lb_volumes_failed_count(vs))
		code = lb_volumes_report(vs, false);
	else
		code = lb_cli_error(vs->image);
	lb_err_restore(&save);
	return code;
}

int lb_volumes_report(const struct lb_volumes *vs, bool warn)
{
	int code = 0;

	for (unsigned i = 0; i < vs->n; i++) {
		const struct lb_vol *v = &vs->v[i];
		char object[LB_ERR_OBJECT_MAX];

		if (!v->err || (lb_vol_unsupported(v) && !vs->part_given))
			continue;
		if (!warn) {
			int c = lb_cli_print_error(vs->image, &v->error);

			if (!code)
				code = c;
			continue;
		}
		lb_cli_object(vs->image, v->error.object, object, sizeof(object));
		lb_cli_warn(vs->image, "not searched: %s%s%s", object, object[0] ? ": " : "",
			    v->error.problem);
	}
	return code;
}

/* ---- finding a path ----------------------------------------------------------- */

void lb_vol_hits_free(struct lb_vol_hit *hits, unsigned n)
{
	for (unsigned i = 0; hits && i < n; i++)
		free(hits[i].stored);
	free(hits);
}

/* "3", "3 or 4", "3, 4 or 5" into @buf. */
static void list_parts(const struct lb_volumes *vs, bool (*pick)(const struct lb_vol *), char *buf,
		       size_t cap, unsigned *count)
{
	unsigned total = 0, done = 0;
	size_t len = 0;

	for (unsigned i = 0; i < vs->n; i++)
		total += pick(&vs->v[i]);
	buf[0] = '\0';
	for (unsigned i = 0; i < vs->n && len < cap; i++) {
		if (!pick(&vs->v[i]))
			continue;
		done++;
		len += (size_t)snprintf(buf + len, cap - len, "%s%u",
					done == 1	? ""
					: done == total ? " and "
							: ", ",
					vs->v[i].part);
	}
	*count = total;
}

static bool searched(const struct lb_vol *v)
{
	return usable(v);
}

static bool lookup_failed(const struct lb_vol *v)
{
	return v->fs && v->err < 0;
}

int lb_volumes_locate(struct lb_volumes *vs, const char *path, struct lb_vol_hit **hits,
		      unsigned *nhits)
{
	_cleanup_free_ char *norm = malloc(VOL_PATH_CAP);
	struct lb_vol_hit *h;
	struct lb_error miss;
	unsigned n = 0, misses = 0;
	int r;

	*hits = NULL;
	*nhits = 0;
	memset(&miss, 0, sizeof(miss));
	if (!norm)
		return -ENOMEM;
	lb_err_clear();
	r = lb_path_normalize(path, norm, VOL_PATH_CAP, true);
	if (r < 0)
		return r;
	h = calloc(vs->n ? vs->n : 1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (unsigned i = 0; i < vs->n; i++) {
		struct lb_vol *v = &vs->v[i];

		if (!usable(v))
			continue;
		h[n].stored = malloc(VOL_PATH_CAP);
		if (!h[n].stored) {
			lb_vol_hits_free(h, n);
			return -ENOMEM;
		}
		lb_err_clear();
		r = lb_fs_stat(v->fs, norm, &h[n].st, h[n].stored, VOL_PATH_CAP);
		if (r == 0) {
			h[n++].vol = v;
			continue;
		}
		free(h[n].stored);
		h[n].stored = NULL;
		if (!lb_err_last()->code)
			lb_err_errno(r, path, "looking it up");
		if (v->part)
			lb_err_context("partition %u", v->part);
		if (r == -ENOENT || r == -ENOTDIR) {
			lb_err_default_hint("list the folder with 'lifeboat ls IMAGE', or search "
					    "with 'lifeboat find IMAGE --name GLOB'");
			if (!misses++)
				lb_err_save(&miss);
			continue;
		}
		/* the volume is damaged or unreadable here: it was not searched */
		lb_err_default_hint("see 'lifeboat inspect IMAGE' for the state of the volume");
		v->err = r;
		lb_err_save(&v->error);
	}
	if (n) {
		*hits = h;
		*nhits = n;
		return 0;
	}
	lb_vol_hits_free(h, n);
	/* one volume looked in: its own message says which component is missing */
	if (misses == 1 && !lb_volumes_failed_count(vs) && lb_volumes_open_count(vs) == 1) {
		lb_err_restore(&miss);
		return miss.code;
	}
	if (!misses) {
		for (unsigned i = 0; i < vs->n; i++) {
			if (lookup_failed(&vs->v[i])) {
				lb_err_restore(&vs->v[i].error);
				return vs->v[i].err;
			}
		}
		return lb_volumes_need_one(vs) ?: -ENOENT;
	} else {
		char where[256], skipped[256];
		unsigned nw, ns;

		list_parts(vs, searched, where, sizeof(where), &nw);
		list_parts(vs, failed, skipped, sizeof(skipped), &ns);
		lb_err_clear();
		return lb_err(-ENOENT, path,
			      "list a folder with 'lifeboat ls IMAGE', or search with "
			      "'lifeboat find IMAGE --name GLOB'",
			      "not found in partition%s %s%s%s%s", nw > 1 ? "s" : "", where,
			      ns ? " (not searched: " : "", ns ? skipped : "", ns ? ")" : "");
	}
}

int lb_vol_ambiguous(const struct lb_volumes *vs, const char *path, const struct lb_vol_hit *hits,
		     unsigned n)
{
	char where[256], hint[LB_ERR_HINT_MAX];
	size_t len = 0;

	where[0] = '\0';
	for (unsigned i = 0; i < n && len < sizeof(where); i++)
		len += (size_t)snprintf(where + len, sizeof(where) - len, "%s%u",
					i == 0	     ? ""
					: i + 1 == n ? " and "
						     : ", ",
					hits[i].vol->part);
	/* the hint names the first one as an example */
	snprintf(hint, sizeof(hint), "name one, e.g. '%u:%s' or --partition %u", hits[0].vol->part,
		 path, hits[0].vol->part);
	lb_err_clear();
	lb_err(-EINVAL, path, hint, "found in partitions %s", where);
	lb_cli_error(vs->image);
	return LB_EXIT_USAGE;
}

char *lb_vol_describe(const struct lb_vol *v, char *buf, size_t cap)
{
	size_t len;

	if (v->kind == LB_FS_FILES && v->fs)
		len = (size_t)snprintf(buf, cap, "file tree (snapshot of %s", v->label);
	else if (v->part)
		len = (size_t)snprintf(buf, cap, "partition %u (%s", v->part,
				       lb_fs_kind_name(v->kind));
	else
		len = (size_t)snprintf(buf, cap, "whole disk (%s", lb_fs_kind_name(v->kind));
	if (len < cap && v->label[0] && v->kind != LB_FS_FILES)
		len += (size_t)snprintf(buf + len, cap - len, " \"%s\"", v->label);
	if (len < cap)
		snprintf(buf + len, cap - len, ")");
	return buf;
}

/* ---- folder listings ---------------------------------------------------------- */

void lb_vol_list_release(struct lb_vol_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->e[i].name);
		free(l->e[i].target);
	}
	free(l->e);
	memset(l, 0, sizeof(*l));
}

int lb_vol_list_add(struct lb_vol_list *l, const char *name, const struct lb_fs_stat *st)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct lb_vol_ent *e;

		if (l->n >= LB_VOL_LIST_MAX)
			return lb_err(-EFBIG, NULL, "list its subfolders, or use 'lifeboat find'",
				      "the folder holds more than %u entries", LB_VOL_LIST_MAX);
		e = reallocarray(l->e, cap, sizeof(*e));
		if (!e)
			return -ENOMEM;
		l->e = e;
		l->cap = cap;
	}
	l->e[l->n].name = strdup(name);
	if (!l->e[l->n].name)
		return -ENOMEM;
	l->e[l->n].st = *st;
	l->e[l->n].target = NULL;
	l->n++;
	return 0;
}

static int collect(void *opaque, const struct lb_fs_dirent *d)
{
	return lb_vol_list_add(opaque, d->name, &d->st);
}

static int cmp_ent(const void *a, const void *b, void *ctx)
{
	const struct lb_vol_ent *x = a, *y = b;

	return lb_vol_name_cmp(ctx, x->name, y->name);
}

int lb_vol_list_dir(const struct lb_vol *v, const char *dir, struct lb_vol_list *l)
{
	size_t first = l->n;
	int r;

	r = lb_fs_readdir(v->fs, dir, collect, l);
	if (r < 0)
		return r;
	if (l->n > first)
		qsort_r(l->e + first, l->n - first, sizeof(*l->e), cmp_ent, (void *)v);
	return 0;
}

void lb_vol_list_targets(const struct lb_vol *v, struct lb_vol_list *l, const char *dir,
			 bool single)
{
	_cleanup_free_ char *path = malloc(VOL_PATH_CAP);
	_cleanup_free_ char *target = malloc(VOL_PATH_CAP);

	if (!path || !target)
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
		return;
	for (size_t i = 0; i < l->n; i++) {
		struct lb_vol_ent *e = &l->e[i];
		struct lb_error save;

		if (e->st.type != LB_FT_SYMLINK)
			continue;
		if (single)
			snprintf(path, VOL_PATH_CAP, "%s", dir);
		else
			snprintf(path, VOL_PATH_CAP, "%s%s%s", dir, dir[0] ? "/" : "", e->name);
		lb_err_save(&save);
		if (lb_fs_readlink(v->fs, path, target, VOL_PATH_CAP) >= 0)
			e->target = strdup(target);
		lb_err_restore(&save);
	}
}

/* ---- output ------------------------------------------------------------------- */

const char *lb_ftype_name(enum lb_ftype t)
{
	switch (t) {
	case LB_FT_FILE:
		return "file";
	case LB_FT_DIR:
		return "dir";
	case LB_FT_SYMLINK:
		return "symlink";
	case LB_FT_OTHER:
		break;
	}
	return "other";
}

char lb_vol_type_char(const struct lb_fs_stat *st)
{
	switch (st->type) {
	case LB_FT_FILE:
		return '-';
	case LB_FT_DIR:
		return 'd';
	case LB_FT_SYMLINK:
		return 'l';
	case LB_FT_OTHER:
		break;
	}
	if (S_ISCHR(st->mode))
		return 'c';
	if (S_ISBLK(st->mode))
		return 'b';
	if (S_ISFIFO(st->mode))
		return 'p';
	if (S_ISSOCK(st->mode))
		return 's';
	return '?';
}

void lb_vol_print_name(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

/* FILE_ATTRIBUTE_* bits: their names in JSON, and the letter for text (0: none). */
static const struct {
	uint32_t bit;
	char letter;
	const char *name;
} ntfs_attrs[] = {
	{0x00000001, 'R', "readonly"},
	{0x00000002, 'H', "hidden"},
	{0x00000004, 'S', "system"},
	{0x00000010, 0, "directory"},
	{0x00000020, 'A', "archive"},
	{0x00000040, 0, "device"},
	{0x00000080, 0, "normal"},
	{0x00000100, 'T', "temporary"},
	{0x00000200, 'P', "sparse"},
	{0x00000400, 'L', "reparse_point"},
	{0x00000800, 'C', "compressed"},
	{0x00001000, 'O', "offline"},
	{0x00002000, 'N', "not_content_indexed"},
	{0x00004000, 'E', "encrypted"},
	{0x00008000, 0, "integrity_stream"},
	{0x00010000, 0, "virtual"},
	{0x00020000, 0, "no_scrub_data"},
	/* libntfs-3g's "directory" bit of the FILE_NAME attribute */
	{0x10000000, 0, "directory"},
	{0x20000000, 0, "view_index"},
};

char *lb_vol_attr_letters(uint32_t attributes, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < LB_ARRAY_SIZE(ntfs_attrs) && n + 1 < cap; i++)
		if (ntfs_attrs[i].letter && (attributes & ntfs_attrs[i].bit))
			out[n++] = ntfs_attrs[i].letter;
	if (!n && cap > 1)
		out[n++] = '-';
	if (cap)
		out[n] = '\0';
	return out;
}

static void json_time(struct lb_json *j, const char *key, const struct timespec *t,
		      bool may_be_unset)
{
	char buf[64];

	if (may_be_unset && !t->tv_sec && !t->tv_nsec) {
		lb_json_null(j, key);
		return;
	}
	lb_json_string(j, key, lb_format_time(t, 1, buf, sizeof(buf)));
}

static bool is_ntfs(const struct lb_vol *v)
{
	return v->kind == LB_FS_NTFS;
}

void lb_vol_json_stat(struct lb_json *j, const struct lb_vol *v, const char *name,
		      const struct lb_fs_stat *st, const char *target)
{
	char mode[8];

	lb_json_string(j, "name", name);
	lb_json_string(j, "type", lb_ftype_name(st->type));
	lb_json_u64(j, "size", st->size);
	lb_json_u64(j, "inode", st->ino);
	json_time(j, "mtime", &st->mtime, false);
	json_time(j, "btime", &st->btime, !is_ntfs(v));
	json_time(j, "ctime", &st->ctime, false);
	json_time(j, "atime", &st->atime, false);
	lb_json_string(j, "short_name", st->short_name[0] ? st->short_name : NULL);
	if (is_ntfs(v)) {
		uint32_t known = 0, seen = 0;

		lb_json_begin_array(j, "attributes");
		for (size_t i = 0; i < LB_ARRAY_SIZE(ntfs_attrs); i++) {
			const char *nm = ntfs_attrs[i].name;

			known |= ntfs_attrs[i].bit;
			if (!(st->attributes & ntfs_attrs[i].bit))
				continue;
			/* two bits mean "directory": name it once */
			if (!strcmp(nm, "directory") && (seen & 1u))
				continue;
			if (!strcmp(nm, "directory"))
				seen |= 1u;
			lb_json_string(j, NULL, nm);
		}
		for (unsigned b = 0; b < 32; b++) {
			if ((st->attributes & (1u << b)) && !(known & (1u << b))) {
				char hex[16];

				snprintf(hex, sizeof(hex), "0x%08x", 1u << b);
				lb_json_string(j, NULL, hex);
			}
		}
		lb_json_end_array(j);
		lb_json_null(j, "mode");
		lb_json_null(j, "uid");
		lb_json_null(j, "gid");
	} else {
		lb_json_null(j, "attributes");
		snprintf(mode, sizeof(mode), "%04o", st->mode & 07777);
		lb_json_string(j, "mode", mode);
		lb_json_u64(j, "uid", st->uid);
		lb_json_u64(j, "gid", st->gid);
	}
	lb_json_string(j, "target", st->type == LB_FT_SYMLINK ? target : NULL);
}

void lb_vol_json_error(struct lb_json *j, const char *key, const char *subject,
		       const struct lb_error *e)
{
	char object[LB_ERR_OBJECT_MAX];
	int code = e->code ? e->code : -EIO;

	lb_cli_object(subject, e->object, object, sizeof(object));
	lb_json_begin_object(j, key);
	lb_json_string(j, "code", lb_errno_name(code));
	lb_json_u64(j, "exit_code", (uint64_t)lb_exit_code(code));
	lb_json_string(j, "object", object[0] ? object : NULL);
	lb_json_string(j, "problem", e->problem[0] ? e->problem : NULL);
	lb_json_string(j, "hint", e->hint[0] ? e->hint : NULL);
	lb_json_end_object(j);
}

void lb_volumes_json_skipped(struct lb_json *j, const struct lb_volumes *vs)
{
	lb_json_begin_array(j, "skipped");
	for (unsigned i = 0; i < vs->n; i++) {
		const struct lb_vol *v = &vs->v[i];

		if (!v->err)
			continue;
		lb_json_begin_object(j, NULL);
		lb_json_u64(j, "partition", v->part);
		lb_json_string(j, "filesystem", lb_fs_kind_name(v->kind));
		lb_vol_json_error(j, "error", vs->image, &v->error);
		lb_json_end_object(j);
	}
	lb_json_end_array(j);
}

/* ---- names -------------------------------------------------------------------- */

uint32_t lb_vol_utf8_next(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;
	uint32_t cp;
	int n;

	if (s[0] < 0x80) {
		*p += 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0) {
		cp = s[0] & 0x1f;
		n = 1;
	} else if ((s[0] & 0xf0) == 0xe0) {
		cp = s[0] & 0x0f;
		n = 2;
	} else if ((s[0] & 0xf8) == 0xf0) {
		cp = s[0] & 0x07;
		n = 3;
	} else {
		*p += 1;
		return 0xfffd;
	}
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*p += i;
			return 0xfffd;
		}
		cp = cp << 6 | (s[i] & 0x3f);
	}
	*p += n + 1;
	return cp;
}

int lb_vol_name_cmp(const struct lb_vol *v, const char *a, const char *b)
{
	if (v->fs && lb_fs_case_insensitive(v->fs)) {
		const char *p = a, *q = b;

		while (*p && *q) {
			uint32_t x = lb_fs_upcase(v->fs, lb_vol_utf8_next(&p));
			uint32_t y = lb_fs_upcase(v->fs, lb_vol_utf8_next(&q));

			if (x != y)
				return x < y ? -1 : 1;
		}
		if (*p || *q)
			return *p ? 1 : -1;
	}
	return strcmp(a, b);
}
