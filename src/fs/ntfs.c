/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fs/ntfs3g.h"

#include "fs/ntfs.h"
#include "base/err.h"
#include "base/cleanup.h"
#include "base/util.h"

#include <fcntl.h>

#include <linux/fs.h>
#include <linux/hdreg.h>
#include <stdlib.h>
#include <string.h>

struct lb_ntfs {
	ntfs_volume *vol;
	struct lb_dev *dev; /* reference held */
};

struct ndev_priv {
	struct lb_dev *dev;
	s64 pos;
};

/* ---- libntfs-3g log capture ------------------------------------------ */

static _Thread_local char last_msg[512];

static int log_capture(const char *function, const char *file, int line, u32 level, void *data,
		       const char *format, va_list args)
{
	size_t n;

	(void)function, (void)file, (void)line, (void)data;
	if (!(level & (NTFS_LOG_LEVEL_ERROR | NTFS_LOG_LEVEL_PERROR | NTFS_LOG_LEVEL_CRITICAL |
		       NTFS_LOG_LEVEL_WARNING)))
		return 0;
	vsnprintf(last_msg, sizeof(last_msg), format, args);
	n = strlen(last_msg);
	while (n > 0 &&
	       (last_msg[n - 1] == '\n' || last_msg[n - 1] == '.' || last_msg[n - 1] == ' '))
		last_msg[--n] = '\0';
	return (int)n;
}

const char *lb_ntfs_last_message(void)
{
	return last_msg;
}

static void quiet_library(void)
{
	ntfs_log_set_handler(log_capture);
}

/* ---- device operations over an lb_dev --------------------------------- */

static struct lb_dev *ldev(struct ntfs_device *nd)
{
	return ((struct ndev_priv *)nd->d_private)->dev;
}

static int nd_open(struct ntfs_device *nd, int flags)
{
	if (NDevOpen(nd)) {
		errno = EBUSY;
		return -1;
	}
	if ((flags & O_ACCMODE) != O_RDONLY && ldev(nd)->read_only) {
		errno = EROFS;
		return -1;
	}
	if ((flags & O_ACCMODE) == O_RDONLY)
		NDevSetReadOnly(nd);
	else
		NDevClearReadOnly(nd);
	((struct ndev_priv *)nd->d_private)->pos = 0;
	NDevSetOpen(nd);
	return 0;
}

static int nd_sync(struct ntfs_device *nd)
{
	if (!NDevReadOnly(nd) && NDevDirty(nd)) {
		if (lb_dev_flush(ldev(nd)) < 0) {
			errno = EIO;
			return -1;
		}
		NDevClearDirty(nd);
	}
	return 0;
}

static int nd_close(struct ntfs_device *nd)
{
	int r = nd_sync(nd);

	NDevClearOpen(nd);
	return r;
}

static s64 nd_seek(struct ntfs_device *nd, s64 offset, int whence)
{
	struct ndev_priv *p = nd->d_private;
	s64 base;

	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = p->pos;
		break;
	case SEEK_END:
		base = (s64)p->dev->size;
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if ((offset < 0 && -offset > base) || (offset > 0 && base > INT64_MAX - offset)) {
		errno = EINVAL;
		return -1;
	}
	p->pos = base + offset;
	return p->pos;
}

static s64 nd_pread(struct ntfs_device *nd, void *buf, s64 count, s64 offset)
{
	struct lb_dev *dev = ldev(nd);
	uint64_t n;

	if (count < 0 || offset < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)offset >= dev->size)
		return 0;
	n = LB_MIN((uint64_t)count, dev->size - (uint64_t)offset);
	if (n && lb_dev_pread(dev, buf, (size_t)n, (uint64_t)offset) < 0) {
		errno = EIO;
		return -1;
	}
	return (s64)n;
}

static s64 nd_pwrite(struct ntfs_device *nd, const void *buf, s64 count, s64 offset)
{
	struct lb_dev *dev = ldev(nd);
	uint64_t n;

	if (NDevReadOnly(nd)) {
		errno = EROFS;
		return -1;
	}
	if (count < 0 || offset < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)offset >= dev->size) {
		errno = ENOSPC;
		return -1;
	}
	n = LB_MIN((uint64_t)count, dev->size - (uint64_t)offset);
	NDevSetDirty(nd);
	if (n && lb_dev_pwrite(dev, buf, (size_t)n, (uint64_t)offset) < 0) {
		errno = EIO;
		return -1;
	}
	return (s64)n;
}

static s64 nd_read(struct ntfs_device *nd, void *buf, s64 count)
{
	struct ndev_priv *p = nd->d_private;
	s64 n = nd_pread(nd, buf, count, p->pos);

	if (n > 0)
		p->pos += n;
	return n;
}

static s64 nd_write(struct ntfs_device *nd, const void *buf, s64 count)
{
	struct ndev_priv *p = nd->d_private;
	s64 n = nd_pwrite(nd, buf, count, p->pos);

	if (n > 0)
		p->pos += n;
	return n;
}

static int nd_stat(struct ntfs_device *nd, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0600;
	st->st_size = (off_t)ldev(nd)->size;
	st->st_blksize = 4096;
	return 0;
}

static int nd_ioctl(struct ntfs_device *nd, unsigned long request, void *argp)
{
	struct lb_dev *dev = ldev(nd);

	switch (request) {
	case BLKGETSIZE64:
		*(uint64_t *)argp = dev->size;
		return 0;
	case BLKGETSIZE:
		*(unsigned long *)argp = (unsigned long)(dev->size / 512);
		return 0;
	case BLKSSZGET:
		*(int *)argp = (int)dev->sector_size;
		return 0;
	case BLKBSZSET:
		return 0;
	default:
		errno = ENOTTY;
		return -1;
	}
}

static struct ntfs_device_operations lb_ndev_ops = {
	.open = nd_open,
	.close = nd_close,
	.seek = nd_seek,
	.read = nd_read,
	.write = nd_write,
	.pread = nd_pread,
	.pwrite = nd_pwrite,
	.sync = nd_sync,
	.stat = nd_stat,
	.ioctl = nd_ioctl,
};

/* ---- volumes ---------------------------------------------------------- */

int lb_ntfs_open(struct lb_dev *dev, unsigned flags, struct lb_ntfs **out)
{
	struct ndev_priv *p;
	struct ntfs_device *nd;
	struct lb_ntfs *v;
	ntfs_volume *vol;
	int e;

	quiet_library();
	last_msg[0] = '\0';
	p = calloc(1, sizeof(*p));
	v = calloc(1, sizeof(*v));
	if (!p || !v) {
		free(p);
		free(v);
		return -ENOMEM;
	}
	p->dev = lb_dev_ref(dev);
	nd = ntfs_device_alloc(dev->name, 0, &lb_ndev_ops, p);
	if (!nd) {
		lb_dev_unref(dev);
		free(p);
		free(v);
		return -ENOMEM;
	}
	errno = 0;	/* a stale errno must not pick the message below */
	lb_err_clear(); /* so that a failure the device records can be told apart */
	vol = ntfs_device_mount(nd, (flags & LB_NTFS_READ_ONLY) ? NTFS_MNT_RDONLY : NTFS_MNT_NONE);
	if (!vol) {
		e = errno ? errno : EIO;
		ntfs_device_free(nd);
		lb_dev_unref(dev);
		free(p);
		free(v);
		/* the disk below failed (it recorded why): that, not "damaged" */
		if (lb_err_last()->code < 0) {
			int recorded = lb_err_last()->code;

			lb_err_context("NTFS");
			return recorded;
		}
		switch (e) {
		case EIO:
			/* libntfs-3g says EIO for metadata it cannot make sense of, too */
			return lb_err(-EBADMSG, "NTFS", "run chkdsk /f on the volume in Windows",
				      "the volume is damaged%s%s", last_msg[0] ? ": " : "",
				      last_msg);
		case EINVAL:
			return lb_err(-EINVAL, "NTFS",
				      "the volume is damaged; run chkdsk from Windows",
				      "libntfs-3g cannot read the volume%s%s",
				      last_msg[0] ? ": " : "", last_msg);
		case EPERM:
			return lb_err(-EPERM, "NTFS", NULL,
				      "the volume is hibernated or its journal is not clean%s%s",
				      last_msg[0] ? ": " : "", last_msg);
		default:
			return lb_err(-e, "NTFS", NULL, "cannot open the volume: %s%s%s",
				      strerror(e), last_msg[0] ? ": " : "", last_msg);
		}
	}
	ntfs_create_lru_caches(vol);
	v->vol = vol;
	v->dev = dev;
	*out = v;
	return 0;
}

int lb_ntfs_close(struct lb_ntfs *v)
{
	struct ndev_priv *p;
	int r = 0;

	if (!v)
		return 0;
	p = v->vol->dev->d_private;
	if (ntfs_umount(v->vol, FALSE) < 0)
		r = lb_err(-EIO, "NTFS", NULL, "unmount failed: %s",
			   last_msg[0] ? last_msg : strerror(errno));
	lb_dev_unref(p->dev);
	free(p);
	free(v);
	return r;
}

static int logfile_clean(ntfs_volume *vol)
{
	ntfs_inode *ni = ntfs_inode_open(vol, FILE_LogFile);
	ntfs_attr *na;
	RESTART_PAGE_HEADER *rp = NULL;
	int clean;

	if (!ni)
		return -1;
	na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (!na) {
		ntfs_inode_close(ni);
		return -1;
	}
	if (!ntfs_check_logfile(na, &rp))
		clean = 0;
	else
		clean = ntfs_is_logfile_clean(na, rp) ? 1 : 0;
	free(rp);
	ntfs_attr_close(na);
	ntfs_inode_close(ni);
	return clean;
}

int lb_ntfs_get_info(struct lb_ntfs *v, struct lb_ntfs_info *out)
{
	ntfs_volume *vol = v->vol;
	int r;

	memset(out, 0, sizeof(*out));
	if (vol->vol_name)
		lb_strlcpy(out->label, vol->vol_name, sizeof(out->label));
	snprintf(out->version, sizeof(out->version), "%u.%u", vol->major_ver, vol->minor_ver);
	out->cluster_size = vol->cluster_size;
	out->size = (uint64_t)vol->nr_clusters * vol->cluster_size;
	out->dirty_flag = (le16_to_cpu(vol->flags) & le16_to_cpu(VOLUME_IS_DIRTY)) != 0;
	out->journal_clean = logfile_clean(vol);
	errno = 0;
	r = ntfs_volume_check_hiberfile(vol, 0);
	if (r == 0)
		out->hibernated = 0;
	else
		out->hibernated = errno == EPERM ? 1 : -1;
	return 0;
}

/* ---- for the fs.h backend (ntfs_fs.c, through ntfs_int.h) ---------------- */
#include "fs/ntfs_int.h"

struct ntfs_device *lb_ntfs_device_new(struct lb_dev *dev)
{
	struct ndev_priv *p = calloc(1, sizeof(*p));
	struct ntfs_device *nd;

	if (!p)
		return NULL;
	p->dev = lb_dev_ref(dev);
	nd = ntfs_device_alloc(dev->name ? dev->name : "NTFS volume", 0, &lb_ndev_ops, p);
	if (!nd) {
		lb_dev_unref(dev);
		free(p);
		return NULL;
	}
	return nd;
}

void lb_ntfs_device_free(struct ntfs_device *nd)
{
	struct ndev_priv *p;

	if (!nd)
		return;
	p = nd->d_private;
	ntfs_device_free(nd);
	lb_dev_unref(p->dev);
	free(p);
}

int lb_ntfs_umount(ntfs_volume *vol)
{
	struct ndev_priv *p = vol->dev->d_private;
	int r, e;

	r = ntfs_umount(vol, FALSE); /* frees vol->dev too */
	e = errno;
	lb_dev_unref(p->dev);
	free(p);
	errno = e;
	return r;
}

static _Thread_local bool oom_seen;

/* log_capture(), also noting that libntfs-3g ran out of memory (it often says EIO then) */
static int log_capture_oom(const char *function, const char *file, int line, u32 level, void *data,
			   const char *format, va_list args)
{
	if (((level & NTFS_LOG_LEVEL_PERROR) && errno == ENOMEM) ||
	    !strncmp(format, "Failed to malloc", 16) || !strncmp(format, "Failed to calloc", 16) ||
	    !strncmp(format, "Failed to realloc", 17))
		oom_seen = true;
	return log_capture(function, file, line, level, data, format, args);
}

void lb_ntfs_log_begin(void)
{
	ntfs_log_set_handler(log_capture_oom);
	last_msg[0] = '\0';
	oom_seen = false;
}

bool lb_ntfs_oom_seen(void)
{
	return oom_seen;
}

int lb_ntfs_journal_clean(ntfs_volume *vol)
{
	return logfile_clean(vol);
}
