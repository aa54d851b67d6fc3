/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * undo.c - the write-ahead undo log (format in undo.h and docs/undo-format.md).
 *
 * Writer: lb_undo_create() writes the header, the filter (undo_pwrite) saves
 * the old bytes of every range not saved before and makes them durable before
 * the write goes down, lb_undo_commit() seals the log.
 *
 * Reader: one scanner, scan(), over a file or a buffer, shared by
 * lb_undo_parse(), lb_undo_read_info(), lb_undo_commit() (which reads its own
 * log back before sealing it) and lb_undo_apply(). It decides what is a torn
 * tail (an append a crash interrupted: ignored) and what is damage (refused).
 *
 * Memory: the writer keeps the saved ranges as a sorted array of disjoint,
 * non-adjacent intervals (adjacent ones are merged), capped at LB_UNDO_MAX_SET
 * intervals; apply keeps one small entry per record so that it can go back
 * through the log in reverse order.
 */
#include "repair/undo.h"
#include "base/cleanup.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/util.h"
#include "io/image.h" /* lb_crc32c */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAGIC "LBUNDO\r\n"
#define HDR_VERSION 1
#define HDR_CRC_OFF 4092
#define REC_MAGIC "LBUR"
#define REC_SIZE 32
#define REC_CRC_OFF 28

enum {
	REC_RANGE = 1,
	REC_COMMIT = 2,
	REC_BEGUN = 3
};

/* Distinct saved ranges the writer keeps in memory (16 bytes each: 64 MiB). */
#define LB_UNDO_MAX_SET (4u << 20)
/* Chunk for checksumming and comparing without holding a whole record. */
#define IO_CHUNK (1u << 20)

#define HINT_SPACE "free space where the undo log is written (or write it elsewhere) and run again"
#define HINT_DAMAGED \
	"the undo log is damaged; restore the image from a backup, or use a copy of the log"

struct ival {
	uint64_t start, end; /* [start, end) */
};

struct lb_undo {
	int fd;
	char *path;
	struct lb_undo_meta meta;
	uint64_t end;	 /* log size: where the next record goes */
	uint64_t ranges; /* range records durable in the log */
	uint64_t bytes;
	struct ival *set; /* saved ranges, sorted, disjoint, not adjacent */
	size_t nset, capset;
	uint8_t *buf; /* REC_SIZE + LB_UNDO_MAX_RECORD, at the first save */
	int failed;   /* sticky: a write or sync of the log failed */
	bool committed;
	uint32_t window; /* saves are widened to aligned windows of this size (1: exact) */
};

/* ---- small I/O helpers -------------------------------------------------- */

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t pos)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)pos);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		pos += (uint64_t)n;
	}
	return 0;
}

static int pread_all(int fd, void *buf, size_t len, uint64_t pos)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)pos);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENODATA;
		p += n;
		len -= (size_t)n;
		pos += (uint64_t)n;
	}
	return 0;
}

/* Record a failed write or sync of the log: out of space (whatever the flavour) or I/O. */
static int log_write_err(const char *path, int r, const char *what)
{
	if (r == -ENOSPC || r == -EFBIG || r == -EDQUOT)
		return lb_err(-ENOSPC, path, HINT_SPACE, "no room to %s the undo log (%s)", what,
			      strerror(-r));
	return lb_err(-EIO, path, "check the disk that holds the undo log",
		      "cannot %s the undo log: %s", what, strerror(-r));
}

static int fsync_dir_of(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash;
	int fd, r = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash) {
		free(dir);
		dir = strdup(".");
		if (!dir)
			return -ENOMEM;
	} else if (slash == dir) {
		slash[1] = '\0';
	} else {
		*slash = '\0';
	}
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return log_write_err(path, -errno, "open the directory of");
	if (fsync(fd) < 0 && errno != EINVAL)
		r = log_write_err(path, -errno, "sync the directory of");
	close(fd);
	return r;
}

/* ---- header --------------------------------------------------------------- */

static void header_encode(const struct lb_undo_meta *m, uint8_t h[LB_UNDO_HEADER_SIZE])
{
	memset(h, 0, LB_UNDO_HEADER_SIZE);
	memcpy(h, HDR_MAGIC, 8);
	lb_put_le32(h + 8, HDR_VERSION);
	lb_put_le32(h + 12, LB_UNDO_HEADER_SIZE);
	lb_put_le64(h + 16, m->virtual_size);
	lb_put_le64(h + 24, (uint64_t)m->created);
	memcpy(h + 32, m->run_id, 16);
	memcpy(h + 48, m->image_path, strnlen(m->image_path, sizeof(m->image_path) - 1));
	memcpy(h + 304, m->format, strnlen(m->format, sizeof(m->format) - 1));
	memcpy(h + 320, m->identity, LB_SHA256_LEN);
	lb_put_le32(h + HDR_CRC_OFF, lb_crc32c(0, h, HDR_CRC_OFF));
}

static int header_decode(const uint8_t *h, const char *name, struct lb_undo_meta *m)
{
	uint32_t v;

	if (memcmp(h, HDR_MAGIC, 8))
		return lb_err(-EBADMSG, name, "name the undo.log of a repair run",
			      "not a lifeboat undo log (bad magic)");
	v = lb_le32(h + 8);
	if (v != HDR_VERSION)
		return lb_err(-EBADMSG, name, "use the lifeboat version that wrote the log",
			      "undo log version %" PRIu32
			      " is not supported (this lifeboat reads %d)",
			      v, HDR_VERSION);
	if (lb_le32(h + 12) != LB_UNDO_HEADER_SIZE)
		return lb_err(-EBADMSG, name, HINT_DAMAGED,
			      "undo log header length is %" PRIu32 ", expected %d", lb_le32(h + 12),
			      LB_UNDO_HEADER_SIZE);
	if (lb_le32(h + HDR_CRC_OFF) != lb_crc32c(0, h, HDR_CRC_OFF))
		return lb_err(-EBADMSG, name, HINT_DAMAGED, "undo log header checksum mismatch");
	if (!memchr(h + 48, 0, 256) || !memchr(h + 304, 0, 16))
		return lb_err(-EBADMSG, name, HINT_DAMAGED,
			      "undo log header: a text field is not terminated");
	memset(m, 0, sizeof(*m));
	m->virtual_size = lb_le64(h + 16);
	m->created = (int64_t)lb_le64(h + 24);
	memcpy(m->run_id, h + 32, 16);
	memcpy(m->image_path, h + 48, 256);
	memcpy(m->format, h + 304, 16);
	memcpy(m->identity, h + 320, LB_SHA256_LEN);
	return 0;
}

static void record_encode(uint8_t rh[REC_SIZE], uint32_t kind, uint64_t off, uint64_t len,
			  uint32_t dcrc)
{
	memcpy(rh, REC_MAGIC, 4);
	lb_put_le32(rh + 4, kind);
	lb_put_le64(rh + 8, off);
	lb_put_le64(rh + 16, len);
	lb_put_le32(rh + 24, dcrc);
	lb_put_le32(rh + REC_CRC_OFF, lb_crc32c(0, rh, REC_CRC_OFF));
}

static bool record_header_ok(const uint8_t *rh)
{
	uint32_t kind;

	if (memcmp(rh, REC_MAGIC, 4) || lb_le32(rh + REC_CRC_OFF) != lb_crc32c(0, rh, REC_CRC_OFF))
		return false;
	kind = lb_le32(rh + 4);
	return kind == REC_RANGE || kind == REC_COMMIT || kind == REC_BEGUN;
}

/* ---- the scanner ----------------------------------------------------------- */

/* A log held in memory (@mem) or in a file (@fd), of @size bytes. */
struct src {
	const uint8_t *mem;
	int fd;
	uint64_t size;
	const char *name;
	uint8_t *chunk; /* IO_CHUNK bytes, file sources only */
};

struct rec {
	uint64_t pos; /* log offset of the record */
	uint32_t kind;
	uint64_t off, len; /* as stored */
	uint64_t dlen;	   /* data bytes after the 32-byte record header */
	uint32_t dcrc;
	uint8_t digest[LB_SHA256_LEN]; /* commit */
};

static int src_read(const struct src *s, void *buf, size_t n, uint64_t pos)
{
	int r;

	if (s->mem) {
		memcpy(buf, s->mem + pos, n);
		return 0;
	}
	r = pread_all(s->fd, buf, n, pos);
	if (r == -ENODATA)
		return lb_err(-EIO, s->name, "do not change the undo log while lifeboat reads it",
			      "the undo log ended early at offset %" PRIu64, pos);
	if (r < 0)
		return lb_err(-EIO, s->name, NULL,
			      "cannot read the undo log at offset %" PRIu64 ": %s", pos,
			      strerror(-r));
	return 0;
}

static int src_crc(const struct src *s, uint64_t pos, uint64_t n, uint32_t *out)
{
	uint32_t crc = 0;
	int r;

	if (s->mem) {
		*out = lb_crc32c(0, s->mem + pos, (size_t)n);
		return 0;
	}
	while (n > 0) {
		size_t k = (size_t)LB_MIN(n, (uint64_t)IO_CHUNK);

		r = src_read(s, s->chunk, k, pos);
		if (r < 0)
			return r;
		crc = lb_crc32c(crc, s->chunk, k);
		pos += k;
		n -= k;
	}
	*out = crc;
	return 0;
}

/*
 * The record at @pos has a bad header. An interrupted append leaves at most
 * one record's worth of bytes and nothing valid after them: then it is a torn
 * tail (returns 0). Anything else is damage (-EBADMSG).
 */
static int torn_or_damaged(const struct src *s, uint64_t pos)
{
	uint64_t rem = s->size - pos;
	_cleanup_free_ uint8_t *copy = NULL;
	const uint8_t *p;

	if (rem > REC_SIZE + (uint64_t)LB_UNDO_MAX_RECORD)
		return lb_err(-EBADMSG, s->name, HINT_DAMAGED,
			      "damaged record at log offset %" PRIu64 ", %" PRIu64
			      " bytes before the end (more than a crash can leave)",
			      pos, rem);
	if (s->mem) {
		p = s->mem + pos;
	} else {
		int r;

		copy = malloc((size_t)rem);
		if (!copy)
			return lb_err(-ENOMEM, s->name, NULL, "out of memory reading the undo log");
		r = src_read(s, copy, (size_t)rem, pos);
		if (r < 0)
			return r;
		p = copy;
	}
	for (uint64_t i = 1; i + REC_SIZE <= rem; i++) {
		const uint8_t *q = memchr(p + i, 'L', (size_t)(rem - REC_SIZE + 1 - i));

		if (!q)
			break;
		i = (uint64_t)(q - p);
		if (record_header_ok(q))
			return lb_err(-EBADMSG, s->name, HINT_DAMAGED,
				      "damaged record at log offset %" PRIu64
				      ", followed by a valid record at offset %" PRIu64,
				      pos, pos + i);
	}
	return 0;
}

typedef int (*rec_fn)(void *opaque, const struct src *s, const struct rec *r);

#define BAD(...) lb_err(-EBADMSG, s->name, HINT_DAMAGED, __VA_ARGS__)

/*
 * Read the header and every record of @s, checking each; call @fn for each
 * valid record in log order. Fills @info. Returns 0, -EBADMSG, -EIO, -ENOMEM
 * (recorded) or what @fn returned.
 */
static int scan(struct src *s, struct lb_undo_info *info, rec_fn fn, void *opaque)
{
	uint8_t h[LB_UNDO_HEADER_SIZE];
	_cleanup_free_ uint8_t *chunk = NULL;
	uint64_t pos = LB_UNDO_HEADER_SIZE;
	int r;

	memset(info, 0, sizeof(*info));
	if (s->size < LB_UNDO_HEADER_SIZE)
		return lb_err(-EBADMSG, s->name, "it cannot be used to undo anything",
			      "the undo log is shorter than its header (%" PRIu64 " bytes): "
			      "not an undo log, or its creation was interrupted",
			      s->size);
	r = src_read(s, h, sizeof(h), 0);
	if (r < 0)
		return r;
	r = header_decode(h, s->name, &info->meta);
	if (r < 0)
		return r;
	if (!s->mem) {
		chunk = malloc(IO_CHUNK);
		if (!chunk)
			return lb_err(-ENOMEM, s->name, NULL, "out of memory reading the undo log");
		s->chunk = chunk;
	}
	info->end = pos;
	while (pos < s->size) {
		uint64_t rem = s->size - pos;
		uint8_t rh[REC_SIZE];
		struct rec rec = {.pos = pos};
		uint32_t crc;

		if (rem < REC_SIZE) {
			info->torn_tail = true;
			break;
		}
		r = src_read(s, rh, REC_SIZE, pos);
		if (r < 0)
			goto out;
		if (!record_header_ok(rh)) {
			r = torn_or_damaged(s, pos);
			if (r < 0)
				goto out;
			info->torn_tail = true;
			break;
		}
		rec.kind = lb_le32(rh + 4);
		rec.off = lb_le64(rh + 8);
		rec.len = lb_le64(rh + 16);
		rec.dcrc = lb_le32(rh + 24);
		if (info->committed && rec.kind != REC_BEGUN) {
			r = BAD("record at log offset %" PRIu64 " follows the commit record", pos);
			goto out;
		}
		switch (rec.kind) {
		case REC_RANGE:
			if (rec.len == 0 || rec.len > LB_UNDO_MAX_RECORD) {
				r = BAD("record at log offset %" PRIu64 " saves %" PRIu64
					" bytes (1 to %u allowed)",
					pos, rec.len, LB_UNDO_MAX_RECORD);
				goto out;
			}
			if (rec.off > info->meta.virtual_size ||
			    rec.len > info->meta.virtual_size - rec.off) {
				r = BAD("record at log offset %" PRIu64 " saves %" PRIu64
					"+%" PRIu64 ", beyond the disk's %" PRIu64 " bytes",
					pos, rec.off, rec.len, info->meta.virtual_size);
				goto out;
			}
			rec.dlen = rec.len;
			break;
		case REC_COMMIT:
			if (rec.off != info->ranges || rec.len != info->bytes) {
				r = BAD("commit record counts %" PRIu64 " ranges of %" PRIu64
					" bytes, the log holds %" PRIu64 " of %" PRIu64,
					rec.off, rec.len, info->ranges, info->bytes);
				goto out;
			}
			rec.dlen = LB_SHA256_LEN;
			break;
		default: /* REC_BEGUN */
			if (!info->committed || rec.off || rec.len || rec.dcrc) {
				r = BAD("misplaced or malformed undo-begun record at log offset "
					"%" PRIu64,
					pos);
				goto out;
			}
			rec.dlen = 0;
			break;
		}
		if (rec.dlen > rem - REC_SIZE) {
			/* the data never made it: only the last record can be like that */
			info->torn_tail = true;
			break;
		}
		r = src_crc(s, pos + REC_SIZE, rec.dlen, &crc);
		if (r < 0)
			goto out;
		if (crc != rec.dcrc) {
			if (pos + REC_SIZE + rec.dlen == s->size) {
				info->torn_tail = true;
				break;
			}
			r = BAD("data checksum mismatch in the record at log offset %" PRIu64, pos);
			goto out;
		}
		if (rec.kind == REC_RANGE) {
			info->ranges++;
			info->bytes += rec.len;
		} else if (rec.kind == REC_COMMIT) {
			r = src_read(s, rec.digest, LB_SHA256_LEN, pos + REC_SIZE);
			if (r < 0)
				goto out;
			memcpy(info->after, rec.digest, LB_SHA256_LEN);
			info->committed = true;
		} else {
			info->begun = true;
		}
		if (fn) {
			r = fn(opaque, s, &rec);
			if (r < 0)
				goto out;
		}
		pos += REC_SIZE + rec.dlen;
		info->end = pos;
	}
	r = 0;
out:
	s->chunk = NULL;
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
	return r;
}

#undef BAD

int lb_undo_parse(const uint8_t *buf, size_t len, struct lb_undo_info *out)
{
	struct src s = {.mem = buf, .fd = -1, .size = len, .name = "undo log"};

	return scan(&s, out, NULL, NULL);
}

static int open_log(const char *path, int flags, struct src *s)
{
	struct stat st;
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0) {
		int e = -errno;

		if (e == -ENOENT)
			return lb_err(-ENOENT, path, "name the undo.log of a repair run",
				      "no such undo log");
		return lb_err(e == -EACCES ? -EACCES : -EIO, path, NULL,
			      "cannot open the undo log: %s", strerror(-e));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return lb_err(-EIO, path, NULL, "the undo log is not a regular file");
	}
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->size = (uint64_t)st.st_size;
	s->name = path;
	return 0;
}

int lb_undo_read_info(const char *path, struct lb_undo_info *out)
{
	struct src s;
	int r = open_log(path, O_RDONLY, &s);

	if (r < 0)
		return r;
	r = scan(&s, out, NULL, NULL);
	close(s.fd);
	return r;
}

/* ---- the writer ------------------------------------------------------------ */

/*
 * Create @path holding @hdr without ever showing a partial header under that
 * name: write a temporary file, fsync, move it into place without replacing
 * anything (-EEXIST), fsync the directory. Returns the open fd or -errno.
 */
static int create_durable(const char *path, const uint8_t *hdr, size_t len)
{
	size_t n = strlen(path) + 16;
	_cleanup_free_ char *tmp = malloc(n);
	int fd, r;

	if (!tmp)
		return lb_err(-ENOMEM, path, NULL, "out of memory");
	snprintf(tmp, n, "%s.tmp.XXXXXX", path);
	if (access(path, F_OK) == 0)
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
		return lb_err(-EEXIST, path,
			      "an undo log is never overwritten; choose another name",
			      "the undo log exists already");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT || r == -EACCES || r == -ENOTDIR || r == -EROFS)
			return lb_err(r, path, "check the folder for the undo log",
				      "cannot create the undo log: %s", strerror(-r));
		return log_write_err(path, r, "create");
	}
	/*
	 * Held until lb_undo_free(), taken before the log has its name: undo
	 * refuses to run while the log is being written. Nobody else has the
	 * file open yet, so this cannot fail for contention.
	 */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = log_write_err(path, -errno, "lock");
		goto fail;
	}
	r = pwrite_all(fd, hdr, len, 0);
	if (r < 0) {
		r = log_write_err(path, r, "write the header of");
		goto fail;
	}
	if (fsync(fd) < 0) {
		r = log_write_err(path, -errno, "sync");
		goto fail;
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
		r = -errno;
		if (r == -EINVAL || r == -ENOSYS) {
			/* no RENAME_NOREPLACE here: link() does not replace either */
			r = link(tmp, path) < 0 ? -errno : 0;
			unlink(tmp);
		}
		if (r == -EEXIST) {
			r = lb_err(-EEXIST, path,
				   "an undo log is never overwritten; choose another name",
				   "the undo log exists already");
			goto fail;
		}
		if (r < 0) {
			r = log_write_err(path, r, "name");
			goto fail;
		}
	}
	r = fsync_dir_of(path);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
fail:
	unlink(tmp);
	close(fd);
	return r;
}

int lb_undo_create(const char *path, const struct lb_undo_meta *meta, struct lb_undo **out)
{
	uint8_t hdr[LB_UNDO_HEADER_SIZE];
	struct lb_undo *u;
	int fd;

	u = calloc(1, sizeof(*u));
	if (!u)
		return lb_err(-ENOMEM, path, NULL, "out of memory");
	u->fd = -1;
	u->meta = *meta;
	u->meta.image_path[sizeof(u->meta.image_path) - 1] = '\0';
	u->meta.format[sizeof(u->meta.format) - 1] = '\0';
	if (!u->meta.created)
		u->meta.created = (int64_t)time(NULL);
	if (lb_is_zero(u->meta.run_id, sizeof(u->meta.run_id))) {
		if (getrandom(u->meta.run_id, sizeof(u->meta.run_id), 0) !=
		    (ssize_t)sizeof(u->meta.run_id)) {
			/* no entropy source: time and pid still tell runs apart */
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			lb_put_le64(u->meta.run_id, (uint64_t)ts.tv_sec ^ (uint64_t)getpid() << 32);
			lb_put_le64(u->meta.run_id + 8, (uint64_t)ts.tv_nsec);
		}
	}
	u->path = strdup(path);
	if (!u->path) {
		free(u);
		return lb_err(-ENOMEM, path, NULL, "out of memory");
	}
	header_encode(&u->meta, hdr);
	fd = create_durable(path, hdr, sizeof(hdr));
	if (fd < 0) {
		free(u->path);
		free(u);
		return fd;
	}
	u->fd = fd;
	u->end = LB_UNDO_HEADER_SIZE;
	*out = u;
	return 0;
}

void lb_undo_free(struct lb_undo *u)
{
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	free(u->set);
	free(u->buf);
	free(u->path);
	free(u);
}

uint64_t lb_undo_ranges(const struct lb_undo *u)
{
	return u->ranges;
}

uint64_t lb_undo_bytes(const struct lb_undo *u)
{
	return u->bytes;
}

/* First interval whose end is > @off (or == @off with @adjacent): nset if none. */
static size_t set_find(const struct lb_undo *u, uint64_t off, bool adjacent)
{
	size_t lo = 0, hi = u->nset;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u->set[mid].end > off || (adjacent && u->set[mid].end == off))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Make room for one more interval, so that set_add() cannot fail. */
static int set_reserve(struct lb_undo *u)
{
	struct ival *n;
	size_t cap;

	if (u->nset < u->capset)
		return 0;
	if (u->nset >= LB_UNDO_MAX_SET)
		return lb_err(-EOVERFLOW, u->path, "repair fewer files per run",
			      "more than %u separate ranges saved in the undo log",
			      LB_UNDO_MAX_SET);
	cap = u->capset ? u->capset * 2 : 64;
	if (cap > LB_UNDO_MAX_SET)
		cap = LB_UNDO_MAX_SET;
	n = realloc(u->set, cap * sizeof(*n));
	if (!n)
		return lb_err(-ENOMEM, u->path, NULL, "out of memory");
	u->set = n;
	u->capset = cap;
	return 0;
}

/* Add [a, b), merging overlapping and adjacent intervals. Needs set_reserve() first. */
static void set_add(struct lb_undo *u, uint64_t a, uint64_t b)
{
	size_t i = set_find(u, a, true), j = i;

	while (j < u->nset && u->set[j].start <= b)
		j++;
	if (i == j) {
		memmove(&u->set[i + 1], &u->set[i], (u->nset - i) * sizeof(*u->set));
		u->set[i].start = a;
		u->set[i].end = b;
		u->nset++;
		return;
	}
	u->set[i].start = LB_MIN(a, u->set[i].start);
	u->set[i].end = LB_MAX(b, u->set[j - 1].end);
	memmove(&u->set[i + 1], &u->set[j], (u->nset - j) * sizeof(*u->set));
	u->nset -= j - i - 1;
}

/* Append one range record holding the current bytes of [off, off+len) of @lower. */
static int append_range(struct lb_undo *u, struct lb_dev *lower, uint64_t off, size_t len)
{
	uint8_t *data = u->buf + REC_SIZE;
	int r;

	if (u->end + REC_SIZE + len > LB_UNDO_MAX_LOG)
		return lb_err(-EFBIG, u->path, "repair fewer files per run",
			      "the undo log would grow past %llu bytes", LB_UNDO_MAX_LOG);
	r = lb_dev_pread(lower, data, len, off);
	if (r < 0) {
		lb_err_context("saving old bytes for the undo log");
		return r;
	}
	record_encode(u->buf, REC_RANGE, off, len, lb_crc32c(0, data, len));
	r = pwrite_all(u->fd, u->buf, REC_SIZE + len, u->end);
	if (r < 0)
		return u->failed = log_write_err(u->path, r, "append to");
	u->end += REC_SIZE + len;
	return 0;
}

/*
 * Save the bytes of [off, off+len) of @lower that were never saved, and make
 * them durable. Only then may the write go down.
 */
static int undo_save(struct lb_undo *u, struct lb_dev *lower, uint64_t off, size_t len)
{
	uint64_t start = u->end, pos = off, b = off + len, nrec = 0, nbytes = 0;
	size_t i;
	int r;

	if (u->failed)
		return lb_err(u->failed, u->path, "roll the image back from the undo log",
			      "an earlier write to the undo log failed; nothing more is written");
	if (u->committed)
		return lb_err(-EROFS, u->path, NULL,
			      "the undo log is committed: a later write would not be saved");
	if (len == 0)
		return 0;
	r = set_reserve(u);
	if (r < 0)
		return r;
	if (!u->buf) {
		u->buf = malloc(REC_SIZE + (size_t)LB_UNDO_MAX_RECORD);
		if (!u->buf)
			return lb_err(-ENOMEM, u->path, NULL, "out of memory");
	}
	i = set_find(u, off, false);
	while (pos < b) {
		uint64_t gap_end;

		if (i < u->nset && u->set[i].start <= pos) {
			pos = u->set[i].end; /* saved before */
			i++;
			continue;
		}
		gap_end = i < u->nset && u->set[i].start < b ? u->set[i].start : b;
		while (pos < gap_end) {
			size_t n = (size_t)LB_MIN(gap_end - pos, (uint64_t)LB_UNDO_MAX_RECORD);

			r = append_range(u, lower, pos, n);
			if (r < 0)
				goto fail;
			nrec++;
			nbytes += n;
			pos += n;
		}
	}
	if (!nrec)
		return 0;
	if (fdatasync(u->fd) < 0) {
		r = u->failed = log_write_err(u->path, -errno, "sync");
		goto fail;
	}
	set_add(u, off, b);
	u->ranges += nrec;
	u->bytes += nbytes;
	return 0;
fail:
	/* drop this write's records (and any part of one): its write never goes down */
	if (ftruncate(u->fd, (off_t)start) < 0 && !u->failed)
		u->failed = -EIO;
	u->end = start;
	return r;
}

static ssize_t undo_pread(struct lb_dev *dev, void *buf, size_t len, uint64_t off)
{
	int r = lb_dev_pread(dev->lower, buf, len, off);

	return r < 0 ? r : (ssize_t)len;
}

static ssize_t undo_pwrite(struct lb_dev *dev, const void *buf, size_t len, uint64_t off)
{
	/*
	 * Save the whole aligned window around the write: file systems write
	 * their metadata in many small pieces (resetting an NTFS journal is
	 * thousands of 4 KiB writes), and one record and one sync per window
	 * instead of per write is what keeps that fast. Saving bytes that are
	 * then not written costs nothing when they are put back.
	 */
	struct lb_undo *u = dev->priv;
	uint64_t w = u->window ? u->window : 1;
	uint64_t start = off - off % w;
	uint64_t end = off + len;
	int r;

	if (end % w && end <= UINT64_MAX - w)
		end += w - end % w;
	if (end > dev->size)
		end = dev->size;
	r = undo_save(u, dev->lower, start, (size_t)(end - start));

	if (r < 0)
		return r;
	r = lb_dev_pwrite(dev->lower, buf, len, off);
	return r < 0 ? r : (ssize_t)len;
}

static int undo_flush(struct lb_dev *dev)
{
	return lb_dev_flush(dev->lower);
}

static int undo_extents(struct lb_dev *dev, uint64_t off, uint64_t len, lb_extent_fn fn,
			void *opaque)
{
	return lb_dev_extents(dev->lower, off, len, fn, opaque);
}

void lb_undo_set_window(struct lb_undo *u, uint32_t window)
{
	u->window = window && !(window & (window - 1)) ? window : 1;
}

static const struct lb_dev_ops undo_ops = {
	.version = LB_DEV_OPS_VERSION,
	.kind = "undo",
	.pread = undo_pread,
	.pwrite = undo_pwrite,
	.flush = undo_flush,
	.extents = undo_extents,
};

int lb_undo_dev_new(struct lb_undo *u, struct lb_dev *lower, struct lb_dev **out)
{
	struct lb_dev *dev;

	if (lower->size != u->meta.virtual_size)
		return lb_err(-EINVAL, lower->name, NULL,
			      "the disk has %" PRIu64 " bytes, the undo log is for %" PRIu64,
			      lower->size, u->meta.virtual_size);
	dev = lb_dev_new(&undo_ops, u, lower->size, lower, lower->read_only, lower->name);
	if (!dev)
		return lb_err(-ENOMEM, lower->name, NULL, "out of memory");
	*out = dev;
	return 0;
}

/* ---- digests over the saved ranges ------------------------------------------ */

struct digest_walk {
	struct lb_dev *dev;
	struct lb_sha256 sha;
	uint8_t *buf;	 /* IO_CHUNK */
	uint64_t ranges; /* range records seen */
	uint64_t same;	 /* ranges whose current bytes equal the saved ones */
	bool compare;
};

/* Hash the current bytes of the record's range; optionally compare them with the saved ones. */
static int digest_cb(void *opaque, const struct src *s, const struct rec *rec)
{
	struct digest_walk *w = opaque;
	uint64_t done = 0;
	bool same = true;
	int r;

	if (rec->kind != REC_RANGE)
		return 0;
	w->ranges++;
	while (done < rec->len) {
		size_t k = (size_t)LB_MIN(rec->len - done, (uint64_t)IO_CHUNK);

		r = lb_dev_pread(w->dev, w->buf, k, rec->off + done);
		if (r < 0)
			return r;
		lb_sha256_update(&w->sha, w->buf, k);
		if (w->compare && same) {
			r = src_read(s, s->chunk, k, rec->pos + REC_SIZE + done);
			if (r < 0)
				return r;
			same = !memcmp(s->chunk, w->buf, k);
		}
		done += k;
	}
	if (w->compare && same)
		w->same++;
	return 0;
}

int lb_undo_commit(struct lb_undo *u, struct lb_dev *dev)
{
	struct digest_walk w = {.dev = dev};
	struct src s = {.fd = u->fd, .size = u->end, .name = u->path};
	struct lb_undo_info info;
	uint8_t rec[REC_SIZE + LB_SHA256_LEN];
	int r;

	if (u->failed)
		return lb_err(u->failed, u->path, "roll the image back from the undo log",
			      "the undo log is incomplete (a write to it failed): cannot commit");
	if (u->committed)
		return lb_err(-EINVAL, u->path, NULL, "the undo log is committed already");
	if (dev->size != u->meta.virtual_size)
		return lb_err(-EINVAL, dev->name, NULL,
			      "the disk has %" PRIu64 " bytes, the undo log is for %" PRIu64,
			      dev->size, u->meta.virtual_size);
	r = lb_dev_flush(dev);
	if (r < 0)
		return r;
	w.buf = malloc(IO_CHUNK);
	if (!w.buf)
		return lb_err(-ENOMEM, u->path, NULL, "out of memory");
	lb_sha256_init(&w.sha);
	r = scan(&s, &info, digest_cb, &w);
	if (r == -EBADMSG)
		r = lb_err(-EIO, u->path, "check the disk that holds the undo log",
			   "the undo log does not read back as written: %s",
			   lb_err_last()->problem);
	if (r >= 0 && (info.torn_tail || info.ranges != u->ranges || info.bytes != u->bytes))
		r = lb_err(-EIO, u->path, "check the disk that holds the undo log",
			   "the undo log does not read back as written (%" PRIu64
			   " ranges read, %" PRIu64 " written)",
			   info.ranges, u->ranges);
	free(w.buf);
	if (r < 0) {
		lb_sha256_release(&w.sha);
		return r;
	}
	r = lb_sha256_final(&w.sha, rec + REC_SIZE);
	if (r < 0)
		return lb_err(r, u->path, NULL, "cannot compute the commit digest");
	record_encode(rec, REC_COMMIT, u->ranges, u->bytes,
		      lb_crc32c(0, rec + REC_SIZE, LB_SHA256_LEN));
	r = pwrite_all(u->fd, rec, sizeof(rec), u->end);
	if (r == 0 && fsync(u->fd) < 0)
		r = -errno;
	if (r < 0) {
		u->failed = log_write_err(u->path, r, "commit");
		if (ftruncate(u->fd, (off_t)u->end) < 0) {
			/* a torn commit reads as no commit: the log stays usable */
		}
		return u->failed;
	}
	u->end += sizeof(rec);
	u->committed = true;
	return 0;
}

/* ---- apply -------------------------------------------------------------------- */

struct idx {
	uint64_t pos; /* log offset of the record */
	uint64_t off;
	uint32_t len;
	uint32_t dcrc;
};

struct index_walk {
	struct idx *v;
	size_t n, cap;
	const char *name;
};

static int index_cb(void *opaque, const struct src *s, const struct rec *rec)
{
	struct index_walk *w = opaque;

	if (rec->kind != REC_RANGE)
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256, bytes;
		struct idx *n;

		if (__builtin_mul_overflow(cap, sizeof(*n), &bytes))
			return lb_err(-ENOMEM, w->name, NULL, "too many records in the undo log");
		n = realloc(w->v, bytes);
		if (!n)
			return lb_err(-ENOMEM, w->name, NULL,
				      "out of memory indexing the undo log");
		w->v = n;
		w->cap = cap;
	}
	w->v[w->n].pos = rec->pos;
	w->v[w->n].off = rec->off;
	w->v[w->n].len = (uint32_t)rec->len;
	w->v[w->n].dcrc = rec->dcrc;
	w->n++;
	return 0;
}

/*
 * Mark a committed log "undo begun" before the first write, so that an
 * interrupted run can be resumed. Best effort: a log that cannot be written
 * (read-only medium) is undone without the mark.
 */
static void mark_begun(const char *path, const struct lb_undo_info *info)
{
	uint8_t rec[REC_SIZE];
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	record_encode(rec, REC_BEGUN, 0, 0, 0);
	/* a torn tail would sit between the commit and the mark: drop it */
	if ((!info->torn_tail || ftruncate(fd, (off_t)info->end) == 0) &&
	    pwrite_all(fd, rec, sizeof(rec), info->end) == 0)
		fdatasync(fd);
	close(fd);
}

int lb_undo_apply(const char *path, struct lb_dev *dev, unsigned flags, struct lb_undo_result *res)
{
	struct index_walk iw = {.name = path};
	struct lb_undo_info info;
	struct lb_undo_meta meta;
	uint8_t h[LB_UNDO_HEADER_SIZE];
	_cleanup_free_ uint8_t *buf = NULL;
	struct src s;
	int r;

	memset(res, 0, sizeof(*res));
	r = open_log(path, O_RDONLY, &s);
	if (r < 0)
		return r;
	if (flock(s.fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		r = lb_err(-EBUSY, path, "wait for the repair to end (or stop it), then undo",
			   "the repair writing this undo log is still running");
		goto out;
	}
	/* the size first: a log for another disk is refused before a long scan */
	if (s.size >= LB_UNDO_HEADER_SIZE) {
		r = src_read(&s, h, sizeof(h), 0);
		if (r >= 0)
			r = header_decode(h, path, &meta);
		if (r < 0)
			goto out;
		if (meta.virtual_size != dev->size) {
			r = lb_err(-EINVAL, dev->name,
				   "give the image the undo log was written for (see its header)",
				   "the undo log is for a disk of %" PRIu64
				   " bytes, this one has %" PRIu64 " (another image?)",
				   meta.virtual_size, dev->size);
			goto out;
		}
	}
	/* check everything */
	r = scan(&s, &info, index_cb, &iw);
	if (r < 0)
		goto out;
	buf = malloc(IO_CHUNK > LB_UNDO_MAX_RECORD ? IO_CHUNK : LB_UNDO_MAX_RECORD);
	if (!buf) {
		r = lb_err(-ENOMEM, path, NULL, "out of memory");
		goto out;
	}
	if (info.committed && info.begun) {
		res->resumed = true;
	} else if (info.committed) {
		struct digest_walk w = {.dev = dev, .buf = buf, .compare = true};
		uint8_t now[LB_SHA256_LEN];

		lb_sha256_init(&w.sha);
		r = scan(&s, &info, digest_cb, &w);
		if (r < 0) {
			lb_sha256_release(&w.sha);
			goto out;
		}
		r = lb_sha256_final(&w.sha, now);
		if (r < 0) {
			r = lb_err(r, path, NULL, "cannot compute the digest of the image");
			goto out;
		}
		res->already_undone = w.same == w.ranges;
		if (memcmp(now, info.after, LB_SHA256_LEN) && !res->already_undone) {
			res->changed_since = true;
			if (!(flags & LB_UNDO_FORCE)) {
				r = lb_err(
					-ESTALE, dev->name,
					"if you are sure, undo anyway with --force: the saved "
					"ranges get their old bytes back, whatever they hold now",
					"the image changed after the repair: its saved ranges no "
					"longer hold what the repair left (%" PRIu64 " of %" PRIu64
					" ranges already hold their old bytes)",
					w.same, w.ranges);
				goto out;
			}
		}
	}
	if (flags & LB_UNDO_DRY_RUN) {
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
		res->ranges = info.ranges;
		res->bytes = info.bytes;
		r = 0;
		goto out;
	}
	if (info.committed && !info.begun)
		mark_begun(path, &info);
	/* write back, newest first: where records overlap the oldest bytes win */
	for (size_t i = iw.n; i-- > 0;) {
		const struct idx *e = &iw.v[i];

		r = src_read(&s, buf, e->len, e->pos + REC_SIZE);
		if (r < 0)
			goto out;
		if (lb_crc32c(0, buf, e->len) != e->dcrc) {
			r = lb_err(-EBADMSG, path, "do not change the undo log while it is applied",
				   "the record at log offset %" PRIu64
				   " changed since it was checked",
				   e->pos);
			goto out;
		}
		r = lb_dev_pwrite(dev, buf, e->len, e->off);
		if (r < 0) {
			lb_err_context("undo: writing back %" PRIu32 " bytes at offset %" PRIu64,
				       e->len, e->off);
			goto out;
		}
		res->ranges++;
		res->bytes += e->len;
	}
	r = lb_dev_flush(dev);
out:
	free(iw.v);
	close(s.fd);
	return r;
}
