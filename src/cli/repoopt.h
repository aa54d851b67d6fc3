/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * repoopt.h - what every repository command shares: -r/--repo,
 * --password-file and --s3-endpoint, the environment (LIFEBOAT_REPOSITORY,
 * LIFEBOAT_PASSWORD_FILE, LIFEBOAT_PASSWORD; the AWS_* variables are read by
 * the S3 store), asking for the password on the terminal, and snapshot
 * operands for the image commands.
 */
#ifndef LB_CLI_REPOOPT_H
#define LB_CLI_REPOOPT_H

#include <stdbool.h>

#include "cli/cli.h"
#include "repo/repo.h"

struct lb_repo_args {
	const char *repo;
	const char *password_file;
	const char *s3_endpoint;
};

/* clang-format off */
#define LB_REPO_OPTIONS(a) \
	{ LB_OPT_STRING, 'r', "repo", &(a)->repo, "REPO", \
	  "the repository: a folder or s3://BUCKET/PREFIX (default: $LIFEBOAT_REPOSITORY)" }, \
	{ LB_OPT_STRING, 0, "password-file", &(a)->password_file, "FILE", \
	  "read the password from FILE (default: $LIFEBOAT_PASSWORD_FILE, $LIFEBOAT_PASSWORD, or ask)" }, \
	{ LB_OPT_STRING, 0, "s3-endpoint", &(a)->s3_endpoint, "URL", \
	  "the S3 server for s3:// repositories, e.g. http://127.0.0.1:7480 (default: $AWS_ENDPOINT_URL, else AWS)" }
/* clang-format on */

/*
 * The repository URL from the arguments or the environment, or NULL. Also
 * hands --s3-endpoint to the store layer (lb_store_set_s3_endpoint()).
 */
const char *lb_cli_repo_url(const struct lb_repo_args *a);

/*
 * The password: --password-file, $LIFEBOAT_PASSWORD_FILE, $LIFEBOAT_PASSWORD,
 * else asked on the terminal (twice with @confirm). Returns 0 and a
 * malloc'ed string (wipe and free it), or a negative errno (recorded).
 */
int lb_cli_password(const struct lb_repo_args *a, bool confirm, char **out);

/*
 * Open the repository the arguments name. Returns 0, or a negative errno
 * (recorded): no repository given (-EINVAL), the errors of lb_repo_open().
 */
int lb_cli_repo_open(const struct lb_repo_args *a, struct lb_repo **out);

/*
 * Let the image commands (inspect, ls, find, cat, reg) read snapshots: an
 * operand "snapshot:REF", or a REF ("NAME@TIME", "NAME@latest", an ID prefix)
 * that is not a file, opens the image snapshot REF of the repository (from
 * LB_SNAPSHOT_REPO_OPTIONS or the environment) as a read-only device. main()
 * calls it once.
 */
void lb_cli_enable_snapshot_operands(void);

struct lb_fs;

/*
 * If @path (an operand of ls, find, cat, reg) names a file-tree snapshot,
 * open it as a read-only file system: returns 1 and @out. Returns 0 if it
 * is not a snapshot reference or names an image snapshot (the image layer
 * opens those), or an error (recorded).
 */
int lb_cli_snapshot_fs(const char *path, struct lb_fs **out);

/* Where snapshot operands come from (-r / --password-file of the image commands). */
extern struct lb_repo_args lb_cli_snapshot_repo;

/* clang-format off */
#define LB_SNAPSHOT_REPO_OPTIONS \
	{ LB_OPT_STRING, 'r', "repo", &lb_cli_snapshot_repo.repo, "REPO", \
	  "read snapshot operands (snapshot:ID, NAME@TIME) from this repository" }, \
	{ LB_OPT_STRING, 0, "password-file", &lb_cli_snapshot_repo.password_file, "FILE", \
	  "the repository's password file" }, \
	{ LB_OPT_STRING, 0, "s3-endpoint", &lb_cli_snapshot_repo.s3_endpoint, "URL", \
	  "the S3 server of an s3:// repository (default: $AWS_ENDPOINT_URL)" }
/* clang-format on */

#endif
