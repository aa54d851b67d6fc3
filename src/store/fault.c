/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fault.c - the fault-injecting store wrapper (see fault.h for the grammar).
 * Every call goes to the backend below unless a rule picks it; an injected
 * error is recorded like a real one, with "(injected)" in the problem text.
 */
#include "store/fault.h"
#include "store/store_int.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/util.h"

#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum op {
	OP_PUT,
	OP_WRITE,
	OP_GET,
	OP_STAT,
	OP_LIST,
	OP_DELETE,
	OP_CORRUPT,
	OP_TRUNCATE
};

static const char *const op_names[] = {"put", "write", "get", "stat", "list", "delete"};

struct rule {
	enum op op;
	char glob[256];
	unsigned long nth; /* 0: every matching call */
	unsigned long seen;
	int code; /* negative errno */
};

struct fault_store {
	struct lb_store *inner;
	struct rule rules[LB_STORE_FAULT_MAX_RULES];
	unsigned n;
	unsigned long delay_ms;
	unsigned long kill_at; /* 0: none */
	bool kill_after;
	unsigned long commits;
	unsigned long kill_at_write; /* 0: none */
	unsigned long writes;
};

struct fault_writer {
	struct lb_store_writer base;
	struct lb_store_writer *inner;
	char *name;
};

static const struct {
	const char *name;
	int code;
} codes[] = {
	{"EIO", -EIO},	     {"ENOSPC", -ENOSPC}, {"EACCES", -EACCES},
	{"ENOENT", -ENOENT}, {"EROFS", -EROFS},
};

static int parse_ulong(const char *s, unsigned long *v)
{
	uint64_t u;

	if (lb_parse_u64(s, &u) < 0 || u == 0 || u > 1000000000)
		return -EINVAL;
	*v = (unsigned long)u;
	return 0;
}

/* GLOB[#N][/ERRNO] (the errno only for OP-error rules) */
static int parse_target(char *val, struct rule *r, bool with_errno)
{
	char *slash = with_errno ? strrchr(val, '/') : NULL;
	char *hash;

	r->code = -EIO;
	/* "/ERRNO" only if what follows the last '/' is an errno we know */
	if (slash && slash[1] == 'E') {
		size_t i;

		for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
			if (!strcmp(slash + 1, codes[i].name))
				break;
		if (i == sizeof(codes) / sizeof(codes[0]))
			return -EINVAL;
		r->code = codes[i].code;
		*slash = '\0';
	}
	hash = strrchr(val, '#');
	if (hash) {
		*hash = '\0';
		if (parse_ulong(hash + 1, &r->nth) < 0)
			return -EINVAL;
	}
	if (!*val || strlen(val) >= sizeof(r->glob))
		return -EINVAL;
	lb_strlcpy(r->glob, val, sizeof(r->glob));
	return 0;
}

static int parse_rule(char *s, struct fault_store *f)
{
	char *val = strchr(s, '=');
	struct rule *r;

	if (!val)
		return -EINVAL;
	*val++ = '\0';
	if (!strcmp(s, "kill-at-commit") || !strcmp(s, "kill-after-commit")) {
		f->kill_after = s[5] == 'a';
		return parse_ulong(val, &f->kill_at);
	}
	if (!strcmp(s, "kill-at-write"))
		return parse_ulong(val, &f->kill_at_write);
	if (!strcmp(s, "delay"))
		return parse_ulong(val, &f->delay_ms) < 0 || f->delay_ms > 60000 ? -EINVAL : 0;
	if (f->n >= LB_STORE_FAULT_MAX_RULES)
		return -EINVAL;
	r = &f->rules[f->n];
	memset(r, 0, sizeof(*r));
	if (!strcmp(s, "corrupt") || !strcmp(s, "truncate")) {
		r->op = s[0] == 'c' ? OP_CORRUPT : OP_TRUNCATE;
		if (parse_target(val, r, false) < 0)
			return -EINVAL;
		f->n++;
		return 0;
	}
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
		size_t k = strlen(op_names[i]);

		if (!strncmp(s, op_names[i], k) && !strcmp(s + k, "-error")) {
			r->op = (enum op)i;
			if (parse_target(val, r, true) < 0)
				return -EINVAL;
			f->n++;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_spec(const char *spec, struct fault_store *f)
{
	const char *p = spec;

	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char rule[320];

		if (n == 0 || n >= sizeof(rule) ||
		    (lb_strlcpy(rule, p, n + 1), parse_rule(rule, f) < 0))
			return lb_err(-EINVAL, "LIFEBOAT_STORE_FAULT",
				      "see src/store/fault.h for the grammar",
				      "cannot parse store fault rule '%.*s'", (int)LB_MIN(n, 100),
				      p);
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int lb_store_fault_spec_check(const char *spec)
{
	struct fault_store *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	r = parse_spec(spec, f);
	free(f);
	return r;
}

/* The first rule for @op that picks this call on @name (counting its matches). */
static const struct rule *pick(struct fault_store *f, enum op op, const char *name)
{
	for (unsigned i = 0; i < f->n; i++) {
		struct rule *r = &f->rules[i];

		if (r->op != op || fnmatch(r->glob, name, 0) != 0)
			continue;
		r->seen++;
		if (!r->nth || r->seen == r->nth)
			return r;
	}
	return NULL;
}

static void delay(struct fault_store *f)
{
	struct timespec ts = {.tv_sec = (time_t)(f->delay_ms / 1000),
			      .tv_nsec = (long)(f->delay_ms % 1000) * 1000000L};

	if (f->delay_ms)
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
}

static int injected(struct lb_store *s, const struct rule *r, const char *what, const char *name)
{
	if (r->code == -ENOSPC)
		return lb_err(-ENOSPC, s->url, "free space where the repository lives",
			      "no space left %s %s (injected)", what, name);
	if (r->code == -EACCES)
		return lb_err(-EACCES, s->url, "check the repository's permissions",
			      "permission denied %s %s (injected)", what, name);
	if (r->code == -ENOENT)
		return lb_err(-ENOENT, name, NULL, "no such object in %s (injected)", s->url);
	return lb_err(r->code, s->url,
		      "check the storage that holds the repository, then try again",
		      "%s %s: %s (injected)", what, name, strerror(-r->code));
}

/* Before and after an object becomes visible: the kill-at/after-commit rules. */
static void commit_point(struct fault_store *f, bool after)
{
	if (!f->kill_at)
		return;
	if (!after)
		f->commits++;
	if (f->commits == f->kill_at && after == f->kill_after)
		raise(SIGKILL);
}

static struct fault_store *F(struct lb_store *s)
{
	return s->priv;
}

static int fault_put(struct lb_store *s, const char *name, const void *data, size_t len)
{
	struct fault_store *f = F(s);
	const struct rule *r;
	int ret;

	delay(f);
	r = pick(f, OP_PUT, name);
	if (r)
		return injected(s, r, "writing", name);
	commit_point(f, false);
	ret = lb_store_put(f->inner, name, data, len);
	commit_point(f, true);
	return ret;
}

static int fault_create(struct lb_store *s, const char *name, struct lb_store_writer **out)
{
	struct fault_store *f = F(s);
	struct fault_writer *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->name = strdup(name);
	if (!w->name) {
		free(w);
		return -ENOMEM;
	}
	delay(f);
	r = lb_store_create(f->inner, name, &w->inner);
	if (r < 0) {
		free(w->name);
		free(w);
		return r;
	}
	w->base.store = s;
	*out = &w->base;
	return 0;
}

static void writer_free(struct fault_writer *w)
{
	free(w->name);
	free(w);
}

static int fault_write(struct lb_store_writer *bw, const void *data, size_t len)
{
	struct fault_writer *w = (struct fault_writer *)bw;
	struct fault_store *f = F(bw->store);
	const struct rule *r = pick(f, OP_WRITE, w->name);

	if (f->kill_at_write && ++f->writes == f->kill_at_write)
		raise(SIGKILL);
	if (r)
		return injected(bw->store, r, "writing", w->name);
	return lb_store_write(w->inner, data, len);
}

static void fault_abort(struct lb_store_writer *bw)
{
	struct fault_writer *w = (struct fault_writer *)bw;

	lb_store_abort(w->inner);
	writer_free(w);
}

static int fault_commit(struct lb_store_writer *bw)
{
	struct fault_writer *w = (struct fault_writer *)bw;
	struct lb_store *s = bw->store;
	struct fault_store *f = F(s);
	const struct rule *r;
	int ret;

	delay(f);
	r = pick(f, OP_PUT, w->name);
	if (r) {
		ret = injected(s, r, "writing", w->name);
		lb_store_abort(w->inner); /* nothing becomes visible */
		writer_free(w);
		return ret;
	}
	commit_point(f, false);
	ret = lb_store_commit(w->inner);
	commit_point(f, true);
	writer_free(w);
	return ret;
}

static int fault_get(struct lb_store *s, const char *name, uint64_t off, size_t len, void *buf)
{
	struct fault_store *f = F(s);
	const struct rule *r;
	int ret;

	delay(f);
	r = pick(f, OP_GET, name);
	if (r)
		return injected(s, r, "reading", name);
	if (pick(f, OP_TRUNCATE, name))
		return lb_err(-ENODATA, name, "run 'lifeboat check'",
			      "the object is shorter than expected (injected)");
	ret = lb_store_get(f->inner, name, off, len, buf);
	if (ret >= 0 && len && pick(f, OP_CORRUPT, name))
		((unsigned char *)buf)[len / 2] ^= 0xff;
	return ret;
}

static int fault_stat(struct lb_store *s, const char *name, uint64_t *size)
{
	struct fault_store *f = F(s);
	const struct rule *r;

	delay(f);
	r = pick(f, OP_STAT, name);
	return r ? injected(s, r, "examining", name) : lb_store_stat(f->inner, name, size);
}

static int fault_list(struct lb_store *s, const char *prefix, lb_store_list_fn fn, void *ctx)
{
	struct fault_store *f = F(s);
	const struct rule *r;

	delay(f);
	r = pick(f, OP_LIST, prefix);
	return r ? injected(s, r, "listing", prefix) : lb_store_list(f->inner, prefix, fn, ctx);
}

static int fault_del(struct lb_store *s, const char *name)
{
	struct fault_store *f = F(s);
	const struct rule *r;

	delay(f);
	r = pick(f, OP_DELETE, name);
	return r ? injected(s, r, "deleting", name) : lb_store_delete(f->inner, name);
}

static void fault_close(struct lb_store *s)
{
	struct fault_store *f = F(s);

	lb_store_close(f->inner);
	free(f);
}

static const struct lb_store_ops fault_ops = {
	.scheme = "fault",
	.put = fault_put,
	.create = fault_create,
	.write = fault_write,
	.commit = fault_commit,
	.abort = fault_abort,
	.get = fault_get,
	.stat = fault_stat,
	.list = fault_list,
	.del = fault_del,
	.close = fault_close,
};

int lb_store_fault_wrap(struct lb_store **sp)
{
	const char *spec = getenv("LIFEBOAT_STORE_FAULT");
	struct fault_store *f;
	struct lb_store *s;
	int r;

	if (!spec || !*spec)
		return 0;
	f = calloc(1, sizeof(*f));
	s = calloc(1, sizeof(*s));
	if (!f || !s || !(s->url = strdup((*sp)->url))) {
		free(f);
		free(s);
		return -ENOMEM;
	}
	r = parse_spec(spec, f);
	if (r < 0) {
		free(f);
		free(s->url);
		free(s);
		return r;
	}
	f->inner = *sp;
	s->ops = &fault_ops;
	s->priv = f;
	*sp = s;
	return 0;
}
