/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/repair/quarantine.c, over a fake file-system backend
 * (files held in memory or generated on the fly), so no image is needed.
 * Digests are checked with sha256sum(1), manifest lines with jq(1).
 */
#include "harness.h"

#include "base/cleanup.h"
#include "base/err.h"
#include "base/sha256.h"
#include "fs/fs_int.h"
#include "repair/quarantine.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- a fake file system ------------------------------------------------------- */

struct ffile {
	const char *path;
	enum lb_ftype type;
	const uint8_t *data; /* NULL: generated from the offset */
	uint64_t size;	     /* what stat says */
	uint64_t real;	     /* what pread gives (0: size) */
	const char *target;  /* symlinks */
	int64_t fail_at;     /* pread at or past this offset fails with -EIO (0: never) */
};

static struct ffile *files;
static size_t nfiles;

static uint8_t gen(uint64_t off)
{
	return (uint8_t)((off * 2654435761u) >> 13);
}

/* fs.c hands backends normalized paths ('\\' -> '/'): look up the same way. */
static const struct ffile *find(const char *path)
{
	for (size_t i = 0; i < nfiles; i++) {
		const char *a = files[i].path, *b = path;

		while (*a && (*a == *b || (*a == '\\' && *b == '/'))) {
			a++;
			b++;
		}
		if (!*a && !*b)
			return &files[i];
	}
	return NULL;
}

static void fake_st(const struct ffile *f, struct lb_fs_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->type = f->type;
	st->ino = 4242;
	st->size = f->type == LB_FT_SYMLINK ? strlen(f->target) : f->size;
	st->btime = (struct timespec){1721361600, 5};	      /* 2024-07-19T04:00:00 */
	st->mtime = (struct timespec){1721362140, 123456789}; /* 04:09:00.123456789 */
	st->ctime = (struct timespec){1721362141, 0};
	st->atime = (struct timespec){0, 999999999};
	st->mode = f->type == LB_FT_SYMLINK ? 0120777 : 0100644;
	st->uid = 1000;
	st->gid = 100;
	st->nlink = 1;
	st->attributes = 0x20; /* archive */
	memcpy(st->short_name, "C-0000~1.SYS", 13);
}

static int fake_stat(struct lb_fs *fs, const char *path, struct lb_fs_stat *st, char *stored,
		     size_t cap)
{
	const struct ffile *f = find(path);

	if (!f)
		return lb_err(-ENOENT, path, NULL, "no such file");
	fake_st(f, st);
	return 0;
}

static ssize_t fake_pread(struct lb_fs *fs, const char *path, void *buf, size_t len, uint64_t off)
{
	const struct ffile *f = find(path);
	uint64_t real;
	size_t n;

	if (!f)
		return lb_err(-ENOENT, path, NULL, "no such file");
	if (f->fail_at && off + len > (uint64_t)f->fail_at)
		return lb_err(-EIO, path, NULL, "read error (fake)");
	real = f->real ? f->real : f->size;
	if (off >= real)
		return 0;
	n = (size_t)LB_MIN((uint64_t)len, real - off);
	if (n > 70000)
		n = 70000; /* short reads: the caller must ask again */
	for (size_t i = 0; i < n; i++)
		((uint8_t *)buf)[i] = f->data ? f->data[off + i] : gen(off + i);
	return (ssize_t)n;
}

static ssize_t fake_readlink(struct lb_fs *fs, const char *path, char *buf, size_t cap)
{
	const struct ffile *f = find(path);
	size_t n;

	if (!f || f->type != LB_FT_SYMLINK)
		return lb_err(-EINVAL, path, NULL, "not a symbolic link");
	n = strlen(f->target);
	if (n + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(buf, f->target, n + 1);
	return (ssize_t)n;
}

static int fake_close(struct lb_fs *fs)
{
	return 0;
}

static const struct lb_fs_ops fake_ops = {
	.kind = LB_FS_EXT4,
	.close = fake_close,
	.stat = fake_stat,
	.pread = fake_pread,
	.readlink = fake_readlink,
};

static struct lb_fs fakefs = {.ops = &fake_ops, .read_only = true};

/* ---- helpers ----------------------------------------------------------------------- */

static char scratch[256], qdir[300];

static void scratch_new(void)
{
	lb_test_scratch_new("quar", scratch, sizeof(scratch));
	snprintf(qdir, sizeof(qdir), "%s/run/quarantine", scratch);
}

static void scratch_done(void)
{
	lb_test_scratch_done(scratch);
}

static char *qpath(const char *rel)
{
	return lb_test_path(qdir, rel);
}

static int save(const char *path, unsigned part, uint64_t max, uint8_t *sha, char *where,
		size_t cap)
{
	const struct ffile *f = find(path);
	struct lb_fs_stat st;

	CHECK(f != NULL);
	if (!f)
		return -ENOENT;
	fake_st(f, &st);
	return lb_quarantine_save_ex(qdir, part, &fakefs, path, &st, max, sha, where, cap);
}

/* sha256sum(1) of a file, as hex. */
static void sha256sum(const char *path, char out[LB_SHA256_HEX])
{
	char cmd[1200];
	FILE *p;

	out[0] = '\0';
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK(fscanf(p, "%64s", out) == 1);
	pclose(p);
}

/* Run jq with @filter over the manifest: true if it printed "true". */
static bool jq(const char *filter)
{
	char cmd[2048], out[16] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "jq -c -s '%s' '%s/manifest.jsonl' 2>&1", filter, qdir);
	p = popen(cmd, "r");
	if (!p)
		return false;
	if (!fgets(out, sizeof(out), p))
		out[0] = '\0';
	pclose(p);
	if (strcmp(out, "true\n"))
		printf("#   jq '%s' said %s", filter, out);
	return !strcmp(out, "true\n");
}

static unsigned manifest_lines(void)
{
	size_t n = 0;
	uint8_t *p = lb_test_read_file(qpath("manifest.jsonl"), &n);
	unsigned lines = 0;

	for (size_t i = 0; p && i < n; i++)
		lines += p[i] == '\n';
	free(p);
	return lines;
}

/* Files named .lbq-* (temporaries) anywhere under the quarantine folder. */
static int count_tmp(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	return strncmp(p + f->base, ".lbq-", 5) == 0;
}

static int temporaries(void)
{
	return nftw(qdir, count_tmp, 16, FTW_PHYS);
}

static uint32_t mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? (uint32_t)st.st_mode & 07777 : 0xffffffff;
}

/* ---- tests ---------------------------------------------------------------------------- */

#define CS_PATH "Windows/System32/drivers/CrowdStrike/C-00000291-00000000-00000032.sys"

static void test_save(void)
{
	struct ffile fs[] = {
		{.path = CS_PATH, .type = LB_FT_FILE, .size = 5 * 1024 * 1024 + 77},
	};
	uint8_t sha[LB_SHA256_LEN];
	char hex[LB_SHA256_HEX], want[LB_SHA256_HEX], where[512], filter[600];
	size_t n = 0;
	uint8_t *copy;
	bool same = true;

	files = fs;
	nfiles = LB_ARRAY_SIZE(fs);
	scratch_new();
	CHECK_INT(lb_quarantine_save(qdir, 3, &fakefs, CS_PATH,
				     &(struct lb_fs_stat){.type = LB_FT_FILE, .size = fs[0].size},
				     sha),
		  0);
	CHECK_INT(lb_quarantine_save(qdir, 3, &fakefs, CS_PATH,
				     &(struct lb_fs_stat){.type = LB_FT_FILE, .size = fs[0].size},
				     NULL),
		  0);
	CHECK_INT(save(CS_PATH, 3, LB_QUARANTINE_MAX_FILE, sha, where, sizeof(where)), 0);
	CHECK_STR(where, "p3/" CS_PATH ".2");
	copy = lb_test_read_file(qpath("p3/" CS_PATH), &n);
	CHECK(copy != NULL);
	CHECK_U64(n, fs[0].size);
	for (size_t i = 0; copy && i < n; i++)
		if (copy[i] != gen(i)) {
			same = false;
			break;
		}
	CHECK(same);
	free(copy);
	sha256sum(qpath("p3/" CS_PATH ".2"), want);
	CHECK_STR(lb_hex(sha, sizeof(sha), hex), want);
	CHECK_INT(manifest_lines(), 3);
	snprintf(filter, sizeof(filter),
		 ".[2] | .partition == 3 and .path == \"%s\" and .stored_as == \"p3/%s.2\" and "
		 ".type == \"file\" and .size == %llu and .sha256 == \"%s\"",
		 CS_PATH, CS_PATH, (unsigned long long)fs[0].size, want);
	CHECK(jq(filter));
	CHECK(jq(".[2] | .mtime == \"2024-07-19T04:09:00.123456789Z\" and "
		 ".btime == \"2024-07-19T04:00:00.000000005Z\" and "
		 ".ctime == \"2024-07-19T04:09:01.000000000Z\" and "
		 ".atime == \"1970-01-01T00:00:00.999999999Z\""));
	CHECK(jq(".[2] | .attributes == 32 and .mode == \"0100644\" and .uid == 1000 and "
		 ".gid == 100 and .nlink == 1 and .ino == 4242 and .short_name == \"C-0000~1.SYS\" "
		 "and .symlink == null and (.quarantined_at | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T"
		 "[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{9}Z$\"))"));
	/* the first two came from a bare stat: no times, no mode */
	CHECK(jq(".[0].btime == null and .[0].mtime == \"1970-01-01T00:00:00.000000000Z\" and "
		 "([.[].stored_as] | unique | length) == 3 and (.[0].sha256 as $s | all(.[]; "
		 ".sha256 == $s))"));
	CHECK_INT(mode_of(qdir), 0700);
	CHECK_INT(mode_of(qpath("p3")), 0700);
	CHECK_INT(mode_of(qpath("p3/Windows/System32")), 0700);
	CHECK_INT(mode_of(qpath("p3/" CS_PATH)), 0600);
	CHECK_INT(mode_of(qpath("manifest.jsonl")), 0600);
	CHECK_INT(temporaries(), 0);
	scratch_done();
}

static void test_names(void)
{
	char out[1024], long_name[301], want[400];

	CHECK_INT(lb_quarantine_name(0, "Windows/System32/x.sys", out, sizeof(out)), 0);
	CHECK_STR(out, "p0/Windows/System32/x.sys");
	CHECK_INT(lb_quarantine_name(2, "/a//b/", out, sizeof(out)), 0);
	CHECK_STR(out, "p2/a/b");
	CHECK_INT(lb_quarantine_name(1, "../../etc/passwd", out, sizeof(out)), 0);
	CHECK_STR(out, "p1/%2E%2E/%2E%2E/etc/passwd");
	CHECK_INT(lb_quarantine_name(1, "./.hidden/..x", out, sizeof(out)), 0);
	CHECK_STR(out, "p1/%2E/.hidden/..x");
	CHECK_INT(lb_quarantine_name(0, "a\\b:c*d?\"e<f>g|h\x01i\x7f%j k_l-m", out, sizeof(out)),
		  0);
	CHECK_STR(out, "p0/a%5Cb%3Ac%2Ad%3F%22e%3Cf%3Eg%7Ch%01i%7F%25j k_l-m");
	CHECK_INT(lb_quarantine_name(0, "caf\xc3\xa9\xff", out, sizeof(out)), 0);
	CHECK_STR(out, "p0/caf%C3%A9%FF");
	CHECK_INT(lb_quarantine_name(0, "", out, sizeof(out)), -EINVAL);
	CHECK_INT(lb_quarantine_name(0, "///", out, sizeof(out)), -EINVAL);
	CHECK_INT(lb_quarantine_name(0, "abc", out, 5), -ENAMETOOLONG);
	/* a name too long for the host: cut, with a digest of the whole */
	memset(long_name, 'n', 300);
	long_name[300] = '\0';
	CHECK_INT(lb_quarantine_name(0, long_name, out, sizeof(out)), 0);
	CHECK_INT(strlen(out), 3 + 240);
	CHECK(out[3 + 223] == '~');
	long_name[299] = 'm';
	CHECK_INT(lb_quarantine_name(0, long_name, want, sizeof(want)), 0);
	CHECK(strcmp(out, want) != 0); /* same prefix, different name: different digest */
	/* escapes are never cut in half */
	memset(long_name, '#', 300);
	CHECK_INT(lb_quarantine_name(0, long_name, out, sizeof(out)), 0);
	CHECK_INT((strlen(out) - 3 - 17) % 3, 0);
	CHECK(strlen(out) - 3 <= 240);
}

/* Awkward names land inside the folder, escaped; saving never escapes the folder. */
static void test_awkward_names(void)
{
	struct ffile fs[] = {
		{.path = ".../outside", .type = LB_FT_FILE, .size = 10},
		{.path = "dir\\with:odd\x01/caf\xc3\xa9\xff", .type = LB_FT_FILE, .size = 20},
		{.path = "a", .type = LB_FT_FILE, .size = 1},
		{.path = "a/b", .type = LB_FT_FILE, .size = 2},
	};
	char where[512], real[PATH_MAX], rq[PATH_MAX];
	struct stat st;

	files = fs;
	nfiles = LB_ARRAY_SIZE(fs);
	scratch_new();
	CHECK_INT(save(".../outside", 0, 100, NULL, where, sizeof(where)), 0);
	CHECK_STR(where, "p0/.../outside");
	CHECK(stat(qpath(where), &st) == 0 && st.st_size == 10);
	CHECK(realpath(qpath(where), real) != NULL);
	CHECK(realpath(qdir, rq) != NULL);
	CHECK(!strncmp(real, rq, strlen(rq)));
	CHECK(stat(qpath("../outside"), &st) < 0);
	CHECK_INT(save(fs[1].path, 0, 100, NULL, where, sizeof(where)), 0);
	CHECK_STR(where, "p0/dir%5Cwith%3Aodd%01/caf%C3%A9%FF");
	/* not UTF-8: the manifest keeps the bytes in hex too */
	CHECK(jq(".[1] | .path_hex == \"6469725c776974683a6f6464012f636166c3a9ff\" and "
		 ".stored_as == \"p0/dir%5Cwith%3Aodd%01/caf%C3%A9%FF\" and "
		 ".path == \"dir\\\\with:odd\\u0001/caf\u00e9\ufffd\""));
	CHECK(jq(".[0] | has(\"path_hex\") | not"));
	/* a file where a folder is wanted: the folder gets a suffix */
	CHECK_INT(save("a", 0, 100, NULL, where, sizeof(where)), 0);
	CHECK_STR(where, "p0/a");
	CHECK_INT(save("a/b", 0, 100, NULL, where, sizeof(where)), 0);
	CHECK_STR(where, "p0/a.1/b");
	CHECK_INT(temporaries(), 0);
	scratch_done();
}

/* A symlink planted in the quarantine folder is not followed. */
static void test_planted_symlink(void)
{
	struct ffile fs[] = {{.path = "Windows/x.sys", .type = LB_FT_FILE, .size = 100}};
	char outside[400], where[512];
	DIR *d;
	struct dirent *e;
	unsigned entries = 0;

	files = fs;
	nfiles = 1;
	scratch_new();
	snprintf(outside, sizeof(outside), "%s/outside", scratch);
	CHECK_INT(mkdir(outside, 0700), 0);
	{
		char run[400];

		snprintf(run, sizeof(run), "%s/run", scratch);
		CHECK_INT(mkdir(run, 0700), 0);
	}
	CHECK_INT(mkdir(qdir, 0700), 0);
	CHECK_INT(symlink(outside, qpath("p0")), 0);
	CHECK_INT(save("Windows/x.sys", 0, 1000, NULL, where, sizeof(where)), 0);
	CHECK_STR(where, "p0.1/Windows/x.sys");
	d = opendir(outside);
	while (d && (e = readdir(d)))
		entries += e->d_name[0] != '.';
	if (d)
		closedir(d);
	CHECK_INT(entries, 0);
	scratch_done();
}

static void test_symlink(void)
{
	struct ffile fs[] = {
		{.path = "etc/alt", .type = LB_FT_SYMLINK, .target = "../usr/lib/x \"y\""},
	};
	char where[512], want[LB_SHA256_HEX], hex[LB_SHA256_HEX];
	uint8_t sha[LB_SHA256_LEN];
	size_t n = 0;
	char *text;

	files = fs;
	nfiles = 1;
	scratch_new();
	CHECK_INT(save("etc/alt", 1, 100, sha, where, sizeof(where)), 0);
	CHECK_STR(where, "p1/etc/alt");
	text = (char *)lb_test_read_file(qpath(where), &n);
	CHECK(text && n == strlen(fs[0].target) && !memcmp(text, fs[0].target, n));
	free(text);
	sha256sum(qpath(where), want);
	CHECK_STR(lb_hex(sha, sizeof(sha), hex), want);
	CHECK(jq(".[0] | .type == \"symlink\" and .symlink == \"../usr/lib/x \\\"y\\\"\" and "
		 ".size == 16 and .mode == \"0120777\""));
	scratch_done();
}

static void test_refused(void)
{
	struct ffile fs[] = {
		{.path = "big", .type = LB_FT_FILE, .size = 1001},
		{.path = "huge", .type = LB_FT_FILE, .size = LB_QUARANTINE_MAX_FILE + 1},
		{.path = "dir", .type = LB_FT_DIR},
		{.path = "bad", .type = LB_FT_FILE, .size = 300000, .fail_at = 200000},
		{.path = "short", .type = LB_FT_FILE, .size = 5000, .real = 4000},
		{.path = "long", .type = LB_FT_FILE, .size = 5000, .real = 5001},
		{.path = "ok", .type = LB_FT_FILE, .size = 1000},
	};
	struct lb_fs_stat st;

	files = fs;
	nfiles = LB_ARRAY_SIZE(fs);
	scratch_new();
	CHECK_INT(save("big", 0, 1000, NULL, NULL, 0), -EFBIG);
	CHECK_CONTAINS(lb_err_last()->problem, "not deleted");
	CHECK_INT(save("ok", 0, 1000, NULL, NULL, 0), 0); /* exactly the limit */
	CHECK_INT(lb_fs_stat(&fakefs, "huge", &st, NULL, 0), 0);
	CHECK_INT(lb_quarantine_save(qdir, 0, &fakefs, "huge", &st, NULL), -EFBIG);
	CHECK_INT(save("dir", 0, 1000, NULL, NULL, 0), -EISDIR);
	CHECK_INT(save("bad", 0, 1 << 20, NULL, NULL, 0), -EIO);
	CHECK_INT(save("short", 0, 1 << 20, NULL, NULL, 0), -EIO);
	CHECK_CONTAINS(lb_err_last()->problem, "ended at 4000 of 5000");
	CHECK_INT(save("long", 0, 1 << 20, NULL, NULL, 0), -EIO);
	CHECK_CONTAINS(lb_err_last()->problem, "more than the 5000 bytes");
	/* nothing but the one good copy and its line */
	CHECK_INT(manifest_lines(), 1);
	CHECK_INT(temporaries(), 0);
	CHECK(access(qpath("p0/big"), F_OK) < 0);
	CHECK(access(qpath("p0/bad"), F_OK) < 0);
	CHECK(access(qpath("p0/short"), F_OK) < 0);
	CHECK(access(qpath("p0/long"), F_OK) < 0);
	scratch_done();
}

static void enospc_child(void)
{
	struct ffile fs[] = {
		{.path = "big.bin", .type = LB_FT_FILE, .size = 200000},
		{.path = "small.bin", .type = LB_FT_FILE, .size = 1000},
	};
	struct rlimit rl = {.rlim_cur = 64 << 10, .rlim_max = RLIM_INFINITY};

	files = fs;
	nfiles = LB_ARRAY_SIZE(fs);
	signal(SIGXFSZ, SIG_IGN);
	CHECK_INT(setrlimit(RLIMIT_FSIZE, &rl), 0);
	CHECK_INT(save("big.bin", 0, 1 << 20, NULL, NULL, 0), -ENOSPC);
	CHECK_CONTAINS(lb_err_last()->hint, "not deleted");
	CHECK_INT(temporaries(), 0);
	CHECK(access(qpath("p0/big.bin"), F_OK) < 0);
	CHECK_INT(manifest_lines(), 0);
	CHECK_INT(save("small.bin", 0, 1 << 20, NULL, NULL, 0), 0);
	CHECK_INT(manifest_lines(), 1);
}

static void test_enospc(void)
{
	int status = -1;
	pid_t pid;

	scratch_new();
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int before = lb_test_failed_checks;

		enospc_child();
		fflush(stdout);
		_exit(lb_test_failed_checks != before);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	scratch_done();
}

static void test_alloc_failures(void)
{
	struct ffile fs[] = {{.path = "Windows/y.sys", .type = LB_FT_FILE, .size = 3000}};
	uint8_t h[LB_SHA256_LEN];
	unsigned ok = 0;

	files = fs;
	nfiles = 1;
	scratch_new();
	CHECK_INT(lb_sha256("", 0, h), 0); /* let libcrypto set itself up first */
	for (unsigned long n = 1; n < 80; n++) {
		int r;

		lb_test_alloc_fail_at(n);
		r = save("Windows/y.sys", 0, 1 << 20, NULL, NULL, 0);
		lb_test_alloc_fail_at(0);
		CHECK(r == 0 || r == -ENOMEM);
		ok += r == 0;
		CHECK_INT(manifest_lines(), ok);
	}
	CHECK(ok > 0);
	CHECK_INT(temporaries(), 0);
	scratch_done();
}

LB_TEST_MAIN(T(test_save), T(test_names), T(test_awkward_names), T(test_planted_symlink),
	     T(test_symlink), T(test_refused), T(test_enospc), T(test_alloc_failures))
