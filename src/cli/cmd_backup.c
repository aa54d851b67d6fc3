/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_backup.c - lifeboat backup IMAGE|DIR...: one snapshot per operand. An
 * image (any format the image layer reads) is backed up as the guest disk it
 * holds; a folder as a file tree.
 */
#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/repoopt.h"
#include "base/err.h"
#include "base/json.h"
#include "base/sha256.h"
#include "base/timefmt.h"
#include "base/util.h"
#include "repo/backup.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_TAGS LB_SNAPSHOT_MAX_TAGS

static const char *tags[MAX_TAGS];
static size_t ntags;

static int tag_cb(const struct lb_option *opt, const char *arg)
{
	(void)opt;
	if (ntags == MAX_TAGS)
		return lb_cli_usage("--tag: at most %d", MAX_TAGS), -1;
	if (!*arg || strlen(arg) > 255)
		return lb_cli_usage("--tag: a tag has 1 to 255 characters"), -1;
	tags[ntags++] = arg;
	return 0;
}

struct prog {
	struct lb_progress *p;
	bool started;
};

/* The bar starts at the first report, when the total (an image's size) is known. */
static void progress(void *ctx, uint64_t done, uint64_t total, const char *what)
{
	struct prog *pr = ctx;

	if (!pr->started) {
		pr->p = lb_progress_start("backup", total, 0);
		pr->started = true;
	}
	lb_progress_update(pr->p, done, 0, what);
}

static void json_snapshot(struct lb_json *j, const char *path, const struct lb_backup_result *b)
{
	const struct lb_snapshot *s = &b->snap;
	char hex[LB_SHA256_HEX], t[48];

	lb_json_begin_object(j, NULL);
	lb_json_string(j, "source", path);
	lb_json_string(j, "id", lb_hex(s->id, LB_ID_LEN, hex));
	lb_json_string(j, "short_id", lb_hex(s->id, 4, hex));
	lb_json_string(j, "name", s->name);
	lb_json_string(j, "kind", s->kind == LB_SNAP_IMAGE ? "image" : "files");
	lb_json_string(j, "time", lb_format_time(&s->time, 1, t, sizeof(t)));
	if (s->kind == LB_SNAP_IMAGE) {
		lb_json_string(j, "format", s->format);
		lb_json_u64(j, "virtual_size", s->virtual_size);
	} else {
		lb_json_u64(j, "files", b->files);
	}
	lb_json_u64(j, "bytes_read", s->bytes_read);
	lb_json_u64(j, "bytes_skipped", b->bytes_skipped);
	lb_json_u64(j, "bytes_total", b->st.bytes_total);
	lb_json_u64(j, "bytes_new", b->st.bytes_new);
	lb_json_u64(j, "bytes_stored", b->st.bytes_stored);
	lb_json_u64(j, "chunks_total", b->st.chunks_total);
	lb_json_u64(j, "chunks_new", b->st.chunks_new);
	lb_json_double(j, "dedup_ratio",
		       b->st.bytes_new ? (double)b->st.bytes_total / (double)b->st.bytes_new : 0);
	lb_json_double(j, "duration", b->seconds);
	lb_json_u64(j, "errors", b->errors);
	lb_json_string(j, "first_error", b->errors ? b->first_error : NULL);
	lb_json_end_object(j);
}

static void text_snapshot(const char *path, const struct lb_backup_result *b)
{
	const struct lb_snapshot *s = &b->snap;
	char hex[LB_SHA256_HEX], t[48], a[32], c[32], d[32], e[32];

	printf("snapshot %s of %s saved (%s", lb_hex(s->id, 4, hex), s->name,
	       s->kind == LB_SNAP_IMAGE ? "disk image, " : "file tree");
	if (s->kind == LB_SNAP_IMAGE)
		printf("%s, %s", s->format, lb_format_size(s->virtual_size, a, sizeof(a)));
	printf("), captured %s\n", lb_format_time(&s->time, 0, t, sizeof(t)));
	printf("  %s: read %s", path, lb_format_size(s->bytes_read, a, sizeof(a)));
	if (b->bytes_skipped)
		printf(" (holes and zeros skipped: %s)",
		       lb_format_size(b->bytes_skipped, e, sizeof(e)));
	printf(", new %s, stored %s, %.2f s\n", lb_format_size(b->st.bytes_new, c, sizeof(c)),
	       lb_format_size(b->st.bytes_stored, d, sizeof(d)), b->seconds);
	if (b->errors)
		printf("  %" PRIu64
		       " entries could not be read and are not in the snapshot; the first: %s\n",
		       b->errors, b->first_error);
}

int cmd_backup(int argc, char **argv, const struct lb_cmd *cmd)
{
	struct lb_repo_args ra = {0};
	const char *name = NULL, *when = NULL, *format = NULL;
	int force_share = 0;
	const struct lb_option opts[] = {
		LB_REPO_OPTIONS(&ra),
		{LB_OPT_STRING, 'n', "name", &name, "NAME",
		 "the VM (or tree) this is a backup of (default: the file name)"},
		{LB_OPT_CALLBACK, 't', "tag", NULL, "TAG", "a tag (repeatable)", tag_cb},
		{LB_OPT_STRING, 0, "time", &when, "TIME",
		 "when the source was captured (a storage snapshot taken earlier); ISO 8601 with a "
		 "zone"},
		{LB_OPT_STRING, 'f', "format", &format, "FMT",
		 "read images as this format (default: detect)"},
		{LB_OPT_BOOL, 'U', "force-share", &force_share, NULL,
		 "read an image even while a running VM holds it (the copy may be inconsistent)"},
		{LB_OPT_END},
	};
	struct lb_backup_opts bo = {0};
	struct lb_repo *r = NULL;
	struct prog pr = {0};
	struct lb_json j;
	unsigned ok = 0, bad = 0, partial = 0;
	int n, rc, first = 0;

	n = lb_parse_options(argc, argv, opts, cmd);
	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (n == 0)
		return lb_cli_usage("nothing to back up: give an image or a folder");
	if (name && n > 1)
		return lb_cli_usage("--name names one source; back up several one at a time, or "
				    "let each be named by its file name");
	if (when && lb_parse_time(when, &bo.time) < 0)
		return lb_cli_usage("--time: %s", lb_err_last()->problem);
	if (format && lb_image_format_parse(format, &bo.format) < 0)
		return lb_cli_usage("--format: '%s' is not an image format", format);
	bo.name = name;
	bo.tags = tags;
	bo.ntags = ntags;
	bo.force_share = force_share;
	rc = lb_cli_repo_open(&ra, &r);
	if (rc < 0)
		return lb_cli_error(NULL);
	lb_cli_install_signals();
	if (lb_cli.json) {
		lb_json_init(&j, stdout, LB_JSON_PRETTY);
		lb_json_begin_object(&j, NULL);
		lb_json_u64(&j, "version", 1);
		lb_json_begin_array(&j, "snapshots");
	}
	for (int i = 1; i <= n; i++) {
		struct lb_backup_result res;
		struct stat st;

		lb_err_clear();
		pr.p = NULL;
		pr.started = false;
		bo.progress = progress;
		bo.progress_ctx = &pr;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			rc = lb_backup_files(r, argv[i], &bo, &res);
		else
			rc = lb_backup_image(r, argv[i], &bo, &res);
		lb_progress_finish(pr.p);
		if (rc < 0) {
			int code = lb_cli_error(argv[i]);

			bad++;
			first = first ? first : code;
			if (rc == -EINTR)
				break;
			continue;
		}
		if (res.errors)
			partial++;
		else
			ok++;
		if (lb_cli.json)
			json_snapshot(&j, argv[i], &res);
		else if (lb_cli.verbosity >= 0)
			text_snapshot(argv[i], &res);
		if (res.errors)
			lb_cli_warn(argv[i],
				    "%" PRIu64 " entries could not be read (the first: %s)",
				    res.errors, res.first_error);
		lb_snapshot_release(&res.snap);
	}
	if (lb_cli.json) {
		lb_json_end_array(&j);
		lb_json_begin_object(&j, "summary");
		lb_json_u64(&j, "sources", (uint64_t)n);
		lb_json_u64(&j, "ok", ok);
		lb_json_u64(&j, "incomplete", partial);
		lb_json_u64(&j, "failed", bad);
		lb_json_end_object(&j);
		lb_json_end_object(&j);
		lb_json_finish(&j);
	}
	lb_repo_close(r);
	if (lb_interrupted)
		return LB_EXIT_INTERRUPTED;
	if (!bad && !partial)
		return LB_EXIT_OK;
	if (ok || partial)
		return LB_EXIT_PARTIAL;
	return first;
}
