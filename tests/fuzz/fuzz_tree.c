/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_tree - tree blobs (lb_tree_decode) on arbitrary bytes.
 *
 * What decodes must be safe to restore (every name a single component that
 * is not "." or "..", sorted and unique; strings terminated; runs adding up
 * to the size) and must encode back to exactly the same bytes.
 */
#include "fuzz.h"

#include "base/err.h"
#include "repo/tree.h"

#include <stdlib.h>
#include <string.h>

static void check_entry(const struct lb_tree_entry *e)
{
	uint64_t total = 0;

	LB_FUZZ_ASSERT(e->name && *e->name && !strchr(e->name, '/'));
	LB_FUZZ_ASSERT(strcmp(e->name, ".") && strcmp(e->name, ".."));
	LB_FUZZ_ASSERT(e->type >= LB_TREE_FILE && e->type <= LB_TREE_SOCK);
	LB_FUZZ_ASSERT((e->type == LB_TREE_SYMLINK) == (e->target != NULL));
	LB_FUZZ_ASSERT(e->nxattrs <= LB_TREE_MAX_XATTRS);
	for (size_t i = 0; i < e->nruns; i++)
		total += e->runs[i].len;
	LB_FUZZ_ASSERT(e->type != LB_TREE_FILE || total == e->size);
}

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	struct lb_tree t;
	uint8_t *p = NULL;
	size_t n = 0;
	int r = lb_tree_decode(data, size, &t);

	if (r < 0) {
		LB_FUZZ_ASSERT(r == -EBADMSG || r == -EOVERFLOW || r == -ENOMEM);
		LB_FUZZ_ASSERT(lb_err_last()->code == r);
		LB_FUZZ_ASSERT(t.n == 0 && !t.e);
		return r;
	}
	for (size_t i = 0; i < t.n; i++) {
		check_entry(&t.e[i]);
		LB_FUZZ_ASSERT(i == 0 || strcmp(t.e[i - 1].name, t.e[i].name) < 0);
	}
	if (lb_tree_encode(&t, &p, &n) == 0) {
		LB_FUZZ_ASSERT(n == size && !memcmp(p, data, size));
		free(p);
	}
	lb_tree_release(&t);
	return r;
}

LB_FUZZ_TARGET
