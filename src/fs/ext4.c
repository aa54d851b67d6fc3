/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ext4.c - ext2/3/4 through libext2fs, straight over an lb_dev.
 *
 * libext2fs reads and writes through an io_manager, a table of functions
 * that open a "device" by name. Ours (lb_io_manager below) reads and writes
 * an lb_dev, usually a partition slice of an image, so no file or loop device
 * is involved. ext2fs_open2() only takes a name, so the device is handed over
 * through a small registry: lb_ext_fs_open() registers the lb_dev under a
 * unique name ("lbdev:<address>:<serial>"), ext2fs_open2() asks our manager
 * to open that name, the channel takes its own reference to the device, and
 * the name is unregistered again as soon as ext2fs_open2() returns.
 *
 * Writing: libext2fs writes metadata in place, without the journal (as
 * debugfs does). That is safe only on a file system that is consistent, so
 * opening for writing is refused (-EPERM; read-only still works) when the
 * journal needs recovery (the state a crashed Linux leaves), when the file
 * system was not cleanly unmounted or has errors recorded, when it uses
 * multi-mount protection, or when it has features libext2fs cannot write.
 *
 * Errors: libext2fs returns errcode_t values (its own table, or errno
 * values our channel passed up); ext_error() turns one into a negative errno
 * with error_message()'s text, once, where the library was called. When the
 * device itself failed, the device's own record is kept (the channel saves
 * it, since libext2fs knows nothing about lb_err).
 *
 * Names compare as bytes (case-sensitive); a path component is looked up
 * with ext2fs_lookup() in the directory found so far; symlinks are never
 * followed.
 */
#include "fs/fs_int.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/util.h"

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <et/com_err.h>

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the device registry ------------------------------------------------ */

struct reg_entry {
	struct reg_entry *next;
	struct lb_dev *dev; /* borrowed: the channel takes its own reference */
	char name[64];
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg_entry *reg_head;
static unsigned long reg_serial;

static void reg_add(struct reg_entry *e, struct lb_dev *dev)
{
	pthread_mutex_lock(&reg_lock);
	e->dev = dev;
	snprintf(e->name, sizeof(e->name), "lbdev:%p:%lu", (void *)dev, ++reg_serial);
	e->next = reg_head;
	reg_head = e;
	pthread_mutex_unlock(&reg_lock);
}

static void reg_remove(struct reg_entry *e)
{
	pthread_mutex_lock(&reg_lock);
	for (struct reg_entry **pp = &reg_head; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	pthread_mutex_unlock(&reg_lock);
}

/* The device registered as @name, with a new reference, or NULL. */
static struct lb_dev *reg_get(const char *name)
{
	struct lb_dev *dev = NULL;

	pthread_mutex_lock(&reg_lock);
	for (struct reg_entry *e = reg_head; e; e = e->next) {
		if (!strcmp(e->name, name)) {
			dev = lb_dev_ref(e->dev);
			break;
		}
	}
	pthread_mutex_unlock(&reg_lock);
	return dev;
}

/* ---- the io_manager ------------------------------------------------------ */

struct chan {
	struct lb_dev *dev; /* reference held */
	bool rw;
	struct struct_io_stats stats;
};

/*
 * The device error behind the last errno-valued errcode_t our channel
 * returned in this thread, so that ext_error() can report the device's own
 * message rather than strerror().
 */
static _Thread_local struct lb_error io_err;
static _Thread_local bool io_err_set;

static errcode_t chan_fail(int r)
{
	lb_err_save(&io_err);
	io_err_set = true;
	return (errcode_t)-r;
}

static struct struct_io_manager lb_io_manager_struct;

static errcode_t ch_open(const char *name, int flags, io_channel *out)
{
	struct lb_dev *dev;
	io_channel io;
	struct chan *c;

	if (!name)
		return EXT2_ET_BAD_DEVICE_NAME;
	dev = reg_get(name);
	if (!dev)
		return EXT2_ET_BAD_DEVICE_NAME;
	if ((flags & IO_FLAG_RW) && dev->read_only) {
		lb_dev_unref(dev);
		return EXT2_ET_RO_FILSYS;
	}
	io = calloc(1, sizeof(*io));
	c = calloc(1, sizeof(*c));
	if (io)
		io->name = strdup(name);
	if (!io || !c || !io->name) {
		if (io)
			free(io->name);
		free(io);
		free(c);
		lb_dev_unref(dev);
		return EXT2_ET_NO_MEMORY;
	}
	c->dev = dev;
	c->rw = flags & IO_FLAG_RW;
	c->stats.num_fields = 2;
	io->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	io->manager = &lb_io_manager_struct;
	io->block_size = 1024;
	io->refcount = 1;
	io->private_data = c;
	*out = io;
	return 0;
}

static errcode_t ch_close(io_channel io)
{
	struct chan *c;

	if (!io || io->magic != EXT2_ET_MAGIC_IO_CHANNEL)
		return EXT2_ET_MAGIC_IO_CHANNEL;
	if (--io->refcount > 0)
		return 0;
	c = io->private_data;
	if (c)
		lb_dev_unref(c->dev);
	free(c);
	free(io->name);
	free(io);
	return 0;
}

static errcode_t ch_set_blksize(io_channel io, int blksize)
{
	if (blksize <= 0 || blksize > (1 << 20))
		return EXT2_ET_INVALID_ARGUMENT;
	io->block_size = blksize;
	return 0;
}

/* Byte range of @count blocks at @block (count < 0: -count bytes). */
static errcode_t blk_range(io_channel io, unsigned long long block, int count, uint64_t *off,
			   size_t *len)
{
	uint64_t o, n;

	if (count < 0)
		n = (uint64_t)(-(int64_t)count);
	else if (__builtin_mul_overflow((uint64_t)count, (uint64_t)io->block_size, &n))
		return EXT2_ET_INVALID_ARGUMENT;
	if (__builtin_mul_overflow((uint64_t)block, (uint64_t)io->block_size, &o) || n > SIZE_MAX)
		return EXT2_ET_INVALID_ARGUMENT;
	*off = o;
	*len = (size_t)n;
	return 0;
}

static errcode_t ch_read_blk64(io_channel io, unsigned long long block, int count, void *data)
{
	struct chan *c = io->private_data;
	uint64_t off, avail;
	size_t len, n;
	errcode_t e;
	int r;

	e = blk_range(io, block, count, &off, &len);
	if (e)
		return e;
	avail = off < c->dev->size ? c->dev->size - off : 0;
	n = (size_t)LB_MIN((uint64_t)len, avail);
	if (n) {
		r = lb_dev_pread(c->dev, data, n, off);
		if (r < 0) {
			e = chan_fail(r);
			n = 0;
			goto fail;
		}
		c->stats.bytes_read += n;
	}
	if (n == len)
		return 0;
	e = EXT2_ET_SHORT_READ; /* past the end of the device: zeros, and say so */
fail:
	memset((uint8_t *)data + n, 0, len - n);
	if (io->read_error)
		return io->read_error(io, (unsigned long)block, count, data, len, (int)n, e);
	return e;
}

static errcode_t ch_read_blk(io_channel io, unsigned long block, int count, void *data)
{
	return ch_read_blk64(io, block, count, data);
}

static errcode_t ch_write_at(io_channel io, uint64_t off, size_t len, const void *data)
{
	struct chan *c = io->private_data;
	int r;

	if (!c->rw)
		return EXT2_ET_RO_FILSYS;
	if (off > c->dev->size || len > c->dev->size - off)
		return EXT2_ET_SHORT_WRITE;
	r = lb_dev_pwrite(c->dev, data, len, off);
	if (r < 0)
		return chan_fail(r);
	c->stats.bytes_written += len;
	return 0;
}

static errcode_t ch_write_blk64(io_channel io, unsigned long long block, int count,
				const void *data)
{
	uint64_t off = 0;
	size_t len = 0;
	errcode_t e = blk_range(io, block, count, &off, &len);

	if (!e)
		e = ch_write_at(io, off, len, data);
	if (e && io->write_error)
		return io->write_error(io, (unsigned long)block, count, data, len, 0, e);
	return e;
}

static errcode_t ch_write_blk(io_channel io, unsigned long block, int count, const void *data)
{
	return ch_write_blk64(io, block, count, data);
}

static errcode_t ch_write_byte(io_channel io, unsigned long offset, int count, const void *data)
{
	if (count < 0)
		return EXT2_ET_INVALID_ARGUMENT;
	return ch_write_at(io, offset, (size_t)count, data);
}

static errcode_t ch_flush(io_channel io)
{
	struct chan *c = io->private_data;
	int r;

	if (!c->rw)
		return 0;
	r = lb_dev_flush(c->dev);
	return r < 0 ? chan_fail(r) : 0;
}

static errcode_t ch_set_option(io_channel io, const char *option, const char *arg)
{
	(void)io;
	(void)option;
	(void)arg;
	return EXT2_ET_INVALID_ARGUMENT; /* no options: the slice below does offsets */
}

static errcode_t ch_get_stats(io_channel io, io_stats *stats)
{
	struct chan *c = io->private_data;

	if (stats)
		*stats = &c->stats;
	return 0;
}

static struct struct_io_manager lb_io_manager_struct = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "lifeboat lb_dev I/O manager",
	.open = ch_open,
	.close = ch_close,
	.set_blksize = ch_set_blksize,
	.read_blk = ch_read_blk,
	.write_blk = ch_write_blk,
	.flush = ch_flush,
	.write_byte = ch_write_byte,
	.set_option = ch_set_option,
	.get_stats = ch_get_stats,
	.read_blk64 = ch_read_blk64,
	.write_blk64 = ch_write_blk64,
	/* discard, cache_readahead, zeroout: optional; libext2fs falls back */
};

/* ---- errors ----------------------------------------------------------------- */

static pthread_once_t et_once = PTHREAD_ONCE_INIT;

static void et_init(void)
{
	initialize_ext2_error_table();
}

static int code_to_errno(errcode_t code)
{
	if (code > 0 && code < 4096)
		return -(int)code; /* an errno value, from our channel or libc */
	switch (code) {
	case EXT2_ET_NO_MEMORY:
		return -ENOMEM;
	case EXT2_ET_BAD_MAGIC:
		return -EMEDIUMTYPE;
	case EXT2_ET_UNSUPP_FEATURE:
	case EXT2_ET_REV_TOO_HIGH:
	case EXT2_ET_UNIMPLEMENTED:
	case EXT2_ET_OP_NOT_SUPPORTED:
	case EXT2_ET_UNKNOWN_CSUM:
		return -ENOTSUP;
	case EXT2_ET_RO_UNSUPP_FEATURE:
		return -EPERM;
	case EXT2_ET_SHORT_READ:
	case EXT2_ET_SHORT_WRITE:
	case EXT2_ET_LLSEEK_FAILED:
		return -EIO;
	case EXT2_ET_FILE_NOT_FOUND:
		return -ENOENT;
	case EXT2_ET_NO_DIRECTORY:
		return -ENOTDIR;
	case EXT2_ET_DIR_NO_SPACE:
	case EXT2_ET_BLOCK_ALLOC_FAIL:
	case EXT2_ET_INODE_ALLOC_FAIL:
	case EXT2_ET_EA_NO_SPACE:
	case EXT2_ET_INLINE_DATA_NO_SPACE:
	case EXT2_ET_DIR_NO_SPACE_FOR_CSUM:
	case EXT2_ET_EXTENT_NO_SPACE:
	case EXT2_ET_TOOSMALL:
		return -ENOSPC;
	case EXT2_ET_RO_FILSYS:
	case EXT2_ET_FILE_RO:
		return -EROFS;
	case EXT2_ET_FILE_TOO_BIG:
		return -EFBIG;
	case EXT2_ET_INVALID_ARGUMENT:
	case EXT2_ET_BAD_DEVICE_NAME:
		return -EINVAL;
	default:
		/* the rest of the table describes damage: bad block numbers,
		 * corrupt directories, extents, checksums, descriptors */
		return -EBADMSG;
	}
}

static const char *hint_for(int r)
{
	switch (r) {
	case -EBADMSG:
		return "the ext file system is damaged; check it with e2fsck -fn on a copy";
	case -ENOSPC:
		return "free space on the volume, or grow it";
	case -ENOTSUP:
		return "this ext feature is not supported by the installed libext2fs";
	default:
		return NULL;
	}
}

/*
 * Turn a libext2fs error into a negative errno, recorded once: "@what
 * failed: <error_message>" about @object. A device error keeps the device's
 * record, with @object in front.
 */
static int ext_error(errcode_t code, const char *object, const char *what)
{
	int r = code_to_errno(code);

	if (r > -4096 && r < 0 && io_err_set && io_err.code == r) {
		io_err_set = false;
		lb_err_restore(&io_err);
		lb_err_context("%s", object);
		return r;
	}
	pthread_once(&et_once, et_init);
	return lb_err(r, object, hint_for(r), "%s: %s", what, error_message(code));
}

/* ---- the file system ---------------------------------------------------- */

struct ext_fs {
	ext2_filsys efs;
	bool bitmaps_loaded;
};

static ext2_filsys efs_of(const struct lb_fs *fs)
{
	return ((const struct ext_fs *)fs->priv)->efs;
}

/* Read inode @ino in full (extra fields zeroed when the inode is small). */
static int read_inode(struct lb_fs *fs, ext2_ino_t ino, struct ext2_inode_large *in,
		      const char *path)
{
	errcode_t e;

	memset(in, 0, sizeof(*in));
	e = ext2fs_read_inode_full(efs_of(fs), ino, EXT2_INODE(in), sizeof(*in));
	if (e)
		return ext_error(e, path, "reading the inode");
	return 0;
}

static int write_inode(struct lb_fs *fs, ext2_ino_t ino, struct ext2_inode_large *in,
		       const char *path)
{
	errcode_t e = ext2fs_write_inode_full(efs_of(fs), ino, EXT2_INODE(in), sizeof(*in));

	if (e)
		return ext_error(e, path, "writing the inode");
	return 0;
}

/* Bytes of @in that hold valid fields: 128 for small inodes, more with extra fields. */
static size_t inode_valid_size(ext2_filsys efs, const struct ext2_inode_large *in)
{
	size_t isz = EXT2_INODE_SIZE(efs->super);
	size_t have;

	if (isz <= EXT2_GOOD_OLD_INODE_SIZE)
		return EXT2_GOOD_OLD_INODE_SIZE;
	have = EXT2_GOOD_OLD_INODE_SIZE + (size_t)in->i_extra_isize;
	/* i_extra_isize comes from disk: never trust it past the inode or our buffer */
	if (have > isz || have > sizeof(*in))
		return EXT2_GOOD_OLD_INODE_SIZE;
	return have;
}

/* seconds (32 bits, signed) + extra (epoch bits and nanoseconds) */
static struct timespec decode_time(uint32_t lo, const uint32_t *extra)
{
	struct timespec ts = {.tv_sec = (int32_t)lo, .tv_nsec = 0};

	if (extra) {
		ts.tv_sec += (int64_t)(*extra & EXT4_EPOCH_MASK) << 32;
		ts.tv_nsec = (long)(*extra >> EXT4_EPOCH_BITS);
		if (ts.tv_nsec > 999999999)
			ts.tv_nsec = 0;
	}
	return ts;
}

static void encode_time(const struct timespec *ts, uint32_t *lo, uint32_t *extra)
{
	int64_t s = ts->tv_sec;

	*lo = (uint32_t)s;
	if (extra)
		*extra = (uint32_t)((((uint64_t)(s - (int32_t)s)) >> 32) & EXT4_EPOCH_MASK) |
			 (uint32_t)ts->tv_nsec << EXT4_EPOCH_BITS;
}

#define HAS(sz, field) inode_includes(sz, field)

static void fill_stat(ext2_filsys efs, ext2_ino_t ino, const struct ext2_inode_large *in,
		      struct lb_fs_stat *st)
{
	size_t vs = inode_valid_size(efs, in);
	uint16_t m = in->i_mode;

	memset(st, 0, sizeof(*st));
	if (LINUX_S_ISREG(m))
		st->type = LB_FT_FILE;
	else if (LINUX_S_ISDIR(m))
		st->type = LB_FT_DIR;
	else if (LINUX_S_ISLNK(m))
		st->type = LB_FT_SYMLINK;
	else
		st->type = LB_FT_OTHER;
	st->ino = ino;
	st->size = EXT2_I_SIZE(in);
	st->allocated = (uint64_t)ext2fs_get_stat_i_blocks(efs, EXT2_INODE((void *)in)) * 512;
	st->mode = m;
	st->uid = inode_uid(*in);
	st->gid = inode_gid(*in);
	st->nlink = in->i_links_count;
	st->mtime = decode_time(in->i_mtime, HAS(vs, i_mtime_extra) ? &in->i_mtime_extra : NULL);
	st->ctime = decode_time(in->i_ctime, HAS(vs, i_ctime_extra) ? &in->i_ctime_extra : NULL);
	st->atime = decode_time(in->i_atime, HAS(vs, i_atime_extra) ? &in->i_atime_extra : NULL);
	if (HAS(vs, i_crtime))
		st->btime = decode_time(in->i_crtime,
					HAS(vs, i_crtime_extra) ? &in->i_crtime_extra : NULL);
}

/*
 * Walk @path from the root. Returns 0 with the inode in @ino and, if
 * @parent is not NULL, the directory holding it (the root for the root).
 * Only the first @len bytes of @path are used.
 */
static int lookup_n(struct lb_fs *fs, const char *path, size_t len, ext2_ino_t *ino,
		    ext2_ino_t *parent)
{
	ext2_filsys efs = efs_of(fs);
	ext2_ino_t cur = EXT2_ROOT_INO, up = EXT2_ROOT_INO;
	size_t i = 0;

	while (i < len) {
		size_t s = i, n;
		ext2_ino_t child;
		errcode_t e;

		while (i < len && path[i] != '/')
			i++;
		n = i - s;
		if (n > EXT2_NAME_LEN)
			return lb_err(-ENAMETOOLONG, path, NULL,
				      "a name is longer than ext's %d bytes", EXT2_NAME_LEN);
		e = ext2fs_lookup(efs, cur, path + s, (int)n, NULL, &child);
		if (e == EXT2_ET_FILE_NOT_FOUND)
			return lb_err(-ENOENT, path, NULL, "'%.*s' does not exist", (int)n,
				      path + s);
		if (e == EXT2_ET_NO_DIRECTORY)
			return lb_err(-ENOTDIR, path, NULL, "'%.*s' is not a directory", (int)s,
				      path);
		if (e)
			return ext_error(e, path, "looking the name up");
		up = cur;
		cur = child;
		if (i < len)
			i++; /* the '/' */
	}
	*ino = cur;
	if (parent)
		*parent = up;
	return 0;
}

static int lookup(struct lb_fs *fs, const char *path, ext2_ino_t *ino)
{
	return lookup_n(fs, path, strlen(path), ino, NULL);
}

static int ext_stat(struct lb_fs *fs, const char *path, struct lb_fs_stat *st, char *stored,
		    size_t stored_cap)
{
	struct ext2_inode_large in;
	ext2_ino_t ino = 0;
	size_t n = strlen(path);
	int r;

	r = lookup(fs, path, &ino);
	if (r < 0)
		return r;
	r = read_inode(fs, ino, &in, path);
	if (r < 0)
		return r;
	fill_stat(efs_of(fs), ino, &in, st);
	if (stored) {
		/* names compare as bytes: the stored spelling is the path itself */
		if (n + 1 > stored_cap)
			return lb_err(-ENAMETOOLONG, path, NULL,
				      "the path does not fit the buffer");
		memcpy(stored, path, n + 1);
	}
	return 0;
}

struct rd_ctx {
	struct lb_fs *fs;
	const char *path;
	lb_fs_dir_fn fn;
	void *opaque;
	int r;
};

static int rd_entry(struct ext2_dir_entry *d, int offset, int blocksize, char *buf, void *priv)
{
	struct rd_ctx *ctx = priv;
	struct ext2_inode_large in;
	struct lb_fs_dirent ent;
	char name[EXT2_NAME_LEN + 1];
	int len = ext2fs_dirent_name_len(d);
	int r;

	(void)offset;
	(void)blocksize;
	(void)buf;
	if (!d->inode || len <= 0)
		return 0;
	if ((len == 1 && d->name[0] == '.') || (len == 2 && d->name[0] == '.' && d->name[1] == '.'))
		return 0;
	/* a name with '/' or NUL cannot be addressed by a path: damaged entry, skip it */
	if (memchr(d->name, '/', (size_t)len) || memchr(d->name, '\0', (size_t)len))
		return 0;
	memcpy(name, d->name, (size_t)len);
	name[len] = '\0';
	r = read_inode(ctx->fs, d->inode, &in, ctx->path);
	if (r < 0) {
		lb_err_context("%s", name);
		ctx->r = r;
		return DIRENT_ABORT;
	}
	ent.name = name;
	fill_stat(efs_of(ctx->fs), d->inode, &in, &ent.st);
	r = ctx->fn(ctx->opaque, &ent);
	if (r < 0) {
		ctx->r = r;
		return DIRENT_ABORT;
	}
	return 0;
}

static int ext_readdir(struct lb_fs *fs, const char *path, lb_fs_dir_fn fn, void *opaque)
{
	struct rd_ctx ctx = {.fs = fs, .path = path, .fn = fn, .opaque = opaque};
	ext2_ino_t ino = 0;
	errcode_t e;
	int r;

	r = lookup(fs, path, &ino);
	if (r < 0)
		return r;
	e = ext2fs_dir_iterate(efs_of(fs), ino, 0, NULL, rd_entry, &ctx);
	if (ctx.r < 0)
		return ctx.r;
	if (e == EXT2_ET_NO_DIRECTORY)
		return lb_err(-ENOTDIR, path[0] ? path : "/", NULL, "not a directory");
	if (e)
		return ext_error(e, path[0] ? path : "/", "reading the directory");
	return 0;
}

/* Read up to @len bytes at @off of inode @ino into @buf. Returns the count. */
static ssize_t read_data(struct lb_fs *fs, ext2_ino_t ino, struct ext2_inode_large *in, void *buf,
			 size_t len, uint64_t off, const char *path)
{
	ext2_file_t f;
	errcode_t e;
	size_t done = 0;

	e = ext2fs_file_open2(efs_of(fs), ino, EXT2_INODE(in), 0, &f);
	if (e)
		return ext_error(e, path, "opening the file");
	e = ext2fs_file_llseek(f, off, EXT2_SEEK_SET, NULL);
	while (!e && done < len) {
		unsigned int want = (unsigned int)LB_MIN(len - done, (size_t)1 << 30), got = 0;

		e = ext2fs_file_read(f, (uint8_t *)buf + done, want, &got);
		if (e || !got)
			break;
		done += got;
	}
	ext2fs_file_close(f);
	if (e)
		return ext_error(e, path, "reading the file");
	return (ssize_t)done;
}

static ssize_t ext_pread(struct lb_fs *fs, const char *path, void *buf, size_t len, uint64_t off)
{
	struct ext2_inode_large in;
	ext2_ino_t ino = 0;
	uint64_t size;
	int r;

	r = lookup(fs, path, &ino);
	if (r < 0)
		return r;
	r = read_inode(fs, ino, &in, path);
	if (r < 0)
		return r;
	if (LINUX_S_ISDIR(in.i_mode))
		return lb_err(-EISDIR, path, NULL, "is a directory");
	if (!LINUX_S_ISREG(in.i_mode))
		return lb_err(-EINVAL, path, NULL, "not a regular file");
	size = EXT2_I_SIZE(&in);
	if (off >= size || !len)
		return 0;
	len = (size_t)LB_MIN((uint64_t)len, size - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	return read_data(fs, ino, &in, buf, len, off, path);
}

static ssize_t ext_readlink(struct lb_fs *fs, const char *path, char *buf, size_t cap)
{
	ext2_filsys efs = efs_of(fs);
	struct ext2_inode_large in;
	ext2_ino_t ino = 0;
	uint64_t size;
	ssize_t n;
	int r;

	r = lookup(fs, path, &ino);
	if (r < 0)
		return r;
	r = read_inode(fs, ino, &in, path);
	if (r < 0)
		return r;
	if (!LINUX_S_ISLNK(in.i_mode))
		return lb_err(-EINVAL, path, NULL, "not a symbolic link");
	size = EXT2_I_SIZE(&in);
	if (!size || size >= efs->blocksize || size >= PATH_MAX)
		return lb_err(-EBADMSG, path, hint_for(-EBADMSG),
			      "impossible symbolic link length %" PRIu64, size);
	if (size + 1 > cap)
		return lb_err(-ENAMETOOLONG, path, NULL, "the link target is longer than %zu bytes",
			      cap ? cap - 1 : 0);
	if (in.i_flags & EXT4_INLINE_DATA_FL) {
		_cleanup_free_ char *tmp = NULL;
		size_t isz = 0;
		errcode_t e = ext2fs_inline_data_size(efs, ino, &isz);

		if (!e && isz < size)
			e = EXT2_ET_INODE_CORRUPTED;
		if (!e) {
			tmp = malloc(isz ? isz : 1);
			if (!tmp)
				return -ENOMEM;
			e = ext2fs_inline_data_get(efs, ino, EXT2_INODE(&in), tmp, &isz);
		}
		if (e)
			return ext_error(e, path, "reading the inline symbolic link");
		memcpy(buf, tmp, (size_t)size);
	} else if (ext2fs_is_fast_symlink(EXT2_INODE(&in))) {
		memcpy(buf, in.i_block, (size_t)size); /* size < sizeof(i_block), checked there */
	} else {
		n = read_data(fs, ino, &in, buf, (size_t)size, 0, path);
		if (n < 0)
			return n;
		if ((uint64_t)n != size)
			return lb_err(-EBADMSG, path, hint_for(-EBADMSG),
				      "the symbolic link's block holds %zd of %" PRIu64 " bytes", n,
				      size);
	}
	buf[size] = '\0';
	return (ssize_t)strlen(buf); /* a NUL inside ends the target */
}

/* ---- changes -------------------------------------------------------------- */

static int load_bitmaps(struct lb_fs *fs)
{
	struct ext_fs *x = fs->priv;
	errcode_t e;

	if (x->bitmaps_loaded)
		return 0;
	e = ext2fs_read_bitmaps(x->efs);
	if (e)
		return ext_error(e, "allocation bitmaps", "reading the bitmaps");
	x->bitmaps_loaded = true;
	return 0;
}

static void now_ts(struct timespec *ts)
{
	if (clock_gettime(CLOCK_REALTIME, ts) < 0) {
		ts->tv_sec = time(NULL);
		ts->tv_nsec = 0;
	}
}

/* Set the times named by @mtime/@ctime of @in to @ts. */
static void set_times(ext2_filsys efs, struct ext2_inode_large *in, const struct timespec *ts,
		      bool mtime, bool ctime)
{
	size_t vs = inode_valid_size(efs, in);

	if (mtime)
		encode_time(ts, &in->i_mtime, HAS(vs, i_mtime_extra) ? &in->i_mtime_extra : NULL);
	if (ctime)
		encode_time(ts, &in->i_ctime, HAS(vs, i_ctime_extra) ? &in->i_ctime_extra : NULL);
}

static int ext_unlink(struct lb_fs *fs, const char *path)
{
	ext2_filsys efs = efs_of(fs);
	struct ext2_inode_large in, dir;
	const char *slash = strrchr(path, '/');
	const char *leaf = slash ? slash + 1 : path;
	ext2_ino_t ino = 0, dino = 0;
	struct timespec now;
	errcode_t e;
	int r;

	r = lookup_n(fs, path, slash ? (size_t)(slash - path) : 0, &dino, NULL);
	if (r < 0)
		return r;
	r = lookup(fs, path, &ino);
	if (r < 0)
		return r;
	r = read_inode(fs, ino, &in, path);
	if (r < 0)
		return r;
	if (LINUX_S_ISDIR(in.i_mode))
		return lb_err(-EISDIR, path, NULL,
			      "is a directory; lifeboat never removes directories");
	if (!LINUX_S_ISREG(in.i_mode) && !LINUX_S_ISLNK(in.i_mode))
		return lb_err(-EPERM, path, NULL,
			      "not a regular file or symbolic link; lifeboat removes only those");
	r = load_bitmaps(fs);
	if (r < 0)
		return r;
	now_ts(&now);

	e = ext2fs_unlink(efs, dino, leaf, ino, 0);
	if (e)
		return ext_error(e, path, "removing the directory entry");

	if (in.i_links_count > 1) {
		in.i_links_count--;
		set_times(efs, &in, &now, false, true);
	} else {
		/* last link: give back the blocks, extended attributes and inode */
		in.i_links_count = 0;
		e = ext2fs_free_ext_attr(efs, ino, &in);
		if (e)
			return ext_error(e, path, "freeing the extended attributes");
		if (ext2fs_inode_has_valid_blocks2(efs, EXT2_INODE(&in))) {
			e = ext2fs_punch(efs, ino, EXT2_INODE(&in), NULL, 0, ~0ULL);
			if (e)
				return ext_error(e, path, "freeing the data blocks");
		}
		set_times(efs, &in, &now, false, true);
		in.i_dtime = (uint32_t)now.tv_sec;
	}
	r = write_inode(fs, ino, &in, path);
	if (r < 0)
		return r;
	if (!in.i_links_count)
		ext2fs_inode_alloc_stats2(efs, ino, -1, 0);

	/* the directory changed */
	r = read_inode(fs, dino, &dir, path);
	if (r < 0)
		return r;
	set_times(efs, &dir, &now, true, true);
	r = write_inode(fs, dino, &dir, path);
	if (r < 0)
		return r;
	ext2fs_mark_super_dirty(efs);
	return 0;
}

static int ext_replace(struct lb_fs *fs, const char *path, const void *data, size_t len)
{
	ext2_filsys efs = efs_of(fs);
	struct ext2_inode_large in;
	struct timespec now;
	ext2_ino_t ino = 0;
	ext2_file_t f;
	errcode_t e, e2;
	size_t done = 0;
	int r;

	r = lookup(fs, path, &ino);
	if (r < 0)
		return r;
	r = read_inode(fs, ino, &in, path);
	if (r < 0)
		return r;
	if (LINUX_S_ISDIR(in.i_mode))
		return lb_err(-EISDIR, path, NULL, "is a directory");
	if (!LINUX_S_ISREG(in.i_mode))
		return lb_err(-EINVAL, path, NULL, "not a regular file");
	r = load_bitmaps(fs);
	if (r < 0)
		return r;

	e = ext2fs_file_open(efs, ino, EXT2_FILE_WRITE, &f);
	if (e)
		return ext_error(e, path, "opening the file for writing");
	/*
	 * One block at a time: libext2fs 1.47.0 copies a whole write into its
	 * three-block buffer when the file still holds inline data (before it
	 * moves the data out of the inode), so a larger write overflows it.
	 */
	while (!e && done < len) {
		unsigned int want = (unsigned int)LB_MIN(len - done, (size_t)efs->blocksize),
			     put = 0;

		e = ext2fs_file_write(f, (const uint8_t *)data + done, want, &put);
		if (!e && !put)
			e = EXT2_ET_SHORT_WRITE;
		done += put;
	}
	if (!e)
		e = ext2fs_file_set_size2(f, len);
	e2 = ext2fs_file_close(f);
	if (!e)
		e = e2;
	if (e)
		return ext_error(e, path, "writing the file");

	r = read_inode(fs, ino, &in, path);
	if (r < 0)
		return r;
	now_ts(&now);
	set_times(efs, &in, &now, true, true);
	r = write_inode(fs, ino, &in, path);
	if (r < 0)
		return r;
	ext2fs_mark_super_dirty(efs);
	return 0;
}

static int ext_close(struct lb_fs *fs)
{
	struct ext_fs *x = fs->priv;
	errcode_t e;
	int r = 0;

	if (!x)
		return 0;
	io_err_set = false;
	e = ext2fs_close2(x->efs, 0);
	if (e) {
		r = ext_error(e, fs->dev->name, "writing the file system back");
		ext2fs_free(x->efs); /* ext2fs_close2 frees only on success */
	}
	free(x);
	fs->priv = NULL;
	return r;
}

static const struct lb_fs_ops ext_ops[3] = {
#define EXT_OPS(k)                                                                        \
	{                                                                                 \
		.kind = k, .case_insensitive = false, .close = ext_close, .upcase = NULL, \
		.stat = ext_stat, .readdir = ext_readdir, .pread = ext_pread,             \
		.readlink = ext_readlink, .unlink = ext_unlink, .replace = ext_replace,   \
	}
	EXT_OPS(LB_FS_EXT2),
	EXT_OPS(LB_FS_EXT3),
	EXT_OPS(LB_FS_EXT4),
#undef EXT_OPS
};

static enum lb_fs_kind ext_kind(struct ext2_super_block *sb)
{
	if (ext2fs_has_feature_extents(sb) || ext2fs_has_feature_64bit(sb) ||
	    ext2fs_has_feature_flex_bg(sb) || ext2fs_has_feature_huge_file(sb) ||
	    ext2fs_has_feature_dir_nlink(sb) || ext2fs_has_feature_extra_isize(sb) ||
	    ext2fs_has_feature_metadata_csum(sb))
		return LB_FS_EXT4;
	if (ext2fs_has_feature_journal(sb))
		return LB_FS_EXT3;
	return LB_FS_EXT2;
}

/* -EPERM (recorded) when writing this file system would be unsafe, else 0. */
static int refuse_write(struct ext2_super_block *sb, const char *name)
{
	if (ext2fs_has_feature_journal_needs_recovery(sb))
		return lb_err(-EPERM, name,
			      "run e2fsck -fy on the image (or boot the VM once) to replay the "
			      "journal; reading works without that",
			      "the ext journal holds changes not yet written (the system crashed "
			      "or was not shut down); writing now could corrupt the file system");
	if (!(sb->s_state & EXT2_VALID_FS) || (sb->s_state & EXT2_ERROR_FS))
		return lb_err(-EPERM, name,
			      "run e2fsck -fy on the image first; reading works without that",
			      "the ext file system %s; writing to it could make it worse",
			      (sb->s_state & EXT2_ERROR_FS) ? "has errors recorded"
							    : "was not cleanly unmounted");
	if (ext2fs_has_feature_mmp(sb))
		return lb_err(-EPERM, name, "open it read-only",
			      "the ext file system uses multi-mount protection, which lifeboat "
			      "does not take part in");
	return 0;
}

int lb_ext_fs_open(struct lb_fs *fs, unsigned flags)
{
	const char *name = fs->dev->name ? fs->dev->name : "ext file system";
	bool rw = !(flags & LB_FS_RDONLY);
	struct reg_entry reg;
	struct ext_fs *x;
	ext2_filsys efs = NULL;
	struct ext2_super_block *sb;
	errcode_t e;
	int r;

	pthread_once(&et_once, et_init);
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	io_err_set = false;
	reg_add(&reg, fs->dev);
	e = ext2fs_open2(reg.name, NULL,
			 EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP | (rw ? EXT2_FLAG_RW : 0), 0, 0,
			 &lb_io_manager_struct, &efs);
	reg_remove(&reg);
	if (e) {
		free(x);
		if (e == EXT2_ET_RO_UNSUPP_FEATURE)
			return lb_err(
				-EPERM, name, "open it read-only",
				"the ext file system has features this libext2fs cannot write");
		if (e == EXT2_ET_UNSUPP_FEATURE)
			return lb_err(
				-ENOTSUP, name, "update e2fsprogs (libext2fs)",
				"the ext file system has features this libext2fs cannot read");
		r = code_to_errno(e);
		if (r == -EBADMSG || r == -EMEDIUMTYPE) {
			pthread_once(&et_once, et_init);
			return lb_err(
				r, name,
				"the superblock or group descriptors are damaged: e2fsck -b "
				"32768 (or 8193 with 1 KiB blocks) can repair them from a backup "
				"superblock; try it on a copy first",
				"opening the ext file system: %s", error_message(e));
		}
		return ext_error(e, name, "opening the ext file system");
	}
	sb = efs->super;
	fs->info.kind = ext_kind(sb);
	fs->info.was_dirty = ext2fs_has_feature_journal_needs_recovery(sb) ||
			     !(sb->s_state & EXT2_VALID_FS) || (sb->s_state & EXT2_ERROR_FS);
	lb_copy_label((const uint8_t *)sb->s_volume_name, sizeof(sb->s_volume_name), fs->info.label,
		      sizeof(fs->info.label));
	if (rw) {
		r = refuse_write(sb, name);
		if (r < 0) {
			ext2fs_free(efs); /* nothing was written */
			free(x);
			return r;
		}
	}
	x->efs = efs;
	fs->priv = x;
	fs->ops = &ext_ops[fs->info.kind == LB_FS_EXT2 ? 0 : fs->info.kind == LB_FS_EXT3 ? 1 : 2];
	return 0;
}
