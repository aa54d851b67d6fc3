/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "io/fault.h"
#include "base/err.h"
#include "base/cleanup.h"
#include "base/util.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum rule_kind {
	R_READ_ERR,
	R_WRITE_ERR,
	R_ENOSPC,
	R_FLIP,
	R_SHORT,
	R_WRITE_LIMIT,
	R_KILL_AT,    /* SIGKILL when write N arrives, before it reaches the device */
	R_KILL_AFTER, /* SIGKILL right after write N reached the device */
	R_CRASH_AT,   /* SIGSEGV when write N arrives (a crashing library) */
	R_KILL_ALL_AT, /* SIGKILL to the parent process, then to us, when write N arrives */
};

struct rule {
	enum rule_kind kind;
	uint64_t off, len;
	unsigned bit;
};

struct fault {
	struct rule rules[LB_FAULT_MAX_RULES];
	unsigned n;
	uint64_t writes;
};

static int parse_range(const char *val, uint64_t *off, uint64_t *len)
{
	char tmp[64];
	char *plus;

	if (strlen(val) >= sizeof(tmp))
		return -EINVAL;
	lb_strlcpy(tmp, val, sizeof(tmp));
	*len = 1;
	plus = strchr(tmp, '+');
	if (plus) {
		*plus = '\0';
		if (lb_parse_size(plus + 1, len) < 0 || *len == 0)
			return -EINVAL;
	}
	return lb_parse_size(tmp, off) < 0 ? -EINVAL : 0;
}

static int parse_rule(const char *s, struct rule *r)
{
	const char *eq = strchr(s, '=');
	size_t klen = eq ? (size_t)(eq - s) : strlen(s);
	const char *val = eq ? eq + 1 : NULL;

	memset(r, 0, sizeof(*r));
	if (klen == 11 && !memcmp(s, "short-reads", 11) && !val) {
		r->kind = R_SHORT;
		return 0;
	}
	if (!val)
		return -EINVAL;
	if (klen == 10 && !memcmp(s, "read-error", 10)) {
		r->kind = R_READ_ERR;
		return parse_range(val, &r->off, &r->len);
	}
	if (klen == 11 && !memcmp(s, "write-error", 11)) {
		r->kind = R_WRITE_ERR;
		return parse_range(val, &r->off, &r->len);
	}
	if (klen == 6 && !memcmp(s, "enospc", 6)) {
		r->kind = R_ENOSPC;
		r->len = UINT64_MAX;
		return lb_parse_size(val, &r->off) < 0 ? -EINVAL : 0;
	}
	if (klen == 11 && !memcmp(s, "write-limit", 11)) {
		r->kind = R_WRITE_LIMIT;
		return lb_parse_u64(val, &r->off) < 0 ? -EINVAL : 0;
	}
	if (klen == 17 && !memcmp(s, "kill-all-at-write", 17)) {
		r->kind = R_KILL_ALL_AT;
		return lb_parse_u64(val, &r->off) < 0 || r->off == 0 ? -EINVAL : 0;
	}
	if ((klen == 13 && !memcmp(s, "kill-at-write", 13)) ||
	    (klen == 16 && !memcmp(s, "kill-after-write", 16)) ||
	    (klen == 14 && !memcmp(s, "crash-at-write", 14))) {
		r->kind = s[0] == 'c' ? R_CRASH_AT : klen == 16 ? R_KILL_AFTER : R_KILL_AT;
		return lb_parse_u64(val, &r->off) < 0 || r->off == 0 ? -EINVAL : 0;
	}
	if (klen == 4 && !memcmp(s, "flip", 4)) {
		char tmp[64];
		char *colon;
		uint64_t bit = 0;

		if (strlen(val) >= sizeof(tmp))
			return -EINVAL;
		lb_strlcpy(tmp, val, sizeof(tmp));
		colon = strchr(tmp, ':');
		if (colon) {
			*colon = '\0';
			if (lb_parse_u64(colon + 1, &bit) < 0 || bit > 7)
				return -EINVAL;
		}
		r->kind = R_FLIP;
		r->bit = (unsigned)bit;
		r->len = 1;
		return lb_parse_size(tmp, &r->off) < 0 ? -EINVAL : 0;
	}
	return -EINVAL;
}

static int parse_spec(const char *spec, struct fault *f)
{
	const char *p = spec;

	f->n = 0;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char rule[128];

		if (n == 0 || n >= sizeof(rule) || f->n >= LB_FAULT_MAX_RULES ||
		    (lb_strlcpy(rule, p, n + 1), parse_rule(rule, &f->rules[f->n]) < 0))
			return lb_err(-EINVAL, "LIFEBOAT_FAULT",
				      "see src/io/fault.h for the grammar",
				      "cannot parse fault rule '%.*s'", (int)LB_MIN(n, 100), p);
		f->n++;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int lb_fault_spec_check(const char *spec)
{
	struct fault f;

	return parse_spec(spec, &f);
}

static bool touches(const struct rule *r, size_t len, uint64_t off)
{
	uint64_t rend = r->len > UINT64_MAX - r->off ? UINT64_MAX : r->off + r->len;

	return off < rend && off + len > r->off;
}

static ssize_t fault_pread(struct lb_dev *dev, void *buf, size_t len, uint64_t off)
{
	struct fault *f = dev->priv;
	int r;

	for (unsigned i = 0; i < f->n; i++)
		if (f->rules[i].kind == R_SHORT && len > 1)
			len = len / 2;
	for (unsigned i = 0; i < f->n; i++)
		if (f->rules[i].kind == R_READ_ERR && touches(&f->rules[i], len, off))
			return lb_err(-EIO, dev->name, "the disk holding the image may be failing",
				      "read error at offset %" PRIu64 " (injected)",
				      LB_MAX(off, f->rules[i].off));
	r = lb_dev_pread(dev->lower, buf, len, off);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < f->n; i++) {
		const struct rule *ru = &f->rules[i];

		if (ru->kind == R_FLIP && touches(ru, len, off))
			((uint8_t *)buf)[ru->off - off] ^= (uint8_t)(1u << ru->bit);
	}
	return (ssize_t)len;
}

static ssize_t fault_pwrite(struct lb_dev *dev, const void *buf, size_t len, uint64_t off)
{
	struct fault *f = dev->priv;
	int r;

	f->writes++;
	for (unsigned i = 0; i < f->n; i++) {
		const struct rule *ru = &f->rules[i];

		if (ru->kind == R_WRITE_LIMIT && f->writes > ru->off)
			return lb_err(-EIO, dev->name, NULL,
				      "write error at offset %" PRIu64 " (injected after %" PRIu64
				      " writes)",
				      off, ru->off);
		if (ru->kind == R_WRITE_ERR && touches(ru, len, off))
			return lb_err(-EIO, dev->name, NULL,
				      "write error at offset %" PRIu64 " (injected)", off);
		if (ru->kind == R_ENOSPC && touches(ru, len, off))
			return lb_err(-ENOSPC, dev->name, "free space on the host file system",
				      "no space left writing at offset %" PRIu64 " (injected)",
				      off);
		if (ru->kind == R_KILL_AT && f->writes == ru->off)
			raise(SIGKILL);
		if (ru->kind == R_CRASH_AT && f->writes == ru->off)
			raise(SIGSEGV);
		if (ru->kind == R_KILL_ALL_AT && f->writes == ru->off) {
			kill(getppid(), SIGKILL);
			raise(SIGKILL);
		}
	}
	r = lb_dev_pwrite(dev->lower, buf, len, off);
	for (unsigned i = 0; i < f->n; i++)
		if (f->rules[i].kind == R_KILL_AFTER && f->writes == f->rules[i].off) {
			lb_dev_flush(dev->lower);
			raise(SIGKILL);
		}
	return r < 0 ? r : (ssize_t)len;
}

static int fault_flush(struct lb_dev *dev)
{
	return lb_dev_flush(dev->lower);
}

static int fault_extents(struct lb_dev *dev, uint64_t off, uint64_t len, lb_extent_fn fn,
			 void *opaque)
{
	return lb_dev_extents(dev->lower, off, len, fn, opaque);
}

static void fault_destroy(struct lb_dev *dev)
{
	free(dev->priv);
}

static const struct lb_dev_ops fault_ops = {
	.version = LB_DEV_OPS_VERSION,
	.kind = "fault",
	.pread = fault_pread,
	.pwrite = fault_pwrite,
	.flush = fault_flush,
	.extents = fault_extents,
	.destroy = fault_destroy,
};

int lb_fault_dev_new(struct lb_dev *lower, const char *spec, struct lb_dev **out)
{
	struct fault *f = calloc(1, sizeof(*f));
	struct lb_dev *dev;
	int r;

	if (!f)
		return -ENOMEM;
	r = parse_spec(spec, f);
	if (r < 0) {
		free(f);
		return r;
	}
	dev = lb_dev_new(&fault_ops, f, lower->size, lower, lower->read_only, lower->name);
	if (!dev) {
		free(f);
		return -ENOMEM;
	}
	dev->sector_size = lower->sector_size;
	*out = dev;
	return 0;
}
