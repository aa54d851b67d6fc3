/* SPDX-License-Identifier: GPL-2.0-or-later */
/* messages.c - the one place that prints errors, warnings and exit codes. */
#include "cli/cli.h"
#include "base/err.h"

#include <signal.h>
#include <stdarg.h>
#include <string.h>

volatile int lb_interrupted;

static const char *cmd_name(void)
{
	return lb_cli.cmd ? lb_cli.cmd : "lifeboat";
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
		return LB_EXIT_REFUSED;
	case EIO:
	case ENOSPC:
	case EDQUOT:
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
		{ ENOENT, "ENOENT" },     { ENOTDIR, "ENOTDIR" }, { EISDIR, "EISDIR" },
		{ EACCES, "EACCES" },     { ENODEV, "ENODEV" },   { EBADMSG, "EBADMSG" },
		{ EMEDIUMTYPE, "EMEDIUMTYPE" }, { EOVERFLOW, "EOVERFLOW" }, { ERANGE, "ERANGE" },
		{ ENODATA, "ENODATA" },   { ENOTSUP, "ENOTSUP" }, { EPERM, "EPERM" },
		{ EBUSY, "EBUSY" },       { EROFS, "EROFS" },     { EIO, "EIO" },
		{ ENOSPC, "ENOSPC" },     { EINVAL, "EINVAL" },   { ENOMEM, "ENOMEM" },
		{ EINTR, "EINTR" },       { EUCLEAN, "EUCLEAN" }, { ECANCELED, "ECANCELED" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == -err)
			return names[i].name;
	return "EUNKNOWN";
}

int lb_cli_error(const char *subject)
{
	const struct lb_error *e = lb_err_last();
	int code = e->code ? e->code : -EIO;
	const char *object = e->object;

	fflush(stdout);
	fprintf(stderr, "lifeboat: %s: ", cmd_name());
	if (subject && *subject)
		fprintf(stderr, "%s: ", subject);
	if (object[0] && !(subject && !strcmp(object, subject)))
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
	fprintf(stderr, "lifeboat: %s: ", cmd_name());
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
	fprintf(stderr, "lifeboat: %s: ", cmd_name());
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
	fprintf(stderr, "lifeboat: %s: ", cmd_name());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_signal(int sig)
{
	(void)sig;
	lb_interrupted = 1;
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
