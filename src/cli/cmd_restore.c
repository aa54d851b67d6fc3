/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_restore.c - lifeboat restore (SNAPSHOT | --name VM [--before TIME]
 * [--clean-of RECIPE]) --target PATH: put a backup back.
 *
 * --before picks the newest snapshot of the VM captured strictly before TIME
 * (a time without a zone is refused: the outage's own status page got its
 * date wrong). --clean-of picks the newest snapshot in which the recipe finds
 * nothing to do, found by reading each snapshot in place, newest first.
 */
#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/repoopt.h"
#include "base/err.h"
#include "base/json.h"
#include "base/sha256.h"
#include "base/timefmt.h"
#include "base/util.h"
#include "repair/repair.h"
#include "repo/backup.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct prog {
	struct lb_progress *p;
	bool started;
};

static void progress(void *ctx, uint64_t done, uint64_t total, const char *what)
{
	struct prog *pr = ctx;

	if (!pr->started) {
		pr->p = lb_progress_start("restore", total, 0);
		pr->started = true;
	}
	lb_progress_update(pr->p, done, 0, what);
}

/* The newest snapshot of @name (before @before if set) the recipe finds clean. */
static int find_clean(struct lb_repo *r, const char *name, const struct timespec *before,
		      const char *recipe_name, struct lb_snapshot *out, unsigned *examined)
{
	struct lb_recipe *recipe = NULL;
	struct lb_snapshot *v = NULL;
	size_t nv = 0;
	int rc, found = -1;

	rc = lb_recipe_load(recipe_name, NULL, 0, &recipe);
	if (rc < 0)
		return rc;
	rc = lb_repo_list_snapshots(r, &v, &nv);
	for (size_t k = nv; rc >= 0 && k-- > 0;) {
		struct lb_repair_opts o = {.recipe = recipe, .dry_run = true};
		struct lb_repair_result res;
		struct lb_dev *dev = NULL;

		if (strcmp(v[k].name, name) || v[k].kind != LB_SNAP_IMAGE)
			continue;
		if (before && lb_timespec_cmp(&v[k].time, before) >= 0)
			continue;
		(*examined)++;
		rc = lb_snapshot_dev_open(r, &v[k], &dev);
		if (rc < 0)
			break;
		rc = lb_repair_plan_disk(dev, &o, &res);
		lb_dev_unref(dev);
		if (rc >= 0 && res.status == LB_REPAIR_CLEAN) {
			bool all_examined = true;

			for (unsigned i = 0; i < res.nvols; i++)
				if (res.vols[i].err)
					all_examined = false;
			if (all_examined)
				found = (int)k;
		}
		lb_repair_result_release(&res);
		if (found >= 0)
			break;
	}
	if (rc >= 0 && found < 0)
		rc = lb_err(-ENOENT, name, "see 'lifeboat snapshots --name NAME'",
			    "none of its %u snapshots%s is clean of %s", *examined,
			    before ? " before that time" : "", recipe_name);
	for (size_t k = 0; k < nv; k++) {
		if (rc >= 0 && (int)k == found)
			*out = v[k];
		else
			lb_snapshot_release(&v[k]);
	}
	free(v);
	lb_recipe_free(recipe);
	return rc;
}

int cmd_restore(int argc, char **argv, const struct lb_cmd *cmd)
{
	struct lb_repo_args ra = {0};
	const char *name = NULL, *before = NULL, *clean_of = NULL, *target = NULL, *format = NULL;
	int overwrite = 0, owners = -1;
	const struct lb_option opts[] = {
		LB_REPO_OPTIONS(&ra),
		{LB_OPT_STRING, 'n', "name", &name, "NAME",
		 "restore a snapshot of this VM (or tree)"},
		{LB_OPT_STRING, 0, "before", &before, "TIME",
		 "the newest snapshot of NAME captured strictly before TIME (ISO 8601 with a "
		 "zone)"},
		{LB_OPT_STRING, 0, "clean-of", &clean_of, "RECIPE",
		 "the newest snapshot of NAME in which RECIPE finds nothing to do"},
		{LB_OPT_STRING, 't', "target", &target, "PATH",
		 "where to: a new file or a block device (images), a new folder (files)"},
		{LB_OPT_STRING, 'f', "format", &format, "FMT",
		 "write the image as raw (default), qcow2, vhd or vhdx"},
		{LB_OPT_BOOL, 0, "overwrite", &overwrite, NULL,
		 "replace an existing target file / fill an existing folder"},
		{LB_OPT_BOOL, 0, "owners", &owners, NULL,
		 "restore files' owners (default: when run as root)"},
		{LB_OPT_END},
	};
	struct lb_restore_opts ro = {0};
	struct lb_restore_result res = {0};
	struct lb_snapshot s = {0};
	struct lb_repo *r = NULL;
	struct timespec tb;
	struct prog pr = {0};
	unsigned examined = 0;
	char hex[LB_SHA256_HEX], t[48], sz[32];
	struct lb_json j;
	int n, rc;

	n = lb_parse_options(argc, argv, opts, cmd);
	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (!target)
		return lb_cli_usage("give --target PATH: where to restore to");
	if (n > 1)
		return lb_cli_usage("one snapshot at a time");
	if (n == 1 && (name || before || clean_of))
		return lb_cli_usage(
			"give a snapshot, or --name with --before / --clean-of, not both");
	if ((before || clean_of) && !name)
		return lb_cli_usage("--before and --clean-of need --name NAME");
	if (n == 0 && !name)
		return lb_cli_usage(
			"which snapshot? give its ID, NAME@latest, or --name NAME --before TIME");
	if (before && lb_parse_time(before, &tb) < 0)
		return lb_cli_usage("--before: %s", lb_err_last()->problem);
	if (format && lb_image_format_parse(format, &ro.format) < 0)
		return lb_cli_usage("--format: '%s' is not raw, qcow2, vhd or vhdx", format);
	rc = lb_cli_repo_open(&ra, &r);
	if (rc < 0)
		return lb_cli_error(NULL);
	lb_cli_install_signals();
	if (clean_of) {
		rc = find_clean(r, name, before ? &tb : NULL, clean_of, &s, &examined);
	} else if (n == 1) {
		rc = lb_repo_find_snapshot(r, argv[1], &s);
	} else {
		char ref[512];

		snprintf(ref, sizeof(ref), "%s@%s", name, before ? before : "latest");
		rc = lb_repo_find_snapshot(r, ref, &s);
	}
	if (rc < 0) {
		int code = lb_cli_error(NULL);

		lb_repo_close(r);
		return rc == -EINVAL ? LB_EXIT_USAGE : code; /* a malformed reference */
	}
	ro.target = target;
	ro.overwrite = overwrite;
	ro.owners = owners < 0 ? geteuid() == 0 : owners;
	ro.progress = progress;
	ro.progress_ctx = &pr;
	if (s.kind == LB_SNAP_IMAGE)
		rc = lb_restore_image(r, &s, &ro, &res);
	else
		rc = lb_restore_files(r, &s, &ro, &res);
	lb_progress_finish(pr.p);
	if (rc < 0) {
		rc = lb_cli_error(target);
	} else {
		if (lb_cli.json) {
			lb_json_init(&j, stdout, LB_JSON_PRETTY);
			lb_json_begin_object(&j, NULL);
			lb_json_string(&j, "snapshot", lb_hex(s.id, LB_ID_LEN, hex));
			lb_json_string(&j, "name", s.name);
			lb_json_string(&j, "kind", s.kind == LB_SNAP_IMAGE ? "image" : "files");
			lb_json_string(&j, "time", lb_format_time(&s.time, 1, t, sizeof(t)));
			lb_json_string(&j, "target", target);
			lb_json_u64(&j, "bytes_written", res.bytes_written);
			if (s.kind == LB_SNAP_FILES)
				lb_json_u64(&j, "files", res.files);
			else
				lb_json_u64(&j, "virtual_size", s.virtual_size);
			if (clean_of)
				lb_json_u64(&j, "snapshots_examined", examined);
			lb_json_double(&j, "duration", res.seconds);
			lb_json_end_object(&j);
			lb_json_finish(&j);
		} else if (lb_cli.verbosity >= 0) {
			printf("restored snapshot %s of %s (captured %s) to %s: %s written in %.2f "
			       "s\n",
			       lb_hex(s.id, 4, hex), s.name,
			       lb_format_time(&s.time, 0, t, sizeof(t)), target,
			       lb_format_size(res.bytes_written, sz, sizeof(sz)), res.seconds);
			if (clean_of)
				printf("  the newest of %u snapshots examined that %s finds "
				       "clean\n",
				       examined, clean_of);
		}
		rc = LB_EXIT_OK;
	}
	lb_snapshot_release(&s);
	lb_repo_close(r);
	return rc;
}
