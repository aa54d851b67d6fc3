/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tree.c - tree blobs: one directory's entries.
 *
 *   off  size  field
 *     0     4  magic "LBTB"
 *     4     4  version (1)
 *     8     4  number of entries N (at most LB_TREE_MAX_ENTRIES)
 *    12   ...  N entries, sorted by name (bytes, unsigned), names unique
 *
 * Entry:
 *     0     1  type (1 file, 2 dir, 3 symlink, 4 char, 5 block, 6 fifo, 7 socket)
 *     1     4  mode (permission and special bits: nothing above 07777)
 *     5     4  uid
 *     9     4  gid
 *    13    12  atime: seconds (8, signed), nanoseconds (4, < 10^9)
 *    25    12  mtime
 *    37    12  ctime
 *    49     8  size (file: its length; symlink: the target's length; else 0)
 *    57     8  device number (char and block devices only; else 0)
 *    65     8  hard-link group (0: none; never for a directory)
 *    73     2  name length (1..LB_TREE_MAX_NAME)
 *    75     2  user name length (0: none; at most LB_TREE_MAX_OWNER)
 *    77     2  group name length (likewise)
 *    79     2  symlink target length (symlinks: 1..LB_TREE_MAX_TARGET; else 0)
 *    81     2  number of extended attributes X (at most LB_TREE_MAX_XATTRS)
 *    83   ...  name, user name, group name, target (no NUL bytes; the name
 *              has no '/' and is not "." or "..")
 *         ...  X attributes, sorted by name, unique: name length (1, >= 1),
 *              value length (4, at most LB_TREE_MAX_XATTR), name, value
 *         ...  file: number of runs R (4, at most LB_TREE_MAX_RUNS), then R
 *              runs: kind (1: 0 hole, 1 data), length (8, >= 1; data at
 *              most LB_TREE_MAX_DATA_RUN), for data the chunk ID (32); two
 *              holes never follow each other; the lengths add up to size
 *              directory: its tree blob ID (32)
 *
 * Nothing follows the last entry. Every check is made on both sides: the
 * encoder refuses (-EINVAL) what the decoder would reject (-EBADMSG), so a
 * blob that decodes encodes back to the same bytes.
 */
#include "repo/tree.h"

#include "base/endian.h"
#include "base/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TREE_MAGIC "LBTB"
#define TREE_VERSION 1
#define TREE_HEADER 12
#define ENTRY_FIXED 83
#define XATTR_FIXED 5
#define RUN_FIXED 9
#define OBJ "tree blob"
#define HINT_DAMAGED "the repository is damaged; run 'lifeboat check'"

void lb_tree_entry_release(struct lb_tree_entry *e)
{
	if (!e)
		return;
	free(e->name);
	free(e->user);
	free(e->group);
	free(e->target);
	for (size_t i = 0; i < e->nxattrs && e->xattrs; i++) {
		free(e->xattrs[i].name);
		free(e->xattrs[i].value);
	}
	free(e->xattrs);
	free(e->runs);
	memset(e, 0, sizeof(*e));
}

void lb_tree_release(struct lb_tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n && t->e; i++)
		lb_tree_entry_release(&t->e[i]);
	free(t->e);
	t->e = NULL;
	t->n = 0;
}

/* ---- the rules, for both directions -------------------------------------------------- */

/* Codes for a broken rule: encoding refuses the caller's tree, decoding rejects the blob. */
struct rules {
	bool encoding;
	size_t index; /* of the entry, for the message */
};

#define BAD(ru, ...)                                                                           \
	lb_err((ru)->encoding ? -EINVAL : -EBADMSG, OBJ, (ru)->encoding ? NULL : HINT_DAMAGED, \
	       __VA_ARGS__)
#define TOO_BIG(ru, ...)                                                                         \
	lb_err((ru)->encoding ? -EINVAL : -EOVERFLOW, OBJ, (ru)->encoding ? NULL : HINT_DAMAGED, \
	       __VA_ARGS__)

static size_t slen(const char *s)
{
	return s ? strlen(s) : 0;
}

static int check_times(const struct rules *ru, const struct lb_tree_entry *e)
{
	const struct timespec *t[3] = {&e->atime, &e->mtime, &e->ctime};

	for (int i = 0; i < 3; i++)
		if (t[i]->tv_nsec < 0 || t[i]->tv_nsec >= 1000000000)
			return BAD(ru, "entry %zu: nanoseconds %ld out of range", ru->index,
				   (long)t[i]->tv_nsec);
	return 0;
}

/* The runs of a file: what the encoder will write (adjacent holes merged). */
static int check_runs(const struct rules *ru, const struct lb_tree_entry *e)
{
	uint64_t total = 0;

	if (e->type != LB_TREE_FILE) {
		if (e->nruns)
			return BAD(ru, "entry %zu (%s): runs for a non-file", ru->index, e->name);
		return 0;
	}
	if (e->nruns > LB_TREE_MAX_RUNS)
		return TOO_BIG(ru, "entry %zu (%s): %zu runs, at most %u", ru->index, e->name,
			       e->nruns, LB_TREE_MAX_RUNS);
	if (e->nruns && !e->runs)
		return BAD(ru, "entry %zu: no runs array", ru->index);
	for (size_t i = 0; i < e->nruns; i++) {
		const struct lb_tree_run *r = &e->runs[i];

		if (r->len == 0 || (!r->hole && r->len > LB_TREE_MAX_DATA_RUN))
			return BAD(ru, "entry %zu (%s): run %zu has an invalid length %llu",
				   ru->index, e->name, i, (unsigned long long)r->len);
		if (!ru->encoding && r->hole && i && e->runs[i - 1].hole)
			return BAD(ru, "entry %zu (%s): runs %zu and %zu are both holes", ru->index,
				   e->name, i - 1, i);
		if (__builtin_add_overflow(total, r->len, &total))
			return TOO_BIG(ru, "entry %zu (%s): the runs add up beyond 2^64", ru->index,
				       e->name);
	}
	if (total != e->size)
		return BAD(ru, "entry %zu (%s): the runs add up to %llu bytes, the size is %llu",
			   ru->index, e->name, (unsigned long long)total,
			   (unsigned long long)e->size);
	return 0;
}

static int check_xattrs(const struct rules *ru, const struct lb_tree_entry *e)
{
	if (e->nxattrs > LB_TREE_MAX_XATTRS)
		return TOO_BIG(ru, "entry %zu (%s): %zu extended attributes, at most %u", ru->index,
			       e->name, e->nxattrs, LB_TREE_MAX_XATTRS);
	if (e->nxattrs && !e->xattrs)
		return BAD(ru, "entry %zu: no attribute array", ru->index);
	for (size_t i = 0; i < e->nxattrs; i++) {
		const struct lb_xattr *x = &e->xattrs[i];
		size_t nl = slen(x->name);

		if (nl == 0 || nl > LB_TREE_MAX_XATTR_NAME)
			return BAD(ru, "entry %zu (%s): attribute %zu has a name of %zu bytes",
				   ru->index, e->name, i, nl);
		if (x->len > LB_TREE_MAX_XATTR)
			return TOO_BIG(ru, "entry %zu (%s): attribute %s has %zu bytes, at most %u",
				       ru->index, e->name, x->name, x->len, LB_TREE_MAX_XATTR);
		if (x->len && !x->value)
			return BAD(ru, "entry %zu: attribute %s has no value", ru->index, x->name);
		if (i && strcmp(e->xattrs[i - 1].name, x->name) >= 0)
			return BAD(ru, "entry %zu (%s): attributes %s and %s are not in order",
				   ru->index, e->name, e->xattrs[i - 1].name, x->name);
	}
	return 0;
}

static int check_entry(const struct rules *ru, const struct lb_tree_entry *e)
{
	size_t nl = slen(e->name), tl = slen(e->target);
	int r;

	if (e->type < LB_TREE_FILE || e->type > LB_TREE_SOCK)
		return BAD(ru, "entry %zu: unknown type %d", ru->index, (int)e->type);
	if (nl == 0 || nl > LB_TREE_MAX_NAME)
		return nl ? TOO_BIG(ru, "entry %zu: a name of %zu bytes", ru->index, nl)
			  : BAD(ru, "entry %zu: an empty name", ru->index);
	if (strchr(e->name, '/') || !strcmp(e->name, ".") || !strcmp(e->name, ".."))
		return BAD(ru, "entry %zu: invalid name \"%s\"", ru->index, e->name);
	if (e->mode & ~07777u)
		return BAD(ru, "entry %zu (%s): mode %o has bits above 07777", ru->index, e->name,
			   e->mode);
	if (slen(e->user) > LB_TREE_MAX_OWNER || slen(e->group) > LB_TREE_MAX_OWNER)
		return TOO_BIG(ru, "entry %zu (%s): an owner name over %u bytes", ru->index,
			       e->name, LB_TREE_MAX_OWNER);
	r = check_times(ru, e);
	if (r < 0)
		return r;
	if (e->type == LB_TREE_SYMLINK) {
		if (tl == 0 || tl > LB_TREE_MAX_TARGET)
			return BAD(ru, "entry %zu (%s): a symlink target of %zu bytes", ru->index,
				   e->name, tl);
		if (e->size != tl)
			return BAD(ru, "entry %zu (%s): size %llu, the target has %zu bytes",
				   ru->index, e->name, (unsigned long long)e->size, tl);
	} else {
		if (tl)
			return BAD(ru, "entry %zu (%s): a target for a non-symlink", ru->index,
				   e->name);
		if (e->type != LB_TREE_FILE && e->size)
			return BAD(ru, "entry %zu (%s): size %llu for a %s", ru->index, e->name,
				   (unsigned long long)e->size,
				   e->type == LB_TREE_DIR ? "directory" : "special file");
	}
	if (e->rdev && e->type != LB_TREE_CHR && e->type != LB_TREE_BLK)
		return BAD(ru, "entry %zu (%s): a device number for a non-device", ru->index,
			   e->name);
	if (e->hardlink && e->type == LB_TREE_DIR)
		return BAD(ru, "entry %zu (%s): a hard-link group for a directory", ru->index,
			   e->name);
	r = check_xattrs(ru, e);
	if (r < 0)
		return r;
	return check_runs(ru, e);
}

/* ---- encoding ------------------------------------------------------------------------- */

/* Runs as written: adjacent holes merged. */
static size_t written_runs(const struct lb_tree_entry *e, size_t *bytes)
{
	size_t n = 0, b = 4;

	for (size_t i = 0; i < e->nruns; i++) {
		if (e->runs[i].hole && i && e->runs[i - 1].hole)
			continue;
		n++;
		b += RUN_FIXED + (e->runs[i].hole ? 0 : LB_ID_LEN);
	}
	*bytes = b;
	return n;
}

/* Bytes of one (checked) entry: bounded by the caps, far below 2^32. */
static size_t entry_size(const struct lb_tree_entry *e)
{
	size_t n = ENTRY_FIXED + slen(e->name) + slen(e->user) + slen(e->group) + slen(e->target);

	for (size_t i = 0; i < e->nxattrs; i++)
		n += XATTR_FIXED + strlen(e->xattrs[i].name) + e->xattrs[i].len;
	if (e->type == LB_TREE_FILE) {
		size_t b;

		written_runs(e, &b);
		n += b;
	} else if (e->type == LB_TREE_DIR) {
		n += LB_ID_LEN;
	}
	return n;
}

static uint8_t *put(uint8_t *p, const void *s, size_t n)
{
	if (n)
		memcpy(p, s, n);
	return p + n;
}

static uint8_t *put_time(uint8_t *p, const struct timespec *t)
{
	lb_put_le64(p, (uint64_t)(int64_t)t->tv_sec);
	lb_put_le32(p + 8, (uint32_t)t->tv_nsec);
	return p + 12;
}

static uint8_t *put_entry(uint8_t *p, const struct lb_tree_entry *e)
{
	size_t nl = slen(e->name), ul = slen(e->user), gl = slen(e->group), tl = slen(e->target);

	p[0] = (uint8_t)e->type;
	lb_put_le32(p + 1, e->mode);
	lb_put_le32(p + 5, e->uid);
	lb_put_le32(p + 9, e->gid);
	put_time(p + 13, &e->atime);
	put_time(p + 25, &e->mtime);
	put_time(p + 37, &e->ctime);
	lb_put_le64(p + 49, e->size);
	lb_put_le64(p + 57, e->rdev);
	lb_put_le64(p + 65, e->hardlink);
	lb_put_le16(p + 73, (uint16_t)nl);
	lb_put_le16(p + 75, (uint16_t)ul);
	lb_put_le16(p + 77, (uint16_t)gl);
	lb_put_le16(p + 79, (uint16_t)tl);
	lb_put_le16(p + 81, (uint16_t)e->nxattrs);
	p += ENTRY_FIXED;
	p = put(p, e->name, nl);
	p = put(p, e->user, ul);
	p = put(p, e->group, gl);
	p = put(p, e->target, tl);
	for (size_t i = 0; i < e->nxattrs; i++) {
		const struct lb_xattr *x = &e->xattrs[i];
		size_t xl = strlen(x->name);

		p[0] = (uint8_t)xl;
		lb_put_le32(p + 1, (uint32_t)x->len);
		p = put(p + XATTR_FIXED, x->name, xl);
		p = put(p, x->value, x->len);
	}
	if (e->type == LB_TREE_FILE) {
		size_t b, n = written_runs(e, &b);
		uint8_t *prev_hole = NULL;

		lb_put_le32(p, (uint32_t)n);
		p += 4;
		for (size_t i = 0; i < e->nruns; i++) {
			const struct lb_tree_run *r = &e->runs[i];

			if (r->hole && prev_hole) {
				/* merged: checked not to overflow, the sum is the size */
				lb_put_le64(prev_hole + 1, lb_le64(prev_hole + 1) + r->len);
				continue;
			}
			p[0] = r->hole ? 0 : 1;
			lb_put_le64(p + 1, r->len);
			prev_hole = r->hole ? p : NULL;
			p += RUN_FIXED;
			if (!r->hole)
				p = put(p, r->id, LB_ID_LEN);
		}
	} else if (e->type == LB_TREE_DIR) {
		p = put(p, e->subtree, LB_ID_LEN);
	}
	return p;
}

int lb_tree_encode(const struct lb_tree *t, uint8_t **out, size_t *len)
{
	struct rules ru = {.encoding = true};
	size_t total = TREE_HEADER;
	uint8_t *buf, *p;
	int r;

	*out = NULL;
	*len = 0;
	if (t->n > LB_TREE_MAX_ENTRIES)
		return lb_err(-EINVAL, OBJ, NULL, "%zu entries, at most %u", t->n,
			      LB_TREE_MAX_ENTRIES);
	if (t->n && !t->e)
		return lb_err(-EINVAL, OBJ, NULL, "no entry array");
	for (size_t i = 0; i < t->n; i++) {
		ru.index = i;
		r = check_entry(&ru, &t->e[i]);
		if (r < 0)
			return r;
		if (i && strcmp(t->e[i - 1].name, t->e[i].name) >= 0)
			return lb_err(-EINVAL, OBJ, NULL,
				      "entries \"%s\" and \"%s\" are not in order",
				      t->e[i - 1].name, t->e[i].name);
		if (__builtin_add_overflow(total, entry_size(&t->e[i]), &total) ||
		    total > LB_TREE_MAX_BLOB)
			return lb_err(-EOVERFLOW, OBJ, NULL,
				      "the directory's entries need more than %u bytes",
				      LB_TREE_MAX_BLOB);
	}
	buf = malloc(total);
	if (!buf)
		return lb_err(-ENOMEM, OBJ, NULL, "out of memory for a tree blob of %zu bytes",
			      total);
	memcpy(buf, TREE_MAGIC, 4);
	lb_put_le32(buf + 4, TREE_VERSION);
	lb_put_le32(buf + 8, (uint32_t)t->n);
	p = buf + TREE_HEADER;
	for (size_t i = 0; i < t->n; i++)
		p = put_entry(p, &t->e[i]);
	*out = buf;
	*len = (size_t)(p - buf);
	return 0;
}

/* ---- decoding ------------------------------------------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t len, pos;
	size_t index;
};

static size_t left(const struct rd *d)
{
	return d->len - d->pos;
}

static int truncated(const struct rd *d, const char *what)
{
	return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "entry %zu: truncated in %s (byte %zu of %zu)",
		      d->index, what, d->pos, d->len);
}

/* A string of @n bytes (no NUL inside) as a malloc'ed C string; NULL for 0 if @opt. */
static int get_str(struct rd *d, size_t n, bool opt, const char *what, char **out)
{
	const uint8_t *s = d->p + d->pos;

	*out = NULL;
	if (left(d) < n)
		return truncated(d, what);
	if (memchr(s, 0, n))
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "entry %zu: a NUL byte in the %s",
			      d->index, what);
	d->pos += n;
	if (!n && opt)
		return 0;
	*out = malloc(n + 1);
	if (!*out)
		return lb_err(-ENOMEM, OBJ, NULL, "out of memory");
	memcpy(*out, s, n);
	(*out)[n] = '\0';
	return 0;
}

static void get_time(const uint8_t *p, struct timespec *t)
{
	t->tv_sec = (time_t)(int64_t)lb_le64(p);
	t->tv_nsec = (long)lb_le32(p + 8);
}

static int get_xattrs(struct rd *d, struct lb_tree_entry *e, size_t nx)
{
	int r;

	if (!nx)
		return 0;
	if (nx > LB_TREE_MAX_XATTRS)
		return lb_err(-EOVERFLOW, OBJ, HINT_DAMAGED,
			      "entry %zu: %zu extended attributes, at most %u", d->index, nx,
			      LB_TREE_MAX_XATTRS);
	if (nx > left(d) / XATTR_FIXED)
		return truncated(d, "the extended attributes");
	e->xattrs = calloc(nx, sizeof(*e->xattrs));
	if (!e->xattrs)
		return lb_err(-ENOMEM, OBJ, NULL, "out of memory");
	e->nxattrs = nx;
	for (size_t i = 0; i < nx; i++) {
		struct lb_xattr *x = &e->xattrs[i];
		size_t nl, vl;

		if (left(d) < XATTR_FIXED)
			return truncated(d, "the extended attributes");
		nl = d->p[d->pos];
		vl = lb_le32(d->p + d->pos + 1);
		d->pos += XATTR_FIXED;
		if (vl > LB_TREE_MAX_XATTR)
			return lb_err(-EOVERFLOW, OBJ, HINT_DAMAGED,
				      "entry %zu: an attribute value of %zu bytes, at most %u",
				      d->index, vl, LB_TREE_MAX_XATTR);
		r = get_str(d, nl, false, "attribute name", &x->name);
		if (r < 0)
			return r;
		if (left(d) < vl)
			return truncated(d, "an attribute value");
		x->value = malloc(vl ? vl : 1);
		if (!x->value)
			return lb_err(-ENOMEM, OBJ, NULL, "out of memory");
		memcpy(x->value, d->p + d->pos, vl);
		x->len = vl;
		d->pos += vl;
	}
	return 0;
}

static int get_runs(struct rd *d, struct lb_tree_entry *e)
{
	size_t n;

	if (left(d) < 4)
		return truncated(d, "the run count");
	n = lb_le32(d->p + d->pos);
	d->pos += 4;
	if (n > LB_TREE_MAX_RUNS)
		return lb_err(-EOVERFLOW, OBJ, HINT_DAMAGED, "entry %zu: %zu runs, at most %u",
			      d->index, n, LB_TREE_MAX_RUNS);
	if (n > left(d) / RUN_FIXED)
		return truncated(d, "the runs");
	if (!n)
		return 0;
	e->runs = calloc(n, sizeof(*e->runs));
	if (!e->runs)
		return lb_err(-ENOMEM, OBJ, NULL, "out of memory for %zu runs", n);
	e->nruns = n;
	for (size_t i = 0; i < n; i++) {
		struct lb_tree_run *ru = &e->runs[i];
		uint8_t kind;

		if (left(d) < RUN_FIXED)
			return truncated(d, "the runs");
		kind = d->p[d->pos];
		ru->len = lb_le64(d->p + d->pos + 1);
		d->pos += RUN_FIXED;
		if (kind > 1)
			return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "entry %zu: run %zu of kind %u",
				      d->index, i, kind);
		ru->hole = kind == 0;
		if (!ru->hole) {
			if (left(d) < LB_ID_LEN)
				return truncated(d, "a chunk ID");
			memcpy(ru->id, d->p + d->pos, LB_ID_LEN);
			d->pos += LB_ID_LEN;
		}
	}
	return 0;
}

static int get_entry(struct rd *d, struct lb_tree_entry *e)
{
	const uint8_t *p = d->p + d->pos;
	size_t nl, ul, gl, tl, nx;
	struct rules ru = {.encoding = false, .index = d->index};
	int r;

	if (left(d) < ENTRY_FIXED)
		return truncated(d, "the fixed fields");
	e->type = (enum lb_tree_type)p[0];
	e->mode = lb_le32(p + 1);
	e->uid = lb_le32(p + 5);
	e->gid = lb_le32(p + 9);
	get_time(p + 13, &e->atime);
	get_time(p + 25, &e->mtime);
	get_time(p + 37, &e->ctime);
	e->size = lb_le64(p + 49);
	e->rdev = lb_le64(p + 57);
	e->hardlink = lb_le64(p + 65);
	nl = lb_le16(p + 73);
	ul = lb_le16(p + 75);
	gl = lb_le16(p + 77);
	tl = lb_le16(p + 79);
	nx = lb_le16(p + 81);
	d->pos += ENTRY_FIXED;
	if (nl > LB_TREE_MAX_NAME || ul > LB_TREE_MAX_OWNER || gl > LB_TREE_MAX_OWNER ||
	    tl > LB_TREE_MAX_TARGET)
		return lb_err(-EOVERFLOW, OBJ, HINT_DAMAGED,
			      "entry %zu: a name, owner or target too long (%zu, %zu, %zu, %zu)",
			      d->index, nl, ul, gl, tl);
	if ((r = get_str(d, nl, false, "name", &e->name)) < 0 ||
	    (r = get_str(d, ul, true, "user name", &e->user)) < 0 ||
	    (r = get_str(d, gl, true, "group name", &e->group)) < 0 ||
	    (r = get_str(d, tl, true, "symlink target", &e->target)) < 0 ||
	    (r = get_xattrs(d, e, nx)) < 0)
		return r;
	if (e->type == LB_TREE_FILE) {
		r = get_runs(d, e);
		if (r < 0)
			return r;
	} else if (e->type == LB_TREE_DIR) {
		if (left(d) < LB_ID_LEN)
			return truncated(d, "the subtree ID");
		memcpy(e->subtree, d->p + d->pos, LB_ID_LEN);
		d->pos += LB_ID_LEN;
	}
	return check_entry(&ru, e);
}

int lb_tree_decode(const uint8_t *buf, size_t len, struct lb_tree *out)
{
	struct rd d = {.p = buf, .len = len, .pos = TREE_HEADER};
	size_t n;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > LB_TREE_MAX_BLOB)
		return lb_err(-EOVERFLOW, OBJ, HINT_DAMAGED, "%zu bytes, at most %u", len,
			      LB_TREE_MAX_BLOB);
	if (len < TREE_HEADER)
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "truncated: %zu bytes", len);
	if (memcmp(buf, TREE_MAGIC, 4))
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "bad magic (not a tree blob)");
	if (lb_le32(buf + 4) != TREE_VERSION)
		return lb_err(-EBADMSG, OBJ, "use a newer lifeboat", "unknown version %u",
			      lb_le32(buf + 4));
	n = lb_le32(buf + 8);
	if (n > LB_TREE_MAX_ENTRIES)
		return lb_err(-EOVERFLOW, OBJ, HINT_DAMAGED, "%zu entries, at most %u", n,
			      LB_TREE_MAX_ENTRIES);
	if (n > (len - TREE_HEADER) / (ENTRY_FIXED + 1))
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "%zu entries cannot fit in %zu bytes", n,
			      len);
	if (n) {
		out->e = calloc(n, sizeof(*out->e));
		if (!out->e)
			return lb_err(-ENOMEM, OBJ, NULL, "out of memory for %zu entries", n);
		out->n = n;
	}
	for (size_t i = 0; i < n; i++) {
		d.index = i;
		r = get_entry(&d, &out->e[i]);
		if (r < 0)
			goto fail;
		if (i && strcmp(out->e[i - 1].name, out->e[i].name) >= 0) {
			r = lb_err(-EBADMSG, OBJ, HINT_DAMAGED,
				   "entries \"%s\" and \"%s\" are not in order", out->e[i - 1].name,
				   out->e[i].name);
			goto fail;
		}
	}
	if (d.pos != len) {
		r = lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "%zu bytes after the last entry",
			   len - d.pos);
		goto fail;
	}
	return 0;
fail:
	lb_tree_release(out);
	return r;
}
