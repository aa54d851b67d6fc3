/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_repair.c - lifeboat repair IMAGE...: apply a recipe, or actions given
 * on the command line, to every image, each in its own worker process.
 *
 * The parent plans nothing and parses nothing from the images: each worker
 * runs lb_repair_image() and sends back its report (text for people, one
 * JSON object for scripts, and its error line). If a worker dies, the parent
 * rolls its image back from the undo log and reports that. The parent writes
 * the audit journal, prints the reports in the order the images were given,
 * and ends with a summary table.
 */
#include "cli/cli.h"
#include "cli/progress.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/json.h"
#include "base/sha256.h"
#include "base/timefmt.h"
#include "base/util.h"
#include "repair/audit.h"
#include "repair/repair.h"
#include "repair/sandbox.h"
#include "repair/worker.h"

#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUN_PATH_MAX 4096

struct image_job {
	const char *path;
	char undo_root[RUN_PATH_MAX];
	char run_dir[RUN_PATH_MAX];
	/* filled by the parent when the worker ends */
	bool finished, printed;
	char *text, *json, *errline;
	int code; /* exit code for this image */
	char status[16];
	unsigned changes, done, kept;
	char note[160];
};

struct repair_ctx {
	struct lb_repair_opts opts;
	struct image_job *jobs;
	size_t n;
	size_t next_print;
	size_t finished;
	struct lb_progress *prog;
	struct lb_json j;
	FILE *report;
	struct lb_json rj;
	char started[40];
};

/* ---- options -------------------------------------------------------------------- */

static struct lb_recipe *adhoc;
static struct lb_param_value params[LB_RECIPE_MAX_PARAMS];
static size_t nparams;

static int adhoc_cb(const struct lb_option *opt, const char *arg)
{
	const char *directive = opt->value; /* the recipe directive this option stands for */
	char *args[1] = {(char *)arg};

	if (!adhoc) {
		adhoc = lb_recipe_new_adhoc();
		if (!adhoc)
			return lb_cli_usage("out of memory"), -1;
	}
	if (lb_recipe_directive(adhoc, 0, directive, args, 1) < 0) {
		const struct lb_error *e = lb_err_last();

		lb_cli_usage("--%s: %s", opt->long_name, e->problem);
		return -1;
	}
	return 0;
}

static int param_cb(const struct lb_option *opt, const char *arg)
{
	const char *eq = strchr(arg, '=');

	(void)opt;
	if (!eq || eq == arg)
		return lb_cli_usage("--param: write NAME=VALUE, not '%s'", arg), -1;
	if (nparams == LB_RECIPE_MAX_PARAMS)
		return lb_cli_usage("--param: at most %d", LB_RECIPE_MAX_PARAMS), -1;
	params[nparams].name = strndup(arg, (size_t)(eq - arg));
	params[nparams].value = eq + 1;
	if (!params[nparams].name)
		return -1;
	nparams++;
	return 0;
}

/* ---- where undo data goes --------------------------------------------------------- */

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[RUN_PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int plan_run_dir(struct image_job *job, const char *undo_dir, const char *stamp, size_t i)
{
	char copy[RUN_PATH_MAX];
	const char *base;

	if (undo_dir) {
		if (snprintf(job->undo_root, sizeof(job->undo_root), "%s", undo_dir) >=
		    (int)sizeof(job->undo_root))
			return -ENAMETOOLONG;
	} else {
		if (strstr(job->path, "://"))
			return lb_err(-EINVAL, job->path, "give --undo-dir DIR",
				      "an NBD image has no folder to keep its undo data in");
		lb_strlcpy(copy, job->path, sizeof(copy));
		if (snprintf(job->undo_root, sizeof(job->undo_root), "%s/lifeboat-undo",
			     dirname(copy)) >= (int)sizeof(job->undo_root))
			return -ENAMETOOLONG;
	}
	lb_strlcpy(copy, job->path, sizeof(copy));
	base = strstr(job->path, "://") ? "nbd" : basename(copy);
	if (snprintf(job->run_dir, sizeof(job->run_dir), "%s/%s.%s.%d.%zu", job->undo_root, base,
		     stamp, (int)getpid(), i) >= (int)sizeof(job->run_dir))
		return -ENAMETOOLONG;
	return 0;
}

/* ---- the worker's report ------------------------------------------------------------ */

static const char *item_result(const struct lb_repair_item *it, bool dry_run)
{
	bool del = it->kind == LB_ACT_DELETE;

	switch (it->state) {
	case LB_ITEM_CHANGE:
		if (dry_run)
			return del ? "would-delete" : "would-set";
		if (!it->done)
			return "not-verified";
		return del ? "deleted" : it->kind == LB_ACT_REG_SET ? "set" : "deleted-value";
	case LB_ITEM_KEEP:
		return "kept";
	case LB_ITEM_SKIP:
		return "skipped";
	case LB_ITEM_FAILED:
		return "failed";
	}
	return "unknown";
}

static const char *ftype_name(enum lb_ftype t)
{
	switch (t) {
	case LB_FT_FILE:
		return "file";
	case LB_FT_DIR:
		return "dir";
	case LB_FT_SYMLINK:
		return "symlink";
	case LB_FT_OTHER:
		return "other";
	}
	return "other";
}

static void json_time(struct lb_json *j, const char *key, const struct timespec *t)
{
	char b[48];

	if (!t->tv_sec && !t->tv_nsec)
		lb_json_null(j, key);
	else
		lb_json_string(j, key, lb_format_time(t, 1, b, sizeof(b)));
}

static void json_error(struct lb_json *j, const char *key, const struct lb_error *e)
{
	if (!e || !e->code) {
		lb_json_null(j, key);
		return;
	}
	lb_json_begin_object(j, key);
	lb_json_string(j, "code", lb_errno_name(e->code));
	lb_json_string(j, "object", e->object[0] ? e->object : NULL);
	lb_json_string(j, "message", e->problem);
	lb_json_string(j, "hint", e->hint[0] ? e->hint : NULL);
	lb_json_end_object(j);
}

static void json_result(struct lb_json *j, const char *path, const struct lb_repair_opts *o,
			const struct lb_repair_result *res, const char *run_dir)
{
	const struct lb_recipe *rc = o->recipe;
	char hex[LB_SHA256_HEX];
	bool has_undo = !o->dry_run && (res->undo_ranges || res->undo_committed);

	lb_json_begin_object(j, NULL);
	lb_json_string(j, "path", path);
	lb_json_string(j, "status", lb_repair_status_name(res->status));
	lb_json_bool(j, "dry_run", o->dry_run);
	lb_json_string(j, "recipe", rc->name);
	lb_json_string(j, "format", res->format[0] ? res->format : NULL);
	lb_json_u64(j, "virtual_size", res->virtual_size);
	json_error(j, "error", res->err ? &res->error : NULL);
	lb_json_begin_array(j, "volumes");
	for (unsigned i = 0; i < res->nvols; i++) {
		const struct lb_repair_volume *v = &res->vols[i];

		lb_json_begin_object(j, NULL);
		lb_json_u64(j, "partition", v->part);
		lb_json_string(j, "filesystem",
			       v->err && !v->kind ? NULL : lb_fs_kind_name(v->kind));
		lb_json_string(j, "label", v->label[0] ? v->label : NULL);
		if (v->dirty < 0)
			lb_json_null(j, "dirty");
		else
			lb_json_bool(j, "dirty", v->dirty);
		if (v->hibernated < 0)
			lb_json_null(j, "hibernated");
		else
			lb_json_bool(j, "hibernated", v->hibernated);
		lb_json_bool(j, "journal_reset", v->journal_reset);
		lb_json_bool(j, "marked_for_chkdsk", v->marked_for_chkdsk);
		lb_json_u64(j, "changes", v->changes);
		json_error(j, "error", v->err ? &v->error : NULL);
		lb_json_end_object(j);
	}
	lb_json_end_array(j);
	lb_json_begin_array(j, "items");
	for (unsigned i = 0; i < res->nitems; i++) {
		const struct lb_repair_item *it = &res->items[i];
		const struct lb_action *a = &rc->actions[it->action];

		lb_json_begin_object(j, NULL);
		lb_json_u64(j, "action", it->action);
		lb_json_string(j, "kind",
			       it->kind == LB_ACT_DELETE    ? "delete"
			       : it->kind == LB_ACT_REG_SET ? "reg-set"
							    : "reg-delete");
		lb_json_u64(j, "partition", it->part);
		lb_json_string(j, "path", it->path);
		lb_json_string(j, "result", item_result(it, o->dry_run));
		lb_json_string(j, "reason", it->reason[0] ? it->reason : NULL);
		if (it->kind == LB_ACT_DELETE) {
			lb_json_string(j, "type", ftype_name(it->st.type));
			lb_json_u64(j, "size", it->st.size);
			lb_json_u64(j, "inode", it->st.ino);
			json_time(j, "mtime", &it->st.mtime);
			json_time(j, "btime", &it->st.btime);
			json_time(j, "ctime", &it->st.ctime);
			json_time(j, "atime", &it->st.atime);
			lb_json_string(j, "short_name",
				       it->st.short_name[0] ? it->st.short_name : NULL);
			lb_json_string(j, "sha256",
				       it->hashed ? lb_hex(it->sha256, LB_SHA256_LEN, hex) : NULL);
			lb_json_string(j, "head",
				       it->head_len ? lb_hex(it->head, it->head_len, hex) : NULL);
			lb_json_begin_array(j, "flags");
			for (unsigned f = 0; f < a->nflags; f++) {
				lb_json_begin_object(j, NULL);
				lb_json_string(j, "label", a->flags[f].label);
				lb_json_bool(j, "hit", it->flags_hit & (1u << f));
				lb_json_end_object(j);
			}
			lb_json_end_array(j);
		} else {
			lb_json_string(j, "hive", a->reg.hive_name);
			lb_json_string(j, "key", it->key);
			lb_json_string(j, "value", a->reg.value);
			lb_json_bool(j, "hive_dirty", it->hive_dirty);
			lb_json_string(j, "old", it->had_old ? it->old_text : NULL);
			lb_json_string(j, "new", it->kind == LB_ACT_REG_SET ? it->new_text : NULL);
		}
		lb_json_end_object(j);
	}
	lb_json_end_array(j);
	lb_json_u64(j, "changes", res->changes);
	lb_json_u64(j, "done", res->done);
	lb_json_bool(j, "verified", res->verified);
	if (has_undo) {
		char log[RUN_PATH_MAX + 16];

		snprintf(log, sizeof(log), "%s/undo.log", run_dir);
		lb_json_begin_object(j, "undo");
		lb_json_string(j, "run_dir", run_dir);
		lb_json_string(j, "log", log);
		lb_json_u64(j, "ranges", res->undo_ranges);
		lb_json_u64(j, "bytes", res->undo_bytes);
		lb_json_bool(j, "committed", res->undo_committed);
		lb_json_end_object(j);
	} else {
		lb_json_null(j, "undo");
	}
	lb_json_end_object(j);
}

static void text_result(FILE *f, const char *path, const struct lb_repair_opts *o,
			const struct lb_repair_result *res, const char *run_dir)
{
	const struct lb_recipe *rc = o->recipe;
	char t[48], hex[LB_SHA256_HEX], sz[32];
	const char *st;

	switch (res->status) {
	case LB_REPAIR_CLEAN:
		st = "nothing to do";
		break;
	case LB_REPAIR_CHANGED:
		st = o->dry_run	     ? "would change"
		     : res->verified ? "repaired"
				     : "changed, not verified";
		break;
	case LB_REPAIR_REFUSED:
		st = "refused";
		break;
	default:
		st = "failed";
		break;
	}
	fprintf(f, "%s: %s (recipe %s%s)\n", path, st, rc->name, o->dry_run ? ", dry run" : "");
	for (unsigned i = 0; i < res->nvols; i++) {
		const struct lb_repair_volume *v = &res->vols[i];
		bool any = v->changes || v->err || v->journal_reset;

		for (unsigned k = 0; k < res->nitems && !any; k++)
			any = res->items[k].part == v->part;
		if (!any)
			continue;
		if (v->part)
			fprintf(f, "  partition %u", v->part);
		else
			fprintf(f, "  whole disk");
		if (v->kind)
			fprintf(f, " (%s%s%s%s)", lb_fs_kind_name(v->kind),
				v->label[0] ? " \"" : "", v->label, v->label[0] ? "\"" : "");
		if (v->err)
			fprintf(f, ": not examined: %s", v->error.problem);
		else if (v->journal_reset)
			fprintf(f, ": the volume was dirty; journal reset%s",
				v->marked_for_chkdsk ? ", Windows will run chkdsk at next boot"
						     : "");
		else if (v->dirty == 1 && v->changes)
			fprintf(f,
				": the volume is dirty; the repair %s its journal and mark it for "
				"chkdsk",
				o->dry_run ? "would reset" : "resets");
		fputc('\n', f);
		for (unsigned k = 0; k < res->nitems; k++) {
			const struct lb_repair_item *it = &res->items[k];
			const struct lb_action *a = &rc->actions[it->action];

			if (it->part != v->part)
				continue;
			fprintf(f, "    %-13s %s", item_result(it, o->dry_run), it->path);
			if (it->kind == LB_ACT_DELETE) {
				fputc('\n', f);
				if (it->st.type == LB_FT_DIR) {
					fprintf(f, "                  %s\n", it->reason);
					continue;
				}
				fprintf(f, "                  %s, written %s",
					lb_format_size(it->st.size, sz, sizeof(sz)),
					lb_format_time(&it->st.mtime, 0, t, sizeof(t)));
				for (unsigned fl = 0; fl < a->nflags; fl++)
					fprintf(f, "; %s%s",
						it->flags_hit & (1u << fl) ? "" : "not ",
						a->flags[fl].label);
				fputc('\n', f);
				if (it->hashed)
					fprintf(f, "                  sha256 %s\n",
						lb_hex(it->sha256, LB_SHA256_LEN, hex));
				if (it->reason[0])
					fprintf(f, "                  %s\n", it->reason);
			} else {
				fprintf(f, " %s\\%s\n", it->key ? it->key : "", a->reg.value);
				if (it->state == LB_ITEM_CHANGE)
					fprintf(f, "                  %s -> %s\n",
						it->had_old ? it->old_text : "(absent)",
						it->kind == LB_ACT_REG_SET ? it->new_text
									   : "(deleted)");
				if (it->reason[0])
					fprintf(f, "                  %s\n", it->reason);
			}
		}
	}
	if (!o->dry_run && (res->undo_ranges || res->undo_committed))
		fprintf(f, "  undo: lifeboat undo %s/undo.log  (%" PRIu64 " ranges, %s saved)\n",
			run_dir, res->undo_ranges, lb_format_size(res->undo_bytes, sz, sizeof(sz)));
}

static void format_errline(struct lb_buf *b, const char *path, const struct lb_error *e)
{
	char object[LB_ERR_OBJECT_MAX];

	lb_cli_object(path, e->object, object, sizeof(object));
	lb_buf_printf(b, "lifeboat: repair: %s: %s%s%s%s%s\n", path, object, object[0] ? ": " : "",
		      e->problem, e->hint[0] ? "; " : "", e->hint);
}

/*
 * In the worker, once its image is open: raw and fixed VHD images are read
 * by lifeboat itself, so the worker will start no helper (qemu-nbd) and its
 * sandbox can forbid starting processes at all.
 */
static void tighten_sandbox(const struct lb_image *img)
{
	if (img->format == LB_FMT_RAW ||
	    (img->format == LB_FMT_VHD && img->vhd.disk_type == LB_VHD_FIXED))
		(void)lb_sandbox_tighten(); /* on failure the first filter still holds */
}

/* In the worker: repair one image and send back text, JSON and the error line. */
static int worker(void *vctx, size_t item, int fd)
{
	struct repair_ctx *ctx = vctx;
	struct image_job *job = &ctx->jobs[item];
	struct lb_repair_opts o = ctx->opts;
	struct lb_repair_result res;
	char *tbuf = NULL, *jbuf = NULL;
	size_t tlen = 0, jlen = 0;
	struct lb_buf out, eb;
	FILE *tf, *jf;
	struct lb_json j;
	int r, code;

	if (lb_sandbox_active())
		o.image_opened = tighten_sandbox;
	if (!o.dry_run) {
		r = mkdir_p(job->run_dir, 0700);
		if (r < 0) {
			memset(&res, 0, sizeof(res));
			res.status = LB_REPAIR_FAILED;
			res.err = lb_err(r, job->run_dir, "choose another folder with --undo-dir",
					 "cannot create the folder for the undo log: %s",
					 strerror(-r));
			lb_err_save(&res.error);
			goto report;
		}
		o.run_dir = job->run_dir;
	}
	r = lb_repair_image(job->path, &o, &res);
	if (!o.dry_run && !res.undo_ranges && !res.undo_committed)
		rmdir(job->run_dir); /* nothing written: leave no empty folder behind */
report:
	code = res.status == LB_REPAIR_REFUSED	? LB_EXIT_REFUSED
	       : res.status == LB_REPAIR_FAILED ? lb_exit_code(res.err ? res.err : -EIO)
						: LB_EXIT_OK;
	tf = open_memstream(&tbuf, &tlen);
	jf = open_memstream(&jbuf, &jlen);
	if (!tf || !jf)
		_exit(LB_EXIT_FAILURE);
	text_result(tf, job->path, &o, &res, job->run_dir);
	lb_json_init(&j, jf, LB_JSON_COMPACT);
	json_result(&j, job->path, &o, &res, job->run_dir);
	fclose(tf);
	fclose(jf);
	lb_buf_init(&eb, 1 << 16);
	if (res.status == LB_REPAIR_REFUSED || res.status == LB_REPAIR_FAILED) {
		format_errline(&eb, job->path, &res.error);
	} else {
		/*
		 * A volume that could not be examined may hold what the recipe looks
		 * for: the image was done in part, and the exit status says so (as
		 * inspect does for an unreadable partition).
		 */
		for (unsigned i = 0; i < res.nvols; i++) {
			struct lb_error e = res.vols[i].error;
			char obj[64];

			if (!res.vols[i].err)
				continue;
			snprintf(obj, sizeof(obj), "partition %u", res.vols[i].part);
			if (!e.object[0])
				lb_strlcpy(e.object, obj, sizeof(e.object));
			else if (!strstr(e.object, "partition")) {
				char both[LB_ERR_OBJECT_MAX];

				snprintf(both, sizeof(both), "%s: %s", obj, e.object);
				lb_strlcpy(e.object, both, sizeof(e.object));
			}
			format_errline(&eb, job->path, &e);
			if (code == LB_EXIT_OK)
				code = res.vols[i].err == -EPERM ? LB_EXIT_REFUSED
								 : lb_exit_code(res.vols[i].err);
		}
	}
	lb_buf_init(&out, LB_WORKER_MAX_OUTPUT);
	lb_buf_printf(&out, "%d", code);
	lb_buf_append(&out, "", 1);
	lb_buf_append(&out, tbuf, tlen);
	lb_buf_append(&out, "", 1);
	lb_buf_append(&out, jbuf, jlen);
	lb_buf_append(&out, "", 1);
	lb_buf_append(&out, eb.data ? eb.data : "", eb.len);
	lb_buf_append(&out, "", 1);
	for (size_t off = 0; off < out.len;) {
		ssize_t w = write(fd, out.data + off, out.len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	(void)r;
	return code;
}

/* ---- in the parent -------------------------------------------------------------- */

/* Split the worker's message: code \0 text \0 json \0 errline \0. Returns false if incomplete. */
static bool parse_message(const char *data, size_t len, struct image_job *job)
{
	const char *parts[4];
	size_t k = 0, start = 0;

	for (size_t i = 0; i < len && k < 4; i++)
		if (!data[i]) {
			parts[k++] = data + start;
			start = i + 1;
		}
	if (k != 4)
		return false;
	job->code = (int)strtol(parts[0], NULL, 10);
	job->text = strdup(parts[1]);
	job->json = strdup(parts[2]);
	job->errline = strdup(parts[3]);
	return job->text && job->json && job->errline;
}

static void crashed(struct repair_ctx *ctx, struct image_job *job, const struct lb_worker_exit *ex)
{
	char undo_log[RUN_PATH_MAX + 16], why[160], what[512], call[64] = "";
	struct lb_buf t, e;
	struct lb_json j;
	FILE *jf;
	char *jbuf = NULL;
	size_t jlen = 0;
	uint64_t ranges = 0;
	bool rolled = false, had_log;
	int r = 0;

	if (ex->sandbox_kill) {
		lb_sandbox_syscall_name(ex->syscall_nr, call, sizeof(call));
		if (ex->syscall_nr >= 0)
			snprintf(why, sizeof(why),
				 "worker killed by the sandbox (forbidden system call %d/%s)",
				 ex->syscall_nr, call);
		else
			snprintf(why, sizeof(why),
				 "worker killed by the sandbox (forbidden system call, SIGSYS)");
	} else if (ex->signal)
		snprintf(why, sizeof(why), "worker crashed (signal %d, %s)", ex->signal,
			 strsignal(ex->signal));
	else if (ex->exited)
		snprintf(why, sizeof(why), "worker ended without a report (exit status %d)",
			 ex->status);
	else
		snprintf(why, sizeof(why), "not started (interrupted)");
	snprintf(undo_log, sizeof(undo_log), "%s/undo.log", job->run_dir);
	had_log = ex->started && !ctx->opts.dry_run && access(undo_log, F_OK) == 0;
	if (had_log) {
		lb_err_clear();
		r = lb_repair_rollback(job->path, ctx->opts.format, undo_log, &ranges);
		rolled = r >= 0;
	}
	if (!ex->started)
		snprintf(what, sizeof(what), "the image was not touched");
	else if (!had_log)
		snprintf(what, sizeof(what), "it had written nothing; the image is unchanged");
	else if (rolled)
		snprintf(what, sizeof(what),
			 "image restored to its original state (%" PRIu64 " ranges put back)",
			 ranges);
	else
		snprintf(what, sizeof(what), "rolling back failed (%s); run 'lifeboat undo %s'",
			 lb_err_last()->problem, undo_log);
	lb_buf_init(&t, 1 << 16);
	lb_buf_printf(&t, "%s: failed: %s; %s\n", job->path, why, what);
	job->text = lb_buf_steal(&t);
	lb_buf_init(&e, 1 << 16);
	lb_buf_printf(&e, "lifeboat: repair: %s: %s; %s\n", job->path, why, what);
	job->errline = lb_buf_steal(&e);
	jf = open_memstream(&jbuf, &jlen);
	if (jf) {
		lb_json_init(&j, jf, LB_JSON_COMPACT);
		lb_json_begin_object(&j, NULL);
		lb_json_string(&j, "path", job->path);
		lb_json_string(&j, "status", ex->started ? "failed" : "not-started");
		lb_json_bool(&j, "dry_run", ctx->opts.dry_run);
		lb_json_string(&j, "recipe", ctx->opts.recipe->name);
		lb_json_begin_object(&j, "error");
		lb_json_string(&j, "code",
			       !ex->started ? "EINTR" : ex->sandbox_kill ? "ESANDBOX" : "EWORKER");
		lb_json_null(&j, "object");
		lb_json_string(&j, "message", why);
		lb_json_string(&j, "hint", what);
		lb_json_end_object(&j);
		lb_json_begin_object(&j, "worker");
		if (ex->signal)
			lb_json_i64(&j, "signal", ex->signal);
		else
			lb_json_null(&j, "signal");
		lb_json_bool(&j, "sandboxed", ex->sandboxed);
		if (ex->sandbox_kill && call[0] && ex->syscall_nr >= 0)
			lb_json_string(&j, "forbidden_syscall", call);
		lb_json_bool(&j, "rolled_back", rolled);
		lb_json_u64(&j, "ranges_restored", ranges);
		lb_json_end_object(&j);
		lb_json_end_object(&j);
		fclose(jf);
	}
	job->json = jbuf;
	job->code = ex->started ? (had_log && !rolled ? LB_EXIT_IO : LB_EXIT_FAILURE)
				: LB_EXIT_INTERRUPTED;
	lb_strlcpy(job->status, ex->started ? "crashed" : "not started", sizeof(job->status));
	snprintf(job->note, sizeof(job->note), "%s",
		 rolled	   ? "rolled back"
		 : had_log ? "ROLLBACK FAILED"
			   : "");
}

/* Pick the summary figures out of the worker's JSON (we wrote it, so a scan is enough). */
static unsigned count_results(const char *json, const char *result)
{
	char pat[64];
	unsigned n = 0;

	snprintf(pat, sizeof(pat), "\"result\":\"%s\"", result);
	for (const char *p = json; (p = strstr(p, pat)); p++)
		n++;
	return n;
}

static void print_ready(struct repair_ctx *ctx)
{
	while (ctx->next_print < ctx->n && ctx->jobs[ctx->next_print].finished) {
		struct image_job *job = &ctx->jobs[ctx->next_print++];

		if (job->errline && *job->errline) {
			fflush(stdout);
			fputs(job->errline, stderr);
		}
		if (lb_cli.json) {
			lb_json_raw(&ctx->j, NULL, job->json && *job->json ? job->json : "null");
		} else if (lb_cli.verbosity >= 0) {
			fputs(job->text ? job->text : "", stdout);
		}
		if (ctx->report)
			lb_json_raw(&ctx->rj, NULL, job->json && *job->json ? job->json : "null");
		fflush(stdout);
		job->printed = true;
	}
}

static void audit(struct repair_ctx *ctx, struct image_job *job)
{
	char journal[RUN_PATH_MAX + 16], now[48];
	struct timespec ts;
	struct lb_buf m;
	int r;

	if (ctx->opts.dry_run || !job->json || !*job->json)
		return;
	if (mkdir_p(job->undo_root, 0700) < 0)
		return;
	snprintf(journal, sizeof(journal), "%s/audit.jsonl", job->undo_root);
	clock_gettime(CLOCK_REALTIME, &ts);
	lb_buf_init(&m, LB_AUDIT_MAX_LINE);
	lb_buf_printf(&m, "\"event\":\"repair\",\"time\":\"%s\",\"host_pid\":%d,\"result\":",
		      lb_format_time(&ts, 0, now, sizeof(now)), (int)getpid());
	if (lb_buf_puts(&m, job->json) < 0) {
		lb_buf_release(&m);
		return;
	}
	lb_err_clear();
	r = lb_audit_append(journal, m.data);
	if (r < 0)
		lb_cli_error(journal);
	lb_buf_release(&m);
}

static void done(void *vctx, size_t item, const struct lb_worker_exit *ex, const char *data,
		 size_t len)
{
	struct repair_ctx *ctx = vctx;
	struct image_job *job = &ctx->jobs[item];

	if (!ex->started || !parse_message(data, len, job) || (!ex->exited && ex->signal)) {
		free(job->text);
		free(job->json);
		free(job->errline);
		job->text = job->json = job->errline = NULL;
		crashed(ctx, job, ex);
	} else {
		const char *s = strstr(job->json, "\"status\":\"");

		if (s)
			sscanf(s + 10, "%15[a-z-]", job->status);
		job->changes =
			count_results(job->json, ctx->opts.dry_run ? "would-delete" : "deleted") +
			count_results(job->json, ctx->opts.dry_run ? "would-set" : "set") +
			count_results(job->json, "deleted-value");
		job->kept = count_results(job->json, "kept") + count_results(job->json, "skipped");
		if (job->code && !strcmp(job->status, "changed"))
			lb_strlcpy(job->note, "a volume could not be examined (see above)",
				   sizeof(job->note));
		else if (strstr(job->json, "\"journal_reset\":true"))
			lb_strlcpy(job->note, "dirty volume: journal reset", sizeof(job->note));
		else if (ctx->opts.dry_run && strstr(job->json, "\"dirty\":true") && job->changes)
			lb_strlcpy(job->note, "dirty volume", sizeof(job->note));
	}
	job->finished = true;
	ctx->finished++;
	audit(ctx, job);
	lb_progress_update(ctx->prog, 0, ctx->finished, job->path);
	print_ready(ctx);
}

static void summary_table(struct repair_ctx *ctx)
{
	size_t w = 5;

	for (size_t i = 0; i < ctx->n; i++)
		w = LB_MAX(w, strlen(ctx->jobs[i].path));
	w = LB_MIN(w, (size_t)48);
	printf("\n%-*s  %-12s %7s %6s  %s\n", (int)w, "image", "result",
	       ctx->opts.dry_run ? "to do" : "changed", "kept", "note");
	for (size_t i = 0; i < ctx->n; i++) {
		const struct image_job *job = &ctx->jobs[i];
		const char *st = job->status;

		if (!strcmp(st, "changed"))
			st = ctx->opts.dry_run ? "would change" : "repaired";
		else if (!strcmp(st, "clean"))
			st = "clean";
		printf("%-*s  %-12s %7u %6u  %s\n", (int)w, job->path, st, job->changes, job->kept,
		       job->note);
	}
}

int cmd_repair(int argc, char **argv, const struct lb_cmd *cmd)
{
	const char *recipe_name = NULL, *undo_dir = NULL, *format = NULL, *report = NULL;
	int dry_run = 0, no_dirty = 0, allow_dirty_hive = 0;
	unsigned jobs = 0, partition = 0;
	const struct lb_option opts[] = {
		{LB_OPT_STRING, 'r', "recipe", &recipe_name, "NAME|FILE",
		 "apply this recipe (see 'lifeboat recipes')"},
		{LB_OPT_CALLBACK, 0, "param", NULL, "NAME=VALUE", "a value for a recipe parameter",
		 param_cb},
		{LB_OPT_CALLBACK, 0, "delete", (void *)"delete", "GLOB",
		 "delete the files matching GLOB (a path from the volume's root; * ? [a-z] **)",
		 adhoc_cb},
		{LB_OPT_CALLBACK, 0, "type", (void *)"type", "KIND",
		 "what the --delete before may delete: file (default), symlink, any", adhoc_cb},
		{LB_OPT_CALLBACK, 0, "mtime-after", (void *)"mtime-after", "TIME",
		 "only files last written at or after TIME (ISO 8601 with a zone)", adhoc_cb},
		{LB_OPT_CALLBACK, 0, "mtime-before", (void *)"mtime-before", "TIME",
		 "only files last written before TIME", adhoc_cb},
		{LB_OPT_CALLBACK, 0, "header", (void *)"header", "HEX",
		 "only files whose first bytes are HEX (AAAAAAAA01002301)", adhoc_cb},
		{LB_OPT_CALLBACK, 0, "sha256", (void *)"sha256", "HEX",
		 "only files with this SHA-256", adhoc_cb},
		{LB_OPT_CALLBACK, 0, "max-size", (void *)"max-size", "SIZE",
		 "only files up to SIZE bytes", adhoc_cb},
		{LB_OPT_CALLBACK, 0, "reg-set", (void *)"reg-set", "KEY\\VALUE=TYPE:DATA",
		 "set a registry value (dword:4, qword:N, sz:TEXT, expand_sz:TEXT, multi_sz:A,B, "
		 "binary:HEX)",
		 adhoc_cb},
		{LB_OPT_CALLBACK, 0, "reg-delete", (void *)"reg-delete", "KEY\\VALUE",
		 "delete a registry value", adhoc_cb},
		{LB_OPT_BOOL, 'n', "dry-run", &dry_run, NULL,
		 "show exactly what would change; change nothing"},
		{LB_OPT_UINT, 'j', "jobs", &jobs, "N",
		 "repair N images at a time (default: the number of CPUs)"},
		{LB_OPT_UINT, 'p', "partition", &partition, "N",
		 "only this partition (0: a disk without a partition table)"},
		{LB_OPT_BOOL, 0, "no-dirty", &no_dirty, NULL,
		 "refuse a dirty NTFS volume instead of resetting its journal like ntfsfix"},
		{LB_OPT_BOOL, 0, "allow-dirty-hive", &allow_dirty_hive, NULL,
		 "write a registry hive whose .LOG files hold changes not yet in it (they are "
		 "lost)"},
		{LB_OPT_STRING, 0, "undo-dir", &undo_dir, "DIR",
		 "keep undo logs, quarantine and the audit journal in DIR (default: "
		 "lifeboat-undo/ next to each image)"},
		{LB_OPT_STRING, 0, "report", &report, "FILE", "also write the JSON report to FILE"},
		{LB_OPT_STRING, 'f', "format", &format, "FMT",
		 "read images as this format (default: detect)"},
		{LB_OPT_END},
	};
	struct repair_ctx ctx = {0};
	struct lb_recipe *recipe = NULL;
	char stamp[32];
	struct timespec now;
	unsigned n_ok = 0, n_bad = 0;
	int first_code = 0, n, r, code;
	bool mixed = false;
	struct tm tm;
	bool partition_set = false;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--partition") || !strcmp(argv[i], "-p") ||
		    !strncmp(argv[i], "--partition=", 12))
			partition_set = true;
	n = lb_parse_options(argc, argv, opts, cmd);
	if (n < 0) {
		lb_recipe_free(adhoc);
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	}
	if (n == 0) {
		lb_recipe_free(adhoc);
		return lb_cli_usage("no image given");
	}
	if (recipe_name && adhoc) {
		lb_recipe_free(adhoc);
		return lb_cli_usage("give either --recipe or actions (--delete, --reg-set, "
				    "--reg-delete), not both");
	}
	if (!recipe_name && !adhoc)
		return lb_cli_usage(
			"nothing to do: give --recipe NAME, or --delete GLOB, --reg-set, "
			"--reg-delete");
	if (format && lb_image_format_parse(format, &ctx.opts.format) < 0) {
		lb_recipe_free(adhoc);
		return lb_cli_usage("--format: '%s' is not one of raw, vhd, vhdx, qcow2, vmdk, vdi",
				    format);
	}
	if (recipe_name) {
		r = lb_recipe_load(recipe_name, params, nparams, &recipe);
		if (r < 0) {
			lb_cli_error(NULL);
			return LB_EXIT_USAGE;
		}
	} else {
		r = lb_recipe_finish(adhoc);
		if (r < 0) {
			lb_recipe_free(adhoc);
			return lb_cli_usage("%s", lb_err_last()->problem);
		}
		recipe = adhoc;
		adhoc = NULL;
	}
	ctx.opts.recipe = recipe;
	ctx.opts.dry_run = dry_run;
	ctx.opts.fix_dirty = !no_dirty;
	ctx.opts.allow_dirty_hive = allow_dirty_hive;
	ctx.opts.partition = partition;
	ctx.opts.partition_set = partition_set;
	ctx.n = (size_t)n;
	ctx.jobs = calloc(ctx.n, sizeof(*ctx.jobs));
	if (!ctx.jobs) {
		lb_recipe_free(recipe);
		return LB_EXIT_FAILURE;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (size_t i = 0; i < ctx.n; i++) {
		ctx.jobs[i].path = argv[1 + i];
		if (plan_run_dir(&ctx.jobs[i], undo_dir, stamp, i) < 0) {
			code = lb_cli_error(argv[1 + i]);
			lb_recipe_free(recipe);
			free(ctx.jobs);
			return code == LB_EXIT_FAILURE ? LB_EXIT_USAGE : code;
		}
	}
	if (report) {
		ctx.report = fopen(report, "w");
		if (!ctx.report) {
			lb_err(-errno, report, "check the path", "cannot create the report: %s",
			       strerror(errno));
			lb_recipe_free(recipe);
			free(ctx.jobs);
			return lb_cli_error(NULL);
		}
	}
	if (!jobs) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		jobs = c > 0 ? (unsigned)c : 1;
	}
	lb_cli_install_signals();
	for (int k = 0; k < 2; k++) {
		struct lb_json *j = k ? &ctx.rj : &ctx.j;

		if (k ? !ctx.report : !lb_cli.json)
			continue;
		lb_json_init(j, k ? ctx.report : stdout, LB_JSON_COMPACT);
		lb_json_begin_object(j, NULL);
		lb_json_u64(j, "version", 1);
		lb_json_string(j, "command", "repair");
		lb_json_string(j, "recipe", recipe->name);
		lb_json_bool(j, "dry_run", dry_run);
		lb_json_begin_array(j, "images");
	}
	ctx.prog = lb_progress_start("repair", 0, ctx.n);
	r = lb_workers_run(ctx.n, jobs, worker, done, &ctx);
	lb_progress_finish(ctx.prog);
	print_ready(&ctx);
	for (size_t i = 0; i < ctx.n; i++) {
		const struct image_job *job = &ctx.jobs[i];

		if (job->code == LB_EXIT_OK) {
			n_ok++;
			continue;
		}
		n_bad++;
		if (first_code && job->code != first_code)
			mixed = true;
		if (!first_code)
			first_code = job->code;
	}
	for (int k = 0; k < 2; k++) {
		struct lb_json *j = k ? &ctx.rj : &ctx.j;

		if (k ? !ctx.report : !lb_cli.json)
			continue;
		lb_json_end_array(j);
		lb_json_begin_object(j, "summary");
		lb_json_u64(j, "images", ctx.n);
		lb_json_u64(j, "ok", n_ok);
		lb_json_u64(j, "failed", n_bad);
		lb_json_end_object(j);
		lb_json_end_object(j);
		lb_json_finish(j);
	}
	if (ctx.report)
		fclose(ctx.report);
	if (!lb_cli.json && lb_cli.verbosity >= 0 && ctx.n > 1)
		summary_table(&ctx);
	for (size_t i = 0; i < ctx.n; i++) {
		free(ctx.jobs[i].text);
		free(ctx.jobs[i].json);
		free(ctx.jobs[i].errline);
	}
	free(ctx.jobs);
	lb_recipe_free(recipe);
	for (size_t i = 0; i < nparams; i++)
		free((char *)params[i].name);
	if (r == -EINTR)
		return LB_EXIT_INTERRUPTED;
	if (!n_bad)
		return LB_EXIT_OK;
	if (n_ok)
		return LB_EXIT_PARTIAL;
	return mixed ? LB_EXIT_FAILURE : first_code;
}
