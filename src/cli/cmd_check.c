/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_check.c - lifeboat check [--read-data[=PERCENT]]: is the repository whole? */
#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/repoopt.h"
#include "base/err.h"
#include "base/json.h"
#include "base/util.h"
#include "repo/check.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct ctx {
	struct lb_json *j;
	struct lb_progress *p;
};

static double read_pct = 0;

static int read_data_cb(const struct lb_option *opt, const char *arg)
{
	char *end;

	(void)opt;
	if (!arg) {
		read_pct = 100;
		return 0;
	}
	read_pct = strtod(arg, &end);
	if (end == arg || (*end && strcmp(end, "%")) || read_pct <= 0 || read_pct > 100)
		return lb_cli_usage("--read-data: '%s' is not a percentage above 0, at most 100", arg), -1;
	return 0;
}

static void on_problem(void *vctx, const char *what)
{
	struct ctx *c = vctx;

	if (c->j) {
		lb_json_string(c->j, NULL, what);
		return;
	}
	fflush(stdout);
	fprintf(stderr, "lifeboat: check: %s\n", what);
}

static void on_progress(void *vctx, uint64_t done, uint64_t total, const char *what)
{
	struct ctx *c = vctx;

	if (!c->p)
		c->p = lb_progress_start("check", 0, total);
	lb_progress_update(c->p, 0, done, what);
}

int cmd_check(int argc, char **argv, const struct lb_cmd *cmd)
{
	struct lb_repo_args ra = {0};
	const struct lb_option opts[] = {
		LB_REPO_OPTIONS(&ra),
		{LB_OPT_CALLBACK, 0, "read-data", NULL, "[=PERCENT]",
		 "also read the packs (all, or a random PERCENT of them, at least one) and verify every chunk",
		 read_data_cb},
		{LB_OPT_END},
	};
	struct lb_check_opts o = {0};
	struct lb_check_result res;
	struct lb_repo *r = NULL;
	struct lb_json j;
	struct ctx c = {0};
	char sz[32];
	int n, rc;

	n = lb_parse_options(argc, argv, opts, cmd);
	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (n > 0)
		return lb_cli_usage("unexpected argument '%s'", argv[1]);
	rc = lb_cli_repo_open(&ra, &r);
	if (rc < 0)
		return lb_cli_error(NULL);
	if (lb_cli.json) {
		lb_json_init(&j, stdout, LB_JSON_PRETTY);
		lb_json_begin_object(&j, NULL);
		lb_json_string(&j, "repository", lb_store_url(r->store));
		lb_json_begin_array(&j, "problems");
		c.j = &j;
	}
	o.read_data = read_pct;
	o.problem = on_problem;
	o.progress = on_progress;
	o.ctx = &c;
	rc = lb_repo_check(r, &o, &res);
	lb_progress_finish(c.p);
	if (lb_cli.json) {
		lb_json_end_array(&j);
		lb_json_u64(&j, "snapshots", res.snapshots);
		lb_json_u64(&j, "packs", res.packs);
		lb_json_u64(&j, "chunks", res.chunks);
		lb_json_u64(&j, "packs_read", res.packs_read);
		lb_json_u64(&j, "bytes_read", res.bytes_read);
		lb_json_u64(&j, "damaged_packs", res.damaged_packs);
		lb_json_u64(&j, "affected_snapshots", res.affected_snapshots);
		lb_json_bool(&j, "ok", rc >= 0 && !res.problems);
		lb_json_end_object(&j);
		lb_json_finish(&j);
	}
	if (rc < 0) {
		rc = lb_cli_error(NULL);
	} else if (res.problems) {
		if (!lb_cli.json)
			fprintf(stderr,
				"lifeboat: check: %s: %" PRIu64 " problem%s (%" PRIu64
				" damaged pack%s; %" PRIu64 " snapshot%s affected); restore what "
				"you can, back up again, and keep the damaged repository for "
				"analysis\n",
				lb_store_url(r->store), res.problems, res.problems == 1 ? "" : "s",
				res.damaged_packs, res.damaged_packs == 1 ? "" : "s",
				res.affected_snapshots, res.affected_snapshots == 1 ? "" : "s");
		rc = LB_EXIT_BADINPUT;
	} else {
		if (!lb_cli.json && lb_cli.verbosity >= 0)
			printf("no problems: %" PRIu64 " snapshots, %" PRIu64 " packs, %" PRIu64
			       " chunks%s%s\n",
			       res.snapshots, res.packs, res.chunks,
			       read_pct > 0 ? "; data read and verified: " : "",
			       read_pct > 0 ? lb_format_size(res.bytes_read, sz, sizeof(sz)) : "");
		rc = LB_EXIT_OK;
	}
	lb_repo_close(r);
	return rc;
}
