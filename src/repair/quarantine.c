/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * quarantine.c - copies of deleted files, out of the image, onto the host
 * (layout in quarantine.h and docs/undo-format.md).
 *
 * Names. A stored path is made of bytes the host may dislike (control
 * characters, '\', names longer than the host allows, "." and ".."). Each
 * component is written with every byte outside [A-Za-z0-9._ -] as %XX
 * (upper-case hex; '%' itself too, so the mapping is reversible), "." and
 * ".." become "%2E" and "%2E%2E", and a component longer than
 * NAME_KEEP bytes after that is cut (never inside a %XX) and ends in "~" and
 * 16 hex digits of the SHA-256 of the whole stored name. The result is always
 * a relative path below DIR: every folder on the way is opened with
 * O_NOFOLLOW|O_DIRECTORY, so neither the name nor a symlink planted in DIR
 * leads outside. A name that is taken (two stored names escaping alike, or a
 * file where a folder is wanted) gets ".1", ".2", ... appended; taking a name
 * never replaces anything (renameat2 RENAME_NOREPLACE, or link()).
 *
 * Order: data to a temporary file, fsync, move into place, fsync the folder;
 * then the manifest line (under flock, one write, fsync). If the manifest
 * line cannot be written, the copy is removed again, so that every copy in
 * DIR has its line.
 */
#include "repair/quarantine.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/json.h"

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

/* Longest escaped component kept as is; leaves room for ".NNNN" under NAME_MAX (255). */
#define NAME_KEEP 240
/* Suffixes tried before giving up on a name. */
#define MAX_SUFFIX 9999
/* Stored paths longer than this are refused (NTFS allows 32767 UTF-16 units). */
#define PATH_IN_MAX (32u << 10)
#define COPY_CHUNK (1u << 20)
#define LINK_MAX_LEN 4096

#define HINT_SPACE "free space where the quarantine folder is (the file was not deleted)"

static bool plain_byte(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ' ' || c == '-';
}

/* Escape one component (@n bytes at @s) into @out (capacity >= NAME_KEEP + 18). */
static void escape_component(const uint8_t *s, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	bool dots = (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
	size_t o = 0;
	bool cut = false;

	for (size_t i = 0; i < n; i++) {
		bool esc = dots || !plain_byte(s[i]);
		size_t need = esc ? 3 : 1;

		if (o + need > NAME_KEEP) {
			cut = true;
			break;
		}
		if (esc) {
			out[o++] = '%';
			out[o++] = hex[s[i] >> 4];
			out[o++] = hex[s[i] & 15];
		} else {
			out[o++] = (char)s[i];
		}
	}
	if (cut) {
		uint8_t h[LB_SHA256_LEN];
		char hx[LB_SHA256_HEX];

		if (lb_sha256(s, n, h) < 0)
			memset(h, 0, sizeof(h));
		lb_hex(h, 8, hx);
		if (o > NAME_KEEP - 17)
			o = NAME_KEEP - 17;
		/* do not end inside a %XX */
		if (o >= 1 && out[o - 1] == '%')
			o -= 1;
		else if (o >= 2 && out[o - 2] == '%')
			o -= 2;
		out[o++] = '~';
		memcpy(out + o, hx, 16);
		o += 16;
	}
	out[o] = '\0';
}

int lb_quarantine_name(unsigned part, const char *path, char *out, size_t cap)
{
	const uint8_t *p = (const uint8_t *)path;
	char comp[NAME_KEEP + 20];
	size_t o, ncomp = 0;
	int n;

	if (strlen(path) > PATH_IN_MAX)
		return lb_err(-ENAMETOOLONG, NULL, NULL, "the path is longer than %u bytes",
			      PATH_IN_MAX);
	n = snprintf(out, cap, "p%u", part);
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	o = (size_t)n;
	while (*p) {
		const uint8_t *s;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - s);
		escape_component(s, len, comp);
		len = strlen(comp);
		if (o + 1 + len + 1 > cap)
			return lb_err(-ENAMETOOLONG, path, NULL, "the quarantine name is too long");
		out[o++] = '/';
		memcpy(out + o, comp, len);
		o += len;
		out[o] = '\0';
		ncomp++;
	}
	if (!ncomp)
		return lb_err(-EINVAL, path, NULL, "an empty path cannot be quarantined");
	return 0;
}

/* ---- host file helpers -------------------------------------------------------- */

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int host_err(const char *what, int r, const char *action)
{
	if (r == -ENOSPC || r == -EFBIG || r == -EDQUOT)
		return lb_err(-ENOSPC, what, HINT_SPACE, "no room to %s (%s)", action,
			      strerror(-r));
	return lb_err(-EIO, what, "check the folder for quarantined files", "cannot %s: %s", action,
		      strerror(-r));
}

static int fsync_fd(int fd, const char *what)
{
	if (fsync(fd) < 0 && errno != EINVAL)
		return host_err(what, -errno, "sync");
	return 0;
}

/* mkdir -p @dir with mode 0700 for what is created; returns an O_DIRECTORY fd or -errno. */
static int open_root(const char *dir)
{
	_cleanup_free_ char *p = strdup(dir);
	int fd;

	if (!p)
		return lb_err(-ENOMEM, dir, NULL, "out of memory");
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return host_err(dir, -errno, "create the quarantine folder");
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return host_err(dir, -errno, "create the quarantine folder");
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return host_err(dir, -errno, "open the quarantine folder");
	return fd;
}

/* "name" for k == 0, "name.k" after. */
static void with_suffix(char *out, size_t cap, const char *name, unsigned k)
{
	if (k)
		snprintf(out, cap, "%s.%u", name, k);
	else
		snprintf(out, cap, "%s", name);
}

/*
 * Open (creating with 0700) the folder @name in @dfd, never following a
 * symlink; a name taken by something else gets a suffix. Writes the name used
 * to @used. Returns the folder's fd or a negative errno (recorded).
 */
static int open_subdir(int dfd, const char *name, char *used, size_t cap, const char *dir)
{
	for (unsigned k = 0; k <= MAX_SUFFIX; k++) {
		int fd;

		with_suffix(used, cap, name, k);
		if (mkdirat(dfd, used, 0700) == 0) {
			int r = fsync_fd(dfd, dir);

			if (r < 0)
				return r;
		} else if (errno != EEXIST) {
			return host_err(dir, -errno, "create a folder in the quarantine");
		}
		fd = openat(dfd, used, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno != ENOTDIR && errno != ELOOP)
			return host_err(dir, -errno, "open a folder in the quarantine");
	}
	return lb_err(-EEXIST, dir, NULL, "every name for '%s' is taken in the quarantine", name);
}

/* Move @tmp to @name or the first free "name.k" in @dfd, never replacing anything. */
static int claim_name(int dfd, const char *tmp, const char *name, char *used, size_t cap,
		      const char *dir)
{
	for (unsigned k = 0; k <= MAX_SUFFIX; k++) {
		int r;

		with_suffix(used, cap, name, k);
		r = renameat2(dfd, tmp, dfd, used, RENAME_NOREPLACE) < 0 ? -errno : 0;
		if (r == -EINVAL || r == -ENOSYS) {
			/* no RENAME_NOREPLACE on this file system: link() does not replace either */
			r = linkat(dfd, tmp, dfd, used, 0) < 0 ? -errno : 0;
			if (r == 0)
				unlinkat(dfd, tmp, 0);
		}
		if (r == 0)
			return 0;
		if (r != -EEXIST)
			return host_err(dir, r, "name a quarantined file");
	}
	return lb_err(-EEXIST, dir, NULL, "every name for '%s' is taken in the quarantine", name);
}

/* ---- the manifest line --------------------------------------------------------- */

static bool valid_utf8(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 4, cp = c & 0x07;
		else
			return false;
		if (k > n - i)
			return false;
		for (size_t j = 1; j < k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k;
	}
	return true;
}

/* ISO 8601 UTC with nanoseconds, or JSON null when unknown or out of range. */
static void json_time(struct lb_json *j, const char *key, const struct timespec *t, bool zero_null)
{
	struct tm tm;
	time_t s = t->tv_sec;
	char buf[64];

	if ((zero_null && t->tv_sec == 0 && t->tv_nsec == 0) || t->tv_nsec < 0 ||
	    t->tv_nsec >= 1000000000L || !gmtime_r(&s, &tm) || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900) {
		lb_json_null(j, key);
		return;
	}
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)t->tv_nsec);
	lb_json_string(j, key, buf);
}

static const char *type_name(enum lb_ftype t)
{
	switch (t) {
	case LB_FT_FILE:
		return "file";
	case LB_FT_DIR:
		return "directory";
	case LB_FT_SYMLINK:
		return "symlink";
	default:
		return "other";
	}
}

/* The manifest line (with its newline) in a malloc'ed buffer. */
static int manifest_line(unsigned part, const char *path, const char *stored_as,
			 const struct lb_fs_stat *st, const char *target, uint64_t size,
			 const uint8_t sha[LB_SHA256_LEN], char **out, size_t *len)
{
	char hex[LB_SHA256_HEX], mode[16];
	struct timespec now;
	struct lb_json j;
	FILE *f;

	*out = NULL;
	f = open_memstream(out, len);
	if (!f)
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &now);
	lb_json_init(&j, f, LB_JSON_COMPACT);
	lb_json_begin_object(&j, NULL);
	lb_json_u64(&j, "partition", part);
	lb_json_string(&j, "path", path);
	if (!valid_utf8((const uint8_t *)path, strlen(path))) {
		_cleanup_free_ char *ph = malloc(2 * strlen(path) + 1);

		if (ph)
			lb_json_string(&j, "path_hex",
				       lb_hex((const uint8_t *)path, strlen(path), ph));
	}
	lb_json_string(&j, "stored_as", stored_as);
	lb_json_string(&j, "type", type_name(st->type));
	lb_json_u64(&j, "size", size);
	lb_json_string(&j, "sha256", lb_hex(sha, LB_SHA256_LEN, hex));
	json_time(&j, "btime", &st->btime, true);
	json_time(&j, "mtime", &st->mtime, false);
	json_time(&j, "ctime", &st->ctime, false);
	json_time(&j, "atime", &st->atime, false);
	lb_json_u64(&j, "attributes", st->attributes);
	snprintf(mode, sizeof(mode), "0%o", (unsigned)st->mode);
	lb_json_string(&j, "mode", mode);
	lb_json_u64(&j, "uid", st->uid);
	lb_json_u64(&j, "gid", st->gid);
	lb_json_u64(&j, "nlink", st->nlink);
	lb_json_u64(&j, "ino", st->ino);
	if (st->short_name[0])
		lb_json_stringn(&j, "short_name", st->short_name,
				strnlen(st->short_name, sizeof(st->short_name)));
	else
		lb_json_null(&j, "short_name");
	lb_json_string(&j, "symlink", target);
	json_time(&j, "quarantined_at", &now, false);
	lb_json_end_object(&j);
	lb_json_finish(&j);
	if (fclose(f) != 0 || !*out) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Append @line to DIR/manifest.jsonl: one write under flock, fsync. */
static int manifest_append(int rootfd, const char *dir, const char *line, size_t len)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	fd = openat(rootfd, "manifest.jsonl",
		    O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return host_err(dir, -errno, "open the quarantine manifest");
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return host_err(dir, -errno, "lock the quarantine manifest");
	if (fstat(fd, &st) < 0)
		return host_err(dir, -errno, "stat the quarantine manifest");
	r = write_all(fd, line, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		if (ftruncate(fd, st.st_size) < 0) {
			/* a partial line stays; readers skip what does not parse */
		}
		return host_err(dir, r, "write the quarantine manifest");
	}
	if (st.st_size == 0)
		return fsync_fd(rootfd, dir);
	return 0;
}

/* ---- the copy -------------------------------------------------------------------- */

/*
 * Copy the data of @path into @fd, hashing it; for a regular file (@exact),
 * check that nothing follows. Returns 0 or a negative errno (recorded).
 */
static int copy_data(struct lb_fs *fs, const char *path, uint64_t size, bool exact, int fd,
		     const char *dir, struct lb_sha256 *h)
{
	_cleanup_free_ uint8_t *buf = malloc(COPY_CHUNK);
	uint64_t off = 0;
	int r;

	if (!buf)
		return lb_err(-ENOMEM, path, NULL, "out of memory");
	while (off < size) {
		size_t want = (size_t)LB_MIN(size - off, (uint64_t)COPY_CHUNK);
		ssize_t n = lb_fs_pread(fs, path, buf, want, off);

		if (n < 0)
			return (int)n;
		if (n == 0 || (size_t)n > want)
			return lb_err(
				-EIO, path, "the file system may be damaged; it was not deleted",
				"the file ended at %" PRIu64 " of %" PRIu64 " bytes", off, size);
		lb_sha256_update(h, buf, (size_t)n);
		r = write_all(fd, buf, (size_t)n);
		if (r < 0)
			return host_err(dir, r, "write a quarantined copy");
		off += (uint64_t)n;
	}
	/* a copy shorter than the file would be a loss once the file is deleted */
	if (exact) {
		ssize_t n = lb_fs_pread(fs, path, buf, 1, size);

		if (n < 0)
			return (int)n;
		if (n > 0)
			return lb_err(
				-EIO, path, "the file system may be damaged; it was not deleted",
				"the file holds more than the %" PRIu64 " bytes its size says",
				size);
	}
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
	return 0;
}

static int temp_name(int dfd, char *name, size_t cap, const char *dir)
{
	for (int tries = 0; tries < 100; tries++) {
		uint8_t rnd[8];
		char hx[17];
		int fd;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			memcpy(rnd, &ts.tv_nsec,
			       sizeof(rnd) < sizeof(ts.tv_nsec) ? sizeof(rnd) : sizeof(ts.tv_nsec));
			rnd[0] ^= (uint8_t)tries;
		}
		snprintf(name, cap, ".lbq-%s.tmp", lb_hex(rnd, sizeof(rnd), hx));
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return host_err(dir, -errno, "create a file in the quarantine");
	}
	return lb_err(-EEXIST, dir, NULL, "cannot find a free temporary name");
}

int lb_quarantine_save_ex(const char *dir, unsigned part, struct lb_fs *fs, const char *path,
			  const struct lb_fs_stat *st, uint64_t max_file,
			  uint8_t sha256_out[LB_SHA256_LEN], char *stored_as, size_t stored_cap)
{
	size_t ncap = strlen(path) * 3 + 64;
	_cleanup_free_ char *name = malloc(ncap);
	/* a ".NNNN" suffix per component at most: components take 2 bytes at least */
	_cleanup_free_ char *where = malloc(4 * ncap);
	_cleanup_free_ char *target = NULL;
	_cleanup_free_ char *line = NULL;
	_cleanup_close_ int root = -1;
	_cleanup_close_ int dfd = -1;
	_cleanup_close_ int tfd = -1;
	char tmp[64], used[NAME_KEEP + 32];
	uint8_t sha[LB_SHA256_LEN];
	struct lb_sha256 h;
	uint64_t size;
	size_t wlen = 0, llen = 0;
	char *comp, *next;
	int r;

	if (!name || !where)
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
		return lb_err(-ENOMEM, path, NULL, "out of memory");
	if (st->type == LB_FT_DIR)
		return lb_err(-EISDIR, path, NULL, "a directory is not quarantined");
	size = st->size;
	if (st->type == LB_FT_SYMLINK) {
		ssize_t n;

		target = malloc(LINK_MAX_LEN + 1);
		if (!target)
			return lb_err(-ENOMEM, path, NULL, "out of memory");
		n = lb_fs_readlink(fs, path, target, LINK_MAX_LEN + 1);
		if (n < 0)
			return (int)n;
		size = (uint64_t)n;
	} else if (size > max_file) {
		return lb_err(-EFBIG, path, "delete it by hand if you are sure, or raise the limit",
			      "the file has %" PRIu64 " bytes, more than the %" PRIu64
			      " a quarantine copy may have; it is not deleted",
			      size, max_file);
	}
	r = lb_quarantine_name(part, path, name, ncap);
	if (r < 0)
		return r;

	root = open_root(dir);
	if (root < 0)
		return root;
	/* the folders on the way, then the file */
	dfd = dup(root);
	if (dfd < 0)
		return host_err(dir, -errno, "open the quarantine folder");
	comp = name;
	for (;;) {
		int nfd;
		size_t ul;

		next = strchr(comp, '/');
		if (!next)
			break;
		*next = '\0';
		nfd = open_subdir(dfd, comp, used, sizeof(used), dir);
		if (nfd < 0)
			return nfd;
		close(dfd);
		dfd = nfd;
		ul = strlen(used);
		memcpy(where + wlen, used, ul);
		wlen += ul;
		where[wlen++] = '/';
		comp = next + 1;
	}

	lb_sha256_init(&h);
	tfd = temp_name(dfd, tmp, sizeof(tmp), dir);
	if (tfd < 0) {
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
		lb_sha256_release(&h);
		return tfd;
	}
	if (target) {
		lb_sha256_update(&h, target, (size_t)size);
		r = write_all(tfd, target, (size_t)size);
		if (r < 0)
			r = host_err(dir, r, "write a quarantined copy");
	} else {
		r = copy_data(fs, path, size, st->type == LB_FT_FILE, tfd, dir, &h);
	}
	if (r == 0)
		r = fsync_fd(tfd, dir);
	if (r == 0) {
		r = lb_sha256_final(&h, sha);
		if (r < 0)
			r = lb_err(r, path, NULL, "out of memory");
	}
	lb_sha256_release(&h);
	if (r == 0 && close(TAKE_FD(tfd)) < 0)
		r = host_err(dir, -errno, "write a quarantined copy");
	if (r == 0)
		r = claim_name(dfd, tmp, comp, used, sizeof(used), dir);
	if (r < 0) {
		unlinkat(dfd, tmp, 0);
		return r;
	}
	r = fsync_fd(dfd, dir);
	{
		size_t ul = strlen(used);

		memcpy(where + wlen, used, ul);
		wlen += ul;
		where[wlen] = '\0';
	}
	if (r == 0) {
		r = manifest_line(part, path, where, st, target, size, sha, &line, &llen);
		if (r < 0)
			r = lb_err(r, path, NULL, "out of memory");
	}
	if (r == 0)
		r = manifest_append(root, dir, line, llen);
	if (r < 0) {
		/* every copy has its manifest line: take this one back */
		unlinkat(dfd, used, 0);
		fsync(dfd);
		return r;
	}
	if (sha256_out)
		memcpy(sha256_out, sha, LB_SHA256_LEN);
	if (stored_as && stored_cap) {
		if (wlen + 1 > stored_cap)
			return lb_err(-ENAMETOOLONG, path, NULL, "the quarantine name is too long");
		memcpy(stored_as, where, wlen + 1);
	}
	return 0;
}

int lb_quarantine_save(const char *dir, unsigned part, struct lb_fs *fs, const char *path,
		       const struct lb_fs_stat *st, uint8_t sha256_out[LB_SHA256_LEN])
{
	return lb_quarantine_save_ex(dir, part, fs, path, st, LB_QUARANTINE_MAX_FILE, sha256_out,
				     NULL, 0);
}
