/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c - lifeboat [global options] <command> [options] [operands]
 *
 * The command table: one entry per subcommand, each implemented in its own
 * cmd_*.c file (git's builtin/ idea). Global options before the command are
 * the common ones (-q, -v, --json, --progress), plus --version and --help.
 */
#include "cli/cli.h"
#include "base/err.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LB_VERSION
#define LB_VERSION "0.0.0-dev"
#endif

static int cmd_help(int argc, char **argv, const struct lb_cmd *cmd);
static int cmd_version(int argc, char **argv, const struct lb_cmd *cmd);

static const struct lb_cmd commands[] = {
	{ "inspect", cmd_inspect, "describe images: format, partitions, file systems, health",
	  "lifeboat inspect [options] IMAGE...",
	  "Describe each image without changing it: format, virtual size, space used, partition\n"
	  "table, and for each partition its type and file system (label, cluster size, dirty,\n"
	  "hibernated, BitLocker). The image is opened read-only: not one byte changes.\n"
	  "\n"
	  "IMAGE is a file (raw, VHD, VHDX, qcow2, VMDK, VDI; detected by content), a block\n"
	  "device, or an NBD URI (nbd://host/export, nbd+unix:///export?socket=PATH)." },
	{ "help", cmd_help, "show help for a command", "lifeboat help [COMMAND]",
	  "Show the list of commands, or the help of one command." },
	{ "version", cmd_version, "print the version", "lifeboat version",
	  "Print lifeboat's version." },
};

static const struct lb_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_main_help(FILE *f)
{
	fprintf(f,
		"usage: lifeboat [--version] [--help] [-q|-v] [--json] [--progress=MODE] <command> [options]\n"
		"\n"
		"lifeboat repairs, backs up and restores the disks of virtual machines offline:\n"
		"no appliance VM, no mount, no root.\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nSee 'lifeboat help <command>' or 'lifeboat <command> --help' for the options of a\n"
		   "command, and lifeboat(1) for exit codes and the environment.\n");
}

static int cmd_help(int argc, char **argv, const struct lb_cmd *cmd)
{
	const struct lb_option none[] = { { LB_OPT_END } };
	int n = lb_parse_options(argc, argv, none, cmd);
	const struct lb_cmd *target;
	char *sub[3];

	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (n == 0) {
		print_main_help(stdout);
		return LB_EXIT_OK;
	}
	target = find_cmd(argv[1]);
	if (!target)
		return lb_cli_usage("'%s' is not a lifeboat command", argv[1]);
	/* ask the command itself, so its option table prints */
	sub[0] = (char *)target->name;
	sub[1] = (char *)"--help";
	sub[2] = NULL;
	lb_cli.cmd = target->name;
	return target->fn(2, sub, target);
}

static int cmd_version(int argc, char **argv, const struct lb_cmd *cmd)
{
	const struct lb_option none[] = { { LB_OPT_END } };
	int n = lb_parse_options(argc, argv, none, cmd);

	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (n > 0)
		return lb_cli_usage("unexpected argument '%s'", argv[1]);
	if (lb_cli.json)
		printf("{\"version\": \"%s\"}\n", LB_VERSION);
	else
		printf("lifeboat %s\n", LB_VERSION);
	return LB_EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct lb_cmd *cmd;
	int i = 1;

	signal(SIGPIPE, SIG_IGN);
	/* global options before the command */
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--version"))
			return cmd_version(1, argv, find_cmd("version"));
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			print_main_help(stdout);
			return LB_EXIT_OK;
		}
		if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
			lb_cli.verbosity = -1;
		else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
			lb_cli.verbosity = lb_cli.verbosity < 0 ? 1 : lb_cli.verbosity + 1;
		else if (!strcmp(a, "--json"))
			lb_cli.json = true;
		else if (!strncmp(a, "--progress=", 11) && (!strcmp(a + 11, "auto") || !strcmp(a + 11, "bar") ||
							     !strcmp(a + 11, "json") || !strcmp(a + 11, "none")))
			lb_cli.progress = !strcmp(a + 11, "bar")    ? LB_PROGRESS_BAR
					  : !strcmp(a + 11, "json") ? LB_PROGRESS_JSON
					  : !strcmp(a + 11, "none") ? LB_PROGRESS_NONE
								    : LB_PROGRESS_AUTO;
		else
			return lb_cli_usage("unknown global option '%s'", a);
	}
	if (i >= argc) {
		print_main_help(stderr);
		return LB_EXIT_USAGE;
	}
	cmd = find_cmd(argv[i]);
	if (!cmd) {
		for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
			if (!strncmp(commands[k].name, argv[i], strlen(argv[i])))
				return lb_cli_usage("'%s' is not a lifeboat command; did you mean '%s'?",
						    argv[i], commands[k].name);
		return lb_cli_usage("'%s' is not a lifeboat command", argv[i]);
	}
	lb_cli.cmd = cmd->name;
	return cmd->fn(argc - i, argv + i, cmd);
}
