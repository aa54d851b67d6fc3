/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * options.c - declarative option tables (git's parse-options idea): each
 * command lists its options once, and parsing, validation and --help come
 * from that list.
 */
#include "cli/cli.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct lb_cli_state lb_cli;

/* Print a usage error and evaluate to -1. */
#define USAGE(...) ((void)lb_cli_usage(__VA_ARGS__), -1)

static int progress_cb(const struct lb_option *opt, const char *arg)
{
	(void)opt;
	if (!arg || !strcmp(arg, "auto"))
		lb_cli.progress = LB_PROGRESS_AUTO;
	else if (!strcmp(arg, "bar"))
		lb_cli.progress = LB_PROGRESS_BAR;
	else if (!strcmp(arg, "json"))
		lb_cli.progress = LB_PROGRESS_JSON;
	else if (!strcmp(arg, "none"))
		lb_cli.progress = LB_PROGRESS_NONE;
	else
		return USAGE("--progress: '%s' is not one of auto, bar, json, none", arg);
	return 0;
}

static int quiet_cb(const struct lb_option *opt, const char *arg)
{
	(void)opt, (void)arg;
	lb_cli.verbosity = -1;
	return 0;
}

static int verbose_cb(const struct lb_option *opt, const char *arg)
{
	(void)opt, (void)arg;
	if (lb_cli.verbosity < 0)
		lb_cli.verbosity = 0;
	lb_cli.verbosity++;
	return 0;
}

static int json_cb(const struct lb_option *opt, const char *arg)
{
	(void)opt, (void)arg;
	lb_cli.json = true;
	return 0;
}

static const struct lb_option common_opts[] = {
	{LB_OPT_CALLBACK, 0, "json", NULL, NULL, "machine-readable output on stdout", json_cb},
	{LB_OPT_CALLBACK, 'q', "quiet", NULL, NULL, "only errors", quiet_cb},
	{LB_OPT_CALLBACK, 'v', "verbose", NULL, NULL, "more detail (repeat for more)", verbose_cb},
	{LB_OPT_CALLBACK, 0, "progress", NULL, "MODE",
	 "auto (a bar on a terminal), bar, json (lines on stderr), none", progress_cb},
	{LB_OPT_CALLBACK, 'h', "help", NULL, NULL, "show this help", NULL},
	{LB_OPT_END},
};

static const struct lb_option *find_long(const struct lb_option *opts, const char *name, size_t len,
					 bool *negated)
{
	const struct lb_option *sets[2] = {opts, common_opts};

	*negated = false;
	for (int s = 0; s < 2; s++) {
		for (const struct lb_option *o = sets[s]; o && o->type != LB_OPT_END; o++) {
			if (!o->long_name)
				continue;
			if (strlen(o->long_name) == len && !strncmp(o->long_name, name, len))
				return o;
			if (o->type == LB_OPT_BOOL && len > 3 && !strncmp(name, "no-", 3) &&
			    strlen(o->long_name) == len - 3 &&
			    !strncmp(o->long_name, name + 3, len - 3)) {
				*negated = true;
				return o;
			}
		}
	}
	return NULL;
}

static const struct lb_option *find_short(const struct lb_option *opts, int c)
{
	const struct lb_option *sets[2] = {opts, common_opts};

	for (int s = 0; s < 2; s++)
		for (const struct lb_option *o = sets[s]; o && o->type != LB_OPT_END; o++)
			if (o->short_name && o->short_name == c)
				return o;
	return NULL;
}

static bool takes_arg(const struct lb_option *o)
{
	return o->argh != NULL;
}

static void opt_name(const struct lb_option *o, char *out, size_t cap)
{
	if (o->long_name)
		snprintf(out, cap, "--%s", o->long_name);
	else
		snprintf(out, cap, "-%c", o->short_name);
}

static int apply(const struct lb_option *o, const char *arg, bool negated)
{
	char name[64];
	uint64_t v;

	opt_name(o, name, sizeof(name));
	switch (o->type) {
	case LB_OPT_BOOL:
		*(int *)o->value = negated ? 0 : 1;
		return 0;
	case LB_OPT_STRING:
		*(const char **)o->value = arg;
		return 0;
	case LB_OPT_SIZE:
		if (lb_parse_size(arg, &v) < 0)
			return USAGE("%s: '%s' is not a size (e.g. 512, 64K, 4G)", name, arg);
		*(uint64_t *)o->value = v;
		return 0;
	case LB_OPT_UINT:
		if (lb_parse_u64(arg, &v) < 0 || v > 1000000)
			return USAGE("%s: '%s' is not a number between 0 and 1000000", name, arg);
		*(unsigned *)o->value = (unsigned)v;
		return 0;
	case LB_OPT_CALLBACK:
		return o->cb ? o->cb(o, arg) : 0;
	default:
		return 0;
	}
}

int lb_parse_options(int argc, char **argv, const struct lb_option *opts, const struct lb_cmd *cmd)
{
	int nops = 0;
	bool only_operands = false;

	for (int i = 1; i < argc; i++) {
		char *a = argv[i];

		if (only_operands || a[0] != '-' || a[1] == '\0') {
			argv[1 + nops++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_operands = true;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2;
			const char *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			bool negated;
			const struct lb_option *o = find_long(opts, name, len, &negated);
			const char *arg = NULL;

			if (!o)
				return USAGE("unknown option '--%.*s'", (int)len, name);
			if (o->short_name == 'h' && !strcmp(o->long_name, "help")) {
				lb_print_cmd_help(stdout, cmd, opts);
				return -2;
			}
			if (takes_arg(o) && o->argh[0] == '[') {
				/* an optional value: only as --name=VALUE */
				arg = eq ? eq + 1 : NULL;
			} else if (takes_arg(o)) {
				if (eq)
					arg = eq + 1;
				else if (i + 1 < argc)
					arg = argv[++i];
				else
					return USAGE("option '--%s' needs a value (%s)",
						     o->long_name, o->argh);
			} else if (eq) {
				return USAGE("option '--%s' takes no value", o->long_name);
			}
			if (apply(o, arg, negated) < 0)
				return -1;
			continue;
		}
		/* a cluster of short options: -qv, -j4, -j 4 */
		for (const char *c = a + 1; *c; c++) {
			const struct lb_option *o = find_short(opts, *c);
			const char *arg = NULL;

			if (!o)
				return USAGE("unknown option '-%c'", *c);
			if (o->short_name == 'h') {
				lb_print_cmd_help(stdout, cmd, opts);
				return -2;
			}
			if (takes_arg(o)) {
				if (c[1])
					arg = c + 1;
				else if (i + 1 < argc)
					arg = argv[++i];
				else
					return USAGE("option '-%c' needs a value (%s)", *c,
						     o->argh);
				if (apply(o, arg, false) < 0)
					return -1;
				break;
			}
			if (apply(o, NULL, false) < 0)
				return -1;
		}
	}
	return nops;
}

static void print_opts(FILE *f, const struct lb_option *opts)
{
	for (const struct lb_option *o = opts; o && o->type != LB_OPT_END; o++) {
		char left[80];
		int n = 0;

		if (o->short_name && o->long_name)
			n = snprintf(left, sizeof(left), "  -%c, --%s", o->short_name,
				     o->long_name);
		else if (o->short_name)
			n = snprintf(left, sizeof(left), "  -%c", o->short_name);
		else
			n = snprintf(left, sizeof(left), "      --%s", o->long_name);
		if (o->argh && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n,
				 o->argh[0] == '[' ? "%s"
				 : o->long_name	   ? "=%s"
						   : " %s",
				 o->argh);
		if (strlen(left) < 28)
			fprintf(f, "%-28s %s\n", left, o->help);
		else
			fprintf(f, "%s\n%-28s %s\n", left, "", o->help);
	}
}

void lb_print_cmd_help(FILE *f, const struct lb_cmd *cmd, const struct lb_option *opts)
{
	fprintf(f, "usage: %s\n\n", cmd->usage);
	if (cmd->description)
		fprintf(f, "%s\n\n", cmd->description);
	if (opts && opts->type != LB_OPT_END) {
		fprintf(f, "options:\n");
		print_opts(f, opts);
		fputc('\n', f);
	}
	fprintf(f, "common options:\n");
	print_opts(f, common_opts);
	fprintf(f, "\nexit status: 0 ok, 1 failure, 2 usage error, 3 partial success, 4 input "
		   "missing,\n"
		   "5 input damaged or unsupported, 6 refused to protect data, 7 I/O error.\n"
		   "See lifeboat(1) for details.\n");
}
