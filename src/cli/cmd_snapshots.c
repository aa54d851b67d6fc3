/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_snapshots.c - lifeboat snapshots [--name VM]: the backups in a repository. */
#include "cli/cli.h"
#include "cli/repoopt.h"
#include "base/err.h"
#include "base/json.h"
#include "base/sha256.h"
#include "base/timefmt.h"
#include "base/util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int cmd_snapshots(int argc, char **argv, const struct lb_cmd *cmd)
{
	struct lb_repo_args ra = {0};
	const char *name = NULL;
	const struct lb_option opts[] = {
		LB_REPO_OPTIONS(&ra),
		{LB_OPT_STRING, 'n', "name", &name, "NAME",
		 "only the snapshots of this VM (or tree)"},
		{LB_OPT_END},
	};
	struct lb_repo *r = NULL;
	struct lb_snapshot *v = NULL;
	size_t nv = 0, shown = 0;
	struct lb_json j;
	int n, rc;

	n = lb_parse_options(argc, argv, opts, cmd);
	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (n > 0)
		return lb_cli_usage("unexpected argument '%s'", argv[1]);
	rc = lb_cli_repo_open(&ra, &r);
	if (rc < 0)
		return lb_cli_error(NULL);
	rc = lb_repo_list_snapshots(r, &v, &nv);
	if (rc < 0) {
		lb_repo_close(r);
		return lb_cli_error(NULL);
	}
	if (lb_cli.json) {
		lb_json_init(&j, stdout, LB_JSON_PRETTY);
		lb_json_begin_object(&j, NULL);
		lb_json_u64(&j, "version", 1);
		lb_json_bool(&j, "encrypted", r->cfg.encrypted);
		lb_json_begin_array(&j, "snapshots");
	} else if (lb_cli.verbosity >= 0 && nv) {
		printf("%-8s  %-20s  %-20s  %-5s  %9s  %9s  %s\n", "id", "captured (UTC)", "name",
		       "kind", "size", "stored", "tags");
	}
	for (size_t i = 0; i < nv; i++) {
		const struct lb_snapshot *s = &v[i];
		char hex[LB_SHA256_HEX], t[48], a[32], b[32];

		if (name && strcmp(s->name, name))
			continue;
		shown++;
		if (lb_cli.json) {
			lb_json_begin_object(&j, NULL);
			lb_json_string(&j, "id", lb_hex(s->id, LB_ID_LEN, hex));
			lb_json_string(&j, "short_id", lb_hex(s->id, 4, hex));
			lb_json_string(&j, "name", s->name);
			lb_json_string(&j, "kind", s->kind == LB_SNAP_IMAGE ? "image" : "files");
			lb_json_string(&j, "time", lb_format_time(&s->time, 1, t, sizeof(t)));
			lb_json_i64(&j, "backup_started", s->started);
			lb_json_i64(&j, "backup_finished", s->finished);
			lb_json_string(&j, "hostname", s->hostname);
			lb_json_string(&j, "source", s->source);
			lb_json_begin_array(&j, "tags");
			for (size_t k = 0; k < s->ntags; k++)
				lb_json_string(&j, NULL, s->tags[k]);
			lb_json_end_array(&j);
			if (s->kind == LB_SNAP_IMAGE) {
				lb_json_string(&j, "format", s->format);
				lb_json_u64(&j, "virtual_size", s->virtual_size);
				lb_json_u64(&j, "chunk_size", s->chunk_size);
			}
			lb_json_u64(&j, "bytes_read", s->bytes_read);
			lb_json_u64(&j, "bytes_new", s->bytes_new);
			lb_json_u64(&j, "bytes_stored", s->bytes_stored);
			lb_json_u64(&j, "chunks_total", s->chunks_total);
			lb_json_u64(&j, "chunks_new", s->chunks_new);
			lb_json_end_object(&j);
		} else if (lb_cli.verbosity >= 0) {
			printf("%-8s  %-20s  %-20s  %-5s  %9s  %9s ", lb_hex(s->id, 4, hex),
			       lb_format_time(&s->time, 0, t, sizeof(t)), s->name,
			       s->kind == LB_SNAP_IMAGE ? "image" : "files",
			       s->kind == LB_SNAP_IMAGE
				       ? lb_format_size(s->virtual_size, a, sizeof(a))
				       : lb_format_size(s->bytes_read, a, sizeof(a)),
			       lb_format_size(s->bytes_stored, b, sizeof(b)));
			for (size_t k = 0; k < s->ntags; k++)
				printf(" %s", s->tags[k]);
			putchar('\n');
		}
	}
	if (lb_cli.json) {
		lb_json_end_array(&j);
		lb_json_end_object(&j);
		lb_json_finish(&j);
	} else if (lb_cli.verbosity >= 0 && !shown) {
		printf("no snapshots%s%s\n", name ? " of " : "", name ? name : "");
	}
	for (size_t i = 0; i < nv; i++)
		lb_snapshot_release(&v[i]);
	free(v);
	lb_repo_close(r);
	return LB_EXIT_OK;
}
