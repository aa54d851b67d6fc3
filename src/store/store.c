/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store.c - the store handle: picks the backend from the URL and checks
 * every object name before a backend sees it.
 */
#include "store/store_int.h"
#include "store/fault.h"
#include "base/cleanup.h"
#include "base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A name is relative, '/'-separated, without empty, "." or ".." components. */
static int check_name(const char *name)
{
	const char *p = name;

	if (!*name || *name == '/' || strlen(name) > 1024)
		return lb_err(-EINVAL, name, NULL, "not a valid object name");
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return lb_err(-EINVAL, name, NULL, "not a valid object name");
		p += n + (e ? 1 : 0);
		if (e && !*p)
			return lb_err(-EINVAL, name, NULL, "not a valid object name");
	}
	return 0;
}

int lb_store_open(const char *url, unsigned flags, struct lb_store **out)
{
	struct lb_store *s;
	int r;

	if (!strncmp(url, "s3:", 3) && strncmp(url, "s3://", 5))
		return lb_err(-EINVAL, url, "write s3://BUCKET/PREFIX", "not an S3 URL");
	if (!strncmp(url, "file://", 7))
		url += 7;
	if (!*url)
		return lb_err(-EINVAL, "repository", "give -r DIR or set LIFEBOAT_REPOSITORY",
			      "no repository given");
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->url = strdup(url);
	if (!s->url) {
		free(s);
		return -ENOMEM;
	}
	if (!strncmp(url, "s3://", 5))
		r = lb_s3_store_open(url, flags, s);
	else
		r = lb_local_store_open(url, flags, s);
	if (r < 0) {
		free(s->url);
		free(s);
		return r;
	}
	r = lb_store_fault_wrap(&s); /* LIFEBOAT_STORE_FAULT, for tests (fault.h) */
	if (r < 0) {
		lb_store_close(s);
		return r;
	}
	*out = s;
	return 0;
}

void lb_store_close(struct lb_store *s)
{
	if (!s)
		return;
	if (s->ops && s->ops->close)
		s->ops->close(s);
	free(s->url);
	free(s);
}

const char *lb_store_url(const struct lb_store *s)
{
	return s->url;
}

int lb_store_put(struct lb_store *s, const char *name, const void *data, size_t len)
{
	int r = check_name(name);

	if (r < 0)
		return r;
	return s->ops->put(s, name, data, len);
}

int lb_store_create(struct lb_store *s, const char *name, struct lb_store_writer **out)
{
	int r = check_name(name);

	return r < 0 ? r : s->ops->create(s, name, out);
}

int lb_store_write(struct lb_store_writer *w, const void *data, size_t len)
{
	return w->store->ops->write(w, data, len);
}

int lb_store_commit(struct lb_store_writer *w)
{
	return w->store->ops->commit(w);
}

void lb_store_abort(struct lb_store_writer *w)
{
	if (w)
		w->store->ops->abort(w);
}

int lb_store_get(struct lb_store *s, const char *name, uint64_t off, size_t len, void *buf)
{
	int r = check_name(name);

	return r < 0 ? r : s->ops->get(s, name, off, len, buf);
}

int lb_store_get_all(struct lb_store *s, const char *name, size_t max, uint8_t **data, size_t *len)
{
	uint64_t size;
	uint8_t *buf;
	int r;

	if (s->ops->get_all) {
		r = check_name(name);
		return r < 0 ? r : s->ops->get_all(s, name, max, data, len);
	}
	r = lb_store_stat(s, name, &size);
	if (r < 0)
		return r;
	if (size > max)
		return lb_err(-EFBIG, name, "run 'lifeboat check'",
			      "the object has %llu bytes, more than the %zu allowed",
			      (unsigned long long)size, max);
	buf = malloc(size ? (size_t)size : 1);
	if (!buf)
		return -ENOMEM;
	r = size ? lb_store_get(s, name, 0, (size_t)size, buf) : 0;
	if (r < 0) {
		free(buf);
		return r;
	}
	*data = buf;
	*len = (size_t)size;
	return 0;
}

int lb_store_stat(struct lb_store *s, const char *name, uint64_t *size)
{
	int r = check_name(name);

	return r < 0 ? r : s->ops->stat(s, name, size);
}

int lb_store_list(struct lb_store *s, const char *prefix, lb_store_list_fn fn, void *ctx)
{
	return s->ops->list(s, prefix, fn, ctx);
}

int lb_store_delete(struct lb_store *s, const char *name)
{
	int r = check_name(name);

	return r < 0 ? r : s->ops->del(s, name);
}
