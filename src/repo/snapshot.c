/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapshot.c - snapshot records.
 *
 * Object:
 *   off  size  field
 *     0     8  magic "LBSNAP\r\n"
 *     8     4  version (1)
 *    12     4  header length (32)
 *    16    16  salt (random): the key is lb_aead_derive(keys, "snapshot", salt)
 *    32   ...  the body, sealed: nonce (12) | ciphertext | tag (16),
 *              aad = "lifeboat-snapshot" | salt
 *
 * Body (the plaintext):
 *     0     4  kind (1 image, 2 files)
 *     4     4  capture time: nanoseconds (< 10^9)
 *     8     8  capture time: seconds since the epoch (signed)
 *    16     8  backup started (seconds, signed)
 *    24     8  backup finished (seconds, signed)
 *    32    32  parent snapshot ID (zeros: none)
 *    64     8  bytes read
 *    72     8  bytes in new chunks
 *    80     8  bytes stored (compressed, sealed)
 *    88     8  chunks in total
 *    96     8  chunks new
 *   104     4  number of tags T (at most LB_SNAPSHOT_MAX_TAGS)
 *   108   ...  strings, each a length (4) and UTF-8 bytes (no NUL): name
 *              (1..4096), hostname (0..255), source path (0..4096), T tags
 *              (1..255 each)
 *         ...  image: format (a string, 1..32), virtual size (8, < 2^63),
 *              chunk size (4: a power of two, 4 KiB..1 MiB), number of map
 *              blobs M (4: exactly ceil(ceil(virtual size / chunk size) /
 *              LB_MAP_SPAN)), M map blob IDs (32 each), in disk order
 *              files: root tree blob ID (32)
 *
 * Nothing follows. The snapshot's ID is the SHA-256 of the whole object.
 */
#include "repo/snapshot.h"

#include "base/endian.h"
#include "base/err.h"
#include "base/sha256.h"
#include "repo/imagemap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_MAGIC "LBSNAP\r\n"
#define SNAP_VERSION 1
#define SNAP_AAD "lifeboat-snapshot"
#define SNAP_AAD_LEN (sizeof(SNAP_AAD) - 1)
#define BODY_FIXED 108
#define BODY_MAX (LB_SNAPSHOT_MAX - LB_SNAPSHOT_HEADER - LB_SEAL_OVERHEAD)
#define OBJ "snapshot"
#define HINT_DAMAGED "the snapshot object is damaged; run 'lifeboat check'"

void lb_snapshot_release(struct lb_snapshot *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->hostname);
	free(s->source);
	for (size_t i = 0; i < s->ntags && s->tags; i++)
		free(s->tags[i]);
	free(s->tags);
	free(s->format);
	free(s->maps);
	memset(s, 0, sizeof(*s));
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF, no NUL. */
static bool valid_utf8(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp, min;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

struct field {
	const char *what;
	size_t min, max;
};

static const struct field F_NAME = {"name", 1, LB_SNAPSHOT_MAX_NAME};
static const struct field F_HOST = {"hostname", 0, LB_SNAPSHOT_MAX_HOST};
static const struct field F_SOURCE = {"source path", 0, LB_SNAPSHOT_MAX_SOURCE};
static const struct field F_TAG = {"tag", 1, LB_SNAPSHOT_MAX_TAG};
static const struct field F_FORMAT = {"image format", 1, LB_SNAPSHOT_MAX_FORMAT};

/* ---- encoding ------------------------------------------------------------------------ */

static size_t slen(const char *s)
{
	return s ? strlen(s) : 0;
}

static int check_str(const struct field *f, const char *s)
{
	size_t n = slen(s);

	if (n < f->min || n > f->max)
		return lb_err(-EINVAL, OBJ, NULL, "the %s has %zu bytes (%zu to %zu allowed)",
			      f->what, n, f->min, f->max);
	if (!valid_utf8((const uint8_t *)(s ? s : ""), n))
		return lb_err(-EINVAL, OBJ, "names and paths must be UTF-8",
			      "the %s is not valid UTF-8", f->what);
	return 0;
}

static bool is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int check_snapshot(const struct lb_snapshot *s, size_t *body_len)
{
	size_t n = BODY_FIXED;
	int r;

	if (s->kind != LB_SNAP_IMAGE && s->kind != LB_SNAP_FILES)
		return lb_err(-EINVAL, OBJ, NULL, "unknown kind %d", (int)s->kind);
	if (s->time.tv_nsec < 0 || s->time.tv_nsec >= 1000000000)
		return lb_err(-EINVAL, OBJ, NULL, "nanoseconds %ld out of range",
			      (long)s->time.tv_nsec);
	if (s->ntags > LB_SNAPSHOT_MAX_TAGS)
		return lb_err(-EINVAL, OBJ, NULL, "%zu tags, at most %u", s->ntags,
			      LB_SNAPSHOT_MAX_TAGS);
	if (s->ntags && !s->tags)
		return lb_err(-EINVAL, OBJ, NULL, "%zu tags but no array", s->ntags);
	if ((r = check_str(&F_NAME, s->name)) < 0 || (r = check_str(&F_HOST, s->hostname)) < 0 ||
	    (r = check_str(&F_SOURCE, s->source)) < 0)
		return r;
	n += 12 + slen(s->name) + slen(s->hostname) + slen(s->source);
	for (size_t i = 0; i < s->ntags; i++) {
		r = check_str(&F_TAG, s->tags[i]);
		if (r < 0)
			return r;
		n += 4 + strlen(s->tags[i]);
	}
	if (s->kind == LB_SNAP_IMAGE) {
		uint64_t blobs;

		r = check_str(&F_FORMAT, s->format);
		if (r < 0)
			return r;
		if (s->virtual_size > INT64_MAX ||
		    lb_map_count(s->virtual_size, s->chunk_size, NULL, &blobs) < 0 ||
		    blobs != s->nmaps || (s->nmaps && !s->maps))
			return lb_err(-EINVAL, OBJ, NULL,
				      "%zu map blobs for %llu bytes in chunks of %u", s->nmaps,
				      (unsigned long long)s->virtual_size, s->chunk_size);
		if (!is_zero(s->root, LB_ID_LEN))
			return lb_err(-EINVAL, OBJ, NULL, "a root tree in an image snapshot");
		if (s->nmaps > (BODY_MAX - n) / LB_ID_LEN)
			return lb_err(-EOVERFLOW, OBJ, NULL,
				      "%zu map blobs do not fit in a snapshot (%u bytes)", s->nmaps,
				      LB_SNAPSHOT_MAX);
		n += 4 + slen(s->format) + 16 + s->nmaps * LB_ID_LEN;
	} else {
		if (slen(s->format) || s->virtual_size || s->chunk_size || s->nmaps)
			return lb_err(-EINVAL, OBJ, NULL, "image fields in a files snapshot");
		n += LB_ID_LEN;
	}
	if (n > BODY_MAX)
		return lb_err(-EOVERFLOW, OBJ, NULL, "%zu bytes, at most %zu", n, (size_t)BODY_MAX);
	*body_len = n;
	return 0;
}

static uint8_t *put_str(uint8_t *p, const char *s)
{
	size_t n = slen(s);

	lb_put_le32(p, (uint32_t)n);
	if (n)
		memcpy(p + 4, s, n);
	return p + 4 + n;
}

static void put_body(uint8_t *b, const struct lb_snapshot *s)
{
	uint8_t *p;

	lb_put_le32(b, (uint32_t)s->kind);
	lb_put_le32(b + 4, (uint32_t)s->time.tv_nsec);
	lb_put_le64(b + 8, (uint64_t)(int64_t)s->time.tv_sec);
	lb_put_le64(b + 16, (uint64_t)s->started);
	lb_put_le64(b + 24, (uint64_t)s->finished);
	memcpy(b + 32, s->parent, LB_ID_LEN);
	lb_put_le64(b + 64, s->bytes_read);
	lb_put_le64(b + 72, s->bytes_new);
	lb_put_le64(b + 80, s->bytes_stored);
	lb_put_le64(b + 88, s->chunks_total);
	lb_put_le64(b + 96, s->chunks_new);
	lb_put_le32(b + 104, (uint32_t)s->ntags);
	p = b + BODY_FIXED;
	p = put_str(p, s->name);
	p = put_str(p, s->hostname);
	p = put_str(p, s->source);
	for (size_t i = 0; i < s->ntags; i++)
		p = put_str(p, s->tags[i]);
	if (s->kind == LB_SNAP_IMAGE) {
		p = put_str(p, s->format);
		lb_put_le64(p, s->virtual_size);
		lb_put_le32(p + 8, s->chunk_size);
		lb_put_le32(p + 12, (uint32_t)s->nmaps);
		p += 16;
		if (s->nmaps)
			memcpy(p, s->maps, s->nmaps * LB_ID_LEN);
	} else {
		memcpy(p, s->root, LB_ID_LEN);
	}
}

static void make_aad(uint8_t aad[SNAP_AAD_LEN + LB_SALT_LEN], const uint8_t *salt)
{
	memcpy(aad, SNAP_AAD, SNAP_AAD_LEN);
	memcpy(aad + SNAP_AAD_LEN, salt, LB_SALT_LEN);
}

int lb_snapshot_encode(const struct lb_keys *keys, const struct lb_snapshot *s, uint8_t **out,
		       size_t *len)
{
	struct lb_aead_key k;
	uint8_t aad[SNAP_AAD_LEN + LB_SALT_LEN];
	uint8_t *obj, *body;
	size_t blen = 0, n;
	int r;

	*out = NULL;
	*len = 0;
	r = check_snapshot(s, &blen);
	if (r < 0)
		return r;
	n = LB_SNAPSHOT_HEADER + blen + LB_SEAL_OVERHEAD;
	obj = malloc(n);
	body = malloc(blen);
	if (!obj || !body) {
		free(obj);
		free(body);
		return lb_err(-ENOMEM, OBJ, NULL, "out of memory");
	}
	memcpy(obj, SNAP_MAGIC, 8);
	lb_put_le32(obj + 8, SNAP_VERSION);
	lb_put_le32(obj + 12, LB_SNAPSHOT_HEADER);
	r = lb_random(obj + 16, LB_SALT_LEN);
	if (r < 0)
		goto fail;
	r = lb_aead_derive(keys, "snapshot", obj + 16, LB_SALT_LEN, &k);
	if (r < 0) {
		r = lb_err(r, OBJ, NULL, "cannot derive the snapshot key");
		goto fail;
	}
	put_body(body, s);
	make_aad(aad, obj + 16);
	r = lb_seal(&k, aad, sizeof(aad), body, blen, obj + LB_SNAPSHOT_HEADER);
	memset(&k, 0, sizeof(k));
	if (r < 0) {
		r = lb_err(r, OBJ, NULL, "cannot seal the snapshot");
		goto fail;
	}
	free(body);
	*out = obj;
	*len = n;
	return 0;
fail:
	free(obj);
	free(body);
	return r;
}

/* ---- decoding ------------------------------------------------------------------------ */

struct rd {
	const uint8_t *p;
	size_t len, pos;
};

static int truncated(const struct rd *d, const char *what)
{
	return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "the body ends in the %s (byte %zu of %zu)",
		      what, d->pos, d->len);
}

/* A string field as a malloc'ed C string (never NULL on success). */
static int get_str(struct rd *d, const struct field *f, char **out)
{
	size_t n;

	*out = NULL;
	if (d->len - d->pos < 4)
		return truncated(d, f->what);
	n = lb_le32(d->p + d->pos);
	d->pos += 4;
	if (n > f->max)
		return lb_err(-EOVERFLOW, OBJ, HINT_DAMAGED, "the %s has %zu bytes, at most %zu",
			      f->what, n, f->max);
	if (n < f->min)
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "the %s is empty", f->what);
	if (d->len - d->pos < n)
		return truncated(d, f->what);
	if (!valid_utf8(d->p + d->pos, n))
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "the %s is not valid UTF-8", f->what);
	*out = malloc(n + 1);
	if (!*out)
		return lb_err(-ENOMEM, OBJ, NULL, "out of memory");
	memcpy(*out, d->p + d->pos, n);
	(*out)[n] = '\0';
	d->pos += n;
	return 0;
}

static int parse_body(const uint8_t *b, size_t len, struct lb_snapshot *s)
{
	struct rd d = {.p = b, .len = len, .pos = BODY_FIXED};
	uint32_t kind, ns, ntags;
	int r;

	if (len < BODY_FIXED)
		return truncated(&d, "fixed fields");
	kind = lb_le32(b);
	ns = lb_le32(b + 4);
	ntags = lb_le32(b + 104);
	if (kind != LB_SNAP_IMAGE && kind != LB_SNAP_FILES)
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "unknown kind %u", kind);
	if (ns >= 1000000000)
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "nanoseconds %u out of range", ns);
	if (ntags > LB_SNAPSHOT_MAX_TAGS)
		return lb_err(-EOVERFLOW, OBJ, HINT_DAMAGED, "%u tags, at most %u", ntags,
			      LB_SNAPSHOT_MAX_TAGS);
	s->kind = (enum lb_snapshot_kind)kind;
	s->time.tv_nsec = (long)ns;
	s->time.tv_sec = (time_t)(int64_t)lb_le64(b + 8);
	s->started = (int64_t)lb_le64(b + 16);
	s->finished = (int64_t)lb_le64(b + 24);
	memcpy(s->parent, b + 32, LB_ID_LEN);
	s->bytes_read = lb_le64(b + 64);
	s->bytes_new = lb_le64(b + 72);
	s->bytes_stored = lb_le64(b + 80);
	s->chunks_total = lb_le64(b + 88);
	s->chunks_new = lb_le64(b + 96);
	if ((r = get_str(&d, &F_NAME, &s->name)) < 0 ||
	    (r = get_str(&d, &F_HOST, &s->hostname)) < 0 ||
	    (r = get_str(&d, &F_SOURCE, &s->source)) < 0)
		return r;
	if (ntags) {
		s->tags = calloc(ntags, sizeof(*s->tags));
		if (!s->tags)
			return lb_err(-ENOMEM, OBJ, NULL, "out of memory");
		s->ntags = ntags;
		for (uint32_t i = 0; i < ntags; i++) {
			r = get_str(&d, &F_TAG, &s->tags[i]);
			if (r < 0)
				return r;
		}
	}
	if (kind == LB_SNAP_IMAGE) {
		uint64_t blobs = 0;
		uint32_t m;

		r = get_str(&d, &F_FORMAT, &s->format);
		if (r < 0)
			return r;
		if (d.len - d.pos < 16)
			return truncated(&d, "image fields");
		s->virtual_size = lb_le64(b + d.pos);
		s->chunk_size = lb_le32(b + d.pos + 8);
		m = lb_le32(b + d.pos + 12);
		d.pos += 16;
		if (s->virtual_size > INT64_MAX)
			return lb_err(-EOVERFLOW, OBJ, HINT_DAMAGED, "a virtual size of %llu bytes",
				      (unsigned long long)s->virtual_size);
		if (lb_map_count(s->virtual_size, s->chunk_size, NULL, &blobs) < 0)
			return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "invalid chunk size %u",
				      s->chunk_size);
		if (m != blobs)
			return lb_err(-EBADMSG, OBJ, HINT_DAMAGED,
				      "%u map blobs, but %llu bytes in chunks of %u need %llu", m,
				      (unsigned long long)s->virtual_size, s->chunk_size,
				      (unsigned long long)blobs);
		if ((d.len - d.pos) / LB_ID_LEN < m)
			return truncated(&d, "map blob IDs");
		if (m) {
			s->maps = malloc((size_t)m * LB_ID_LEN);
			if (!s->maps)
				return lb_err(-ENOMEM, OBJ, NULL, "out of memory for %u map IDs",
					      m);
			memcpy(s->maps, b + d.pos, (size_t)m * LB_ID_LEN);
			s->nmaps = m;
			d.pos += (size_t)m * LB_ID_LEN;
		}
	} else {
		if (d.len - d.pos < LB_ID_LEN)
			return truncated(&d, "root tree ID");
		memcpy(s->root, b + d.pos, LB_ID_LEN);
		d.pos += LB_ID_LEN;
	}
	if (d.pos != len)
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "%zu bytes after the last field",
			      len - d.pos);
	return 0;
}

int lb_snapshot_decode(const struct lb_keys *keys, const uint8_t *buf, size_t len,
		       struct lb_snapshot *out)
{
	uint8_t aad[SNAP_AAD_LEN + LB_SALT_LEN];
	struct lb_aead_key k;
	uint8_t *body;
	size_t blen;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > LB_SNAPSHOT_MAX)
		return lb_err(-EOVERFLOW, OBJ, HINT_DAMAGED, "%zu bytes, at most %u", len,
			      LB_SNAPSHOT_MAX);
	if (len < LB_SNAPSHOT_HEADER + LB_SEAL_OVERHEAD)
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "truncated: %zu bytes", len);
	if (memcmp(buf, SNAP_MAGIC, 8))
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "bad magic (not a snapshot)");
	if (lb_le32(buf + 8) != SNAP_VERSION)
		return lb_err(-EBADMSG, OBJ, "use a newer lifeboat", "unknown version %u",
			      lb_le32(buf + 8));
	if (lb_le32(buf + 12) != LB_SNAPSHOT_HEADER)
		return lb_err(-EBADMSG, OBJ, HINT_DAMAGED, "header length %u, expected %d",
			      lb_le32(buf + 12), LB_SNAPSHOT_HEADER);
	r = lb_aead_derive(keys, "snapshot", buf + 16, LB_SALT_LEN, &k);
	if (r < 0)
		return lb_err(r, OBJ, NULL, "cannot derive the snapshot key");
	blen = len - LB_SNAPSHOT_HEADER - LB_SEAL_OVERHEAD;
	body = malloc(blen ? blen : 1);
	if (!body)
		return lb_err(-ENOMEM, OBJ, NULL, "out of memory");
	make_aad(aad, buf + 16);
	r = lb_unseal(&k, aad, sizeof(aad), buf + LB_SNAPSHOT_HEADER, len - LB_SNAPSHOT_HEADER,
		      body);
	memset(&k, 0, sizeof(k));
	if (r == -EBADMSG)
		r = lb_err(-EBADMSG, OBJ, "the object is damaged, or from another repository",
			   "authentication failed (%zu bytes)", len);
	else if (r < 0)
		r = lb_err(r, OBJ, NULL, "cannot open the sealed body");
	if (r == 0)
		r = parse_body(body, blen, out);
	free(body);
	if (r == 0) {
		r = lb_sha256(buf, len, out->id);
		if (r < 0)
			r = lb_err(r, OBJ, NULL, "out of memory hashing the snapshot");
	}
	if (r < 0)
		lb_snapshot_release(out);
	return r;
}
