/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * local.c - a store in a local directory (see store.h for the layout and
 * the durability rules: temporary file, fsync, link(2) to the final name
 * for create-only semantics, fsync of the directory).
 */
#include "store/store_int.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_MARK ".tmp."

struct local {
	int root; /* O_PATH|O_DIRECTORY fd of the root */
};

struct local_writer {
	struct lb_store_writer base;
	int dirfd;
	int fd;
	char *name;    /* final name, relative to the root */
	char *tmpname; /* temporary name, relative to dirfd */
	char *leaf;    /* final leaf name, relative to dirfd */
	int err;       /* sticky write error */
	uint64_t off;  /* bytes written so far */
};

static int root_of(struct lb_store *s)
{
	return ((struct local *)s->priv)->root;
}

static int io_err(struct lb_store *s, const char *name, int e, const char *what)
{
	switch (e) {
	case ENOENT:
		return lb_err(-ENOENT, name, NULL, "no such object in %s", s->url);
	case EEXIST:
		return lb_err(-EEXIST, name, NULL, "the object exists already");
	case ENOSPC:
	case EDQUOT:
	case EFBIG: /* a file-size limit: for us, the same as a full disk */
		return lb_err(-ENOSPC, s->url, "free space where the repository lives",
			      "no space left %s %s (%s)", what, name, strerror(e));
	case EACCES:
	case EPERM:
		return lb_err(-EACCES, s->url, "check the repository's permissions",
			      "permission denied %s %s", what, name);
	case ENOMEM:
		return -ENOMEM;
	default:
		return lb_err(-EIO, s->url, NULL, "%s %s: %s", what, name, strerror(e));
	}
}

/* Open (creating with @create) the directory holding @name; set *leaf to the last component. */
static int open_parent(struct lb_store *s, const char *name, bool create, const char **leaf)
{
	char buf[1100];
	char *p, *slash;
	int fd, nfd;

	if (strlen(name) >= sizeof(buf))
		return lb_err(-EINVAL, name, NULL, "object name too long");
	memcpy(buf, name, strlen(name) + 1);
	fd = openat(root_of(s), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return io_err(s, name, errno, "opening the folder of");
	p = buf;
	while ((slash = strchr(p, '/'))) {
		*slash = '\0';
		if (create && mkdirat(fd, p, 0700) < 0 && errno != EEXIST) {
			int e = errno;

			close(fd);
			return io_err(s, name, e, "creating the folder of");
		}
		nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (nfd < 0) {
			int e = errno;

			close(fd);
			return io_err(s, name, e, "opening the folder of");
		}
		close(fd);
		fd = nfd;
		p = slash + 1;
	}
	*leaf = name + (p - buf);
	return fd;
}

static int write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int local_create(struct lb_store *s, const char *name, struct lb_store_writer **out)
{
	struct local_writer *w = calloc(1, sizeof(*w));
	const char *leaf;
	size_t n;

	if (!w)
		return -ENOMEM;
	w->base.store = s;
	w->fd = -1;
	w->dirfd = open_parent(s, name, true, &leaf);
	if (w->dirfd < 0) {
		int r = w->dirfd;

		free(w);
		return r;
	}
	n = strlen(leaf) + sizeof(TMP_MARK) + 10;
	w->name = strdup(name);
	w->leaf = strdup(leaf);
	w->tmpname = malloc(n);
	if (!w->name || !w->leaf || !w->tmpname) {
		lb_store_abort(&w->base);
		return -ENOMEM;
	}
	for (int tries = 0; tries < 100; tries++) {
		uint32_t rnd = 0;

		if (getentropy(&rnd, sizeof(rnd)) < 0)
			rnd = (uint32_t)getpid() * 2654435761u + (uint32_t)tries;
		snprintf(w->tmpname, n, "%s" TMP_MARK "%08x", leaf, rnd);
		w->fd = openat(w->dirfd, w->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (w->fd >= 0 || errno != EEXIST)
			break;
	}
	if (w->fd < 0) {
		int r = io_err(s, name, errno, "creating");

		lb_store_abort(&w->base);
		return r;
	}
	*out = &w->base;
	return 0;
}

static int local_write(struct lb_store_writer *bw, const void *data, size_t len)
{
	struct local_writer *w = (struct local_writer *)bw;
	int r;

	if (w->err)
		return w->err;
	r = write_all(w->fd, data, len);
	if (r < 0)
		return w->err = io_err(bw->store, w->name, -r, "writing");
	/*
	 * Start writing back what was just written (it does not wait): the
	 * fsync at commit then has little left to do, and the disk works while
	 * the next frames are compressed.
	 */
	sync_file_range(w->fd, (off_t)w->off, (off_t)len, SYNC_FILE_RANGE_WRITE);
	w->off += len;
	return 0;
}

static void writer_free(struct local_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	free(w->name);
	free(w->leaf);
	free(w->tmpname);
	free(w);
}

static void local_abort(struct lb_store_writer *bw)
{
	struct local_writer *w = (struct local_writer *)bw;

	if (w->fd >= 0 && w->tmpname)
		unlinkat(w->dirfd, w->tmpname, 0);
	writer_free(w);
}

static int local_commit(struct lb_store_writer *bw)
{
	struct local_writer *w = (struct local_writer *)bw;
	struct lb_store *s = bw->store;
	int r = w->err;

	if (!r && fsync(w->fd) < 0)
		r = io_err(s, w->name, errno, "syncing");
	if (!r && close(w->fd) < 0)
		r = io_err(s, w->name, errno, "closing");
	w->fd = r ? w->fd : -1;
	/* link(2) never replaces a name: create-only */
	if (!r && linkat(w->dirfd, w->tmpname, w->dirfd, w->leaf, 0) < 0)
		r = io_err(s, w->name, errno, "storing");
	unlinkat(w->dirfd, w->tmpname, 0);
	if (!r && fsync(w->dirfd) < 0)
		r = io_err(s, w->name, errno, "syncing the folder of");
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	writer_free(w);
	return r;
}

static int local_put(struct lb_store *s, const char *name, const void *data, size_t len)
{
	struct lb_store_writer *w;
	int r = local_create(s, name, &w);

	if (r < 0)
		return r;
	r = local_write(w, data, len);
	if (r < 0) {
		local_abort(w);
		return r;
	}
	return local_commit(w);
}

static int local_get(struct lb_store *s, const char *name, uint64_t off, size_t len, void *buf)
{
	_cleanup_close_ int fd = openat(root_of(s), name, O_RDONLY | O_CLOEXEC);
	uint8_t *p = buf;

	if (fd < 0)
		return io_err(s, name, errno, "reading");
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return io_err(s, name, errno, "reading");
		}
		if (n == 0)
			return lb_err(-ENODATA, name, "run 'lifeboat check'",
				      "the object ends before offset %" PRIu64 " (truncated)",
				      off + len);
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int local_stat(struct lb_store *s, const char *name, uint64_t *size)
{
	struct stat st;

	if (fstatat(root_of(s), name, &st, 0) < 0)
		return io_err(s, name, errno, "reading");
	if (!S_ISREG(st.st_mode))
		return lb_err(-ENOENT, name, NULL, "not an object (a folder?)");
	*size = (uint64_t)st.st_size;
	return 0;
}

/* Walk the folder @rel (relative to the root) and report objects starting with @prefix. */
static int walk(struct lb_store *s, const char *rel, const char *prefix, lb_store_list_fn fn,
		void *ctx, int depth)
{
	DIR *d;
	struct dirent *e;
	int fd, r = 0;

	if (depth > 8)
		return 0;
	fd = openat(root_of(s), *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : io_err(s, rel, errno, "listing");
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return io_err(s, rel, errno, "listing");
	}
	while (r >= 0 && (e = readdir(d))) {
		char path[1200];
		struct stat st;
		size_t plen = strlen(prefix);

		if (e->d_name[0] == '.' || strstr(e->d_name, TMP_MARK))
			continue;
		snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			size_t n = strlen(path);

			/* descend only where the prefix can match */
			if (strncmp(path, prefix, LB_MIN(n, plen)))
				continue;
			r = walk(s, path, prefix, fn, ctx, depth + 1);
		} else if (S_ISREG(st.st_mode) && !strncmp(path, prefix, plen)) {
			r = fn(ctx, path, (uint64_t)st.st_size);
		}
	}
	closedir(d);
	return r;
}

static int local_list(struct lb_store *s, const char *prefix, lb_store_list_fn fn, void *ctx)
{
	return walk(s, "", prefix, fn, ctx, 0);
}

static int local_del(struct lb_store *s, const char *name)
{
	const char *leaf;
	int fd = open_parent(s, name, false, &leaf), r = 0;

	if (fd < 0)
		return fd;
	if (unlinkat(fd, leaf, 0) < 0)
		r = io_err(s, name, errno, "deleting");
	else if (fsync(fd) < 0)
		r = io_err(s, name, errno, "syncing the folder of");
	close(fd);
	return r;
}

static void local_close(struct lb_store *s)
{
	struct local *l = s->priv;

	if (l) {
		close(l->root);
		free(l);
	}
}

static const struct lb_store_ops local_ops = {
	.scheme = "file",
	.put = local_put,
	.create = local_create,
	.write = local_write,
	.commit = local_commit,
	.abort = local_abort,
	.get = local_get,
	.stat = local_stat,
	.list = local_list,
	.del = local_del,
	.close = local_close,
};

int lb_local_store_open(const char *path, unsigned flags, struct lb_store *s)
{
	struct local *l;
	struct stat st;
	int fd;

	if ((flags & LB_STORE_CREATE) && mkdir(path, 0700) < 0 && errno != EEXIST)
		return io_err(s, path, errno, "creating");
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR)
			return lb_err(-ENOTDIR, path, "give the repository's folder",
				      "not a folder");
		if (errno == ENOENT)
			return lb_err(-ENOENT, path, "create it with 'lifeboat init'",
				      "no repository here");
		return io_err(s, path, errno, "opening");
	}
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		close(fd);
		return lb_err(-ENOTDIR, path, NULL, "not a folder");
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return -ENOMEM;
	}
	l->root = fd;
	s->priv = l;
	s->ops = &local_ops;
	return 0;
}
