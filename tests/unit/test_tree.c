/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/repo/tree.c: tree blobs.
 *
 * Malformed blobs are written by hand from the byte layout in
 * docs/repository-format.md (raw_entry() and friends, not the encoder), so
 * the tests pin the format too. With LB_CORPUS_OUT=DIR, the seeds checked
 * here are written to DIR/corpus/tree/ and DIR/bad/tree/
 * (tests/fuzz/make-repo-corpus.sh).
 */
#include "harness.h"

#include "base/endian.h"
#include "base/err.h"
#include "repo/tree.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- building trees ------------------------------------------------------------------ */

static struct lb_tree_entry *add(struct lb_tree *t, const char *name, enum lb_tree_type type)
{
	struct lb_tree_entry *e;

	t->e = realloc(t->e, (t->n + 1) * sizeof(*t->e));
	e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	e->name = strdup(name);
	e->type = type;
	e->mode = 0644;
	e->uid = 1000;
	e->gid = 100;
	e->mtime.tv_sec = 1700000000;
	e->mtime.tv_nsec = 123456789;
	e->atime.tv_sec = -86400; /* before 1970 */
	e->atime.tv_nsec = 999999999;
	e->ctime.tv_sec = 1;
	return e;
}

static void add_xattr(struct lb_tree_entry *e, const char *name, const void *v, size_t len)
{
	struct lb_xattr *x;

	e->xattrs = realloc(e->xattrs, (e->nxattrs + 1) * sizeof(*e->xattrs));
	x = &e->xattrs[e->nxattrs++];
	x->name = strdup(name);
	x->value = malloc(len ? len : 1);
	memcpy(x->value, v, len);
	x->len = len;
}

static void add_run(struct lb_tree_entry *e, bool hole, uint64_t len, uint8_t seed)
{
	struct lb_tree_run *r;

	e->runs = realloc(e->runs, (e->nruns + 1) * sizeof(*e->runs));
	r = &e->runs[e->nruns++];
	memset(r, 0, sizeof(*r));
	r->hole = hole;
	r->len = len;
	if (!hole)
		memset(r->id, seed, LB_ID_LEN);
	e->size += len;
}

/* A directory with one of everything. */
static void sample(struct lb_tree *t)
{
	struct lb_tree_entry *e;

	memset(t, 0, sizeof(*t));
	e = add(t, "a-file", LB_TREE_FILE);
	e->user = strdup("alice");
	e->group = strdup("staff");
	add_run(e, false, 1 << 20, 1);
	add_run(e, true, 5 << 20, 0);
	add_run(e, false, 4096, 2);
	add_xattr(e, "security.selinux", "system_u:object_r:x:s0", 23);
	add_xattr(e, "user.empty", "", 0);
	add_xattr(e, "user.mime", "text/plain", 10);
	e->hardlink = 7;
	e = add(t, "bin", LB_TREE_DIR);
	e->mode = 0755;
	memset(e->subtree, 0xab, LB_ID_LEN);
	e = add(t, "dev-sda", LB_TREE_BLK);
	e->rdev = (8 << 8) | 0;
	e->mode = 0660;
	e = add(t, "empty", LB_TREE_FILE);
	e->mode = 04755; /* setuid */
	e = add(t, "fifo", LB_TREE_FIFO);
	e = add(t, "link", LB_TREE_SYMLINK);
	e->target = strdup("../some/where");
	e->size = strlen(e->target);
	e->mode = 0777;
	e = add(t, "null", LB_TREE_CHR);
	e->rdev = (1 << 8) | 3;
	e = add(t, "sock", LB_TREE_SOCK);
	e = add(t, "sparse", LB_TREE_FILE);
	add_run(e, true, 1ull << 40, 0);
	e->hardlink = 7;
	e = add(t, "\xc3\xa9t\xc3\xa9 \xe2\x98\x83", LB_TREE_FILE); /* "été ☃" */
	add_run(e, false, 10, 3);
}

static bool same_ts(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_same(const struct lb_tree *a, const struct lb_tree *b)
{
	CHECK_U64(b->n, a->n);
	for (size_t i = 0; i < a->n && i < b->n; i++) {
		const struct lb_tree_entry *x = &a->e[i], *y = &b->e[i];
		bool ok = same_str(x->name, y->name) && x->type == y->type && x->mode == y->mode &&
			  x->uid == y->uid && x->gid == y->gid && same_str(x->user, y->user) &&
			  same_str(x->group, y->group) && same_ts(&x->atime, &y->atime) &&
			  same_ts(&x->mtime, &y->mtime) && same_ts(&x->ctime, &y->ctime) &&
			  x->size == y->size && x->rdev == y->rdev && x->hardlink == y->hardlink &&
			  same_str(x->target, y->target) && x->nxattrs == y->nxattrs &&
			  x->nruns == y->nruns;

		if (x->type == LB_TREE_DIR)
			ok = ok && !memcmp(x->subtree, y->subtree, LB_ID_LEN);
		for (size_t k = 0; ok && k < x->nxattrs; k++)
			ok = !strcmp(x->xattrs[k].name, y->xattrs[k].name) &&
			     x->xattrs[k].len == y->xattrs[k].len &&
			     !memcmp(x->xattrs[k].value, y->xattrs[k].value, x->xattrs[k].len);
		for (size_t k = 0; ok && k < x->nruns; k++)
			ok = x->runs[k].hole == y->runs[k].hole &&
			     x->runs[k].len == y->runs[k].len &&
			     (x->runs[k].hole || !memcmp(x->runs[k].id, y->runs[k].id, LB_ID_LEN));
		if (!ok)
			printf("#   entry %zu (%s) differs\n", i, x->name);
		CHECK(ok);
	}
}

static void test_roundtrip(void)
{
	struct lb_tree t, d;
	uint8_t *p = NULL, *q = NULL;
	size_t n = 0, qn = 0;

	sample(&t);
	CHECK_INT(lb_tree_encode(&t, &p, &n), 0);
	CHECK_INT(lb_tree_decode(p, n, &d), 0);
	check_same(&t, &d);
	CHECK(d.e && d.e[3].user == NULL && d.e[3].target == NULL && d.e[3].runs == NULL);
	CHECK_STR(d.e[0].user, "alice");
	CHECK_U64(d.e[8].size, 1ull << 40);
	CHECK_INT(lb_tree_encode(&d, &q, &qn), 0);
	CHECK(qn == n && q && !memcmp(p, q, n));
	/* the size: header + fixed parts + strings + attributes + runs + one subtree */
	{
		size_t want = 12 + 10 * 83;

		for (size_t i = 0; i < t.n; i++)
			want += strlen(t.e[i].name);
		want += 5 + 5 + 13; /* user, group, target */
		want += (5 + 16 + 23) + (5 + 10) + (5 + 9 + 10);
		want += 4 + 41 + 9 + 41;    /* a-file */
		want += 4 + 4 + 9 + 4 + 41; /* empty, sparse, été */
		want += 32;
		CHECK_U64(n, want);
	}
	free(p);
	free(q);
	lb_tree_release(&d);
	lb_tree_release(&t);

	/* an empty directory */
	memset(&t, 0, sizeof(t));
	CHECK_INT(lb_tree_encode(&t, &p, &n), 0);
	CHECK_U64(n, 12);
	CHECK_INT(lb_tree_decode(p, n, &d), 0);
	CHECK(d.n == 0 && d.e == NULL);
	free(p);
	lb_tree_release(NULL);
}

static void test_holes_merged(void)
{
	struct lb_tree t = {0}, d;
	struct lb_tree_entry *e = add(&t, "f", LB_TREE_FILE);
	uint8_t *p = NULL;
	size_t n = 0;

	add_run(e, true, 100, 0);
	add_run(e, true, 200, 0);
	add_run(e, false, 50, 9);
	add_run(e, true, 1, 0);
	add_run(e, true, 2, 0);
	add_run(e, true, 3, 0);
	CHECK_INT(lb_tree_encode(&t, &p, &n), 0);
	CHECK_INT(lb_tree_decode(p, n, &d), 0);
	CHECK(d.n == 1 && d.e[0].nruns == 3);
	if (d.n == 1 && d.e[0].nruns == 3) {
		CHECK(d.e[0].runs[0].hole && d.e[0].runs[0].len == 300);
		CHECK(!d.e[0].runs[1].hole && d.e[0].runs[1].len == 50);
		CHECK(d.e[0].runs[2].hole && d.e[0].runs[2].len == 6);
		CHECK_U64(d.e[0].size, 356);
	}
	free(p);
	lb_tree_release(&d);
	lb_tree_release(&t);
}

/* The encoder refuses what the decoder would reject. */
static void refuse(const char *what, struct lb_tree *t, int want)
{
	uint8_t *p = (uint8_t *)1;
	size_t n = 1;
	int r = lb_tree_encode(t, &p, &n);

	if (r != want)
		printf("#   %s: encode returned %d\n", what, r);
	CHECK_INT(r, want);
	if (r == 0)
		free(p);
	else
		CHECK(p == NULL && n == 0);
	lb_tree_release(t);
}

static void test_encode_refuses(void)
{
	struct lb_tree t = {0};
	struct lb_tree_entry *e;
	char *big;

	add(&t, "b", LB_TREE_FILE);
	add(&t, "a", LB_TREE_FILE);
	refuse("unsorted", &t, -EINVAL);
	add(&t, "a", LB_TREE_FILE);
	add(&t, "a", LB_TREE_FILE);
	refuse("duplicate", &t, -EINVAL);
	add(&t, "a/b", LB_TREE_FILE);
	refuse("slash", &t, -EINVAL);
	add(&t, ".", LB_TREE_DIR);
	refuse("dot", &t, -EINVAL);
	add(&t, "..", LB_TREE_DIR);
	refuse("dotdot", &t, -EINVAL);
	add(&t, "", LB_TREE_FILE);
	refuse("empty name", &t, -EINVAL);
	big = malloc(LB_TREE_MAX_NAME + 2);
	memset(big, 'n', LB_TREE_MAX_NAME + 1);
	big[LB_TREE_MAX_NAME + 1] = '\0';
	add(&t, big, LB_TREE_FILE);
	refuse("long name", &t, -EINVAL);
	big[LB_TREE_MAX_NAME] = '\0';
	add(&t, big, LB_TREE_FILE);
	refuse("longest name", &t, 0);
	free(big);
	e = add(&t, "x", LB_TREE_FILE);
	e->target = strdup("y");
	refuse("target on a file", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_SYMLINK);
	refuse("symlink without target", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_SYMLINK);
	e->target = strdup("abc");
	e->size = 4;
	refuse("symlink size", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_FILE);
	add_run(e, false, 10, 1);
	e->size = 11;
	refuse("runs short of size", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_FILE);
	add_run(e, false, LB_TREE_MAX_DATA_RUN + 1, 1);
	refuse("data run too long", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_FILE);
	add_run(e, false, LB_TREE_MAX_DATA_RUN, 1);
	add_run(e, true, UINT64_MAX - 100, 1);
	add_run(e, true, 1ull << 30, 1);
	refuse("runs overflow", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_FILE);
	add_run(e, true, 0, 0);
	refuse("empty run", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_DIR);
	add_run(e, false, 10, 1);
	refuse("runs on a directory", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_DIR);
	e->size = 4096;
	refuse("size of a directory", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_FILE);
	e->mode = 010644;
	refuse("mode type bits", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_FILE);
	e->mtime.tv_nsec = 1000000000;
	refuse("nanoseconds", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_FILE);
	e->ctime.tv_nsec = -1;
	refuse("negative nanoseconds", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_FILE);
	e->type = 8;
	refuse("type 8", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_FILE);
	e->type = 0;
	refuse("type 0", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_FILE);
	e->rdev = 5;
	refuse("rdev of a file", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_DIR);
	e->hardlink = 5;
	refuse("hard-linked directory", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_FILE);
	add_xattr(e, "user.b", "", 0);
	add_xattr(e, "user.a", "", 0);
	refuse("attributes unsorted", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_FILE);
	add_xattr(e, "user.a", "", 0);
	add_xattr(e, "user.a", "1", 1);
	refuse("attributes duplicate", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_FILE);
	add_xattr(e, "", "", 0);
	refuse("attribute without a name", &t, -EINVAL);
	big = calloc(1, LB_TREE_MAX_XATTR + 1);
	e = add(&t, "x", LB_TREE_FILE);
	add_xattr(e, "user.big", big, LB_TREE_MAX_XATTR + 1);
	refuse("attribute too big", &t, -EINVAL);
	e = add(&t, "x", LB_TREE_FILE);
	add_xattr(e, "user.big", big, LB_TREE_MAX_XATTR);
	refuse("biggest attribute", &t, 0);
	free(big);
	e = add(&t, "x", LB_TREE_FILE);
	for (unsigned i = 0; i <= LB_TREE_MAX_XATTRS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "user.%05u", i);
		add_xattr(e, name, "", 0);
	}
	refuse("too many attributes", &t, -EINVAL);
	big = malloc(LB_TREE_MAX_OWNER + 2);
	memset(big, 'u', LB_TREE_MAX_OWNER + 1);
	big[LB_TREE_MAX_OWNER + 1] = '\0';
	e = add(&t, "x", LB_TREE_FILE);
	e->user = big;
	refuse("long user name", &t, -EINVAL);
}

/* ---- malformed blobs, by hand ------------------------------------------------------------ */

struct tb {
	uint8_t p[1 << 16];
	size_t n;
};

static void put(struct tb *b, const void *s, size_t n)
{
	if (n)
		memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void put8(struct tb *b, uint8_t v)
{
	b->p[b->n++] = v;
}

static void put16(struct tb *b, uint16_t v)
{
	lb_put_le16(b->p + b->n, v);
	b->n += 2;
}

static void put32(struct tb *b, uint32_t v)
{
	lb_put_le32(b->p + b->n, v);
	b->n += 4;
}

static void put64(struct tb *b, uint64_t v)
{
	lb_put_le64(b->p + b->n, v);
	b->n += 8;
}

static void header(struct tb *b, uint32_t n)
{
	b->n = 0;
	put(b, "LBTB", 4);
	put32(b, 1);
	put32(b, n);
}

struct raw {
	uint8_t type;
	uint32_t mode;
	uint32_t ns;
	uint64_t size, rdev, hardlink;
	const char *name, *user, *group, *target;
	int nl; /* name length if not -1... 0 means strlen */
	uint16_t nx;
};

static void raw_entry(struct tb *b, const struct raw *r)
{
	size_t nl = r->nl ? (size_t)r->nl : strlen(r->name);
	size_t ul = r->user ? strlen(r->user) : 0, gl = r->group ? strlen(r->group) : 0;
	size_t tl = r->target ? strlen(r->target) : 0;

	put8(b, r->type);
	put32(b, r->mode);
	put32(b, 0);
	put32(b, 0);
	for (int i = 0; i < 3; i++) {
		put64(b, (uint64_t)-1000);
		put32(b, i == 1 ? r->ns : 0);
	}
	put64(b, r->size);
	put64(b, r->rdev);
	put64(b, r->hardlink);
	put16(b, (uint16_t)nl);
	put16(b, (uint16_t)ul);
	put16(b, (uint16_t)gl);
	put16(b, (uint16_t)tl);
	put16(b, r->nx);
	put(b, r->name, nl);
	put(b, r->user, ul);
	put(b, r->group, gl);
	put(b, r->target, tl);
}

static void raw_xattr(struct tb *b, const char *name, const char *value)
{
	put8(b, (uint8_t)strlen(name));
	put32(b, (uint32_t)strlen(value));
	put(b, name, strlen(name));
	put(b, value, strlen(value));
}

static void raw_run(struct tb *b, uint8_t kind, uint64_t len)
{
	uint8_t id[LB_ID_LEN];

	memset(id, 0x5a, sizeof(id));
	put8(b, kind);
	put64(b, len);
	if (kind == 1)
		put(b, id, sizeof(id));
}

static void raw_id(struct tb *b)
{
	uint8_t id[LB_ID_LEN];

	memset(id, 0xa5, sizeof(id));
	put(b, id, sizeof(id));
}

/* A good blob: a file with two attributes and runs, a directory, a symlink. */
static void good(struct tb *b)
{
	header(b, 3);
	raw_entry(b, &(struct raw){.type = 1,
				   .mode = 0644,
				   .size = 300,
				   .name = "f",
				   .user = "root",
				   .group = "root",
				   .nx = 2});
	raw_xattr(b, "user.a", "1");
	raw_xattr(b, "user.b", "");
	put32(b, 2);
	raw_run(b, 1, 100);
	raw_run(b, 0, 200);
	raw_entry(b, &(struct raw){.type = 2, .mode = 0755, .name = "g"});
	raw_id(b);
	raw_entry(b,
		  &(struct raw){.type = 3, .mode = 0777, .size = 2, .name = "h", .target = "/x"});
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
	snprintf(path, sizeof(path), "%s/%s/tree/%s", out, kind, name);
	mkdirs(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(write(fd, p, n), (long long)n);
	close(fd);
}

static void expect(const char *name, const uint8_t *p, size_t n, int want)
{
	struct lb_tree d;
	int r = lb_tree_decode(p, n, &d);
	char file[128];

	if (r != want)
		printf("#   %s: decode returned %d (%s), expected %d\n", name, r,
		       lb_err_last()->problem, want);
	CHECK_INT(r, want);
	if (r == 0)
		lb_tree_release(&d);
	else
		CHECK(d.n == 0 && d.e == NULL);
	snprintf(file, sizeof(file), "%s%s",
		 want == -EBADMSG     ? "EBADMSG-"
		 : want == -EOVERFLOW ? "EOVERFLOW-"
				      : "",
		 name);
	save_seed(want < 0 ? "bad" : "corpus", file, p, n);
}

/* One bad entry alone in a blob. */
#define ONE(name, want, ...)                               \
	do {                                               \
		header(&b, 1);                             \
		raw_entry(&b, &(struct raw){__VA_ARGS__}); \
		expect(name, b.p, b.n, want);              \
	} while (0)

static void test_malformed(void)
{
	struct tb b, g;

	good(&g);
	expect("three-entries", g.p, g.n, 0);
	for (size_t n = 0; n < g.n; n++) {
		struct lb_tree d;
		int r = lb_tree_decode(g.p, n, &d);

		if (r != -EBADMSG)
			printf("#   truncated to %zu: %d\n", n, r);
		CHECK_INT(r, -EBADMSG);
	}
	expect("truncated-in-target", g.p, g.n - 1, -EBADMSG);
	expect("truncated-in-runs", g.p, 12 + 83 + 9 + 23 + 4 + 41 + 5, -EBADMSG);
	b = g;
	put8(&b, 0);
	expect("trailing-byte", b.p, b.n, -EBADMSG);
	b = g;
	b.p[3] = 'R';
	expect("magic-LBTR", b.p, b.n, -EBADMSG);
	b = g;
	lb_put_le32(b.p + 4, 2);
	expect("version-2", b.p, b.n, -EBADMSG);
	b = g;
	lb_put_le32(b.p + 8, 4);
	expect("one-entry-missing", b.p, b.n, -EBADMSG);
	b = g;
	lb_put_le32(b.p + 8, 2);
	expect("one-entry-too-many", b.p, b.n, -EBADMSG);
	b = g;
	lb_put_le32(b.p + 8, LB_TREE_MAX_ENTRIES + 1);
	expect("entries-over-cap", b.p, b.n, -EOVERFLOW);
	b = g;
	lb_put_le32(b.p + 8, 100000);
	expect("entries-cannot-fit", b.p, b.n, -EBADMSG);

	/* names */
	ONE("empty-name", -EBADMSG, .type = 4, .name = "");
	ONE("dot", -EBADMSG, .type = 2, .name = ".");
	ONE("dotdot", -EBADMSG, .type = 2, .name = "..");
	ONE("slash", -EBADMSG, .type = 6, .name = "../../etc/passwd");
	ONE("nul-in-name", -EBADMSG, .type = 6, .name = "a\0b", .nl = 3);
	header(&b, 2);
	raw_entry(&b, &(struct raw){.type = 6, .name = "b"});
	raw_entry(&b, &(struct raw){.type = 6, .name = "a"});
	expect("unsorted", b.p, b.n, -EBADMSG);
	header(&b, 2);
	raw_entry(&b, &(struct raw){.type = 6, .name = "a"});
	raw_entry(&b, &(struct raw){.type = 6, .name = "a"});
	expect("duplicate", b.p, b.n, -EBADMSG);
	header(&b, 2);
	raw_entry(&b, &(struct raw){.type = 6, .name = "a"});
	raw_entry(&b, &(struct raw){.type = 6, .name = "\xe9"});
	expect("sorted-as-unsigned", b.p, b.n, 0);
	{
		static char n4097[LB_TREE_MAX_NAME + 2];

		memset(n4097, 'n', LB_TREE_MAX_NAME + 1);
		header(&b, 1);
		raw_entry(&b, &(struct raw){.type = 6, .name = n4097});
		expect("name-over-cap", b.p, b.n, -EOVERFLOW);
		n4097[LB_TREE_MAX_NAME] = '\0';
		header(&b, 1);
		raw_entry(&b, &(struct raw){.type = 6, .name = n4097});
		expect("longest-name", b.p, b.n, 0);
	}

	/* fields */
	ONE("type-0", -EBADMSG, .type = 0, .name = "a");
	ONE("type-8", -EBADMSG, .type = 8, .name = "a");
	ONE("mode-type-bits", -EBADMSG, .type = 6, .mode = 0100644, .name = "a");
	ONE("nanoseconds", -EBADMSG, .type = 6, .ns = 1000000000, .name = "a");
	ONE("max-nanoseconds", 0, .type = 6, .ns = 999999999, .name = "a");
	ONE("rdev-of-fifo", -EBADMSG, .type = 6, .rdev = 1, .name = "a");
	ONE("rdev-of-char", 0, .type = 4, .rdev = 0x103, .name = "a");
	ONE("size-of-fifo", -EBADMSG, .type = 6, .size = 1, .name = "a");
	ONE("hardlinked-fifo", 0, .type = 6, .hardlink = 3, .name = "a");
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 2, .hardlink = 3, .name = "a"});
	raw_id(&b);
	expect("hardlinked-dir", b.p, b.n, -EBADMSG);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 2, .name = "a"});
	expect("dir-without-subtree", b.p, b.n, -EBADMSG);

	/* symlinks */
	ONE("symlink-without-target", -EBADMSG, .type = 3, .name = "a");
	ONE("symlink-size", -EBADMSG, .type = 3, .size = 3, .name = "a", .target = "ab");
	ONE("target-of-fifo", -EBADMSG, .type = 6, .name = "a", .target = "b");
	{
		static char t4097[LB_TREE_MAX_TARGET + 2];

		memset(t4097, 't', LB_TREE_MAX_TARGET + 1);
		ONE("target-over-cap", -EOVERFLOW, .type = 3, .size = LB_TREE_MAX_TARGET + 1,
		    .name = "a", .target = t4097);
	}
	{
		static char u257[LB_TREE_MAX_OWNER + 2];

		memset(u257, 'u', LB_TREE_MAX_OWNER + 1);
		ONE("user-over-cap", -EOVERFLOW, .type = 6, .name = "a", .user = u257);
		ONE("group-over-cap", -EOVERFLOW, .type = 6, .name = "a", .group = u257);
	}

	/* attributes */
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 6, .name = "a", .nx = 2});
	raw_xattr(&b, "user.b", "");
	raw_xattr(&b, "user.a", "");
	expect("xattrs-unsorted", b.p, b.n, -EBADMSG);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 6, .name = "a", .nx = 2});
	raw_xattr(&b, "user.a", "");
	raw_xattr(&b, "user.a", "x");
	expect("xattrs-duplicate", b.p, b.n, -EBADMSG);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 6, .name = "a", .nx = 1});
	raw_xattr(&b, "", "x");
	expect("xattr-empty-name", b.p, b.n, -EBADMSG);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 6, .name = "a", .nx = 1});
	put8(&b, 1);
	put32(&b, LB_TREE_MAX_XATTR + 1);
	put8(&b, 'x');
	expect("xattr-value-over-cap", b.p, b.n, -EOVERFLOW);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 6, .name = "a", .nx = 1});
	put8(&b, 1);
	put32(&b, 1000);
	put8(&b, 'x');
	expect("xattr-value-truncated", b.p, b.n, -EBADMSG);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 6, .name = "a", .nx = LB_TREE_MAX_XATTRS + 1});
	expect("xattrs-over-cap", b.p, b.n, -EOVERFLOW);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 6, .name = "a", .nx = 1000});
	expect("xattrs-cannot-fit", b.p, b.n, -EBADMSG);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 6, .name = "a", .nx = 1});
	raw_xattr(&b, "user.\0", "");
	b.p[b.n - 1] = 0; /* the name's last byte: a NUL */
	expect("xattr-nul-in-name", b.p, b.n, -EBADMSG);

	/* runs */
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 1, .size = 10, .name = "a"});
	put32(&b, 2);
	raw_run(&b, 0, 5);
	raw_run(&b, 0, 5);
	expect("holes-not-merged", b.p, b.n, -EBADMSG);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 1, .size = 10, .name = "a"});
	put32(&b, 2);
	raw_run(&b, 1, 5);
	raw_run(&b, 1, 5);
	expect("two-data-runs", b.p, b.n, 0);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 1, .size = 11, .name = "a"});
	put32(&b, 1);
	raw_run(&b, 1, 10);
	expect("runs-short-of-size", b.p, b.n, -EBADMSG);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 1, .size = 0, .name = "a"});
	put32(&b, 1);
	raw_run(&b, 1, 0);
	expect("empty-run", b.p, b.n, -EBADMSG);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 1, .size = 10, .name = "a"});
	put32(&b, 1);
	raw_run(&b, 2, 10);
	expect("run-kind-2", b.p, b.n, -EBADMSG);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 1, .size = LB_TREE_MAX_DATA_RUN + 1, .name = "a"});
	put32(&b, 1);
	raw_run(&b, 1, LB_TREE_MAX_DATA_RUN + 1);
	expect("data-run-over-cap", b.p, b.n, -EBADMSG);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 1, .size = 5, .name = "a"});
	put32(&b, 3);
	raw_run(&b, 0, UINT64_MAX);
	raw_run(&b, 1, 3);
	raw_run(&b, 0, 3);
	expect("runs-wrap", b.p, b.n, -EOVERFLOW);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 1, .name = "a"});
	put32(&b, LB_TREE_MAX_RUNS + 1);
	expect("runs-over-cap", b.p, b.n, -EOVERFLOW);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 1, .name = "a"});
	put32(&b, 1000);
	raw_run(&b, 0, 1);
	expect("runs-cannot-fit", b.p, b.n, -EBADMSG);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 1, .size = 10, .name = "a"});
	put32(&b, 1);
	put8(&b, 1);
	put64(&b, 10);
	put(&b, "short id", 8);
	expect("run-id-truncated", b.p, b.n, -EBADMSG);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 1, .name = "a"});
	expect("file-without-run-count", b.p, b.n, -EBADMSG);
	header(&b, 1);
	raw_entry(&b, &(struct raw){.type = 6, .name = "a"});
	put32(&b, 0);
	expect("run-count-on-fifo", b.p, b.n, -EBADMSG);
}

/* The encoder's output is a seed too. */
static void test_corpus(void)
{
	struct lb_tree t;
	uint8_t *p = NULL;
	size_t n = 0;

	sample(&t);
	CHECK_INT(lb_tree_encode(&t, &p, &n), 0);
	if (p)
		expect("encoded-sample", p, n, 0);
	free(p);
	lb_tree_release(&t);
	memset(&t, 0, sizeof(t));
	CHECK_INT(lb_tree_encode(&t, &p, &n), 0);
	if (p)
		expect("encoded-empty", p, n, 0);
	free(p);
}

static void test_alloc_failures(void)
{
	struct lb_tree t, d;
	uint8_t *p = NULL;
	size_t n = 0;
	unsigned ok = 0, nomem = 0;

	sample(&t);
	CHECK_INT(lb_tree_encode(&t, &p, &n), 0);
	for (unsigned long k = 1; k < 80; k++) {
		uint8_t *q = NULL;
		size_t qn;
		int r;

		lb_test_alloc_fail_at(k);
		r = lb_tree_decode(p, n, &d);
		lb_test_alloc_fail_at(0);
		CHECK(r == 0 || r == -ENOMEM);
		if (r == 0) {
			check_same(&t, &d);
			lb_tree_release(&d);
		} else {
			CHECK(d.n == 0 && d.e == NULL);
		}
		ok += r == 0;
		nomem += r == -ENOMEM;
		lb_test_alloc_fail_at(k);
		r = lb_tree_encode(&t, &q, &qn);
		lb_test_alloc_fail_at(0);
		CHECK(r == 0 || r == -ENOMEM);
		free(q);
	}
	CHECK(ok > 0);
#ifndef __SANITIZE_ADDRESS__
	/* every allocation of the decoder: entries, 10 names, 2 owners, 1 target, 1 + 6 for
	 * the attributes, 3 run arrays */
	CHECK_INT(nomem, 24);
#endif
	free(p);
	lb_tree_release(&t);
}

LB_TEST_MAIN(T(test_roundtrip), T(test_holes_merged), T(test_encode_refuses), T(test_malformed),
	     T(test_corpus), T(test_alloc_failures))
