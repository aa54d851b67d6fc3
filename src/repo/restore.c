/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * restore.c - restore an image snapshot to a file, a block device or a new
 * qcow2/VHD/VHDX image; restore a file tree; and read an image snapshot in
 * place as a device (see backup.h).
 *
 * Images: the target gets the disk's size first, so holes stay holes (a new
 * file or image is sparse; only data is written). On a block device, holes
 * and zero runs are written as zeros, since the device holds old data. The
 * map blobs are restored in parallel, one job per blob, each with its own
 * chunk reader (every chunk's ID is checked as it is read).
 */
#include "repo/backup.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/sha256.h"
#include "base/util.h"
#include "repo/imagemap.h"
#include "repo/tree.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define WBUF (1u << 20)

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- the target --------------------------------------------------------------- */

static int run_qemu_img_create(const char *fmt, const char *target, uint64_t size)
{
	char sz[32];
	const char *argv_vpc[] = {
		"qemu-img", "create", "-q", "-f", "vpc", "-o", "subformat=dynamic,force_size=on",
		target,	    sz,	      NULL};
	const char *argv_other[] = {"qemu-img", "create", "-q", "-f", fmt, target, sz, NULL};
	const char **argv = !strcmp(fmt, "vpc") ? argv_vpc : argv_other;
	pid_t pid;
	int st, rc;

	snprintf(sz, sizeof(sz), "%llu", (unsigned long long)size);
	rc = posix_spawnp(&pid, "qemu-img", NULL, NULL, (char *const *)argv, environ);
	if (rc)
		return lb_err(-rc, "qemu-img", "install qemu-utils", "cannot run qemu-img: %s",
			      strerror(rc));
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return lb_err(-EIO, target, NULL, "qemu-img create -f %s failed", fmt);
	return 0;
}

struct target {
	struct lb_image *img; /* qcow2 / vhd / vhdx */
	struct lb_dev *dev;   /* what we write to */
	bool blockdev;	      /* holes and zeros must be written */
	bool serial;	      /* one writer at a time (NBD) */
	int hint_fd;	      /* a raw file's: to start writing back early, or -1 */
	char *tmp;	      /* a new file is written here, renamed to the target at the end */
};

/*
 * A new file next to @target (same folder, so that rename(2) is atomic):
 * ".NAME.lifeboat-XXXXXXXX" (8 hex digits). Returns a malloc'ed path or NULL.
 */
static char *temp_name(const char *target)
{
	const char *slash = strrchr(target, '/');
	size_t dlen = slash ? (size_t)(slash - target) + 1 : 0;
	uint32_t rnd = 0;
	char *out;

	if (getentropy(&rnd, sizeof(rnd)) < 0)
		rnd = (uint32_t)getpid() * 2654435761u;
	if (asprintf(&out, "%.*s.%s.lifeboat-%08x", (int)dlen, target, target + dlen, rnd) < 0)
		return NULL;
	return out;
}

static int open_target(const struct lb_snapshot *s, const struct lb_restore_opts *o,
		       struct target *t)
{
	struct stat st;
	const char *fmt = NULL;
	int rc, fd;

	memset(t, 0, sizeof(*t));
	t->hint_fd = -1;
	if (o->format == LB_FMT_QCOW2)
		fmt = "qcow2";
	else if (o->format == LB_FMT_VHD)
		fmt = "vpc";
	else if (o->format == LB_FMT_VHDX)
		fmt = "vhdx";
	else if (o->format != LB_FMT_AUTO && o->format != LB_FMT_RAW)
		return lb_err(-EINVAL, "--format", "use raw, qcow2, vhd or vhdx",
			      "cannot restore to %s", lb_image_format_name(o->format));
	if (stat(o->target, &st) == 0) {
		if (S_ISBLK(st.st_mode) && !fmt) {
			uint64_t size = 0;

			fd = open(o->target, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				ioctl(fd, BLKGETSIZE64, &size);
				close(fd);
			}
			if (size < s->virtual_size)
				return lb_err(-ENOSPC, o->target, "use a larger device",
					      "the device has %llu bytes; the disk needs %llu",
					      (unsigned long long)size,
					      (unsigned long long)s->virtual_size);
			rc = lb_file_dev_open(o->target, false, &t->dev);
			t->blockdev = true;
			return rc;
		}
		if (S_ISDIR(st.st_mode))
			return lb_err(-EISDIR, o->target, "name a file to create",
				      "the target is a folder");
		if (!o->overwrite)
			return lb_err(-EEXIST, o->target,
				      "choose another name, or give --overwrite to replace it",
				      "the target exists");
		/* replaced only when the restore succeeds (rename at the end) */
	}
	t->tmp = temp_name(o->target);
	if (!t->tmp)
		return -ENOMEM;
	if (fmt) {
		struct lb_image_opts io = {.read_only = false, .format = o->format};

		rc = run_qemu_img_create(fmt, t->tmp, s->virtual_size);
		if (rc < 0)
			return rc;
		rc = lb_image_open(t->tmp, &io, &t->img);
		if (rc < 0)
			return rc;
		if (t->img->disk->size < s->virtual_size)
			return lb_err(-EIO, o->target, NULL, "qemu made a smaller disk than asked");
		t->dev = lb_dev_ref(t->img->disk);
		t->serial = true;
		return 0;
	}
	fd = open(t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = lb_err(-errno, o->target, NULL, "cannot create %s: %s", t->tmp,
			    strerror(errno));
		free(t->tmp);
		t->tmp = NULL;
		return rc;
	}
	if (ftruncate(fd, (off_t)s->virtual_size) < 0) {
		rc = lb_err(-errno, o->target, "free space where the target lives",
			    "cannot size it: %s", strerror(errno));
		close(fd);
		return rc;
	}
	t->hint_fd = fd;
	return lb_file_dev_open(t->tmp, false, &t->dev);
}

/*
 * Close the target; with @ok, a new file takes the target's name (replacing
 * an old one: --overwrite) and the folder is synced; otherwise it is
 * removed, and whatever the target was stays as it was.
 */
static int close_target(struct target *t, const char *target, bool ok)
{
	int rc = 0;

	if (t->hint_fd >= 0)
		close(t->hint_fd);
	t->hint_fd = -1;
	lb_dev_unref(t->dev);
	lb_image_free(t->img);
	t->dev = NULL;
	t->img = NULL;
	if (!t->tmp)
		return 0;
	if (ok && rename(t->tmp, target) < 0)
		rc = lb_err(-errno, target, NULL, "cannot give the restored disk its name: %s",
			    strerror(errno));
	if (!ok || rc < 0)
		unlink(t->tmp);
	if (ok && rc == 0) {
		_cleanup_free_ char *dir = strdup(target);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		int dfd;

		if (slash)
			*(slash == dir ? slash + 1 : slash) = '\0';
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
		dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	free(t->tmp);
	t->tmp = NULL;
	return rc;
}

/* ---- images ---------------------------------------------------------------------- */

struct map_job {
	struct lb_repo *r;
	const struct lb_snapshot *s;
	struct target *t;
	const uint8_t *map_id;
	pthread_mutex_t *mu; /* serial targets */
	int err;
	struct lb_error error;
	uint64_t written;
};

/* Write @len bytes of @buf at @off (under the lock for serial targets). */
static int put(struct map_job *j, const uint8_t *buf, size_t len, uint64_t off)
{
	int rc;

	if (!len)
		return 0;
	if (j->t->serial)
		pthread_mutex_lock(j->mu);
	rc = lb_dev_pwrite(j->t->dev, buf, len, off);
	if (j->t->serial)
		pthread_mutex_unlock(j->mu);
	/*
	 * Start writing it to disk now, without waiting: the final flush then
	 * finds little left to do, and the disk works while we decrypt.
	 */
	if (rc >= 0 && j->t->hint_fd >= 0)
		sync_file_range(j->t->hint_fd, (off_t)off, (off_t)len, SYNC_FILE_RANGE_WRITE);
	return rc;
}

static void map_job_run(void *arg)
{
	struct map_job *j = arg;
	struct lb_chunk_reader *cr = NULL;
	struct lb_map_blob m = {0};
	_cleanup_free_ uint8_t *blob = NULL, *buf = NULL;
	size_t blen = 0, fill = 0, got;
	uint64_t start = 0;
	uint32_t cs = j->s->chunk_size;
	int rc;

	lb_err_clear();
	rc = lb_chunk_reader_new(j->r, &cr);
	if (rc >= 0)
		rc = lb_chunk_read_alloc(cr, j->map_id, &blob, &blen);
	if (rc >= 0)
		rc = lb_map_decode(blob, blen, &m);
	if (rc >= 0 && (m.chunk_size != cs))
		rc = lb_err(-EBADMSG, "image map", "run 'lifeboat check'",
			    "a map blob has chunk size %u, the snapshot %u", m.chunk_size, cs);
	buf = malloc(WBUF + cs);
	if (rc >= 0 && !buf)
		rc = -ENOMEM;
	for (uint32_t i = 0; rc >= 0 && i < m.count; i++) {
		uint64_t c = m.first + i, off = c * (uint64_t)cs;
		size_t len;

		if (off >= j->s->virtual_size)
			break;
		len = (size_t)LB_MIN((uint64_t)cs, j->s->virtual_size - off);
		if (m.kinds[i] != LB_MAP_DATA && !j->t->blockdev) {
			/* a hole in a fresh target: flush what is buffered, skip */
			rc = put(j, buf, fill, start);
			j->written += fill;
			fill = 0;
			continue;
		}
		if (fill && (start + fill != off || fill + len > WBUF)) {
			rc = put(j, buf, fill, start);
			j->written += fill;
			fill = 0;
			if (rc < 0)
				break;
		}
		if (!fill)
			start = off;
		if (m.kinds[i] == LB_MAP_DATA) {
			rc = lb_chunk_read(cr, m.ids[i], buf + fill, cs, &got);
			if (rc >= 0 && got != len)
				rc = lb_err(-EBADMSG, "image map", "run 'lifeboat check'",
					    "chunk %llu has %zu bytes, expected %zu",
					    (unsigned long long)c, got, len);
		} else {
			memset(buf + fill, 0, len);
		}
		fill += len;
		if (lb_interrupted_check())
			rc = lb_err(-EINTR, "restore", NULL, "interrupted");
	}
	if (rc >= 0) {
		rc = put(j, buf, fill, start);
		j->written += fill;
	}
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
	lb_map_release(&m);
	lb_chunk_reader_free(cr);
	j->err = rc < 0 ? rc : 0;
	if (rc < 0)
		lb_err_save(&j->error);
}

int lb_restore_image(struct lb_repo *r, const struct lb_snapshot *s,
		     const struct lb_restore_opts *o, struct lb_restore_result *res)
{
	struct target t;
	struct map_job *jobs = NULL;
	struct lb_pool *pool;
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	double t0 = now_s();
	size_t done = 0;
	int rc;

	memset(res, 0, sizeof(*res));
	if (s->kind != LB_SNAP_IMAGE)
		return lb_err(-EINVAL, s->name, "restore it into a folder",
			      "this snapshot is of a file tree, not of a disk image");
	rc = lb_repo_load_index(r);
	if (rc < 0)
		return rc;
	rc = open_target(s, o, &t);
	if (rc < 0) {
		close_target(&t, o->target, false);
		return rc;
	}
	rc = lb_repo_pool(r, &pool);
	jobs = calloc(s->nmaps ? s->nmaps : 1, sizeof(*jobs));
	if (rc >= 0 && !jobs)
		rc = -ENOMEM;
	/* a few blobs at a time, so progress moves and memory stays flat */
	while (rc >= 0 && done < s->nmaps) {
		size_t batch = LB_MIN(s->nmaps - done, (size_t)4 * lb_pool_threads(pool));

		for (size_t i = done; i < done + batch; i++) {
			jobs[i] = (struct map_job){r, s, &t, s->maps[i], &mu, 0, {0}, 0};
			lb_pool_submit(pool, map_job_run, &jobs[i]);
		}
		/* work too, rather than sleep (the writes leave cores idle) */
		while (lb_pool_run_one(pool))
			;
		lb_pool_wait(pool);
		for (size_t i = done; i < done + batch; i++) {
			res->bytes_written += jobs[i].written;
			if (jobs[i].err < 0 && rc >= 0) {
				lb_err_restore(&jobs[i].error);
				rc = jobs[i].err;
			}
		}
		done += batch;
		if (o->progress)
			o->progress(o->progress_ctx,
				    LB_MIN(s->virtual_size,
					   (uint64_t)done * LB_MAP_SPAN * s->chunk_size),
				    s->virtual_size, o->target);
	}
	if (rc >= 0)
		rc = lb_dev_flush(t.dev);
	free(jobs);
	{
		int crc = close_target(&t, o->target, rc >= 0);

		if (rc >= 0)
			rc = crc;
	}
	res->seconds = now_s() - t0;
	return rc;
}

/* ---- the snapshot as a device ---------------------------------------------------- */

#define MAP_CACHE 4

struct snapdev {
	struct lb_repo *r;
	const struct lb_snapshot *s;
	uint8_t (*maps)[LB_ID_LEN];
	size_t nmaps;
	struct lb_chunk_reader *cr;
	struct {
		bool valid;
		size_t index;
		struct lb_map_blob m;
		uint64_t used;
	} cache[MAP_CACHE];
	uint64_t clock;
	uint8_t *chunk;
	uint8_t chunk_id[LB_ID_LEN];
	bool chunk_valid;
	uint32_t cs;
};

static int map_for(struct snapdev *d, uint64_t c, struct lb_map_blob **out)
{
	size_t idx = (size_t)(c / LB_MAP_SPAN), v = 0;
	_cleanup_free_ uint8_t *blob = NULL;
	size_t len = 0;
	int rc;

	if (idx >= d->nmaps)
		return lb_err(-EBADMSG, "image map", "run 'lifeboat check'",
			      "chunk %llu is beyond the snapshot's maps", (unsigned long long)c);
	for (size_t i = 0; i < MAP_CACHE; i++) {
		if (d->cache[i].valid && d->cache[i].index == idx) {
			d->cache[i].used = ++d->clock;
			*out = &d->cache[i].m;
			return 0;
		}
		if (!d->cache[i].valid || d->cache[i].used < d->cache[v].used)
			v = i;
	}
	if (d->cache[v].valid)
		lb_map_release(&d->cache[v].m);
	d->cache[v].valid = false;
	rc = lb_chunk_read_alloc(d->cr, d->maps[idx], &blob, &len);
	if (rc >= 0)
		rc = lb_map_decode(blob, len, &d->cache[v].m);
	if (rc < 0)
		return rc;
	if (d->cache[v].m.first != (uint64_t)idx * LB_MAP_SPAN ||
	    d->cache[v].m.chunk_size != d->cs) {
		lb_map_release(&d->cache[v].m);
		return lb_err(-EBADMSG, "image map", "run 'lifeboat check'",
			      "map blob %zu does not cover the chunks it should", idx);
	}
	d->cache[v].valid = true;
	d->cache[v].index = idx;
	d->cache[v].used = ++d->clock;
	*out = &d->cache[v].m;
	return 0;
}

static ssize_t snap_pread(struct lb_dev *dev, void *buf, size_t len, uint64_t off)
{
	struct snapdev *d = dev->priv;
	uint64_t c = off / d->cs, coff = off % d->cs;
	size_t n = (size_t)LB_MIN((uint64_t)len, d->cs - coff);
	struct lb_map_blob *m;
	size_t got;
	int rc = map_for(d, c, &m);

	if (rc < 0)
		return rc;
	if (c - m->first >= m->count)
		return lb_err(-EBADMSG, "image map", "run 'lifeboat check'", "a map blob is short");
	if (m->kinds[c - m->first] != LB_MAP_DATA) {
		memset(buf, 0, n);
		return (ssize_t)n;
	}
	if (!d->chunk_valid || memcmp(d->chunk_id, m->ids[c - m->first], LB_ID_LEN)) {
		d->chunk_valid = false;
		rc = lb_chunk_read(d->cr, m->ids[c - m->first], d->chunk, d->cs, &got);
		if (rc < 0)
			return rc;
		if (got < coff + n)
			return lb_err(-EBADMSG, "image map", "run 'lifeboat check'",
				      "a chunk is shorter than the map says");
		memcpy(d->chunk_id, m->ids[c - m->first], LB_ID_LEN);
		d->chunk_valid = true;
	}
	memcpy(buf, d->chunk + coff, n);
	return (ssize_t)n;
}

static int snap_extents(struct lb_dev *dev, uint64_t off, uint64_t len, lb_extent_fn fn,
			void *opaque)
{
	struct snapdev *d = dev->priv;
	uint64_t end = off + len, pos = off;

	while (pos < end) {
		uint64_t c = pos / d->cs, cend = LB_MIN((c + 1) * d->cs, end);
		struct lb_map_blob *m;
		enum lb_extent_type t;
		int rc = map_for(d, c, &m);

		if (rc < 0)
			return rc;
		if (c - m->first >= m->count)
			return -EBADMSG;
		t = m->kinds[c - m->first] == LB_MAP_DATA   ? LB_EXTENT_DATA
		    : m->kinds[c - m->first] == LB_MAP_ZERO ? LB_EXTENT_ZERO
							    : LB_EXTENT_HOLE;
		rc = fn(opaque, pos, cend - pos, t);
		if (rc < 0)
			return rc;
		pos = cend;
	}
	return 0;
}

static void snap_destroy(struct lb_dev *dev)
{
	struct snapdev *d = dev->priv;

	for (size_t i = 0; i < MAP_CACHE; i++)
		if (d->cache[i].valid)
			lb_map_release(&d->cache[i].m);
	lb_chunk_reader_free(d->cr);
	free(d->chunk);
	free(d);
}

static const struct lb_dev_ops snap_ops = {
	.version = LB_DEV_OPS_VERSION,
	.kind = "snapshot",
	.pread = snap_pread,
	.extents = snap_extents,
	.destroy = snap_destroy,
};

int lb_snapshot_dev_open(struct lb_repo *r, const struct lb_snapshot *s, struct lb_dev **out)
{
	struct snapdev *d;
	struct lb_dev *dev;
	char hex[65];
	int rc;

	if (s->kind != LB_SNAP_IMAGE)
		return lb_err(-EINVAL, s->name, NULL, "a file-tree snapshot has no disk to read");
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->r = r;
	d->s = s;
	d->maps = s->maps;
	d->nmaps = s->nmaps;
	d->cs = s->chunk_size;
	d->chunk = malloc(d->cs);
	rc = d->chunk ? lb_chunk_reader_new(r, &d->cr) : -ENOMEM;
	if (rc < 0) {
		free(d->chunk);
		free(d);
		return rc;
	}
	snprintf(hex, sizeof(hex), "snapshot %.8s", lb_hex(s->id, 4, hex + 40));
	dev = lb_dev_new(&snap_ops, d, s->virtual_size, NULL, true, hex);
	if (!dev) {
		snap_destroy(&(struct lb_dev){.priv = d});
		return -ENOMEM;
	}
	dev->sector_size = 512;
	*out = dev;
	return 0;
}

/* ---- file trees -------------------------------------------------------------------- */

struct link_path {
	uint64_t group;
	char *path; /* relative to the target */
};

struct files_restore {
	struct lb_repo *r;
	struct lb_chunk_reader *cr;
	const struct lb_restore_opts *o;
	int rootfd;
	uint8_t *buf;
	struct link_path *links;
	size_t nlinks, links_cap;
	unsigned meta_flags;
	struct lb_restore_result *res;
	uint64_t warnings;
};

static const char *link_find(struct files_restore *f, uint64_t g)
{
	for (size_t i = 0; i < f->nlinks; i++)
		if (f->links[i].group == g)
			return f->links[i].path;
	return NULL;
}

static int link_add(struct files_restore *f, uint64_t g, const char *path)
{
	if (f->nlinks == f->links_cap) {
		size_t cap = f->links_cap ? 2 * f->links_cap : 32;
		struct link_path *n = realloc(f->links, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		f->links = n;
		f->links_cap = cap;
	}
	f->links[f->nlinks].group = g;
	f->links[f->nlinks].path = strdup(path);
	if (!f->links[f->nlinks].path)
		return -ENOMEM;
	f->nlinks++;
	return 0;
}

static int restore_file(struct files_restore *f, int dirfd, const struct lb_tree_entry *e)
{
	_cleanup_close_ int fd =
		openat(dirfd, e->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	uint64_t off = 0;
	size_t got;
	int rc;

	if (fd < 0)
		return lb_err(-errno, e->name, NULL, "cannot create: %s", strerror(errno));
	for (size_t i = 0; i < e->nruns; i++) {
		const struct lb_tree_run *run = &e->runs[i];

		if (!run->hole) {
			rc = lb_chunk_read(f->cr, run->id, f->buf, LB_FRAME_MAX_RAW, &got);
			if (rc < 0)
				return rc;
			if (got != run->len)
				return lb_err(-EBADMSG, e->name, "run 'lifeboat check'",
					      "a chunk has %zu bytes, the tree says %llu", got,
					      (unsigned long long)run->len);
			for (size_t w = 0; w < got;) {
				ssize_t n = pwrite(fd, f->buf + w, got - w, (off_t)(off + w));

				if (n < 0) {
					if (errno == EINTR)
						continue;
					return lb_err(-errno, e->name, NULL, "cannot write: %s",
						      strerror(errno));
				}
				w += (size_t)n;
			}
			f->res->bytes_written += got;
		}
		off += run->len;
	}
	if (ftruncate(fd, (off_t)e->size) < 0) /* trailing holes */
		return lb_err(-errno, e->name, NULL, "cannot size: %s", strerror(errno));
	f->res->files++;
	return 0;
}

static int restore_dir(struct files_restore *f, const uint8_t tree_id[LB_ID_LEN], int dirfd,
		       const char *rel, int depth)
{
	_cleanup_free_ uint8_t *blob = NULL;
	struct lb_tree t = {0};
	size_t len = 0;
	int rc;

	if (depth > 256)
		return lb_err(-ELOOP, rel, "run 'lifeboat check'", "folders nested too deep");
	rc = lb_chunk_read_alloc(f->cr, tree_id, &blob, &len);
	if (rc >= 0)
		rc = lb_tree_decode(blob, len, &t);
	for (size_t i = 0; rc >= 0 && i < t.n; i++) {
		const struct lb_tree_entry *e = &t.e[i];
		char sub[4096];
		const char *first;

		if (lb_interrupted_check())
			return lb_err(-EINTR, "restore", NULL, "interrupted");
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", e->name);
		switch (e->type) {
		case LB_TREE_FILE:
			first = e->hardlink ? link_find(f, e->hardlink) : NULL;
			if (first) {
				if (linkat(f->rootfd, first, dirfd, e->name, 0) < 0)
					rc = lb_err(-errno, sub, NULL, "cannot link: %s",
						    strerror(errno));
				continue; /* the inode's metadata is already applied */
			}
			rc = restore_file(f, dirfd, e);
			if (rc >= 0 && e->hardlink)
				rc = link_add(f, e->hardlink, sub);
			break;
		case LB_TREE_DIR: {
			int sfd;

			if (mkdirat(dirfd, e->name, 0700) < 0) {
				rc = lb_err(-errno, sub, NULL, "cannot create: %s",
					    strerror(errno));
				break;
			}
			sfd = openat(dirfd, e->name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sfd < 0) {
				rc = lb_err(-errno, sub, NULL, "cannot open: %s", strerror(errno));
				break;
			}
			rc = restore_dir(f, e->subtree, sfd, sub, depth + 1);
			close(sfd);
			break;
		}
		case LB_TREE_SYMLINK:
			if (symlinkat(e->target ? e->target : "", dirfd, e->name) < 0)
				rc = lb_err(-errno, sub, NULL, "cannot create: %s",
					    strerror(errno));
			break;
		case LB_TREE_FIFO:
			if (mkfifoat(dirfd, e->name, 0600) < 0)
				rc = lb_err(-errno, sub, NULL, "cannot create: %s",
					    strerror(errno));
			break;
		case LB_TREE_CHR:
		case LB_TREE_BLK:
			if (mknodat(dirfd, e->name,
				    (e->type == LB_TREE_CHR ? S_IFCHR : S_IFBLK) | 0600,
				    (dev_t)e->rdev) < 0) {
				if (errno != EPERM)
					rc = lb_err(-errno, sub, NULL, "cannot create: %s",
						    strerror(errno));
				f->warnings++; /* devices need root */
				continue;
			}
			break;
		default:
			f->warnings++; /* sockets are not restored */
			continue;
		}
		if (rc >= 0)
			rc = lb_meta_apply(dirfd, e->name, e, f->meta_flags);
		if (f->o->progress)
			f->o->progress(f->o->progress_ctx, f->res->bytes_written, 0, sub);
	}
	lb_tree_release(&t);
	return rc;
}

int lb_restore_files(struct lb_repo *r, const struct lb_snapshot *s,
		     const struct lb_restore_opts *o, struct lb_restore_result *res)
{
	struct files_restore f = {0};
	_cleanup_free_ uint8_t *blob = NULL;
	struct lb_tree root = {0};
	size_t len = 0;
	double t0 = now_s();
	int rc, fd = -1;

	memset(res, 0, sizeof(*res));
	if (s->kind != LB_SNAP_FILES)
		return lb_err(-EINVAL, s->name, "restore it to a file or a device",
			      "this snapshot is of a disk image, not of a file tree");
	if (mkdir(o->target, 0700) < 0) {
		struct stat st;

		if (errno != EEXIST || stat(o->target, &st) < 0 || !S_ISDIR(st.st_mode))
			return lb_err(-errno ? -errno : -EEXIST, o->target, NULL,
				      "cannot create the folder: %s", strerror(errno));
		if (!o->overwrite)
			return lb_err(-EEXIST, o->target,
				      "restore into a new folder, or give --overwrite to restore "
				      "into this one",
				      "the target folder exists");
	}
	fd = open(o->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return lb_err(-errno, o->target, NULL, "cannot open: %s", strerror(errno));
	f.r = r;
	f.o = o;
	f.res = res;
	f.rootfd = fd;
	f.meta_flags = LB_META_XATTRS | (o->owners ? LB_META_OWNER : 0);
	f.buf = malloc(LB_FRAME_MAX_RAW);
	rc = f.buf ? lb_chunk_reader_new(r, &f.cr) : -ENOMEM;
	if (rc >= 0)
		rc = lb_chunk_read_alloc(f.cr, s->root, &blob, &len);
	if (rc >= 0)
		rc = lb_tree_decode(blob, len, &root);
	if (rc >= 0 && (root.n != 1 || root.e[0].type != LB_TREE_DIR))
		rc = lb_err(-EBADMSG, "snapshot", "run 'lifeboat check'",
			    "the root tree does not hold one folder");
	if (rc >= 0)
		rc = restore_dir(&f, root.e[0].subtree, fd, "", 0);
	if (rc >= 0) {
		/* the folder itself: its metadata, applied to the target */
		struct lb_tree_entry top = root.e[0];
		char *dot = strdup(".");

		top.name = dot;
		rc = dot ? lb_meta_apply(fd, ".", &top, f.meta_flags & ~LB_META_OWNER) : -ENOMEM;
		free(dot);
	}
	lb_tree_release(&root);
	lb_chunk_reader_free(f.cr);
	for (size_t i = 0; i < f.nlinks; i++)
		free(f.links[i].path);
	free(f.links);
	free(f.buf);
	close(fd);
	res->seconds = now_s() - t0;
	return rc;
}
