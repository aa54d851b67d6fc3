/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * meta.c - reading and applying the metadata of host files (what a tree
 * blob entry holds), never following a symlink.
 *
 * Extended attributes are read and written through a path built from the
 * directory's descriptor, "/proc/self/fd/<dirfd>/<name>", with the l*xattr
 * calls, which act on the last component itself (a symlink's own
 * attributes): Linux has no *at variant of them before 6.13. /proc must be
 * mounted (it is wherever lifeboat runs).
 *
 * Owner names come from getpwuid_r/getgrgid_r (NSS may be slow: a small
 * per-thread cache remembers the last answers, found or not).
 */
#include "repo/tree.h"

#include "base/cleanup.h"
#include "base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define HINT_SKIP "the entry is skipped"

/* ---- owner names ------------------------------------------------------------------ */

#define OWNER_CACHE 16

struct owner_slot {
	uint32_t id;
	bool used, found;
	char name[LB_TREE_MAX_OWNER + 1];
};

static __thread struct owner_slot user_cache[OWNER_CACHE], group_cache[OWNER_CACHE];
static __thread unsigned user_next, group_next;

/* getpwuid_r / getgrgid_r into a buffer that grows on ERANGE (up to 1 MiB). */
static int lookup_owner(bool group, uint32_t id, char *out, size_t cap)
{
	size_t bufsize = 1024;
	int r = -ENOENT;

	for (;;) {
		char *buf = malloc(bufsize);
		const char *name = NULL;
		int e;

		if (!buf)
			return -ENOMEM;
		if (group) {
			struct group gr, *res = NULL;

			e = getgrgid_r((gid_t)id, &gr, buf, bufsize, &res);
			if (!e && res)
				name = res->gr_name;
		} else {
			struct passwd pw, *res = NULL;

			e = getpwuid_r((uid_t)id, &pw, buf, bufsize, &res);
			if (!e && res)
				name = res->pw_name;
		}
		if (e == ERANGE && bufsize < (1u << 20)) {
			free(buf);
			bufsize *= 4;
			continue;
		}
		if (name && *name && strlen(name) < cap) {
			memcpy(out, name, strlen(name) + 1);
			r = 0;
		}
		free(buf);
		return r;
	}
}

/* The name of uid/gid @id, or NULL (none, or too long). Returns 0 or -ENOMEM. */
static int owner_name(bool group, uint32_t id, char **out)
{
	struct owner_slot *cache = group ? group_cache : user_cache;
	unsigned *next = group ? &group_next : &user_next;
	struct owner_slot *s = NULL;
	int r;

	*out = NULL;
	for (unsigned i = 0; i < OWNER_CACHE; i++)
		if (cache[i].used && cache[i].id == id) {
			s = &cache[i];
			break;
		}
	if (!s) {
		s = &cache[*next];
		*next = (*next + 1) % OWNER_CACHE;
		r = lookup_owner(group, id, s->name, sizeof(s->name));
		if (r == -ENOMEM) {
			s->used = false;
			return r;
		}
		s->used = true;
		s->found = r == 0;
		s->id = id;
	}
	if (!s->found)
		return 0;
	*out = strdup(s->name);
	return *out ? 0 : -ENOMEM;
}

/* The id of user/group @name here, or -ENOENT. */
static int owner_id(bool group, const char *name, uint32_t *id)
{
	size_t bufsize = 1024;

	for (;;) {
		char *buf = malloc(bufsize);
		int e, r = -ENOENT;

		if (!buf)
			return -ENOMEM;
		if (group) {
			struct group gr, *res = NULL;

			e = getgrnam_r(name, &gr, buf, bufsize, &res);
			if (!e && res) {
				*id = res->gr_gid;
				r = 0;
			}
		} else {
			struct passwd pw, *res = NULL;

			e = getpwnam_r(name, &pw, buf, bufsize, &res);
			if (!e && res) {
				*id = res->pw_uid;
				r = 0;
			}
		}
		free(buf);
		if (e == ERANGE && bufsize < (1u << 20)) {
			bufsize *= 4;
			continue;
		}
		return r;
	}
}

/* ---- paths for the xattr calls -------------------------------------------------------- */

static int xattr_path(int dirfd, const char *name, char *out, size_t cap)
{
	int n;

	if (dirfd == AT_FDCWD || name[0] == '/')
		n = snprintf(out, cap, "%s", name);
	else
		n = snprintf(out, cap, "/proc/self/fd/%d/%s", dirfd, name);
	if (n < 0 || (size_t)n >= cap)
		return lb_err(-ENAMETOOLONG, name, NULL, "the path is too long");
	return 0;
}

static enum lb_tree_type type_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return LB_TREE_FILE;
	case S_IFDIR:
		return LB_TREE_DIR;
	case S_IFLNK:
		return LB_TREE_SYMLINK;
	case S_IFCHR:
		return LB_TREE_CHR;
	case S_IFBLK:
		return LB_TREE_BLK;
	case S_IFIFO:
		return LB_TREE_FIFO;
	case S_IFSOCK:
		return LB_TREE_SOCK;
	default:
		return 0;
	}
}

static int cmp_xattr(const void *a, const void *b)
{
	return strcmp(((const struct lb_xattr *)a)->name, ((const struct lb_xattr *)b)->name);
}

/* The list of attribute names (NUL-separated), or none. Returns its length or -errno. */
static ssize_t list_names(const char *path, const char *name, char **out)
{
	*out = NULL;
	for (int tries = 0; tries < 8; tries++) {
		ssize_t n = llistxattr(path, NULL, 0), m;
		char *buf;

		if (n < 0 && (errno == ENOTSUP || errno == ENOSYS))
			return 0;
		if (n < 0)
			return lb_err(-errno, name, HINT_SKIP,
				      "cannot list extended attributes: %s", strerror(errno));
		if (n == 0)
			return 0;
		buf = malloc((size_t)n + 1);
		if (!buf)
			return lb_err(-ENOMEM, name, NULL, "out of memory");
		m = llistxattr(path, buf, (size_t)n);
		if (m < 0) {
			int e = errno;

			free(buf);
			if (e == ERANGE)
				continue; /* grew in between */
			return lb_err(-e, name, HINT_SKIP, "cannot list extended attributes: %s",
				      strerror(e));
		}
		if (m == 0) { /* removed in between */
			free(buf);
			return 0;
		}
		buf[m] = '\0';
		*out = buf;
		return m;
	}
	return lb_err(-EAGAIN, name, HINT_SKIP, "extended attributes keep changing");
}

/* One attribute's value into @x (name set). 0, 1 (gone meanwhile: skip it), -errno. */
static int get_value(const char *path, const char *name, struct lb_xattr *x)
{
	for (int tries = 0; tries < 8; tries++) {
		ssize_t n = lgetxattr(path, x->name, NULL, 0), m;

		if (n < 0 && errno == ENODATA)
			return 1;
		if (n < 0)
			return lb_err(-errno, name, HINT_SKIP, "cannot read attribute %s: %s",
				      x->name, strerror(errno));
		if ((size_t)n > LB_TREE_MAX_XATTR)
			return lb_err(-EOVERFLOW, name, HINT_SKIP,
				      "attribute %s has %zd bytes, at most %u", x->name, n,
				      LB_TREE_MAX_XATTR);
		free(x->value);
		x->value = malloc(n ? (size_t)n : 1);
		if (!x->value)
			return lb_err(-ENOMEM, name, NULL, "out of memory");
		m = lgetxattr(path, x->name, x->value, (size_t)n);
		if (m < 0 && errno == ERANGE)
			continue;
		if (m < 0 && errno == ENODATA)
			return 1;
		if (m < 0)
			return lb_err(-errno, name, HINT_SKIP, "cannot read attribute %s: %s",
				      x->name, strerror(errno));
		x->len = (size_t)m;
		return 0;
	}
	return lb_err(-EAGAIN, name, HINT_SKIP, "attribute %s keeps changing", x->name);
}

static int read_xattrs(int dirfd, const char *name, struct lb_tree_entry *e)
{
	char path[PATH_MAX + 64], *list = NULL;
	size_t count = 0, k = 0;
	ssize_t n;
	int r;

	r = xattr_path(dirfd, name, path, sizeof(path));
	if (r < 0)
		return r;
	n = list_names(path, name, &list);
	if (n <= 0 || !list)
		return (int)n;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(list + i) + 1)
		count += list[i] != '\0';
	if (count > LB_TREE_MAX_XATTRS) {
		free(list);
		return lb_err(-EOVERFLOW, name, HINT_SKIP, "%zu extended attributes, at most %u",
			      count, LB_TREE_MAX_XATTRS);
	}
	e->xattrs = calloc(count ? count : 1, sizeof(*e->xattrs));
	if (!e->xattrs) {
		free(list);
		return lb_err(-ENOMEM, name, NULL, "out of memory");
	}
	for (ssize_t i = 0; i < n && k < count; i += (ssize_t)strlen(list + i) + 1) {
		struct lb_xattr *x = &e->xattrs[k];
		size_t nl = strlen(list + i);

		if (!nl)
			continue;
		if (nl > LB_TREE_MAX_XATTR_NAME) {
			r = lb_err(-EOVERFLOW, name, HINT_SKIP, "an attribute name of %zu bytes",
				   nl);
			goto out;
		}
		x->name = strdup(list + i);
		if (!x->name) {
			r = lb_err(-ENOMEM, name, NULL, "out of memory");
			goto out;
		}
		e->nxattrs = ++k;
		r = get_value(path, name, x);
		if (r < 0)
			goto out;
		if (r == 1) { /* removed since the list was read */
			free(x->name);
			free(x->value);
			memset(x, 0, sizeof(*x));
			e->nxattrs = --k;
		}
	}
	qsort(e->xattrs, e->nxattrs, sizeof(*e->xattrs), cmp_xattr);
	r = 0;
out:
	free(list);
	return r;
}

int lb_meta_read(int dirfd, const char *name, struct lb_tree_entry *e, uint64_t *dev_out,
		 uint64_t *ino_out, uint64_t *nlink_out)
{
	struct stat st;
	int r;

	memset(e, 0, sizeof(*e));
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return lb_err(-errno, name, HINT_SKIP, "cannot stat: %s", strerror(errno));
	e->type = type_of(st.st_mode);
	if (!e->type)
		return lb_err(-ENOTSUP, name, HINT_SKIP, "unknown file type %o",
			      (unsigned)(st.st_mode & S_IFMT));
	e->name = strdup(name);
	if (!e->name)
		return lb_err(-ENOMEM, name, NULL, "out of memory");
	e->mode = st.st_mode & 07777;
	e->uid = st.st_uid;
	e->gid = st.st_gid;
	e->atime = st.st_atim;
	e->mtime = st.st_mtim;
	e->ctime = st.st_ctim;
	if (e->type == LB_TREE_FILE)
		e->size = (uint64_t)st.st_size;
	if (e->type == LB_TREE_CHR || e->type == LB_TREE_BLK)
		e->rdev = st.st_rdev;
	if (owner_name(false, e->uid, &e->user) < 0 || owner_name(true, e->gid, &e->group) < 0) {
		r = lb_err(-ENOMEM, name, NULL, "out of memory");
		goto fail;
	}
	if (e->type == LB_TREE_SYMLINK) {
		char *t = malloc(LB_TREE_MAX_TARGET + 1);
		ssize_t n;

		if (!t) {
			r = lb_err(-ENOMEM, name, NULL, "out of memory");
			goto fail;
		}
		n = readlinkat(dirfd, name, t, LB_TREE_MAX_TARGET + 1);
		if (n < 0 || n > LB_TREE_MAX_TARGET || n == 0) {
			r = n < 0 ? lb_err(-errno, name, HINT_SKIP, "cannot read the symlink: %s",
					   strerror(errno))
				  : lb_err(-ENAMETOOLONG, name, HINT_SKIP,
					   "a symlink target of %zd bytes", n);
			free(t);
			goto fail;
		}
		t[n] = '\0';
		e->target = t;
		e->size = (uint64_t)n;
	}
	r = read_xattrs(dirfd, name, e);
	if (r < 0)
		goto fail;
	if (dev_out)
		*dev_out = st.st_dev;
	if (ino_out)
		*ino_out = st.st_ino;
	if (nlink_out)
		*nlink_out = st.st_nlink;
	return 0;
fail:
	lb_tree_entry_release(e);
	return r;
}

/* ---- applying ----------------------------------------------------------------------- */

/*
 * Attributes the target may refuse without failing the restore: those of
 * the privileged namespaces when not permitted (a restore as non-root), and
 * any the file system does not support.
 */
static bool skippable(const char *xname, int e)
{
	if (e == ENOTSUP || e == EOPNOTSUPP)
		return true;
	return (e == EPERM || e == EACCES) &&
	       (!strncmp(xname, "security.", 9) || !strncmp(xname, "trusted.", 8));
}

static const char *type_name(enum lb_tree_type t)
{
	static const char *const names[] = {
		"?",	"file",	 "directory", "symlink", "character device", "block device",
		"fifo", "socket"};

	return (unsigned)t < LB_ARRAY_SIZE(names) ? names[t] : "?";
}

int lb_meta_apply(int dirfd, const char *name, const struct lb_tree_entry *e, unsigned flags)
{
	struct timespec ts[2] = {e->atime, e->mtime};
	struct stat st;
	unsigned skipped = 0;
	int first_err = 0;
	const char *first_name = NULL;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return lb_err(-errno, name, NULL, "cannot stat: %s", strerror(errno));
	if (type_of(st.st_mode) != e->type)
		return lb_err(-EINVAL, name, NULL, "is a %s, the backup has a %s",
			      type_name(type_of(st.st_mode)), type_name(e->type));
	if (flags & LB_META_OWNER) {
		uint32_t uid = e->uid, gid = e->gid;

		if ((flags & LB_META_BY_NAME) && e->user &&
		    owner_id(false, e->user, &uid) == -ENOMEM)
			return lb_err(-ENOMEM, name, NULL, "out of memory");
		if ((flags & LB_META_BY_NAME) && e->group &&
		    owner_id(true, e->group, &gid) == -ENOMEM)
			return lb_err(-ENOMEM, name, NULL, "out of memory");
		if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return lb_err(
				-errno, name,
				errno == EPERM ? "restore owners as root, or without them" : NULL,
				"cannot set the owner to %u:%u: %s", uid, gid, strerror(errno));
	}
	if (e->type != LB_TREE_SYMLINK) {
		int r = fchmodat(dirfd, name, e->mode, AT_SYMLINK_NOFOLLOW);

		/* without /proc, glibc cannot do NOFOLLOW: it is not a symlink (checked above) */
		if (r < 0 && (errno == ENOTSUP || errno == ENOSYS))
			r = fchmodat(dirfd, name, e->mode, 0);
		if (r < 0)
			return lb_err(-errno, name, NULL, "cannot set the mode to %04o: %s",
				      e->mode, strerror(errno));
	}
	if ((flags & LB_META_XATTRS) && e->nxattrs) {
		char path[PATH_MAX + 64];
		int r = xattr_path(dirfd, name, path, sizeof(path));

		if (r < 0)
			return r;
		for (size_t i = 0; i < e->nxattrs; i++) {
			const struct lb_xattr *x = &e->xattrs[i];

			if (!lsetxattr(path, x->name, x->value, x->len, 0))
				continue;
			if (!skippable(x->name, errno))
				return lb_err(-errno, name, NULL, "cannot set attribute %s: %s",
					      x->name, strerror(errno));
			if (!skipped++) {
				first_err = errno;
				first_name = x->name;
			}
		}
	}
	if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return lb_err(-errno, name, NULL, "cannot set the times: %s", strerror(errno));
	if (skipped)
		lb_err(-first_err, name,
		       first_err == EPERM || first_err == EACCES
			       ? "restore as root to keep them"
			       : "the target file system does not support them",
		       "%u extended attribute%s not set (%s: %s)", skipped, skipped > 1 ? "s" : "",
		       first_name, strerror(first_err));
	return (int)skipped;
}
