/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/fs/hive.c: registry paths, value specs, and hives
 * through hivex.
 *
 * Hives are built at test time: tests/helpers/mkhive writes an empty one and
 * `hivexsh -w` adds keys and values; results are checked with `hivexget`
 * (an independent reader). Tests needing those tools skip (and say so) when
 * libhivex-bin is not installed.
 */
#include "harness.h"

#include "base/endian.h"
#include "base/err.h"
#include "fs/fs.h"
#include "fs/hive.h"
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

static char *capture(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *capture(const char *fmt, ...)
{
	char cmd[4096];
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

static void cleanup(void)
{
	if (tmpdir[0] && !getenv("LB_TEST_KEEP"))
		run("rm -rf '%s'", tmpdir);
}

static const char *tmp(const char *name)
{
	static char bufs[8][512];
	static int i;
	char *b = bufs[i++ & 7];

	if (!tmpdir[0]) {
		const char *t = getenv("TMPDIR");

		snprintf(tmpdir, sizeof(tmpdir), "%s/lb-hive-XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(tmpdir))
			abort();
		atexit(cleanup);
	}
	snprintf(b, 512, "%s/%s", tmpdir, name);
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

static bool tools(void)
{
	static int have = -1;

	if (have < 0) {
		have = access(mkhive_path(), X_OK) == 0 &&
		       run("command -v hivexsh >/dev/null && command -v hivexget >/dev/null") == 0;
		if (!have)
			printf("# mkhive or hivexsh/hivexget (libhivex-bin) missing: hive tests "
			       "skipped\n");
	}
	return have;
}

/* hivexsh script building the SYSTEM hive of the tests. */
static const char system_script[] =
	"add Select\ncd Select\nsetval 2\nCurrent\ndword:2\nDefault\ndword:1\ncd ..\n"
	"add ControlSet001\ncd ControlSet001\nadd Services\ncd Services\nadd CSAgent\n"
	"cd CSAgent\nsetval 1\nStart\ndword:1\ncd ..\ncd ..\ncd ..\n"
	"add ControlSet002\ncd ControlSet002\nadd Services\ncd Services\nadd Other\n"
	"add CSAgent\ncd CSAgent\nsetval 6\n"
	"Start\ndword:1\n"
	"ImagePath\nexpandstring:%SystemRoot%\\System32\\drivers\\CrowdStrike\\csagent.sys\n"
	"DisplayName\nstring:CrowdStrike Falcon\n"
	"DependOnService\nhex:7:46,00,6c,00,74,00,4d,00,67,00,72,00,00,00,54,00,63,00,70,00,69,"
	"00,70,00,00,00,00,00\n"
	"Blob\nhex:3:de,ad,be,ef\n"
	"@\nstring:default text\n"
	"commit\n";

/* Make a hive file at @path: mkhive, then @script through hivexsh -w. */
static bool make_hive(const char *path, const char *root, const char *script)
{
	const char *sfile = tmp("script.txt");
	FILE *f;

	if (run("'%s' '%s' %s", mkhive_path(), path, root))
		return false;
	if (!script)
		return true;
	f = fopen(sfile, "w");
	if (!f)
		return false;
	fputs(script, f);
	fclose(f);
	return run("hivexsh -w -f '%s' '%s' >/dev/null", sfile, path) == 0;
}

static uint8_t *system_hive(size_t *len)
{
	const char *p = tmp("SYSTEM");

	if (!make_hive(p, "SYSTEM", system_script))
		return NULL;
	return lb_test_read_file(p, len);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

/* Recompute the base block checksum after a change to it. */
static void fix_checksum(uint8_t *h)
{
	uint32_t x = 0;

	for (int i = 0; i < 127; i++)
		x ^= lb_le32(h + 4 * i);
	lb_put_le32(h + 0x1fc, x);
}

/* ---- registry paths ---------------------------------------------------------- */

static void test_reg_path(void)
{
	struct lb_reg_path p;

	CHECK_INT(
		lb_reg_path_parse("HKLM\\SYSTEM\\CurrentControlSet\\Services\\CSAgent", false, &p),
		0);
	CHECK_STR(p.hive_name, "SYSTEM");
	CHECK_STR(p.hive_file, "Windows/System32/config/SYSTEM");
	CHECK_STR(p.key, "CurrentControlSet\\Services\\CSAgent");
	CHECK_STR(p.value, "");

	CHECK_INT(lb_reg_path_parse("HKLM\\SYSTEM\\CurrentControlSet\\Services\\CSAgent\\Start",
				    true, &p),
		  0);
	CHECK_STR(p.key, "CurrentControlSet\\Services\\CSAgent");
	CHECK_STR(p.value, "Start");

	CHECK_INT(lb_reg_path_parse("hkey_local_machine\\software\\Microsoft\\Windows NT\\"
				    "CurrentVersion",
				    false, &p),
		  0);
	CHECK_STR(p.hive_name, "SOFTWARE");
	CHECK_STR(p.hive_file, "Windows/System32/config/SOFTWARE");
	CHECK_STR(p.key, "Microsoft\\Windows NT\\CurrentVersion");

	CHECK_INT(lb_reg_path_parse("Computer\\HKEY_LOCAL_MACHINE\\SAM", false, &p), 0);
	CHECK_STR(p.hive_name, "SAM");
	CHECK_STR(p.key, "");
	CHECK_INT(lb_reg_path_parse("HKLM\\SECURITY\\Policy\\", false, &p), 0);
	CHECK_STR(p.hive_name, "SECURITY");
	CHECK_STR(p.key, "Policy");
	CHECK_INT(lb_reg_path_parse("HKU\\.DEFAULT\\Control Panel\\Desktop", false, &p), 0);
	CHECK_STR(p.hive_name, "DEFAULT");
	CHECK_STR(p.hive_file, "Windows/System32/config/DEFAULT");
	CHECK_STR(p.key, "Control Panel\\Desktop");
	CHECK_INT(lb_reg_path_parse("HKEY_USERS\\S-1-5-18", false, &p), 0);
	CHECK_STR(p.hive_name, "DEFAULT");
	CHECK_INT(lb_reg_path_parse("HKLM\\DEFAULT\\x", false, &p), 0);
	CHECK_STR(p.hive_name, "DEFAULT");
	/* a key name may hold '/' */
	CHECK_INT(lb_reg_path_parse("HKLM\\SOFTWARE\\Classes\\MIME\\Database\\Content Type\\"
				    "text/plain",
				    false, &p),
		  0);
	CHECK_STR(p.key, "Classes\\MIME\\Database\\Content Type\\text/plain");
	/* a value in the hive's root key, and a default value */
	CHECK_INT(lb_reg_path_parse("HKLM\\SYSTEM\\Top", true, &p), 0);
	CHECK_STR(p.key, "");
	CHECK_STR(p.value, "Top");
	CHECK_INT(lb_reg_path_parse("HKLM\\SOFTWARE\\Foo\\Bar\\", true, &p), 0);
	CHECK_STR(p.key, "Foo\\Bar");
	CHECK_STR(p.value, "");

	/* errors name what is wrong, and what is accepted */
	CHECK_INT(lb_reg_path_parse("", false, &p), -EINVAL);
	CHECK_INT(lb_reg_path_parse("HKCU\\Software\\x", false, &p), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "HKCU");
	CHECK_CONTAINS(lb_err_last()->hint, "HKLM\\SYSTEM");
	CHECK_INT(lb_reg_path_parse("HKCR\\.txt", false, &p), -EINVAL);
	CHECK_INT(lb_reg_path_parse("HKXX\\SYSTEM", false, &p), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "unknown root 'HKXX'");
	CHECK_CONTAINS(lb_err_last()->hint, "HKU\\.DEFAULT");
	CHECK_INT(lb_reg_path_parse("HKLM\\NOPE\\x", false, &p), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "unknown hive 'NOPE'");
	CHECK_INT(lb_reg_path_parse("HKLM\\HARDWARE\\DESCRIPTION", false, &p), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "HARDWARE");
	CHECK_INT(lb_reg_path_parse("HKU\\S-1-5-21-1-2-3-1001\\Software", false, &p), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, ".DEFAULT");
	CHECK_INT(lb_reg_path_parse("HKLM", false, &p), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "name a hive");
	CHECK_INT(lb_reg_path_parse("HKLM\\", false, &p), -EINVAL);
	CHECK_INT(lb_reg_path_parse("\\HKLM\\SYSTEM", false, &p), -EINVAL);
	CHECK_INT(lb_reg_path_parse("HKLM\\SYSTEM", true, &p), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "no value name");
	CHECK_INT(lb_reg_path_parse("HKLM\\SYSTEM\\a\\\\b", false, &p), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "empty key name");
	CHECK_INT(lb_reg_path_parse("HKLM\\SYSTEM\\a\\\\b", true, &p), -EINVAL);
	CHECK_INT(lb_reg_path_parse("HKLM\\SYSTEM\\\\b", true, &p), -EINVAL);
	CHECK_INT(lb_reg_path_parse("HKLM\\SYSTEM\\a\\\\", false, &p), -EINVAL);
	CHECK_INT(lb_reg_path_parse("HKLM\\SYSTEM\\a\tb", false, &p), -EINVAL);
	CHECK_INT(lb_reg_path_parse("HKLM\\SYSTEM\\\xff\xfe", false, &p), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "UTF-8");
}

/* ---- value specs ------------------------------------------------------------- */

static void test_reg_value_parse(void)
{
	static const uint8_t sz[] = {'a', 0, 0xe9, 0, 0x3d, 0xd8, 0x00, 0xde, 0, 0};
	static const uint8_t multi[] = {'a', 0, 0,   0, 'b',  0, ',', 0, 'c', 0, 0, 0,
					'C', 0, ':', 0, '\\', 0, 'd', 0, 0,   0, 0, 0};
	struct lb_reg_value v;
	char out[256];

	CHECK_INT(lb_reg_value_parse("dword:4", &v), 0);
	CHECK_INT(v.type, LB_REG_DWORD);
	CHECK_INT(v.len, 4);
	CHECK(v.data && lb_le32(v.data) == 4);
	CHECK(v.name == NULL);
	CHECK_STR(lb_reg_value_format(&v, out, sizeof(out)), "dword:0x00000004 (4)");
	lb_reg_value_release(&v);
	CHECK_INT(lb_reg_value_parse("REG_DWORD:0xFFFFFFFF", &v), 0);
	CHECK(v.data && lb_le32(v.data) == 0xffffffff);
	lb_reg_value_release(&v);
	CHECK_INT(lb_reg_value_parse("qword:0x10", &v), 0);
	CHECK_INT(v.type, LB_REG_QWORD);
	CHECK_INT(v.len, 8);
	CHECK(v.data && lb_le64(v.data) == 16);
	CHECK_STR(lb_reg_value_format(&v, out, sizeof(out)), "qword:0x0000000000000010 (16)");
	lb_reg_value_release(&v);
	CHECK_INT(lb_reg_value_parse("qword:18446744073709551615", &v), 0);
	CHECK(v.data && lb_le64(v.data) == UINT64_MAX);
	lb_reg_value_release(&v);

	CHECK_INT(lb_reg_value_parse("sz:a\xc3\xa9\xf0\x9f\x98\x80", &v),
		  0); /* a, e-acute, U+1F600 */
	CHECK_INT(v.type, LB_REG_SZ);
	CHECK_INT(v.len, sizeof(sz));
	CHECK(v.data && v.len == sizeof(sz) && !memcmp(v.data, sz, sizeof(sz)));
	CHECK_STR(lb_reg_value_format(&v, out, sizeof(out)), "sz:\"a\xc3\xa9\xf0\x9f\x98\x80\"");
	lb_reg_value_release(&v);
	CHECK_INT(lb_reg_value_parse("sz:", &v), 0);
	CHECK_INT(v.len, 2);
	lb_reg_value_release(&v);
	CHECK_INT(lb_reg_value_parse("expand_sz:%SystemRoot%\\x \"q\"", &v), 0);
	CHECK_INT(v.type, LB_REG_EXPAND_SZ);
	CHECK_INT(v.len, 2 * 19);
	CHECK_STR(lb_reg_value_format(&v, out, sizeof(out)),
		  "expand_sz:\"%SystemRoot%\\x \\\"q\\\"\"");
	lb_reg_value_release(&v);

	CHECK_INT(lb_reg_value_parse("multi_sz:a,b\\,c,C:\\d", &v), 0);
	CHECK_INT(v.type, LB_REG_MULTI_SZ);
	CHECK(v.data && v.len == sizeof(multi) && !memcmp(v.data, multi, sizeof(multi)));
	CHECK_STR(lb_reg_value_format(&v, out, sizeof(out)), "multi_sz:\"a\",\"b,c\",\"C:\\d\"");
	lb_reg_value_release(&v);
	CHECK_INT(lb_reg_value_parse("multi_sz:x\\\\,y", &v), 0); /* "x\" and "y" */
	CHECK_INT(v.len, 2 * (3 + 2 + 1));
	lb_reg_value_release(&v);
	CHECK_INT(lb_reg_value_parse("multi_sz:", &v), 0);
	CHECK_INT(v.len, 2);
	lb_reg_value_release(&v);

	CHECK_INT(lb_reg_value_parse("binary:0a0B,ff", &v), 0);
	CHECK_INT(v.type, LB_REG_BINARY);
	CHECK(v.data && v.len == 3 && v.data[0] == 0x0a && v.data[1] == 0x0b && v.data[2] == 0xff);
	CHECK_STR(lb_reg_value_format(&v, out, sizeof(out)), "binary:0a0bff");
	lb_reg_value_release(&v);
	CHECK_INT(lb_reg_value_parse("binary:", &v), 0);
	CHECK_INT(v.len, 0);
	lb_reg_value_release(&v);
	CHECK_INT(lb_reg_value_parse("none:", &v), 0);
	CHECK_INT(v.type, LB_REG_NONE);
	lb_reg_value_release(&v);

	/* strict: each error names the problem */
	CHECK_INT(lb_reg_value_parse("dword:", &v), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "no number");
	CHECK_INT(lb_reg_value_parse("dword:-1", &v), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "not a number");
	CHECK_INT(lb_reg_value_parse("dword: 4", &v), -EINVAL);
	CHECK_INT(lb_reg_value_parse("dword:4x", &v), -EINVAL);
	CHECK_INT(lb_reg_value_parse("dword:0x", &v), -EINVAL);
	CHECK_INT(lb_reg_value_parse("dword:0x1g", &v), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "'g' is not a hex digit");
	CHECK_INT(lb_reg_value_parse("dword:0x100000000", &v), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "larger than 0xffffffff");
	CHECK_INT(lb_reg_value_parse("dword:4294967296", &v), -EINVAL);
	CHECK_INT(lb_reg_value_parse("qword:18446744073709551616", &v), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "too large");
	CHECK_INT(lb_reg_value_parse("qword:0x10000000000000000", &v), -EINVAL);
	CHECK_INT(lb_reg_value_parse("word:4", &v), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "unknown type 'word'");
	CHECK_INT(lb_reg_value_parse("4", &v), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "no type");
	CHECK_INT(lb_reg_value_parse("", &v), -EINVAL);
	CHECK_INT(lb_reg_value_parse("binary:abc", &v), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "pairs of hex digits");
	CHECK_INT(lb_reg_value_parse("binary:zz", &v), -EINVAL);
	CHECK_INT(lb_reg_value_parse("binary:0a,", &v), -EINVAL);
	CHECK_INT(lb_reg_value_parse("binary:0a,,0b", &v), -EINVAL);
	CHECK_INT(lb_reg_value_parse("multi_sz:a,,b", &v), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "empty string");
	CHECK_INT(lb_reg_value_parse("multi_sz:a,", &v), -EINVAL);
	CHECK_INT(lb_reg_value_parse("sz:\xff", &v), -EINVAL);
	CHECK_CONTAINS(lb_err_last()->problem, "UTF-8");
	CHECK_INT(lb_reg_value_parse("sz:\xed\xa0\x80", &v), -EINVAL); /* a surrogate */
	CHECK_INT(lb_reg_value_parse("sz:\xc0\xaf", &v), -EINVAL);     /* overlong */
	CHECK_INT(lb_reg_value_parse("none:x", &v), -EINVAL);
	CHECK(v.data == NULL && v.len == 0);
}

static void test_reg_value_format(void)
{
	uint8_t d[4] = {1, 2, 3, 4}, big[100];
	struct lb_reg_value v = {.type = LB_REG_DWORD, .data = d, .len = 3};
	char out[300], small[8];

	CHECK_STR(lb_reg_value_format(&v, out, sizeof(out)), "hex(4):010203");
	v.type = LB_REG_DWORD_BE;
	v.len = 4;
	CHECK_STR(lb_reg_value_format(&v, out, sizeof(out)), "dword_be:0x01020304 (16909060)");
	v.type = (enum lb_reg_type)9;
	CHECK_STR(lb_reg_value_format(&v, out, sizeof(out)), "hex(9):01020304");
	CHECK_STR(lb_reg_type_name(v.type), "REG_FULL_RESOURCE_DESCRIPTOR");
	CHECK_STR(lb_reg_type_name(LB_REG_EXPAND_SZ), "REG_EXPAND_SZ");
	CHECK_STR(lb_reg_type_name((enum lb_reg_type)77), "REG_UNKNOWN");
	memset(big, 0xab, sizeof(big));
	v.type = LB_REG_BINARY;
	v.data = big;
	v.len = sizeof(big);
	lb_reg_value_format(&v, out, sizeof(out));
	CHECK_CONTAINS(out, "abab... (100 bytes)");
	/* always terminated, even when short */
	CHECK_INT(strlen(lb_reg_value_format(&v, small, sizeof(small))), sizeof(small) - 1);
	/* a string without terminator, odd length, with a control character */
	{
		uint8_t s[] = {'h', 0, '\n', 0, 'i', 0, 'x'};
		struct lb_reg_value w = {.type = LB_REG_SZ, .data = s, .len = sizeof(s)};

		CHECK_STR(lb_reg_value_format(&w, out, sizeof(out)), "sz:\"h\\x0ai\"");
	}
}

/* Every allocation failure is reported as -ENOMEM, and nothing leaks (valgrind-check). */
static void test_reg_alloc_failures(void)
{
	static const char *const specs[] = {"multi_sz:a,b\\,c", "sz:text", "binary:0102"};
	struct lb_reg_value v;
	unsigned long n;
	int r = -1;

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		for (n = 1; n < 50; n++) {
			lb_test_alloc_fail_at(n);
			r = lb_reg_value_parse(specs[i], &v);
			lb_test_alloc_fail_at(0);
			if (r == 0)
				break;
			CHECK_INT(r, -ENOMEM);
		}
		CHECK_INT(r, 0);
		lb_reg_value_release(&v);
	}
}

/* ---- hives --------------------------------------------------------------------- */

static void check_value(struct lb_hive *h, const char *key, const char *name, int type,
			const void *data, size_t len)
{
	struct lb_reg_value v;

	CHECK_INT(lb_hive_get_value(h, key, name, &v), 0);
	CHECK_INT(v.type, type);
	CHECK_INT(v.len, len);
	CHECK(v.data && v.len == len && !memcmp(v.data, data, len));
	lb_reg_value_release(&v);
}

static const char csa[] = "ControlSet002\\Services\\CSAgent";
static const uint8_t depend[] = {'F', 0, 'l', 0, 't', 0, 'M', 0, 'g', 0, 'r', 0, 0, 0,
				 'T', 0, 'c', 0, 'p', 0, 'i', 0, 'p', 0, 0,   0, 0, 0};

/* The values of CSAgent other than Start, as the script wrote them. */
static void check_others(struct lb_hive *h)
{
	static const char image[] = "%SystemRoot%\\System32\\drivers\\CrowdStrike\\csagent.sys";
	uint8_t u[2 * sizeof(image)];

	for (size_t i = 0; i < sizeof(image); i++)
		lb_put_le16(u + 2 * i, (uint8_t)image[i]);
	check_value(h, csa, "ImagePath", LB_REG_EXPAND_SZ, u, sizeof(u));
	check_value(h, csa, "displayname", LB_REG_SZ,
		    "C\0r\0o\0w\0d\0S\0t\0r\0i\0k\0e\0 \0F\0a\0l\0c\0o\0n\0\0", 38);
	check_value(h, csa, "DependOnService", LB_REG_MULTI_SZ, depend, sizeof(depend));
	check_value(h, csa, "Blob", LB_REG_BINARY, "\xde\xad\xbe\xef", 4);
	check_value(h, csa, "", LB_REG_SZ, "d\0e\0f\0a\0u\0l\0t\0 \0t\0e\0x\0t\0\0", 26);
}

static void test_hive_read(void)
{
	struct lb_hive *h = NULL;
	struct lb_reg_value *vals = NULL;
	char **names = NULL;
	size_t len = 0, n = 0;
	char key[256], fmt[128];
	uint8_t *data;

	if (!tools())
		return;
	data = system_hive(&len);
	CHECK(data != NULL);
	if (!data)
		return;
	CHECK_INT(lb_hive_load_mem(data, len, false, &h), 0);
	free(data);
	if (!h)
		return;
	CHECK(!lb_hive_was_dirty(h));
	CHECK(!lb_hive_changed(h));

	CHECK_INT(lb_hive_resolve_ccs(h, "CurrentControlSet\\Services\\CSAgent", key, sizeof(key)),
		  0);
	CHECK_STR(key, "ControlSet002\\Services\\CSAgent");
	CHECK_INT(lb_hive_resolve_ccs(h, "currentcontrolset", key, sizeof(key)), 0);
	CHECK_STR(key, "ControlSet002");
	CHECK_INT(lb_hive_resolve_ccs(h, "CurrentControlSetX\\a", key, sizeof(key)), 0);
	CHECK_STR(key, "CurrentControlSetX\\a");
	CHECK_INT(lb_hive_resolve_ccs(h, "ControlSet001\\Services", key, sizeof(key)), 0);
	CHECK_STR(key, "ControlSet001\\Services");
	CHECK_INT(lb_hive_resolve_ccs(h, "CurrentControlSet\\Services", key, 10), -ENAMETOOLONG);

	check_value(h, csa, "Start", LB_REG_DWORD, "\1\0\0\0", 4);
	check_value(h, "controlset001\\SERVICES\\csagent", "start", LB_REG_DWORD, "\1\0\0\0", 4);
	check_others(h);

	CHECK_INT(lb_hive_get_values(h, csa, &vals, &n), 0);
	CHECK_INT(n, 6);
	if (n == 6) {
		CHECK_STR(vals[0].name, "Start");
		CHECK_STR(vals[1].name, "ImagePath");
		CHECK_STR(vals[5].name, "");
		CHECK_STR(lb_reg_value_format(&vals[0], fmt, sizeof(fmt)), "dword:0x00000001 (1)");
		CHECK_STR(lb_reg_value_format(&vals[3], fmt, sizeof(fmt)),
			  "multi_sz:\"FltMgr\",\"Tcpip\"");
	}
	lb_reg_values_free(vals, n);

	CHECK_INT(lb_hive_get_subkeys(h, "ControlSet002\\Services", &names, &n), 0);
	CHECK_INT(n, 2);
	if (n == 2)
		CHECK((!strcmp(names[0], "CSAgent") && !strcmp(names[1], "Other")) ||
		      (!strcmp(names[1], "CSAgent") && !strcmp(names[0], "Other")));
	lb_strv_free(names, n);
	CHECK_INT(lb_hive_get_subkeys(h, "", &names, &n), 0);
	CHECK_INT(n, 3);
	lb_strv_free(names, n);
	CHECK_INT(lb_hive_get_subkeys(h, "ControlSet002\\Services\\CSAgent", &names, &n), 0);
	CHECK_INT(n, 0);
	lb_strv_free(names, n);

	{
		struct lb_reg_value v;

		CHECK_INT(lb_hive_get_value(h, csa, "Nope", &v), -ENOENT);
		CHECK_CONTAINS(lb_err_last()->problem, "Nope");
		CHECK_INT(lb_hive_get_value(h, "ControlSet002\\Nope", "Start", &v), -ENOENT);
		CHECK_CONTAINS(lb_err_last()->problem, "Nope");
		CHECK_INT(lb_hive_get_values(h, "Nope", &vals, &n), -ENOENT);
		CHECK_INT(lb_hive_get_subkeys(h, "Nope", &names, &n), -ENOENT);
	}
	/* read-only: no changes */
	{
		struct lb_reg_value v = {.name = (char *)"Start",
					 .type = LB_REG_DWORD,
					 .data = (uint8_t *)"\4\0\0\0",
					 .len = 4};

		CHECK_INT(lb_hive_set_value(h, csa, &v, false), -EROFS);
		CHECK_INT(lb_hive_delete_value(h, csa, "Start"), -EROFS);
		CHECK(!lb_hive_changed(h));
	}
	/* serialize of a read-only hive gives the bytes back */
	{
		uint8_t *out = NULL;
		size_t olen = 0;
		uint8_t *orig = lb_test_read_file(tmp("SYSTEM"), &len);

		CHECK_INT(lb_hive_serialize(h, &out, &olen), 0);
		CHECK(orig && out && olen == len && !memcmp(orig, out, len));
		free(out);
		free(orig);
	}
	/*
	 * allocation failures while reading fail cleanly (hivex reports some of
	 * its own as "not found" or as a bad name, so only the sign is checked)
	 */
	for (unsigned long k = 1; k < 200; k++) {
		int r;

		lb_test_alloc_fail_at(k);
		r = lb_hive_get_values(h, csa, &vals, &n);
		lb_test_alloc_fail_at(0);
		if (r == 0) {
			CHECK_INT(n, 6);
			lb_reg_values_free(vals, n);
			break;
		}
		CHECK(r < 0 && vals == NULL && n == 0);
	}
	lb_hive_free(h);

	/* a hive without Select\Current (not a SYSTEM hive) */
	h = NULL;
	CHECK(make_hive(tmp("EMPTY"), "ROOT", NULL));
	data = lb_test_read_file(tmp("EMPTY"), &len);
	CHECK_INT(lb_hive_load_mem(data, len, false, &h), 0);
	free(data);
	if (h) {
		CHECK_INT(lb_hive_resolve_ccs(h, "CurrentControlSet\\Services", key, sizeof(key)),
			  -ENOENT);
		CHECK_CONTAINS(lb_err_last()->problem, "Select\\Current");
		CHECK_INT(lb_hive_get_subkeys(h, "", &names, &n), 0);
		CHECK_INT(n, 0);
		lb_strv_free(names, n);
	}
	lb_hive_free(h);
	lb_hive_free(NULL);
}

static void test_hive_write(void)
{
	static const char *const specs[] = {
		"dword:0x12345678",
		"qword:1099511627776",
		"sz:Falcon \xc3\xa9t\xc3\xa9",
		"expand_sz:%ProgramFiles%\\x",
		"multi_sz:one,two",
		"binary:00ff10",
		"none:",
	};
	static const char *const names[] = {"NewDword", "NewQword",  "NewSz",  "NewExpand",
					    "NewMulti", "NewBinary", "NewNone"};
	struct lb_hive *h = NULL, *h2 = NULL;
	struct lb_reg_value v, *vals = NULL;
	uint8_t *data, *out = NULL;
	size_t len = 0, olen = 0, n = 0;
	char *text;

	if (!tools())
		return;
	data = system_hive(&len);
	CHECK(data != NULL);
	if (!data)
		return;
	CHECK_INT(lb_hive_load_mem(data, len, true, &h), 0);
	free(data);
	if (!h)
		return;

	/* Start=dword:4 keeps every other value */
	CHECK_INT(lb_reg_value_parse("dword:4", &v), 0);
	v.name = strdup("Start");
	CHECK_INT(lb_hive_set_value(h, csa, &v, false), 0);
	lb_reg_value_release(&v);
	CHECK(lb_hive_changed(h));
	check_value(h, csa, "Start", LB_REG_DWORD, "\4\0\0\0", 4);
	check_others(h);
	check_value(h, "ControlSet001\\Services\\CSAgent", "Start", LB_REG_DWORD, "\1\0\0\0", 4);

	/* one new value of each type */
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		CHECK_INT(lb_reg_value_parse(specs[i], &v), 0);
		v.name = strdup(names[i]);
		CHECK_INT(lb_hive_set_value(h, csa, &v, false), 0);
		check_value(h, csa, names[i], v.type, v.data, v.len);
		lb_reg_value_release(&v);
	}
	CHECK_INT(lb_hive_get_values(h, csa, &vals, &n), 0);
	CHECK_INT(n, 13);
	lb_reg_values_free(vals, n);

	/* delete one value; the rest stay */
	CHECK_INT(lb_hive_delete_value(h, csa, "blob"), 0);
	CHECK_INT(lb_hive_get_value(h, csa, "Blob", &v), -ENOENT);
	CHECK_INT(lb_hive_delete_value(h, csa, "Blob"), -ENOENT);
	CHECK_INT(lb_hive_delete_value(h, "ControlSet002\\Nope", "Blob"), -ENOENT);
	CHECK_INT(lb_hive_get_values(h, csa, &vals, &n), 0);
	CHECK_INT(n, 12);
	lb_reg_values_free(vals, n);
	check_value(h, csa, "Start", LB_REG_DWORD, "\4\0\0\0", 4);
	check_value(h, csa, "DependOnService", LB_REG_MULTI_SZ, depend, sizeof(depend));

	/* missing keys: only created when asked */
	CHECK_INT(lb_reg_value_parse("sz:made", &v), 0);
	v.name = strdup("Made");
	CHECK_INT(lb_hive_set_value(h, "ControlSet002\\Services\\New\\Deeper", &v, false), -ENOENT);
	CHECK_INT(lb_hive_set_value(h, "ControlSet002\\Services\\New\\Deeper", &v, true), 0);
	lb_reg_value_release(&v);
	check_value(h, "ControlSet002\\Services\\New\\Deeper", "Made", LB_REG_SZ, "m\0a\0d\0e\0\0",
		    10);

	/* round trip: serialize and load again */
	CHECK_INT(lb_hive_serialize(h, &out, &olen), 0);
	CHECK(out && olen >= 8192 && lb_le32(out + 4) == lb_le32(out + 8));
	CHECK_INT(lb_hive_load_mem(out, olen, false, &h2), 0);
	if (h2) {
		check_value(h2, csa, "Start", LB_REG_DWORD, "\4\0\0\0", 4);
		check_value(h2, csa, "NewQword", LB_REG_QWORD, "\0\0\0\0\0\1\0\0", 8);
		CHECK_INT(lb_hive_get_value(h2, csa, "Blob", &v), -ENOENT);
		check_value(h2, "ControlSet002\\Services\\New\\Deeper", "Made", LB_REG_SZ,
			    "m\0a\0d\0e\0\0", 10);
		lb_hive_free(h2);
	}
	/* and through an independent reader */
	write_file(tmp("SYSTEM.out"), out, olen);
	text = capture("hivexget '%s' '\\ControlSet002\\Services\\CSAgent' 2>&1",
		       tmp("SYSTEM.out"));
	CHECK_CONTAINS(text, "\"Start\"=dword:00000004");
	CHECK_CONTAINS(text, "\"NewDword\"=dword:12345678");
	CHECK_CONTAINS(text, "\"DisplayName\"=\"CrowdStrike Falcon\"");
	CHECK_CONTAINS(text, "\"NewBinary\"=hex(3):00,ff,10");
	CHECK_CONTAINS(text, "\"@\"=\"default text\"");
	CHECK(text && !strstr(text, "Blob"));
	free(text);
	text = capture("hivexget '%s' '\\ControlSet002\\Services\\CSAgent' NewSz 2>&1",
		       tmp("SYSTEM.out"));
	CHECK_STR(text, "Falcon \xc3\xa9t\xc3\xa9\n");
	free(text);
	text = capture("hivexget '%s' '\\ControlSet001\\Services\\CSAgent' Start 2>&1",
		       tmp("SYSTEM.out"));
	CHECK_STR(text, "1\n");
	free(text);
	free(out);
	/* a hive from memory has no file to store to */
	CHECK_INT(lb_hive_store(h), -EINVAL);
	lb_hive_free(h);
}

static void test_hive_corrupt(void)
{
	struct lb_hive *h = NULL;
	uint8_t *data, *bad;
	size_t len = 0;

	if (!tools())
		return;
	data = system_hive(&len);
	CHECK(data != NULL);
	if (!data)
		return;
	bad = malloc(len);
	if (!bad)
		abort();

	memcpy(bad, data, len);
	memcpy(bad, "regx", 4);
	CHECK_INT(lb_hive_load_mem(bad, len, false, &h), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "regf");

	memcpy(bad, data, len);
	bad[0x1fc] ^= 0x55; /* checksum */
	CHECK_INT(lb_hive_load_mem(bad, len, false, &h), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "hivex");

	memcpy(bad, data, len);
	memcpy(bad + 0x1000, "hbix", 4); /* the first bin */
	CHECK_INT(lb_hive_load_mem(bad, len, true, &h), -EBADMSG);

	memcpy(bad, data, len);
	lb_put_le32(bad + 0x24, 0x7ffffff0); /* the root cell, far outside */
	fix_checksum(bad);
	CHECK_INT(lb_hive_load_mem(bad, len, false, &h), -EBADMSG);

	CHECK_INT(lb_hive_load_mem(data, 4096, false, &h), -EBADMSG); /* truncated */
	CHECK_INT(lb_hive_load_mem(data, 0, false, &h), -EBADMSG);
	/* the cap is checked before anything is read */
	CHECK_INT(lb_hive_load_mem(data, (size_t)LB_HIVE_MAX + 1, false, &h), -EFBIG);
	CHECK(h == NULL);
	free(bad);
	free(data);
}

static void test_hive_dirty(void)
{
	struct lb_hive *h = NULL;
	uint8_t *data, *out = NULL;
	size_t len = 0, olen = 0;

	if (!tools())
		return;
	data = system_hive(&len);
	CHECK(data != NULL);
	if (!data)
		return;
	lb_put_le32(data + 4, lb_le32(data + 8) + 3); /* primary ahead of secondary */
	fix_checksum(data);
	CHECK_INT(lb_hive_load_mem(data, len, true, &h), 0);
	if (h) {
		CHECK(lb_hive_was_dirty(h));
		check_value(h, csa, "Start", LB_REG_DWORD, "\1\0\0\0", 4);
		/* committing makes the numbers equal again */
		CHECK_INT(lb_hive_serialize(h, &out, &olen), 0);
		CHECK(out && lb_le32(out + 4) == lb_le32(out + 8));
		free(out);
		lb_hive_free(h);
	}
	free(data);
}

/* ---- stored into a volume -------------------------------------------------------- */

static void test_hive_store_ext4(void)
{
	const char *cfg = "Windows/System32/config/SYSTEM";
	struct lb_dev *dev = NULL;
	struct lb_fs *fs = NULL;
	struct lb_hive *h = NULL;
	struct lb_reg_value v;
	struct lb_reg_path rp;
	char key[256], *text;
	bool dirty = true;
	const char *img = tmp("vol.img");

	if (!tools())
		return;
	if (run("command -v mke2fs >/dev/null && command -v debugfs >/dev/null")) {
		printf("# e2fsprogs missing: skipped\n");
		return;
	}
	CHECK_INT(run("mkdir -p '%s/Windows/System32/config'", tmp("tree")), 0);
	CHECK(make_hive(tmp("tree/Windows/System32/config/SYSTEM"), "SYSTEM", system_script));
	CHECK_INT(run("mke2fs -q -F -t ext4 -d '%s' '%s' 16M >/dev/null 2>&1", tmp("tree"), img),
		  0);
	CHECK_INT(lb_file_dev_open(img, false, &dev), 0);
	if (!dev)
		return;
	CHECK_INT(lb_fs_open(dev, 0, &fs), 0);
	if (!fs) {
		lb_dev_unref(dev);
		return;
	}
	/* what --reg-set does */
	CHECK_INT(lb_reg_path_parse("HKLM\\SYSTEM\\CurrentControlSet\\Services\\CSAgent\\Start",
				    true, &rp),
		  0);
	CHECK_STR(rp.hive_file, cfg);
	CHECK_INT(lb_hive_load(fs, rp.hive_file, true, &h, &dirty), 0);
	CHECK(!dirty);
	if (h) {
		CHECK_INT(lb_hive_store(h), 0); /* nothing changed: nothing written */
		CHECK_INT(lb_hive_resolve_ccs(h, rp.key, key, sizeof(key)), 0);
		CHECK_STR(key, csa);
		CHECK_INT(lb_reg_value_parse("dword:4", &v), 0);
		v.name = strdup(rp.value);
		CHECK_INT(lb_hive_set_value(h, key, &v, false), 0);
		lb_reg_value_release(&v);
		CHECK_INT(lb_hive_store(h), 0);
		CHECK(!lb_hive_changed(h));
		lb_hive_free(h);
	}
	CHECK_INT(lb_hive_load(fs, "Windows/System32/config/NOPE", false, &h, NULL), -ENOENT);
	CHECK_INT(lb_hive_load(fs, "Windows/System32", false, &h, NULL), -EISDIR);
	CHECK_INT(lb_fs_close(fs), 0);

	/* read back through lifeboat, read-only */
	fs = NULL;
	h = NULL;
	CHECK_INT(lb_fs_open(dev, LB_FS_RDONLY, &fs), 0);
	if (fs) {
		CHECK_INT(lb_hive_load(fs, cfg, true, &h, NULL), 0);
		if (h) {
			check_value(h, csa, "Start", LB_REG_DWORD, "\4\0\0\0", 4);
			check_others(h);
			/* a writable hive on a read-only volume: storing fails cleanly */
			CHECK_INT(lb_hive_delete_value(h, csa, "Blob"), 0);
			CHECK_INT(lb_hive_store(h), -EROFS);
			lb_hive_free(h);
		}
		CHECK_INT(lb_fs_close(fs), 0);
	}
	lb_dev_unref(dev);

	/* and through independent tools */
	CHECK_INT(run("e2fsck -fn '%s' >/dev/null 2>&1", img), 0);
	CHECK_INT(run("debugfs -R 'dump %s %s' '%s' >/dev/null 2>&1", cfg, tmp("SYSTEM.back"), img),
		  0);
	text = capture("hivexget '%s' '\\ControlSet002\\Services\\CSAgent' 2>&1",
		       tmp("SYSTEM.back"));
	CHECK_CONTAINS(text, "\"Start\"=dword:00000004");
	CHECK_CONTAINS(text, "\"Blob\"=hex(3):de,ad,be,ef");
	CHECK_CONTAINS(text, "\"DisplayName\"=\"CrowdStrike Falcon\"");
	free(text);
}

/* The same on NTFS, where Windows keeps its hives (names in other cases on disk). */
static void test_hive_store_ntfs(void)
{
	const char *vol = tmp("win.ntfs");
	struct lb_dev *dev = NULL;
	struct lb_fs *fs = NULL;
	struct lb_hive *h = NULL;
	struct lb_reg_value v;
	char fixture[1024], *text;
	int fd;

	if (!tools())
		return;
	helper_path("ntfs-fixture", fixture, sizeof(fixture));
	if (access(fixture, X_OK) != 0 ||
	    run("PATH=\"$PATH:/usr/sbin:/sbin\" command -v mkntfs >/dev/null && "
		"command -v ntfscat >/dev/null")) {
		printf("# ntfs-fixture, mkntfs or ntfscat (ntfs-3g) missing: skipped\n");
		return;
	}
	CHECK(make_hive(tmp("SYSTEM.ntfs"), "SYSTEM", system_script));
	fd = open(vol, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && ftruncate(fd, 16 << 20) == 0);
	close(fd);
	CHECK_INT(run("PATH=\"$PATH:/usr/sbin:/sbin\" mkntfs -F -Q -q -L Windows '%s' "
		      ">/dev/null 2>&1",
		      vol),
		  0);
	CHECK_INT(run("'%s' '%s' add Windows/System32/config/SYSTEM --content '%s' >/dev/null",
		      fixture, vol, tmp("SYSTEM.ntfs")),
		  0);
	CHECK_INT(lb_file_dev_open(vol, false, &dev), 0);
	if (!dev)
		return;
	CHECK_INT(lb_fs_open(dev, 0, &fs), 0);
	if (fs) {
		CHECK_INT(lb_hive_load(fs, "windows/system32/CONFIG/system", true, &h, NULL), 0);
		if (h) {
			CHECK_INT(lb_reg_value_parse("dword:4", &v), 0);
			v.name = strdup("Start");
			CHECK_INT(lb_hive_set_value(h, csa, &v, false), 0);
			lb_reg_value_release(&v);
			/* grow the hive past its first bin, so the file gets longer */
			for (int i = 0; i < 64; i++) {
				char name[32];

				snprintf(name, sizeof(name), "Pad%02d", i);
				CHECK_INT(
					lb_reg_value_parse("binary:00112233445566778899aabbccddeeff"
							   "00112233445566778899aabbccddeeff",
							   &v),
					0);
				v.name = strdup(name);
				CHECK_INT(lb_hive_set_value(h, "ControlSet002\\Services\\Other", &v,
							    false),
					  0);
				lb_reg_value_release(&v);
			}
			CHECK_INT(lb_hive_store(h), 0);
			lb_hive_free(h);
		}
		CHECK_INT(lb_fs_close(fs), 0);
	}
	lb_dev_unref(dev);

	CHECK_INT(run("ntfscat '%s' Windows/System32/config/SYSTEM > '%s' 2>/dev/null", vol,
		      tmp("SYSTEM.ntfs.back")),
		  0);
	text = capture("hivexget '%s' '\\ControlSet002\\Services\\CSAgent' 2>&1",
		       tmp("SYSTEM.ntfs.back"));
	CHECK_CONTAINS(text, "\"Start\"=dword:00000004");
	CHECK_CONTAINS(text, "\"ImagePath\"=str(2):");
	CHECK_CONTAINS(text, "\"DependOnService\"=hex(7):46,00,6c,00");
	free(text);
	text = capture("hivexget '%s' '\\ControlSet002\\Services\\Other' 2>&1",
		       tmp("SYSTEM.ntfs.back"));
	CHECK_CONTAINS(text, "\"Pad00\"=hex(3):00,11,22");
	CHECK_CONTAINS(text, "\"Pad63\"=hex(3):00,11,22");
	free(text);
}

LB_TEST_MAIN(T(test_reg_path), T(test_reg_value_parse), T(test_reg_value_format),
	     T(test_reg_alloc_failures), T(test_hive_read), T(test_hive_write),
	     T(test_hive_corrupt), T(test_hive_dirty), T(test_hive_store_ext4),
	     T(test_hive_store_ntfs))
