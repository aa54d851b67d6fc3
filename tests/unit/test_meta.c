/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/repo/meta.c: reading and applying host file metadata.
 *
 * A scratch tree under $TMPDIR holds one of each kind of file (regular,
 * sparse, symlink, fifo, a hard-linked pair, a directory, user.* attributes,
 * times with nanoseconds and before 1970, as root also foreign owners and a
 * trusted.* attribute on a symlink). Its metadata is read, put through a
 * tree blob and applied onto a copy made by hand; then the two are compared
 * with the stat and getfattr commands, independently of lifeboat's code.
 */
#include "harness.h"

#include "base/err.h"
#include "repo/tree.h"

#include <fcntl.h>
#include <grp.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static char scratch[256];

static void scratch_new(void)
{
	lb_test_scratch_new("meta", scratch, sizeof(scratch));
}

static void scratch_done(void)
{
	lb_test_scratch_done(scratch);
}

static char *spath(const char *name)
{
	return lb_test_path(scratch, name);
}

static void write_file(int dirfd, const char *name, const void *p, size_t n, mode_t mode)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, mode);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(write(fd, p, n), (long long)n);
	CHECK_INT(fchmod(fd, mode), 0);
	close(fd);
}

static void set_times(int dirfd, const char *name, time_t as, long ans, time_t ms, long mns)
{
	struct timespec ts[2] = {{.tv_sec = as, .tv_nsec = ans}, {.tv_sec = ms, .tv_nsec = mns}};

	CHECK_INT(utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* Run a command, return its output (malloc'ed) */
static char *run(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	char *out = calloc(1, 1 << 16);
	size_t n = 0;

	if (!f || !out) {
		if (f)
			pclose(f);
		return out;
	}
	n = fread(out, 1, (1 << 16) - 1, f);
	out[n] = '\0';
	CHECK_INT(pclose(f), 0);
	return out;
}

static const char *const names[] = {"dir", "fifo",  "hard1",   "hard2",	 "link",
				    "old", "owned", "regular", "setgid", "sparse"};

#define N_NAMES (sizeof(names) / sizeof(names[0]))

static bool root(void)
{
	return geteuid() == 0;
}

/* The source tree. */
static void make_source(int d)
{
	static const uint8_t bin[] = {0, 1, 2, 0xff, 0};
	char *big = calloc(1, 4096);

	write_file(d, "regular", "hello world", 11, 0640);
	CHECK_INT(lsetxattr(spath("src/regular"), "user.comment", "hi", 2, 0), 0);
	CHECK_INT(lsetxattr(spath("src/regular"), "user.bin", bin, sizeof(bin), 0), 0);
	CHECK_INT(lsetxattr(spath("src/regular"), "user.empty", "", 0, 0), 0);
	write_file(d, "sparse", "", 0, 0600);
	{
		int fd = openat(d, "sparse", O_WRONLY);

		CHECK(fd >= 0);
		CHECK_INT(ftruncate(fd, 10 << 20), 0);
		CHECK_INT(pwrite(fd, big, 4096, 5 << 20), 4096);
		close(fd);
	}
	CHECK_INT(symlinkat("regular", d, "link"), 0);
	CHECK_INT(mkfifoat(d, "fifo", 0604), 0);
	write_file(d, "hard1", "same inode", 10, 0444);
	CHECK_INT(linkat(d, "hard1", d, "hard2", 0), 0);
	write_file(d, "old", "x", 1, 0600);
	write_file(d, "owned", "y", 1, 0664);
	write_file(d, "setgid", "z", 1, 02755);
	CHECK_INT(mkdirat(d, "dir", 0750), 0);
	if (root()) {
		CHECK_INT(fchownat(d, "owned", 12345, 54321, 0), 0);
		CHECK_INT(fchownat(d, "link", 12345, 54322, AT_SYMLINK_NOFOLLOW), 0);
		CHECK_INT(lsetxattr(spath("src/link"), "trusted.note", "on a symlink", 12, 0), 0);
	}
	/* times last (owner changes touch ctime only) */
	set_times(d, "regular", 1600000000, 111111111, 1700000000, 123456789);
	set_times(d, "sparse", 1600000001, 1, 1700000001, 999999999);
	set_times(d, "link", 1600000002, 2, 1700000002, 500000000);
	set_times(d, "fifo", 1600000003, 3, 1700000003, 3);
	set_times(d, "hard1", 1600000004, 4, 1700000004, 4);
	set_times(d, "old", -1234567890, 987654321, -86400 * 365, 1); /* before 1970 */
	set_times(d, "owned", 0, 0, 0, 0);
	set_times(d, "setgid", 1600000007, 7, 1700000007, 7);
	set_times(d, "dir", 1600000008, 8, 1700000008, 8);
	free(big);
}

/* A copy by hand: the same kinds and contents, default metadata. */
static void make_copy(int d)
{
	char *big = calloc(1, 4096);

	write_file(d, "regular", "hello world", 11, 0600);
	write_file(d, "sparse", "", 0, 0600);
	{
		int fd = openat(d, "sparse", O_WRONLY);

		CHECK(fd >= 0);
		CHECK_INT(ftruncate(fd, 10 << 20), 0);
		CHECK_INT(pwrite(fd, big, 4096, 5 << 20), 4096);
		close(fd);
	}
	CHECK_INT(symlinkat("regular", d, "link"), 0);
	CHECK_INT(mkfifoat(d, "fifo", 0600), 0);
	write_file(d, "hard1", "same inode", 10, 0600);
	CHECK_INT(linkat(d, "hard1", d, "hard2", 0), 0);
	write_file(d, "old", "x", 1, 0600);
	write_file(d, "owned", "y", 1, 0600);
	write_file(d, "setgid", "z", 1, 0600);
	CHECK_INT(mkdirat(d, "dir", 0700), 0);
	free(big);
}

/* What the stat command says about @dir/@name (malloc'ed). */
static char *stat_line(const char *dir, const char *name)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "cd %s && stat -c '%%F %%a %%u %%g %%s %%h %%x %%y' %s",
		 spath(dir), name);
	return run(cmd);
}

static const struct lb_tree_entry *find(const struct lb_tree *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].name, name))
			return &t->e[i];
	return NULL;
}

static void test_read_encode_apply(void)
{
	struct lb_tree t = {0}, d = {0};
	uint64_t dev[N_NAMES], ino[N_NAMES], nlink[N_NAMES];
	char *before[N_NAMES];
	uint8_t *blob = NULL;
	size_t blen = 0;
	int src, dst;
	unsigned flags = LB_META_XATTRS | (root() ? LB_META_OWNER : 0);

	scratch_new();
	CHECK_INT(mkdir(spath("src"), 0755), 0);
	CHECK_INT(mkdir(spath("dst"), 0755), 0);
	src = open(spath("src"), O_RDONLY | O_DIRECTORY);
	dst = open(spath("dst"), O_RDONLY | O_DIRECTORY);
	CHECK(src >= 0 && dst >= 0);
	make_source(src);
	/* the source as it is now (reading a symlink updates its atime) */
	for (size_t i = 0; i < N_NAMES; i++)
		before[i] = stat_line("src", names[i]);

	/* read: names are in order already */
	t.e = calloc(N_NAMES, sizeof(*t.e));
	for (size_t i = 0; i < N_NAMES; i++) {
		int r = lb_meta_read(src, names[i], &t.e[i], &dev[i], &ino[i], &nlink[i]);

		if (r < 0)
			printf("#   %s: %s\n", names[i], lb_err_last()->problem);
		CHECK_INT(r, 0);
		t.n++;
	}
	{
		const struct lb_tree_entry *e = find(&t, "regular");

		CHECK(e && e->type == LB_TREE_FILE && e->size == 11 && e->mode == 0640);
		CHECK(e && e->nxattrs == 3);
		if (e && e->nxattrs == 3) {
			CHECK_STR(e->xattrs[0].name, "user.bin");
			CHECK(e->xattrs[0].len == 5 &&
			      !memcmp(e->xattrs[0].value, "\0\1\2\377", 5));
			CHECK_STR(e->xattrs[1].name, "user.comment");
			CHECK_STR(e->xattrs[2].name, "user.empty");
			CHECK_U64(e->xattrs[2].len, 0);
		}
		CHECK(e && e->mtime.tv_sec == 1700000000 && e->mtime.tv_nsec == 123456789);
		CHECK(e && e->atime.tv_sec == 1600000000 && e->atime.tv_nsec == 111111111);
		if (root())
			CHECK(e && e->user && !strcmp(e->user, "root") && e->group &&
			      !strcmp(e->group, "root"));
		e = find(&t, "old");
		CHECK(e && e->mtime.tv_sec == -86400 * 365 && e->mtime.tv_nsec == 1);
		CHECK(e && e->atime.tv_sec == -1234567890 && e->atime.tv_nsec == 987654321);
		e = find(&t, "link");
		CHECK(e && e->type == LB_TREE_SYMLINK && e->size == 7);
		CHECK_STR(e ? e->target : NULL, "regular");
		if (root()) {
			CHECK(e && e->uid == 12345 && e->gid == 54322 && !e->user && !e->group);
			CHECK(e && e->nxattrs == 1 && !strcmp(e->xattrs[0].name, "trusted.note"));
		}
		e = find(&t, "sparse");
		CHECK(e && e->size == 10 << 20);
		e = find(&t, "fifo");
		CHECK(e && e->type == LB_TREE_FIFO && e->size == 0 && e->mode == 0604);
		e = find(&t, "dir");
		CHECK(e && e->type == LB_TREE_DIR && e->size == 0 && e->mode == 0750);
		e = find(&t, "setgid");
		CHECK(e && e->mode == 02755);
		/* hard links: one inode */
		CHECK(ino[2] == ino[3] && dev[2] == dev[3] && nlink[2] == 2 && nlink[7] == 1);
		CHECK(ino[2] != ino[7]);
	}

	/* the caller's part: runs for files, a hard-link group, a subtree */
	for (size_t i = 0; i < t.n; i++) {
		struct lb_tree_entry *e = &t.e[i];

		if (e->type == LB_TREE_FILE && e->size) {
			e->runs = calloc(1, sizeof(*e->runs));
			e->nruns = 1;
			e->runs[0].len = e->size;
			e->runs[0].hole = !strcmp(e->name, "sparse");
		}
		if (!strcmp(e->name, "hard1") || !strcmp(e->name, "hard2"))
			e->hardlink = 1;
	}
	CHECK_INT(lb_tree_encode(&t, &blob, &blen), 0);
	CHECK_INT(lb_tree_decode(blob, blen, &d), 0);
	CHECK_U64(d.n, N_NAMES);

	make_copy(dst);
	for (size_t i = 0; i < d.n; i++) {
		int r = lb_meta_apply(dst, d.e[i].name, &d.e[i], flags);

		if (r != 0)
			printf("#   apply %s: %d %s\n", d.e[i].name, r, lb_err_last()->problem);
		CHECK_INT(r, 0);
	}

	/* compare, with other tools */
	for (size_t i = 0; i < N_NAMES; i++) {
		char cmd[1024], *a, *b;
		a = before[i];
		b = stat_line("dst", names[i]);
		if (strcmp(a, b))
			printf("#   %s:\n#     source %s#     copy   %s", names[i], a, b);
		CHECK(*a && !strcmp(a, b));
		free(a);
		free(b);
		snprintf(cmd, sizeof(cmd),
			 "cd %s && getfattr -h -d -m - -e hex %s | grep -v '^#' || true",
			 spath("src"), names[i]);
		a = run(cmd);
		snprintf(cmd, sizeof(cmd),
			 "cd %s && getfattr -h -d -m - -e hex %s | grep -v '^#' || true",
			 spath("dst"), names[i]);
		b = run(cmd);
		if (strcmp(a, b))
			printf("#   %s attributes:\n#     source %s#     copy   %s", names[i], a,
			       b);
		CHECK(!strcmp(a, b));
		if (!strcmp(names[i], "regular"))
			CHECK_CONTAINS(a, "user.comment=0x6869");
		free(a);
		free(b);
	}
	free(blob);
	lb_tree_release(&d);
	lb_tree_release(&t);
	close(src);
	close(dst);
	scratch_done();
}

static void test_errors(void)
{
	struct lb_tree_entry e;
	int d;

	scratch_new();
	d = open(scratch, O_RDONLY | O_DIRECTORY);
	CHECK_INT(lb_meta_read(d, "missing", &e, NULL, NULL, NULL), -ENOENT);
	CHECK(e.name == NULL);
	CHECK_STR(lb_err_last()->object, "missing");
	write_file(d, "f", "abc", 3, 0644);
	CHECK_INT(lb_meta_read(AT_FDCWD, spath("f"), &e, NULL, NULL, NULL), 0);
	CHECK(e.type == LB_TREE_FILE && e.size == 3);
	/* applying a file's metadata to a directory */
	CHECK_INT(mkdirat(d, "dir", 0755), 0);
	CHECK_INT(lb_meta_apply(d, "dir", &e, 0), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "directory");
	CHECK_INT(lb_meta_apply(d, "missing", &e, 0), -ENOENT);
	/* a symlink's times, not its target's */
	CHECK_INT(symlinkat("f", d, "l"), 0);
	{
		struct lb_tree_entry l;
		struct stat st;

		CHECK_INT(lb_meta_read(d, "l", &l, NULL, NULL, NULL), 0);
		l.mtime.tv_sec = 1000;
		l.mtime.tv_nsec = 5;
		l.mode = 0; /* ignored for symlinks */
		CHECK_INT(lb_meta_apply(d, "l", &l, LB_META_XATTRS), 0);
		CHECK_INT(fstatat(d, "l", &st, AT_SYMLINK_NOFOLLOW), 0);
		CHECK(st.st_mtim.tv_sec == 1000 && st.st_mtim.tv_nsec == 5);
		CHECK_INT(fstatat(d, "f", &st, 0), 0);
		CHECK(st.st_mtim.tv_sec != 1000 && (st.st_mode & 07777) == 0644);
		lb_tree_entry_release(&l);
	}
	/* owners by name (root only: chown) */
	if (root()) {
		struct stat st;

		e.uid = 4242;
		e.gid = 4243;
		free(e.user);
		free(e.group);
		e.user = strdup("root");
		e.group = strdup("no-such-group-for-lifeboat");
		CHECK_INT(lb_meta_apply(d, "f", &e, LB_META_OWNER | LB_META_BY_NAME), 0);
		CHECK_INT(fstatat(d, "f", &st, 0), 0);
		CHECK(st.st_uid == 0 && st.st_gid == 4243);
		CHECK_INT(lb_meta_apply(d, "f", &e, LB_META_OWNER), 0);
		CHECK_INT(fstatat(d, "f", &st, 0), 0);
		CHECK(st.st_uid == 4242 && st.st_gid == 4243);
	}
	lb_tree_entry_release(&e);
	close(d);
	scratch_done();
}

/*
 * As a user: attributes in the privileged namespaces are skipped (counted,
 * reported), the others set. Runs in a child that drops root.
 */
static void test_unprivileged_xattrs(void)
{
	struct lb_tree_entry e = {0};
	struct lb_xattr x[2] = {{.name = "trusted.secret", .value = (uint8_t *)"s", .len = 1},
				{.name = "user.ok", .value = (uint8_t *)"yes", .len = 3}};
	int d, status = -1;
	pid_t pid;
	char v[8];

	if (!root()) {
		printf("# not root: skipped\n");
		return;
	}
	scratch_new();
	d = open(scratch, O_RDONLY | O_DIRECTORY);
	CHECK_INT(chmod(scratch, 0711), 0); /* the user may look inside */
	write_file(d, "f", "", 0, 0644);
	CHECK_INT(fchownat(d, "f", 65534, 65534, 0), 0);
	e.name = "f";
	e.type = LB_TREE_FILE;
	e.mode = 0640;
	e.mtime.tv_sec = 77;
	e.xattrs = x;
	e.nxattrs = 2;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int r;

		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		prctl(PR_SET_DUMPABLE, 1); /* /proc/self/fd is ours again */
		r = lb_meta_apply(d, "f", &e, LB_META_XATTRS | LB_META_OWNER);
		if (r != -EPERM) /* chown to 0:0 is refused */
			_exit(11);
		e.uid = e.gid = 65534;
		r = lb_meta_apply(d, "f", &e, LB_META_XATTRS);
		if (r != 1)
			_exit(12);
		if (lb_err_last()->code != -EPERM ||
		    !strstr(lb_err_last()->problem, "trusted.secret"))
			_exit(13);
		_exit(0);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		printf("#   child status %d\n", status);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_INT(lgetxattr(spath("f"), "user.ok", v, sizeof(v)), 3);
	CHECK_INT(lgetxattr(spath("f"), "trusted.secret", v, sizeof(v)), -1);
	CHECK_INT(errno, ENODATA);
	{
		struct stat st;

		CHECK_INT(fstatat(d, "f", &st, 0), 0);
		CHECK(st.st_mtim.tv_sec == 77 && (st.st_mode & 07777) == 0640);
	}
	/* as root, both are set */
	CHECK_INT(lb_meta_apply(d, "f", &e, LB_META_XATTRS), 0);
	CHECK_INT(lgetxattr(spath("f"), "trusted.secret", v, sizeof(v)), 1);
	close(d);
	scratch_done();
}

static void test_alloc_failures(void)
{
	int d;
	unsigned ok = 0, nomem = 0;

	scratch_new();
	d = open(scratch, O_RDONLY | O_DIRECTORY);
	write_file(d, "f", "abc", 3, 0644);
	CHECK_INT(lsetxattr(spath("f"), "user.a", "1", 1, 0), 0);
	CHECK_INT(lsetxattr(spath("f"), "user.b", "2", 1, 0), 0);
	CHECK_INT(symlinkat("f", d, "l"), 0);
	for (unsigned long k = 1; k < 40; k++) {
		struct lb_tree_entry e;
		int r;

		lb_test_alloc_fail_at(k);
		r = lb_meta_read(d, k % 2 ? "f" : "l", &e, NULL, NULL, NULL);
		lb_test_alloc_fail_at(0);
		CHECK(r == 0 || r == -ENOMEM);
		CHECK(r == 0 || e.name == NULL);
		ok += r == 0;
		nomem += r == -ENOMEM;
		lb_tree_entry_release(&e);
	}
	CHECK(ok > 0);
#ifndef __SANITIZE_ADDRESS__
	CHECK(nomem > 5);
#endif
	close(d);
	scratch_done();
}

LB_TEST_MAIN(T(test_read_encode_apply), T(test_errors), T(test_unprivileged_xattrs),
	     T(test_alloc_failures))
