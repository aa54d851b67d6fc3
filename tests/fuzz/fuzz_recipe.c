/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_recipe.c - the recipe parser on arbitrary text, with one parameter given. */
#include "fuzz.h"

#include "repair/recipe.h"

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	struct lb_param_value pv[] = {{"UNIT", "x.service"}};
	struct lb_recipe *r = NULL;
	int rc = lb_recipe_parse((const char *)data, size, "fuzz", pv, 1, &r);

	if (rc == 0) {
		/* exercise the glob matcher with what was parsed */
		for (size_t i = 0; i < r->nactions; i++)
			if (r->actions[i].arg)
				(void)lb_glob_match(r->actions[i].arg, "C-00000291-x.sys", NULL,
						    NULL);
	}
	lb_recipe_free(r);
	return rc;
}

LB_FUZZ_TARGET
