/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * backup_files.c - back up a file tree (see backup.h).
 *
 * Depth first; every directory becomes a tree blob written after its
 * children (so it can name their blobs). A regular file's holes (SEEK_HOLE)
 * are recorded as runs and never read; its data is cut by content (FastCDC).
 * Files that cannot be read are skipped and counted (the backup goes on, and
 * says so); hard links keep their link group.
 *
 * The root tree holds one entry: the backed-up folder itself (its metadata),
 * whose subtree is its content.
 */
#include "repo/backup.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/util.h"
#include "repo/chunker.h"
#include "repo/tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH 256

struct link_group {
	uint64_t dev, ino, group;
};

struct files_backup {
	struct lb_repo *r;
	struct lb_repo_writer *w;
	struct lb_idhash *h;
	struct lb_cdc cdc;
	uint8_t *buf;
	size_t cap;
	struct link_group *links;
	size_t nlinks, links_cap;
	uint64_t next_group;
	uint64_t files, bytes_read, skipped_holes;
	uint64_t errors;
	char first_error[512];
	const struct lb_backup_opts *o;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Note a file that could not be backed up, and go on. */
static void skip_error(struct files_backup *b, const char *path)
{
	const struct lb_error *e = lb_err_last();

	if (!b->errors)
		snprintf(b->first_error, sizeof(b->first_error), "%s: %s", path,
			 e->problem[0] ? e->problem : "unreadable");
	b->errors++;
	lb_err_clear();
}

static uint64_t link_group(struct files_backup *b, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < b->nlinks; i++)
		if (b->links[i].dev == dev && b->links[i].ino == ino)
			return b->links[i].group;
	if (b->nlinks == b->links_cap) {
		size_t cap = b->links_cap ? 2 * b->links_cap : 64;
		struct link_group *n = realloc(b->links, cap * sizeof(*n));

		if (!n)
			return 0;
		b->links = n;
		b->links_cap = cap;
	}
	b->links[b->nlinks++] = (struct link_group){dev, ino, ++b->next_group};
	return b->next_group;
}

static int add_run(struct lb_tree_entry *e, size_t *cap, bool hole, uint64_t len, const uint8_t *id)
{
	if (hole && e->nruns && e->runs[e->nruns - 1].hole) {
		e->runs[e->nruns - 1].len += len;
		return 0;
	}
	if (e->nruns == *cap) {
		size_t c = *cap ? 2 * *cap : 8;
		struct lb_tree_run *n = realloc(e->runs, c * sizeof(*n));

		if (!n)
			return -ENOMEM;
		e->runs = n;
		*cap = c;
	}
	memset(&e->runs[e->nruns], 0, sizeof(e->runs[0]));
	e->runs[e->nruns].hole = hole;
	e->runs[e->nruns].len = len;
	if (!hole)
		memcpy(e->runs[e->nruns].id, id, LB_ID_LEN);
	e->nruns++;
	return 0;
}

/* Read @fd's data from @off to @end, cut it, store the chunks, add the runs. */
static int backup_data(struct files_backup *b, int fd, uint64_t off, uint64_t end,
		       struct lb_tree_entry *e, size_t *runs_cap)
{
	size_t have = 0;
	uint64_t pos = off;
	bool eof = false;
	int rc;

	while (!eof || have) {
		ssize_t n;
		size_t cut;
		uint8_t id[LB_ID_LEN];

		while (!eof && have < b->cap) {
			size_t want = (size_t)LB_MIN((uint64_t)(b->cap - have), end - pos);

			if (!want) {
				eof = true;
				break;
			}
			n = pread(fd, b->buf + have, want, (off_t)pos);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return lb_err(-errno, NULL, NULL, "cannot read: %s",
					      strerror(errno));
			}
			if (n == 0) {
				eof = true; /* the file shrank while we read it */
				break;
			}
			have += (size_t)n;
			pos += (uint64_t)n;
			b->bytes_read += (uint64_t)n;
		}
		if (!have)
			break;
		cut = lb_cdc_next(&b->cdc, b->buf, have, eof);
		if (!cut)
			cut = have;
		rc = lb_idhash(b->h, b->buf, cut, id);
		if (rc < 0)
			return rc;
		rc = lb_repo_writer_add(b->w, LB_CHUNK_DATA, id, b->buf, cut);
		if (rc < 0)
			return rc;
		rc = add_run(e, runs_cap, false, cut, id);
		if (rc < 0)
			return rc;
		memmove(b->buf, b->buf + cut, have - cut);
		have -= cut;
	}
	return 0;
}

static int backup_file(struct files_backup *b, int dirfd, const char *name, struct lb_tree_entry *e)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	size_t runs_cap = 0;
	uint64_t off = 0, size = e->size, total = 0;
	int rc;

	if (fd < 0)
		return lb_err(-errno, NULL, NULL, "cannot open: %s", strerror(errno));
	while (off < size) {
		off_t data = lseek(fd, (off_t)off, SEEK_DATA), hole;

		if (data < 0 && errno == ENXIO)
			data = (off_t)size; /* only a hole is left */
		else if (data < 0)
			data = (off_t)off; /* no SEEK_DATA: all data */
		if ((uint64_t)data > size)
			data = (off_t)size;
		if ((uint64_t)data > off) {
			rc = add_run(e, &runs_cap, true, (uint64_t)data - off, NULL);
			if (rc < 0)
				return rc;
			b->skipped_holes += (uint64_t)data - off;
			total += (uint64_t)data - off;
			off = (uint64_t)data;
			if (off >= size)
				break;
		}
		hole = lseek(fd, (off_t)off, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > size)
			hole = (off_t)size;
		rc = backup_data(b, fd, off, (uint64_t)hole, e, &runs_cap);
		if (rc < 0)
			return rc;
		off = (uint64_t)hole;
	}
	for (size_t i = 0; i < e->nruns; i++)
		if (!e->runs[i].hole)
			total += e->runs[i].len;
	e->size = total; /* what was read, if the file changed under us */
	b->files++;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int backup_dir(struct files_backup *b, int dirfd, const char *path,
		      uint8_t tree_id[LB_ID_LEN], int depth);

/* The tree blob of the folder open at @dirfd. */
static int backup_dir(struct files_backup *b, int dirfd, const char *path,
		      uint8_t tree_id[LB_ID_LEN], int depth)
{
	struct lb_tree t = {0};
	_cleanup_free_ uint8_t *blob = NULL;
	char **names = NULL;
	size_t n = 0, cap = 0, len = 0;
	DIR *d;
	struct dirent *de;
	int fd, rc = 0;

	if (depth > MAX_DEPTH)
		return lb_err(-ELOOP, path, NULL, "folders nested deeper than %d", MAX_DEPTH);
	fd = dup(dirfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return lb_err(-errno, path, NULL, "cannot list: %s", strerror(errno));
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			size_t c = cap ? 2 * cap : 64;
			char **v = realloc(names, c * sizeof(*v));

			if (!v) {
				rc = -ENOMEM;
				break;
			}
			names = v;
			cap = c;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc >= 0 && n)
		qsort(names, n, sizeof(*names), name_cmp);
	if (rc >= 0 && n) {
		t.e = calloc(n, sizeof(*t.e));
		if (!t.e)
			rc = -ENOMEM;
	}
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		struct lb_tree_entry *e = &t.e[t.n];
		uint64_t dev = 0, ino = 0, nlink = 0;
		char sub[4096];
		int erc;

		if (lb_interrupted_check()) {
			rc = lb_err(-EINTR, path, NULL, "interrupted; no snapshot was saved");
			break;
		}
		snprintf(sub, sizeof(sub), "%s/%s", path, names[i]);
		erc = lb_meta_read(dirfd, names[i], e, &dev, &ino, &nlink);
		if (erc == -ENOMEM) {
			rc = erc;
			break;
		}
		if (erc < 0) {
			skip_error(b, sub);
			lb_tree_entry_release(e);
			continue;
		}
		if (e->type == LB_TREE_FILE) {
			if (nlink > 1)
				e->hardlink = link_group(b, dev, ino);
			erc = backup_file(b, dirfd, names[i], e);
		} else if (e->type == LB_TREE_DIR) {
			int sfd = openat(dirfd, names[i],
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			erc = sfd < 0 ? lb_err(-errno, NULL, NULL, "cannot open: %s",
					       strerror(errno))
				      : backup_dir(b, sfd, sub, e->subtree, depth + 1);
			if (sfd >= 0)
				close(sfd);
		}
		if (erc == -ENOMEM || erc == -EINTR ||
		    (erc < 0 && erc != -EACCES && erc != -ENOENT && erc != -EPERM && erc != -EIO &&
		     erc != -ELOOP)) {
			/* the repository failed (or we were stopped): give up */
			if (erc != -ENOMEM && erc != -EINTR && lb_err_last()->code)
				lb_err_context("%s", sub);
			rc = erc;
			lb_tree_entry_release(e);
			break;
		}
		if (erc < 0) {
			skip_error(b, sub);
			lb_tree_entry_release(e);
			continue;
		}
		t.n++;
		if (b->o->progress)
			b->o->progress(b->o->progress_ctx, b->bytes_read, 0, sub);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc >= 0)
		rc = lb_tree_encode(&t, &blob, &len);
	if (rc >= 0)
		rc = lb_repo_writer_add_blob(b->w, LB_CHUNK_TREE, blob, len, tree_id);
	lb_tree_release(&t);
	return rc < 0 ? rc : 0;
}

int lb_backup_files(struct lb_repo *r, const char *dir, const struct lb_backup_opts *o,
		    struct lb_backup_result *res)
{
	struct files_backup b = {0};
	struct lb_tree root = {0};
	struct lb_tree_entry top = {0};
	_cleanup_free_ uint8_t *blob = NULL;
	_cleanup_close_ int fd = -1;
	char copy[4096], *parent, *leaf;
	size_t len = 0;
	double t0 = now_s();
	time_t started = time(NULL);
	int pfd, rc;

	memset(res, 0, sizeof(*res));
	b.r = r;
	b.o = o;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return lb_err(-errno, dir, NULL, "cannot open the folder: %s", strerror(errno));
	/* the folder's own metadata, from its parent */
	lb_strlcpy(copy, dir, sizeof(copy));
	leaf = basename(copy);
	parent = dirname(strdupa(dir));
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rc = pfd < 0 ? lb_err(-errno, parent, NULL, "cannot open: %s", strerror(errno))
		     : lb_meta_read(pfd, strcmp(leaf, "/") ? leaf : ".", &top, NULL, NULL, NULL);
	if (pfd >= 0)
		close(pfd);
	if (rc < 0)
		return rc;
	free(top.name);
	top.name = strdup(strcmp(leaf, "/") && strcmp(leaf, ".") ? leaf : "root");
	if (!top.name) {
		lb_tree_entry_release(&top);
		return -ENOMEM;
	}
	rc = lb_cdc_init(&b.cdc, r->cfg.cdc_min, r->cfg.cdc_avg, r->cfg.cdc_max);
	if (rc >= 0) {
		b.cap = 2 * (size_t)r->cfg.cdc_max;
		b.buf = malloc(b.cap);
		rc = b.buf ? lb_idhash_new(&r->keys, &b.h) : -ENOMEM;
	}
	if (rc >= 0)
		rc = lb_repo_writer_new(r, &b.w);
	if (rc >= 0)
		rc = backup_dir(&b, fd, dir, top.subtree, 0);
	if (rc >= 0) {
		root.n = 1;
		root.e = &top;
		rc = lb_tree_encode(&root, &blob, &len);
		root.e = NULL;
		root.n = 0;
	}
	if (rc >= 0)
		rc = lb_repo_writer_add_blob(b.w, LB_CHUNK_TREE, blob, len, res->snap.root);
	if (rc >= 0)
		rc = lb_repo_writer_flush(b.w);
	if (rc >= 0) {
		res->st = *lb_repo_writer_stats(b.w);
		rc = lb_backup_fill_snapshot(&res->snap, o, dir, LB_SNAP_FILES, started);
	}
	if (rc >= 0) {
		res->snap.bytes_read = b.bytes_read;
		res->snap.bytes_new = res->st.bytes_new;
		res->snap.bytes_stored = res->st.bytes_stored;
		res->snap.chunks_total = res->st.chunks_total;
		res->snap.chunks_new = res->st.chunks_new;
		rc = lb_repo_save_snapshot(r, &res->snap);
	}
	res->bytes_skipped = b.skipped_holes;
	res->files = b.files;
	res->errors = b.errors;
	lb_strlcpy(res->first_error, b.first_error, sizeof(res->first_error));
	lb_tree_entry_release(&top);
	lb_repo_writer_free(b.w);
	lb_idhash_free(b.h);
	free(b.buf);
	free(b.links);
	res->seconds = now_s() - t0;
	if (rc < 0)
		lb_snapshot_release(&res->snap);
	return rc;
}
