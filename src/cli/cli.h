/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cli.h - what every command shares: the command table entry, global
 * settings, option parsing, messages and exit codes.
 *
 * The CLI is the only layer that prints. Errors are printed once, as
 *
 *     lifeboat: <command>: <object>: <problem>; <what to do>
 *
 * Exit codes (stable; documented in lifeboat(1) and the README):
 *   0  success
 *   1  failure not covered below
 *   2  usage error: unknown option, missing argument, bad value
 *   3  partial success: some of several inputs failed, the others succeeded
 *   4  an input cannot be opened: missing, a directory, permission denied
 *   5  an input is damaged or not what it should be: bad magic, checksum,
 *      impossible sizes, unsupported or encrypted format
 *   6  refused to protect data: hibernated volume, image in use, BitLocker
 *   7  I/O error: a read or write failed, disk full
 *   130 interrupted (SIGINT)
 */
#ifndef LB_CLI_CLI_H
#define LB_CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum {
	LB_EXIT_OK = 0,
	LB_EXIT_FAILURE = 1,
	LB_EXIT_USAGE = 2,
	LB_EXIT_PARTIAL = 3,
	LB_EXIT_NOINPUT = 4,
	LB_EXIT_BADINPUT = 5,
	LB_EXIT_REFUSED = 6,
	LB_EXIT_IO = 7,
	LB_EXIT_INTERRUPTED = 130,
};

enum lb_progress_mode {
	LB_PROGRESS_AUTO = 0, /* a bar if stderr is a terminal and not -q */
	LB_PROGRESS_BAR,
	LB_PROGRESS_JSON, /* JSON Lines on stderr */
	LB_PROGRESS_NONE,
};

struct lb_cmd {
	const char *name;
	int (*fn)(int argc, char **argv, const struct lb_cmd *cmd);
	const char *summary;	 /* one line, for 'lifeboat --help' */
	const char *usage;	 /* "lifeboat inspect [options] IMAGE..." */
	const char *description; /* a paragraph or two for --help */
};

/* Settings of this invocation, set by option parsing. */
struct lb_cli_state {
	const char *cmd; /* command name, for messages */
	int verbosity;	 /* -1 quiet, 0 normal, 1.. verbose */
	bool json;
	enum lb_progress_mode progress;
};
extern struct lb_cli_state lb_cli;

/* ---- options ---------------------------------------------------------- */

enum lb_opt_type {
	LB_OPT_END = 0,
	LB_OPT_BOOL,	 /* int *: set to 1 (--no-NAME sets 0) */
	LB_OPT_STRING,	 /* const char **: the argument */
	LB_OPT_SIZE,	 /* uint64_t *: lb_parse_size() */
	LB_OPT_UINT,	 /* unsigned *: a decimal number */
	LB_OPT_CALLBACK, /* cb(opt, arg); arg NULL for options without one */
};

struct lb_option {
	enum lb_opt_type type;
	int short_name;	       /* 0 if none */
	const char *long_name; /* NULL if none */
	void *value;
	const char *argh; /* name of the argument in help, NULL: takes none */
	const char *help;
	int (*cb)(const struct lb_option *opt, const char *arg); /* 0 ok, <0 usage error printed */
};

/*
 * Parse @argv[1..] (argv[0] is the command name) against @opts plus the
 * options every command has (-h/--help, --json, -q/--quiet, -v/--verbose,
 * --progress=MODE). Options and operands may be mixed; "--" ends options.
 * Operands are moved to argv[1..n]. Returns n >= 0; -1 after printing a usage
 * error (exit 2); -2 after printing help (exit 0).
 */
int lb_parse_options(int argc, char **argv, const struct lb_option *opts, const struct lb_cmd *cmd);
void lb_print_cmd_help(FILE *f, const struct lb_cmd *cmd, const struct lb_option *opts);

/* ---- messages --------------------------------------------------------- */

/*
 * Print the recorded error about @subject (an image path, or NULL):
 * "lifeboat: <cmd>: <subject>: <object>: <problem>; <hint>" (before a
 * command is known: "lifeboat: <problem>; <hint>"). Parts of the object that
 * repeat the subject are left out (lb_cli_object). Returns the exit code.
 */
int lb_cli_error(const char *subject);
/* The same for a saved error record. */
struct lb_error;
int lb_cli_print_error(const char *subject, const struct lb_error *e);
/*
 * @object without the ": "-separated parts that repeat @subject (devices are
 * named after the image path, so "GPT primary header: disk.img" about
 * "disk.img" becomes "GPT primary header"). Returns @buf; "" if nothing is
 * left. Used for the printed message and the JSON "object" alike.
 */
const char *lb_cli_object(const char *subject, const char *object, char *buf, size_t cap);
/* Print a usage error and the hint to see --help; returns LB_EXIT_USAGE. */
int lb_cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "lifeboat: <cmd>: <subject>: warning: ..." unless quiet. */
void lb_cli_warn(const char *subject, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Printed with -v only. */
void lb_cli_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Exit code for a negative errno (see the table above). */
int lb_exit_code(int err);
/* "EBADMSG", "ENOENT", ... for JSON output. */
const char *lb_errno_name(int err);

/* Set by SIGINT/SIGTERM; long loops check it. */
extern volatile int lb_interrupted;
void lb_cli_install_signals(void);

/* ---- commands --------------------------------------------------------- */

int cmd_inspect(int argc, char **argv, const struct lb_cmd *cmd);
int cmd_ls(int argc, char **argv, const struct lb_cmd *cmd);
int cmd_find(int argc, char **argv, const struct lb_cmd *cmd);
int cmd_cat(int argc, char **argv, const struct lb_cmd *cmd);
int cmd_reg(int argc, char **argv, const struct lb_cmd *cmd);
int cmd_repair(int argc, char **argv, const struct lb_cmd *cmd);
int cmd_undo(int argc, char **argv, const struct lb_cmd *cmd);
int cmd_recipes(int argc, char **argv, const struct lb_cmd *cmd);
int cmd_journal(int argc, char **argv, const struct lb_cmd *cmd);
int cmd_init(int argc, char **argv, const struct lb_cmd *cmd);
int cmd_backup(int argc, char **argv, const struct lb_cmd *cmd);
int cmd_snapshots(int argc, char **argv, const struct lb_cmd *cmd);
int cmd_restore(int argc, char **argv, const struct lb_cmd *cmd);
int cmd_check(int argc, char **argv, const struct lb_cmd *cmd);

#endif
