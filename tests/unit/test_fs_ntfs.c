/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for the NTFS backend of src/fs/fs.h (src/fs/ntfs_fs.c).
 *
 * Volumes are made at test time with mkntfs and filled by the ntfs-fixture
 * helper (libntfs-3g directly, not lifeboat's code); results are checked
 * against what the fixture wrote and, after changes, with ntfs-3g's own
 * tools (ntfsls, ntfscat, ntfsfix) and the fixture mounting the volume.
 */
#include "harness.h"

#include "base/err.h"
#include "fs/fs.h"
#include "fs/fs_int.h"
#include "fs/ntfs.h"
#include "io/dev.h"
#include "io/fault.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CS_DIR "Windows/System32/drivers/CrowdStrike"
#define CS_FILE "C-00000291-00000000-00000032.sys"
#define MIB (1024 * 1024)

/* ---- scratch directory, tools ---------------------------------------------- */

static char scratch[PATH_MAX];

static void cleanup_scratch(void)
{
	char cmd[PATH_MAX + 16];

	if (scratch[0] && !getenv("LB_TEST_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", scratch);
	}
}

static const char *tdir(void)
{
	if (!scratch[0]) {
		const char *t = getenv("TMPDIR");

		snprintf(scratch, sizeof(scratch), "%s/lb-test-ntfs-XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(scratch)) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(cleanup_scratch);
	}
	return scratch;
}

/* Run a shell command; returns its exit status (-1 if it did not exit). */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Output of a shell command (first 64 KiB), malloc'ed; NULL on failure. */
static char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *sh_out(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	FILE *p;
	char *out = calloc(1, 65536);
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (!out)
		return NULL;
	fflush(stdout);
	p = popen(cmd, "r");
	if (!p) {
		free(out);
		return NULL;
	}
	n = fread(out, 1, 65535, p);
	out[n] = '\0';
	pclose(p);
	return out;
}

/* The fixture helper: $HELPERS/ntfs-fixture, else ../helpers/ from this binary's directory. */
static const char *fixture(void)
{
	static char path[PATH_MAX];

	if (!path[0]) {
		const char *h = getenv("HELPERS");

		if (h && *h) {
			snprintf(path, sizeof(path), "%s/ntfs-fixture", h);
		} else {
			char exe[PATH_MAX];
			ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
			char *slash;

			if (n <= 0) {
				perror("readlink /proc/self/exe");
				exit(1);
			}
			exe[n] = '\0';
			slash = strrchr(exe, '/');
			if (slash)
				*slash = '\0';
			snprintf(path, sizeof(path), "%s/../helpers/ntfs-fixture", exe);
		}
	}
	return path;
}

/* A fresh @mib MiB volume labelled "Windows", then "ntfs-fixture VOL @args" on it. */
static const char *mkvol(const char *name, unsigned mib, const char *args)
{
	static char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tdir(), name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)mib * MIB) < 0) {
		perror(path);
		exit(1);
	}
	close(fd);
	if (sh("PATH=\"$PATH:/usr/sbin:/sbin\" mkntfs -F -Q -q -L Windows '%s' >/dev/null 2>&1",
	       path) != 0) {
		fprintf(stderr, "mkntfs failed for %s\n", path);
		exit(1);
	}
	if (args && sh("'%s' '%s' %s", fixture(), path, args) != 0) {
		fprintf(stderr, "ntfs-fixture failed: %s\n", args);
		exit(1);
	}
	return path;
}

static struct lb_fs *open_fs(const char *path, unsigned flags, int *r)
{
	struct lb_dev *dev;
	struct lb_fs *fs = NULL;

	*r = lb_file_dev_open(path, flags & LB_FS_RDONLY, &dev);
	if (*r < 0)
		return NULL;
	*r = lb_fs_open(dev, flags, &fs);
	lb_dev_unref(dev);
	return *r < 0 ? NULL : fs;
}

static uint8_t pattern_byte(uint64_t i)
{
	return (uint8_t)(((uint32_t)i * 2654435761u) >> 24);
}

static bool same_file(const uint8_t *a, size_t alen, const char *path)
{
	size_t blen = 0;
	uint8_t *b = lb_test_read_file(path, &blen);
	bool same = b && alen == blen && !memcmp(a, b, alen);

	free(b);
	return same;
}

static time_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi,
			.tm_sec = s};

	return timegm(&tm);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_open_info_upcase(void)
{
	const char *vol = mkvol("info.ntfs", 8, NULL);
	struct lb_fs *fs;
	const struct lb_fs_open_info *info;
	int r;

	fs = open_fs(vol, 0, &r);
	CHECK_INT(r, 0);
	if (!fs)
		return;
	info = lb_fs_info(fs);
	CHECK_INT(info->kind, LB_FS_NTFS);
	CHECK_STR(info->label, "Windows");
	CHECK(!info->was_dirty);
	CHECK(!info->journal_reset);
	CHECK(!info->marked_for_chkdsk);
	CHECK(lb_fs_case_insensitive(fs));
	CHECK_INT(lb_fs_upcase(fs, 'a'), 'A');
	CHECK_INT(lb_fs_upcase(fs, 'Z'), 'Z');
	CHECK_INT(lb_fs_upcase(fs, 0xe9), 0xc9);   /* e acute */
	CHECK_INT(lb_fs_upcase(fs, 0x3c3), 0x3a3); /* sigma */
	CHECK_INT(lb_fs_upcase(fs, 0x1f600), 0x1f600);
	CHECK_INT(lb_fs_close(fs), 0);
}

static void test_stat_case_insensitive(void)
{
	const char *vol = mkvol("ci.ntfs", 8,
				"mkdir " CS_DIR " add " CS_DIR "/" CS_FILE
				" --hex AAAAAAAA01002301 --size 4096");
	struct lb_fs_stat st, st2;
	char stored[256];
	struct lb_fs *fs;
	int r;

	fs = open_fs(vol, LB_FS_RDONLY, &r);
	CHECK_INT(r, 0);
	if (!fs)
		return;
	r = lb_fs_stat(fs, "windows/SYSTEM32/Drivers/crowdstrike/c-00000291-00000000-00000032.SYS",
		       &st, stored, sizeof(stored));
	CHECK_INT(r, 0);
	CHECK_STR(stored, CS_DIR "/" CS_FILE);
	CHECK_INT(st.type, LB_FT_FILE);
	CHECK_U64(st.size, 4096);
	CHECK_INT(st.nlink, 1);
	CHECK_STR(st.short_name, "");
	CHECK(st.ino >= 16);
	/* Windows spellings of the same path */
	CHECK_INT(lb_fs_stat(fs, "C:\\WINDOWS\\system32\\drivers\\CrowdStrike\\" CS_FILE, &st2,
			     NULL, 0),
		  0);
	CHECK_U64(st2.ino, st.ino);
	/* directories */
	CHECK_INT(lb_fs_stat(fs, "/windows/system32", &st, stored, sizeof(stored)), 0);
	CHECK_STR(stored, "Windows/System32");
	CHECK_INT(st.type, LB_FT_DIR);
	CHECK(st.attributes & 0x10);
	CHECK_INT(lb_fs_stat(fs, "", &st, stored, sizeof(stored)), 0);
	CHECK_STR(stored, "");
	CHECK_U64(st.ino, 5);
	CHECK_INT(st.type, LB_FT_DIR);
	/* errors */
	CHECK_INT(lb_fs_stat(fs, "Windows/nothing", &st, NULL, 0), -ENOENT);
	CHECK_CONTAINS(lb_err_last()->problem, "nothing");
	CHECK_INT(
		lb_fs_stat(fs, "Windows/System32/drivers/CrowdStrike/" CS_FILE "/x", &st, NULL, 0),
		-ENOTDIR);
	CHECK_INT(lb_fs_stat(fs, "windows/system32", &st, stored, 10), -ENAMETOOLONG);
	CHECK_INT(lb_fs_stat(fs, "Windows/\xff\xfe", &st, NULL, 0), -EINVAL);
	CHECK_INT(lb_fs_close(fs), 0);
}

static void test_exact_case_preferred(void)
{
	const char *vol = mkvol("case.ntfs", 8,
				"add Dir/Foo.txt --hex 01 add Dir/FOO.txt --hex 0202 "
				"add Dir/foo.txt --hex 030303");
	struct lb_fs_stat st;
	char stored[64];
	uint8_t b[8];
	struct lb_fs *fs;
	int r;

	fs = open_fs(vol, LB_FS_RDONLY, &r);
	CHECK_INT(r, 0);
	if (!fs)
		return;
	CHECK_INT(lb_fs_stat(fs, "dir/FOO.txt", &st, stored, sizeof(stored)), 0);
	CHECK_STR(stored, "Dir/FOO.txt");
	CHECK_U64(st.size, 2);
	CHECK_INT(lb_fs_stat(fs, "DIR/Foo.txt", &st, stored, sizeof(stored)), 0);
	CHECK_STR(stored, "Dir/Foo.txt");
	CHECK_U64(st.size, 1);
	CHECK_INT(lb_fs_pread(fs, "Dir/foo.txt", b, sizeof(b), 0), 3);
	CHECK_INT(b[0], 3);
	/* no exact spelling: one of the three, reported as stored */
	CHECK_INT(lb_fs_stat(fs, "dir/fOO.TXT", &st, stored, sizeof(stored)), 0);
	CHECK(!strcmp(stored, "Dir/Foo.txt") || !strcmp(stored, "Dir/FOO.txt") ||
	      !strcmp(stored, "Dir/foo.txt"));
	CHECK_INT(lb_fs_close(fs), 0);
}

struct listing {
	char names[400][64];
	struct lb_fs_stat st[400];
	int n;
};

static int collect(void *opaque, const struct lb_fs_dirent *e)
{
	struct listing *l = opaque;

	if (l->n >= 400)
		return -ENOSPC;
	snprintf(l->names[l->n], sizeof(l->names[0]), "%s", e->name);
	l->st[l->n] = e->st;
	l->n++;
	return 0;
}

static int find_name(const struct listing *l, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->names[i], name))
			return i;
	return -1;
}

static int stop_after_two(void *opaque, const struct lb_fs_dirent *e)
{
	int *n = opaque;

	(void)e;
	return ++*n == 2 ? -ECANCELED : 0;
}

static void test_readdir(void)
{
	const char *vol =
		mkvol("dir.ntfs", 8,
		      "add 'Program Files/LongFileName.txt' --hex 41 --short LONGFI~1.TXT "
		      "add 'Program Files/b.sys' --size 10 mkdir 'Program Files/Sub' "
		      "add-many Many c- 300 --size 3 hiberfil");
	static struct listing l;
	struct lb_fs_stat st;
	struct lb_fs *fs;
	int r, i, n = 0;

	fs = open_fs(vol, LB_FS_RDONLY, &r);
	CHECK_INT(r, 0);
	if (!fs)
		return;
	memset(&l, 0, sizeof(l));
	CHECK_INT(lb_fs_readdir(fs, "program files", collect, &l), 0);
	CHECK_INT(l.n, 3);
	CHECK(find_name(&l, "LongFileName.txt") >= 0);
	CHECK(find_name(&l, "b.sys") >= 0);
	CHECK((i = find_name(&l, "Sub")) >= 0);
	if (i >= 0)
		CHECK_INT(l.st[i].type, LB_FT_DIR);
	CHECK(find_name(&l, "LONGFI~1.TXT") < 0);
	if ((i = find_name(&l, "LongFileName.txt")) >= 0) {
		CHECK_STR(l.st[i].short_name, "LONGFI~1.TXT");
		CHECK_U64(l.st[i].size, 1);
	}
	/* the root: user files, no metadata files */
	memset(&l, 0, sizeof(l));
	CHECK_INT(lb_fs_readdir(fs, "/", collect, &l), 0);
	CHECK_INT(l.n, 3);
	CHECK(find_name(&l, "Program Files") >= 0);
	CHECK(find_name(&l, "Many") >= 0);
	CHECK(find_name(&l, "hiberfil.sys") >= 0);
	CHECK(find_name(&l, "$MFT") < 0);
	CHECK(find_name(&l, "$Extend") < 0);
	/* ... which stat still finds */
	CHECK_INT(lb_fs_stat(fs, "$MFT", &st, NULL, 0), 0);
	CHECK_U64(st.ino, 0);
	CHECK_INT(lb_fs_stat(fs, "$volume", &st, NULL, 0), 0);
	CHECK_U64(st.ino, 3);
	/* a directory with an index allocation */
	memset(&l, 0, sizeof(l));
	CHECK_INT(lb_fs_readdir(fs, "many", collect, &l), 0);
	CHECK_INT(l.n, 300);
	CHECK(find_name(&l, "c-00001.sys") >= 0);
	CHECK(find_name(&l, "c-00300.sys") >= 0);
	for (i = 0; i < l.n; i++)
		CHECK_U64(l.st[i].size, 3);
	/* a callback's error stops the walk */
	CHECK_INT(lb_fs_readdir(fs, "Many", stop_after_two, &n), -ECANCELED);
	CHECK_INT(n, 2);
	CHECK_INT(lb_fs_readdir(fs, "Program Files/b.sys", collect, &l), -ENOTDIR);
	CHECK_INT(lb_fs_readdir(fs, "nope", collect, &l), -ENOENT);
	CHECK_INT(lb_fs_close(fs), 0);
}

static void test_short_name(void)
{
	const char *vol =
		mkvol("short.ntfs", 8,
		      "add 'Program Files/LongFileName.txt' --hex 41 --short LONGFI~1.TXT");
	struct lb_fs_stat st, st2;
	char stored[64];
	struct lb_fs *fs;
	int r;

	fs = open_fs(vol, LB_FS_RDONLY, &r);
	CHECK_INT(r, 0);
	if (!fs)
		return;
	CHECK_INT(lb_fs_stat(fs, "Program Files/longfilename.TXT", &st, stored, sizeof(stored)), 0);
	CHECK_STR(st.short_name, "LONGFI~1.TXT");
	CHECK_STR(stored, "Program Files/LongFileName.txt");
	CHECK_INT(st.nlink, 1);
	/* the 8.3 name typed by a user resolves to the file, spelled by its long name */
	CHECK_INT(lb_fs_stat(fs, "Program Files/LONGFI~1.TXT", &st2, stored, sizeof(stored)), 0);
	CHECK_U64(st2.ino, st.ino);
	CHECK_STR(stored, "Program Files/LongFileName.txt");
	CHECK_INT(lb_fs_stat(fs, "program files/longfi~1.txt", &st2, stored, sizeof(stored)), 0);
	CHECK_U64(st2.ino, st.ino);
	CHECK_STR(stored, "Program Files/LongFileName.txt");
	CHECK_INT(lb_fs_close(fs), 0);
}

static void test_timestamps(void)
{
	const char *vol =
		mkvol("times.ntfs", 8,
		      "add t.sys --hex 00 --btime 2024-07-19T04:00:00.0000001Z "
		      "--mtime 2024-07-19T04:09:00.1234567Z --ctime 2024-07-19T04:09:01Z "
		      "--atime 2024-07-20T00:00:00.5Z "
		      "add old.sys --btime 1969-12-31T23:59:59.5Z --mtime 1601-01-01T00:00:00Z");
	struct lb_fs_stat st;
	struct lb_fs *fs;
	int r;

	fs = open_fs(vol, LB_FS_RDONLY, &r);
	CHECK_INT(r, 0);
	if (!fs)
		return;
	CHECK_INT(lb_fs_stat(fs, "T.SYS", &st, NULL, 0), 0);
	CHECK_INT(st.btime.tv_sec, utc(2024, 7, 19, 4, 0, 0));
	CHECK_INT(st.btime.tv_nsec, 100);
	CHECK_INT(st.mtime.tv_sec, utc(2024, 7, 19, 4, 9, 0));
	CHECK_INT(st.mtime.tv_nsec, 123456700);
	CHECK_INT(st.ctime.tv_sec, utc(2024, 7, 19, 4, 9, 1));
	CHECK_INT(st.ctime.tv_nsec, 0);
	CHECK_INT(st.atime.tv_sec, utc(2024, 7, 20, 0, 0, 0));
	CHECK_INT(st.atime.tv_nsec, 500000000);
	CHECK_INT(lb_fs_stat(fs, "old.sys", &st, NULL, 0), 0);
	CHECK_INT(st.btime.tv_sec, -1);
	CHECK_INT(st.btime.tv_nsec, 500000000);
	CHECK_INT(st.mtime.tv_sec, -11644473600LL);
	CHECK_INT(st.mtime.tv_nsec, 0);
	CHECK_INT(lb_fs_close(fs), 0);
}

static void test_pread(void)
{
	const char *vol = mkvol("read.ntfs", 8,
				"add small.bin --hex AAAAAAAA01002301 add big.bin --size 3145745 "
				"add empty.bin mkdir d");
	const size_t big = 3145745;
	struct lb_fs_stat st;
	struct lb_fs *fs;
	uint8_t *buf = malloc(big + 16);
	bool ok = true;
	int r;

	fs = open_fs(vol, LB_FS_RDONLY, &r);
	CHECK_INT(r, 0);
	if (!fs || !buf) {
		free(buf);
		lb_fs_close(fs);
		return;
	}
	CHECK_INT(lb_fs_pread(fs, "small.bin", buf, 100, 0), 8);
	CHECK(!memcmp(buf, "\xaa\xaa\xaa\xaa\x01\x00\x23\x01", 8));
	CHECK_INT(lb_fs_pread(fs, "small.bin", buf, 100, 6), 2);
	CHECK_INT(buf[0], 0x23);
	CHECK_INT(lb_fs_pread(fs, "small.bin", buf, 100, 8), 0);
	CHECK_INT(lb_fs_pread(fs, "small.bin", buf, 100, UINT64_MAX), 0);
	CHECK_INT(lb_fs_stat(fs, "big.bin", &st, NULL, 0), 0);
	CHECK_U64(st.size, big);
	CHECK(st.allocated >= big);
	CHECK_INT(lb_fs_pread(fs, "BIG.BIN", buf, big + 16, 0), (long long)big);
	for (size_t i = 0; i < big && ok; i++)
		ok = buf[i] == pattern_byte(i);
	CHECK(ok);
	CHECK_INT(lb_fs_pread(fs, "big.bin", buf, 4096, 1000001), 4096);
	ok = true;
	for (size_t i = 0; i < 4096 && ok; i++)
		ok = buf[i] == pattern_byte(1000001 + i);
	CHECK(ok);
	CHECK_INT(lb_fs_pread(fs, "big.bin", buf, 100, big - 10), 10);
	CHECK_INT(buf[9], pattern_byte(big - 1));
	CHECK_INT(lb_fs_pread(fs, "empty.bin", buf, 100, 0), 0);
	CHECK_INT(lb_fs_pread(fs, "d", buf, 100, 0), -EISDIR);
	CHECK_INT(lb_fs_pread(fs, "missing", buf, 100, 0), -ENOENT);
	free(buf);
	CHECK_INT(lb_fs_close(fs), 0);
}

static void test_unlink(void)
{
	const char *vol =
		mkvol("unlink.ntfs", 8,
		      "mkdir " CS_DIR " add " CS_DIR "/" CS_FILE " --hex AAAAAAAA01002301 "
		      "--short C-0000~1.SYS add " CS_DIR "/keep.sys --hex 00 "
		      "add a.txt --hex 0102 link a.txt Sub/b.txt");
	struct lb_fs_stat st;
	struct lb_fs *fs;
	uint8_t b[4];
	char *out;
	int r;

	out = sh_out("ntfsls -a -x -p '/%s' '%s' 2>&1", CS_DIR, vol);
	CHECK(out && strstr(out, "C-0000~1.SYS"));
	free(out);
	fs = open_fs(vol, 0, &r);
	CHECK_INT(r, 0);
	if (!fs)
		return;
	CHECK_INT(lb_fs_stat(fs, CS_DIR "/C-0000~1.SYS", &st, NULL, 0), 0);
	CHECK_INT(lb_fs_unlink(
			  fs,
			  "windows/system32/drivers/crowdstrike/c-00000291-00000000-00000032.SYS"),
		  0);
	CHECK_INT(lb_fs_stat(fs, CS_DIR "/" CS_FILE, &st, NULL, 0), -ENOENT);
	CHECK_INT(lb_fs_stat(fs, CS_DIR "/C-0000~1.SYS", &st, NULL, 0), -ENOENT);
	CHECK_INT(lb_fs_stat(fs, CS_DIR "/keep.sys", &st, NULL, 0), 0);
	CHECK_INT(lb_fs_unlink(fs, CS_DIR), -EISDIR);
	CHECK_INT(lb_fs_unlink(fs, CS_DIR "/" CS_FILE), -ENOENT);
	CHECK_INT(lb_fs_unlink(fs, "/"), -EINVAL);
	/* two hard links: this name only */
	CHECK_INT(lb_fs_stat(fs, "A.TXT", &st, NULL, 0), 0);
	CHECK_INT(st.nlink, 2);
	CHECK_INT(lb_fs_unlink(fs, "A.TXT"), 0);
	CHECK_INT(lb_fs_stat(fs, "a.txt", &st, NULL, 0), -ENOENT);
	CHECK_INT(lb_fs_stat(fs, "sub/b.txt", &st, NULL, 0), 0);
	CHECK_INT(st.nlink, 1);
	CHECK_INT(lb_fs_pread(fs, "sub/b.txt", b, sizeof(b), 0), 2);
	CHECK_INT(b[1], 2);
	CHECK_INT(lb_fs_close(fs), 0);

	/* ntfs-3g's own tools agree */
	out = sh_out("ntfsls -a -p '/%s' '%s' 2>&1", CS_DIR, vol);
	CHECK(out && strstr(out, "keep.sys"));
	CHECK(out && !strstr(out, CS_FILE));
	free(out);
	out = sh_out("ntfsls -a -x -p '/%s' '%s' 2>&1", CS_DIR, vol);
	CHECK(out && strstr(out, "keep.sys"));
	CHECK(out && !strstr(out, "C-0000~1.SYS"));
	free(out);
	out = sh_out("ntfsls -a '%s' 2>&1", vol);
	CHECK(out && !strstr(out, "a.txt"));
	free(out);
	CHECK_INT(sh("ntfsfix -n '%s' >/dev/null 2>&1", vol), 0);
}

static void test_replace(void)
{
	const char *vol = mkvol("replace.ntfs", 8,
				"add Windows/System32/config/SYSTEM --size 4096 "
				"--mtime 2020-01-01T00:00:00Z mkdir d");
	const size_t big = 2 * MIB + 5;
	uint8_t *data = malloc(big);
	struct lb_fs_stat st;
	struct lb_fs *fs;
	char cmp[PATH_MAX];
	int r;

	if (!data)
		return;
	for (size_t i = 0; i < big; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 12));
	snprintf(cmp, sizeof(cmp), "%s/expect.bin", tdir());

	fs = open_fs(vol, 0, &r);
	CHECK_INT(r, 0);
	if (!fs) {
		free(data);
		return;
	}
	CHECK_INT(lb_fs_replace(fs, "windows/system32/CONFIG/system", data, big), 0);
	CHECK_INT(lb_fs_stat(fs, "Windows/System32/config/SYSTEM", &st, NULL, 0), 0);
	CHECK_U64(st.size, big);
	CHECK(st.mtime.tv_sec > utc(2020, 1, 2, 0, 0, 0));
	CHECK_INT(lb_fs_replace(fs, "d", data, 10), -EISDIR);
	CHECK_INT(lb_fs_replace(fs, "missing", data, 10), -ENOENT);
	CHECK_INT(lb_fs_close(fs), 0);
	{
		FILE *f = fopen(cmp, "wb");

		CHECK(f && fwrite(data, 1, big, f) == big);
		if (f)
			fclose(f);
	}
	CHECK_INT(sh("ntfscat '%s' Windows/System32/config/SYSTEM | cmp -s - '%s'", vol, cmp), 0);

	/* shrink */
	fs = open_fs(vol, 0, &r);
	CHECK_INT(r, 0);
	if (fs) {
		CHECK_INT(lb_fs_replace(fs, "Windows/System32/config/SYSTEM", data + 100, 10), 0);
		CHECK_INT(lb_fs_stat(fs, "Windows/System32/config/SYSTEM", &st, NULL, 0), 0);
		CHECK_U64(st.size, 10);
		CHECK_INT(lb_fs_close(fs), 0);
	}
	{
		FILE *f = fopen(cmp, "wb");

		CHECK(f && fwrite(data + 100, 1, 10, f) == 10);
		if (f)
			fclose(f);
	}
	CHECK_INT(sh("ntfscat '%s' Windows/System32/config/SYSTEM | cmp -s - '%s'", vol, cmp), 0);
	CHECK_INT(sh("ntfsfix -n '%s' >/dev/null 2>&1", vol), 0);
	free(data);
}

static void test_read_only(void)
{
	const char *vol = mkvol("ro.ntfs", 8, "add x.sys --hex 01");
	struct lb_fs_stat st;
	struct lb_fs *fs;
	size_t len = 0;
	uint8_t *before = lb_test_read_file(vol, &len);
	int r;

	fs = open_fs(vol, LB_FS_RDONLY, &r);
	CHECK_INT(r, 0);
	if (fs) {
		CHECK_INT(lb_fs_stat(fs, "x.sys", &st, NULL, 0), 0);
		CHECK_INT(lb_fs_unlink(fs, "x.sys"), -EROFS);
		CHECK_INT(lb_fs_replace(fs, "x.sys", "ab", 2), -EROFS);
		CHECK_INT(lb_fs_close(fs), 0);
	}
	CHECK(same_file(before, len, vol));
	/* opened for writing and closed without a change: not one byte written */
	fs = open_fs(vol, 0, &r);
	CHECK_INT(r, 0);
	if (fs) {
		CHECK_INT(lb_fs_stat(fs, "x.sys", &st, NULL, 0), 0);
		CHECK_INT(lb_fs_close(fs), 0);
	}
	CHECK(same_file(before, len, vol));
	free(before);
}

static void test_hibernated(void)
{
	const char *vol = mkvol("hib.ntfs", 8, "add x.sys --hex 01 hiberfil");
	struct lb_fs_stat st;
	struct lb_fs *fs;
	size_t len = 0;
	uint8_t *before = lb_test_read_file(vol, &len);
	int r;

	fs = open_fs(vol, LB_FS_RDONLY, &r);
	CHECK_INT(r, 0);
	if (fs) {
		CHECK_INT(lb_fs_stat(fs, "HIBERFIL.SYS", &st, NULL, 0), 0);
		CHECK_U64(st.size, 8192);
		CHECK_INT(lb_fs_close(fs), 0);
	}
	fs = open_fs(vol, 0, &r);
	CHECK_INT(r, -EPERM);
	CHECK(!fs);
	CHECK_CONTAINS(lb_err_last()->problem, "hibernated");
	CHECK_CONTAINS(lb_err_last()->hint, "shut it down fully");
	fs = open_fs(vol, LB_FS_FIX_DIRTY, &r);
	CHECK_INT(r, -EPERM);
	CHECK(!fs);
	CHECK(same_file(before, len, vol));
	free(before);

	/* hibernated and the journal not clean: the journal is not reset either */
	vol = mkvol("hibdirty.ntfs", 8, "add x.sys --hex 01 hiberfil dirty");
	before = lb_test_read_file(vol, &len);
	fs = open_fs(vol, LB_FS_FIX_DIRTY, &r);
	CHECK_INT(r, -EPERM);
	CHECK(!fs);
	CHECK_CONTAINS(lb_err_last()->problem, "hibernated");
	CHECK(same_file(before, len, vol));
	free(before);
}

/* The independent check: libntfs-3g (the fixture) mounts the volume read-write or not. */
static int fixture_can_write(const char *vol)
{
	char copy[PATH_MAX];
	int r;

	snprintf(copy, sizeof(copy), "%s.probe", vol);
	if (sh("cp '%s' '%s'", vol, copy) != 0)
		return -1;
	r = sh("'%s' '%s' mkdir probe 2>/dev/null", fixture(), copy);

	unlink(copy);
	return r == 0;
}

static void ntfs_info(const char *vol, struct lb_ntfs_info *info)
{
	struct lb_dev *dev;
	struct lb_ntfs *v;

	memset(info, 0, sizeof(*info));
	info->journal_clean = -2;
	if (lb_file_dev_open(vol, true, &dev) < 0)
		return;
	if (lb_ntfs_open(dev, LB_NTFS_READ_ONLY, &v) == 0) {
		lb_ntfs_get_info(v, info);
		lb_ntfs_close(v);
	}
	lb_dev_unref(dev);
}

static void test_dirty(void)
{
	const char *vol =
		mkvol("dirty.ntfs", 8,
		      "mkdir " CS_DIR " add " CS_DIR "/" CS_FILE " --hex AAAAAAAA01002301 dirty");
	const struct lb_fs_open_info *info;
	struct lb_ntfs_info ni;
	struct lb_fs_stat st;
	struct lb_fs *fs;
	size_t len = 0;
	uint8_t *before = lb_test_read_file(vol, &len);
	int r;

	/* what the fixture made is what a crash leaves */
	ntfs_info(vol, &ni);
	CHECK_INT(ni.journal_clean, 0);
	CHECK(ni.dirty_flag);
	CHECK_INT(fixture_can_write(vol), 0);

	fs = open_fs(vol, LB_FS_RDONLY, &r);
	CHECK_INT(r, 0);
	if (fs) {
		info = lb_fs_info(fs);
		CHECK(info->was_dirty);
		CHECK(!info->journal_reset);
		CHECK(!info->marked_for_chkdsk);
		CHECK_INT(lb_fs_stat(fs, CS_DIR "/" CS_FILE, &st, NULL, 0), 0);
		CHECK_INT(lb_fs_close(fs), 0);
	}
	fs = open_fs(vol, 0, &r);
	CHECK_INT(r, -EPERM);
	CHECK(!fs);
	CHECK_CONTAINS(lb_err_last()->problem, "journal");
	CHECK_CONTAINS(lb_err_last()->hint, "--no-dirty");
	CHECK(same_file(before, len, vol));

	fs = open_fs(vol, LB_FS_FIX_DIRTY, &r);
	CHECK_INT(r, 0);
	if (fs) {
		info = lb_fs_info(fs);
		CHECK(info->was_dirty);
		CHECK(info->journal_reset);
		CHECK(info->marked_for_chkdsk);
		CHECK_INT(lb_fs_unlink(fs, CS_DIR "/" CS_FILE), 0);
		CHECK_INT(lb_fs_close(fs), 0);
	}
	ntfs_info(vol, &ni);
	CHECK_INT(ni.journal_clean, 1);
	CHECK(ni.dirty_flag);
	CHECK_INT(fixture_can_write(vol), 1);
	CHECK_INT(sh("ntfsfix -n '%s' >/dev/null 2>&1", vol), 0);
	free(before);
}

static void test_dirty_flag_only(void)
{
	const char *vol = mkvol("flag.ntfs", 8, "add x.sys --hex 01 dirty-flag");
	const struct lb_fs_open_info *info;
	struct lb_fs *fs;
	int r;

	fs = open_fs(vol, 0, &r);
	CHECK_INT(r, 0);
	if (!fs)
		return;
	info = lb_fs_info(fs);
	CHECK(info->was_dirty);
	CHECK(!info->journal_reset);
	CHECK(!info->marked_for_chkdsk);
	CHECK_INT(lb_fs_unlink(fs, "x.sys"), 0);
	CHECK_INT(lb_fs_close(fs), 0);
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void test_damaged(void)
{
	const char *vol = mkvol("bad.ntfs", 8, "add x.sys --hex 01");
	uint8_t bs[512], junk[1024];
	uint64_t cluster, mft;
	struct lb_fs *fs;
	int fd, r;

	fd = open(vol, O_RDWR);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(pread(fd, bs, sizeof(bs), 0), (long long)sizeof(bs));
	cluster = le(bs + 0x0b, 2) * (bs[0x0d] < 0x80 ? bs[0x0d] : 1u << (256 - bs[0x0d]));
	mft = le(bs + 0x30, 8) * cluster;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(0xa5 ^ i);
	CHECK_INT(pwrite(fd, junk, sizeof(junk), (off_t)mft), (long long)sizeof(junk));
	close(fd);

	fs = open_fs(vol, LB_FS_RDONLY, &r);
	CHECK_INT(r, -EBADMSG);
	CHECK(!fs);
	CHECK(lb_err_last()->problem[0]);
	fs = open_fs(vol, LB_FS_FIX_DIRTY, &r);
	CHECK_INT(r, -EBADMSG);
	CHECK(!fs);

	/* a boot sector that says NTFS but is not sane */
	vol = mkvol("badboot.ntfs", 8, NULL);
	fd = open(vol, O_RDWR);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	memset(bs, 0, sizeof(bs));
	CHECK_INT(pwrite(fd, bs, 8, 0x0b), 8); /* bytes per sector, cluster size, ... */
	close(fd);
	fs = open_fs(vol, LB_FS_RDONLY, &r);
	CHECK_INT(r, -EBADMSG);
	CHECK(!fs);
}

/* The backend on its own: what is not NTFS at all (fs.c's probe normally says so first). */
static void test_not_ntfs(void)
{
	static uint8_t zeros[4 * MIB];
	struct lb_fs fs = {0};
	int r;

	fs.dev = lb_mem_dev_new(zeros, sizeof(zeros), true, "zeros");
	fs.read_only = true;
	CHECK(fs.dev != NULL);
	if (!fs.dev)
		return;
	r = lb_ntfs_fs_open(&fs, LB_FS_RDONLY);
	CHECK_INT(r, -EMEDIUMTYPE);
	CHECK_CONTAINS(lb_err_last()->problem, "not an NTFS volume");
	lb_dev_unref(fs.dev);
}

static void test_in_partition(void)
{
	const char *vol = mkvol("part.ntfs", 8, "add Windows/x.sys --hex 0102");
	char disk[PATH_MAX];
	struct lb_dev *dev, *part;
	struct lb_fs_stat st;
	struct lb_fs *fs;
	int r;

	snprintf(disk, sizeof(disk), "%s/disk.img", tdir());
	CHECK_INT(sh("truncate -s 10M '%s' && dd if='%s' of='%s' bs=1M seek=1 conv=notrunc "
		     "status=none",
		     disk, vol, disk),
		  0);
	CHECK_INT(lb_file_dev_open(disk, false, &dev), 0);
	CHECK_INT(lb_slice_dev_new(dev, MIB, 8 * MIB, "partition 1", &part), 0);
	lb_dev_unref(dev);
	r = lb_fs_open(part, 0, &fs);
	lb_dev_unref(part);
	CHECK_INT(r, 0);
	if (r < 0)
		return;
	CHECK_INT(lb_fs_stat(fs, "windows/X.SYS", &st, NULL, 0), 0);
	CHECK_U64(st.size, 2);
	CHECK_INT(lb_fs_unlink(fs, "windows/X.SYS"), 0);
	CHECK_INT(lb_fs_close(fs), 0);
	/* the volume inside the disk changed, and is still sane */
	CHECK_INT(sh("dd if='%s' of='%s' bs=1M skip=1 count=8 status=none && "
		     "ntfsfix -n '%s' >/dev/null 2>&1 && ! ntfsls -a -p /Windows '%s' | grep -q "
		     "x.sys",
		     disk, vol, vol, vol),
		  0);
}

static void test_symlink(void)
{
	const char *vol = mkvol("link.ntfs", 8,
				"add t/target.txt --hex 01 symlink t/rel ../t/target.txt "
				"symlink t/abs 'C:/Windows/System32'");
	struct lb_fs_stat st;
	struct lb_fs *fs;
	char buf[64];
	int r;

	fs = open_fs(vol, 0, &r);
	CHECK_INT(r, 0);
	if (!fs)
		return;
	CHECK_INT(lb_fs_stat(fs, "t/REL", &st, NULL, 0), 0);
	CHECK_INT(st.type, LB_FT_SYMLINK);
	CHECK(st.attributes & 0x400);
	CHECK_U64(st.size, strlen("../t/target.txt"));
	CHECK_INT(lb_fs_readlink(fs, "t/rel", buf, sizeof(buf)),
		  (long long)strlen("../t/target.txt"));
	CHECK_STR(buf, "../t/target.txt");
	CHECK_INT(lb_fs_readlink(fs, "t/abs", buf, sizeof(buf)), 19);
	CHECK_STR(buf, "C:/Windows/System32");
	CHECK_INT(lb_fs_readlink(fs, "t/abs", buf, 5), -ENAMETOOLONG);
	CHECK_INT(lb_fs_readlink(fs, "t/target.txt", buf, sizeof(buf)), -EINVAL);
	CHECK_INT(lb_fs_unlink(fs, "t/rel"), 0);
	CHECK_INT(lb_fs_stat(fs, "t/rel", &st, NULL, 0), -ENOENT);
	CHECK_INT(lb_fs_stat(fs, "t/target.txt", &st, NULL, 0), 0);
	CHECK_INT(lb_fs_close(fs), 0);
	CHECK_INT(sh("ntfsfix -n '%s' >/dev/null 2>&1", vol), 0);
}

static void test_write_errors(void)
{
	const char *vol = mkvol("fault.ntfs", 8, "add x.sys --hex 01 add y.sys --hex 02");
	struct lb_dev *dev, *fdev;
	struct lb_fs *fs;
	int r, r2;

	CHECK_INT(lb_file_dev_open(vol, false, &dev), 0);
	CHECK_INT(lb_fault_dev_new(dev, "write-limit=0", &fdev), 0);
	lb_dev_unref(dev);
	r = lb_fs_open(fdev, 0, &fs);
	lb_dev_unref(fdev);
	CHECK_INT(r, 0);
	if (r < 0)
		return;
	/* no write at all to open for writing; the device's error when deleting */
	r = lb_fs_unlink(fs, "x.sys");
	CHECK_INT(r, -EIO);
	CHECK_CONTAINS(lb_err_last()->object, "x.sys");
	CHECK(lb_err_last()->problem[0]);
	r2 = lb_fs_close(fs);
	CHECK(r2 == 0 || r2 == -EIO);
}

static void test_alloc_failures(void)
{
	const char *vol =
		mkvol("oom.ntfs", 8, "mkdir " CS_DIR " add " CS_DIR "/" CS_FILE " --hex 01");
	struct lb_dev *dev;
	struct lb_fs *fs = NULL;
	struct lb_fs_stat st;
	unsigned long n;
	int r = -1;

	CHECK_INT(lb_file_dev_open(vol, true, &dev), 0);
	for (n = 1; n < 5000; n++) {
		lb_test_alloc_fail_at(n);
		r = lb_fs_open(dev, LB_FS_RDONLY, &fs);
		lb_test_alloc_fail_at(0);
		if (r == 0)
			break;
		CHECK_INT(r, -ENOMEM);
	}
	CHECK_INT(r, 0);
	if (r < 0) {
		lb_dev_unref(dev);
		return;
	}
	for (n = 1; n < 5000; n++) {
		lb_test_alloc_fail_at(n);
		r = lb_fs_stat(fs, "windows/system32/drivers/crowdstrike/" CS_FILE, &st, NULL, 0);
		lb_test_alloc_fail_at(0);
		if (r == 0)
			break;
		CHECK_INT(r, -ENOMEM);
	}
	CHECK_INT(r, 0);
	CHECK_INT(lb_fs_stat(fs, CS_DIR "/" CS_FILE, &st, NULL, 0), 0);
	CHECK_INT(lb_fs_close(fs), 0);
	lb_dev_unref(dev);
}

LB_TEST_MAIN(T(test_open_info_upcase), T(test_stat_case_insensitive), T(test_exact_case_preferred),
	     T(test_readdir), T(test_short_name), T(test_timestamps), T(test_pread), T(test_unlink),
	     T(test_replace), T(test_read_only), T(test_hibernated), T(test_dirty),
	     T(test_dirty_flag_only), T(test_damaged), T(test_not_ntfs), T(test_in_partition),
	     T(test_symlink), T(test_write_errors), T(test_alloc_failures))
