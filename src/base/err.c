/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base/err.h"

#include <stdio.h>
#include <string.h>

static _Thread_local struct lb_error last;

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (!src) {
		dst[0] = '\0';
		return;
	}
	n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int lb_err_at(const char *file, int line, int code, const char *object, const char *hint,
	      const char *fmt, ...)
{
	va_list ap;

	last.code = code;
	last.file = file;
	last.line = line;
	copy_str(last.object, sizeof(last.object), object);
	copy_str(last.hint, sizeof(last.hint), hint);
	va_start(ap, fmt);
	vsnprintf(last.problem, sizeof(last.problem), fmt, ap);
	va_end(ap);
	return code;
}

int lb_err_errno(int code, const char *object, const char *what)
{
	if (last.code == code && last.problem[0])
		return code;
	return lb_err_at(__FILE__, __LINE__, code, object, NULL, "%s: %s", what,
			 strerror(code < 0 ? -code : code));
}

int lb_err_context(const char *fmt, ...)
{
	char prefix[LB_ERR_OBJECT_MAX];
	char joined[LB_ERR_OBJECT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (last.object[0])
		snprintf(joined, sizeof(joined), "%s: %s", prefix, last.object);
	else
		snprintf(joined, sizeof(joined), "%s", prefix);
	copy_str(last.object, sizeof(last.object), joined);
	return last.code;
}

void lb_err_default_hint(const char *hint)
{
	if (!last.hint[0])
		copy_str(last.hint, sizeof(last.hint), hint);
}

const struct lb_error *lb_err_last(void)
{
	return &last;
}

void lb_err_clear(void)
{
	memset(&last, 0, sizeof(last));
}

void lb_err_save(struct lb_error *save)
{
	*save = last;
}

void lb_err_restore(const struct lb_error *save)
{
	last = *save;
}
