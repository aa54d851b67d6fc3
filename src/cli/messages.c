/* SPDX-License-Identifier: GPL-2.0-or-later */
/* messages.c - the one place that prints errors, warnings and exit codes. */
#include "cli/cli.h"
#include "base/err.h"
#include "base/util.h"

#include <signal.h>
#include <stdarg.h>
#include <string.h>

volatile int lb_interrupted;

/* "lifeboat: <command>: ", or "lifeboat: " before a command is known. */
static void print_prefix(void)
{
	if (lb_cli.cmd)
		fprintf(stderr, "lifeboat: %s: ", lb_cli.cmd);
	else
		fputs("lifeboat: ", stderr);
}

const char *lb_cli_object(const char *subject, const char *object, char *buf, size_t cap)
{
	size_t slen = subject ? strlen(subject) : 0, len = 0;
	const char *p = object;

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	while (p && *p) {
		const char *sep = strstr(p, ": ");
		size_t n = sep ? (size_t)(sep - p) : strlen(p);

		if (!(slen && n == slen && !memcmp(p, subject, n)) && n > 0) {
			if (len && len + 2 < cap) {
				memcpy(buf + len, ": ", 2);
				len += 2;
			}
			if (len + n >= cap)
				n = cap - 1 - len;
			memcpy(buf + len, p, n);
			len += n;
			buf[len] = '\0';
		}
		p = sep ? sep + 2 : NULL;
	}
	return buf;
}

int lb_exit_code(int err)
{
	switch (-err) {
	case 0:
		return LB_EXIT_OK;
	case ENOENT:
	case ENOTDIR:
	case EISDIR:
	case EACCES:
	case ENODEV:
	case ENXIO:
	case ECONNREFUSED: /* an NBD server that is not there */
	case EHOSTUNREACH:
	case ENETUNREACH:
		return LB_EXIT_NOINPUT;
	case EBADMSG:
	case EMEDIUMTYPE:
	case EOVERFLOW:
	case ERANGE:
	case ENODATA:
	case ENOTSUP:
	case EUCLEAN:
		return LB_EXIT_BADINPUT;
	case EPERM:
	case EBUSY:
	case EROFS:
	case ESTALE: /* the image changed since the repair: undo refuses to overwrite it */
		return LB_EXIT_REFUSED;
	case EIO:
	case ENOSPC:
	case EDQUOT:
	case ECONNRESET: /* an NBD server that went away */
	case EPIPE:
	case ETIMEDOUT:
		return LB_EXIT_IO;
	case EINTR:
	case ECANCELED:
		return LB_EXIT_INTERRUPTED;
	default:
		return LB_EXIT_FAILURE;
	}
}

const char *lb_errno_name(int err)
{
	static const struct {
		int e;
		const char *name;
	} names[] = {
		{ENOENT, "ENOENT"},
		{ENOTDIR, "ENOTDIR"},
		{EISDIR, "EISDIR"},
		{EACCES, "EACCES"},
		{ENODEV, "ENODEV"},
		{EBADMSG, "EBADMSG"},
		{EMEDIUMTYPE, "EMEDIUMTYPE"},
		{EOVERFLOW, "EOVERFLOW"},
		{ERANGE, "ERANGE"},
		{ENODATA, "ENODATA"},
		{ENOTSUP, "ENOTSUP"},
		{EPERM, "EPERM"},
		{EBUSY, "EBUSY"},
		{EROFS, "EROFS"},
		{ESTALE, "ESTALE"},
		{EEXIST, "EEXIST"},
		{EFBIG, "EFBIG"},
		{ENAMETOOLONG, "ENAMETOOLONG"},
		{ELOOP, "ELOOP"},
		{EIO, "EIO"},
		{ENOSPC, "ENOSPC"},
		{EINVAL, "EINVAL"},
		{ENOMEM, "ENOMEM"},
		{EINTR, "EINTR"},
		{EUCLEAN, "EUCLEAN"},
		{ECANCELED, "ECANCELED"},
		{ENXIO, "ENXIO"},
		{EDQUOT, "EDQUOT"},
		{ECONNREFUSED, "ECONNREFUSED"},
		{EHOSTUNREACH, "EHOSTUNREACH"},
		{ENETUNREACH, "ENETUNREACH"},
		{ECONNRESET, "ECONNRESET"},
		{EPIPE, "EPIPE"},
		{ETIMEDOUT, "ETIMEDOUT"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == -err)
			return names[i].name;
	return "EUNKNOWN";
}

int lb_cli_error(const char *subject)
{
	return lb_cli_print_error(subject, lb_err_last());
}

int lb_cli_print_error(const char *subject, const struct lb_error *e)
{
	int code = e->code ? e->code : -EIO;
	char object[LB_ERR_OBJECT_MAX];

	lb_cli_object(subject, e->object, object, sizeof(object));
	fflush(stdout);
	print_prefix();
	if (subject && *subject)
		fprintf(stderr, "%s: ", subject);
	if (object[0])
		fprintf(stderr, "%s: ", object);
	if (e->problem[0])
		fputs(e->problem, stderr);
	else
		fputs(strerror(-code), stderr);
	if (e->hint[0])
		fprintf(stderr, "; %s", e->hint);
	if (lb_cli.verbosity > 0 && e->file)
		fprintf(stderr, " [%s:%d]", e->file, e->line);
	fputc('\n', stderr);
	return lb_exit_code(code);
}

int lb_cli_usage(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	print_prefix();
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (lb_cli.cmd)
		fprintf(stderr, "; see 'lifeboat %s --help'\n", lb_cli.cmd);
	else
		fprintf(stderr, "; see 'lifeboat --help'\n");
	return LB_EXIT_USAGE;
}

void lb_cli_warn(const char *subject, const char *fmt, ...)
{
	va_list ap;

	if (lb_cli.verbosity < 0)
		return;
	fflush(stdout);
	print_prefix();
	if (subject && *subject)
		fprintf(stderr, "%s: ", subject);
	fputs("warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void lb_cli_verbose(const char *fmt, ...)
{
	va_list ap;

	if (lb_cli.verbosity < 1)
		return;
	print_prefix();
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_signal(int sig)
{
	(void)sig;
	lb_interrupted = 1;
	lb_stop_requested = 1;
}

void lb_cli_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
