/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * recipe.c - parse and validate recipes (format in recipe.h), match globs.
 */
#include "repair/recipe.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/timefmt.h"
#include "base/util.h"
#include "fs/fs.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ARGS 64
#define MAX_LINE 4096

/* ---- built-in recipes (generated from the recipes folder at build time) ------- */

struct lb_builtin_recipe {
	const char *name;
	const char *text;
	size_t len;
};
extern const struct lb_builtin_recipe lb_builtin_recipes[];
extern const char *const lb_builtin_recipe_names[];

const char *const *lb_recipe_builtin_names(void)
{
	return lb_builtin_recipe_names;
}

const char *lb_recipe_builtin_text(const char *name, size_t *len)
{
	for (const struct lb_builtin_recipe *b = lb_builtin_recipes; b->name; b++)
		if (!strcmp(b->name, name)) {
			*len = b->len;
			return b->text;
		}
	return NULL;
}

/* ---- glob ------------------------------------------------------------------------ */

/* Decode one UTF-8 code point; invalid bytes decode as themselves (0x80-0xff). */
static uint32_t utf8_next(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	uint32_t c = p[0];
	int n = 0;

	if (c < 0x80) {
		*s += 1;
		return c;
	}
	if ((c & 0xe0) == 0xc0)
		n = 1, c &= 0x1f;
	else if ((c & 0xf0) == 0xe0)
		n = 2, c &= 0x0f;
	else if ((c & 0xf8) == 0xf0)
		n = 3, c &= 0x07;
	else {
		*s += 1;
		return p[0];
	}
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*s += 1;
			return p[0];
		}
		c = c << 6 | (p[i] & 0x3f);
	}
	*s += n + 1;
	return c;
}

bool lb_glob_has_magic(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

typedef uint32_t (*fold_fn)(const void *ctx, uint32_t);

static uint32_t fold(fold_fn f, const void *ctx, uint32_t c)
{
	return f ? f(ctx, c) : c;
}

/*
 * Match a bracket expression at *pp (just after '['). Returns 1 match, 0 no
 * match, -1 malformed (then '[' is literal). Advances *pp past ']'.
 */
static int bracket(const char **pp, uint32_t c, fold_fn f, const void *ctx)
{
	const char *p = *pp;
	bool neg = false, hit = false, first = true;

	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	c = fold(f, ctx, c);
	while (*p && (*p != ']' || first)) {
		uint32_t lo = utf8_next(&p), hi = lo;

		first = false;
		if (p[0] == '-' && p[1] && p[1] != ']') {
			p++;
			hi = utf8_next(&p);
		}
		lo = fold(f, ctx, lo);
		hi = fold(f, ctx, hi);
		if (lo <= c && c <= hi)
			hit = true;
	}
	if (*p != ']')
		return -1;
	*pp = p + 1;
	return hit != neg;
}

bool lb_glob_match(const char *pat, const char *name, fold_fn f, const void *ctx)
{
	const char *p = pat, *n = name;
	const char *star_p = NULL, *star_n = NULL;

	/* iterative matching with one backtrack point: linear-ish, no recursion */
	while (*n) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			star_p = p;
			star_n = n;
			continue;
		}
		if (*p) {
			const char *pn = p, *nn = n;
			uint32_t pc, nc = utf8_next(&nn);
			int ok;

			if (*pn == '?') {
				pn++;
				ok = 1;
			} else if (*pn == '[') {
				const char *q = pn + 1;

				ok = bracket(&q, nc, f, ctx);
				if (ok < 0) {
					pn++;
					ok = fold(f, ctx, '[') == fold(f, ctx, nc);
				} else {
					pn = q;
				}
			} else {
				pc = utf8_next(&pn);
				ok = fold(f, ctx, pc) == fold(f, ctx, nc);
			}
			if (ok) {
				p = pn;
				n = nn;
				continue;
			}
		}
		if (!star_p)
			return false;
		p = star_p;
		utf8_next(&star_n);
		n = star_n;
	}
	while (*p == '*')
		p++;
	return !*p;
}

/* ---- recipes ------------------------------------------------------------------- */

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static int parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = 0;

	for (const char *p = s; *p;) {
		int hi, lo;

		if (*p == ' ' || *p == ':' || *p == '-') { /* "AA AA", "AA:AA" */
			p++;
			continue;
		}
		hi = (*p >= '0' && *p <= '9')	? *p - '0'
		     : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
		     : (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10
						: -1;
		p++;
		lo = (*p >= '0' && *p <= '9')	? *p - '0'
		     : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
		     : (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10
						: -1;
		if (hi < 0 || lo < 0 || n >= cap)
			return -EINVAL;
		p++;
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	if (!n)
		return -EINVAL;
	*len = n;
	return 0;
}

static char *join_args(char *const *args, size_t nargs)
{
	struct lb_buf b;

	lb_buf_init(&b, MAX_LINE);
	for (size_t i = 0; i < nargs; i++)
		if ((i && lb_buf_putc(&b, ' ') < 0) || lb_buf_puts(&b, args[i]) < 0) {
			lb_buf_release(&b);
			return NULL;
		}
	if (!b.data && lb_buf_puts(&b, "") < 0)
		return NULL;
	return lb_buf_steal(&b);
}

#define BAD(...) lb_err(-EINVAL, NULL, NULL, __VA_ARGS__)

static int want_args(const char *d, size_t nargs, size_t min, size_t max)
{
	if (nargs < min)
		return BAD("%s: %s missing", d,
			   min - nargs == 1 && min > 1 ? "an argument is" : "arguments are");
	if (nargs > max)
		return BAD("%s: too many arguments (%zu; quote an argument that holds blanks)", d,
			   nargs);
	return 0;
}

static struct lb_action *last_delete(struct lb_recipe *r, const char *d)
{
	if (!r->nactions || r->actions[r->nactions - 1].kind != LB_ACT_DELETE) {
		BAD("%s: belongs to a 'delete' line, and there is none above", d);
		return NULL;
	}
	return &r->actions[r->nactions - 1];
}

static int new_action(struct lb_recipe *r, enum lb_action_kind kind, unsigned line,
		      struct lb_action **out)
{
	struct lb_action *a;

	if (r->nactions >= LB_RECIPE_MAX_ACTIONS)
		return BAD("more than %d actions", LB_RECIPE_MAX_ACTIONS);
	a = realloc(r->actions, (r->nactions + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	r->actions = a;
	a = &a[r->nactions++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->line = line;
	a->types = LB_TYPE_FILE;
	*out = a;
	return 0;
}

static int add_flag(struct lb_action *a, struct lb_flag **out)
{
	if (a->nflags >= LB_RECIPE_MAX_FLAGS)
		return BAD("more than %d flag-* lines for one delete", LB_RECIPE_MAX_FLAGS);
	*out = &a->flags[a->nflags++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

static int directive_delete(struct lb_recipe *r, unsigned line, const char *glob)
{
	_cleanup_free_ char *norm = malloc(strlen(glob) + 16);
	struct lb_action *a;
	int rr;

	if (!norm)
		return -ENOMEM;
	rr = lb_path_normalize(glob, norm, strlen(glob) + 16, false);
	if (rr < 0) {
		struct lb_error e_;
		const struct lb_error *e = (lb_err_save(&e_), &e_);

		return BAD("delete: '%s': %s", glob, e->problem);
	}
	if (!strcmp(norm, "**") || !strcmp(norm, "*"))
		return BAD("delete: '%s' would match every file; name the folder", glob);
	rr = new_action(r, LB_ACT_DELETE, line, &a);
	if (rr < 0)
		return rr;
	a->arg = TAKE_PTR(norm);
	return 0;
}

static int directive_reg(struct lb_recipe *r, unsigned line, const char *d, char *const *args,
			 size_t nargs)
{
	bool set = !strcmp(d, "reg-set");
	struct lb_reg_path path;
	struct lb_reg_value val = {0};
	_cleanup_free_ char *spec = NULL, *key = NULL;
	struct lb_action *a;
	const char *eq;
	int rr;

	/* "KEY\VALUE=TYPE:DATA" (one argument, as on the command line) or "KEY\VALUE TYPE:DATA" */
	if (set && nargs == 1 && (eq = strchr(args[0], '='))) {
		key = strndup(args[0], (size_t)(eq - args[0]));
		spec = strdup(eq + 1);
	} else {
		rr = want_args(d, nargs, set ? 2 : 1, set ? 2 : 1);
		if (rr < 0)
			return set && nargs == 1 ? BAD("%s: write KEY\\VALUE TYPE:DATA", d) : rr;
		key = strdup(args[0]);
		spec = set ? strdup(args[1]) : NULL;
	}
	if (!key || (set && !spec))
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
		return -ENOMEM;
	rr = lb_reg_path_parse(key, true, &path);
	if (rr < 0) {
		struct lb_error e_;
		const struct lb_error *e = (lb_err_save(&e_), &e_);

		return BAD("%s: '%s': %s", d, key, e->problem);
	}
	if (set) {
		rr = lb_reg_value_parse(spec, &val);
		if (rr == -ENOMEM)
			return rr;
		if (rr < 0) {
			struct lb_error e_;
			const struct lb_error *e = (lb_err_save(&e_), &e_);

			return BAD("%s: '%s': %s", d, spec, e->problem);
		}
	}
	rr = new_action(r, set ? LB_ACT_REG_SET : LB_ACT_REG_DELETE, line, &a);
	if (rr < 0) {
		lb_reg_value_release(&val);
		return rr;
	}
	a->arg = TAKE_PTR(key);
	a->reg = path;
	a->value = val;
	a->value_spec = TAKE_PTR(spec);
	return 0;
}

int lb_recipe_directive(struct lb_recipe *r, unsigned line, const char *d, char *const *args,
			size_t nargs)
{
	struct lb_action *a;
	struct lb_flag *fl;
	int rr;

	if (!strcmp(d, "recipe")) {
		rr = want_args(d, nargs, 1, 1);
		if (rr < 0)
			return rr;
		if (r->name[0])
			return BAD("recipe: the name is given twice");
		if (!valid_name(args[0]))
			return BAD(
				"recipe: '%s' is not a valid name (lower-case letters, digits and "
				"'-', up to 63)",
				args[0]);
		lb_strlcpy(r->name, args[0], sizeof(r->name));
		return 0;
	}
	if (!strcmp(d, "summary") || !strcmp(d, "about")) {
		char *text;

		rr = want_args(d, nargs, 1, MAX_ARGS);
		if (rr < 0)
			return rr;
		text = join_args(args, nargs);
		if (!text)
			return -ENOMEM;
		if (d[0] == 's') {
			if (r->summary) {
				free(text);
				return BAD("summary: given twice");
			}
			r->summary = text;
		} else if (!r->about) {
			r->about = text;
		} else {
			size_t n = strlen(r->about), m = strlen(text);
			char *j = realloc(r->about, n + m + 2);

			if (!j) {
				free(text);
				return -ENOMEM;
			}
			j[n] = '\n';
			memcpy(j + n + 1, text, m + 1);
			r->about = j;
			free(text);
		}
		return 0;
	}
	if (!strcmp(d, "filesystem")) {
		rr = want_args(d, nargs, 1, 1);
		if (rr < 0)
			return rr;
		if (!strcmp(args[0], "ntfs"))
			r->fs = LB_RECIPE_FS_NTFS;
		else if (!strcmp(args[0], "ext") || !strcmp(args[0], "ext4"))
			r->fs = LB_RECIPE_FS_EXT;
		else if (!strcmp(args[0], "any"))
			r->fs = LB_RECIPE_FS_ANY;
		else
			return BAD("filesystem: '%s' is not one of ntfs, ext, any", args[0]);
		return 0;
	}
	if (!strcmp(d, "param"))
		return BAD("param: must come before the first action"); /* handled by the parser */
	if (!strcmp(d, "delete")) {
		rr = want_args(d, nargs, 1, 1);
		if (rr < 0)
			return rr;
		return directive_delete(r, line, args[0]);
	}
	if (!strcmp(d, "reg-set") || !strcmp(d, "reg-delete"))
		return directive_reg(r, line, d, args, nargs);

	/* options of the delete above */
	if (!strcmp(d, "type")) {
		if ((rr = want_args(d, nargs, 1, 1)) < 0 || !(a = last_delete(r, d)))
			return rr < 0 ? rr : -EINVAL;
		if (!strcmp(args[0], "file"))
			a->types = LB_TYPE_FILE;
		else if (!strcmp(args[0], "symlink"))
			a->types = LB_TYPE_SYMLINK;
		else if (!strcmp(args[0], "any"))
			a->types = LB_TYPE_FILE | LB_TYPE_SYMLINK;
		else
			return BAD("type: '%s' is not one of file, symlink, any", args[0]);
		return 0;
	}
	if (!strcmp(d, "mtime-after") || !strcmp(d, "mtime-before")) {
		struct timespec t;

		if ((rr = want_args(d, nargs, 1, 1)) < 0 || !(a = last_delete(r, d)))
			return rr < 0 ? rr : -EINVAL;
		if (lb_parse_time(args[0], &t) < 0) {
			struct lb_error e_;
			const struct lb_error *e = (lb_err_save(&e_), &e_);

			return BAD("%s: '%s': %s", d, args[0], e->problem);
		}
		if (d[6] == 'a') {
			a->has_mtime_after = true;
			a->mtime_after = t;
		} else {
			a->has_mtime_before = true;
			a->mtime_before = t;
		}
		if (a->has_mtime_after && a->has_mtime_before &&
		    lb_timespec_cmp(&a->mtime_after, &a->mtime_before) >= 0)
			return BAD(
				"%s: mtime-after is not before mtime-before: no file could match",
				d);
		return 0;
	}
	if (!strcmp(d, "header")) {
		if ((rr = want_args(d, nargs, 1, 1)) < 0 || !(a = last_delete(r, d)))
			return rr < 0 ? rr : -EINVAL;
		if (parse_hex(args[0], a->header, sizeof(a->header), &a->header_len) < 0)
			return BAD(
				"header: '%s' is not 1 to %d bytes of hex (\"AAAAAAAA01002301\")",
				args[0], LB_RECIPE_MAX_HEADER);
		return 0;
	}
	if (!strcmp(d, "sha256")) {
		if ((rr = want_args(d, nargs, 1, 1)) < 0 || !(a = last_delete(r, d)))
			return rr < 0 ? rr : -EINVAL;
		if (strlen(args[0]) != 64 || lb_unhex(args[0], a->sha256, sizeof(a->sha256)) < 0)
			return BAD("sha256: '%s' is not 64 hex digits", args[0]);
		a->has_sha256 = true;
		return 0;
	}
	if (!strcmp(d, "max-size")) {
		if ((rr = want_args(d, nargs, 1, 1)) < 0 || !(a = last_delete(r, d)))
			return rr < 0 ? rr : -EINVAL;
		if (lb_parse_size(args[0], &a->max_size) < 0)
			return BAD("max-size: '%s' is not a size (\"64M\", \"4096\")", args[0]);
		a->has_max_size = true;
		return 0;
	}
	if (!strcmp(d, "flag-mtime")) {
		if ((rr = want_args(d, nargs, 3, MAX_ARGS)) < 0 || !(a = last_delete(r, d)))
			return rr < 0 ? rr : -EINVAL;
		if ((rr = add_flag(a, &fl)) < 0)
			return rr;
		fl->kind = LB_FLAG_MTIME;
		if (lb_parse_time(args[0], &fl->from) < 0 || lb_parse_time(args[1], &fl->to) < 0) {
			struct lb_error e_;
			const struct lb_error *e = (lb_err_save(&e_), &e_);

			a->nflags--;
			return BAD("flag-mtime: '%s': %s", e->object, e->problem);
		}
		if (lb_timespec_cmp(&fl->from, &fl->to) >= 0) {
			a->nflags--;
			return BAD("flag-mtime: FROM is not before TO");
		}
		_cleanup_free_ char *label = join_args(args + 2, nargs - 2);
		if (!label)
			return -ENOMEM;
		lb_strlcpy(fl->label, label, sizeof(fl->label));
		return 0;
	}
	if (!strcmp(d, "flag-header")) {
		if ((rr = want_args(d, nargs, 2, MAX_ARGS)) < 0 || !(a = last_delete(r, d)))
			return rr < 0 ? rr : -EINVAL;
		if ((rr = add_flag(a, &fl)) < 0)
			return rr;
		fl->kind = LB_FLAG_HEADER;
		if (parse_hex(args[0], fl->header, sizeof(fl->header), &fl->header_len) < 0) {
			a->nflags--;
			return BAD("flag-header: '%s' is not 1 to %d bytes of hex", args[0],
				   LB_RECIPE_MAX_HEADER);
		}
		_cleanup_free_ char *label = join_args(args + 1, nargs - 1);
		if (!label)
			return -ENOMEM;
		lb_strlcpy(fl->label, label, sizeof(fl->label));
		return 0;
	}
	return BAD("'%s' is not a recipe directive (see 'lifeboat recipes --help')", d);
}

/* ---- the text parser ------------------------------------------------------------ */

/*
 * Split @line (modified in place) into words: blanks separate, "..." quotes
 * with \" and \\ escapes, '#' outside quotes starts a comment. Returns the
 * number of words, or -EINVAL (recorded).
 */
static int split(char *line, char **words, int max)
{
	char *p = line, *o;
	int n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			return n;
		if (n == max)
			return BAD(
				"too many words on one line (quote an argument that holds blanks)");
		words[n++] = o = p;
		if (*p == '"') {
			p++;
			for (;;) {
				if (!*p)
					return BAD("a quote is not closed");
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) {
					*o++ = p[1];
					p += 2;
					continue;
				}
				if (*p == '"') {
					p++;
					break;
				}
				*o++ = *p++;
			}
			if (*p && *p != ' ' && *p != '\t' && *p != '\r')
				return BAD("text right after a closing quote");
		} else {
			while (*p && *p != ' ' && *p != '\t' && *p != '\r') {
				if (*p == '"')
					return BAD(
						"a quote inside a word (quote the whole argument)");
				*o++ = *p++;
			}
		}
		if (*p)
			p++;
		*o = '\0';
	}
}

/* Replace ${NAME} in @in by parameter values. Returns a malloc'ed string or NULL (recorded). */
static char *substitute(const struct lb_recipe *r, const char *in, int *err)
{
	struct lb_buf b;
	const char *p = in;

	lb_buf_init(&b, MAX_LINE);
	*err = 0;
	while (*p) {
		const char *end;
		size_t i;

		if (p[0] != '$' || p[1] != '{') {
			if (lb_buf_putc(&b, *p++) < 0)
				goto nomem;
			continue;
		}
		end = strchr(p, '}');
		if (!end) {
			*err = BAD("'${' without a closing '}'");
			goto fail;
		}
		for (i = 0; i < r->nparams; i++)
			if (strlen(r->params[i].name) == (size_t)(end - p - 2) &&
			    !memcmp(r->params[i].name, p + 2, (size_t)(end - p - 2)))
				break;
		if (i == r->nparams) {
			*err = BAD("'%.*s' is not a parameter declared with 'param'",
				   (int)(end - p + 1), p);
			goto fail;
		}
		if (!r->params[i].value) {
			*err = lb_err(-EINVAL, NULL, NULL,
				      "parameter %s has no value; give --param %s=VALUE",
				      r->params[i].name, r->params[i].name);
			goto fail;
		}
		if (lb_buf_puts(&b, r->params[i].value) < 0)
			goto nomem;
		p = end + 1;
	}
	if (!b.data && lb_buf_puts(&b, "") < 0)
		goto nomem;
	return lb_buf_steal(&b);
nomem:
	*err = *err ? *err : -ENOMEM;
fail:
	lb_buf_release(&b);
	return NULL;
}

static int directive_param(struct lb_recipe *r, char *const *args, size_t nargs,
			   const struct lb_param_value *params, size_t nparams)
{
	struct lb_recipe_param *p;
	const char *n = nargs ? args[0] : "";
	int rr = want_args("param", nargs, 2, MAX_ARGS);

	if (rr < 0)
		return rr;
	if (r->nactions)
		return BAD("param: must come before the first action");
	if (r->nparams >= LB_RECIPE_MAX_PARAMS)
		return BAD("param: more than %d parameters", LB_RECIPE_MAX_PARAMS);
	if (!*n || strlen(n) >= sizeof(p->name))
		return BAD("param: '%s' is not a valid name", n);
	for (const char *c = n; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
			return BAD(
				"param: '%s' is not a valid name (upper-case letters, digits, _)",
				n);
	for (size_t i = 0; i < r->nparams; i++)
		if (!strcmp(r->params[i].name, n))
			return BAD("param: %s is declared twice", n);
	p = &r->params[r->nparams];
	memset(p, 0, sizeof(*p));
	lb_strlcpy(p->name, n, sizeof(p->name));
	p->help = join_args(args + 1, nargs - 1);
	if (!p->help)
		return -ENOMEM;
	for (size_t i = 0; i < nparams; i++)
		if (!strcmp(params[i].name, n)) {
			p->value = strdup(params[i].value);
			if (!p->value) {
				free(p->help);
				return -ENOMEM;
			}
		}
	r->nparams++;
	return 0;
}

static struct lb_recipe *recipe_alloc(const char *origin)
{
	struct lb_recipe *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->origin = strdup(origin);
	if (!r->origin) {
		free(r);
		return NULL;
	}
	return r;
}

struct lb_recipe *lb_recipe_new_adhoc(void)
{
	struct lb_recipe *r = recipe_alloc("command line");

	if (!r)
		return NULL;
	lb_strlcpy(r->name, "command-line", sizeof(r->name));
	r->summary = strdup("actions given on the command line");
	if (!r->summary) {
		lb_recipe_free(r);
		return NULL;
	}
	return r;
}

int lb_recipe_finish(struct lb_recipe *r)
{
	if (!r->name[0])
		return BAD("the recipe has no 'recipe NAME' line");
	if (!r->summary)
		return BAD("the recipe has no 'summary' line");
	if (!r->nactions)
		return BAD("the recipe has no action (delete, reg-set, reg-delete)");
	for (size_t i = 0; i < r->nparams; i++)
		if (!r->params[i].value)
			return lb_err(-EINVAL, NULL, NULL,
				      "parameter %s has no value; give --param %s=VALUE",
				      r->params[i].name, r->params[i].name);
	return 0;
}

int lb_recipe_parse(const char *text, size_t len, const char *origin,
		    const struct lb_param_value *params, size_t nparams, struct lb_recipe **out)
{
	struct lb_recipe *r;
	const char *p = text, *end = text + len;
	unsigned line = 0;
	int rr = 0;

	if (len > LB_RECIPE_MAX_SIZE)
		return lb_err(-EFBIG, origin, NULL, "a recipe is at most %u bytes",
			      LB_RECIPE_MAX_SIZE);
	if (memchr(text, '\0', len))
		return lb_err(-EINVAL, origin, NULL,
			      "the recipe holds a NUL byte: not a text file");
	r = recipe_alloc(origin);
	if (!r)
		return -ENOMEM;
	r->text = strndup(text, len);
	if (!r->text) {
		lb_recipe_free(r);
		return -ENOMEM;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char buf[MAX_LINE], *words[MAX_ARGS + 1];
		char *subst[MAX_ARGS + 1] = {0};
		int nw;

		line++;
		if (n >= sizeof(buf)) {
			rr = BAD("the line is longer than %d bytes", MAX_LINE - 1);
			goto fail;
		}
		memcpy(buf, p, n);
		buf[n] = '\0';
		p += n + (nl ? 1 : 0);
		nw = split(buf, words, MAX_ARGS + 1);
		if (nw < 0) {
			rr = nw;
			goto fail;
		}
		if (nw == 0)
			continue;
		if (line == 1 || !r->name[0]) {
			if (strcmp(words[0], "recipe")) {
				rr = BAD("the first directive must be 'recipe NAME', not '%s'",
					 words[0]);
				goto fail;
			}
		}
		if (!strcmp(words[0], "param")) {
			rr = directive_param(r, words + 1, (size_t)nw - 1, params, nparams);
			if (rr < 0)
				goto fail;
			continue;
		}
		for (int i = 1; i < nw; i++) {
			subst[i - 1] = substitute(r, words[i], &rr);
			if (!subst[i - 1]) {
				for (int k = 0; k < i - 1; k++)
					free(subst[k]);
				goto fail;
			}
		}
		rr = lb_recipe_directive(r, line, words[0], subst, (size_t)nw - 1);
		for (int i = 0; i < nw - 1; i++)
			free(subst[i]);
		if (rr < 0)
			goto fail;
	}
	for (size_t i = 0; i < nparams; i++) {
		size_t k;

		for (k = 0; k < r->nparams; k++)
			if (!strcmp(r->params[k].name, params[i].name))
				break;
		if (k == r->nparams) {
			rr = lb_err(-EINVAL, origin, NULL,
				    "--param %s: the recipe has no such parameter", params[i].name);
			lb_recipe_free(r);
			return rr;
		}
	}
	rr = lb_recipe_finish(r);
	if (rr < 0) {
		struct lb_error e_;
		const struct lb_error *e = (lb_err_save(&e_), &e_);

		rr = lb_err(rr, origin, "see 'lifeboat recipes --help' for the format", "%s",
			    e->problem);
		lb_recipe_free(r);
		return rr;
	}
	*out = r;
	return 0;
fail:
	if (rr != -ENOMEM) {
		struct lb_error save;

		lb_err_save(&save);
		rr = lb_err(rr, NULL, "see 'lifeboat recipes --help' for the format", "%s:%u: %s",
			    origin, line, save.problem);
	}
	lb_recipe_free(r);
	return rr;
}

int lb_recipe_load(const char *name, const struct lb_param_value *params, size_t nparams,
		   struct lb_recipe **out)
{
	size_t n = strlen(name), len;
	const char *text;
	struct stat st;
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	ssize_t got;

	if (!strchr(name, '/') && !(n > 7 && !strcmp(name + n - 7, ".recipe"))) {
		text = lb_recipe_builtin_text(name, &len);
		if (!text) {
			struct lb_buf b;

			lb_buf_init(&b, 4096);
			for (const char *const *k = lb_recipe_builtin_names(); *k; k++)
				lb_buf_printf(&b, "%s%s",
					      k == lb_recipe_builtin_names() ? "" : ", ", *k);
			lb_err(-ENOENT, name,
			       "see 'lifeboat recipes'; a recipe file is named with a '/' or "
			       "'.recipe'",
			       "no such built-in recipe (there are: %s)", b.data ? b.data : "none");
			lb_buf_release(&b);
			return -ENOENT;
		}
		return lb_recipe_parse(text, len, name, params, nparams, out);
	}
	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lb_err(-errno, name, "check the recipe's path", "cannot open the recipe: %s",
			      strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return lb_err(-EINVAL, name, NULL, "not a regular file");
	if ((uint64_t)st.st_size > LB_RECIPE_MAX_SIZE)
		return lb_err(-EFBIG, name, NULL, "a recipe is at most %u bytes",
			      LB_RECIPE_MAX_SIZE);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	got = read(fd, buf, (size_t)st.st_size);
	if (got < 0)
		return lb_err(-EIO, name, NULL, "cannot read the recipe: %s", strerror(errno));
	return lb_recipe_parse(buf, (size_t)got, name, params, nparams, out);
}

void lb_recipe_free(struct lb_recipe *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nactions; i++) {
		free(r->actions[i].arg);
		free(r->actions[i].value_spec);
		lb_reg_value_release(&r->actions[i].value);
	}
	for (size_t i = 0; i < r->nparams; i++) {
		free(r->params[i].help);
		free(r->params[i].value);
	}
	free(r->actions);
	free(r->summary);
	free(r->about);
	free(r->origin);
	free(r->text);
	free(r);
}
