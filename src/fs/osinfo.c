/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * osinfo.c - which operating system a volume holds, read-only and quick: a
 * few lookups and at most one hive or one small text file.
 *
 * Windows: a Windows/System32 directory; name and build from the SOFTWARE
 * hive (Microsoft\Windows NT\CurrentVersion). Linux: os-release (etc/, then
 * usr/lib/), following symlinks inside the volume.
 */
#include "fs/osinfo.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/util.h"
#include "fs/fs.h"
#include "fs/hive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OS_RELEASE_MAX (64u * 1024)
#define LINK_DEPTH 8
#define WIN_KEY "Microsoft\\Windows NT\\CurrentVersion"

/* ---- Windows ------------------------------------------------------------- */

/* A REG_SZ/REG_EXPAND_SZ value as UTF-8 in @out; false if absent or another type. */
static bool hive_string(struct lb_hive *h, const char *name, char *out, size_t cap)
{
	struct lb_reg_value v;
	bool ok = false;

	out[0] = '\0';
	if (lb_hive_get_value(h, WIN_KEY, name, &v) < 0)
		return false;
	if ((v.type == LB_REG_SZ || v.type == LB_REG_EXPAND_SZ) && v.len >= 2) {
		lb_utf16le_to_utf8(v.data, v.len / 2, out, cap);
		ok = out[0] != '\0';
	}
	lb_reg_value_release(&v);
	return ok;
}

static int detect_windows(struct lb_fs *fs, struct lb_os_info *out)
{
	char product[128], build[32], display[32], edition[64];
	struct lb_hive *h = NULL;
	uint64_t b = 0;
	struct lb_error saved;
	int r;

	snprintf(out->family, sizeof(out->family), "windows");
	lb_err_save(&saved);
	r = lb_hive_load(fs, "Windows/System32/config/SOFTWARE", false, &h, NULL);
	if (r < 0) {
		/* still Windows, just not which one */
		lb_err_restore(&saved);
		snprintf(out->name, sizeof(out->name), "Windows (version unknown)");
		return 0;
	}
	if (!hive_string(h, "CurrentBuild", build, sizeof(build)))
		hive_string(h, "CurrentBuildNumber", build, sizeof(build));
	if (!hive_string(h, "DisplayVersion", display, sizeof(display)))
		hive_string(h, "ReleaseId", display, sizeof(display));
	hive_string(h, "EditionID", edition, sizeof(edition));
	if (!hive_string(h, "ProductName", product, sizeof(product))) {
		if (edition[0])
			snprintf(product, sizeof(product), "Windows %s", edition);
		else
			snprintf(product, sizeof(product), "Windows (version unknown)");
	}
	lb_hive_free(h);
	lb_err_restore(&saved);

	/*
	 * Windows 11 kept "Windows 10" in ProductName; its builds start at
	 * 22000, so the build tells them apart.
	 */
	if (build[0] && lb_parse_u64(build, &b) == 0 && b >= 22000 &&
	    !strncmp(product, "Windows 10", 10))
		snprintf(out->name, sizeof(out->name), "Windows 11%s", product + 10);
	else
		snprintf(out->name, sizeof(out->name), "%s", product);
	/* the build is what scripts compare; the marketing version only when it is missing */
	snprintf(out->version, sizeof(out->version), "%s", build[0] ? build : display);
	return 0;
}

/* ---- Linux ----------------------------------------------------------------- */

/*
 * Resolve symlink target @target of the link at @link (both volume paths)
 * into @out, inside the volume: absolute targets start at the volume's root,
 * relative ones at the link's directory; ".." stops at the root.
 */
static int join_link(const char *link, const char *target, char *out, size_t cap)
{
	char buf[1024];
	size_t n = 0;
	const char *p;

	if (target[0] != '/') {
		const char *slash = strrchr(link, '/');
		size_t dl = slash ? (size_t)(slash - link) : 0;

		if (dl + 1 >= sizeof(buf))
			return -ENAMETOOLONG;
		memcpy(buf, link, dl);
		n = dl;
	}
	buf[n] = '\0';
	for (p = target; *p;) {
		const char *s;
		size_t l;

		while (*p == '/')
			p++;
		s = p;
		while (*p && *p != '/')
			p++;
		l = (size_t)(p - s);
		if (!l || (l == 1 && s[0] == '.'))
			continue;
		if (l == 2 && s[0] == '.' && s[1] == '.') {
			char *up = strrchr(buf, '/');

			n = up ? (size_t)(up - buf) : 0;
			buf[n] = '\0';
			continue;
		}
		if (n + 1 + l + 1 > sizeof(buf))
			return -ENAMETOOLONG;
		if (n)
			buf[n++] = '/';
		memcpy(buf + n, s, l);
		n += l;
		buf[n] = '\0';
	}
	if (n + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(out, buf, n + 1);
	return 0;
}

/* Read the regular file at @path, following up to LINK_DEPTH symlinks. */
static int read_followed(struct lb_fs *fs, const char *path, char *buf, size_t cap, size_t *len)
{
	char cur[1024], target[1024];
	struct lb_fs_stat st;
	ssize_t n;
	int r;

	snprintf(cur, sizeof(cur), "%s", path);
	for (int depth = 0;; depth++) {
		r = lb_fs_stat(fs, cur, &st, NULL, 0);
		if (r < 0)
			return r;
		if (st.type == LB_FT_FILE)
			break;
		if (st.type != LB_FT_SYMLINK || depth == LINK_DEPTH)
			return -ENOENT;
		n = lb_fs_readlink(fs, cur, target, sizeof(target));
		if (n < 0)
			return (int)n;
		r = join_link(cur, target, cur, sizeof(cur));
		if (r < 0 || !cur[0])
			return -ENOENT;
	}
	n = lb_fs_pread(fs, cur, buf, cap - 1, 0);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	*len = (size_t)n;
	return 0;
}

/*
 * One os-release value (os-release(5): shell-like assignments): double
 * quotes allow \" \\ \$ \` escapes, single quotes nothing, unquoted values
 * may escape one character with '\'. Writes the unquoted text to @out.
 */
static void unquote(const char *s, const char *end, char *out, size_t cap)
{
	size_t o = 0;
	char q = 0;

	for (; s < end; s++) {
		char c = *s;

		if (!q && (c == '"' || c == '\'')) {
			q = c;
			continue;
		}
		if (q && c == q) {
			q = 0;
			continue;
		}
		if (c == '\\' && q != '\'' && s + 1 < end && (!q || strchr("\"\\$`", s[1]))) {
			c = *++s;
		} else if (!q && (c == ' ' || c == '\t')) {
			break; /* an unquoted blank or comment ends the value */
		}
		if (o + 1 < cap && (unsigned char)c >= 0x20)
			out[o++] = c;
	}
	out[o] = '\0';
}

static void os_release_field(const char *text, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	const char *line = text;

	out[0] = '\0';
	while (*line) {
		const char *end = strchr(line, '\n');
		const char *p = line;

		if (!end)
			end = line + strlen(line);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(end - p) > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			unquote(p + kl + 1, end, out, cap); /* the last assignment wins */
		}
		line = *end ? end + 1 : end;
	}
}

static int detect_linux(struct lb_fs *fs, struct lb_os_info *out)
{
	static const char *const where[] = {"etc/os-release", "usr/lib/os-release"};
	_cleanup_free_ char *buf = malloc(OS_RELEASE_MAX + 1);
	char pretty[128], name[128], version[64], version_id[64];
	size_t len = 0;
	int r = -ENOENT;

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < LB_ARRAY_SIZE(where) && r < 0; i++)
		r = read_followed(fs, where[i], buf, OS_RELEASE_MAX + 1, &len);
	if (r < 0)
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
		return r;
	os_release_field(buf, "PRETTY_NAME", pretty, sizeof(pretty));
	os_release_field(buf, "NAME", name, sizeof(name));
	os_release_field(buf, "VERSION", version, sizeof(version));
	os_release_field(buf, "VERSION_ID", version_id, sizeof(version_id));
	snprintf(out->family, sizeof(out->family), "linux");
	if (pretty[0])
		snprintf(out->name, sizeof(out->name), "%s", pretty);
	else if (name[0] && version[0])
		snprintf(out->name, sizeof(out->name), "%s %s", name, version);
	else
		snprintf(out->name, sizeof(out->name), "%s", name[0] ? name : "Linux");
	snprintf(out->version, sizeof(out->version), "%s", version_id);
	return 0;
}

/* ---- the hook ------------------------------------------------------------------ */

int lb_os_detect(struct lb_dev *dev, const struct lb_fs_info *info, struct lb_os_info *out)
{
	struct lb_fs *fs = NULL;
	struct lb_fs_stat st;
	struct lb_error saved;
	int r;

	memset(out, 0, sizeof(*out));
	switch (info->kind) {
	case LB_FS_NTFS:
	case LB_FS_EXT2:
	case LB_FS_EXT3:
	case LB_FS_EXT4:
		break;
	default:
		return lb_err(-ENOTSUP, lb_fs_kind_name(info->kind), NULL,
			      "operating system detection reads NTFS and ext2/3/4 volumes only");
	}
	r = lb_fs_open(dev, LB_FS_RDONLY, &fs);
	if (r < 0)
		return r;
	lb_err_save(&saved);
	if (lb_fs_stat(fs, "Windows/System32", &st, NULL, 0) == 0 && st.type == LB_FT_DIR) {
		r = detect_windows(fs, out);
	} else {
		r = detect_linux(fs, out);
		if (r == -ENOENT || r == -ENOTDIR) {
			lb_err_restore(&saved);
			r = lb_err(-ENOENT, dev->name, NULL,
				   "no operating system found (neither Windows/System32 nor "
				   "etc/os-release)");
		}
	}
	lb_fs_close(fs); /* read-only: nothing to write back */
	if (r < 0)
		memset(out, 0, sizeof(*out));
	return r;
}
