/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * err.h - error recording for every layer below the CLI.
 *
 * Library code never prints. A function that fails returns a negative errno
 * and, before returning, records one message describing the failure with
 * lb_err(). The CLI prints the recorded message once, as
 *
 *     lifeboat: <command>: <object>: <problem>; <what to do>
 *
 * Invariants:
 *  - the record is per thread;
 *  - the first layer that detects a problem records it; layers above may add
 *    context in front of the object with lb_err_context() but never replace
 *    the problem text;
 *  - a foreign library's error is translated into a negative errno exactly
 *    once, at the boundary where it is called.
 *
 * Error codes used across lifeboat (see lb_exit_code() for exit statuses):
 *   -ENOENT, -ENOTDIR, -EISDIR, -EACCES  the named input cannot be opened
 *   -ENODATA     the input is empty
 *   -EBADMSG     the input is corrupt: a checksum, magic or bound is wrong
 *   -EMEDIUMTYPE the input is not of the kind expected (wrong format)
 *   -EOVERFLOW   a size field is impossible (overflows, or exceeds a cap)
 *   -EIO         a read or write failed
 *   -EROFS       a write was attempted on a read-only device
 *   -ENOTSUP     the input is valid but not supported
 *   -EPERM       refused to protect data (hibernated, locked, ...)
 *   -EBUSY       the input is in use by another process
 *   -EINVAL      an argument is invalid (a programming or usage error)
 *   -ENOMEM      out of memory
 */
#ifndef LB_BASE_ERR_H
#define LB_BASE_ERR_H

#include <errno.h>
#include <stdarg.h>

#define LB_ERR_OBJECT_MAX 512
#define LB_ERR_PROBLEM_MAX 768
#define LB_ERR_HINT_MAX 384

struct lb_error {
	int code;			  /* negative errno, 0 if nothing recorded */
	char object[LB_ERR_OBJECT_MAX];	  /* what it is about: "GPT header", ... */
	char problem[LB_ERR_PROBLEM_MAX]; /* what went wrong */
	char hint[LB_ERR_HINT_MAX];	  /* what to do; may be empty */
	const char *file;		  /* source location that recorded it */
	int line;
};

/*
 * Record an error and return @code (a negative errno), so that callers can
 * write "return lb_err(-EBADMSG, ...)". @object and @hint may be NULL.
 */
#define lb_err(code, object, hint, ...)                                                         \
	({                                                                                      \
		int lb_code_ = (code);                                                          \
		lb_err_at(__FILE__, __LINE__, lb_code_, (object), (hint), __VA_ARGS__);         \
		lb_code_; /* visibly the code given: static analysis follows the error paths */ \
	})

int lb_err_at(const char *file, int line, int code, const char *object, const char *hint,
	      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Record @code with a default problem text (strerror) if nothing is recorded for it yet. */
int lb_err_errno(int code, const char *object, const char *what);

/*
 * Put @fmt in front of the recorded object ("partition 3" + "NTFS boot
 * sector" -> "partition 3: NTFS boot sector"). Returns the recorded code.
 */
int lb_err_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Set the hint if the recorded error has none. */
void lb_err_default_hint(const char *hint);

/* The last recorded error of this thread; never NULL (code 0 if none). */
const struct lb_error *lb_err_last(void);

/* Forget the recorded error. */
void lb_err_clear(void);

/* Save and restore the record around calls that may overwrite it. */
void lb_err_save(struct lb_error *save);
void lb_err_restore(const struct lb_error *save);

#endif
