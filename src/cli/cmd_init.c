/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmd_init.c - lifeboat init [-r REPO] [--no-encryption]: create a repository. */
#include "cli/cli.h"
#include "cli/repoopt.h"
#include "base/err.h"
#include "base/json.h"
#include "base/sha256.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

int cmd_init(int argc, char **argv, const struct lb_cmd *cmd)
{
	struct lb_repo_args ra = {0};
	int no_encryption = 0;
	uint64_t chunk = 0;
	const struct lb_option opts[] = {
		LB_REPO_OPTIONS(&ra),
		{LB_OPT_BOOL, 0, "no-encryption", &no_encryption, NULL,
		 "store everything unencrypted (anyone who can read the folder reads the backups)"},
		{LB_OPT_SIZE, 0, "image-chunk-size", &chunk, "SIZE",
		 "chunk size for disk images: a power of two from 4K to 1M (default 8K)"},
		{LB_OPT_END},
	};
	struct lb_repo_init_opts io = {0};
	struct lb_repo *r = NULL;
	const char *url;
	char *pw = NULL, hex[LB_SHA256_HEX], sz[32];
	struct lb_json j;
	int n, rc;

	n = lb_parse_options(argc, argv, opts, cmd);
	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (n > 0)
		return lb_cli_usage("unexpected argument '%s' (the repository is given with -r)",
				    argv[1]);
	url = lb_cli_repo_url(&ra);
	if (!url)
		return lb_cli_usage("no repository: give -r REPO or set LIFEBOAT_REPOSITORY");
	if (chunk > UINT32_MAX)
		return lb_cli_usage("--image-chunk-size: too large");
	io.encrypted = !no_encryption;
	io.image_chunk = (uint32_t)chunk;
	if (io.encrypted) {
		rc = lb_cli_password(&ra, true, &pw);
		if (rc < 0)
			return lb_cli_error(NULL); /* as every command that needs the password */
	}
	rc = lb_repo_init(url, pw, &io, &r);
	if (pw) {
		memset(pw, 0, strlen(pw));
		free(pw);
	}
	if (rc < 0)
		return lb_cli_error(url);
	lb_hex(r->cfg.repo_id, 8, hex);
	if (r->cfg.encrypted && getenv("LIFEBOAT_KDF_FAST") && *getenv("LIFEBOAT_KDF_FAST") == '1')
		fprintf(stderr, "lifeboat: init: %s: warning: LIFEBOAT_KDF_FAST is set, so the key is "
				"protected by Argon2id at its minimum cost, for good; it is meant for "
				"tests: create real repositories without it\n",
			url);
	if (lb_cli.json) {
		lb_json_init(&j, stdout, LB_JSON_PRETTY);
		lb_json_begin_object(&j, NULL);
		lb_json_string(&j, "repository", url);
		lb_json_string(&j, "id", hex);
		lb_json_bool(&j, "encrypted", r->cfg.encrypted);
		lb_json_u64(&j, "image_chunk_size", r->cfg.image_chunk);
		lb_json_end_object(&j);
		lb_json_finish(&j);
	} else if (lb_cli.verbosity >= 0) {
		printf("created repository %s at %s (%s, image chunks of %s)\n", hex, url,
		       r->cfg.encrypted ? "encrypted" : "NOT encrypted",
		       lb_format_size(r->cfg.image_chunk, sz, sizeof(sz)));
		if (r->cfg.encrypted)
			printf("keep the password safe: without it the backups cannot be read\n");
	}
	lb_repo_close(r);
	return LB_EXIT_OK;
}
