/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_undo.c - lifeboat undo UNDO-LOG|RUN-DIR|IMAGE...: put back every byte a
 * repair changed, from its write-ahead undo log.
 *
 * A run folder that has been undone gets a file "undone" (so 'undo IMAGE'
 * takes the newest repair not yet undone, and an undo is not applied twice by
 * mistake); the audit journal next to it records the undo.
 */
#include "cli/cli.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/json.h"
#include "base/timefmt.h"
#include "base/util.h"
#include "io/image.h"
#include "repair/audit.h"
#include "repair/undo.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define P_MAX 4096

struct undo_target {
	char run_dir[P_MAX];
	char log[P_MAX];
	char image[P_MAX];
};

static bool is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool exists(const char *p)
{
	return access(p, F_OK) == 0;
}

/* The newest run folder of @image below @root not yet undone. */
static int find_run(const char *image, const char *root, struct undo_target *t)
{
	char copy[P_MAX], best[NAME_MAX + 1] = "";
	const char *base;
	size_t blen;
	DIR *d;
	struct dirent *e;

	lb_strlcpy(copy, image, sizeof(copy));
	base = basename(copy);
	blen = strlen(base);
	d = opendir(root);
	if (!d)
		return lb_err(-ENOENT, image, "give the undo log itself, or --undo-dir DIR",
			      "no repair of this image is recorded in %s", root);
	while ((e = readdir(d))) {
		char p[P_MAX];

		if (strncmp(e->d_name, base, blen) || e->d_name[blen] != '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/undone", root, e->d_name);
		if (exists(p))
			continue;
		snprintf(p, sizeof(p), "%s/%s/undo.log", root, e->d_name);
		if (!exists(p))
			continue;
		/* names end in .STAMP.PID.N: the stamp sorts by time */
		if (strcmp(e->d_name + blen, best[0] ? best + blen : "") > 0)
			lb_strlcpy(best, e->d_name, sizeof(best));
	}
	closedir(d);
	if (!best[0])
		return lb_err(-ENOENT, image, "see 'lifeboat undo --help'",
			      "no repair of this image left to undo in %s", root);
	snprintf(t->run_dir, sizeof(t->run_dir), "%s/%s", root, best);
	snprintf(t->log, sizeof(t->log), "%s/undo.log", t->run_dir);
	lb_strlcpy(t->image, image, sizeof(t->image));
	return 0;
}

static int resolve(const char *arg, const char *undo_dir, struct undo_target *t,
		   struct lb_undo_info *info)
{
	char copy[P_MAX];
	int r;

	memset(t, 0, sizeof(*t));
	if (is_dir(arg)) {
		lb_strlcpy(t->run_dir, arg, sizeof(t->run_dir));
		snprintf(t->log, sizeof(t->log), "%s/undo.log", arg);
	} else {
		r = lb_undo_read_info(arg, info);
		if (r == 0) {
			lb_strlcpy(t->log, arg, sizeof(t->log));
			lb_strlcpy(copy, arg, sizeof(copy));
			lb_strlcpy(t->run_dir, dirname(copy), sizeof(t->run_dir));
		} else if (r == -EBADMSG && exists(arg)) {
			/* not an undo log: an image */
			char root[P_MAX];

			lb_err_clear();
			if (undo_dir) {
				lb_strlcpy(root, undo_dir, sizeof(root));
			} else {
				lb_strlcpy(copy, arg, sizeof(copy));
				snprintf(root, sizeof(root), "%s/lifeboat-undo", dirname(copy));
			}
			r = find_run(arg, root, t);
			if (r < 0)
				return r;
		} else {
			return r;
		}
	}
	r = lb_undo_read_info(t->log, info);
	if (r < 0)
		return r;
	if (!t->image[0])
		lb_strlcpy(t->image, info->meta.image_path, sizeof(t->image));
	return 0;
}

static void audit_undo(const struct undo_target *t, const struct lb_undo_result *res, int err)
{
	char root[P_MAX], journal[P_MAX + 16], now[48], copy[P_MAX];
	struct timespec ts;
	struct lb_buf m;

	lb_strlcpy(copy, t->run_dir, sizeof(copy));
	lb_strlcpy(root, dirname(copy), sizeof(root));
	snprintf(journal, sizeof(journal), "%s/audit.jsonl", root);
	clock_gettime(CLOCK_REALTIME, &ts);
	lb_buf_init(&m, 1 << 20);
	lb_buf_printf(&m, "\"event\":\"undo\",\"time\":\"%s\",\"image\":",
		      lb_format_time(&ts, 0, now, sizeof(now)));
	/* strings through the JSON escaper */
	{
		char *s = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&s, &n);

		if (!f)
			goto out;
		lb_json_write_escaped(f, t->image, strlen(t->image));
		fputs(",\"undo_log\":", f);
		lb_json_write_escaped(f, t->log, strlen(t->log));
		fclose(f);
		lb_buf_append(&m, s, n);
		free(s);
	}
	lb_buf_printf(&m, ",\"ok\":%s,\"ranges\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"forced\":%s",
		      err ? "false" : "true", res->ranges, res->bytes,
		      res->changed_since ? "true" : "false");
	if (lb_audit_append(journal, m.data) < 0)
		lb_cli_error(journal);
out:
	lb_buf_release(&m);
}

int cmd_undo(int argc, char **argv, const struct lb_cmd *cmd)
{
	const char *undo_dir = NULL, *format = NULL;
	int force = 0, dry_run = 0;
	const struct lb_option opts[] = {
		{LB_OPT_STRING, 0, "undo-dir", &undo_dir, "DIR",
		 "where repairs of an IMAGE operand were recorded (default: lifeboat-undo/ next to "
		 "it)"},
		{LB_OPT_BOOL, 0, "force", &force, NULL,
		 "put the old bytes back even if the image changed after the repair"},
		{LB_OPT_BOOL, 'n', "dry-run", &dry_run, NULL,
		 "check the log and the image, write nothing"},
		{LB_OPT_STRING, 'f', "format", &format, "FMT",
		 "open the image as this format (default: detect)"},
		{LB_OPT_END},
	};
	enum lb_image_format fmt = LB_FMT_AUTO;
	struct lb_json j;
	unsigned ok = 0, bad = 0;
	int n, first = 0;
	bool mixed = false;

	n = lb_parse_options(argc, argv, opts, cmd);
	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (n == 0)
		return lb_cli_usage("give an undo log, a repair's folder, or an image");
	if (format && lb_image_format_parse(format, &fmt) < 0)
		return lb_cli_usage("--format: '%s' is not one of raw, vhd, vhdx, qcow2, vmdk, vdi",
				    format);
	lb_cli_install_signals();
	if (lb_cli.json) {
		lb_json_init(&j, stdout, LB_JSON_PRETTY);
		lb_json_begin_object(&j, NULL);
		lb_json_u64(&j, "version", 1);
		lb_json_begin_array(&j, "undone");
	}
	for (int i = 1; i <= n; i++) {
		struct lb_image_opts io = {.read_only = dry_run, .format = fmt, .fault_spec = NULL};
		struct undo_target t;
		struct lb_undo_info info;
		struct lb_undo_result res = {0};
		struct lb_image *img = NULL;
		int r, code = 0;

		lb_err_clear();
		r = resolve(argv[i], undo_dir, &t, &info);
		if (r >= 0)
			r = lb_image_open(t.image, &io, &img);
		if (r >= 0) {
			r = lb_undo_apply(t.log, img->disk,
					  (force ? LB_UNDO_FORCE : 0) |
						  (dry_run ? LB_UNDO_DRY_RUN : 0),
					  &res);
			if (r < 0) {
				struct lb_error save;

				lb_err_save(&save);
				lb_image_free(img);
				lb_err_restore(&save);
			} else {
				lb_image_free(img);
			}
		}
		if (r < 0) {
			code = lb_cli_error(argv[i]);
			bad++;
			if (first && code != first)
				mixed = true;
			if (!first)
				first = code;
		} else {
			ok++;
			if (!dry_run) {
				char mark[P_MAX + 16];
				int fd;

				snprintf(mark, sizeof(mark), "%s/undone", t.run_dir);
				fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
				if (fd >= 0) {
					fsync(fd);
					close(fd);
				}
				audit_undo(&t, &res, 0);
			}
			if (!lb_cli.json && lb_cli.verbosity >= 0) {
				char sz[32];

				printf("%s: %s from %s (%" PRIu64 " ranges, %s)%s\n", t.image,
				       dry_run ? "would be restored" : "restored", t.log,
				       res.ranges, lb_format_size(res.bytes, sz, sizeof(sz)),
				       res.changed_since
					       ? "; it had changed since the repair (--force)"
					       : "");
			}
		}
		if (lb_cli.json) {
			lb_json_begin_object(&j, NULL);
			lb_json_string(&j, "operand", argv[i]);
			lb_json_string(&j, "image", r < 0 && !t.image[0] ? NULL : t.image);
			lb_json_string(&j, "undo_log", t.log[0] ? t.log : NULL);
			lb_json_bool(&j, "ok", r >= 0);
			lb_json_bool(&j, "dry_run", dry_run);
			lb_json_u64(&j, "ranges", res.ranges);
			lb_json_u64(&j, "bytes", res.bytes);
			lb_json_bool(&j, "changed_since_repair", res.changed_since);
			if (r < 0) {
				const struct lb_error *e = lb_err_last();

				lb_json_begin_object(&j, "error");
				lb_json_string(&j, "code", lb_errno_name(e->code ? e->code : r));
				lb_json_string(&j, "message", e->problem);
				lb_json_string(&j, "hint", e->hint[0] ? e->hint : NULL);
				lb_json_end_object(&j);
			} else {
				lb_json_null(&j, "error");
			}
			lb_json_end_object(&j);
		}
	}
	if (lb_cli.json) {
		lb_json_end_array(&j);
		lb_json_end_object(&j);
		lb_json_finish(&j);
	}
	if (!bad)
		return LB_EXIT_OK;
	if (ok)
		return LB_EXIT_PARTIAL;
	return mixed ? LB_EXIT_FAILURE : first;
}
