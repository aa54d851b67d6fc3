/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "io/nbd.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <libnbd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NBD_DEFAULT_MAX (32u << 20)

struct nbd_priv {
	struct nbd_handle *h;
	uint32_t min_block; /* alignment the server wants; 1 if none */
	uint32_t max_req;   /* largest request we send */
	bool has_status;    /* base:allocation negotiated */
	bool dirty;	    /* written since the last flush */
	int errfd;	    /* the child's stderr (memfd), or -1 */
};

/*
 * What the child wrote to stderr, cleaned for quoting in one line: the
 * "qemu-nbd: " prefixes and the "Failed to blk_new_open '<our options>': "
 * preamble (which only repeats the path) are dropped, and lines are joined
 * with ": " (not "; ", which separates our problem from the hint). qemu reports a lock conflict on two lines ("Failed to get
 * \"write\" lock" and "Is another process using the image [...]?"), so the
 * whole text is kept, not only the last line.
 */
static void child_message(int errfd, char *out, size_t cap)
{
	char buf[4096];
	ssize_t n;
	size_t len = 0;
	char *line, *next;

	out[0] = '\0';
	if (errfd < 0 || cap == 0)
		return;
	n = pread(errfd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (line = buf; line && *line; line = next) {
		char *end;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		end = line + strlen(line);
		while (end > line && (end[-1] == '\r' || end[-1] == ' '))
			*--end = '\0';
		if (!strncmp(line, "qemu-nbd: ", 10))
			line += 10;
		if (!strncmp(line, "Failed to blk_new_open '", 24)) {
			char *q = strstr(line + 24, "': ");

			if (q)
				line = q + 3;
		}
		if (!*line)
			continue;
		if (len && len + 2 < cap) {
			memcpy(out + len, ": ", 2);
			len += 2;
		}
		lb_strlcpy(out + len, line, cap - len);
		len = strlen(out);
		if (len + 1 >= cap)
			break;
	}
}

static int nbd_fail(struct lb_dev *dev, const char *what, uint64_t off)
{
	struct nbd_priv *p = dev->priv;
	int e = nbd_get_errno();
	char msg[512];

	child_message(p->errfd, msg, sizeof(msg));
	return lb_err(e > 0 ? -e : -EIO, dev->name, NULL, "%s at offset %" PRIu64 " failed: %s%s%s",
		      what, off, nbd_get_error() ? nbd_get_error() : "unknown error",
		      msg[0] ? "; qemu-nbd: " : "", msg);
}

/* [off, off+len) widened to min_block boundaries, clamped to the device. */
static void widen(const struct lb_dev *dev, const struct nbd_priv *p, uint64_t off, size_t len,
		  uint64_t *aoff, size_t *alen)
{
	uint64_t a = off - off % p->min_block;
	uint64_t end = off + len;

	if (end % p->min_block)
		end += p->min_block - end % p->min_block;
	if (end > dev->size)
		end = dev->size;
	*aoff = a;
	*alen = (size_t)(end - a);
}

static ssize_t nbd_dev_pread(struct lb_dev *dev, void *buf, size_t len, uint64_t off)
{
	struct nbd_priv *p = dev->priv;
	_cleanup_free_ uint8_t *bounce = NULL;
	uint64_t aoff;
	size_t alen;

	if (len > p->max_req - p->min_block)
		len = p->max_req - p->min_block;
	if (off % p->min_block == 0 && len % p->min_block == 0) {
		if (nbd_pread(p->h, buf, len, off, 0) < 0)
			return nbd_fail(dev, "read", off);
		return (ssize_t)len;
	}
	widen(dev, p, off, len, &aoff, &alen);
	bounce = malloc(alen);
	if (!bounce)
		return -ENOMEM;
	if (nbd_pread(p->h, bounce, alen, aoff, 0) < 0)
		return nbd_fail(dev, "read", aoff);
	memcpy(buf, bounce + (off - aoff), len);
	return (ssize_t)len;
}

static ssize_t nbd_dev_pwrite(struct lb_dev *dev, const void *buf, size_t len, uint64_t off)
{
	struct nbd_priv *p = dev->priv;
	_cleanup_free_ uint8_t *bounce = NULL;
	uint64_t aoff;
	size_t alen;

	if (len > p->max_req - p->min_block)
		len = p->max_req - p->min_block;
	p->dirty = true;
	if (off % p->min_block == 0 && len % p->min_block == 0) {
		if (nbd_pwrite(p->h, buf, len, off, 0) < 0)
			return nbd_fail(dev, "write", off);
		return (ssize_t)len;
	}
	widen(dev, p, off, len, &aoff, &alen);
	bounce = malloc(alen);
	if (!bounce)
		return -ENOMEM;
	if (nbd_pread(p->h, bounce, alen, aoff, 0) < 0)
		return nbd_fail(dev, "read (for a partial-block write)", aoff);
	memcpy(bounce + (off - aoff), buf, len);
	if (nbd_pwrite(p->h, bounce, alen, aoff, 0) < 0)
		return nbd_fail(dev, "write", aoff);
	return (ssize_t)len;
}

static int nbd_dev_flush(struct lb_dev *dev)
{
	struct nbd_priv *p = dev->priv;

	if (nbd_flush(p->h, 0) < 0)
		return nbd_fail(dev, "flush", 0);
	p->dirty = false;
	return 0;
}

struct status_walk {
	lb_extent_fn fn;
	void *opaque;
	uint64_t next;
	int err;
};

static int status_cb(void *user_data, const char *metacontext, uint64_t offset, uint32_t *entries,
		     size_t nr_entries, int *error)
{
	struct status_walk *w = user_data;

	(void)error;
	if (strcmp(metacontext, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0)
		return 0;
	w->next = offset;
	for (size_t i = 0; i + 1 < nr_entries; i += 2) {
		uint32_t len = entries[i], flags = entries[i + 1];
		enum lb_extent_type t = LB_EXTENT_DATA;
		int r;

		if (len == 0)
			break;
		if (flags & LIBNBD_STATE_HOLE)
			t = LB_EXTENT_HOLE;
		else if (flags & LIBNBD_STATE_ZERO)
			t = LB_EXTENT_ZERO;
		r = w->fn(w->opaque, w->next, len, t);
		if (r < 0) {
			w->err = r;
			return -1;
		}
		w->next += len;
	}
	return 0;
}

static int nbd_dev_extents(struct lb_dev *dev, uint64_t off, uint64_t len, lb_extent_fn fn,
			   void *opaque)
{
	struct nbd_priv *p = dev->priv;
	uint64_t end = off + len;

	if (!p->has_status)
		return fn(opaque, off, len, LB_EXTENT_DATA);
	while (off < end) {
		struct status_walk w = {.fn = fn, .opaque = opaque, .next = off};
		uint64_t count = LB_MIN(end - off, (uint64_t)1 << 30);
		nbd_extent_callback cb = {.callback = status_cb, .user_data = &w};

		if (nbd_block_status(p->h, count, off, cb, 0) < 0) {
			if (w.err < 0)
				return w.err;
			return nbd_fail(dev, "block status query", off);
		}
		if (w.err < 0)
			return w.err;
		if (w.next <= off) /* no progress: report the rest as data */
			return fn(opaque, off, end - off, LB_EXTENT_DATA);
		off = w.next;
	}
	return 0;
}

static void nbd_dev_destroy(struct lb_dev *dev)
{
	struct nbd_priv *p = dev->priv;

	if (p->h) {
		if (p->dirty)
			nbd_flush(p->h, 0);
		nbd_shutdown(p->h, 0);
		nbd_close(p->h);
	}
	if (p->errfd >= 0)
		close(p->errfd);
	free(p);
}

static const struct lb_dev_ops nbd_ops = {
	.version = LB_DEV_OPS_VERSION,
	.kind = "nbd",
	.pread = nbd_dev_pread,
	.pwrite = nbd_dev_pwrite,
	.flush = nbd_dev_flush,
	.extents = nbd_dev_extents,
	.destroy = nbd_dev_destroy,
};

bool lb_is_nbd_uri(const char *s)
{
	return !strncmp(s, "nbd://", 6) || !strncmp(s, "nbd+unix://", 11) ||
	       !strncmp(s, "nbds://", 7) || !strncmp(s, "nbds+unix://", 12);
}

/* Classify what qemu-nbd said (all of it, not only the last line) into an errno and a hint. */
static int classify(const char *msg, bool read_only, const char **hint)
{
	if (strstr(msg, "Is another process using the image") ||
	    (strstr(msg, "Failed to get") && strstr(msg, " lock"))) {
		*hint = read_only ? "stop the VM that uses it first; to read it anyway, pass "
				    "--force-share "
				    "(what is read may be inconsistent while the VM writes)"
				  : "stop the VM that uses it first";
		return -EBUSY;
	}
	if (strstr(msg, "No such file")) {
		*hint = "check the path (and any backing file the image refers to)";
		return -ENOENT;
	}
	if (strstr(msg, "Permission denied")) {
		*hint = "check the file's permissions";
		return -EACCES;
	}
	*hint = "the image header is damaged or not in the expected format; try 'qemu-img check', "
		"or pass --format to override detection";
	return -EBADMSG;
}

static int finish_open(struct nbd_handle *h, struct nbd_priv *p, const char *name, bool read_only,
		       struct lb_dev **out)
{
	struct lb_dev *dev;
	int64_t size = nbd_get_size(h);
	int64_t minb, maxb;

	if (size < 0)
		return lb_err(-EIO, name, NULL, "cannot get the disk size: %s", nbd_get_error());
	if (!read_only && nbd_is_read_only(h) == 1)
		return lb_err(-EROFS, name, "open it read-only, or restart the server writable",
			      "the NBD server exports the disk read-only");
	minb = nbd_get_block_size(h, LIBNBD_SIZE_MINIMUM);
	maxb = nbd_get_block_size(h, LIBNBD_SIZE_MAXIMUM);
	p->min_block = minb > 0 && minb <= 65536 && !(minb & (minb - 1)) ? (uint32_t)minb : 512;
	p->max_req = maxb >= (int64_t)p->min_block * 2 && maxb <= NBD_DEFAULT_MAX ? (uint32_t)maxb
										  : NBD_DEFAULT_MAX;
	p->has_status = nbd_can_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;
	p->h = h;
	dev = lb_dev_new(&nbd_ops, p, (uint64_t)size, NULL, read_only, name);
	if (!dev) {
		p->h = NULL;
		return -ENOMEM;
	}
	*out = dev;
	return 0;
}

/* qemu's --image-opts values double commas. */
static int append_escaped(struct lb_buf *b, const char *s)
{
	for (; *s; s++) {
		int r = lb_buf_putc(b, *s);

		if (r == 0 && *s == ',')
			r = lb_buf_putc(b, ',');
		if (r < 0)
			return r;
	}
	return 0;
}

int lb_nbd_dev_open(const char *path, const char *fmt, unsigned flags, struct lb_dev **out)
{
	bool read_only = flags & LB_NBD_READ_ONLY;
	struct nbd_priv *p;
	struct nbd_handle *h;
	struct lb_buf opts;
	char *argv[8];
	int argc = 0, saved, r;
	char msg[512];
	const char *hint = NULL;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->errfd = memfd_create("qemu-nbd-stderr", MFD_CLOEXEC);
	/* driver options, not a file name: no protocol prefixes, no json: */
	lb_buf_init(&opts, 16384);
	r = lb_buf_printf(&opts, "driver=%s,%sfile.driver=file,file.filename=", fmt,
			  read_only && (flags & LB_NBD_FORCE_SHARE) ? "force-share=on," : "");
	if (r == 0)
		r = append_escaped(&opts, path);
	if (r < 0) {
		lb_buf_release(&opts);
		if (p->errfd >= 0)
			close(p->errfd);
		free(p);
		return lb_err(r, path, NULL, "path too long");
	}
	argv[argc++] = (char *)"qemu-nbd";
	argv[argc++] = (char *)"--image-opts";
	argv[argc++] = read_only ? (char *)"--read-only" : (char *)"--cache=writeback";
	argv[argc++] = opts.data;
	argv[argc] = NULL;

	h = nbd_create();
	if (!h) {
		lb_buf_release(&opts);
		if (p->errfd >= 0)
			close(p->errfd);
		free(p);
		return lb_err(-ENOMEM, path, NULL, "cannot create an NBD handle: %s",
			      nbd_get_error());
	}
	nbd_add_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION);

	/* The child inherits fd 2: point it at the memfd for the duration of the fork. */
	fflush(stderr);
	saved = p->errfd >= 0 ? dup(2) : -1;
	if (saved >= 0)
		dup2(p->errfd, 2);
	r = nbd_connect_systemd_socket_activation(h, argv);
	if (saved >= 0) {
		dup2(saved, 2);
		close(saved);
	}
	lb_buf_release(&opts);
	if (r < 0) {
		int e = nbd_get_errno();
		char lib[256];

		lb_strlcpy(lib, nbd_get_error() ? nbd_get_error() : "", sizeof(lib));
		child_message(p->errfd, msg, sizeof(msg));
		nbd_close(h);
		if (p->errfd >= 0)
			close(p->errfd);
		free(p);
		if (e == ENOENT && !msg[0])
			return lb_err(-ENOENT, path,
				      "install qemu-utils (apt-get install qemu-utils)",
				      "cannot run qemu-nbd: %s", lib);
		if (!msg[0])
			return lb_err(-EIO, path, NULL, "qemu-nbd failed to open the image: %s",
				      lib);
		r = classify(msg, read_only, &hint);
		if (r == -EBUSY)
			return lb_err(
				r, path, hint,
				"the image is in use by another process (a running VM?): qemu: %s",
				msg);
		return lb_err(r, path, hint, "qemu cannot open the %s image: %s",
			      !strcmp(fmt, "vpc") ? "VHD" : fmt, msg);
	}
	r = finish_open(h, p, path, read_only, out);
	if (r < 0) {
		nbd_close(h);
		if (p->errfd >= 0)
			close(p->errfd);
		free(p);
	}
	return r;
}

int lb_nbd_dev_connect_uri(const char *uri, bool read_only, struct lb_dev **out)
{
	struct nbd_priv *p;
	struct nbd_handle *h;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->errfd = -1;
	h = nbd_create();
	if (!h) {
		free(p);
		return lb_err(-ENOMEM, uri, NULL, "cannot create an NBD handle: %s",
			      nbd_get_error());
	}
	nbd_add_meta_context(h, LIBNBD_CONTEXT_BASE_ALLOCATION);
	if (nbd_connect_uri(h, uri) < 0) {
		int e = nbd_get_errno();
		const char *msg = nbd_get_error() ? nbd_get_error() : "unknown error";

		if (!strncmp(msg, "nbd_connect_uri: ", 17))
			msg += 17;
		r = lb_err(e > 0 ? -e : -EIO, uri,
			   "check that the NBD server is running and the URI is right",
			   "cannot connect: %s", msg);
		nbd_close(h);
		free(p);
		return r;
	}
	r = finish_open(h, p, uri, read_only, out);
	if (r < 0) {
		nbd_close(h);
		free(p);
	}
	return r;
}
