/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/fs/ext4.c: ext2/3/4 through libext2fs over an lb_dev.
 *
 * Images are built at test time with `mke2fs -d` from a tree made in a
 * temporary directory; changes are checked with independent tools
 * (`e2fsck -fn`, `debugfs`). Tests are skipped (and say so) when e2fsprogs
 * is not installed.
 */
#include "harness.h"

#include "base/err.h"
#include "fs/fs.h"
#include "io/dev.h"
#include "io/fault.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BIG_SIZE (3u * 1024 * 1024 + 123)
#define SPARSE_SIZE (8u << 20)
#define SPARSE_AT (5u << 20)
#define SLOW_TARGET                                                                     \
	"../../../../usr/lib/a/rather/long/path/that/does/not/fit/in/the/inode/itself/" \
	"target.conf"
#define MTIME_SEC 1721362140 /* 2024-07-19 04:09:00 UTC */
#define MTIME_NSEC 123456789

static char tmpdir[256];
static bool have_tools;

/* ---- helpers ------------------------------------------------------------ */

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* stdout+stderr of a command, malloc'ed. */
static char *capture(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *capture(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	FILE *p;
	char *out = NULL;
	size_t len = 0, cap = 0, n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			out = realloc(out, cap);
			if (!out)
				abort();
		}
		n = fread(out + len, 1, cap - len - 1, p);
		len += n;
	} while (n > 0);
	out[len] = '\0';
	pclose(p);
	return out;
}

static uint8_t pat(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 12) + 3);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

static char *path_in(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *path_in(const char *fmt, ...)
{
	static char bufs[8][512];
	static int i;
	char *b = bufs[i++ & 7];
	int n = snprintf(b, 512, "%s/", tmpdir);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b + n, (size_t)(512 - n), fmt, ap);
	va_end(ap);
	return b;
}

static void cleanup(void)
{
	if (tmpdir[0] && !getenv("LB_TEST_KEEP"))
		run("rm -rf '%s'", tmpdir);
}

/* The tree every image is made from. */
static bool setup(void)
{
	static bool done;
	const char *t = getenv("TMPDIR");
	struct timespec ts[2] = {{MTIME_SEC, MTIME_NSEC}, {MTIME_SEC, MTIME_NSEC}};
	uint8_t *big;
	int fd;

	if (done)
		return have_tools;
	done = true;
	have_tools = run("command -v mke2fs >/dev/null && command -v debugfs >/dev/null && "
			 "command -v e2fsck >/dev/null") == 0;
	if (!have_tools) {
		printf("# e2fsprogs (mke2fs, debugfs, e2fsck) not installed: ext tests skipped\n");
		return false;
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/lb-ext4-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		abort();
	atexit(cleanup);
	if (run("cd '%s' && mkdir -p tree/etc/systemd/system/multi-user.target.wants "
		"tree/data/nested/deeper tree/empty",
		tmpdir))
		abort();
	write_file(path_in("tree/etc/hostname"), "vm-042\n", 7);
	write_file(path_in("tree/etc/os-release"), "NAME=\"Debian GNU/Linux\"\n", 24);
	write_file(path_in("tree/data/nested/deeper/leaf.txt"), "leaf\n", 5);
	write_file(path_in("tree/data/hard1"), "hard link\n", 10);
	if (link(path_in("tree/data/hard1"), path_in("tree/data/hard2")) < 0)
		abort();
	if (symlink("/lib/systemd/system/falcon-sensor.service",
		    path_in("tree/etc/systemd/system/multi-user.target.wants/"
			    "falcon-sensor.service")) < 0 ||
	    symlink("/lib/systemd/system/ssh.service",
		    path_in("tree/etc/systemd/system/multi-user.target.wants/ssh.service")) < 0 ||
	    symlink(SLOW_TARGET, path_in("tree/data/slowlink")) < 0)
		abort();
	big = malloc(BIG_SIZE);
	if (!big)
		abort();
	for (uint64_t i = 0; i < BIG_SIZE; i++)
		big[i] = pat(i);
	write_file(path_in("tree/data/big.bin"), big, BIG_SIZE);
	free(big);
	fd = open(path_in("tree/data/sparse.bin"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || pwrite(fd, "SPARSE-DATA", 11, SPARSE_AT) != 11 ||
	    ftruncate(fd, SPARSE_SIZE) < 0)
		abort();
	close(fd);
	if (utimensat(AT_FDCWD, path_in("tree/etc/hostname"), ts, 0) < 0)
		abort();
	return true;
}

/* Make an image file @name of type @type with block size @bs from the tree. */
static const char *mkimage_opts(const char *name, const char *type, unsigned bs, const char *opts)
{
	const char *img = path_in("%s", name);

	if (run("mke2fs -q -F -t %s -b %u %s -d '%s/tree' '%s' 32M >/dev/null 2>&1", type, bs, opts,
		tmpdir, img))
		return NULL;
	return img;
}

static const char *mkimage(const char *name, const char *type, unsigned bs)
{
	return mkimage_opts(name, type, bs, "");
}

static int open_img(const char *img, bool ro, struct lb_dev **dev, struct lb_fs **fs)
{
	int r = lb_file_dev_open(img, ro, dev);

	if (r < 0)
		return r;
	r = lb_fs_open(*dev, ro ? LB_FS_RDONLY : 0, fs);
	if (r < 0) {
		lb_dev_unref(*dev);
		*dev = NULL;
	}
	return r;
}

/* ---- reading ------------------------------------------------------------- */

struct names {
	char list[1024];
	int n;
	bool saw_dot;
	uint32_t big_type;
};

static int collect(void *opaque, const struct lb_fs_dirent *e)
{
	struct names *nm = opaque;
	size_t l = strlen(nm->list);

	if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
		nm->saw_dot = true;
	if (!strcmp(e->name, "big.bin"))
		nm->big_type = e->st.type == LB_FT_FILE && e->st.size == BIG_SIZE ? 1 : 2;
	snprintf(nm->list + l, sizeof(nm->list) - l, "%s ", e->name);
	nm->n++;
	return 0;
}

static int stop_early(void *opaque, const struct lb_fs_dirent *e)
{
	(void)e;
	(*(int *)opaque)++;
	return -ECANCELED;
}

/*
 * Checks every read operation on a volume made from the tree. mke2fs 1.47.0
 * -d with inline_data stores the sparse file's size wrongly (its end is cut
 * after the last data block, as debugfs shows too): @inline skips that size.
 */
static void check_reads_fs(struct lb_fs *fs, bool inline_data)
{
	struct lb_fs_stat st, st2;
	struct names nm = {.n = 0};
	char buf[512], stored[256];
	uint8_t *big;
	ssize_t n;
	int calls = 0;
	bool ok;

	CHECK_INT(lb_fs_stat(fs, "etc/hostname", &st, stored, sizeof(stored)), 0);
	CHECK_STR(stored, "etc/hostname");
	CHECK_INT(st.type, LB_FT_FILE);
	CHECK_U64(st.size, 7);
	CHECK_INT(st.mode & 07777, 0644);
	CHECK_INT(st.nlink, 1);
	CHECK_INT(st.uid, getuid());
	CHECK_INT((long long)st.mtime.tv_sec, MTIME_SEC);
	CHECK_INT(st.attributes, 0);
	CHECK_INT(lb_fs_stat(fs, "/etc//hostname", &st2, NULL, 0), 0);
	CHECK_U64(st2.ino, st.ino);
	CHECK_INT(lb_fs_stat(fs, "etc/hostname", &st, stored, 5), -ENAMETOOLONG);

	CHECK_INT(lb_fs_stat(fs, "", &st, stored, sizeof(stored)), 0);
	CHECK_INT(st.type, LB_FT_DIR);
	CHECK_U64(st.ino, 2);
	CHECK_STR(stored, "");

	CHECK_INT(lb_fs_stat(fs, "data/hard1", &st, NULL, 0), 0);
	CHECK_INT(lb_fs_stat(fs, "data/hard2", &st2, NULL, 0), 0);
	CHECK_U64(st.ino, st2.ino);
	CHECK_INT(st.nlink, 2);

	CHECK_INT(lb_fs_stat(fs, "data/sparse.bin", &st, NULL, 0), 0);
	if (!inline_data)
		CHECK_U64(st.size, SPARSE_SIZE);
	CHECK(st.allocated < SPARSE_SIZE / 2);
	CHECK_INT(lb_fs_stat(fs, "data/big.bin", &st, NULL, 0), 0);
	CHECK_U64(st.size, BIG_SIZE);
	CHECK(st.allocated >= BIG_SIZE);

	/* errors */
	CHECK_INT(lb_fs_stat(fs, "etc/nothere", &st, NULL, 0), -ENOENT);
	CHECK_CONTAINS(lb_err_last()->problem, "nothere");
	CHECK_INT(lb_fs_stat(fs, "ETC/hostname", &st, NULL, 0), -ENOENT); /* case-sensitive */
	CHECK_INT(lb_fs_stat(fs, "etc/hostname/x", &st, NULL, 0), -ENOTDIR);
	CHECK_INT(lb_fs_pread(fs, "etc", buf, sizeof(buf), 0), -EISDIR);
	CHECK_INT(lb_fs_readlink(fs, "etc/hostname", buf, sizeof(buf)), -EINVAL);
	CHECK_INT(lb_fs_readdir(fs, "etc/hostname", collect, &nm), -ENOTDIR);

	/* symlinks: not followed by stat; fast (in the inode) and slow (in a block) */
	CHECK_INT(lb_fs_stat(fs, "etc/systemd/system/multi-user.target.wants/ssh.service", &st,
			     NULL, 0),
		  0);
	CHECK_INT(st.type, LB_FT_SYMLINK);
	CHECK_U64(st.size, strlen("/lib/systemd/system/ssh.service"));
	n = lb_fs_readlink(fs, "etc/systemd/system/multi-user.target.wants/ssh.service", buf,
			   sizeof(buf));
	CHECK_INT(n, strlen("/lib/systemd/system/ssh.service"));
	CHECK_STR(buf, "/lib/systemd/system/ssh.service");
	n = lb_fs_readlink(fs, "data/slowlink", buf, sizeof(buf));
	CHECK_INT(n, strlen(SLOW_TARGET));
	CHECK_STR(buf, SLOW_TARGET);
	CHECK_INT(lb_fs_readlink(fs, "data/slowlink", buf, 10), -ENAMETOOLONG);
	CHECK_INT(lb_fs_stat(fs, "data/slowlink/x", &st, NULL, 0), -ENOTDIR);

	/* readdir */
	CHECK_INT(lb_fs_readdir(fs, "data", collect, &nm), 0);
	CHECK(!nm.saw_dot);
	CHECK_INT(nm.n, 6);
	CHECK_INT(nm.big_type, 1);
	CHECK_CONTAINS(nm.list, "hard1 ");
	CHECK_CONTAINS(nm.list, "hard2 ");
	CHECK_CONTAINS(nm.list, "nested ");
	CHECK_CONTAINS(nm.list, "slowlink ");
	CHECK_CONTAINS(nm.list, "sparse.bin ");
	memset(&nm, 0, sizeof(nm));
	CHECK_INT(lb_fs_readdir(fs, "/", collect, &nm), 0);
	CHECK_CONTAINS(nm.list, "lost+found ");
	CHECK_CONTAINS(nm.list, "empty ");
	memset(&nm, 0, sizeof(nm));
	CHECK_INT(lb_fs_readdir(fs, "empty", collect, &nm), 0);
	CHECK_INT(nm.n, 0);
	CHECK_INT(lb_fs_readdir(fs, "data", stop_early, &calls), -ECANCELED);
	CHECK_INT(calls, 1);

	/* pread */
	CHECK_INT(lb_fs_pread(fs, "etc/hostname", buf, sizeof(buf), 0), 7);
	CHECK(!memcmp(buf, "vm-042\n", 7));
	CHECK_INT(lb_fs_pread(fs, "etc/hostname", buf, 3, 4), 3);
	CHECK(!memcmp(buf, "42\n", 3));
	CHECK_INT(lb_fs_pread(fs, "etc/hostname", buf, sizeof(buf), 7), 0);
	CHECK_INT(lb_fs_pread(fs, "etc/hostname", buf, sizeof(buf), 1ull << 40), 0);
	big = malloc(BIG_SIZE + 100);
	if (!big)
		abort();
	n = lb_fs_pread(fs, "data/big.bin", big, BIG_SIZE + 100, 0);
	CHECK_INT(n, BIG_SIZE);
	ok = true;
	for (uint64_t i = 0; i < BIG_SIZE && n == BIG_SIZE; i++)
		if (big[i] != pat(i)) {
			ok = false;
			break;
		}
	CHECK(ok);
	/* across block boundaries, ending at EOF */
	n = lb_fs_pread(fs, "data/big.bin", big, 10000, BIG_SIZE - 5000);
	CHECK_INT(n, 5000);
	ok = true;
	for (uint64_t i = 0; i < 5000 && n == 5000; i++)
		if (big[i] != pat(BIG_SIZE - 5000 + i)) {
			ok = false;
			break;
		}
	CHECK(ok);
	n = lb_fs_pread(fs, "data/sparse.bin", big, 4096, SPARSE_AT - 2048);
	CHECK_INT(n, 4096);
	CHECK(n == 4096 && memcmp(big + 2048, "SPARSE-DATA", 11) == 0);
	ok = true;
	for (int i = 0; i < 2048; i++)
		if (big[i]) {
			ok = false;
			break;
		}
	CHECK(ok);
	free(big);
}

static void check_reads(struct lb_fs *fs)
{
	check_reads_fs(fs, false);
}

static void test_ext4_read(void)
{
	struct lb_dev *dev = NULL;
	struct lb_fs *fs = NULL;
	struct lb_fs_stat st;
	unsigned int crtime = 0;
	const char *img;
	char *out, *p;

	if (!setup())
		return;
	img = mkimage("read4k.img", "ext4", 4096);
	CHECK(img != NULL);
	if (!img)
		return;
	/*
	 * mke2fs -d does not copy nanoseconds: set the extra time fields with
	 * debugfs (nanoseconds << 2 | epoch bits); epoch 1 on crtime moves it
	 * past 2106
	 */
	CHECK_INT(run("debugfs -w -R 'sif etc/hostname mtime_extra 0x%x' '%s' >/dev/null 2>&1",
		      MTIME_NSEC << 2, img),
		  0);
	CHECK_INT(run("debugfs -w -R 'sif etc/hostname crtime_extra 0x%x' '%s' >/dev/null 2>&1",
		      (MTIME_NSEC << 2) | 1, img),
		  0);
	out = capture("debugfs -R 'stat etc/hostname' '%s' 2>/dev/null", img);
	p = out ? strstr(out, "crtime: 0x") : NULL;
	CHECK(p && sscanf(p, "crtime: 0x%x:", &crtime) == 1);
	free(out);

	CHECK_INT(open_img(img, true, &dev, &fs), 0);
	if (!fs)
		return;
	CHECK_INT(lb_fs_info(fs)->kind, LB_FS_EXT4);
	CHECK(!lb_fs_info(fs)->was_dirty);
	CHECK(!lb_fs_case_insensitive(fs));
	CHECK_INT(lb_fs_upcase(fs, 'a'), 'a');
	check_reads(fs);
	/* ext4's large inodes carry nanoseconds and a creation time */
	CHECK_INT(lb_fs_stat(fs, "etc/hostname", &st, NULL, 0), 0);
	CHECK_INT((long long)st.mtime.tv_sec, MTIME_SEC);
	CHECK_INT(st.mtime.tv_nsec, MTIME_NSEC);
	CHECK_INT((long long)st.btime.tv_sec, (long long)(int32_t)crtime + (1ll << 32));
	CHECK_INT(st.btime.tv_nsec, MTIME_NSEC);
	CHECK(st.ctime.tv_sec > MTIME_SEC);
	CHECK_INT(lb_fs_close(fs), 0);
	lb_dev_unref(dev);
}

static void test_ext_variants(void)
{
	static const struct {
		const char *type;
		unsigned bs;
		enum lb_fs_kind kind;
		const char *opts;
	} v[] = {
		{"ext2", 1024, LB_FS_EXT2, ""},
		{"ext3", 1024, LB_FS_EXT3, ""},
		{"ext4", 1024, LB_FS_EXT4, ""},
		{"ext2", 4096, LB_FS_EXT2, ""},
		{"ext3", 4096, LB_FS_EXT3, ""},
		/* small files, directories and symlinks inside the inode */
		{"ext4", 4096, LB_FS_EXT4, "-O inline_data"},
		/* no extents, 128-byte inodes (no nanoseconds, no crtime) */
		{"ext4", 4096, LB_FS_EXT4, "-O ^extent,^64bit,^metadata_csum -I 128"},
	};

	if (!setup())
		return;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char name[32];
		const char *img;
		struct lb_dev *dev = NULL;
		struct lb_fs *fs = NULL;

		snprintf(name, sizeof(name), "%s-%u-%zu.img", v[i].type, v[i].bs, i);
		img = mkimage_opts(name, v[i].type, v[i].bs, v[i].opts);
		CHECK(img != NULL);
		if (!img)
			continue;
		CHECK_INT(open_img(img, true, &dev, &fs), 0);
		if (!fs)
			continue;
		printf("# %s, %u-byte blocks %s\n", v[i].type, v[i].bs, v[i].opts);
		CHECK_INT(lb_fs_info(fs)->kind, v[i].kind);
		check_reads_fs(fs, strstr(v[i].opts, "inline_data") != NULL);
		CHECK_INT(lb_fs_close(fs), 0);
		lb_dev_unref(dev);
	}
}

/* The volume as a slice at an offset inside a bigger file (a partition). */
static void test_ext4_slice(void)
{
	const uint64_t off = 3u << 20;
	struct lb_dev *disk = NULL, *part = NULL;
	struct lb_fs *fs = NULL;
	const char *img, *disk_path;
	uint8_t *data;
	size_t len = 0;
	int fd;

	if (!setup())
		return;
	img = mkimage("slice-src.img", "ext4", 4096);
	CHECK(img != NULL);
	data = img ? lb_test_read_file(img, &len) : NULL;
	CHECK(data != NULL);
	if (!data)
		return;
	disk_path = path_in("disk.raw");
	fd = open(disk_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	/* garbage before and after, so reading outside the slice would be noticed */
	{
		uint8_t junk[65536];

		memset(junk, 0xa5, sizeof(junk));
		for (uint64_t i = 0; i < off; i += sizeof(junk))
			CHECK(pwrite(fd, junk, sizeof(junk), (off_t)i) == (ssize_t)sizeof(junk));
	}
	CHECK(pwrite(fd, data, len, (off_t)off) == (ssize_t)len);
	CHECK(pwrite(fd, "\xff\xff\xff\xff", 4, (off_t)(off + len)) == 4);
	close(fd);
	free(data);

	CHECK_INT(lb_file_dev_open(disk_path, false, &disk), 0);
	if (!disk)
		return;
	CHECK_INT(lb_slice_dev_new(disk, off, len, "partition 1", &part), 0);
	lb_dev_unref(disk);
	if (!part)
		return;
	CHECK_INT(lb_fs_open(part, LB_FS_RDONLY, &fs), 0);
	if (fs) {
		check_reads(fs);
		CHECK_INT(lb_fs_close(fs), 0);
	}
	/* and writing through the slice */
	fs = NULL;
	CHECK_INT(lb_fs_open(part, 0, &fs), 0);
	if (fs) {
		CHECK_INT(lb_fs_unlink(fs, "etc/hostname"), 0);
		CHECK_INT(lb_fs_close(fs), 0);
	}
	lb_dev_unref(part);
	CHECK_INT(run("dd if='%s' of='%s' bs=1M skip=3 count=32 status=none", disk_path,
		      path_in("slice-out.img")),
		  0);
	CHECK_INT(run("e2fsck -fn '%s' >/dev/null 2>&1", path_in("slice-out.img")), 0);
}

/* ---- writing ------------------------------------------------------------- */

/*
 * true if `debugfs -R 'ls -l'` output @ls lists @name with a live inode (an
 * entry emptied in place, as in an inline directory, shows inode 0).
 */
static bool listed(const char *ls, const char *name)
{
	const char *line = ls;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		const char *hit = memmem(line, n, name, strlen(name));

		if (hit && strtoul(line, NULL, 10) != 0)
			return true;
		line = end ? end + 1 : NULL;
	}
	return false;
}

static void test_ext_unlink_one(const char *type, unsigned bs, const char *opts)
{
	const char *wants = "etc/systemd/system/multi-user.target.wants";
	struct lb_dev *dev = NULL;
	struct lb_fs *fs = NULL;
	struct lb_fs_stat st;
	char name[32], *out;
	const char *img;

	snprintf(name, sizeof(name), "unlink-%s-%u%s.img", type, bs, opts[0] ? "-opts" : "");
	img = mkimage_opts(name, type, bs, opts);
	CHECK(img != NULL);
	if (!img)
		return;
	CHECK_INT(open_img(img, false, &dev, &fs), 0);
	if (!fs)
		return;
	CHECK_INT(lb_fs_unlink(fs, "etc/systemd/system/multi-user.target.wants/"
				   "falcon-sensor.service"),
		  0);
	CHECK_INT(lb_fs_unlink(fs, "data/big.bin"), 0);	   /* many blocks */
	CHECK_INT(lb_fs_unlink(fs, "data/slowlink"), 0);   /* a symlink with a block */
	CHECK_INT(lb_fs_unlink(fs, "data/sparse.bin"), 0); /* holes */
	CHECK_INT(lb_fs_unlink(fs, "data/hard1"), 0);	   /* one of two links */
	CHECK_INT(lb_fs_unlink(fs, "data/nested"), -EISDIR);
	CHECK_INT(lb_fs_unlink(fs, "data/nothere"), -ENOENT);
	CHECK_INT(lb_fs_unlink(fs, "data/big.bin"), -ENOENT);
	/* visible at once through the same handle */
	CHECK_INT(lb_fs_stat(fs, "data/big.bin", &st, NULL, 0), -ENOENT);
	CHECK_INT(lb_fs_stat(fs, "data/hard2", &st, NULL, 0), 0);
	CHECK_INT(st.nlink, 1);
	CHECK_INT(lb_fs_close(fs), 0);
	lb_dev_unref(dev);

	/* independent tools: consistent, and the names are gone */
	CHECK_INT(run("e2fsck -fn '%s' >/dev/null 2>&1", img), 0);
	out = capture("debugfs -R 'ls -l %s' '%s' 2>&1", wants, img);
	CHECK(out && listed(out, "ssh.service"));
	CHECK(out && !listed(out, "falcon-sensor"));
	free(out);
	out = capture("debugfs -R 'ls -l data' '%s' 2>&1", img);
	CHECK(out && listed(out, "hard2"));
	CHECK(out && listed(out, "nested"));
	CHECK(out && !listed(out, "big.bin") && !listed(out, "hard1") && !listed(out, "slowlink") &&
	      !listed(out, "sparse.bin"));
	free(out);
	out = capture("debugfs -R 'cat data/hard2' '%s' 2>/dev/null", img);
	CHECK_STR(out, "hard link\n");
	free(out);

	/* reopen: still gone, and the rest still reads */
	dev = NULL;
	fs = NULL;
	CHECK_INT(open_img(img, true, &dev, &fs), 0);
	if (!fs)
		return;
	CHECK_INT(lb_fs_stat(fs, "data/big.bin", &st, NULL, 0), -ENOENT);
	CHECK_INT(lb_fs_stat(fs, "etc/systemd/system/multi-user.target.wants/ssh.service", &st,
			     NULL, 0),
		  0);
	CHECK_INT(lb_fs_close(fs), 0);
	lb_dev_unref(dev);
}

static void test_ext_unlink(void)
{
	if (!setup())
		return;
	test_ext_unlink_one("ext4", 4096, "");
	test_ext_unlink_one("ext4", 1024, "");
	test_ext_unlink_one("ext3", 1024, ""); /* block maps with indirect blocks */
	test_ext_unlink_one("ext2", 4096, "");
	test_ext_unlink_one("ext4", 4096, "-O inline_data"); /* entries, links inside inodes */
}

static void test_ext_replace_one(const char *opts)
{
	struct lb_dev *dev = NULL;
	struct lb_fs *fs = NULL;
	struct lb_fs_stat st;
	struct timespec before;
	char *out, buf[64];
	uint8_t *data;
	const size_t n = 200000;
	const char *img;
	bool ok;

	img = mkimage_opts(opts[0] ? "replace-opts.img" : "replace.img", "ext4", 4096, opts);
	CHECK(img != NULL);
	if (!img)
		return;
	data = malloc(n);
	if (!data)
		abort();
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)('a' + i % 26);
	clock_gettime(CLOCK_REALTIME, &before);
	CHECK_INT(open_img(img, false, &dev, &fs), 0);
	if (!fs) {
		free(data);
		return;
	}
	CHECK_INT(lb_fs_replace(fs, "etc/hostname", data, n), 0);     /* grows */
	CHECK_INT(lb_fs_replace(fs, "data/big.bin", "tiny\n", 5), 0); /* shrinks */
	CHECK_INT(lb_fs_replace(fs, "data/sparse.bin", "", 0), 0);    /* empties */
	CHECK_INT(lb_fs_replace(fs, "etc", "x", 1), -EISDIR);
	CHECK_INT(lb_fs_replace(fs, "etc/nothere", "x", 1), -ENOENT);
	CHECK_INT(lb_fs_stat(fs, "etc/hostname", &st, NULL, 0), 0);
	CHECK_U64(st.size, n);
	CHECK(st.mtime.tv_sec >= before.tv_sec);
	CHECK_INT(lb_fs_pread(fs, "data/big.bin", buf, sizeof(buf), 0), 5);
	CHECK_INT(lb_fs_close(fs), 0);
	lb_dev_unref(dev);

	CHECK_INT(run("e2fsck -fn '%s' >/dev/null 2>&1", img), 0);
	out = capture("debugfs -R 'cat etc/hostname' '%s' 2>/dev/null", img);
	CHECK(out != NULL && strlen(out) == n);
	ok = out && strlen(out) == n && !memcmp(out, data, n);
	CHECK(ok);
	free(out);
	out = capture("debugfs -R 'cat data/big.bin' '%s' 2>/dev/null", img);
	CHECK_STR(out, "tiny\n");
	free(out);
	out = capture("debugfs -R 'stat data/sparse.bin' '%s' 2>/dev/null", img);
	CHECK_CONTAINS(out, "Size: 0");
	free(out);
	free(data);
}

static void test_ext_replace(void)
{
	if (!setup())
		return;
	test_ext_replace_one("");
	test_ext_replace_one("-O inline_data"); /* a file inside its inode grows out of it */
}

static char *sha256_of(const char *path)
{
	char *out = capture("sha256sum '%s'", path);

	if (out && strlen(out) > 64)
		out[64] = '\0';
	return out;
}

static void test_ext_readonly(void)
{
	struct lb_dev *dev = NULL;
	struct lb_fs *fs = NULL;
	char *h1, *h2;
	const char *img;

	if (!setup())
		return;
	img = mkimage("ro.img", "ext4", 4096);
	CHECK(img != NULL);
	if (!img)
		return;
	h1 = sha256_of(img);
	CHECK_INT(open_img(img, true, &dev, &fs), 0);
	if (fs) {
		CHECK_INT(lb_fs_unlink(fs, "etc/hostname"), -EROFS);
		CHECK_INT(lb_fs_replace(fs, "etc/hostname", "x", 1), -EROFS);
		check_reads(fs);
		CHECK_INT(lb_fs_close(fs), 0);
		lb_dev_unref(dev);
	}
	/* opened for writing, but nothing changed: nothing written either */
	dev = NULL;
	fs = NULL;
	CHECK_INT(open_img(img, false, &dev, &fs), 0);
	if (fs) {
		check_reads(fs);
		CHECK_INT(lb_fs_unlink(fs, "data/nested"), -EISDIR);
		CHECK_INT(lb_fs_close(fs), 0);
		lb_dev_unref(dev);
	}
	/* a read-only device cannot be opened for writing */
	CHECK_INT(lb_file_dev_open(img, true, &dev), 0);
	fs = NULL;
	CHECK_INT(lb_fs_open(dev, 0, &fs), -EROFS);
	lb_dev_unref(dev);
	h2 = sha256_of(img);
	CHECK(h1 && strlen(h1) == 64);
	CHECK_STR(h2, h1);
	free(h1);
	free(h2);
}

/* Journal to replay, or not cleanly unmounted: readable, not writable. */
static void test_ext_dirty(void)
{
	static const char *const cmds[] = {"feature needs_recovery", "ssv state 0", "ssv state 3"};
	static const char *const why[] = {"journal", "not cleanly unmounted", "errors"};

	if (!setup())
		return;
	for (size_t i = 0; i < 3; i++) {
		struct lb_dev *dev = NULL;
		struct lb_fs *fs = NULL;
		char *h1, *h2;
		const char *img = mkimage("dirty.img", "ext4", 4096);

		CHECK(img != NULL);
		if (!img)
			return;
		CHECK_INT(run("debugfs -w -R '%s' '%s' >/dev/null 2>&1", cmds[i], img), 0);
		h1 = sha256_of(img);
		CHECK_INT(open_img(img, false, &dev, &fs), -EPERM);
		CHECK_CONTAINS(lb_err_last()->problem, why[i]);
		CHECK_CONTAINS(lb_err_last()->hint, "e2fsck");
		CHECK(fs == NULL);
		CHECK_INT(open_img(img, true, &dev, &fs), 0);
		if (fs) {
			CHECK(lb_fs_info(fs)->was_dirty);
			CHECK_INT(lb_fs_pread(fs, "etc/hostname", (char[8]){0}, 7, 0), 7);
			CHECK_INT(lb_fs_close(fs), 0);
			lb_dev_unref(dev);
		}
		h2 = sha256_of(img);
		CHECK_STR(h2, h1);
		free(h1);
		free(h2);
	}
}

/* Device errors come back through libext2fs as the device reported them. */
static void test_ext_io_errors(void)
{
	struct lb_dev *file = NULL, *dev = NULL;
	struct lb_fs *fs = NULL;
	unsigned long long blk = 0;
	char spec[64], *out, buf[64];
	const char *img;
	int r;

	if (!setup())
		return;
	img = mkimage("io.img", "ext4", 4096);
	CHECK(img != NULL);
	if (!img)
		return;
	out = capture("debugfs -R 'bmap data/big.bin 100' '%s' 2>/dev/null", img);
	CHECK(out && sscanf(out, "%llu", &blk) == 1 && blk > 0);
	free(out);

	/* a bad sector in the middle of a file */
	snprintf(spec, sizeof(spec), "read-error=%llu+4096", blk * 4096);
	CHECK_INT(lb_file_dev_open(img, true, &file), 0);
	CHECK_INT(lb_fault_dev_new(file, spec, &dev), 0);
	lb_dev_unref(file);
	CHECK_INT(lb_fs_open(dev, LB_FS_RDONLY, &fs), 0);
	if (fs) {
		CHECK_INT(lb_fs_pread(fs, "data/big.bin", buf, sizeof(buf), 0), sizeof(buf));
		r = (int)lb_fs_pread(fs, "data/big.bin", buf, sizeof(buf), 100 * 4096);
		CHECK_INT(r, -EIO);
		CHECK_CONTAINS(lb_err_last()->object, "data/big.bin");
		printf("# %s: %s\n", lb_err_last()->object, lb_err_last()->problem);
		CHECK_INT(lb_fs_pread(fs, "data/big.bin", buf, sizeof(buf), 101 * 4096),
			  sizeof(buf));
		CHECK_INT(lb_fs_close(fs), 0);
	}
	lb_dev_unref(dev);

	/* a device that gives a little at a time */
	file = dev = NULL;
	fs = NULL;
	CHECK_INT(lb_file_dev_open(img, true, &file), 0);
	CHECK_INT(lb_fault_dev_new(file, "short-reads", &dev), 0);
	lb_dev_unref(file);
	CHECK_INT(lb_fs_open(dev, LB_FS_RDONLY, &fs), 0);
	if (fs) {
		check_reads(fs);
		CHECK_INT(lb_fs_close(fs), 0);
	}
	lb_dev_unref(dev);

	/* writes failing: the change fails cleanly, no crash */
	file = dev = NULL;
	fs = NULL;
	CHECK_INT(lb_file_dev_open(img, false, &file), 0);
	CHECK_INT(lb_fault_dev_new(file, "write-error=0+32M", &dev), 0);
	lb_dev_unref(file);
	CHECK_INT(lb_fs_open(dev, 0, &fs), 0);
	if (fs) {
		r = lb_fs_unlink(fs, "data/big.bin");
		CHECK_INT(r, -EIO);
		CHECK(lb_err_last()->problem[0] != '\0');
		printf("# %s: %s\n", lb_err_last()->object, lb_err_last()->problem);
		r = lb_fs_close(fs);
		CHECK(r == 0 || r == -EIO);
	}
	lb_dev_unref(dev);
	/* nothing reached the file */
	CHECK_INT(run("e2fsck -fn '%s' >/dev/null 2>&1", img), 0);
}

/* Features this libext2fs does not know: unknown read-only ones block writing only. */
static void test_ext_features(void)
{
	struct lb_dev *dev = NULL;
	struct lb_fs *fs = NULL;
	const char *img;

	if (!setup())
		return;
	img = mkimage("feat-ro.img", "ext4", 4096);
	CHECK(img != NULL);
	if (!img)
		return;
	CHECK_INT(run("debugfs -w -R 'feature FEATURE_R31' '%s' >/dev/null 2>&1", img), 0);
	CHECK_INT(open_img(img, false, &dev, &fs), -EPERM);
	CHECK_CONTAINS(lb_err_last()->problem, "cannot write");
	CHECK_CONTAINS(lb_err_last()->hint, "read-only");
	CHECK_INT(open_img(img, true, &dev, &fs), 0);
	if (fs) {
		CHECK_INT(lb_fs_pread(fs, "etc/hostname", (char[8]){0}, 7, 0), 7);
		CHECK_INT(lb_fs_close(fs), 0);
		lb_dev_unref(dev);
	}

	img = mkimage("feat-incompat.img", "ext4", 4096);
	CHECK(img != NULL);
	if (!img)
		return;
	CHECK_INT(run("debugfs -w -R 'feature FEATURE_I31' '%s' >/dev/null 2>&1", img), 0);
	fs = NULL;
	CHECK_INT(open_img(img, true, &dev, &fs), -ENOTSUP);
	CHECK_CONTAINS(lb_err_last()->problem, "cannot read");
	CHECK(fs == NULL);
}

static void test_ext_corrupt(void)
{
	struct lb_dev *dev = NULL;
	struct lb_fs *fs = NULL;
	struct lb_fs_stat st;
	const char *img;
	int fd, r;

	if (!setup())
		return;
	/* an impossible block size in the superblock (its checksum also fails) */
	img = mkimage("corrupt.img", "ext4", 4096);
	CHECK(img != NULL);
	if (!img)
		return;
	fd = open(img, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "\x40\0\0\0", 4, 1024 + 0x18) == 4);
	close(fd);
	r = open_img(img, true, &dev, &fs);
	CHECK(r == -EBADMSG || r == -EMEDIUMTYPE);
	CHECK(fs == NULL);
	CHECK(lb_err_last()->problem[0] != '\0');

	/* the same on a file system without checksums */
	img = mkimage("corrupt2.img", "ext2", 1024);
	CHECK(img != NULL);
	if (!img)
		return;
	fd = open(img, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "\x40\0\0\0", 4, 1024 + 0x18) == 4);
	close(fd);
	r = open_img(img, true, &dev, &fs);
	CHECK(r == -EBADMSG || r == -EMEDIUMTYPE);
	CHECK(fs == NULL);

	/* no magic: not an ext file system at all */
	img = mkimage("corrupt3.img", "ext4", 4096);
	fd = open(img, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "\0\0", 2, 1024 + 0x38) == 2);
	close(fd);
	CHECK_INT(open_img(img, true, &dev, &fs), -EMEDIUMTYPE);

	/* a truncated image: what is past the end fails cleanly */
	img = mkimage("trunc.img", "ext4", 4096);
	CHECK(img != NULL && truncate(img, 1 << 20) == 0);
	r = open_img(img, true, &dev, &fs);
	if (r == 0) {
		r = lb_fs_stat(fs, "data/nested/deeper/leaf.txt", &st, NULL, 0);
		if (r == 0)
			r = (int)lb_fs_pread(fs, "data/big.bin", (char[64]){0}, 64, BIG_SIZE - 64);
		CHECK(r < 0);
		CHECK_INT(lb_fs_close(fs), 0);
		lb_dev_unref(dev);
	}
	CHECK(r == -EIO || r == -EBADMSG);
}

LB_TEST_MAIN(T(test_ext4_read), T(test_ext_variants), T(test_ext4_slice), T(test_ext_unlink),
	     T(test_ext_replace), T(test_ext_readonly), T(test_ext_dirty), T(test_ext_io_errors),
	     T(test_ext_features), T(test_ext_corrupt))
