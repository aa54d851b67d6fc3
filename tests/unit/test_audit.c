/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for src/repair/audit.c: the hash-chained audit journal.
 *
 * With LB_CORPUS_OUT=DIR, test_corpus also writes the fuzz seeds it checks to
 * DIR/corpus/audit/ and DIR/bad/audit/ (tests/fuzz/make-repair-corpus.sh).
 */
#include "harness.h"

#include "base/err.h"
#include "base/sha256.h"
#include "repair/audit.h"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char scratch[256];

static void scratch_new(void)
{
	lb_test_scratch_new("audit", scratch, sizeof(scratch));
}

static void scratch_done(void)
{
	lb_test_scratch_done(scratch);
}

static char *spath(const char *name)
{
	return lb_test_path(scratch, name);
}

static char *J(void)
{
	return spath("audit.jsonl");
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(write(fd, p, n), (long long)n);
	close(fd);
}

static char *read_text(const char *path, size_t *n)
{
	size_t len = 0;
	char *p = (char *)lb_test_read_file(path, &len);

	CHECK(p != NULL);
	if (p)
		p[len] = '\0';
	if (n)
		*n = len;
	return p;
}

/* A journal of @n records. */
static void make_journal(unsigned n)
{
	for (unsigned i = 1; i <= n; i++) {
		char m[256];

		snprintf(m, sizeof(m),
			 "\"image\":\"vm%u.img\",\"action\":\"delete\",\"path\":\"Windows/System32/"
			 "drivers/CrowdStrike/C-00000291-%u.sys\",\"ok\":true,\"n\":[1,2.5e3,null]",
			 i, i);
		CHECK_INT(lb_audit_append(J(), m), i);
	}
}

/* Line @k (1-based) of @text: its start and length (without newline). */
static const char *line_at(const char *text, unsigned k, size_t *len)
{
	const char *p = text;

	*len = 0;
	while (--k > 0 && p) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p)
		return NULL;
	*len = (size_t)(strchr(p, '\n') - p);
	return p;
}

static int verify(struct lb_audit_check *c)
{
	return lb_audit_verify(J(), c);
}

static void test_append_verify(void)
{
	struct lb_audit_check c;
	char *text, *head, hex[LB_SHA256_HEX], want[128];
	uint8_t h[LB_SHA256_LEN];
	const char *l;
	size_t len;
	char cmd[700];

	scratch_new();
	CHECK_INT(verify(&c), -ENOENT);
	make_journal(10);
	CHECK_INT(verify(&c), 0);
	CHECK_U64(c.records, 10);
	CHECK_U64(c.bad_line, 0);
	text = read_text(J(), NULL);
	CHECK(!strncmp(text,
		       "{\"seq\":1,\"prev\":\"00000000000000000000000000000000000000000000"
		       "00000000000000000000\",\"image\":\"vm1.img\"",
		       90));
	/* line 2's prev is the hash of line 1 */
	l = line_at(text, 1, &len);
	CHECK_INT(lb_sha256(l, len, h), 0);
	lb_hex(h, sizeof(h), hex);
	l = line_at(text, 2, &len);
	CHECK(l && !strncmp(l + 17, hex, 64));
	/* the head file names the last line */
	l = line_at(text, 10, &len);
	CHECK_INT(lb_sha256(l, len, h), 0);
	snprintf(want, sizeof(want), "10 %s\n", lb_hex(h, sizeof(h), hex));
	head = read_text(spath("audit.jsonl.head"), NULL);
	CHECK_STR(head, want);
	/* every line is JSON that jq reads, seq and prev first */
	snprintf(cmd, sizeof(cmd),
		 "jq -e -s 'length == 10 and all(.[]; (keys_unsorted[0:2] == [\"seq\",\"prev\"]))' "
		 "%s >/dev/null 2>&1",
		 J());
	CHECK_INT(system(cmd), 0);
	CHECK_INT(lb_audit_append(J(), ""), 11);
	CHECK_INT(verify(&c), 0);
	CHECK_U64(c.records, 11);
	free(text);
	free(head);
	scratch_done();
}

/*
 * Replace the journal with @text, check verify fails at @line with @what.
 * With @tail (the damage is at the end, where append looks), append refuses.
 */
static void expect_broken_at(const char *text, uint64_t line, const char *what, bool tail)
{
	struct lb_audit_check c;
	char *before;

	write_file(J(), text, strlen(text));
	CHECK_INT(verify(&c), -EBADMSG);
	CHECK_U64(c.bad_line, line);
	CHECK_CONTAINS(c.problem, what);
	CHECK_CONTAINS(lb_err_last()->problem, what);
	CHECK_INT(lb_audit_verify_buf(text, strlen(text), &c) < 0 || line > c.records, 1);
	if (!tail)
		return;
	/* nothing is appended to a broken chain */
	before = read_text(J(), NULL);
	CHECK_INT(lb_audit_append(J(), "\"x\":1"), -EBADMSG);
	{
		char *after = read_text(J(), NULL);

		CHECK_STR(after, before);
		free(after);
	}
	free(before);
}

static void expect_broken(const char *text, uint64_t line, const char *what)
{
	expect_broken_at(text, line, what, true);
}

/* Build a journal of 8 records and hand its text to @fn for tampering. */
static char *fresh(void)
{
	scratch_new();
	make_journal(8);
	return read_text(J(), NULL);
}

static void test_edited_line(void)
{
	char *t = fresh(), *p = strstr(t, "vm3.img");

	p[2] = '4'; /* still valid JSON, different bytes */
	expect_broken_at(t, 4, "prev is not the hash of line 3", false);
	free(t);
	scratch_done();
}

static void test_edited_last_line(void)
{
	char *t = fresh(), *p = strstr(t, "vm8.img");
	struct lb_audit_check c;

	p[2] = '9';
	expect_broken(t, 9, "does not match the head file");
	/* in memory (no head file) an edit of the last line cannot be seen */
	CHECK_INT(lb_audit_verify_buf(t, strlen(t), &c), 0);
	free(t);
	scratch_done();
}

static void test_deleted_middle_line(void)
{
	char *t = fresh();
	size_t len = 0;
	char *l = (char *)line_at(t, 5, &len);

	memmove(l, l + len + 1, strlen(l + len + 1) + 1);
	expect_broken_at(t, 5, "seq is 6, expected 5", false);
	free(t);
	scratch_done();
}

static void test_reordered_lines(void)
{
	char *t = fresh(), *copy = strdup(t);
	size_t l4 = 0, l5 = 0;
	const char *a = line_at(copy, 4, &l4), *b = line_at(copy, 5, &l5);
	char *dst = (char *)line_at(t, 4, &l4);

	memcpy(dst, b, l5);
	dst[l5] = '\n';
	memcpy(dst + l5 + 1, a, l4);
	expect_broken_at(t, 4, "seq is 5, expected 4", false);
	free(copy);
	free(t);
	scratch_done();
}

static void test_partial_last_line(void)
{
	char *t = fresh();
	size_t len = 0;
	char *l = (char *)line_at(t, 8, &len);

	l[len / 2] = '\0';
	expect_broken(t, 8, "incomplete");
	free(t);
	scratch_done();
}

static void test_removed_last_lines(void)
{
	char *t = fresh();
	size_t len = 0;
	char *l = (char *)line_at(t, 7, &len);

	*l = '\0';
	expect_broken(t, 7, "2 lines were removed from the end");
	free(t);
	scratch_done();
	t = fresh();
	l = (char *)line_at(t, 8, &len);
	*l = '\0';
	expect_broken(t, 8, "the last line was removed");
	free(t);
	scratch_done();
	/* all of them */
	t = fresh();
	expect_broken("", 1, "8 lines were removed");
	free(t);
	scratch_done();
}

static void test_missing_head(void)
{
	char *t = fresh();
	struct lb_audit_check c;

	CHECK_INT(unlink(spath("audit.jsonl.head")), 0);
	CHECK_INT(verify(&c), -EBADMSG);
	CHECK_CONTAINS(c.problem, "head file");
	CHECK_CONTAINS(c.problem, "is missing");
	CHECK_U64(c.records, 8);
	CHECK_U64(c.bad_line, 9);
	CHECK_INT(lb_audit_append(J(), "\"x\":1"), -EBADMSG);
	/* a damaged head file */
	write_file(spath("audit.jsonl.head"), "8 nothex\n", 9);
	CHECK_INT(verify(&c), -EBADMSG);
	CHECK_CONTAINS(c.problem, "head file is damaged");
	CHECK_INT(lb_audit_append(J(), "\"x\":1"), -EBADMSG);
	free(t);
	scratch_done();
}

static void test_garbage(void)
{
	struct lb_audit_check c;
	uint8_t junk[3000];
	uint64_t x = 88172645463325252ULL;

	scratch_new();
	expect_broken("hello\n", 1, "does not start with");
	expect_broken("{\"seq\":1,\"prev\":\"0000000000000000000000000000000000000000000000000000"
		      "000000000000\",\"a\":tru}\n",
		      1, "not one valid JSON object");
	for (size_t i = 0; i < sizeof(junk); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		junk[i] = (uint8_t)x;
	}
	CHECK_INT(lb_audit_verify_buf((const char *)junk, sizeof(junk), &c), -EBADMSG);
	CHECK_U64(c.bad_line, 1);
	CHECK_INT(lb_audit_verify_buf("", 0, &c), 0);
	CHECK_U64(c.records, 0);
	scratch_done();
}

/* The two states a crash can leave are reported by verify and repaired by the next append. */
static void test_crash_states(void)
{
	struct lb_audit_check c;
	char *t = fresh(), *head8, *t9;
	int fd;

	/* an append cut short: partial line after the last complete one */
	fd = open(J(), O_WRONLY | O_APPEND);
	CHECK_INT(write(fd, "{\"seq\":9,\"prev\":\"12", 19), 19);
	close(fd);
	CHECK_INT(verify(&c), -EBADMSG);
	CHECK_CONTAINS(c.problem, "incomplete");
	CHECK_INT(lb_audit_append(J(), "\"after\":\"crash\""), 9);
	CHECK_INT(verify(&c), 0);
	CHECK_U64(c.records, 9);

	/* the line made it, the head file did not */
	head8 = read_text(spath("audit.jsonl.head"), NULL);
	CHECK_INT(lb_audit_append(J(), "\"n\":10"), 10);
	write_file(spath("audit.jsonl.head"), head8, strlen(head8));
	CHECK_INT(verify(&c), -EBADMSG);
	CHECK_CONTAINS(c.problem, "one record behind");
	CHECK_INT(lb_audit_append(J(), "\"n\":11"), 11);
	CHECK_INT(verify(&c), 0);
	CHECK_U64(c.records, 11);
	free(head8);
	free(t);
	scratch_done();

	/* the very first append: line written, head file not yet */
	scratch_new();
	CHECK_INT(lb_audit_append(J(), "\"first\":1"), 1);
	CHECK_INT(unlink(spath("audit.jsonl.head")), 0);
	CHECK_INT(lb_audit_append(J(), "\"second\":2"), 2);
	CHECK_INT(verify(&c), 0);
	/* the very first append cut short: nothing complete, no head */
	t9 = read_text(J(), NULL);
	write_file(J(), t9, 30);
	unlink(spath("audit.jsonl.head"));
	CHECK_INT(lb_audit_append(J(), "\"again\":1"), 1);
	CHECK_INT(verify(&c), 0);
	CHECK_U64(c.records, 1);
	free(t9);
	scratch_done();
}

static void test_members(void)
{
	struct lb_audit_check c;
	char *big;
	size_t n = LB_AUDIT_MAX_LINE;

	scratch_new();
	CHECK_INT(lb_audit_append(J(), "\"a\":1"), 1);
	CHECK_INT(lb_audit_append(J(), "\"a\":1\n,\"b\":2"), -EINVAL);
	CHECK_INT(lb_audit_append(J(), "\"a\":"), -EINVAL);
	CHECK_INT(lb_audit_append(J(), "\"a\":1,"), -EINVAL);
	CHECK_INT(lb_audit_append(J(), "\"a\":1}{\"b\":2"), -EINVAL);
	CHECK_INT(lb_audit_append(J(), "\"seq\":5"), -EINVAL);
	CHECK_INT(lb_audit_append(J(), "\"s\\u0065q\":5"), -EINVAL);
	CHECK_INT(lb_audit_append(J(), "\"prev\":\"x\""), -EINVAL);
	CHECK_INT(lb_audit_append(J(), "\"a\":\"\xff\""), -EINVAL);
	CHECK_INT(lb_audit_append(J(), "\"a\":\"tab\there\""), -EINVAL);
	CHECK_INT(lb_audit_append(J(), "\"a\":01"), -EINVAL);
	CHECK_INT(lb_audit_append(J(), "  "), -EINVAL);
	/* nested, escaped, unicode: fine */
	CHECK_INT(lb_audit_append(
			  J(),
			  " \"o\" : {\"seq\":1,\"l\":[true,false,null,-0.5e-3,\"\\u00e9\\n\"]},"
			  "\"name\":\"C-00000291\u00e9.sys\" "),
		  2);
	big = malloc(n + 1);
	memset(big, 'x', n);
	memcpy(big, "\"b\":\"", 5);
	big[n - 1] = '"';
	big[n] = '\0';
	CHECK_INT(lb_audit_append(J(), big), -EOVERFLOW);
	free(big);
	CHECK_INT(verify(&c), 0);
	CHECK_U64(c.records, 2);
	scratch_done();
}

static void test_concurrent_appends(void)
{
	enum {
		PROCS = 4,
		EACH = 50
	};
	struct lb_audit_check c;
	pid_t pids[PROCS];
	char *text, *p;
	unsigned seen[PROCS][EACH] = {{0}}, dup = 0, missing = 0;

	scratch_new();
	fflush(stdout);
	for (int i = 0; i < PROCS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int bad = 0;

			for (int k = 0; k < EACH; k++) {
				char m[64];

				snprintf(m, sizeof(m), "\"proc\":%d,\"n\":%d", i, k);
				if (lb_audit_append(J(), m) < 1)
					bad++;
			}
			_exit(bad);
		}
	}
	for (int i = 0; i < PROCS; i++) {
		int status = -1;

		CHECK(waitpid(pids[i], &status, 0) == pids[i]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK_INT(verify(&c), 0);
	CHECK_U64(c.records, PROCS * EACH);
	text = read_text(J(), NULL);
	for (p = text; p && (p = strstr(p, "\"proc\":"));) {
		int a = -1, b = -1;

		if (sscanf(p, "\"proc\":%d,\"n\":%d", &a, &b) == 2 && a >= 0 && a < PROCS &&
		    b >= 0 && b < EACH)
			dup += seen[a][b]++ > 0;
		p++;
	}
	for (int i = 0; i < PROCS; i++)
		for (int k = 0; k < EACH; k++)
			missing += !seen[i][k];
	CHECK_INT(dup, 0);
	CHECK_INT(missing, 0);
	free(text);
	scratch_done();
}

static void enospc_child(void)
{
	struct lb_audit_check c;
	struct rlimit rl;
	char *before, *after, big[3000];
	struct stat st;

	make_journal(3);
	CHECK_INT(stat(J(), &st), 0);
	before = read_text(J(), NULL);
	signal(SIGXFSZ, SIG_IGN);
	rl.rlim_cur = (rlim_t)st.st_size + 1000;
	rl.rlim_max = RLIM_INFINITY;
	CHECK_INT(setrlimit(RLIMIT_FSIZE, &rl), 0);
	memset(big, 'y', sizeof(big));
	memcpy(big, "\"b\":\"", 5);
	big[sizeof(big) - 2] = '"';
	big[sizeof(big) - 1] = '\0';
	CHECK_INT(lb_audit_append(J(), big), -ENOSPC);
	after = read_text(J(), NULL);
	CHECK_STR(after, before);
	CHECK_INT(verify(&c), 0);
	CHECK_U64(c.records, 3);
	CHECK_INT(lb_audit_append(J(), "\"small\":1"), 4);
	free(before);
	free(after);
}

static void test_enospc(void)
{
	int status = -1;
	pid_t pid;

	scratch_new();
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int before = lb_test_failed_checks;

		enospc_child();
		fflush(stdout);
		_exit(lb_test_failed_checks != before);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	scratch_done();
}

static void test_alloc_failures(void)
{
	struct lb_audit_check c;
	uint8_t h[LB_SHA256_LEN];
	unsigned ok = 0;

	scratch_new();
	CHECK_INT(lb_sha256("", 0, h), 0); /* let libcrypto set itself up first */
	make_journal(2);
	for (unsigned long n = 1; n < 60; n++) {
		int64_t r;

		lb_test_alloc_fail_at(n);
		r = lb_audit_append(J(), "\"k\":1");
		lb_test_alloc_fail_at(0);
		CHECK(r > 0 || r == -ENOMEM);
		ok += r > 0;
		lb_test_alloc_fail_at(n);
		r = lb_audit_verify(J(), &c);
		lb_test_alloc_fail_at(0);
		if (r != 0 && r != -ENOMEM)
			printf("#   n=%lu verify: %d %s\n", n, (int)r, lb_err_last()->problem);
		CHECK(r == 0 || r == -ENOMEM);
		CHECK_INT(lb_audit_verify(J(), &c), 0);
	}
	CHECK(ok > 0);
	scratch_done();
}

/* ---- fuzz seeds ------------------------------------------------------------------ */

static void save_seed(const char *kind, const char *name, const char *p, size_t n)
{
	const char *out = getenv("LB_CORPUS_OUT");
	char path[1024];

	if (!out || !*out)
		return;
	snprintf(path, sizeof(path), "%s/%s/audit/%s", out, kind, name);
	write_file(path, p, n);
}

static void seed(const char *name, const char *p, size_t n, int want)
{
	struct lb_audit_check c;
	int r = lb_audit_verify_buf(p, n, &c);

	if (r != want)
		printf("#   seed %s: verify returned %d\n", name, r);
	CHECK_INT(r, want);
	save_seed(want < 0 ? "bad" : "corpus", name, p, n);
}

static void test_corpus(void)
{
	char *t, *b;
	size_t n = 0, len = 0, l2 = 0, l3 = 0;
	const char *line;

	scratch_new();
	make_journal(6);
	CHECK_INT(
		lb_audit_append(J(), "\"o\":{\"a\":[1,{\"b\":\"\\u00e9\\\"\"}]},\"e\":\"\u00e9\""),
		7);
	t = read_text(J(), &n);
	seed("journal-7", t, n, 0);
	line = line_at(t, 2, &len);
	seed("journal-1", t, (size_t)(line - t), 0);
	seed("empty", "", 0, 0);

	b = strdup(t);
	b[strstr(b, "vm2.img") - b + 2] = '7';
	seed("EBADMSG-edited-line", b, n, -EBADMSG);
	free(b);

	b = strdup(t);
	line = line_at(b, 3, &len);
	memmove((char *)line, line + len + 1, strlen(line + len + 1) + 1);
	seed("EBADMSG-deleted-line", b, strlen(b), -EBADMSG);
	free(b);

	b = strdup(t);
	{
		const char *a2 = line_at(t, 2, &l2), *a3 = line_at(t, 3, &l3);
		char *d = (char *)line_at(b, 2, &l2);

		memcpy(d, a3, l3);
		d[l3] = '\n';
		memcpy(d + l3 + 1, a2, l2);
	}
	seed("EBADMSG-reordered", b, n, -EBADMSG);
	free(b);

	seed("EBADMSG-partial-last-line", t, n - 7, -EBADMSG);
	seed("EBADMSG-garbage", "\x00\x01\xffGARBAGE\n", 11, -EBADMSG);
	seed("EBADMSG-not-json",
	     "{\"seq\":1,\"prev\":"
	     "\"0000000000000000000000000000000000000000000000000000000000000000\","
	     "\"a\":[1,}\n",
	     101, -EBADMSG);
	seed("EBADMSG-first-prev",
	     "{\"seq\":1,\"prev\":"
	     "\"0000000000000000000000000000000000000000000000000000000000000001\"}"
	     "\n",
	     87, -EBADMSG);
	seed("EBADMSG-seq-leading-zero",
	     "{\"seq\":01,\"prev\":"
	     "\"0000000000000000000000000000000000000000000000000000000000000000\"}"
	     "\n",
	     88, -EBADMSG);
	seed("EBADMSG-seq-overflow",
	     "{\"seq\":99999999999999999999999,\"prev\":"
	     "\"00000000000000000000000000000000000000000000"
	     "00000000000000000000\"}\n",
	     109, -EBADMSG);
	seed("EBADMSG-duplicate-seq",
	     "{\"seq\":1,\"prev\":"
	     "\"0000000000000000000000000000000000000000000000000000000000000000\","
	     "\"s\\u0065q\":2}\n",
	     101, -EBADMSG);
	seed("EBADMSG-upper-hex",
	     "{\"seq\":1,\"prev\":"
	     "\"000000000000000000000000000000000000000000000000000000000000000A\"}"
	     "\n",
	     87, -EBADMSG);
	seed("EBADMSG-bad-utf8",
	     "{\"seq\":1,\"prev\":"
	     "\"0000000000000000000000000000000000000000000000000000000000000000\","
	     "\"a\":\"\xc0\xaf\"}\n",
	     96, -EBADMSG);
	seed("EBADMSG-trailing-bytes",
	     "{\"seq\":1,\"prev\":"
	     "\"0000000000000000000000000000000000000000000000000000000000000000\"}"
	     " x\n",
	     89, -EBADMSG);
	seed("EBADMSG-empty-line", "\n", 1, -EBADMSG);
	{
		/* nesting deeper than the validator allows */
		char deep[400];
		size_t k = (size_t)snprintf(deep, sizeof(deep),
					    "{\"seq\":1,\"prev\":\"00000000000000000000000000000000"
					    "00000000000000000000000000000000\",\"d\":");

		for (int i = 0; i < 100; i++)
			deep[k++] = '[';
		for (int i = 0; i < 100; i++)
			deep[k++] = ']';
		deep[k++] = '}';
		deep[k++] = '\n';
		seed("EBADMSG-too-deep", deep, k, -EBADMSG);
	}
	free(t);
	scratch_done();
}

LB_TEST_MAIN(T(test_append_verify), T(test_edited_line), T(test_edited_last_line),
	     T(test_deleted_middle_line), T(test_reordered_lines), T(test_partial_last_line),
	     T(test_removed_last_lines), T(test_missing_head), T(test_garbage),
	     T(test_crash_states), T(test_members), T(test_concurrent_appends), T(test_enospc),
	     T(test_alloc_failures), T(test_corpus))
