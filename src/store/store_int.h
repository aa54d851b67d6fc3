/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_int.h - what a store backend implements for store.c (private to
 * src/store/). store.c validates names before a backend sees them.
 */
#ifndef LB_STORE_STORE_INT_H
#define LB_STORE_STORE_INT_H

#include "store/store.h"

struct lb_store_ops {
	const char *scheme; /* "file", "s3" */
	int (*put)(struct lb_store *s, const char *name, const void *data, size_t len);
	int (*create)(struct lb_store *s, const char *name, struct lb_store_writer **out);
	int (*write)(struct lb_store_writer *w, const void *data, size_t len);
	int (*commit)(struct lb_store_writer *w);
	void (*abort)(struct lb_store_writer *w);
	int (*get)(struct lb_store *s, const char *name, uint64_t off, size_t len, void *buf);
	/* optional: else store.c does stat, then get */
	int (*get_all)(struct lb_store *s, const char *name, size_t max, uint8_t **data,
		       size_t *len);
	int (*stat)(struct lb_store *s, const char *name, uint64_t *size);
	int (*list)(struct lb_store *s, const char *prefix, lb_store_list_fn fn, void *ctx);
	int (*del)(struct lb_store *s, const char *name);
	void (*close)(struct lb_store *s);
};

struct lb_store {
	const struct lb_store_ops *ops;
	void *priv;
	char *url;
};

/* A backend's writer embeds this first, so that the generic calls can dispatch. */
struct lb_store_writer {
	struct lb_store *store;
};

int lb_local_store_open(const char *path, unsigned flags, struct lb_store *s);
int lb_s3_store_open(const char *url, unsigned flags, struct lb_store *s);

#endif
