/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * treefs.c - a file-tree snapshot as a read-only file system (fs/backend.h),
 * so that ls, find, cat and reg read it in place, like an image snapshot's
 * guest file systems: nothing is restored.
 *
 * The volume's root is the folder that was backed up (the root tree's one
 * entry). A lookup walks tree blobs from there, one per path component,
 * through a small cache of decoded trees; a file's bytes are read chunk by
 * chunk (holes read as zeros). Every blob and chunk is verified on the way
 * (lb_chunk_read), so a damaged repository gives -EBADMSG naming the pack,
 * never wrong bytes.
 */
#include "repo/backup.h"
#include "repo/tree.h"
#include "fs/backend.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TREE_CACHE 8

struct cached_tree {
	bool used;
	uint8_t id[LB_ID_LEN];
	uint64_t stamp;
	struct lb_tree t;
};

struct treefs {
	struct lb_repo *r;
	struct lb_chunk_reader *cr;
	struct lb_tree_entry top; /* the folder backed up (name and metadata) */
	struct cached_tree cache[TREE_CACHE];
	uint64_t clock;
	/* the last chunk read, for sequential reads */
	bool have_chunk;
	uint8_t chunk_id[LB_ID_LEN];
	uint8_t *chunk;
	size_t chunk_len;
};

static int load_tree(struct treefs *t, const uint8_t id[LB_ID_LEN], const struct lb_tree **out)
{
	struct cached_tree *slot = &t->cache[0];
	_cleanup_free_ uint8_t *blob = NULL;
	size_t len;
	int rc;

	for (int i = 0; i < TREE_CACHE; i++) {
		struct cached_tree *c = &t->cache[i];

		if (c->used && !memcmp(c->id, id, LB_ID_LEN)) {
			c->stamp = ++t->clock;
			*out = &c->t;
			return 0;
		}
		if (!c->used || c->stamp < slot->stamp)
			slot = c;
		if (!c->used)
			break;
	}
	rc = lb_chunk_read_alloc(t->cr, id, &blob, &len);
	if (rc < 0)
		return rc;
	if (slot->used)
		lb_tree_release(&slot->t);
	slot->used = false;
	rc = lb_tree_decode(blob, len, &slot->t);
	if (rc < 0)
		return rc;
	slot->used = true;
	memcpy(slot->id, id, LB_ID_LEN);
	slot->stamp = ++t->clock;
	*out = &slot->t;
	return 0;
}

static const struct lb_tree_entry *find_entry(const struct lb_tree *t, const char *name,
					      size_t len)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *n = t->e[mid].name;
		int c = strncmp(n, name, len);

		if (c == 0 && n[len])
			c = 1;
		if (c == 0)
			return &t->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * The entry @path names (normalized: no leading '/'; "" is the root). The
 * pointer stays valid until the next lookup or tree load.
 */
static int lookup(struct treefs *t, const char *path, const struct lb_tree_entry **out)
{
	const struct lb_tree_entry *e = &t->top;
	const char *p = path;

	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		const struct lb_tree *tree;
		int rc;

		if (e->type != LB_TREE_DIR)
			return lb_err(-ENOTDIR, path, NULL, "a component of the path is not a folder");
		rc = load_tree(t, e->subtree, &tree);
		if (rc < 0)
			return rc;
		e = find_entry(tree, p, len);
		if (!e)
			return lb_err(-ENOENT, path, "see 'lifeboat ls' for what the snapshot holds",
				      "no such file or folder in the snapshot");
		p += len;
		if (*p == '/')
			p++;
	}
	*out = e;
	return 0;
}

/*
 * Inode numbers: the hard-link group where there is one (entries of one
 * group are one inode), else a 52-bit hash of the path with bit 52 set
 * (unique in practice; a folder's tree ID would not be: identical folders
 * share one blob). find uses them to avoid walking a folder twice. Below
 * 2^53, so that JSON readers that hold numbers as doubles get them exact.
 */
static uint64_t path_ino(const char *dir, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = dir; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	if (*dir && name)
		h = (h ^ '/') * 0x100000001b3ull;
	for (const char *p = name ? name : ""; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return (h & ((1ull << 52) - 1)) | (1ull << 52);
}

static void entry_stat(const struct lb_tree_entry *e, struct lb_fs_stat *st, const char *dir,
		       const char *name)
{
	static const uint32_t fmt[] = {
		[LB_TREE_FILE] = S_IFREG, [LB_TREE_DIR] = S_IFDIR,   [LB_TREE_SYMLINK] = S_IFLNK,
		[LB_TREE_CHR] = S_IFCHR,  [LB_TREE_BLK] = S_IFBLK,   [LB_TREE_FIFO] = S_IFIFO,
		[LB_TREE_SOCK] = S_IFSOCK,
	};

	memset(st, 0, sizeof(*st));
	switch (e->type) {
	case LB_TREE_FILE:
		st->type = LB_FT_FILE;
		break;
	case LB_TREE_DIR:
		st->type = LB_FT_DIR;
		break;
	case LB_TREE_SYMLINK:
		st->type = LB_FT_SYMLINK;
		break;
	default:
		st->type = LB_FT_OTHER;
		break;
	}
	st->ino = e->hardlink && e->hardlink < (1ull << 52) ? e->hardlink : path_ino(dir, name);
	st->size = e->size;
	st->mtime = e->mtime;
	st->ctime = e->ctime;
	st->atime = e->atime;
	st->mode = ((unsigned)e->type < LB_ARRAY_SIZE(fmt) ? fmt[e->type] : 0) | e->mode;
	st->uid = e->uid;
	st->gid = e->gid;
	st->nlink = 1;
	if (e->type == LB_TREE_FILE)
		for (size_t i = 0; i < e->nruns; i++)
			if (!e->runs[i].hole)
				st->allocated += e->runs[i].len;
}

static int tfs_stat(struct lb_fs *fs, const char *path, struct lb_fs_stat *st, char *stored,
		    size_t stored_cap)
{
	struct treefs *t = fs->priv;
	const struct lb_tree_entry *e;
	int rc = lookup(t, path, &e);

	if (rc < 0)
		return rc;
	entry_stat(e, st, path, NULL);
	if (stored) {
		if (strlen(path) >= stored_cap)
			return lb_err(-ENAMETOOLONG, path, NULL, "the path is too long");
		lb_strlcpy(stored, path, stored_cap);
	}
	return 0;
}

static int tfs_readdir(struct lb_fs *fs, const char *path, lb_fs_dir_fn fn, void *opaque)
{
	struct treefs *t = fs->priv;
	const struct lb_tree_entry *e;
	_cleanup_free_ uint8_t *blob = NULL;
	struct lb_tree tree = {0};
	size_t len;
	int rc = lookup(t, path, &e);

	if (rc < 0)
		return rc;
	if (e->type != LB_TREE_DIR)
		return lb_err(-ENOTDIR, path, NULL, "not a folder");
	/* a private copy: the callback may look other paths up */
	rc = lb_chunk_read_alloc(t->cr, e->subtree, &blob, &len);
	if (rc >= 0)
		rc = lb_tree_decode(blob, len, &tree);
	for (size_t i = 0; rc >= 0 && i < tree.n; i++) {
		struct lb_fs_dirent d = {.name = tree.e[i].name};

		entry_stat(&tree.e[i], &d.st, path, tree.e[i].name);
		rc = fn(opaque, &d);
	}
	lb_tree_release(&tree);
	return rc < 0 ? rc : 0;
}

static int read_chunk(struct treefs *t, const uint8_t id[LB_ID_LEN])
{
	int rc;

	if (t->have_chunk && !memcmp(t->chunk_id, id, LB_ID_LEN))
		return 0;
	t->have_chunk = false;
	rc = lb_chunk_read(t->cr, id, t->chunk, LB_TREE_MAX_DATA_RUN, &t->chunk_len);
	if (rc < 0)
		return rc;
	memcpy(t->chunk_id, id, LB_ID_LEN);
	t->have_chunk = true;
	return 0;
}

static ssize_t tfs_pread(struct lb_fs *fs, const char *path, void *buf, size_t len, uint64_t off)
{
	struct treefs *t = fs->priv;
	const struct lb_tree_entry *e;
	uint64_t pos = 0;
	size_t done = 0;
	int rc = lookup(t, path, &e);

	if (rc < 0)
		return rc;
	if (e->type == LB_TREE_DIR)
		return lb_err(-EISDIR, path, NULL, "a folder, not a file");
	if (e->type != LB_TREE_FILE)
		return lb_err(-EINVAL, path, NULL, "not a regular file");
	if (off >= e->size)
		return 0;
	len = (size_t)LB_MIN((uint64_t)len, e->size - off);
	/* the entry lives in the tree cache, which read_chunk does not touch */
	for (size_t i = 0; i < e->nruns && done < len; i++) {
		const struct lb_tree_run *run = &e->runs[i];
		uint64_t at, n;

		if (off + done >= pos + run->len) {
			pos += run->len;
			continue;
		}
		at = off + done - pos;
		n = LB_MIN(run->len - at, (uint64_t)(len - done));
		if (run->hole) {
			memset((uint8_t *)buf + done, 0, n);
		} else {
			rc = read_chunk(t, run->id);
			if (rc < 0)
				return rc;
			if (t->chunk_len != run->len)
				return lb_err(-EBADMSG, path, "run 'lifeboat check'",
					      "a chunk of the file has %zu bytes, not %" PRIu64,
					      t->chunk_len, run->len);
			memcpy((uint8_t *)buf + done, t->chunk + at, n);
		}
		done += n;
		pos += run->len;
	}
	return (ssize_t)done;
}

static ssize_t tfs_readlink(struct lb_fs *fs, const char *path, char *buf, size_t cap)
{
	struct treefs *t = fs->priv;
	const struct lb_tree_entry *e;
	size_t n;
	int rc = lookup(t, path, &e);

	if (rc < 0)
		return rc;
	if (e->type != LB_TREE_SYMLINK || !e->target)
		return lb_err(-EINVAL, path, NULL, "not a symbolic link");
	n = strlen(e->target);
	if (n >= cap)
		return lb_err(-ENAMETOOLONG, path, NULL, "the link's target is too long");
	memcpy(buf, e->target, n + 1);
	return (ssize_t)n;
}

static void treefs_free(struct treefs *t)
{
	for (int i = 0; i < TREE_CACHE; i++)
		if (t->cache[i].used)
			lb_tree_release(&t->cache[i].t);
	lb_tree_entry_release(&t->top);
	lb_chunk_reader_free(t->cr);
	free(t->chunk);
	free(t);
}

static int tfs_close(struct lb_fs *fs)
{
	treefs_free(fs->priv);
	return 0;
}

static const struct lb_fs_ops treefs_ops = {
	.kind = LB_FS_FILES,
	.close = tfs_close,
	.stat = tfs_stat,
	.readdir = tfs_readdir,
	.pread = tfs_pread,
	.readlink = tfs_readlink,
};

int lb_snapshot_fs_open(struct lb_repo *r, const struct lb_snapshot *s, struct lb_fs **out)
{
	struct lb_fs_open_info info = {.kind = LB_FS_FILES};
	_cleanup_free_ uint8_t *blob = NULL;
	struct lb_tree root = {0};
	struct treefs *t;
	size_t len;
	int rc;

	if (s->kind != LB_SNAP_FILES)
		return lb_err(-EINVAL, s->name, NULL, "an image snapshot is not a file tree");
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->r = r;
	t->chunk = malloc(LB_TREE_MAX_DATA_RUN);
	rc = t->chunk ? lb_chunk_reader_new(r, &t->cr) : -ENOMEM;
	if (rc >= 0)
		rc = lb_chunk_read_alloc(t->cr, s->root, &blob, &len);
	if (rc >= 0)
		rc = lb_tree_decode(blob, len, &root);
	if (rc >= 0 && (root.n != 1 || root.e[0].type != LB_TREE_DIR))
		rc = lb_err(-EBADMSG, "snapshot", "run 'lifeboat check'",
			    "the root tree does not hold one folder");
	if (rc >= 0) {
		/* keep the top folder's entry; the rest of the root tree goes */
		t->top = root.e[0];
		memset(&root.e[0], 0, sizeof(root.e[0]));
		lb_strlcpy(info.label, s->name, sizeof(info.label));
		rc = lb_fs_new(&treefs_ops, t, &info, out);
	}
	lb_tree_release(&root);
	if (rc < 0)
		treefs_free(t);
	return rc;
}
