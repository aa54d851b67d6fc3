/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base/json.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void lb_json_init(struct lb_json *j, FILE *f, enum lb_json_style style)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->style = style;
	j->first[0] = true;
}

static void indent(struct lb_json *j)
{
	if (j->style != LB_JSON_PRETTY)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
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
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void lb_json_write_escaped(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	fputc('"', f);
	while (i < len) {
		unsigned char c = s[i];
		size_t n;

		switch (c) {
		case '"':
			fputs("\\\"", f);
			i++;
			continue;
		case '\\':
			fputs("\\\\", f);
			i++;
			continue;
		case '\n':
			fputs("\\n", f);
			i++;
			continue;
		case '\r':
			fputs("\\r", f);
			i++;
			continue;
		case '\t':
			fputs("\\t", f);
			i++;
			continue;
		default:
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
			continue;
		}
		n = utf8_len(s + i, len - i);
		if (n == 0) {
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		fwrite(s + i, 1, n, f);
		i += n;
	}
	fputc('"', f);
}

static void member(struct lb_json *j, const char *key)
{
	if (j->depth > LB_JSON_MAX_DEPTH)
		return;
	if (!j->first[j->depth])
		fputc(',', j->f);
	if (j->depth > 0)
		indent(j);
	j->first[j->depth] = false;
	if (key) {
		lb_json_write_escaped(j->f, key, strlen(key));
		fputs(j->style == LB_JSON_PRETTY ? ": " : ":", j->f);
	}
}

static void open_container(struct lb_json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->f);
	if (j->depth < LB_JSON_MAX_DEPTH) {
		j->depth++;
		j->first[j->depth] = true;
	}
}

static void close_container(struct lb_json *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty)
		indent(j);
	fputc(c, j->f);
}

void lb_json_begin_object(struct lb_json *j, const char *key)
{
	open_container(j, key, '{');
}

void lb_json_end_object(struct lb_json *j)
{
	close_container(j, '}');
}

void lb_json_begin_array(struct lb_json *j, const char *key)
{
	open_container(j, key, '[');
}

void lb_json_end_array(struct lb_json *j)
{
	close_container(j, ']');
}

void lb_json_stringn(struct lb_json *j, const char *key, const char *val, size_t len)
{
	member(j, key);
	lb_json_write_escaped(j->f, val, len);
}

void lb_json_string(struct lb_json *j, const char *key, const char *val)
{
	if (!val) {
		lb_json_null(j, key);
		return;
	}
	lb_json_stringn(j, key, val, strlen(val));
}

void lb_json_u64(struct lb_json *j, const char *key, uint64_t val)
{
	member(j, key);
	fprintf(j->f, "%" PRIu64, val);
}

void lb_json_i64(struct lb_json *j, const char *key, int64_t val)
{
	member(j, key);
	fprintf(j->f, "%" PRId64, val);
}

void lb_json_double(struct lb_json *j, const char *key, double val)
{
	member(j, key);
	if (isfinite(val))
		fprintf(j->f, "%.6g", val);
	else
		fputs("null", j->f);
}

void lb_json_bool(struct lb_json *j, const char *key, bool val)
{
	member(j, key);
	fputs(val ? "true" : "false", j->f);
}

void lb_json_raw(struct lb_json *j, const char *key, const char *json)
{
	member(j, key);
	fputs(json, j->f);
}

void lb_json_null(struct lb_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}

void lb_json_finish(struct lb_json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
	j->depth = 0;
	j->first[0] = true;
}
