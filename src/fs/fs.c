/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs.c - the file-system handle: finds the file system by content, hands the
 * work to its backend (fs/ntfs.c, fs/ext4.c), and normalizes every path
 * before a backend sees it.
 */
#include "fs/fs_int.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LB_FS_PATH_MAX 4096

/* Windows paths also separate with '\\'; on ext a backslash is part of a name. */
static bool is_sep_w(char c, bool windows)
{
	return c == '/' || (windows && c == '\\');
}

#define is_sep(c) is_sep_w((c), windows)

static int normalize(const char *in, char *out, size_t cap, bool allow_root, bool windows)
{
	const char *p = in;
	size_t o = 0;

	if (!cap)
		return -ENAMETOOLONG;
	/* "C:" drive prefix */
	if (windows && ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) &&
	    p[1] == ':')
		p += 2;
	/* %SystemRoot% and %windir% are the Windows folder */
	if (windows && p[0] == '%') {
		static const char *const vars[] = {"%systemroot%", "%windir%"};
		bool found = false;

		for (size_t i = 0; i < LB_ARRAY_SIZE(vars); i++) {
			size_t n = strlen(vars[i]);

			if (!strncasecmp(p, vars[i], n) && (!p[n] || is_sep(p[n]))) {
				if (cap < 8)
					return -ENAMETOOLONG;
				memcpy(out, "Windows", 7);
				o = 7;
				p += n;
				found = true;
				break;
			}
		}
		if (!found)
			return lb_err(
				-EINVAL, in, "write the path from the root of the volume",
				"unknown variable (only %%SystemRoot%% and %%windir%% are known)");
	}
	while (*p) {
		const char *s;
		size_t n;

		while (is_sep(*p))
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && !is_sep(*p))
			p++;
		n = (size_t)(p - s);
		if (n == 1 && s[0] == '.')
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return lb_err(-EINVAL, in, "write the path from the root of the volume",
				      "'..' is not allowed in a path");
		if (o + (o ? 1 : 0) + n + 1 > cap)
			return lb_err(-ENAMETOOLONG, in, NULL, "the path is too long");
		if (o)
			out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
	}
	out[o] = '\0';
	if (!o && !allow_root)
		return lb_err(-EINVAL, in, "name a file inside the volume", "the path is empty");
	return 0;
}

#undef is_sep

int lb_path_normalize(const char *in, char *out, size_t cap, bool allow_root)
{
	return normalize(in, out, cap, allow_root, true);
}

/* Classify @dev from its first bytes only (no NTFS mount, unlike lb_fs_probe()). */
static int probe_kind(struct lb_dev *dev, struct lb_fs_info *out)
{
	size_t len = (size_t)LB_MIN(dev->size, (uint64_t)LB_FS_PROBE_LEN);
	_cleanup_free_ uint8_t *buf = malloc(len ? len : 1);
	int r;

	if (!buf)
		return -ENOMEM;
	r = len ? lb_dev_pread(dev, buf, len, 0) : 0;
	if (r < 0)
		return r;
	lb_fs_probe_buf(buf, len, dev->size, out);
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
	return 0;
}

int lb_fs_open(struct lb_dev *dev, unsigned flags, struct lb_fs **out)
{
	struct lb_fs_info probe;
	struct lb_fs *fs;
	int r;

	if (!(flags & LB_FS_RDONLY) && dev->read_only)
		return lb_err(-EROFS, dev->name, NULL, "the device is read-only");
	r = probe_kind(dev, &probe);
	if (r < 0)
		return r;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->dev = lb_dev_ref(dev);
	fs->read_only = flags & LB_FS_RDONLY;
	switch (probe.kind) {
	case LB_FS_NTFS:
		r = lb_ntfs_fs_open(fs, flags);
		break;
	case LB_FS_EXT2:
	case LB_FS_EXT3:
	case LB_FS_EXT4:
		r = lb_ext_fs_open(fs, flags);
		break;
	case LB_FS_BITLOCKER:
		r = lb_err(-EPERM, "BitLocker volume", "unlock it in Windows, or decrypt it first",
			   "the volume is encrypted with BitLocker; lifeboat cannot read it yet");
		break;
	default:
		r = lb_err(-EMEDIUMTYPE, lb_fs_kind_name(probe.kind),
			   "name an NTFS or ext partition ('lifeboat inspect' lists them)",
			   "lifeboat reads files on NTFS and ext2/3/4 only");
		break;
	}
	if (r < 0) {
		lb_dev_unref(fs->dev);
		free(fs);
		return r;
	}
	*out = fs;
	return 0;
}

int lb_fs_new(const struct lb_fs_ops *ops, void *priv, const struct lb_fs_open_info *info,
	      struct lb_fs **out)
{
	struct lb_fs *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return -ENOMEM;
	fs->ops = ops;
	fs->priv = priv;
	fs->read_only = true;
	fs->info = *info;
	*out = fs;
	return 0;
}

int lb_fs_close(struct lb_fs *fs)
{
	int r;

	if (!fs)
		return 0;
	r = fs->ops->close(fs);
	lb_dev_unref(fs->dev);
	free(fs);
	return r;
}

const struct lb_fs_open_info *lb_fs_info(const struct lb_fs *fs)
{
	return &fs->info;
}

bool lb_fs_case_insensitive(const struct lb_fs *fs)
{
	return fs->ops->case_insensitive;
}

uint32_t lb_fs_upcase(const struct lb_fs *fs, uint32_t cp)
{
	return fs->ops->upcase ? fs->ops->upcase(fs, cp) : cp;
}

/* Normalize @path into a heap buffer the backend can split on '/'. */
static int norm(const struct lb_fs *fs, const char *path, bool allow_root, char **out)
{
	size_t cap = strlen(path) + 16;
	char *p;
	int r;

	if (cap > LB_FS_PATH_MAX)
		return lb_err(-ENAMETOOLONG, path, NULL, "the path is too long");
	p = malloc(cap);
	if (!p)
		return -ENOMEM;
	r = normalize(path, p, cap, allow_root, fs->ops->case_insensitive);
	if (r < 0) {
		free(p);
		return r;
	}
	*out = p;
	return 0;
}

int lb_fs_stat(struct lb_fs *fs, const char *path, struct lb_fs_stat *st, char *stored,
	       size_t stored_cap)
{
	_cleanup_free_ char *p = NULL;
	int r = norm(fs, path, true, &p);

	if (r < 0)
		return r;
	return fs->ops->stat(fs, p, st, stored, stored_cap);
}

int lb_fs_readdir(struct lb_fs *fs, const char *path, lb_fs_dir_fn fn, void *opaque)
{
	_cleanup_free_ char *p = NULL;
	int r = norm(fs, path, true, &p);

	if (r < 0)
		return r;
	return fs->ops->readdir(fs, p, fn, opaque);
}

ssize_t lb_fs_pread(struct lb_fs *fs, const char *path, void *buf, size_t len, uint64_t off)
{
	_cleanup_free_ char *p = NULL;
	int r = norm(fs, path, false, &p);

	if (r < 0)
		return r;
	return fs->ops->pread(fs, p, buf, len, off);
}

ssize_t lb_fs_readlink(struct lb_fs *fs, const char *path, char *buf, size_t cap)
{
	_cleanup_free_ char *p = NULL;
	int r = norm(fs, path, false, &p);

	if (r < 0)
		return r;
	if (!fs->ops->readlink)
		return lb_err(-EINVAL, path, NULL, "not a symbolic link");
	return fs->ops->readlink(fs, p, buf, cap);
}

int lb_fs_unlink(struct lb_fs *fs, const char *path)
{
	_cleanup_free_ char *p = NULL;
	int r;

	if (fs->read_only)
		return lb_err(-EROFS, path, NULL, "the volume is open read-only");
	r = norm(fs, path, false, &p);
	if (r < 0)
		return r;
	return fs->ops->unlink(fs, p);
}

int lb_fs_replace(struct lb_fs *fs, const char *path, const void *data, size_t len)
{
	_cleanup_free_ char *p = NULL;
	int r;

	if (fs->read_only)
		return lb_err(-EROFS, path, NULL, "the volume is open read-only");
	r = norm(fs, path, false, &p);
	if (r < 0)
		return r;
	return fs->ops->replace(fs, p, data, len);
}
