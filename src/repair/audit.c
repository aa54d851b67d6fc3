/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * audit.c - the append-only, hash-chained audit journal (format in audit.h
 * and docs/undo-format.md).
 *
 * Every line must read, byte for byte:
 *
 *   {"seq":N,"prev":"<64 lower-case hex digits>"}            or
 *   {"seq":N,"prev":"<64 lower-case hex digits>",MEMBERS}
 *
 * with N the line number in decimal (no sign, no leading zero) and the whole
 * line a valid JSON object (RFC 8259, UTF-8) in which no other top-level key
 * is "seq" or "prev" (readers such as jq keep the last duplicate). The
 * validator below checks exactly that, and lb_audit_append() runs the line it
 * builds through the same check, so it never writes a line that verify would
 * refuse.
 *
 * Crash safety. An append is: write the line (O_APPEND), fsync, replace the
 * head file. A crash can leave two states, and only these two are repaired,
 * by the next append (under the lock):
 *   - a partial last line after a complete one that the head file names:
 *     the interrupted append's bytes are cut off;
 *   - a complete last line one past the head file (head not yet replaced):
 *     the head file is brought forward.
 * lb_audit_verify() still reports both (-EBADMSG) until then, saying what
 * they look like; everything else is refused by both.
 */
#include "repair/audit.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/sha256.h"
#include "base/util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define HASH_HEX 64
#define HEAD_MAX 96 /* "seq hex\n": 20 + 1 + 64 + 1 */
#define JSON_MAX_DEPTH 64
#define READ_CHUNK (64u << 10)

#define HINT_TAMPER                                                                     \
	"the journal was changed after it was written; keep this copy as evidence and " \
	"compare it with a backup"

/* ---- a strict JSON validator over one line ------------------------------------ */

struct jp {
	const uint8_t *s;
	size_t n, i;
	int depth;
};

static void jp_ws(struct jp *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\r' ||
			       j->s[j->i] == '\n'))
		j->i++;
}

static bool jp_lit(struct jp *j, const char *lit)
{
	size_t k = strlen(lit);

	if (j->n - j->i < k || memcmp(j->s + j->i, lit, k))
		return false;
	j->i += k;
	return true;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Length of a valid UTF-8 sequence at p (2..4), 0 if invalid. */
static size_t utf8_seq(const uint8_t *p, size_t left)
{
	uint8_t c = p[0];
	uint32_t cp;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t k = 1; k < n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[k] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * A string at j->i. If @key is not NULL it receives the decoded value when it
 * is short ASCII (at most @cap-1 bytes), else "" — enough to recognize "seq"
 * and "prev" however they are escaped.
 */
static bool jp_string(struct jp *j, char *key, size_t cap)
{
	size_t k = 0;
	bool plain = true;

	if (j->i >= j->n || j->s[j->i] != '"')
		return false;
	j->i++;
	while (j->i < j->n) {
		uint8_t c = j->s[j->i];
		int dec = -1;

		if (c == '"') {
			j->i++;
			if (key)
				key[plain && k < cap ? k : 0] = '\0';
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			uint8_t e;

			if (j->i + 1 >= j->n)
				return false;
			e = j->s[j->i + 1];
			j->i += 2;
			switch (e) {
			case '"':
			case '\\':
			case '/':
				dec = e;
				break;
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				dec = 0x01; /* some control character: never part of "seq" */
				break;
			case 'u': {
				uint32_t v = 0;

				if (j->n - j->i < 4)
					return false;
				for (int x = 0; x < 4; x++) {
					int h = hexval(j->s[j->i + x]);

					if (h < 0)
						return false;
					v = v << 4 | (uint32_t)h;
				}
				j->i += 4;
				dec = v >= 0x20 && v < 0x80 ? (int)v : 0x01;
				break;
			}
			default:
				return false;
			}
		} else if (c >= 0x80) {
			size_t m = utf8_seq(j->s + j->i, j->n - j->i);

			if (!m)
				return false;
			j->i += m;
			plain = false;
			continue;
		} else {
			dec = c;
			j->i++;
		}
		if (key) {
			if (k + 1 < cap)
				key[k++] = (char)dec;
			else
				plain = false;
		}
	}
	return false;
}

static bool jp_digits(struct jp *j)
{
	size_t start = j->i;

	while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
		j->i++;
	return j->i > start;
}

static bool jp_number(struct jp *j)
{
	if (j->i < j->n && j->s[j->i] == '-')
		j->i++;
	if (j->i < j->n && j->s[j->i] == '0')
		j->i++;
	else if (!jp_digits(j))
		return false;
	if (j->i < j->n && j->s[j->i] == '.') {
		j->i++;
		if (!jp_digits(j))
			return false;
	}
	if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
		j->i++;
		if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
			j->i++;
		if (!jp_digits(j))
			return false;
	}
	return true;
}

static bool jp_value(struct jp *j);

/*
 * The members of an object after its '{' (and, with @more, after some members
 * already read), up to and including '}'. @top: refuse the keys "seq" and
 * "prev" (they come first, and only once).
 */
static bool jp_members(struct jp *j, bool more, bool top)
{
	jp_ws(j);
	if (j->i < j->n && j->s[j->i] == '}') {
		j->i++;
		return true;
	}
	for (;;) {
		char key[8] = "";

		if (more) {
			if (j->i >= j->n || j->s[j->i] != ',')
				return false;
			j->i++;
			jp_ws(j);
		}
		more = true;
		if (!jp_string(j, top ? key : NULL, sizeof(key)))
			return false;
		if (top && (!strcmp(key, "seq") || !strcmp(key, "prev")))
			return false;
		jp_ws(j);
		if (j->i >= j->n || j->s[j->i] != ':')
			return false;
		j->i++;
		if (!jp_value(j))
			return false;
		jp_ws(j);
		if (j->i < j->n && j->s[j->i] == '}') {
			j->i++;
			return true;
		}
	}
}

static bool jp_array(struct jp *j)
{
	jp_ws(j);
	if (j->i < j->n && j->s[j->i] == ']') {
		j->i++;
		return true;
	}
	for (;;) {
		if (!jp_value(j))
			return false;
		jp_ws(j);
		if (j->i >= j->n)
			return false;
		if (j->s[j->i] == ']') {
			j->i++;
			return true;
		}
		if (j->s[j->i] != ',')
			return false;
		j->i++;
	}
}

static bool jp_value(struct jp *j)
{
	bool ok;

	jp_ws(j);
	if (j->i >= j->n)
		return false;
	switch (j->s[j->i]) {
	case '"':
		return jp_string(j, NULL, 0);
	case '{':
	case '[':
		if (++j->depth > JSON_MAX_DEPTH)
			return false;
		j->i++;
		ok = j->s[j->i - 1] == '{' ? jp_members(j, false, false) : jp_array(j);
		j->depth--;
		return ok;
	case 't':
		return jp_lit(j, "true");
	case 'f':
		return jp_lit(j, "false");
	case 'n':
		return jp_lit(j, "null");
	default:
		return jp_number(j);
	}
}

/* ---- one line of the chain ----------------------------------------------------- */

struct chain {
	uint64_t records;	       /* lines verified */
	uint8_t last[LB_SHA256_LEN];   /* hash of the last verified line, zeros at first */
	uint8_t before[LB_SHA256_LEN]; /* hash of the line before it */
};

/*
 * The fixed start of a line: {"seq":N,"prev":"HEX". Fills @seq and @prev and
 * returns the offset after the closing quote, or 0 if the start is not like that.
 */
static size_t line_prefix(const uint8_t *s, size_t n, uint64_t *seq, uint8_t prev[LB_SHA256_LEN])
{
	static const char a[] = "{\"seq\":", b[] = ",\"prev\":\"";
	size_t i = sizeof(a) - 1, digits = 0;
	uint64_t v = 0;

	if (n < i || memcmp(s, a, i))
		return 0;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		if (digits == 0 && s[i] == '0')
			return 0; /* no leading zero, and seq 0 does not exist */
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s[i] - '0', &v))
			return 0;
		digits++;
		i++;
	}
	if (!digits || n - i < sizeof(b) - 1 + HASH_HEX + 1 || memcmp(s + i, b, sizeof(b) - 1))
		return 0;
	i += sizeof(b) - 1;
	for (size_t k = 0; k < LB_SHA256_LEN; k++) {
		const uint8_t *h = s + i + 2 * k;

		if (!((h[0] >= '0' && h[0] <= '9') || (h[0] >= 'a' && h[0] <= 'f')) ||
		    !((h[1] >= '0' && h[1] <= '9') || (h[1] >= 'a' && h[1] <= 'f')))
			return 0;
		prev[k] = (uint8_t)(hexval(h[0]) << 4 | hexval(h[1]));
	}
	i += HASH_HEX;
	if (s[i] != '"')
		return 0;
	*seq = v;
	return i + 1;
}

/* Check one line (without its newline) against the chain and advance it. */
static int check_line(struct chain *c, const uint8_t *s, size_t n, char *problem, size_t cap)
{
	uint8_t prev[LB_SHA256_LEN];
	uint64_t seq = 0, want = c->records + 1;
	struct jp j = {.s = s, .n = n};
	size_t i;

	if (n > LB_AUDIT_MAX_LINE) {
		snprintf(problem, cap, "the line is longer than %u bytes", LB_AUDIT_MAX_LINE);
		return -EBADMSG;
	}
	i = line_prefix(s, n, &seq, prev);
	if (!i) {
		snprintf(problem, cap, "the line does not start with {\"seq\":N,\"prev\":\"HASH\"");
		return -EBADMSG;
	}
	if (seq != want) {
		snprintf(problem, cap, "seq is %" PRIu64 ", expected %" PRIu64 ": %s", seq, want,
			 seq > want ? "lines before it were removed, or lines were reordered"
				    : "lines were reordered or repeated");
		return -EBADMSG;
	}
	if (memcmp(prev, c->last, LB_SHA256_LEN)) {
		if (want == 1)
			snprintf(problem, cap, "prev of the first line is not 64 zeros");
		else
			snprintf(problem, cap,
				 "prev is not the hash of line %" PRIu64 ": that line was changed",
				 want - 1);
		return -EBADMSG;
	}
	j.i = i;
	if (!jp_members(&j, true, true) || j.i != n) {
		snprintf(problem, cap, "the line is not one valid JSON object");
		return -EBADMSG;
	}
	memcpy(c->before, c->last, LB_SHA256_LEN);
	if (lb_sha256(s, n, c->last) < 0) {
		snprintf(problem, cap, "out of memory");
		return -ENOMEM;
	}
	c->records++;
	return 0;
}

static int line_error(const char *name, struct lb_audit_check *out, int r)
{
	if (r != -EBADMSG)
		return lb_err(r, name, NULL, "%s", out->problem);
	out->bad_line = out->records + 1;
	return lb_err(r, name, r == -EBADMSG ? HINT_TAMPER : NULL, "line %" PRIu64 ": %s",
		      out->bad_line, out->problem);
}

int lb_audit_verify_buf(const char *buf, size_t len, struct lb_audit_check *out)
{
	const uint8_t *s = (const uint8_t *)buf;
	struct chain c = {0};
	size_t pos = 0;
	int r;

	memset(out, 0, sizeof(*out));
	while (pos < len) {
		const uint8_t *nl = memchr(s + pos, '\n', len - pos);

		if (!nl) {
			snprintf(out->problem, sizeof(out->problem),
				 "the last line is incomplete (no newline): an append was "
				 "interrupted, or the journal was cut");
			return line_error("audit journal", out, -EBADMSG);
		}
		r = check_line(&c, s + pos, (size_t)(nl - (s + pos)), out->problem,
			       sizeof(out->problem));
		if (r < 0)
			return line_error("audit journal", out, r);
		out->records = c.records;
		pos = (size_t)(nl - s) + 1;
	}
	return 0;
}

/* ---- files ---------------------------------------------------------------------- */

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
			return -EIO;
		p += n;
		len -= (size_t)n;
		pos += (uint64_t)n;
	}
	return 0;
}

static int write_err(const char *path, int r, const char *what)
{
	if (r == -ENOSPC || r == -EFBIG || r == -EDQUOT)
		return lb_err(-ENOSPC, path, "free space where the journal is kept",
			      "no room to %s: %s", what, strerror(-r));
	return lb_err(-EIO, path, NULL, "cannot %s: %s", what, strerror(-r));
}

/* The files next to a journal, allocated up front so that nothing fails for memory mid-append. */
struct jpaths {
	char *head; /* JOURNAL.head */
	char *tmp;  /* JOURNAL.head.tmp: written under the journal's lock */
	char *dir;  /* the folder holding them */
};

static void jpaths_release(struct jpaths *p)
{
	free(p->head);
	free(p->tmp);
	free(p->dir);
}

static int jpaths_init(struct jpaths *p, const char *journal)
{
	size_t n = strlen(journal) + sizeof(".head.tmp");
	const char *slash = strrchr(journal, '/');

	p->head = malloc(n);
	p->tmp = malloc(n);
	if (!slash)
		p->dir = strdup(".");
	else
		p->dir = strndup(journal, slash == journal ? 1 : (size_t)(slash - journal));
	if (!p->head || !p->tmp || !p->dir) {
		jpaths_release(p);
		memset(p, 0, sizeof(*p));
		return lb_err(-ENOMEM, journal, NULL, "out of memory");
	}
	snprintf(p->head, n, "%s.head", journal);
	snprintf(p->tmp, n, "%s.head.tmp", journal);
	return 0;
}

static int fsync_dir(const char *dir, const char *path)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return write_err(path, -errno, "open its folder");
	if (fsync(fd) < 0 && errno != EINVAL)
		r = write_err(path, -errno, "sync its folder");
	close(fd);
	return r;
}

static int lock(int fd, int how, const char *name)
{
	while (flock(fd, how) < 0) {
		if (errno == EINTR)
			continue;
		return lb_err(-EIO, name, NULL, "cannot lock the journal: %s", strerror(errno));
	}
	return 0;
}

/*
 * Read the head file @path: 1 and @seq/@hash if there, 0 if absent, -EBADMSG
 * if damaged, -EIO (recorded).
 */
static int read_head(const char *path, uint64_t *seq, uint8_t hash[LB_SHA256_LEN])
{
	char buf[HEAD_MAX + 1];
	uint64_t v = 0;
	ssize_t n;
	size_t i = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return lb_err(-EIO, path, NULL, "cannot open the head file: %s", strerror(errno));
	}
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return lb_err(-EIO, path, NULL, "cannot read the head file: %s", strerror(errno));
	while (i < (size_t)n && buf[i] >= '0' && buf[i] <= '9' && i < 20) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(buf[i] - '0'), &v))
			break;
		i++;
	}
	if (i == 0 || buf[0] == '0' || (size_t)n != i + 1 + HASH_HEX + 1 || buf[i] != ' ' ||
	    buf[n - 1] != '\n')
		goto bad;
	buf[n - 1] = '\0';
	for (size_t k = i + 1; k < (size_t)n - 1; k++)
		if (!((buf[k] >= '0' && buf[k] <= '9') || (buf[k] >= 'a' && buf[k] <= 'f')))
			goto bad;
	if (lb_unhex(buf + i + 1, hash, LB_SHA256_LEN) < 0)
		goto bad;
	*seq = v;
	return 1;
bad:
	return lb_err(-EBADMSG, path, HINT_TAMPER,
		      "the head file is damaged (expected \"SEQ SHA256\" and a newline)");
}

/* Replace the head file atomically. Called with the journal locked; allocates nothing. */
static int write_head(const struct jpaths *p, uint64_t seq, const uint8_t hash[LB_SHA256_LEN])
{
	char line[HEAD_MAX + 1], hex[LB_SHA256_HEX];
	int fd, r = 0, n;

	n = snprintf(line, sizeof(line), "%" PRIu64 " %s\n", seq, lb_hex(hash, LB_SHA256_LEN, hex));
	fd = open(p->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return write_err(p->tmp, -errno, "create the journal's head file");
	r = write_all(fd, line, (size_t)n);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && rename(p->tmp, p->head) < 0)
		r = -errno;
	if (r < 0) {
		unlink(p->tmp);
		return write_err(p->head, r, "write the journal's head file");
	}
	return fsync_dir(p->dir, p->head);
}

/* ---- verify ----------------------------------------------------------------------- */

static int head_problem(const char *journal, const struct chain *c, struct lb_audit_check *out,
			int present, uint64_t hseq, const uint8_t *hhash)
{
	if (present == 0 && c->records == 0)
		return 0;
	if (present == 1 && hseq == c->records && !memcmp(hhash, c->last, LB_SHA256_LEN))
		return 0;
	out->bad_line = c->records + 1;
	if (present == 0)
		snprintf(out->problem, sizeof(out->problem),
			 "the head file %s.head is missing, so the end of the journal cannot be "
			 "checked (lines may have been removed from the end)",
			 journal);
	else if (hseq == c->records + 1)
		snprintf(out->problem, sizeof(out->problem),
			 "the head file names record %" PRIu64 ", the journal ends at %" PRIu64
			 ": the last line was removed",
			 hseq, c->records);
	else if (hseq > c->records)
		snprintf(out->problem, sizeof(out->problem),
			 "the head file names record %" PRIu64 ", the journal ends at %" PRIu64
			 ": %" PRIu64 " lines were removed from the end",
			 hseq, c->records, hseq - c->records);
	else if (hseq == c->records)
		snprintf(out->problem, sizeof(out->problem),
			 "the last line (%" PRIu64 ") does not match the head file: it was changed",
			 c->records);
	else if (hseq + 1 == c->records && !memcmp(hhash, c->before, LB_SHA256_LEN))
		snprintf(out->problem, sizeof(out->problem),
			 "the head file is one record behind: an append was interrupted "
			 "(the next append completes it)");
	else
		snprintf(out->problem, sizeof(out->problem),
			 "the head file names record %" PRIu64 ", the journal has %" PRIu64
			 " records and they do not match",
			 hseq, c->records);
	return lb_err(-EBADMSG, journal, HINT_TAMPER, "%s", out->problem);
}

int lb_audit_verify(const char *journal, struct lb_audit_check *out)
{
	struct chain c = {0};
	struct lb_buf line;
	_cleanup_free_ uint8_t *chunk = NULL;
	_cleanup_close_ int fd = -1;
	uint8_t hhash[LB_SHA256_LEN];
	struct jpaths paths = {0};
	uint64_t hseq = 0;
	int r, present;

	memset(out, 0, sizeof(*out));
	fd = open(journal, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return lb_err(-ENOENT, journal, NULL, "no such audit journal");
		return lb_err(-EIO, journal, NULL, "cannot open the audit journal: %s",
			      strerror(errno));
	}
	r = lock(fd, LOCK_SH, journal);
	if (r < 0)
		return r;
	chunk = malloc(READ_CHUNK);
	if (!chunk)
		return lb_err(-ENOMEM, journal, NULL, "out of memory");
	lb_buf_init(&line, LB_AUDIT_MAX_LINE + 1);
	for (;;) {
		ssize_t n = read(fd, chunk, READ_CHUNK);
		size_t pos = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = lb_err(-EIO, journal, NULL, "cannot read the audit journal: %s",
				   strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		while (pos < (size_t)n) {
			const uint8_t *nl = memchr(chunk + pos, '\n', (size_t)n - pos);
			size_t k = nl ? (size_t)(nl - chunk) - pos : (size_t)n - pos;

			r = lb_buf_append(&line, chunk + pos, k);
			if (r == -ENOMEM) {
				r = lb_err(r, journal, NULL, "out of memory");
				goto out;
			}
			if (r < 0) {
				snprintf(out->problem, sizeof(out->problem),
					 "the line is longer than %u bytes", LB_AUDIT_MAX_LINE);
				r = line_error(journal, out, -EBADMSG);
				goto out;
			}
			pos += k;
			if (!nl)
				break;
			pos++;
			r = check_line(&c, (const uint8_t *)line.data, line.len, out->problem,
				       sizeof(out->problem));
			if (r < 0) {
				r = line_error(journal, out, r);
				goto out;
			}
			out->records = c.records;
			lb_buf_reset(&line);
		}
	}
	if (line.len) {
		snprintf(out->problem, sizeof(out->problem),
			 "the last line is incomplete (no newline): an append was interrupted, "
			 "or the journal was cut");
		r = line_error(journal, out, -EBADMSG);
		goto out;
	}
	r = jpaths_init(&paths, journal);
	if (r < 0)
		goto out;
	present = read_head(paths.head, &hseq, hhash);
	if (present < 0) {
		out->bad_line = c.records + 1;
		lb_strlcpy(out->problem, lb_err_last()->problem, sizeof(out->problem));
		r = present;
		goto out;
	}
	r = head_problem(journal, &c, out, present, hseq, hhash);
out:
	jpaths_release(&paths);
	lb_buf_release(&line);
	return r;
}

/* ---- append ------------------------------------------------------------------------ */

struct tail {
	bool have_last;		     /* a complete last line */
	uint64_t seq;		     /* its seq */
	uint8_t prev[LB_SHA256_LEN]; /* its prev member */
	uint8_t hash[LB_SHA256_LEN]; /* its hash */
	uint64_t end;		     /* offset just past its newline (0 if none) */
};

/* Find the last complete line of the journal (and where a partial line after it starts). */
static int read_tail(int fd, uint64_t size, const char *name, struct tail *t)
{
	const uint64_t cap = 2ULL * (LB_AUDIT_MAX_LINE + 1);
	uint64_t w = LB_MIN(size, (uint64_t)READ_CHUNK);
	_cleanup_free_ uint8_t *buf = NULL;

	memset(t, 0, sizeof(*t));
	while (w > 0) {
		uint8_t *nb = realloc(buf, (size_t)w), *l1, *l0 = NULL, *start;
		int r;

		if (!nb)
			return lb_err(-ENOMEM, name, NULL, "out of memory");
		buf = nb;
		r = pread_all(fd, buf, (size_t)w, size - w);
		if (r < 0)
			return lb_err(-EIO, name, NULL, "cannot read the audit journal: %s",
				      strerror(-r));
		l1 = memrchr(buf, '\n', (size_t)w);
		if (l1 && l1 > buf)
			l0 = memrchr(buf, '\n', (size_t)(l1 - buf));
		if (l1 && (l0 || w == size)) {
			struct chain c = {0};
			char problem[256];

			start = l0 ? l0 + 1 : buf;
			if (line_prefix(start, (size_t)(l1 - start), &t->seq, t->prev)) {
				/* the whole line as verify would check it, but for its prev */
				c.records = t->seq - 1;
				memcpy(c.last, t->prev, LB_SHA256_LEN);
				r = check_line(&c, start, (size_t)(l1 - start), problem,
					       sizeof(problem));
				if (r == -ENOMEM)
					return lb_err(r, name, NULL, "out of memory");
			} else {
				r = -EBADMSG;
			}
			if (r < 0)
				return lb_err(-EBADMSG, name, HINT_TAMPER,
					      "the last line of the journal is damaged: nothing is "
					      "appended to a broken chain");
			memcpy(t->hash, c.last, LB_SHA256_LEN);
			t->have_last = true;
			t->end = size - w + (uint64_t)(l1 - buf) + 1;
			return 0;
		}
		if (!l1 && w == size)
			return 0; /* no complete line at all */
		if (w == size || w >= cap)
			return lb_err(-EBADMSG, name, HINT_TAMPER,
				      "the last line of the journal is longer than %u bytes",
				      LB_AUDIT_MAX_LINE);
		w = LB_MIN(LB_MIN(size, w * 4), cap);
	}
	return 0;
}

/*
 * Bring the journal to a state an append can continue (see the top of this
 * file) and return the seq and hash of its last record (0 and zeros if none).
 * Called with the journal locked.
 */
static int prepare(int fd, const char *journal, const struct jpaths *paths, uint64_t *seq,
		   uint8_t last[LB_SHA256_LEN])
{
	static const uint8_t zero[LB_SHA256_LEN];
	uint8_t hhash[LB_SHA256_LEN];
	uint64_t hseq = 0, size;
	struct stat st;
	struct tail t;
	int present, r;

	if (fstat(fd, &st) < 0)
		return lb_err(-EIO, journal, NULL, "cannot stat the journal: %s", strerror(errno));
	size = (uint64_t)st.st_size;
	r = read_tail(fd, size, journal, &t);
	if (r < 0)
		return r;
	present = read_head(paths->head, &hseq, hhash);
	if (present < 0)
		return present;
	if (!present)
		memset(hhash, 0, sizeof(hhash));
	if (!t.have_last) {
		if (present)
			return lb_err(
				-EBADMSG, journal, HINT_TAMPER,
				"the head file names record %" PRIu64
				" but the journal holds no complete line: nothing is appended "
				"to a broken chain",
				hseq);
	} else if (present && hseq == t.seq && !memcmp(hhash, t.hash, LB_SHA256_LEN)) {
		/* consistent */
	} else if (t.end == size && hseq + 1 == t.seq && !memcmp(hhash, t.prev, LB_SHA256_LEN)) {
		/* the last append wrote its line but not the head file */
		r = write_head(paths, t.seq, t.hash);
		if (r < 0)
			return r;
	} else {
		return lb_err(
			-EBADMSG, journal, "run 'lifeboat' audit verification to see where",
			present ? "the journal's last line does not match its head file: "
				  "nothing is appended to a broken chain"
				: "the journal's head file is missing: nothing is appended to "
				  "a broken chain");
	}
	if (t.end < size) {
		/* a partial line after the last complete one: an interrupted append */
		if (ftruncate(fd, (off_t)t.end) < 0)
			return write_err(journal, -errno,
					 "cut an interrupted append from the journal");
	}
	*seq = t.have_last ? t.seq : 0;
	memcpy(last, t.have_last ? t.hash : zero, LB_SHA256_LEN);
	return 0;
}

/* Build the line for @members after a chain ending at @seq/@last, checked as verify would. */
static int build_line(const char *journal, const char *members, uint64_t seq,
		      const uint8_t last[LB_SHA256_LEN], struct lb_buf *line, struct chain *c)
{
	char hex[LB_SHA256_HEX], problem[256];
	int r;

	r = lb_buf_printf(line, "{\"seq\":%" PRIu64 ",\"prev\":\"%s\"%s", seq + 1,
			  lb_hex(last, LB_SHA256_LEN, hex), *members ? "," : "");
	if (r >= 0)
		r = lb_buf_puts(line, members);
	if (r >= 0)
		r = lb_buf_putc(line, '}');
	if (r >= 0 && line->len > LB_AUDIT_MAX_LINE)
		r = -EOVERFLOW;
	if (r == -EOVERFLOW)
		return lb_err(-EOVERFLOW, journal, NULL, "an audit record is longer than %u bytes",
			      LB_AUDIT_MAX_LINE);
	if (r < 0)
		return lb_err(r, journal, NULL, "out of memory");
	c->records = seq;
	memcpy(c->last, last, LB_SHA256_LEN);
	r = check_line(c, (const uint8_t *)line->data, line->len, problem, sizeof(problem));
	if (r == -ENOMEM)
		return lb_err(r, journal, NULL, "out of memory");
	if (r < 0)
		return lb_err(-EINVAL, journal, NULL,
			      "the record's members are not valid JSON object members (or name "
			      "seq or prev): %s",
			      problem);
	r = lb_buf_putc(line, '\n');
	if (r < 0)
		return lb_err(r, journal, NULL, "out of memory");
	return 0;
}

int64_t lb_audit_append(const char *journal, const char *members)
{
	struct chain c = {0};
	struct jpaths paths = {0};
	struct lb_buf line;
	_cleanup_close_ int fd = -1;
	uint8_t last[LB_SHA256_LEN];
	uint64_t seq = 0;
	struct stat st;
	int r;

	if (!members || strchr(members, '\n'))
		return lb_err(-EINVAL, journal, NULL,
			      "an audit record must be one line (no newline in its members)");
	lb_buf_init(&line, (size_t)LB_AUDIT_MAX_LINE + 2);
	r = jpaths_init(&paths, journal);
	if (r < 0)
		return r;
	fd = open(journal, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT || r == -EACCES || r == -ENOTDIR || r == -EROFS || r == -EISDIR)
			r = lb_err(r, journal, "check the journal's folder",
				   "cannot open the audit journal: %s", strerror(-r));
		else
			r = write_err(journal, r, "create the audit journal");
		goto out;
	}
	r = lock(fd, LOCK_EX, journal);
	if (r < 0)
		goto out;
	r = prepare(fd, journal, &paths, &seq, last);
	if (r < 0)
		goto out;
	if (fstat(fd, &st) < 0) {
		r = lb_err(-EIO, journal, NULL, "cannot stat the journal: %s", strerror(errno));
		goto out;
	}
	r = build_line(journal, members, seq, last, &line, &c);
	if (r < 0)
		goto out;
	/* from here on nothing allocates: a failure is an I/O failure */
	r = write_all(fd, line.data, line.len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		r = write_err(journal, r, "append to the audit journal");
		if (ftruncate(fd, st.st_size) < 0) {
			/* left as a partial line: the next append cuts it off */
		}
		goto out;
	}
	if (st.st_size == 0) {
		r = fsync_dir(paths.dir, journal);
		if (r < 0)
			goto out;
	}
	/* if this fails the head is one behind: the next append brings it forward */
	r = write_head(&paths, c.records, c.last);
out:
	lb_buf_release(&line);
	jpaths_release(&paths);
	return r < 0 ? r : (int64_t)c.records;
}
