/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * buf.h - a growable byte buffer with a hard cap (curl's dynbuf idea).
 *
 * Every buffer that grows with input has a maximum: appending past it fails
 * with -EOVERFLOW instead of eating memory. The data is always NUL-terminated
 * (the terminator is not counted in len), so text can be used as a C string.
 *
 *     struct lb_buf b;
 *     lb_buf_init(&b, 1 << 20);
 *     r = lb_buf_append(&b, p, n);
 *     ...
 *     lb_buf_release(&b);
 */
#ifndef LB_BASE_BUF_H
#define LB_BASE_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct lb_buf {
	char *data; /* NULL until the first append; owned by the buffer */
	size_t len; /* bytes used, not counting the terminator */
	size_t cap; /* bytes allocated */
	size_t max; /* len may never exceed this */
};

void lb_buf_init(struct lb_buf *b, size_t max);
void lb_buf_release(struct lb_buf *b);
/* Empty the buffer, keep the allocation. */
void lb_buf_reset(struct lb_buf *b);

/* Returns 0, -ENOMEM, or -EOVERFLOW if len would exceed max. */
int lb_buf_append(struct lb_buf *b, const void *data, size_t len);
int lb_buf_putc(struct lb_buf *b, char c);
int lb_buf_puts(struct lb_buf *b, const char *s);
int lb_buf_printf(struct lb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lb_buf_vprintf(struct lb_buf *b, const char *fmt, va_list ap);

/* Hand the data to the caller (free() it) and reset the buffer. Never NULL on success. */
char *lb_buf_steal(struct lb_buf *b);

#endif
