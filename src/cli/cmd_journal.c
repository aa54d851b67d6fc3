/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_journal.c - lifeboat journal verify [JOURNAL]: is the audit journal intact? */
#include "cli/cli.h"
#include "base/err.h"
#include "base/json.h"
#include "repair/audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int cmd_journal(int argc, char **argv, const struct lb_cmd *cmd)
{
	const struct lb_option opts[] = {{LB_OPT_END}};
	const char *path = "lifeboat-undo/audit.jsonl";
	struct lb_audit_check chk = {0};
	struct lb_json j;
	int n, r;

	n = lb_parse_options(argc, argv, opts, cmd);
	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (n == 0 || strcmp(argv[1], "verify"))
		return lb_cli_usage("write 'lifeboat journal verify [JOURNAL]'");
	if (n > 2)
		return lb_cli_usage("one journal at a time");
	if (n == 2)
		path = argv[2];
	r = lb_audit_verify(path, &chk);
	if (lb_cli.json) {
		lb_json_init(&j, stdout, LB_JSON_PRETTY);
		lb_json_begin_object(&j, NULL);
		lb_json_string(&j, "journal", path);
		lb_json_bool(&j, "intact", r == 0);
		lb_json_u64(&j, "records", chk.records);
		if (chk.bad_line)
			lb_json_u64(&j, "bad_line", chk.bad_line);
		else
			lb_json_null(&j, "bad_line");
		lb_json_string(&j, "problem", r < 0 ? lb_err_last()->problem : NULL);
		lb_json_end_object(&j);
		lb_json_finish(&j);
	}
	if (r < 0)
		return lb_cli_error(path);
	if (!lb_cli.json && lb_cli.verbosity >= 0)
		printf("%s: intact, %" PRIu64 " records\n", path, chk.records);
	return LB_EXIT_OK;
}
