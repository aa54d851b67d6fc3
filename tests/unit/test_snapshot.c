/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/repo/snapshot.c: snapshot records.
 *
 * Bodies are also written by hand from the layout in
 * docs/repository-format.md and sealed with the crypto layer directly
 * (wrap()), to check each rule of the decoder on its own. With
 * LB_CORPUS_OUT=DIR, the seeds are written to DIR/corpus/snapshot/ and
 * DIR/bad/snapshot/ (tests/fuzz/make-repo-corpus.sh): objects of an
 * unencrypted repository with a fixed salt, the fixed key fuzz_snapshot uses.
 */
#include "harness.h"

#include "base/cleanup.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/sha256.h"
#include "repo/imagemap.h"
#include "repo/snapshot.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct lb_keys plain_keys = {.encrypted = false};

static void fill_id(uint8_t *id, unsigned n)
{
	for (int i = 0; i < LB_ID_LEN; i++)
		id[i] = (uint8_t)(n * 13 + (unsigned)i);
}

static void image_snapshot(struct lb_snapshot *s, unsigned ntags)
{
	uint64_t blobs = 0;

	memset(s, 0, sizeof(*s));
	s->kind = LB_SNAP_IMAGE;
	s->name = strdup(
		"vm-\xc3\xbcn\xc3\xaf\x63\xc3\xb8\x64\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x9a\xa4");
	s->time.tv_sec = 1732540000;
	s->time.tv_nsec = 999999999;
	s->started = 1732540001;
	s->finished = 1732540099;
	s->hostname = strdup("backup-host");
	s->source = strdup("/var/lib/libvirt/images/\xe6\x97\xa5\xe6\x9c\xac.qcow2");
	s->tags = calloc(ntags ? ntags : 1, sizeof(char *));
	for (unsigned i = 0; i < ntags; i++) {
		char t[32];

		snprintf(t, sizeof(t), "tag-%u-\xc3\xa9", i);
		s->tags[i] = strdup(t);
	}
	s->ntags = ntags;
	fill_id(s->parent, 99);
	s->format = strdup("qcow2");
	s->virtual_size = (100ull << 30) + 1;
	s->chunk_size = 8192;
	lb_map_count(s->virtual_size, s->chunk_size, NULL, &blobs);
	s->nmaps = (size_t)blobs;
	s->maps = calloc(s->nmaps, LB_ID_LEN);
	for (size_t i = 0; i < s->nmaps; i++)
		fill_id(s->maps[i], (unsigned)i);
	s->bytes_read = 1ull << 40;
	s->bytes_new = 12345;
	s->bytes_stored = 6789;
	s->chunks_total = 1 << 20;
	s->chunks_new = 3;
}

static void files_snapshot(struct lb_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->kind = LB_SNAP_FILES;
	s->name = strdup("home");
	s->time.tv_sec = -1; /* before 1970 */
	s->source = strdup("/home");
	fill_id(s->root, 7);
}

static bool same_str(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static void check_same(const struct lb_snapshot *a, const struct lb_snapshot *b)
{
	CHECK_INT(b->kind, a->kind);
	CHECK(same_str(a->name, b->name) && same_str(a->hostname, b->hostname) &&
	      same_str(a->source, b->source) && same_str(a->format, b->format));
	CHECK(a->time.tv_sec == b->time.tv_sec && a->time.tv_nsec == b->time.tv_nsec);
	CHECK(a->started == b->started && a->finished == b->finished);
	CHECK(!memcmp(a->parent, b->parent, LB_ID_LEN) && !memcmp(a->root, b->root, LB_ID_LEN));
	CHECK_U64(b->virtual_size, a->virtual_size);
	CHECK_U64(b->chunk_size, a->chunk_size);
	CHECK_U64(b->nmaps, a->nmaps);
	CHECK(a->nmaps == b->nmaps && (!a->nmaps || !memcmp(a->maps, b->maps, a->nmaps * 32)));
	CHECK_U64(b->ntags, a->ntags);
	for (size_t i = 0; i < a->ntags && i < b->ntags; i++)
		CHECK_STR(b->tags[i], a->tags[i]);
	CHECK(a->bytes_read == b->bytes_read && a->bytes_new == b->bytes_new &&
	      a->bytes_stored == b->bytes_stored && a->chunks_total == b->chunks_total &&
	      a->chunks_new == b->chunks_new);
}

static void roundtrip(const struct lb_keys *k, const struct lb_snapshot *s)
{
	struct lb_snapshot d;
	uint8_t *p = NULL, id[32];
	size_t n = 0;

	CHECK_INT(lb_snapshot_encode(k, s, &p, &n), 0);
	if (!p)
		return;
	CHECK(!memcmp(p, "LBSNAP\r\n\1\0\0\0\x20\0\0\0", 16));
	CHECK_INT(lb_snapshot_decode(k, p, n, &d), 0);
	check_same(s, &d);
	CHECK_INT(lb_sha256(p, n, id), 0);
	CHECK(!memcmp(d.id, id, 32));
	CHECK(d.hostname && d.source);
	lb_snapshot_release(&d);
	free(p);
}

static void test_roundtrip(void)
{
	struct lb_keys k;
	struct lb_snapshot s;

	CHECK_INT(lb_keys_generate(&k, true), 0);
	image_snapshot(&s, LB_SNAPSHOT_MAX_TAGS);
	CHECK_U64(s.nmaps, 1601); /* 100 GiB + 1 byte in 8 KiB chunks, 8192 per blob */
	roundtrip(&k, &s);
	roundtrip(&plain_keys, &s);
	lb_snapshot_release(&s);

	files_snapshot(&s);
	roundtrip(&k, &s);
	roundtrip(&plain_keys, &s);
	lb_snapshot_release(&s);

	/* an empty disk has no map blobs */
	image_snapshot(&s, 0);
	free(s.maps);
	s.maps = NULL;
	s.nmaps = 0;
	s.virtual_size = 0;
	roundtrip(&k, &s);
	/* exactly one blob */
	s.virtual_size = 64ull << 20;
	s.nmaps = 1;
	s.maps = calloc(1, LB_ID_LEN);
	roundtrip(&k, &s);
	lb_snapshot_release(&s);
	lb_snapshot_release(NULL);
}

static void refuse(const char *what, struct lb_snapshot *s, int want)
{
	uint8_t *p = (uint8_t *)1;
	size_t n = 1;
	int r = lb_snapshot_encode(&plain_keys, s, &p, &n);

	if (r != want)
		printf("#   %s: encode returned %d\n", what, r);
	CHECK_INT(r, want);
	CHECK(p == NULL && n == 0);
	lb_snapshot_release(s);
}

static void test_encode_refuses(void)
{
	static const char *const bad_utf8[] = {
		"\xc0\xaf",	    /* overlong '/' */
		"\xe0\x80\xaf",	    /* overlong */
		"\xed\xa0\x80",	    /* a surrogate */
		"\xf4\x90\x80\x80", /* above U+10FFFF */
		"\xe2\x98",	    /* cut */
		"\xff",		    /* never valid */
		"a\x80",	    /* a lone continuation byte */
	};
	struct lb_snapshot s;
	char *big;

	files_snapshot(&s);
	s.kind = 3;
	refuse("kind", &s, -EINVAL);
	files_snapshot(&s);
	s.time.tv_nsec = 1000000000;
	refuse("nanoseconds", &s, -EINVAL);
	image_snapshot(&s, LB_SNAPSHOT_MAX_TAGS + 1);
	refuse("too many tags", &s, -EINVAL);
	files_snapshot(&s);
	free(s.name);
	s.name = strdup("");
	refuse("empty name", &s, -EINVAL);
	files_snapshot(&s);
	free(s.name);
	s.name = NULL;
	refuse("no name", &s, -EINVAL);
	big = malloc(LB_SNAPSHOT_MAX_SOURCE + 2);
	memset(big, 's', LB_SNAPSHOT_MAX_SOURCE + 1);
	big[LB_SNAPSHOT_MAX_SOURCE + 1] = '\0';
	files_snapshot(&s);
	free(s.source);
	s.source = big;
	refuse("long source", &s, -EINVAL);
	for (size_t i = 0; i < LB_ARRAY_SIZE(bad_utf8); i++) {
		files_snapshot(&s);
		free(s.name);
		s.name = strdup(bad_utf8[i]);
		refuse(bad_utf8[i], &s, -EINVAL);
	}
	image_snapshot(&s, 1);
	free(s.tags[0]);
	s.tags[0] = strdup("");
	refuse("empty tag", &s, -EINVAL);
	image_snapshot(&s, 0);
	s.nmaps--;
	refuse("a map missing", &s, -EINVAL);
	image_snapshot(&s, 0);
	s.chunk_size = 8000;
	refuse("chunk size", &s, -EINVAL);
	image_snapshot(&s, 0);
	s.virtual_size = 1ull << 63;
	refuse("virtual size", &s, -EINVAL);
	image_snapshot(&s, 0);
	free(s.format);
	s.format = NULL;
	refuse("no format", &s, -EINVAL);
	image_snapshot(&s, 0);
	s.root[5] = 1;
	refuse("a root in an image", &s, -EINVAL);
	files_snapshot(&s);
	s.chunk_size = 8192;
	refuse("a chunk size in files", &s, -EINVAL);
	/* 4 PiB in 4 KiB chunks: 2^27 map blobs, 4 GiB of IDs */
	image_snapshot(&s, 0);
	free(s.maps);
	s.virtual_size = 1ull << 52;
	s.chunk_size = 4096;
	s.nmaps = 1u << 27;
	s.maps = calloc(1, 32);
	refuse("too many maps", &s, -EOVERFLOW);
}

static void test_tamper_and_keys(void)
{
	struct lb_keys k, other;
	struct lb_snapshot s, d;
	uint8_t *p = NULL;
	size_t n = 0;

	CHECK_INT(lb_keys_generate(&k, true), 0);
	CHECK_INT(lb_keys_generate(&other, true), 0);
	image_snapshot(&s, 3);
	CHECK_INT(lb_snapshot_encode(&k, &s, &p, &n), 0);
	CHECK_INT(lb_snapshot_decode(&other, p, n, &d), -EBADMSG);
	CHECK_CONTAINS(lb_err_last()->problem, "authentication");
	CHECK_INT(lb_snapshot_decode(&plain_keys, p, n, &d), -EBADMSG);
	/* every byte of the object matters */
	for (size_t i = 0; i < n; i += i < 64 ? 1 : 997) {
		int r;

		p[i] ^= 0x20;
		r = lb_snapshot_decode(&k, p, n, &d);
		p[i] ^= 0x20;
		if (r != -EBADMSG)
			printf("#   byte %zu flipped: %d\n", i, r);
		CHECK_INT(r, -EBADMSG);
	}
	p[n - 1] ^= 1;
	CHECK_INT(lb_snapshot_decode(&k, p, n, &d), -EBADMSG);
	p[n - 1] ^= 1;
	/* every truncation */
	for (size_t i = 0; i < n; i += i < 200 ? 1 : 331)
		CHECK_INT(lb_snapshot_decode(&k, p, i, &d), -EBADMSG);
	CHECK_INT(lb_snapshot_decode(&k, p, n, &d), 0);
	lb_snapshot_release(&d);
	/* an unencrypted repository's object is checked too (damage, not attacks) */
	free(p);
	CHECK_INT(lb_snapshot_encode(&plain_keys, &s, &p, &n), 0);
	p[100] ^= 4;
	CHECK_INT(lb_snapshot_decode(&plain_keys, p, n, &d), -EBADMSG);
	CHECK_INT(lb_snapshot_decode(&k, p, n, &d), -EBADMSG);
	free(p);
	lb_snapshot_release(&s);
	/* over the cap: refused before anything else */
	p = calloc(1, LB_SNAPSHOT_MAX + 1);
	CHECK_INT(lb_snapshot_decode(&k, p, LB_SNAPSHOT_MAX + 1, &d), -EOVERFLOW);
	free(p);
}

/* ---- bodies by hand ---------------------------------------------------------------------- */

struct bb {
	uint8_t p[8192];
	size_t n;
};

static void b32(struct bb *b, uint32_t v)
{
	lb_put_le32(b->p + b->n, v);
	b->n += 4;
}

static void b64(struct bb *b, uint64_t v)
{
	lb_put_le64(b->p + b->n, v);
	b->n += 8;
}

static void bbytes(struct bb *b, const void *s, size_t n)
{
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void bid(struct bb *b, unsigned n)
{
	uint8_t id[LB_ID_LEN];

	fill_id(id, n);
	bbytes(b, id, sizeof(id));
}

static void bstrn(struct bb *b, const char *s, size_t n)
{
	b32(b, (uint32_t)n);
	bbytes(b, s, n);
}

static void bstr(struct bb *b, const char *s)
{
	bstrn(b, s, strlen(s));
}

static void fixed(struct bb *b, uint32_t kind, uint32_t ns, uint32_t ntags)
{
	b->n = 0;
	b32(b, kind);
	b32(b, ns);
	b64(b, 1700000000);
	b64(b, 1700000001);
	b64(b, 1700000002);
	bid(b, 1);
	for (int i = 0; i < 5; i++)
		b64(b, (uint64_t)i * 1000);
	b32(b, ntags);
}

/* An image body up to the map count; @vs and @cs as given. */
static void image_body(struct bb *b, uint64_t vs, uint32_t cs)
{
	fixed(b, 1, 5, 2);
	bstr(b, "vm");
	bstr(b, "host");
	bstr(b, "/images/vm.qcow2");
	bstr(b, "daily");
	bstr(b, "\xe2\x98\x83");
	bstr(b, "qcow2");
	b64(b, vs);
	b32(b, cs);
}

static void files_body(struct bb *b)
{
	fixed(b, 2, 0, 0);
	bstr(b, "home");
	bstr(b, "");
	bstr(b, "/home");
	bid(b, 2);
}

/* Seal @b as an object with a fixed salt: deterministic for unencrypted keys. */
static size_t wrap(const struct lb_keys *k, const struct bb *b, uint8_t *out)
{
	struct lb_aead_key ak;
	uint8_t aad[17 + 16];

	memcpy(out, "LBSNAP\r\n", 8);
	lb_put_le32(out + 8, 1);
	lb_put_le32(out + 12, 32);
	memset(out + 16, 0x11, 16);
	CHECK_INT(lb_aead_derive(k, "snapshot", out + 16, 16, &ak), 0);
	memcpy(aad, "lifeboat-snapshot", 17);
	memcpy(aad + 17, out + 16, 16);
	CHECK_INT(lb_seal(&ak, aad, sizeof(aad), b->p, b->n, out + 32), 0);
	return 32 + b->n + 28;
}

static void mkdirs(const char *path)
{
	char tmp[1024];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *s = tmp + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(tmp, 0755);
			*s = '/';
		}
}

static void save_seed(const char *kind, const char *name, const uint8_t *p, size_t n)
{
	const char *out = getenv("LB_CORPUS_OUT");
	char path[1024];
	int fd;

	if (!out || !*out)
		return;
	snprintf(path, sizeof(path), "%s/%s/snapshot/%s", out, kind, name);
	mkdirs(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(write(fd, p, n), (long long)n);
	close(fd);
}

static void expect_obj(const char *name, const uint8_t *p, size_t n, int want)
{
	struct lb_snapshot d;
	int r = lb_snapshot_decode(&plain_keys, p, n, &d);
	char file[128];

	if (r != want)
		printf("#   %s: decode returned %d (%s), expected %d\n", name, r,
		       lb_err_last()->problem, want);
	CHECK_INT(r, want);
	if (r == 0)
		lb_snapshot_release(&d);
	else
		CHECK(!d.name && !d.tags && !d.maps);
	snprintf(file, sizeof(file), "%s%s",
		 want == -EBADMSG     ? "EBADMSG-"
		 : want == -EOVERFLOW ? "EOVERFLOW-"
				      : "",
		 name);
	save_seed(want < 0 ? "bad" : "corpus", file, p, n);
}

/* Seal the body with the unencrypted key and with an encrypted one: the same verdict. */
static void expect(const char *name, const struct bb *b, int want)
{
	static uint8_t obj[8192 + 64];
	struct lb_keys k;
	struct lb_snapshot d;
	size_t n;

	n = wrap(&plain_keys, b, obj);
	expect_obj(name, obj, n, want);
	memset(&k, 0x42, sizeof(k));
	k.encrypted = true;
	n = wrap(&k, b, obj);
	CHECK_INT(lb_snapshot_decode(&k, obj, n, &d), want);
	if (want == 0)
		lb_snapshot_release(&d);
}

static void test_bodies(void)
{
	struct bb b, g;
	static uint8_t obj[8192 + 64];
	size_t n;

	/* 3 * 64 MiB + 1 byte in 8 KiB chunks: 4 map blobs */
	image_body(&g, (3ull << 26) + 1, 8192);
	b = g;
	b32(&b, 4);
	for (unsigned i = 0; i < 4; i++)
		bid(&b, i);
	expect("image", &b, 0);
	{
		struct lb_snapshot d;

		n = wrap(&plain_keys, &b, obj);
		CHECK_INT(lb_snapshot_decode(&plain_keys, obj, n, &d), 0);
		CHECK_STR(d.name, "vm");
		CHECK_STR(d.tags[1], "\xe2\x98\x83");
		CHECK_U64(d.nmaps, 4);
		CHECK_U64(d.time.tv_nsec, 5);
		CHECK_U64(d.bytes_stored, 2000);
		lb_snapshot_release(&d);
	}
	files_body(&b);
	expect("files", &b, 0);
	{
		struct lb_snapshot d;

		n = wrap(&plain_keys, &b, obj);
		CHECK_INT(lb_snapshot_decode(&plain_keys, obj, n, &d), 0);
		CHECK_STR(d.hostname, "");
		CHECK(d.format == NULL && d.nmaps == 0);
		lb_snapshot_release(&d);
	}
	image_body(&b, 0, 4096);
	b32(&b, 0);
	expect("empty-disk", &b, 0);

	/* the map count must match the size */
	b = g;
	b32(&b, 3);
	for (unsigned i = 0; i < 3; i++)
		bid(&b, i);
	expect("map-count-short", &b, -EBADMSG);
	b = g;
	b32(&b, 5);
	for (unsigned i = 0; i < 5; i++)
		bid(&b, i);
	expect("map-count-long", &b, -EBADMSG);
	b = g;
	b32(&b, 4);
	for (unsigned i = 0; i < 3; i++)
		bid(&b, i);
	expect("map-ids-truncated", &b, -EBADMSG);
	image_body(&b, 1ull << 62, 4096);
	b32(&b, 0xffffffff);
	expect("map-count-huge", &b, -EBADMSG);
	image_body(&b, 1ull << 63, 4096);
	b32(&b, 0);
	expect("virtual-size-over-2-63", &b, -EOVERFLOW);
	image_body(&b, 4096, 3000);
	b32(&b, 1);
	bid(&b, 0);
	expect("chunk-size", &b, -EBADMSG);
	image_body(&b, 4096, 2 << 20);
	b32(&b, 1);
	bid(&b, 0);
	expect("chunk-size-big", &b, -EBADMSG);

	/* trailing and missing bytes */
	files_body(&b);
	b.p[b.n++] = 0;
	expect("trailing-byte", &b, -EBADMSG);
	files_body(&b);
	b.n--;
	expect("root-truncated", &b, -EBADMSG);
	b.n = 107;
	expect("fixed-truncated", &b, -EBADMSG);
	b.n = 0;
	expect("empty-body", &b, -EBADMSG);
	image_body(&b, 4096, 4096);
	expect("image-fields-missing", &b, -EBADMSG);

	/* fixed fields */
	files_body(&b);
	lb_put_le32(b.p, 3);
	expect("kind-3", &b, -EBADMSG);
	lb_put_le32(b.p, 0);
	expect("kind-0", &b, -EBADMSG);
	files_body(&b);
	lb_put_le32(b.p + 4, 1000000000);
	expect("nanoseconds", &b, -EBADMSG);
	files_body(&b);
	lb_put_le32(b.p + 104, LB_SNAPSHOT_MAX_TAGS + 1);
	expect("tags-over-cap", &b, -EOVERFLOW);
	files_body(&b);
	lb_put_le32(b.p + 104, 1);
	b.n -= 32;
	expect("tag-missing", &b, -EBADMSG);

	/* strings */
	fixed(&b, 2, 0, 0);
	bstr(&b, "");
	bstr(&b, "");
	bstr(&b, "");
	bid(&b, 0);
	expect("empty-name", &b, -EBADMSG);
	fixed(&b, 2, 0, 0);
	b32(&b, LB_SNAPSHOT_MAX_NAME + 1);
	expect("name-over-cap", &b, -EOVERFLOW);
	fixed(&b, 2, 0, 0);
	b32(&b, 0xffffffff);
	expect("name-length-huge", &b, -EOVERFLOW);
	fixed(&b, 2, 0, 0);
	bstr(&b, "n");
	b32(&b, 100);
	expect("hostname-truncated", &b, -EBADMSG);
	fixed(&b, 2, 0, 0);
	bstr(&b, "n");
	bstrn(&b, "a\0b", 3);
	bstr(&b, "");
	bid(&b, 0);
	expect("nul-in-hostname", &b, -EBADMSG);
	fixed(&b, 2, 0, 1);
	bstr(&b, "n");
	bstr(&b, "h");
	bstr(&b, "/");
	bstr(&b, "\xed\xa0\x80");
	bid(&b, 0);
	expect("surrogate-in-tag", &b, -EBADMSG);
	fixed(&b, 2, 0, 1);
	bstr(&b, "n");
	bstr(&b, "h");
	bstr(&b, "/");
	bstr(&b, "");
	bid(&b, 0);
	expect("empty-tag", &b, -EBADMSG);
	fixed(&b, 2, 0, 0);
	bstr(&b, "\xc3\xa9t\xc3\xa9");
	bstr(&b, "h");
	bstr(&b, "\xc0\xaf");
	bid(&b, 0);
	expect("overlong-in-source", &b, -EBADMSG);
	image_body(&b, 4096, 4096);
	b.n -= 12 + 4 + 5; /* back to before the format */
	bstr(&b, "");
	b64(&b, 4096);
	b32(&b, 4096);
	b32(&b, 1);
	bid(&b, 0);
	expect("empty-format", &b, -EBADMSG);

	/* the header */
	files_body(&b);
	n = wrap(&plain_keys, &b, obj);
	obj[0] = 'X';
	expect_obj("magic", obj, n, -EBADMSG);
	n = wrap(&plain_keys, &b, obj);
	lb_put_le32(obj + 8, 2);
	expect_obj("version-2", obj, n, -EBADMSG);
	n = wrap(&plain_keys, &b, obj);
	lb_put_le32(obj + 12, 48);
	expect_obj("header-length", obj, n, -EBADMSG);
	n = wrap(&plain_keys, &b, obj);
	obj[40] ^= 1; /* the nonce: zero in an unencrypted repository, so damage there shows */
	expect_obj("plain-nonce", obj, n, -EBADMSG);
	obj[40] ^= 1;
	obj[100] ^= 1;
	expect_obj("tampered", obj, n, -EBADMSG);
	obj[100] ^= 1;
	obj[20] ^= 1; /* the salt is in the aad */
	expect_obj("salt-changed", obj, n, -EBADMSG);
	expect_obj("short", obj, 59, -EBADMSG);
}

static void test_corpus(void)
{
	struct lb_snapshot s;
	uint8_t *p = NULL;
	size_t n = 0;

	image_snapshot(&s, 2);
	CHECK_INT(lb_snapshot_encode(&plain_keys, &s, &p, &n), 0);
	if (p)
		expect_obj("encoded-image", p, n, 0);
	free(p);
	lb_snapshot_release(&s);
}

static void test_alloc_failures(void)
{
	struct lb_keys k;
	struct lb_snapshot s, d;
	uint8_t *p = NULL;
	size_t n = 0;
	unsigned ok = 0, nomem = 0;

	CHECK_INT(lb_keys_generate(&k, true), 0);
	image_snapshot(&s, 4);
	CHECK_INT(lb_snapshot_encode(&k, &s, &p, &n), 0);
	CHECK_INT(lb_snapshot_decode(&k, p, n, &d), 0); /* let libcrypto set itself up */
	lb_snapshot_release(&d);
	for (unsigned long i = 1; i < 60; i++) {
		uint8_t *q = NULL;
		size_t qn;
		int r;

		lb_test_alloc_fail_at(i);
		r = lb_snapshot_decode(&k, p, n, &d);
		lb_test_alloc_fail_at(0);
		/*
		 * The crypto layer reports its own allocation failures as -EIO
		 * (key derivation) and -EBADMSG (opening the seal): accepted
		 * here, the rest must be -ENOMEM.
		 */
		if (r == -EIO ||
		    (r == -EBADMSG && strstr(lb_err_last()->problem, "authentication")))
			r = -ENOMEM;
		if (r != 0 && r != -ENOMEM)
			printf("#   %lu: %d %s\n", i, r, lb_err_last()->problem);
		CHECK(r == 0 || r == -ENOMEM);
		if (r == 0)
			check_same(&s, &d);
		else
			CHECK(!d.name && !d.tags && !d.maps);
		lb_snapshot_release(&d);
		ok += r == 0;
		nomem += r == -ENOMEM;
		lb_test_alloc_fail_at(i);
		r = lb_snapshot_encode(&k, &s, &q, &qn);
		lb_test_alloc_fail_at(0);
		CHECK(r == 0 || r == -ENOMEM || r == -EIO);
		free(q);
	}
	CHECK(ok > 0);
#ifndef __SANITIZE_ADDRESS__
	CHECK(nomem >= 12); /* body, 3 strings, tag array, 4 tags, format, maps, hash */
#endif
	free(p);
	lb_snapshot_release(&s);
}

LB_TEST_MAIN(T(test_roundtrip), T(test_encode_refuses), T(test_tamper_and_keys), T(test_bodies),
	     T(test_corpus), T(test_alloc_failures))
