/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "io/dev.h"
#include "base/err.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct lb_dev *lb_dev_new(const struct lb_dev_ops *ops, void *priv, uint64_t size,
			  struct lb_dev *lower, bool read_only, const char *name)
{
	struct lb_dev *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	dev->name = strdup(name ? name : ops->kind);
	if (!dev->name) {
		free(dev);
		return NULL;
	}
	dev->ops = ops;
	dev->priv = priv;
	dev->size = size;
	dev->sector_size = lower ? lower->sector_size : 512;
	dev->read_only = read_only || !ops->pwrite || (lower && lower->read_only);
	dev->refs = 1;
	dev->lower = lower ? lb_dev_ref(lower) : NULL;
	return dev;
}

struct lb_dev *lb_dev_ref(struct lb_dev *dev)
{
	if (dev)
		dev->refs++;
	return dev;
}

void lb_dev_unref(struct lb_dev *dev)
{
	if (!dev || --dev->refs > 0)
		return;
	if (dev->ops->destroy)
		dev->ops->destroy(dev);
	lb_dev_unref(dev->lower);
	free(dev->name);
	free(dev);
}

static int check_range(struct lb_dev *dev, size_t len, uint64_t off, const char *what)
{
	if (off > dev->size || len > dev->size - off)
		return lb_err(-EINVAL, dev->name, NULL,
			      "%s of %zu bytes at offset %" PRIu64 " is beyond the end (%" PRIu64
			      " bytes)",
			      what, len, off, dev->size);
	return 0;
}

int lb_dev_pread(struct lb_dev *dev, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	int r = check_range(dev, len, off, "read");

	if (r < 0)
		return r;
	while (len > 0) {
		ssize_t n = dev->ops->pread(dev, p, len, off);

		if (n < 0)
			return (int)n;
		if (n == 0 || (size_t)n > len)
			return lb_err(-EIO, dev->name, "the image may be truncated",
				      "unexpected end of data at offset %" PRIu64, off);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int lb_dev_pwrite(struct lb_dev *dev, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	int r;

	if (dev->read_only || !dev->ops->pwrite)
		return lb_err(-EROFS, dev->name, NULL, "device is open read-only");
	r = check_range(dev, len, off, "write");
	if (r < 0)
		return r;
	while (len > 0) {
		ssize_t n = dev->ops->pwrite(dev, p, len, off);

		if (n < 0)
			return (int)n;
		if (n == 0 || (size_t)n > len)
			return lb_err(-EIO, dev->name, NULL,
				      "write made no progress at offset %" PRIu64, off);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int lb_dev_flush(struct lb_dev *dev)
{
	if (dev->read_only || !dev->ops->flush)
		return 0;
	return dev->ops->flush(dev);
}

/* Enforces the extents invariants on top of an implementation. */
struct extent_guard {
	uint64_t next; /* next offset expected */
	uint64_t end;
	lb_extent_fn fn;
	void *opaque;
	/* pending extent, merged with the next one of the same type */
	uint64_t p_off, p_len;
	enum lb_extent_type p_type;
	bool pending;
};

static int guard_emit(struct extent_guard *g, uint64_t off, uint64_t len, enum lb_extent_type type)
{
	int r;

	if (g->pending && g->p_type == type && g->p_off + g->p_len == off) {
		g->p_len += len;
		return 0;
	}
	if (g->pending) {
		r = g->fn(g->opaque, g->p_off, g->p_len, g->p_type);
		if (r < 0)
			return r;
	}
	g->p_off = off;
	g->p_len = len;
	g->p_type = type;
	g->pending = true;
	return 0;
}

static int guard_cb(void *opaque, uint64_t off, uint64_t len, enum lb_extent_type type)
{
	struct extent_guard *g = opaque;
	uint64_t end;
	int r;

	if (len == 0)
		return 0;
	if (__builtin_add_overflow(off, len, &end))
		end = UINT64_MAX;
	/* clip to what is still expected; fill any gap as data (safe: read it) */
	if (end <= g->next)
		return 0;
	if (off < g->next)
		off = g->next;
	if (off > g->next) {
		r = guard_emit(g, g->next, off - g->next, LB_EXTENT_DATA);
		if (r < 0)
			return r;
	}
	if (off >= g->end)
		return 0;
	if (end > g->end)
		end = g->end;
	if (type != LB_EXTENT_ZERO && type != LB_EXTENT_HOLE)
		type = LB_EXTENT_DATA;
	r = guard_emit(g, off, end - off, type);
	if (r < 0)
		return r;
	g->next = end;
	return 0;
}

int lb_dev_extents(struct lb_dev *dev, uint64_t off, uint64_t len, lb_extent_fn fn, void *opaque)
{
	struct extent_guard g = {.next = off, .end = off + len, .fn = fn, .opaque = opaque};
	int r = check_range(dev, (size_t)0, off, "extent query");

	if (r < 0)
		return r;
	if (len > dev->size - off)
		len = dev->size - off;
	g.end = off + len;
	if (len == 0)
		return 0;
	if (dev->ops->extents) {
		r = dev->ops->extents(dev, off, len, guard_cb, &g);
		if (r < 0)
			return r;
	}
	if (g.next < g.end) {
		r = guard_emit(&g, g.next, g.end - g.next, LB_EXTENT_DATA);
		if (r < 0)
			return r;
	}
	if (g.pending)
		return fn(opaque, g.p_off, g.p_len, g.p_type);
	return 0;
}

static int sum_allocated(void *opaque, uint64_t off, uint64_t len, enum lb_extent_type type)
{
	uint64_t *sum = opaque;

	(void)off;
	if (type != LB_EXTENT_HOLE)
		*sum += len;
	return 0;
}

int lb_dev_allocated(struct lb_dev *dev, uint64_t *out)
{
	uint64_t sum = 0;
	int r = lb_dev_extents(dev, 0, dev->size, sum_allocated, &sum);

	if (r < 0)
		return r;
	*out = sum;
	return 0;
}

/* ---- memory device --------------------------------------------------- */

static ssize_t mem_pread(struct lb_dev *dev, void *buf, size_t len, uint64_t off)
{
	memcpy(buf, (uint8_t *)dev->priv + off, len);
	return (ssize_t)len;
}

static ssize_t mem_pwrite(struct lb_dev *dev, const void *buf, size_t len, uint64_t off)
{
	memcpy((uint8_t *)dev->priv + off, buf, len);
	return (ssize_t)len;
}

static const struct lb_dev_ops mem_ops = {
	.version = LB_DEV_OPS_VERSION,
	.kind = "mem",
	.pread = mem_pread,
	.pwrite = mem_pwrite,
};

struct lb_dev *lb_mem_dev_new(void *data, size_t len, bool read_only, const char *name)
{
	return lb_dev_new(&mem_ops, data, len, NULL, read_only, name);
}

/* ---- slice (partition) filter ----------------------------------------- */

struct slice {
	uint64_t off;
};

static ssize_t slice_pread(struct lb_dev *dev, void *buf, size_t len, uint64_t off)
{
	struct slice *s = dev->priv;
	int r = lb_dev_pread(dev->lower, buf, len, s->off + off);

	return r < 0 ? r : (ssize_t)len;
}

static ssize_t slice_pwrite(struct lb_dev *dev, const void *buf, size_t len, uint64_t off)
{
	struct slice *s = dev->priv;
	int r = lb_dev_pwrite(dev->lower, buf, len, s->off + off);

	return r < 0 ? r : (ssize_t)len;
}

static int slice_flush(struct lb_dev *dev)
{
	return lb_dev_flush(dev->lower);
}

struct slice_walk {
	uint64_t base;
	lb_extent_fn fn;
	void *opaque;
};

static int slice_extent_cb(void *opaque, uint64_t off, uint64_t len, enum lb_extent_type type)
{
	struct slice_walk *w = opaque;

	return w->fn(w->opaque, off - w->base, len, type);
}

static int slice_extents(struct lb_dev *dev, uint64_t off, uint64_t len, lb_extent_fn fn,
			 void *opaque)
{
	struct slice *s = dev->priv;
	struct slice_walk w = {.base = s->off, .fn = fn, .opaque = opaque};

	return lb_dev_extents(dev->lower, s->off + off, len, slice_extent_cb, &w);
}

static void slice_destroy(struct lb_dev *dev)
{
	free(dev->priv);
}

static const struct lb_dev_ops slice_ops = {
	.version = LB_DEV_OPS_VERSION,
	.kind = "slice",
	.pread = slice_pread,
	.pwrite = slice_pwrite,
	.flush = slice_flush,
	.extents = slice_extents,
	.destroy = slice_destroy,
};

int lb_slice_dev_new(struct lb_dev *lower, uint64_t off, uint64_t len, const char *name,
		     struct lb_dev **out)
{
	struct slice *s;
	struct lb_dev *dev;

	if (off > lower->size || len > lower->size - off)
		return lb_err(-EINVAL, name, NULL,
			      "range %" PRIu64 "+%" PRIu64 " is outside %s (%" PRIu64 " bytes)",
			      off, len, lower->name, lower->size);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->off = off;
	dev = lb_dev_new(&slice_ops, s, len, lower, lower->read_only, name);
	if (!dev) {
		free(s);
		return -ENOMEM;
	}
	*out = dev;
	return 0;
}
