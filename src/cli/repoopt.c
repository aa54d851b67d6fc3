/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli/repoopt.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/util.h"
#include "io/image.h"
#include "repo/backup.h"
#include "store/store.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define PW_MAX 4096

const char *lb_cli_repo_url(const struct lb_repo_args *a)
{
	const char *e = getenv("LIFEBOAT_REPOSITORY");

	if (a && a->s3_endpoint)
		lb_store_set_s3_endpoint(a->s3_endpoint);
	if (a && a->repo && *a->repo)
		return a->repo;
	return e && *e ? e : NULL;
}

static int read_password_file(const char *path, char **out)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	ssize_t n;

	if (fd < 0)
		return lb_err(-errno, path, "check --password-file / LIFEBOAT_PASSWORD_FILE",
			      "cannot read the password file: %s", strerror(errno));
	buf = calloc(1, PW_MAX + 1);
	if (!buf)
		return -ENOMEM;
	n = read(fd, buf, PW_MAX);
	if (n < 0) {
		free(buf);
		return lb_err(-errno, path, NULL, "cannot read the password file: %s",
			      strerror(errno));
	}
	/* the first line, without its newline */
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!*buf) {
		free(buf);
		return lb_err(-EINVAL, path, "write the password on its first line",
			      "the password file is empty");
	}
	*out = buf;
	return 0;
}

static int ask(const char *prompt, char **out)
{
	struct termios old, quiet;
	char *buf;
	FILE *tty = fopen("/dev/tty", "r+e");
	bool echo_off;

	if (!tty)
		return lb_err(
			-EACCES, "password",
			"set LIFEBOAT_PASSWORD or LIFEBOAT_PASSWORD_FILE, or give --password-file",
			"no password given, and no terminal to ask for one");
	buf = calloc(1, PW_MAX + 2);
	if (!buf) {
		fclose(tty);
		return -ENOMEM;
	}
	fputs(prompt, tty);
	fflush(tty);
	echo_off = tcgetattr(fileno(tty), &old) == 0;
	if (echo_off) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	if (!fgets(buf, PW_MAX + 1, tty))
		buf[0] = '\0';
	if (echo_off)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	buf[strcspn(buf, "\r\n")] = '\0';
	*out = buf;
	return 0;
}

int lb_cli_password(const struct lb_repo_args *a, bool confirm, char **out)
{
	const char *file =
		a && a->password_file ? a->password_file : getenv("LIFEBOAT_PASSWORD_FILE");
	const char *env = getenv("LIFEBOAT_PASSWORD");
	char *p = NULL, *again = NULL;
	int r;

	if (file && *file)
		return read_password_file(file, out);
	if (env && *env) {
		*out = strdup(env);
		return *out ? 0 : -ENOMEM;
	}
	r = ask("password for the repository: ", &p);
	if (r < 0)
		return r;
	if (!*p) {
		free(p);
		return lb_err(-EINVAL, "password", "type a password", "the password is empty");
	}
	if (confirm) {
		r = ask("the same password again: ", &again);
		if (r < 0 || strcmp(p, again)) {
			free(p);
			free(again);
			return r < 0 ? r
				     : lb_err(-EINVAL, "password", "run it again",
					      "the two passwords differ");
		}
		memset(again, 0, strlen(again));
		free(again);
	}
	*out = p;
	return 0;
}

int lb_cli_repo_open(const struct lb_repo_args *a, struct lb_repo **out)
{
	const char *url = lb_cli_repo_url(a);
	char *pw = NULL;
	bool need = false;
	int r;

	if (!url)
		return lb_err(-EINVAL, "repository", "give -r REPO or set LIFEBOAT_REPOSITORY",
			      "no repository given");
	r = lb_repo_needs_password(url, &need);
	if (r < 0)
		return r;
	if (need) {
		r = lb_cli_password(a, false, &pw);
		if (r < 0)
			return r;
	}
	r = lb_repo_open(url, pw, out);
	if (pw) {
		memset(pw, 0, strlen(pw));
		free(pw);
	}
	return r;
}

/* ---- snapshots as images ------------------------------------------------------ */

struct lb_repo_args lb_cli_snapshot_repo;
static struct lb_repo *snap_repo;
/* snapshots opened as images: their devices refer to them until the command ends */
static struct lb_snapshot **snaps;
static size_t nsnaps;

static void free_snapshots(void)
{
	for (size_t i = 0; i < nsnaps; i++) {
		lb_snapshot_release(snaps[i]);
		free(snaps[i]);
	}
	free(snaps);
	snaps = NULL;
	nsnaps = 0;
	lb_repo_close(snap_repo);
	snap_repo = NULL;
}
#define snap_args lb_cli_snapshot_repo

/*
 * The snapshot @path names, if it names one: returns 1 and the snapshot
 * (valid until exit), 0 if @path is a file or cannot be a snapshot
 * reference, or an error (recorded). The last one found is remembered, so
 * that asking for a file system and then for a device resolves it once.
 */
/* Could @path name a snapshot (and not a file)? Sets @ref to the reference part. */
static bool is_snapshot_ref(const char *path, const char **ref)
{
	struct stat st;

	*ref = path;
	if (!strncmp(path, "snapshot:", 9)) {
		*ref = path + 9;
		return true;
	}
	return !(stat(path, &st) == 0 || !lb_cli_repo_url(&snap_args) ||
		 (!strchr(path, '@') && strspn(path, "0123456789abcdefABCDEF") != strlen(path)) ||
		 strlen(path) < 4 || strchr(path, '/'));
}

static int find_snapshot(const char *path, const struct lb_snapshot **out)
{
	static char *last_path;
	const char *ref = path;
	struct lb_snapshot *s;
	int r;

	if (!is_snapshot_ref(path, &ref))
		return 0; /* a file, or nothing a snapshot could be */
	if (nsnaps && last_path && !strcmp(last_path, path)) {
		*out = snaps[nsnaps - 1];
		return 1;
	}
	if (!snap_repo) {
		r = lb_cli_repo_open(&snap_args, &snap_repo);
		if (r < 0)
			return r;
		atexit(free_snapshots);
	}
	{
		struct lb_snapshot **v = realloc(snaps, (nsnaps + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		snaps = v;
	}
	s = calloc(1, sizeof(*s)); /* freed at exit: devices and file systems refer to it */
	if (!s)
		return -ENOMEM;
	snaps[nsnaps++] = s;
	r = lb_repo_find_snapshot(snap_repo, ref, s);
	if (r < 0)
		return r;
	free(last_path);
	last_path = strdup(path);
	*out = s;
	return 1;
}

static int resolve_snapshot(const char *path, bool read_only, struct lb_dev **out, char *desc,
			    size_t cap)
{
	const struct lb_snapshot *s;
	const char *ref;
	int r;

	/*
	 * repair and undo would write: say so before they plan anything, and
	 * before the repository is opened (a repair worker may not use the network)
	 */
	if (is_snapshot_ref(path, &ref) &&
	    (!read_only || (lb_cli.cmd && (!strcmp(lb_cli.cmd, "repair") || !strcmp(lb_cli.cmd, "undo")))))
		return lb_err(-EROFS, path, "restore it first ('lifeboat restore'), then repair the copy",
			      "a snapshot cannot be changed in place");
	r = find_snapshot(path, &s);
	if (r <= 0)
		return r;
	if (s->kind == LB_SNAP_FILES)
		return lb_err(-EMEDIUMTYPE, path,
			      "list it with 'lifeboat ls', or restore it with 'lifeboat restore'",
			      "a file-tree snapshot has no disk to read");
	r = lb_snapshot_dev_open(snap_repo, s, out);
	if (r < 0)
		return r;
	snprintf(desc, cap, "snapshot of %s", s->name);
	return 1;
}

int lb_cli_snapshot_fs(const char *path, struct lb_fs **out)
{
	const struct lb_snapshot *s;
	int r = find_snapshot(path, &s);

	if (r <= 0)
		return r;
	if (s->kind != LB_SNAP_FILES)
		return 0; /* an image snapshot: the image layer opens it as a disk */
	r = lb_snapshot_fs_open(snap_repo, s, out);
	return r < 0 ? r : 1;
}

void lb_cli_enable_snapshot_operands(void)
{
	lb_image_set_resolver(resolve_snapshot);
}
