/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_reg.c - lifeboat reg IMAGE get KEY [VALUE] | ls KEY: read the Windows
 * registry of a disk image offline, read-only.
 *
 * The hive file (Windows/System32/config/SYSTEM for HKLM\SYSTEM, ...) is
 * looked for in every volume, or in the one named with --partition; it must
 * be in exactly one. HKLM\SYSTEM\CurrentControlSet is resolved through
 * Select\Current, as Windows does at boot. A hive whose transaction logs hold
 * changes not yet written into it is read as it is, with a warning: what is
 * shown may be older than what Windows would see.
 */
#include "cli/cli.h"
#include "cli/volume.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/json.h"
#include "base/util.h"
#include "fs/hive.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY_CAP 1024

struct reg_req {
	const char *image;
	bool list;	   /* ls: subkeys; get: values */
	const char *value; /* get: one value, or NULL for all */
	struct lb_reg_path rp;
	char key[KEY_CAP];	  /* inside the hive, CurrentControlSet resolved */
	char shown[KEY_CAP + 64]; /* HKLM\SYSTEM\ControlSet001\... */
	const struct lb_vol_hit *hit;
	bool loaded; /* the hive was loaded (dirty is known) */
	bool dirty;
	bool wrote; /* the JSON members of the answer are written */
};

/* ---- data --------------------------------------------------------------------- */

static uint64_t le_uint(const uint8_t *p, size_t n, bool big_endian)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[big_endian ? n - 1 - i : i] << (8 * i);
	return v;
}

/* The numeric value of a DWORD/QWORD whose data has the right size. */
static bool reg_number(const struct lb_reg_value *v, uint64_t *out)
{
	switch (v->type) {
	case LB_REG_DWORD:
	case LB_REG_DWORD_BE:
		if (v->len != 4)
			return false;
		*out = le_uint(v->data, 4, v->type == LB_REG_DWORD_BE);
		return true;
	case LB_REG_QWORD:
		if (v->len != 8)
			return false;
		*out = le_uint(v->data, 8, false);
		return true;
	default:
		return false;
	}
}

static bool is_string(enum lb_reg_type t)
{
	return t == LB_REG_SZ || t == LB_REG_EXPAND_SZ || t == LB_REG_LINK;
}

/* UTF-16LE units at @p (up to @units, stopping at NUL) as UTF-8; malloc'ed. */
static char *utf16(const uint8_t *p, size_t units)
{
	size_t cap = units * 3 + 1;
	char *s = malloc(cap);

	if (s)
		lb_utf16le_to_utf8(p, units, s, cap);
	return s;
}

/*
 * Call @fn for each string of a REG_MULTI_SZ: NUL-separated UTF-16LE, ended
 * by an empty string (or the end of the data).
 */
static int each_multi(const struct lb_reg_value *v, void (*fn)(void *ctx, const char *s), void *ctx)
{
	size_t units = v->len / 2, i = 0;

	while (i < units) {
		size_t k = i;
		_cleanup_free_ char *s = NULL;

		while (k < units && (v->data[2 * k] || v->data[2 * k + 1]))
			k++;
		if (k == i)
			break; /* the empty string that ends the list */
		s = utf16(v->data + 2 * i, k - i);
		if (!s)
			return -ENOMEM;
		fn(ctx, s);
		i = k + 1;
	}
	return 0;
}

static void print_hex(FILE *f, const uint8_t *p, size_t len, bool upper)
{
	for (size_t i = 0; i < len; i++)
		fprintf(f, upper ? "%02X" : "%02x", p[i]);
}

static void text_multi(void *ctx, const char *s)
{
	bool *first = ctx;

	if (!*first)
		fputs("\\0", stdout);
	*first = false;
	lb_vol_print_name(stdout, s);
}

/* "    Start    REG_DWORD    0x4 (4)", as 'reg query' prints it. */
static int print_value(const struct lb_reg_value *v)
{
	uint64_t num;

	fputs("    ", stdout);
	lb_vol_print_name(stdout, v->name[0] ? v->name : "(Default)");
	printf("    %s    ", lb_reg_type_name(v->type));
	if (reg_number(v, &num)) {
		printf("0x%" PRIx64 " (%" PRIu64 ")", num, num);
	} else if (is_string(v->type)) {
		_cleanup_free_ char *s = utf16(v->data, v->len / 2);

		if (!s)
			return -ENOMEM;
		lb_vol_print_name(stdout, s);
	} else if (v->type == LB_REG_MULTI_SZ) {
		bool first = true;
		int r = each_multi(v, text_multi, &first);

		if (r < 0)
			return r;
	} else {
		print_hex(stdout, v->data, v->len, true);
	}
	putchar('\n');
	return 0;
}

static void json_multi(void *ctx, const char *s)
{
	lb_json_string(ctx, NULL, s);
}

/*
 * {name, type, size, data}: data is a number for DWORD/QWORD, a string for
 * SZ/EXPAND_SZ/LINK, an array of strings for MULTI_SZ, else (and when the
 * stored bytes do not fit the type) a hex string.
 */
static int json_value(struct lb_json *j, const struct lb_reg_value *v)
{
	uint64_t num;

	lb_json_begin_object(j, NULL);
	lb_json_string(j, "name", v->name);
	lb_json_string(j, "type", lb_reg_type_name(v->type));
	lb_json_u64(j, "size", v->len);
	if (reg_number(v, &num)) {
		lb_json_u64(j, "data", num);
	} else if (is_string(v->type)) {
		_cleanup_free_ char *s = utf16(v->data, v->len / 2);

		if (!s)
			return -ENOMEM;
		lb_json_string(j, "data", s);
	} else if (v->type == LB_REG_MULTI_SZ) {
		int r;

		lb_json_begin_array(j, "data");
		r = each_multi(v, json_multi, j);
		lb_json_end_array(j);
		if (r < 0)
			return r;
	} else {
		_cleanup_free_ char *hex = malloc(v->len * 2 + 1);

		if (!hex)
			return -ENOMEM;
		for (size_t i = 0; i < v->len; i++)
			snprintf(hex + 2 * i, 3, "%02x", v->data[i]);
		hex[v->len * 2] = '\0';
		lb_json_string(j, "data", hex);
	}
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
	lb_json_end_object(j);
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	int c = strcasecmp(x, y);

	return c ? c : strcmp(x, y);
}

/* ---- the work ----------------------------------------------------------------- */

static void describe_key(struct reg_req *q)
{
	const char *root = strcasecmp(q->rp.hive_name, "DEFAULT") ? "HKLM\\" : "HKU\\.";

	snprintf(q->shown, sizeof(q->shown), "%s%s%s%s", root, q->rp.hive_name,
		 q->key[0] ? "\\" : "", q->key);
}

/* Read what @q asks from the hive of @q->hit; output as text or into @j. */
static int query(struct reg_req *q, struct lb_json *j)
{
	struct lb_hive *h = NULL;
	const struct lb_vol *vol = q->hit->vol;
	struct lb_reg_value *vals = NULL, one;
	size_t nvals = 0, nsub = 0;
	char **sub = NULL;
	int r;

	memset(&one, 0, sizeof(one));
	lb_err_clear();
	r = lb_hive_load(vol->fs, q->hit->stored, false, &h, &q->dirty);
	if (r < 0) {
		if (!lb_err_last()->code)
			lb_err_errno(r, q->hit->stored, "loading the hive");
		lb_err_default_hint("the hive may be damaged; Windows keeps a copy in "
				    "Windows/System32/config/RegBack");
		goto fail;
	}
	q->loaded = true;
	if (q->dirty)
		lb_cli_warn(q->image,
			    "partition %u: %s: its transaction logs (.LOG1/.LOG2) hold "
			    "changes not yet written into the hive; what is shown may be older "
			    "than what Windows would see",
			    vol->part, q->hit->stored);
	lb_strlcpy(q->key, q->rp.key, sizeof(q->key));
	if (!strcasecmp(q->rp.hive_name, "SYSTEM")) {
		r = lb_hive_resolve_ccs(h, q->rp.key, q->key, sizeof(q->key));
		if (r < 0) {
			if (!lb_err_last()->code)
				lb_err_errno(r, "Select\\Current", "resolving CurrentControlSet");
			lb_err_default_hint("name the control set instead: ControlSet001");
			goto fail;
		}
	}
	describe_key(q);
	if (q->list) {
		r = lb_hive_get_subkeys(h, q->key, &sub, &nsub);
		if (r == 0 && nsub)
			qsort(sub, nsub, sizeof(*sub), cmp_name);
	} else if (q->value) {
		r = lb_hive_get_value(h, q->key, q->value, &one);
		if (r == 0) {
			vals = &one;
			nvals = 1;
		}
	} else {
		r = lb_hive_get_values(h, q->key, &vals, &nvals);
	}
	if (r < 0) {
		if (!lb_err_last()->code)
			lb_err_errno(r, q->shown, "reading the key");
		lb_err_default_hint(
			q->value ? "list the key's values with 'lifeboat reg IMAGE get KEY'"
				 : "list the subkeys with 'lifeboat reg IMAGE ls KEY'");
		goto fail;
	}

	if (j) {
		q->wrote = true;
		lb_json_u64(j, "partition", vol->part);
		lb_json_string(j, "hive", q->hit->stored);
		lb_json_bool(j, "hive_dirty", q->dirty);
		lb_json_string(j, "key", q->shown);
		if (q->list) {
			lb_json_begin_array(j, "subkeys");
			for (size_t i = 0; i < nsub; i++)
				lb_json_string(j, NULL, sub[i]);
		} else {
			lb_json_begin_array(j, "values");
			for (size_t i = 0; i < nvals && r == 0; i++)
				r = json_value(j, &vals[i]);
		}
		lb_json_end_array(j);
	} else if (q->list) {
		for (size_t i = 0; i < nsub; i++) {
			lb_vol_print_name(stdout, sub[i]);
			putchar('\n');
		}
	} else {
		lb_vol_print_name(stdout, q->shown);
		putchar('\n');
		for (size_t i = 0; i < nvals && r == 0; i++)
			r = print_value(&vals[i]);
	}
	if (r < 0)
		lb_err_errno(r, NULL, "formatting a value");
fail:
	if (r < 0 && vol->part && lb_err_last()->code)
		lb_err_context("partition %u", vol->part);
	if (vals == &one)
		lb_reg_value_release(&one);
	else
		lb_reg_values_free(vals, nvals);
	lb_strv_free(sub, nsub);
	lb_hive_free(h);
	return r;
}

int cmd_reg(int argc, char **argv, const struct lb_cmd *cmd)
{
	struct lb_vol_opts vo = {0};
	const struct lb_option opts[] = {
		{LB_OPT_CALLBACK, 0, "partition", &vo, "N",
		 "read the hives of partition N (default: the one partition that has them)",
		 lb_vol_partition_cb},
		{LB_OPT_STRING, 'f', "format", &vo.format, "FMT",
		 "read as this format: raw, vhd, vhdx, qcow2, vmdk, vdi (default: detect)"},
		{LB_OPT_BOOL, 'U', "force-share", &vo.force_share, NULL,
		 "read an image even while a running VM holds its lock (what is read may be "
		 "inconsistent)"},
		LB_SNAPSHOT_REPO_OPTIONS,
		{LB_OPT_END},
	};
	struct reg_req q;
	enum lb_image_format fmt;
	struct lb_volumes vs;
	struct lb_vol_hit *hits = NULL;
	unsigned nhits = 0;
	struct lb_error err;
	struct lb_json j;
	bool failed = false;
	int n, r, code = 0;

	n = lb_parse_options(argc, argv, opts, cmd);
	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (n == 0)
		return lb_cli_usage("no image given");
	if (n == 1)
		return lb_cli_usage("no action given: get KEY [VALUE], or ls KEY");
	memset(&q, 0, sizeof(q));
	q.image = argv[1];
	if (!strcmp(argv[2], "get")) {
		if (n < 3)
			return lb_cli_usage("get: no key given (HKLM\\SYSTEM\\...)");
		if (n > 4)
			return lb_cli_usage("get: unexpected argument '%s' (KEY [VALUE])", argv[5]);
		q.value = n == 4 ? argv[4] : NULL;
	} else if (!strcmp(argv[2], "ls")) {
		if (n < 3)
			return lb_cli_usage("ls: no key given (HKLM\\SYSTEM\\...)");
		if (n > 3)
			return lb_cli_usage("ls: unexpected argument '%s' (one KEY)", argv[4]);
		q.list = true;
	} else {
		return lb_cli_usage("'%s' is not an action: get KEY [VALUE], or ls KEY", argv[2]);
	}
	lb_err_clear();
	if (lb_reg_path_parse(argv[3], false, &q.rp) < 0) {
		lb_err_default_hint("write the key as in regedit: "
				    "HKLM\\SYSTEM\\CurrentControlSet\\Services\\NAME");
		lb_cli_error(NULL);
		return LB_EXIT_USAGE;
	}
	if ((r = lb_vol_opts_validate(&vo, &fmt)) != 0)
		return r;

	if (lb_cli.json) {
		lb_json_init(&j, stdout, LB_JSON_PRETTY);
		lb_json_begin_object(&j, NULL);
		lb_json_u64(&j, "version", 1);
		lb_json_string(&j, "image", q.image);
	}
	lb_err_clear();
	r = lb_volumes_open(q.image, &vo, &vs);
	if (r < 0) {
		lb_err_save(&err);
		code = lb_cli_error(q.image);
		failed = true;
	} else if (lb_volumes_need_one(&vs) < 0) {
		lb_err_save(&err);
		code = lb_volumes_print_none(&vs);
		failed = true;
	} else if ((r = lb_volumes_locate(&vs, q.rp.hive_file, &hits, &nhits)) < 0) {
		lb_err_save(&err);
		if (r == -ENOENT) {
			lb_volumes_report(&vs, true);
			snprintf(err.hint, sizeof(err.hint),
				 "is this a Windows disk? 'lifeboat inspect IMAGE' shows its "
				 "volumes; "
				 "name the Windows one with --partition");
		}
		code = lb_cli_print_error(q.image, &err);
		failed = true;
	} else if (nhits > 1) {
		code = lb_vol_ambiguous(&vs, q.rp.hive_file, hits, nhits);
		lb_err_save(&err);
		failed = true;
	} else {
		lb_volumes_report(&vs, true);
		q.hit = &hits[0];
		r = query(&q, lb_cli.json ? &j : NULL);
		if (r < 0) {
			lb_err_save(&err);
			code = lb_cli_error(q.image);
			failed = true;
		}
	}
	if (lb_cli.json) {
		if (!q.wrote) {
			if (q.hit)
				lb_json_u64(&j, "partition", q.hit->vol->part);
			else
				lb_json_null(&j, "partition");
			lb_json_string(&j, "hive", q.hit ? q.hit->stored : NULL);
			if (q.hit && q.loaded)
				lb_json_bool(&j, "hive_dirty", q.dirty);
			else
				lb_json_null(&j, "hive_dirty");
			lb_json_string(&j, "key", q.shown[0] ? q.shown : NULL);
			lb_json_null(&j, q.list ? "subkeys" : "values");
		}
		lb_volumes_json_skipped(&j, &vs);
		if (failed)
			lb_vol_json_error(&j, "error", q.image, &err);
		else
			lb_json_null(&j, "error");
		lb_json_end_object(&j);
		lb_json_finish(&j);
	}
	lb_vol_hits_free(hits, nhits);
	lb_volumes_release(&vs);
	return code;
}
