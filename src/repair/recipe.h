/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * recipe.h - what a repair does, written down so that a person can write the
 * next incident's fix at 3 a.m. without touching C.
 *
 * A recipe is a text file, one directive per line; '#' starts a comment;
 * arguments are separated by blanks and may be quoted with "..." (inside
 * quotes, \" and \\). Directives:
 *
 *   recipe NAME                 required, first: [a-z0-9][a-z0-9-]* (up to 63)
 *   summary TEXT...             required: one line for 'lifeboat recipes'
 *   about TEXT...               optional, repeatable: the longer story, links
 *   filesystem ntfs|ext|any     which volumes the actions look at (default any)
 *   param NAME TEXT...          a parameter: ${NAME} in later arguments is
 *                               replaced by --param NAME=VALUE (required)
 *
 *   delete GLOB                 delete the regular files matching GLOB, a path
 *                               from the volume's root ('/' or '\'); * ? [a-z]
 *                               match inside one name, ** any number of folders;
 *                               names compare as the file system does (NTFS:
 *                               case-insensitively). Folders are never deleted.
 *     type file|symlink|any     what may be deleted (default file)
 *     mtime-after TIME          only files last written at or after TIME
 *     mtime-before TIME         only files last written before TIME
 *     header HEX                only files whose first bytes are HEX
 *     sha256 HEX                only files with this SHA-256
 *     max-size SIZE             only files up to SIZE bytes ("64M")
 *     flag-mtime FROM TO LABEL  report whether FROM <= mtime < TO (no effect)
 *     flag-header HEX LABEL     report whether the file starts with HEX (no effect)
 *
 *   reg-set KEY\VALUE TYPE:DATA set a registry value (types: dword, qword, sz,
 *                               expand_sz, multi_sz, binary), keeping the key's
 *                               other values; HKLM\SYSTEM\CurrentControlSet is
 *                               resolved through Select\Current
 *   reg-delete KEY\VALUE        delete one registry value (absent: nothing to do)
 *
 * The indented directives belong to the delete above them (indentation is
 * customary, not required). TIME is ISO 8601 with a zone. Every error names
 * the line: "crowdstrike-291.recipe:7: header: 'AAZ' is not hex".
 *
 * Built-in recipes are such files too (recipes/ in the source tree),
 * compiled into the binary.
 */
#ifndef LB_REPAIR_RECIPE_H
#define LB_REPAIR_RECIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/sha256.h"
#include "fs/hive.h"

#define LB_RECIPE_MAX_SIZE (1u << 20) /* bytes of recipe text */
#define LB_RECIPE_MAX_ACTIONS 256
#define LB_RECIPE_MAX_HEADER 64 /* bytes in header / flag-header */
#define LB_RECIPE_MAX_FLAGS 8	/* flag-* per action */
#define LB_RECIPE_MAX_PARAMS 16

enum lb_action_kind {
	LB_ACT_DELETE = 1,
	LB_ACT_REG_SET,
	LB_ACT_REG_DELETE,
};

enum lb_recipe_fs {
	LB_RECIPE_FS_ANY = 0,
	LB_RECIPE_FS_NTFS,
	LB_RECIPE_FS_EXT,
};

enum {
	LB_TYPE_FILE = 1 << 0,
	LB_TYPE_SYMLINK = 1 << 1,
};

enum lb_flag_kind {
	LB_FLAG_MTIME = 1,
	LB_FLAG_HEADER,
};

struct lb_flag {
	enum lb_flag_kind kind;
	struct timespec from, to;	      /* MTIME: from <= mtime < to */
	uint8_t header[LB_RECIPE_MAX_HEADER]; /* HEADER */
	size_t header_len;
	char label[128];
};

struct lb_action {
	enum lb_action_kind kind;
	unsigned line; /* where it was written (0: command line) */
	char *arg;     /* delete: the normalized glob; reg-*: KEY\VALUE as written */
	/* delete */
	unsigned types; /* LB_TYPE_* */
	bool has_mtime_after, has_mtime_before, has_sha256, has_max_size;
	struct timespec mtime_after, mtime_before;
	uint8_t header[LB_RECIPE_MAX_HEADER];
	size_t header_len; /* 0: no header condition */
	uint8_t sha256[LB_SHA256_LEN];
	uint64_t max_size;
	struct lb_flag flags[LB_RECIPE_MAX_FLAGS];
	unsigned nflags;
	/* reg-set / reg-delete */
	struct lb_reg_path reg;
	struct lb_reg_value value; /* reg-set */
	char *value_spec;	   /* reg-set: "dword:4" as written */
};

struct lb_recipe_param {
	char name[32];
	char *help;
	char *value; /* from --param, NULL until given */
};

struct lb_recipe {
	char name[64];
	char *summary;
	char *about;  /* the about lines joined with '\n', or NULL */
	char *origin; /* "built-in" or the file's path */
	char *text;   /* the recipe's text as loaded (for 'recipes show') */
	enum lb_recipe_fs fs;
	struct lb_action *actions;
	size_t nactions;
	struct lb_recipe_param params[LB_RECIPE_MAX_PARAMS];
	size_t nparams;
};

/* A NAME=VALUE pair from --param. */
struct lb_param_value {
	const char *name;
	const char *value;
};

/*
 * Parse recipe text. @origin names it in errors ("crowdstrike-291.recipe").
 * @params (n @nparams) give parameter values. Returns 0 and a recipe
 * (lb_recipe_free), or -EINVAL with the error recorded as "ORIGIN:LINE: ...",
 * -EFBIG (text over LB_RECIPE_MAX_SIZE), -ENOMEM.
 */
int lb_recipe_parse(const char *text, size_t len, const char *origin,
		    const struct lb_param_value *params, size_t nparams, struct lb_recipe **out);

/*
 * Load a recipe by built-in NAME, or from a file when @name contains '/' or
 * ends in ".recipe". Errors as lb_recipe_parse, and -ENOENT (no such recipe:
 * the message lists the built-in ones).
 */
int lb_recipe_load(const char *name, const struct lb_param_value *params, size_t nparams,
		   struct lb_recipe **out);

/* An empty recipe for actions given on the command line (name "command-line"). */
struct lb_recipe *lb_recipe_new_adhoc(void);

/*
 * Apply one directive to @r, as if it were line @line of the recipe: the
 * command line's --delete GLOB is ("delete", {GLOB}, 1), --header HEX is
 * ("header", {HEX}, 1). Returns 0 or -EINVAL (recorded, without the origin).
 */
int lb_recipe_directive(struct lb_recipe *r, unsigned line, const char *directive,
			char *const *args, size_t nargs);

/* Check a recipe is complete (name, summary, at least one action, params given). */
int lb_recipe_finish(struct lb_recipe *r);

void lb_recipe_free(struct lb_recipe *r);

/* Built-in recipes: names, NULL-terminated; their text by name (NULL if none). */
const char *const *lb_recipe_builtin_names(void);
const char *lb_recipe_builtin_text(const char *name, size_t *len);

/*
 * Match @name against the glob component @pat (* ? [..] [!..]; no '/').
 * @upcase (may be NULL: exact comparison) folds code points for comparison.
 */
bool lb_glob_match(const char *pat, const char *name, uint32_t (*upcase)(const void *ctx, uint32_t),
		   const void *ctx);

/* true if @s holds glob characters (* ? [). */
bool lb_glob_has_magic(const char *s);

#endif
