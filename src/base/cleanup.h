/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cleanup.h - scope-bound cleanup helpers (systemd style).
 *
 *     _cleanup_free_ char *p = malloc(n);   freed when p leaves scope
 *     return TAKE_PTR(p);                   hand ownership to the caller
 */
#ifndef LB_BASE_CLEANUP_H
#define LB_BASE_CLEANUP_H

#include <stdlib.h>
#include <unistd.h>

static inline void lb_freep(void *p)
{
	free(*(void **)p);
}

static inline void lb_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(lb_freep)
#define _cleanup_close_ _cleanup_(lb_closep)

/* Return the pointer and set the variable to NULL, so that cleanup skips it. */
#define TAKE_PTR(p)                     \
	({                              \
		__typeof__(p) _p = (p); \
		(p) = NULL;             \
		_p;                     \
	})

#define TAKE_FD(fd)             \
	({                      \
		int _fd = (fd); \
		(fd) = -1;      \
		_fd;            \
	})

#define LB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define LB_MIN(a, b) ((a) < (b) ? (a) : (b))
#define LB_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
