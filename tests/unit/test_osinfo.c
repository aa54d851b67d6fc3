/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/fs/osinfo.c: which OS a volume holds.
 *
 * Volumes are ext4 images made with `mke2fs -d` from trees built here, and
 * NTFS volumes made with mkntfs and filled by tests/helpers/ntfs-fixture
 * (libntfs-3g directly); the SOFTWARE hive is made with tests/helpers/mkhive
 * and `hivexsh -w`. Skipped (and said so) when the tools are missing.
 */
#include "harness.h"

#include "base/err.h"
#include "fs/fs.h"
#include "fs/osinfo.h"
#include "io/dev.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[256];

/* ---- helpers ------------------------------------------------------------ */

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void cleanup(void)
{
	if (tmpdir[0] && !getenv("LB_TEST_KEEP"))
		run("rm -rf '%s'", tmpdir);
}

static const char *tmp(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *tmp(const char *fmt, ...)
{
	static char bufs[8][512];
	static int i;
	char *b = bufs[i++ & 7];
	va_list ap;
	int n;

	if (!tmpdir[0]) {
		const char *t = getenv("TMPDIR");

		snprintf(tmpdir, sizeof(tmpdir), "%s/lb-osinfo-XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(tmpdir))
			abort();
		atexit(cleanup);
	}
	n = snprintf(b, 512, "%s/", tmpdir);
	va_start(ap, fmt);
	vsnprintf(b + n, (size_t)(512 - n), fmt, ap);
	va_end(ap);
	return b;
}

/* A helper program from tests/helpers: $BUILD/helpers, or next to this binary. */
static void helper_path(const char *name, char *path, size_t cap)
{
	const char *b = getenv("BUILD");
	char self[900];
	ssize_t n;

	if (b && *b) {
		snprintf(path, cap, "%s/helpers/%s", b, name);
		if (access(path, X_OK) == 0)
			return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(path, cap, "%s/../helpers/%s", dirname(self), name);
	}
}

static const char *mkhive_path(void)
{
	static char path[1024];

	if (!path[0])
		helper_path("mkhive", path, sizeof(path));
	return path;
}

static const char *ntfs_fixture_path(void)
{
	static char path[1024];

	if (!path[0])
		helper_path("ntfs-fixture", path, sizeof(path));
	return path;
}

static bool have_mke2fs(void)
{
	static int have = -1;

	if (have < 0) {
		have = run("command -v mke2fs >/dev/null") == 0;
		if (!have)
			printf("# mke2fs missing: skipped\n");
	}
	return have;
}

static bool have_hivex(void)
{
	static int have = -1;

	if (have < 0) {
		have = access(mkhive_path(), X_OK) == 0 &&
		       run("command -v hivexsh >/dev/null") == 0;
		if (!have)
			printf("# mkhive or hivexsh (libhivex-bin) missing: skipped\n");
	}
	return have;
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
}

/* An ext4 image of tree @name (tmp/@name) as tmp/@name.img. */
static const char *image_of(const char *name)
{
	const char *img = tmp("%s.img", name);

	if (run("mke2fs -q -F -t ext4 -d '%s' '%s' 8M >/dev/null 2>&1", tmp("%s", name), img))
		return NULL;
	return img;
}

/* Detect on @img; @ro opens the file read-only (as inspect does). */
static int detect(const char *img, bool ro, struct lb_os_info *os)
{
	struct lb_fs_info info;
	struct lb_dev *dev = NULL;
	int r;

	memset(os, 0, sizeof(*os));
	if (!img)
		return -999;
	r = lb_file_dev_open(img, ro, &dev);
	if (r < 0)
		return r;
	r = lb_fs_probe(dev, &info);
	if (r == 0)
		r = lb_os_detect(dev, &info, os);
	lb_dev_unref(dev);
	return r;
}

/* A SOFTWARE hive with CurrentVersion values. */
static bool software_hive(const char *path, const char *product, const char *build)
{
	const char *script = tmp("software.txt");
	FILE *f;

	if (run("'%s' '%s' SOFTWARE", mkhive_path(), path))
		return false;
	f = fopen(script, "w");
	if (!f)
		return false;
	fprintf(f,
		"add Microsoft\ncd Microsoft\nadd Windows NT\ncd Windows NT\nadd CurrentVersion\n"
		"cd CurrentVersion\nsetval 6\n"
		"ProductName\nstring:%s\nCurrentBuild\nstring:%s\nCurrentBuildNumber\nstring:%s\n"
		"DisplayVersion\nstring:23H2\nEditionID\nstring:Professional\n"
		"CurrentMajorVersionNumber\ndword:0x0000000a\ncommit\n",
		product, build, build);
	fclose(f);
	return run("hivexsh -w -f '%s' '%s' >/dev/null", script, path) == 0;
}

/* ---- Linux ------------------------------------------------------------------ */

static void test_linux_os_release(void)
{
	struct lb_os_info os;

	if (!have_mke2fs())
		return;
	CHECK_INT(run("mkdir -p '%s'", tmp("deb/etc")), 0);
	put(tmp("deb/etc/os-release"), "# a comment\n"
				       "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
				       "NAME=\"Debian GNU/Linux\"\n"
				       "VERSION_ID=\"12\"\n"
				       "VERSION=\"12 (bookworm)\"\n"
				       "ID=debian\n");
	CHECK_INT(detect(image_of("deb"), true, &os), 0);
	CHECK_STR(os.family, "linux");
	CHECK_STR(os.name, "Debian GNU/Linux 12 (bookworm)");
	CHECK_STR(os.version, "12");

	/* no PRETTY_NAME; single quotes, escapes, bare words */
	CHECK_INT(run("mkdir -p '%s'", tmp("alp/etc")), 0);
	put(tmp("alp/etc/os-release"), "NAME='Alpine \"Linux\"'\n"
				       "VERSION=\"3.19 \\\"edge\\\" \\$x\"\n"
				       "VERSION_ID=3.19.1\n"
				       "  VERSION_ID=3.19.2 # the last assignment wins\n");
	CHECK_INT(detect(image_of("alp"), true, &os), 0);
	CHECK_STR(os.name, "Alpine \"Linux\" 3.19 \"edge\" $x");
	CHECK_STR(os.version, "3.19.2");

	/* only NAME */
	CHECK_INT(run("mkdir -p '%s'", tmp("min/usr/lib")), 0);
	put(tmp("min/usr/lib/os-release"), "NAME=Minimal\n");
	CHECK_INT(detect(image_of("min"), true, &os), 0);
	CHECK_STR(os.name, "Minimal");
	CHECK_STR(os.version, "");
}

static void test_linux_symlinks(void)
{
	static const char ubuntu[] = "PRETTY_NAME=\"Ubuntu 24.04 LTS\"\nNAME=\"Ubuntu\"\n"
				     "VERSION_ID=\"24.04\"\n";
	struct lb_os_info os;
	char *h1, *h2;
	const char *img;
	size_t l1 = 0, l2 = 0;

	if (!have_mke2fs())
		return;
	/* etc/os-release -> ../usr/lib/os-release, as on most distributions */
	CHECK_INT(run("mkdir -p '%s' '%s'", tmp("rel/etc"), tmp("rel/usr/lib")), 0);
	put(tmp("rel/usr/lib/os-release"), ubuntu);
	CHECK_INT(symlink("../usr/lib/os-release", tmp("rel/etc/os-release")), 0);
	img = image_of("rel");
	h1 = (char *)lb_test_read_file(img ? img : "", &l1);
	CHECK_INT(detect(img, true, &os), 0);
	CHECK_STR(os.family, "linux");
	CHECK_STR(os.name, "Ubuntu 24.04 LTS");
	CHECK_STR(os.version, "24.04");
	/* opened for writing underneath, it still does not write */
	CHECK_INT(detect(img, false, &os), 0);
	h2 = (char *)lb_test_read_file(img ? img : "", &l2);
	CHECK(h1 && h2 && l1 == l2 && !memcmp(h1, h2, l1));
	free(h1);
	free(h2);

	/* an absolute target is inside the volume, not on the host */
	CHECK_INT(run("mkdir -p '%s' '%s'", tmp("abs/etc"), tmp("abs/usr/lib")), 0);
	put(tmp("abs/usr/lib/os-release"), ubuntu);
	CHECK_INT(symlink("/usr/lib/os-release", tmp("abs/etc/os-release")), 0);
	CHECK_INT(detect(image_of("abs"), true, &os), 0);
	CHECK_STR(os.name, "Ubuntu 24.04 LTS");

	/* a chain of two, with ".." above the root clamped */
	CHECK_INT(run("mkdir -p '%s' '%s'", tmp("chain/etc"), tmp("chain/usr/lib")), 0);
	put(tmp("chain/usr/lib/real"), ubuntu);
	CHECK_INT(symlink("../../../../usr/lib/os-release", tmp("chain/etc/os-release")), 0);
	CHECK_INT(symlink("./real", tmp("chain/usr/lib/os-release")), 0);
	CHECK_INT(detect(image_of("chain"), true, &os), 0);
	CHECK_STR(os.version, "24.04");

	/* a loop ends, without an OS */
	CHECK_INT(run("mkdir -p '%s'", tmp("loop/etc")), 0);
	CHECK_INT(symlink("os-release", tmp("loop/etc/os-release")), 0);
	CHECK_INT(detect(image_of("loop"), true, &os), -ENOENT);
}

/* ---- Windows ------------------------------------------------------------------ */

static void test_windows(void)
{
	struct lb_os_info os;

	if (!have_mke2fs() || !have_hivex())
		return;
	CHECK_INT(run("mkdir -p '%s'", tmp("srv/Windows/System32/config")), 0);
	CHECK(software_hive(tmp("srv/Windows/System32/config/SOFTWARE"),
			    "Windows Server 2022 Datacenter", "20348"));
	CHECK_INT(detect(image_of("srv"), true, &os), 0);
	CHECK_STR(os.family, "windows");
	CHECK_STR(os.name, "Windows Server 2022 Datacenter");
	CHECK_STR(os.version, "20348");

	/* Windows 11 says "Windows 10" in ProductName; the build tells */
	CHECK_INT(run("mkdir -p '%s'", tmp("w11/Windows/System32/config")), 0);
	CHECK(software_hive(tmp("w11/Windows/System32/config/SOFTWARE"), "Windows 10 Pro",
			    "22631"));
	CHECK_INT(detect(image_of("w11"), true, &os), 0);
	CHECK_STR(os.name, "Windows 11 Pro");
	CHECK_STR(os.version, "22631");

	/* a real Windows 10 stays Windows 10 */
	CHECK_INT(run("mkdir -p '%s'", tmp("w10/Windows/System32/config")), 0);
	CHECK(software_hive(tmp("w10/Windows/System32/config/SOFTWARE"), "Windows 10 Enterprise",
			    "19045"));
	CHECK_INT(detect(image_of("w10"), true, &os), 0);
	CHECK_STR(os.name, "Windows 10 Enterprise");
	CHECK_STR(os.version, "19045");

	/* Windows without a readable SOFTWARE hive */
	CHECK_INT(run("mkdir -p '%s'", tmp("nohive/Windows/System32/config")), 0);
	CHECK_INT(detect(image_of("nohive"), true, &os), 0);
	CHECK_STR(os.family, "windows");
	CHECK_STR(os.name, "Windows (version unknown)");
	CHECK_STR(os.version, "");
	CHECK_INT(run("mkdir -p '%s'", tmp("badhive/Windows/System32/config")), 0);
	put(tmp("badhive/Windows/System32/config/SOFTWARE"), "regf but not really a hive");
	CHECK_INT(detect(image_of("badhive"), true, &os), 0);
	CHECK_STR(os.name, "Windows (version unknown)");
}

/*
 * The same on NTFS, the file system Windows really uses: names are spelled
 * in other cases on the volume than lifeboat asks for them.
 */
static void test_windows_ntfs(void)
{
	const char *vol = tmp("win.ntfs");
	struct lb_os_info os;
	int fd;

	if (!have_hivex())
		return;
	if (access(ntfs_fixture_path(), X_OK) != 0 ||
	    run("PATH=\"$PATH:/usr/sbin:/sbin\" command -v mkntfs >/dev/null")) {
		printf("# ntfs-fixture or mkntfs (ntfs-3g) missing: skipped\n");
		return;
	}
	CHECK(software_hive(tmp("SOFTWARE.ntfs"), "Windows 10 Enterprise", "26100"));
	fd = open(vol, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && ftruncate(fd, 16 << 20) == 0);
	close(fd);
	CHECK_INT(run("PATH=\"$PATH:/usr/sbin:/sbin\" mkntfs -F -Q -q -L Windows '%s' "
		      ">/dev/null 2>&1",
		      vol),
		  0);
	CHECK_INT(run("'%s' '%s' add WINDOWS/system32/Config/software --content '%s' >/dev/null",
		      ntfs_fixture_path(), vol, tmp("SOFTWARE.ntfs")),
		  0);
	CHECK_INT(detect(vol, true, &os), 0);
	CHECK_STR(os.family, "windows");
	CHECK_STR(os.name, "Windows 11 Enterprise");
	CHECK_STR(os.version, "26100");

	/* Windows without its SOFTWARE hive */
	CHECK_INT(run("PATH=\"$PATH:/usr/sbin:/sbin\" mkntfs -F -Q -q -L Windows '%s' "
		      ">/dev/null 2>&1 && '%s' '%s' mkdir Windows/System32/drivers",
		      vol, ntfs_fixture_path(), vol),
		  0);
	CHECK_INT(detect(vol, true, &os), 0);
	CHECK_STR(os.name, "Windows (version unknown)");

	/* an NTFS data volume */
	CHECK_INT(run("PATH=\"$PATH:/usr/sbin:/sbin\" mkntfs -F -Q -q -L Data '%s' "
		      ">/dev/null 2>&1 && '%s' '%s' mkdir Users/Public",
		      vol, ntfs_fixture_path(), vol),
		  0);
	CHECK_INT(detect(vol, true, &os), -ENOENT);
}

/* ---- neither ------------------------------------------------------------------- */

static void test_no_os(void)
{
	struct lb_fs_info info;
	struct lb_os_info os;
	uint8_t zero[4096] = {0};
	struct lb_dev *dev;

	if (have_mke2fs()) {
		CHECK_INT(run("mkdir -p '%s'", tmp("data/photos")), 0);
		CHECK_INT(detect(image_of("data"), true, &os), -ENOENT);
		CHECK_CONTAINS(lb_err_last()->problem, "no operating system");
		CHECK_STR(os.family, "");
		/* etc/os-release as a directory is not an OS either */
		CHECK_INT(run("mkdir -p '%s'", tmp("odd/etc/os-release")), 0);
		CHECK_INT(detect(image_of("odd"), true, &os), -ENOENT);
	}
	/* other file systems: not supported, and nothing is read */
	dev = lb_mem_dev_new(zero, sizeof(zero), true, "fat");
	CHECK(dev != NULL);
	memset(&info, 0, sizeof(info));
	info.kind = LB_FS_FAT32;
	CHECK_INT(lb_os_detect(dev, &info, &os), -ENOTSUP);
	info.kind = LB_FS_UNKNOWN;
	CHECK_INT(lb_os_detect(dev, &info, &os), -ENOTSUP);
	/* probed as ext4 but garbage: the open error comes back, no crash */
	info.kind = LB_FS_EXT4;
	CHECK(lb_os_detect(dev, &info, &os) < 0);
	lb_dev_unref(dev);
}

LB_TEST_MAIN(T(test_linux_os_release), T(test_linux_symlinks), T(test_windows),
	     T(test_windows_ntfs), T(test_no_os))
