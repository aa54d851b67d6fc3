/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json.h - a small streaming JSON writer.
 *
 * Output goes to a FILE. The writer tracks nesting and commas; keys are
 * passed with each value inside objects and as NULL inside arrays. Strings
 * are escaped per RFC 8259; bytes that are not valid UTF-8 are written as
 * U+FFFD so the output always parses. Nesting deeper than LB_JSON_MAX_DEPTH
 * is a programming error and is ignored (the output stays well-formed up to
 * that depth).
 *
 *     struct lb_json j;
 *     lb_json_init(&j, stdout, LB_JSON_PRETTY);
 *     lb_json_begin_object(&j, NULL);
 *     lb_json_string(&j, "format", "qcow2");
 *     lb_json_end_object(&j);
 *     lb_json_finish(&j);           newline after the top-level value
 */
#ifndef LB_BASE_JSON_H
#define LB_BASE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define LB_JSON_MAX_DEPTH 32

enum lb_json_style {
	LB_JSON_PRETTY,	 /* two-space indentation, one member per line */
	LB_JSON_COMPACT, /* one line (JSON Lines) */
};

struct lb_json {
	FILE *f;
	enum lb_json_style style;
	int depth;
	bool first[LB_JSON_MAX_DEPTH + 1]; /* no member written yet at this depth */
};

void lb_json_init(struct lb_json *j, FILE *f, enum lb_json_style style);
void lb_json_begin_object(struct lb_json *j, const char *key);
void lb_json_end_object(struct lb_json *j);
void lb_json_begin_array(struct lb_json *j, const char *key);
void lb_json_end_array(struct lb_json *j);
void lb_json_string(struct lb_json *j, const char *key, const char *val); /* NULL -> null */
void lb_json_stringn(struct lb_json *j, const char *key, const char *val, size_t len);
void lb_json_u64(struct lb_json *j, const char *key, uint64_t val);
void lb_json_i64(struct lb_json *j, const char *key, int64_t val);
void lb_json_double(struct lb_json *j, const char *key, double val);
void lb_json_bool(struct lb_json *j, const char *key, bool val);
void lb_json_null(struct lb_json *j, const char *key);
/* A value that is already JSON text (one complete value, e.g. from a worker), as is. */
void lb_json_raw(struct lb_json *j, const char *key, const char *json);
/* End the document: a newline after the top-level value. */
void lb_json_finish(struct lb_json *j);

/* Write @s as a JSON string literal (with quotes) to @f. */
void lb_json_write_escaped(FILE *f, const char *s, size_t len);

#endif
