/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for src/repair/recipe.c: the recipe format, its errors, and globs. */
#include "harness.h"

#include "base/err.h"
#include "base/timefmt.h"
#include "repair/recipe.h"

#include <stdlib.h>

static uint32_t up(const void *ctx, uint32_t c)
{
	(void)ctx;
	if (c >= 'a' && c <= 'z')
		return c - 32;
	if (c >= 0xe0 && c <= 0xfe && c != 0xf7) /* Latin-1 lower case */
		return c - 32;
	return c;
}

static void test_glob(void)
{
	CHECK(lb_glob_match("C-00000291*.sys", "C-00000291-00000000-00000032.sys", up, NULL));
	CHECK(lb_glob_match("C-00000291*.sys", "c-00000291-xyz.SYS", up, NULL));
	CHECK(!lb_glob_match("C-00000291*.sys", "c-00000291-xyz.SYS", NULL, NULL));
	CHECK(!lb_glob_match("C-00000291*.sys", "C-00000290-00000000-00000032.sys", up, NULL));
	CHECK(!lb_glob_match("C-00000291*.sys", "C-00000291-1.sys.bak", up, NULL));
	CHECK(lb_glob_match("C-00000291*.sys", "C-00000291.sys", up, NULL));
	CHECK(lb_glob_match("*", "", NULL, NULL));
	CHECK(lb_glob_match("a*b*c", "axxbyyc", NULL, NULL));
	CHECK(!lb_glob_match("a*b*c", "axxbyy", NULL, NULL));
	CHECK(lb_glob_match("?.txt", "a.txt", NULL, NULL));
	CHECK(!lb_glob_match("?.txt", "ab.txt", NULL, NULL));
	CHECK(lb_glob_match("[a-c]x", "bx", NULL, NULL));
	CHECK(lb_glob_match("[a-c]x", "BX", up, NULL));
	CHECK(!lb_glob_match("[!a-c]x", "bx", NULL, NULL));
	CHECK(lb_glob_match("[!a-c]x", "dx", NULL, NULL));
	CHECK(lb_glob_match("[]x", "[]x", NULL, NULL) == false || true); /* malformed: no crash */
	CHECK(lb_glob_match("a[", "a[", NULL, NULL));
	/* multi-byte: '?' is one character, and case folds through the callback */
	CHECK(lb_glob_match("caf?", "caf\xc3\xa9", NULL, NULL));
	CHECK(lb_glob_match("CAF\xc3\x89", "caf\xc3\xa9", up, NULL));
	CHECK(!lb_glob_match("CAF\xc3\x89", "caf\xc3\xa9", NULL, NULL));
	/* pathological pattern stays fast (no exponential backtracking) */
	CHECK(!lb_glob_match("a*a*a*a*a*a*a*a*a*a*a*a*b",
			     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, NULL));
}

static const char good[] =
	"# a comment\n"
	"recipe   test-1\n"
	"summary  Delete \"the\" bad file   # trailing comment\n"
	"about    line one\n"
	"about    line two\n"
	"filesystem ntfs\n"
	"\n"
	"delete   Windows\\System32\\drivers\\CrowdStrike\\C-00000291*.sys\n"
	"\ttype any\n"
	"\tmtime-after 2024-07-19T04:09:00Z\n"
	"\tmtime-before 2024-07-19T07:27:00+02:00\n"
	"\theader AA:AA:AA:AA:01:00:23:01\n"
	"\tmax-size 64K\n"
	"\tflag-mtime 2024-07-19T04:09:00Z 2024-07-19T05:27:00Z in the bad window\n"
	"\tflag-header AAAAAAAA01002301 channel-file header\n"
	"reg-set  HKLM\\SYSTEM\\CurrentControlSet\\Services\\CSAgent\\Start dword:4\n"
	"reg-delete \"HKLM\\SOFTWARE\\Some Vendor\\Key\\Value Name\"\n";

static void test_parse_good(void)
{
	struct lb_recipe *r = NULL;
	struct timespec t;
	const struct lb_action *a;

	CHECK_INT(lb_recipe_parse(good, sizeof(good) - 1, "good.recipe", NULL, 0, &r), 0);
	if (!r)
		return;
	CHECK_STR(r->name, "test-1");
	CHECK_STR(r->summary, "Delete the bad file");
	CHECK_STR(r->about, "line one\nline two");
	CHECK_INT(r->fs, LB_RECIPE_FS_NTFS);
	CHECK_INT(r->nactions, 3);
	a = &r->actions[0];
	CHECK_INT(a->kind, LB_ACT_DELETE);
	CHECK_STR(a->arg, "Windows/System32/drivers/CrowdStrike/C-00000291*.sys");
	CHECK_INT(a->line, 8);
	CHECK_INT(a->types, LB_TYPE_FILE | LB_TYPE_SYMLINK);
	CHECK(a->has_mtime_after && a->has_mtime_before);
	lb_parse_time("2024-07-19T05:27:00Z", &t);
	CHECK_INT(lb_timespec_cmp(&a->mtime_before, &t), 0);
	CHECK_INT(a->header_len, 8);
	CHECK_INT(a->header[0], 0xaa);
	CHECK_INT(a->header[7], 0x01);
	CHECK_U64(a->max_size, 65536);
	CHECK_INT(a->nflags, 2);
	CHECK_STR(a->flags[0].label, "in the bad window");
	CHECK_STR(a->flags[1].label, "channel-file header");
	CHECK_INT(r->actions[1].kind, LB_ACT_REG_SET);
	CHECK_STR(r->actions[1].reg.hive_name, "SYSTEM");
	CHECK_STR(r->actions[1].reg.value, "Start");
	CHECK_INT(r->actions[1].value.type, LB_REG_DWORD);
	CHECK_INT(r->actions[2].kind, LB_ACT_REG_DELETE);
	CHECK_STR(r->actions[2].reg.value, "Value Name");
	CHECK_STR(r->actions[2].reg.hive_name, "SOFTWARE");
	lb_recipe_free(r);
}

/* Each bad recipe must fail with -EINVAL and a message naming the line and the problem. */
static void test_parse_errors(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"summary x\n", "good.recipe:1: the first directive must be 'recipe NAME'"},
		{"recipe Bad_Name\n", ":1: recipe: 'Bad_Name' is not a valid name"},
		{"recipe a\nsummary s\n", "has no action"},
		{"recipe a\ndelete x\n", "no 'summary'"},
		{"recipe a\nsummary s\nheader AA\n", ":3: header: belongs to a 'delete' line"},
		{"recipe a\nsummary s\ndelete x\n header AZ\n", ":4: header: 'AZ' is not"},
		{"recipe a\nsummary s\ndelete x\n mtime-after 2024-07-19T04:09:00\n",
		 ":4: mtime-after: '2024-07-19T04:09:00': the time has no zone"},
		{"recipe a\nsummary s\ndelete ../x\n", ":3: delete: '../x': '..' is not allowed"},
		{"recipe a\nsummary s\ndelete *\n", ":3: delete: '*' would match every file"},
		{"recipe a\nsummary s\ndelete x\n type dir\n", ":4: type: 'dir' is not one of"},
		{"recipe a\nsummary s\nfrobnicate x\n",
		 ":3: 'frobnicate' is not a recipe directive"},
		{"recipe a\nsummary s\ndelete \"x\n", ":3: a quote is not closed"},
		{"recipe a\nsummary s\ndelete x y\n", ":3: delete: too many arguments"},
		{"recipe a\nsummary s\ndelete x\n sha256 abc\n", ":4: sha256: 'abc' is not 64 hex"},
		{"recipe a\nsummary s\nreg-set HKLM\\SYSTEM\\A\\B dword:x\n", ":3: reg-set:"},
		{"recipe a\nsummary s\nreg-set HKCU\\Software\\A\\B dword:1\n", ":3: reg-set:"},
		{"recipe a\nsummary s\ndelete x\n mtime-after 2024-07-20T00:00:00Z\n"
		 " mtime-before 2024-07-19T00:00:00Z\n",
		 ":5: mtime-before: mtime-after is not before mtime-before"},
		{"recipe a\nsummary s\ndelete etc/${UNIT}\n", ":3: '${UNIT}' is not a parameter"},
		{"recipe a\nsummary s\nparam UNIT the unit\ndelete etc/${UNIT}\n",
		 ":4: parameter UNIT has no value"},
		{"recipe a\nsummary s\ndelete x\nparam U u\n", ":4: param: must come before"},
		{"recipe a\nrecipe b\n", ":2: recipe: the name is given twice"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lb_recipe *r = NULL;
		int rc;

		lb_err_clear();
		rc = lb_recipe_parse(cases[i].text, strlen(cases[i].text), "good.recipe", NULL, 0,
				     &r);
		CHECK_INT(rc, -EINVAL);
		CHECK(r == NULL);
		CHECK_CONTAINS(lb_err_last()->problem, cases[i].want);
		lb_recipe_free(r);
	}
}

static void test_params(void)
{
	static const char t[] = "recipe p\nsummary s\nfilesystem ext\n"
				"param UNIT the unit\n"
				"delete etc/systemd/system/*.wants/${UNIT}\n type symlink\n";
	struct lb_param_value pv[] = {{"UNIT", "falcon-sensor.service"}};
	struct lb_param_value bad[] = {{"UNIT", "x"}, {"NOPE", "x"}};
	struct lb_recipe *r = NULL;

	CHECK_INT(lb_recipe_parse(t, sizeof(t) - 1, "p", pv, 1, &r), 0);
	if (r) {
		CHECK_STR(r->actions[0].arg, "etc/systemd/system/*.wants/falcon-sensor.service");
		CHECK_INT(r->actions[0].types, LB_TYPE_SYMLINK);
		CHECK_INT(r->fs, LB_RECIPE_FS_EXT);
	}
	lb_recipe_free(r);
	r = NULL;
	CHECK_INT(lb_recipe_parse(t, sizeof(t) - 1, "p", bad, 2, &r), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "--param NOPE");
	CHECK(!r);
}

static void test_builtins(void)
{
	const char *const *names = lb_recipe_builtin_names();
	struct lb_param_value pv[] = {{"UNIT", "x.service"}};
	size_t n = 0;

	for (; names[n]; n++) {
		struct lb_recipe *r = NULL;
		size_t len;

		CHECK(lb_recipe_builtin_text(names[n], &len) != NULL);
		CHECK_INT(lb_recipe_load(names[n], pv,
					 strcmp(names[n], "systemd-unit-disable") ? 0 : 1, &r),
			  0);
		if (r)
			CHECK_STR(r->name, names[n]);
		lb_recipe_free(r);
	}
	CHECK(n >= 4);
	{
		struct lb_recipe *r = NULL;

		CHECK_INT(lb_recipe_load("crowdstrike-291", NULL, 0, &r), 0);
		if (r) {
			CHECK_INT(r->nactions, 1);
			CHECK_STR(r->actions[0].arg,
				  "Windows/System32/drivers/CrowdStrike/C-00000291*.sys");
			CHECK_INT(r->actions[0].header_len,
				  0); /* the vendor's guidance: all of them */
			CHECK_INT(r->actions[0].nflags, 2);
		}
		lb_recipe_free(r);
	}
	CHECK_INT(lb_recipe_load("no-such-recipe", NULL, 0, &(struct lb_recipe *){NULL}), -ENOENT);
	CHECK_CONTAINS(lb_err_last()->problem, "crowdstrike-291");
}

static void test_directive_api(void)
{
	struct lb_recipe *r = lb_recipe_new_adhoc();
	char *g[] = {(char *)"C:\\Windows\\x*.sys"};
	char *h[] = {(char *)"AAAA"};
	char *set[] = {(char *)"HKLM\\SYSTEM\\CurrentControlSet\\Services\\CSAgent\\Start=dword:4"};

	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_INT(lb_recipe_finish(r), -EINVAL);
	CHECK_INT(lb_recipe_directive(r, 0, "header", h, 1), -EINVAL);
	CHECK_INT(lb_recipe_directive(r, 0, "delete", g, 1), 0);
	CHECK_INT(lb_recipe_directive(r, 0, "header", h, 1), 0);
	CHECK_INT(lb_recipe_directive(r, 0, "reg-set", set, 1), 0);
	CHECK_INT(lb_recipe_finish(r), 0);
	CHECK_STR(r->actions[0].arg, "Windows/x*.sys");
	CHECK_INT(r->actions[0].header_len, 2);
	CHECK_STR(r->actions[1].value_spec, "dword:4");
	lb_recipe_free(r);
}

static void test_alloc_failures(void)
{
	for (unsigned long n = 1; n < 400; n++) {
		struct lb_recipe *r = NULL;
		int rc;

		lb_test_alloc_fail_at(n);
		rc = lb_recipe_parse(good, sizeof(good) - 1, "good.recipe", NULL, 0, &r);
		lb_test_alloc_fail_at(0);
		if (rc == 0) {
			lb_recipe_free(r);
			break;
		}
		CHECK_INT(rc, -ENOMEM);
		CHECK(!r);
	}
}

LB_TEST_MAIN(T(test_glob), T(test_parse_good), T(test_parse_errors), T(test_params),
	     T(test_builtins), T(test_directive_api), T(test_alloc_failures))
