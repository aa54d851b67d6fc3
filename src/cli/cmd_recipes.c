/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_recipes.c - lifeboat recipes [show NAME|FILE | check FILE...]: the
 * built-in recipes, one recipe's text, or a check of recipe files.
 */
#include "cli/cli.h"
#include "base/err.h"
#include "base/json.h"
#include "repair/recipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *fs_name(enum lb_recipe_fs fs)
{
	return fs == LB_RECIPE_FS_NTFS ? "ntfs" : fs == LB_RECIPE_FS_EXT ? "ext" : "any";
}

static const char *kind_name(enum lb_action_kind k)
{
	return k == LB_ACT_DELETE ? "delete" : k == LB_ACT_REG_SET ? "reg-set" : "reg-delete";
}

static void json_recipe(struct lb_json *j, const struct lb_recipe *r, bool text)
{
	lb_json_begin_object(j, NULL);
	lb_json_string(j, "name", r->name);
	lb_json_string(j, "summary", r->summary);
	lb_json_string(j, "about", r->about);
	lb_json_string(j, "origin", r->origin);
	lb_json_string(j, "filesystem", fs_name(r->fs));
	lb_json_begin_array(j, "params");
	for (size_t i = 0; i < r->nparams; i++) {
		lb_json_begin_object(j, NULL);
		lb_json_string(j, "name", r->params[i].name);
		lb_json_string(j, "help", r->params[i].help);
		lb_json_end_object(j);
	}
	lb_json_end_array(j);
	lb_json_begin_array(j, "actions");
	for (size_t i = 0; i < r->nactions; i++) {
		const struct lb_action *a = &r->actions[i];

		lb_json_begin_object(j, NULL);
		lb_json_string(j, "kind", kind_name(a->kind));
		lb_json_string(j, "target", a->arg);
		if (a->kind == LB_ACT_REG_SET)
			lb_json_string(j, "value", a->value_spec);
		lb_json_u64(j, "line", a->line);
		lb_json_end_object(j);
	}
	lb_json_end_array(j);
	if (text)
		lb_json_string(j, "text", r->text);
	lb_json_end_object(j);
}

/* Parameters are not known when listing or showing: give each a placeholder value. */
static int load_for_show(const char *name, struct lb_recipe **out)
{
	struct lb_param_value pv[LB_RECIPE_MAX_PARAMS];
	size_t n = 0;
	int r;

	for (;;) {
		r = lb_recipe_load(name, pv, n, out);
		if (r != -EINVAL || n == LB_RECIPE_MAX_PARAMS)
			break;
		/* "parameter UNIT has no value": supply one and retry */
		const char *p = strstr(lb_err_last()->problem, "parameter ");
		char pname[32];

		if (!p || sscanf(p + 10, "%31[A-Z0-9_]", pname) != 1)
			break;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(pv[i].name, pname))
				goto out;
		pv[n].name = strdup(pname);
		if (!pv[n].name)
			break;
		pv[n++].value = "${...}";
	}
out:
	for (size_t i = 0; i < n; i++)
		free((char *)pv[i].name);
	return r;
}

int cmd_recipes(int argc, char **argv, const struct lb_cmd *cmd)
{
	const struct lb_option opts[] = {{LB_OPT_END}};
	struct lb_recipe *r = NULL;
	struct lb_json j;
	int n, code = LB_EXIT_OK;

	n = lb_parse_options(argc, argv, opts, cmd);
	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (n == 0 || !strcmp(argv[1], "list")) {
		if (n > 1)
			return lb_cli_usage("'recipes list' takes no argument");
		if (lb_cli.json) {
			lb_json_init(&j, stdout, LB_JSON_PRETTY);
			lb_json_begin_object(&j, NULL);
			lb_json_u64(&j, "version", 1);
			lb_json_begin_array(&j, "recipes");
		}
		for (const char *const *k = lb_recipe_builtin_names(); *k; k++) {
			if (load_for_show(*k, &r) < 0) {
				code = lb_cli_error(*k); /* a broken built-in is a bug: say so */
				continue;
			}
			if (lb_cli.json)
				json_recipe(&j, r, false);
			else
				printf("%-28s %-4s  %s\n", r->name, fs_name(r->fs), r->summary);
			lb_recipe_free(r);
		}
		if (lb_cli.json) {
			lb_json_end_array(&j);
			lb_json_end_object(&j);
			lb_json_finish(&j);
		} else {
			printf("\n'lifeboat recipes show NAME' prints one; 'lifeboat recipes "
			       "--help' "
			       "explains how to write your own.\n");
		}
		return code;
	}
	if (!strcmp(argv[1], "show")) {
		if (n != 2)
			return lb_cli_usage("write 'lifeboat recipes show NAME|FILE'");
		if (load_for_show(argv[2], &r) < 0)
			return lb_cli_error(NULL) == LB_EXIT_NOINPUT ? LB_EXIT_NOINPUT
								     : LB_EXIT_USAGE;
		if (lb_cli.json) {
			lb_json_init(&j, stdout, LB_JSON_PRETTY);
			json_recipe(&j, r, true);
			lb_json_finish(&j);
		} else {
			fputs(r->text, stdout);
			if (r->text[0] && r->text[strlen(r->text) - 1] != '\n')
				putchar('\n');
		}
		lb_recipe_free(r);
		return LB_EXIT_OK;
	}
	if (!strcmp(argv[1], "check")) {
		if (n < 2)
			return lb_cli_usage("write 'lifeboat recipes check FILE...'");
		for (int i = 2; i <= n; i++) {
			if (load_for_show(argv[i], &r) < 0) {
				lb_cli_error(NULL);
				code = LB_EXIT_USAGE;
				continue;
			}
			if (!lb_cli.json && lb_cli.verbosity >= 0)
				printf("%s: ok: recipe %s, %zu action%s\n", argv[i], r->name,
				       r->nactions, r->nactions == 1 ? "" : "s");
			lb_recipe_free(r);
		}
		return code;
	}
	return lb_cli_usage("'%s' is not one of list, show, check", argv[1]);
}
