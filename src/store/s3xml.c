/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * s3xml.c - a small XML reader for S3 responses and the three documents we
 * read with it (see s3xml.h for what is accepted). One pass over the bytes,
 * no allocation: a stack of element names (capped depth and name length)
 * and one text buffer (capped).
 */
#include "store/s3xml.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>

#define OBJ "S3 response"
#define HINT "check that the endpoint is an S3 server (--s3-endpoint / AWS_ENDPOINT_URL)"

struct parser {
	const char *p;
	size_t len, pos;
	int depth;
	size_t plen[LB_XML_MAX_DEPTH + 1]; /* path length at each depth */
	char path[LB_XML_MAX_DEPTH * (LB_XML_MAX_NAME + 1) + 1];
	char text[LB_XML_MAX_TEXT + 1];
	size_t tlen;
	lb_xml_fn fn;
	void *ctx;
};

static int bad(const struct parser *x, const char *what)
{
	return lb_err(-EBADMSG, OBJ, HINT, "malformed XML at byte %zu: %s", x->pos, what);
}

static bool starts(const struct parser *x, const char *s)
{
	size_t n = strlen(s);

	return x->len - x->pos >= n && !memcmp(x->p + x->pos, s, n);
}

/* Move past the next @end (e.g. "-->"); false if there is none. */
static bool skip_past(struct parser *x, const char *end)
{
	size_t n = strlen(end);

	while (x->len - x->pos >= n) {
		if (!memcmp(x->p + x->pos, end, n)) {
			x->pos += n;
			return true;
		}
		x->pos++;
	}
	return false;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_space(struct parser *x)
{
	while (x->pos < x->len && is_space(x->p[x->pos]))
		x->pos++;
}

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Read a name at the current position into @out (LB_XML_MAX_NAME + 1 bytes). */
static int read_name(struct parser *x, char *out)
{
	size_t n = 0;

	if (x->pos >= x->len || !name_start(x->p[x->pos]))
		return bad(x, "expected a name");
	while (x->pos < x->len && name_char(x->p[x->pos])) {
		if (n == LB_XML_MAX_NAME)
			return bad(x, "a name is too long");
		out[n++] = x->p[x->pos++];
	}
	out[n] = '\0';
	return 0;
}

static int text_add(struct parser *x, const char *s, size_t n)
{
	if (n > LB_XML_MAX_TEXT - x->tlen)
		return bad(x, "an element's text is too long");
	memcpy(x->text + x->tlen, s, n);
	x->tlen += n;
	x->text[x->tlen] = '\0';
	return 0;
}

static int add_codepoint(struct parser *x, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return bad(x, "a character reference to an invalid character");
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return text_add(x, u, n);
}

/* An entity at x->pos ('&'): decode it into the text. */
static int entity(struct parser *x)
{
	static const struct {
		const char *name, *value;
	} named[] = {{"lt", "<"}, {"gt", ">"}, {"amp", "&"}, {"quot", "\""}, {"apos", "'"}};
	const char *s = x->p + x->pos + 1;
	size_t avail = x->len - x->pos - 1, n = 0;
	unsigned long cp = 0;

	while (n < avail && n < 12 && s[n] != ';')
		n++;
	if (n == avail || s[n] != ';' || n == 0)
		return bad(x, "an unterminated entity");
	if (s[0] == '#') {
		bool hex = n > 1 && s[1] == 'x';
		size_t i = hex ? 2 : 1;

		if (i == n)
			return bad(x, "an empty character reference");
		for (; i < n; i++) {
			char c = s[i];
			unsigned d;

			if (c >= '0' && c <= '9')
				d = (unsigned)(c - '0');
			else if (hex && c >= 'a' && c <= 'f')
				d = (unsigned)(c - 'a' + 10);
			else if (hex && c >= 'A' && c <= 'F')
				d = (unsigned)(c - 'A' + 10);
			else
				return bad(x, "a bad character reference");
			cp = cp * (hex ? 16 : 10) + d;
			if (cp > 0x10ffff)
				return bad(x, "a character reference out of range");
		}
		x->pos += n + 2;
		return add_codepoint(x, cp);
	}
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (strlen(named[i].name) == n && !memcmp(s, named[i].name, n)) {
			x->pos += n + 2;
			return text_add(x, named[i].value, 1);
		}
	}
	return bad(x, "an unknown entity");
}

static int open_tag(struct parser *x)
{
	char name[LB_XML_MAX_NAME + 1];
	size_t at;
	int r;

	x->pos++; /* '<' */
	r = read_name(x, name);
	if (r < 0)
		return r;
	if (x->depth == LB_XML_MAX_DEPTH)
		return bad(x, "elements nested too deep");
	/* attributes: name = "value" or 'value', read and ignored */
	for (;;) {
		char an[LB_XML_MAX_NAME + 1], q;
		bool space = x->pos < x->len && is_space(x->p[x->pos]);

		skip_space(x);
		if (x->pos >= x->len)
			return bad(x, "an unterminated tag");
		if (x->p[x->pos] == '>' || x->p[x->pos] == '/')
			break;
		if (!space)
			return bad(x, "no space before an attribute");
		r = read_name(x, an);
		if (r < 0)
			return r;
		skip_space(x);
		if (x->pos >= x->len || x->p[x->pos] != '=')
			return bad(x, "an attribute without a value");
		x->pos++;
		skip_space(x);
		if (x->pos >= x->len || (x->p[x->pos] != '"' && x->p[x->pos] != '\''))
			return bad(x, "an attribute value without quotes");
		q = x->p[x->pos++];
		while (x->pos < x->len && x->p[x->pos] != q) {
			if (x->p[x->pos] == '<')
				return bad(x, "'<' in an attribute value");
			x->pos++;
		}
		if (x->pos >= x->len)
			return bad(x, "an unterminated attribute value");
		x->pos++;
	}
	at = x->plen[x->depth];
	if (at)
		x->path[at++] = '/';
	memcpy(x->path + at, name, strlen(name) + 1);
	x->depth++;
	x->plen[x->depth] = at + strlen(name);
	x->tlen = 0;
	x->text[0] = '\0';
	r = x->fn(x->ctx, LB_XML_OPEN, x->path, NULL, 0);
	if (r < 0)
		return r;
	if (x->p[x->pos] == '/') {
		if (x->len - x->pos < 2 || x->p[x->pos + 1] != '>')
			return bad(x, "'/' not followed by '>'");
		x->pos += 2;
		r = x->fn(x->ctx, LB_XML_CLOSE, x->path, "", 0);
		x->depth--;
		x->path[x->plen[x->depth]] = '\0';
		return r;
	}
	x->pos++; /* '>' */
	return 0;
}

static int close_tag(struct parser *x)
{
	char name[LB_XML_MAX_NAME + 1];
	size_t start;
	int r;

	x->pos += 2; /* "</" */
	r = read_name(x, name);
	if (r < 0)
		return r;
	skip_space(x);
	if (x->pos >= x->len || x->p[x->pos] != '>')
		return bad(x, "an unterminated closing tag");
	if (x->depth == 0)
		return bad(x, "a closing tag without an element");
	start = x->depth > 1 ? x->plen[x->depth - 1] + 1 : 0;
	if (strcmp(x->path + start, name))
		return bad(x, "a closing tag that does not match");
	x->pos++;
	r = x->fn(x->ctx, LB_XML_CLOSE, x->path, x->text, x->tlen);
	if (r < 0)
		return r;
	x->depth--;
	x->path[x->plen[x->depth]] = '\0';
	x->tlen = 0;
	x->text[0] = '\0';
	return 0;
}

int lb_xml_parse(const char *data, size_t len, lb_xml_fn fn, void *ctx)
{
	struct parser x = {.p = data, .len = len, .fn = fn, .ctx = ctx};
	bool root_done = false;
	int r;

	if (len > LB_XML_MAX_INPUT)
		return bad(&x, "the document is too large");
	if (memchr(data, '\0', len))
		return bad(&x, "a NUL byte");
	if (starts(&x, "\xef\xbb\xbf"))
		x.pos = 3;
	while (x.pos < x.len) {
		char c = x.p[x.pos];

		if (c != '<') {
			size_t start = x.pos;

			if (x.depth == 0) {
				if (!is_space(c))
					return bad(&x, "text outside the root element");
				x.pos++;
				continue;
			}
			while (x.pos < x.len && x.p[x.pos] != '<' && x.p[x.pos] != '&')
				x.pos++;
			r = text_add(&x, x.p + start, x.pos - start);
			if (r == 0 && x.pos < x.len && x.p[x.pos] == '&')
				r = entity(&x);
		} else if (starts(&x, "<?")) {
			r = skip_past(&x, "?>") ? 0 : bad(&x, "an unterminated declaration");
		} else if (starts(&x, "<!--")) {
			r = skip_past(&x, "-->") ? 0 : bad(&x, "an unterminated comment");
		} else if (starts(&x, "<![CDATA[")) {
			size_t start = x.pos + 9;

			if (x.depth == 0)
				return bad(&x, "CDATA outside the root element");
			x.pos = start;
			if (!skip_past(&x, "]]>"))
				return bad(&x, "an unterminated CDATA section");
			r = text_add(&x, x.p + start, x.pos - 3 - start);
		} else if (starts(&x, "<!")) {
			r = bad(&x, "a DOCTYPE or other declaration (not allowed)");
		} else if (starts(&x, "</")) {
			r = close_tag(&x);
			if (r == 0 && x.depth == 0)
				root_done = true;
		} else {
			if (root_done)
				return bad(&x, "a second root element");
			r = open_tag(&x);
		}
		if (r < 0)
			return r;
	}
	if (x.depth)
		return bad(&x, "the document ends inside an element");
	if (!root_done)
		return bad(&x, "no root element");
	return 0;
}

/* ---- the documents ---------------------------------------------------------------- */

/* Copy @text into @out (@cap bytes), cut to fit at a character boundary. */
static void copy_cut(char *out, size_t cap, const char *text, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	while (n && n < len && ((unsigned char)text[n] & 0xc0) == 0x80)
		n--;
	memcpy(out, text, n);
	out[n] = '\0';
}

struct err_ctx {
	struct lb_s3_error *e;
	int is_error; /* -1: no root yet */
};

static int err_cb(void *ctx, enum lb_xml_event ev, const char *path, const char *text, size_t len)
{
	struct err_ctx *c = ctx;

	if (c->is_error < 0)
		c->is_error = !strcmp(path, "Error");
	if (ev != LB_XML_CLOSE || !c->is_error)
		return 0;
	if (!strcmp(path, "Error/Code"))
		copy_cut(c->e->code, sizeof(c->e->code), text, len);
	else if (!strcmp(path, "Error/Message"))
		copy_cut(c->e->message, sizeof(c->e->message), text, len);
	return 0;
}

int lb_s3_parse_error(const char *data, size_t len, struct lb_s3_error *e)
{
	struct err_ctx c = {e, -1};
	int r;

	memset(e, 0, sizeof(*e));
	r = lb_xml_parse(data, len, err_cb, &c);
	if (r < 0)
		return r;
	return c.is_error == 1;
}

struct list_ctx {
	lb_s3_list_fn fn;
	void *ctx;
	struct lb_s3_list_page *page;
	bool root_ok, rooted;
	bool in_contents, have_key, have_size;
	char key[1025];
	uint64_t size;
};

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (!len || len > 20)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EBADMSG;
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
			return -EBADMSG;
	}
	*out = v;
	return 0;
}

#define LIST "ListBucketResult"

static int list_cb(void *ctx, enum lb_xml_event ev, const char *path, const char *text, size_t len)
{
	struct list_ctx *c = ctx;

	if (!c->rooted) {
		c->rooted = true;
		c->root_ok = !strcmp(path, LIST);
		if (!c->root_ok)
			return lb_err(-EBADMSG, OBJ, HINT, "expected a %s, got <%s>", LIST, path);
	}
	if (ev == LB_XML_OPEN) {
		if (!strcmp(path, LIST "/Contents")) {
			c->in_contents = true;
			c->have_key = c->have_size = false;
		}
		return 0;
	}
	if (!strcmp(path, LIST "/Contents/Key")) {
		if (len == 0 || len >= sizeof(c->key))
			return lb_err(-EBADMSG, OBJ, HINT, "a listed key of %zu bytes", len);
		memcpy(c->key, text, len + 1);
		c->have_key = true;
	} else if (!strcmp(path, LIST "/Contents/Size")) {
		if (parse_u64(text, len, &c->size) < 0)
			return lb_err(-EBADMSG, OBJ, HINT, "a listed size is not a number");
		c->have_size = true;
	} else if (!strcmp(path, LIST "/Contents")) {
		if (!c->have_key || !c->have_size)
			return lb_err(-EBADMSG, OBJ, HINT, "a listed object without a key or size");
		c->in_contents = false;
		c->page->keys++;
		return c->fn ? c->fn(c->ctx, c->key, c->size) : 0;
	} else if (!strcmp(path, LIST "/IsTruncated")) {
		if (len == 4 && !memcmp(text, "true", 4))
			c->page->truncated = true;
		else if (len == 5 && !memcmp(text, "false", 5))
			c->page->truncated = false;
		else
			return lb_err(-EBADMSG, OBJ, HINT, "IsTruncated is neither true nor false");
	} else if (!strcmp(path, LIST "/NextContinuationToken")) {
		if (len >= sizeof(c->page->token))
			return lb_err(-EBADMSG, OBJ, HINT, "a continuation token of %zu bytes",
				      len);
		memcpy(c->page->token, text, len + 1);
	}
	return 0;
}

int lb_s3_parse_list(const char *data, size_t len, lb_s3_list_fn fn, void *ctx,
		     struct lb_s3_list_page *page)
{
	struct list_ctx c = {.fn = fn, .ctx = ctx, .page = page};
	int r;

	memset(page, 0, sizeof(*page));
	r = lb_xml_parse(data, len, list_cb, &c);
	if (r < 0)
		return r;
	if (page->truncated && !page->token[0])
		return lb_err(-EBADMSG, OBJ, HINT,
			      "a truncated listing without a continuation token");
	return 0;
}

struct id_ctx {
	char *id;
	size_t cap;
	bool rooted, found;
};

#define INIT "InitiateMultipartUploadResult"

static int id_cb(void *ctx, enum lb_xml_event ev, const char *path, const char *text, size_t len)
{
	struct id_ctx *c = ctx;

	if (!c->rooted) {
		c->rooted = true;
		if (strcmp(path, INIT))
			return lb_err(-EBADMSG, OBJ, HINT, "expected an %s, got <%s>", INIT, path);
	}
	if (ev != LB_XML_CLOSE || strcmp(path, INIT "/UploadId"))
		return 0;
	if (len == 0 || len >= c->cap)
		return lb_err(-EBADMSG, OBJ, HINT, "an upload ID of %zu bytes", len);
	memcpy(c->id, text, len + 1);
	c->found = true;
	return 0;
}

int lb_s3_parse_upload_id(const char *data, size_t len, char *id, size_t cap)
{
	struct id_ctx c = {id, cap, false, false};
	int r;

	if (cap == 0)
		return -EINVAL;
	id[0] = '\0';
	r = lb_xml_parse(data, len, id_cb, &c);
	if (r < 0)
		return r;
	if (!c.found)
		return lb_err(-EBADMSG, OBJ, HINT, "no upload ID in the answer");
	return 0;
}
