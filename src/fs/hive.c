/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hive.c - Windows registry hives offline, through hivex; and the parsers
 * for what users type (registry paths, value specs).
 *
 * hivex opens files by name only. The hive's bytes are put in an anonymous
 * memory file (memfd_create) and hivex opens "/proc/self/fd/N". hivex reads
 * a writable hive into its own memory, so the memfd is closed right away; a
 * read-only hive stays mapped from it (and serializing a read-only hive
 * returns those bytes). Committing writes to a fresh memfd the same way and
 * reads the bytes back.
 *
 * The regf base block, as far as lifeboat looks at it itself (hivex checks
 * the rest: checksum, bins, cells):
 *   0x000 "regf"   0x004 primary sequence number   0x008 secondary sequence
 *   number; they differ when Windows stopped in the middle of writing the
 *   hive, and then its .LOG1/.LOG2 files hold changes hivex does not replay.
 */
#include "fs/hive.h"
#include "base/cleanup.h"
#include "base/endian.h"
#include "base/err.h"
#include "base/util.h"

#include <hivex.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#define REGF_MIN 0x2000u    /* base block + one bin */
#define SPEC_MAX (1u << 20) /* longest value spec accepted */
#define READ_CHUNK (1u << 20)

struct lb_hive {
	hive_h *h;
	struct lb_fs *fs; /* borrowed; NULL when loaded from memory */
	char *path;	  /* the hive file inside the volume */
	int fd;		  /* read-only hives: the memfd hivex maps; else -1 */
	bool write;
	bool changed;
	bool dirty; /* the sequence numbers differed when loaded */
};

/* ---- UTF-8 / UTF-16LE ------------------------------------------------------ */

/*
 * Decode one UTF-8 code point at @s, of which @n bytes are available
 * (strict: no overlongs, no surrogates, nothing above U+10FFFF). Returns its
 * length, or 0 if invalid or cut short.
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t min;

	if (!n)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		*cp = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		*cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		*cp = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

/* true if @s[0..n) is valid UTF-8 without control characters. */
static bool text_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		uint32_t cp;
		size_t l;

		if (*p < 0x20 || *p == 0x7f)
			return false;
		l = utf8_decode(p, (size_t)(end - p), &cp);
		if (!l)
			return false;
		p += l;
	}
	return true;
}

/* Append @cp as UTF-16LE to @out (room checked by the caller: 4 bytes). */
static size_t put_utf16(uint8_t *out, uint32_t cp)
{
	if (cp < 0x10000) {
		lb_put_le16(out, (uint16_t)cp);
		return 2;
	}
	cp -= 0x10000;
	lb_put_le16(out, (uint16_t)(0xd800 | (cp >> 10)));
	lb_put_le16(out + 2, (uint16_t)(0xdc00 | (cp & 0x3ff)));
	return 4;
}

/* ---- value specs ------------------------------------------------------------ */

void lb_reg_value_release(struct lb_reg_value *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->data);
	v->name = NULL;
	v->data = NULL;
	v->len = 0;
}

void lb_reg_values_free(struct lb_reg_value *vals, size_t n)
{
	if (!vals)
		return;
	for (size_t i = 0; i < n; i++)
		lb_reg_value_release(&vals[i]);
	free(vals);
}

void lb_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

const char *lb_reg_type_name(enum lb_reg_type t)
{
	switch ((int)t) {
	case LB_REG_NONE:
		return "REG_NONE";
	case LB_REG_SZ:
		return "REG_SZ";
	case LB_REG_EXPAND_SZ:
		return "REG_EXPAND_SZ";
	case LB_REG_BINARY:
		return "REG_BINARY";
	case LB_REG_DWORD:
		return "REG_DWORD";
	case LB_REG_DWORD_BE:
		return "REG_DWORD_BIG_ENDIAN";
	case LB_REG_LINK:
		return "REG_LINK";
	case LB_REG_MULTI_SZ:
		return "REG_MULTI_SZ";
	case 8:
		return "REG_RESOURCE_LIST";
	case 9:
		return "REG_FULL_RESOURCE_DESCRIPTOR";
	case 10:
		return "REG_RESOURCE_REQUIREMENTS_LIST";
	case LB_REG_QWORD:
		return "REG_QWORD";
	default:
		return "REG_UNKNOWN";
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#define SPEC_HINT                                                                      \
	"write TYPE:DATA: dword:4, qword:0x10, sz:text, expand_sz:%%SystemRoot%%\\x, " \
	"multi_sz:a,b (\\, for a comma), binary:0a0b, none:"

/* A number: decimal, or 0x hex; at most @max. */
static int parse_number(const char *spec, const char *s, uint64_t max, const char *type,
			uint64_t *out)
{
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		const char *p = s + 2;

		if (!*p)
			return lb_err(-EINVAL, spec, SPEC_HINT, "%s: no hex digits after 0x", type);
		for (; *p; p++) {
			int d = hexval(*p);

			if (d < 0)
				return lb_err(-EINVAL, spec, SPEC_HINT,
					      "%s: '%c' is not a hex digit", type, *p);
			if (v > (UINT64_MAX >> 4))
				return lb_err(-EINVAL, spec, SPEC_HINT,
					      "%s: the number is too large", type);
			v = v << 4 | (uint64_t)d;
		}
	} else {
		int r;

		if (!*s)
			return lb_err(-EINVAL, spec, SPEC_HINT, "%s: no number", type);
		r = lb_parse_u64(s, &v);
		if (r == -ERANGE)
			return lb_err(-EINVAL, spec, SPEC_HINT, "%s: the number is too large",
				      type);
		if (r < 0)
			return lb_err(-EINVAL, spec, SPEC_HINT,
				      "%s: '%s' is not a number (decimal, or hex with 0x)", type,
				      s);
	}
	if (v > max)
		return lb_err(-EINVAL, spec, SPEC_HINT, "%s: %" PRIu64 " is larger than 0x%" PRIx64,
			      type, v, max);
	*out = v;
	return 0;
}

/* UTF-8 text -> UTF-16LE with a terminating NUL, appended at @out (room: 2 * len + 2). */
static int encode_sz(const char *spec, const char *s, size_t len, uint8_t *out, size_t *olen)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t o = 0;

	while (p < end) {
		uint32_t cp;
		size_t l = utf8_decode(p, (size_t)(end - p), &cp);

		if (!l)
			return lb_err(-EINVAL, spec, "write the text in UTF-8",
				      "invalid UTF-8 at byte %zu of the data",
				      (size_t)(p - (const unsigned char *)s));
		o += put_utf16(out + o, cp); /* 4 UTF-8 bytes make at most 4 UTF-16 bytes */
		p += l;
	}
	lb_put_le16(out + o, 0);
	*olen = o + 2;
	return 0;
}

/*
 * "a,b\,c" -> "a" "b,c": each string UTF-16LE with its NUL, then a final
 * NUL. Every input byte makes at most 2 output bytes (4-byte UTF-8: 4), a
 * separator 2, the end 4: @out holds 2 * strlen(@s) + 4.
 */
static int parse_multi_sz(const char *spec, const char *s, uint8_t *out, size_t *olen)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	size_t o = 0, start = 0;

	if (p == end) { /* no strings: just the terminator */
		lb_put_le16(out, 0);
		*olen = 2;
		return 0;
	}
	for (;;) {
		uint32_t cp;
		size_t l;

		if (p == end || *p == ',') {
			if (o == start)
				return lb_err(
					-EINVAL, spec, SPEC_HINT,
					"multi_sz: empty string in the list (Windows would end "
					"the list there)");
			lb_put_le16(out + o, 0);
			o += 2;
			start = o;
			if (p == end)
				break;
			p++;
			continue;
		}
		if (*p == '\\' && p + 1 < end && (p[1] == ',' || p[1] == '\\')) {
			o += put_utf16(out + o, p[1]);
			p += 2;
			continue;
		}
		l = utf8_decode(p, (size_t)(end - p), &cp);
		if (!l)
			return lb_err(-EINVAL, spec, "write the text in UTF-8",
				      "invalid UTF-8 at byte %zu of the data",
				      (size_t)(p - (const unsigned char *)s));
		o += put_utf16(out + o, cp);
		p += l;
	}
	lb_put_le16(out + o, 0);
	*olen = o + 2;
	return 0;
}

static int parse_binary(const char *spec, const char *s, uint8_t *out, size_t *olen)
{
	size_t o = 0;

	while (*s) {
		int hi = hexval(s[0]), lo = hi >= 0 && s[1] ? hexval(s[1]) : -1;

		if (hi < 0 || lo < 0)
			return lb_err(-EINVAL, spec, SPEC_HINT,
				      "binary: expected pairs of hex digits, found '%.2s'", s);
		out[o++] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (*s == ',') {
			s++;
			if (!*s)
				return lb_err(-EINVAL, spec, SPEC_HINT, "binary: ',' at the end");
		}
	}
	*olen = o;
	return 0;
}

int lb_reg_value_parse(const char *spec, struct lb_reg_value *out)
{
	static const struct {
		const char *name;
		enum lb_reg_type type;
	} types[] = {
		{"dword", LB_REG_DWORD},
		{"qword", LB_REG_QWORD},
		{"sz", LB_REG_SZ},
		{"string", LB_REG_SZ},
		{"expand_sz", LB_REG_EXPAND_SZ},
		{"multi_sz", LB_REG_MULTI_SZ},
		{"binary", LB_REG_BINARY},
		{"hex", LB_REG_BINARY},
		{"none", LB_REG_NONE},
	};
	const char *colon, *t, *data;
	size_t tlen, dlen, cap;
	uint8_t *buf;
	bool found = false;
	uint64_t v = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!spec || !*spec)
		return lb_err(-EINVAL, "value", SPEC_HINT, "the value is empty");
	dlen = strnlen(spec, SPEC_MAX + 1);
	if (dlen > SPEC_MAX)
		return lb_err(-EINVAL, "value", NULL, "the value is longer than %u bytes",
			      SPEC_MAX);
	colon = strchr(spec, ':');
	if (!colon)
		return lb_err(-EINVAL, spec, SPEC_HINT, "no type: expected TYPE:DATA");
	t = spec;
	tlen = (size_t)(colon - spec);
	if (tlen > 4 && !strncasecmp(t, "reg_", 4)) {
		t += 4;
		tlen -= 4;
	}
	for (size_t i = 0; i < LB_ARRAY_SIZE(types); i++) {
		if (strlen(types[i].name) == tlen && !strncasecmp(t, types[i].name, tlen)) {
			out->type = types[i].type;
			found = true;
			break;
		}
	}
	if (!found)
		return lb_err(-EINVAL, spec, SPEC_HINT,
			      "unknown type '%.*s' (known: dword, qword, sz, expand_sz, multi_sz, "
			      "binary, none)",
			      (int)LB_MIN(tlen, (size_t)32), t);
	data = colon + 1;
	dlen = strlen(data);
	/* worst case: UTF-16 of every byte plus terminators; at least a QWORD */
	cap = LB_MAX(2 * dlen + 4, (size_t)8);
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	switch (out->type) {
	case LB_REG_DWORD:
		r = parse_number(spec, data, UINT32_MAX, "dword", &v);
		if (!r) {
			lb_put_le32(buf, (uint32_t)v);
			out->len = 4;
		}
		break;
	case LB_REG_QWORD:
		r = parse_number(spec, data, UINT64_MAX, "qword", &v);
		if (!r) {
			lb_put_le64(buf, v);
			out->len = 8;
		}
		break;
	case LB_REG_SZ:
	case LB_REG_EXPAND_SZ:
		r = encode_sz(spec, data, dlen, buf, &out->len);
		break;
	case LB_REG_MULTI_SZ:
		r = parse_multi_sz(spec, data, buf, &out->len);
		break;
	case LB_REG_BINARY:
		r = parse_binary(spec, data, buf, &out->len);
		break;
	default: /* none */
		if (dlen)
			r = lb_err(-EINVAL, spec, SPEC_HINT, "none: takes no data");
		out->len = 0;
		break;
	}
	if (r < 0) {
		free(buf);
		memset(out, 0, sizeof(*out));
		return r;
	}
	out->data = buf;
	return 0;
}

/* ---- formatting ----------------------------------------------------------- */

struct outbuf {
	char *p;
	size_t cap, len;
};

static void ob_puts(struct outbuf *o, const char *s)
{
	while (*s && o->len + 1 < o->cap)
		o->p[o->len++] = *s++;
	o->p[o->len] = '\0';
}

static void ob_printf(struct outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ob_printf(struct outbuf *o, const char *fmt, ...)
{
	char tmp[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	ob_puts(o, tmp);
}

/* UTF-16LE text (n code units, stops at NUL) quoted, with '"' and controls escaped. */
static void ob_quoted(struct outbuf *o, const uint8_t *s, size_t n)
{
	size_t cap = n * 3 + 1;
	_cleanup_free_ char *u = malloc(cap);

	if (!u) {
		ob_puts(o, "\"<out of memory>\"");
		return;
	}
	lb_utf16le_to_utf8(s, n, u, cap);
	ob_puts(o, "\"");
	for (const unsigned char *p = (const unsigned char *)u; *p; p++) {
		if (*p == '"')
			ob_puts(o, "\\\"");
		else if (*p < 0x20 || *p == 0x7f)
			ob_printf(o, "\\x%02x", *p);
		else {
			char c[2] = {(char)*p, 0};

			ob_puts(o, c);
		}
	}
	ob_puts(o, "\"");
}

static void ob_hex(struct outbuf *o, const uint8_t *d, size_t len)
{
	size_t show = LB_MIN(len, (size_t)64);

	for (size_t i = 0; i < show; i++)
		ob_printf(o, "%02x", d[i]);
	if (show < len)
		ob_printf(o, "... (%zu bytes)", len);
}

char *lb_reg_value_format(const struct lb_reg_value *v, char *out, size_t cap)
{
	struct outbuf o = {.p = out, .cap = cap, .len = 0};
	const uint8_t *d = v->data;
	size_t len = d ? v->len : 0;

	if (!cap)
		return out;
	out[0] = '\0';
	switch ((int)v->type) {
	case LB_REG_DWORD:
	case LB_REG_DWORD_BE:
		if (len == 4) {
			uint32_t x = v->type == LB_REG_DWORD ? lb_le32(d) : lb_be32(d);

			ob_printf(&o, "%s:0x%08" PRIx32 " (%" PRIu32 ")",
				  v->type == LB_REG_DWORD ? "dword" : "dword_be", x, x);
			return out;
		}
		break;
	case LB_REG_QWORD:
		if (len == 8) {
			ob_printf(&o, "qword:0x%016" PRIx64 " (%" PRIu64 ")", lb_le64(d),
				  lb_le64(d));
			return out;
		}
		break;
	case LB_REG_SZ:
	case LB_REG_EXPAND_SZ:
	case LB_REG_LINK:
		ob_puts(&o, v->type == LB_REG_SZ	  ? "sz:"
			    : v->type == LB_REG_EXPAND_SZ ? "expand_sz:"
							  : "link:");
		ob_quoted(&o, d, len / 2);
		return out;
	case LB_REG_MULTI_SZ: {
		size_t units = len / 2, i = 0;
		bool first = true;

		ob_puts(&o, "multi_sz:");
		while (i < units && lb_le16(d + 2 * i)) {
			size_t j = i;

			while (j < units && lb_le16(d + 2 * j))
				j++;
			if (!first)
				ob_puts(&o, ",");
			ob_quoted(&o, d + 2 * i, j - i);
			first = false;
			i = j + 1;
		}
		return out;
	}
	case LB_REG_BINARY:
		ob_puts(&o, "binary:");
		ob_hex(&o, d, len);
		return out;
	case LB_REG_NONE:
		ob_puts(&o, "none:");
		ob_hex(&o, d, len);
		return out;
	default:
		break;
	}
	/* an unknown type, or a length that does not fit the type */
	ob_printf(&o, "hex(%d):", (int)v->type);
	ob_hex(&o, d, len);
	return out;
}

/* ---- registry paths --------------------------------------------------------- */

#define PATH_HINT                                                        \
	"write HKLM\\SYSTEM\\..., HKLM\\SOFTWARE\\..., HKLM\\SAM\\..., " \
	"HKLM\\SECURITY\\..., HKLM\\DEFAULT\\... or HKU\\.DEFAULT\\..."

static bool word_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && !strncasecmp(s, w, n);
}

int lb_reg_path_parse(const char *s, bool has_value, struct lb_reg_path *out)
{
	static const char *const hklm_hives[] = {"SYSTEM", "SOFTWARE", "SAM", "SECURITY",
						 "DEFAULT"};
	const char *p, *e, *root, *hname, *hive = NULL;
	size_t rlen, hlen, n, klen = 0;
	bool hklm;

	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return lb_err(-EINVAL, "registry path", PATH_HINT, "the path is empty");
	n = strnlen(s, 4096);
	if (n >= 4096)
		return lb_err(-EINVAL, "registry path", NULL, "the path is too long");
	if (!text_ok(s, n))
		return lb_err(-EINVAL, "registry path", NULL,
			      "the path is not valid UTF-8 text (or holds control characters)");
	p = s;
	/* regedit's address bar copies "Computer\HKEY_LOCAL_MACHINE\..." */
	if (!strncasecmp(p, "Computer\\", 9))
		p += 9;

	/* the root */
	root = p;
	e = strchr(p, '\\');
	rlen = e ? (size_t)(e - p) : strlen(p);
	if (!rlen)
		return lb_err(-EINVAL, s, PATH_HINT, "no root key before the first '\\'");
	hklm = word_is(root, rlen, "HKLM") || word_is(root, rlen, "HKEY_LOCAL_MACHINE");
	if (!hklm && !word_is(root, rlen, "HKU") && !word_is(root, rlen, "HKEY_USERS")) {
		if (word_is(root, rlen, "HKCU") || word_is(root, rlen, "HKEY_CURRENT_USER"))
			return lb_err(-EINVAL, s, PATH_HINT,
				      "HKCU is the signed-in user's NTUSER.DAT, which has no fixed "
				      "place offline");
		if (word_is(root, rlen, "HKCR") || word_is(root, rlen, "HKEY_CLASSES_ROOT"))
			return lb_err(-EINVAL, s, "write HKLM\\SOFTWARE\\Classes\\... instead",
				      "HKCR is a merged view, not a hive");
		return lb_err(-EINVAL, s, PATH_HINT, "unknown root '%.*s'",
			      (int)LB_MIN(rlen, (size_t)64), root);
	}
	if (!e || !e[1])
		return lb_err(-EINVAL, s, PATH_HINT, "name a hive after '%.*s'", (int)rlen, root);

	/* the hive */
	hname = e + 1;
	e = strchr(hname, '\\');
	hlen = e ? (size_t)(e - hname) : strlen(hname);
	if (hklm) {
		for (size_t i = 0; i < LB_ARRAY_SIZE(hklm_hives); i++)
			if (word_is(hname, hlen, hklm_hives[i]))
				hive = hklm_hives[i];
		if (!hive && word_is(hname, hlen, "HARDWARE"))
			return lb_err(-EINVAL, s, PATH_HINT,
				      "HKLM\\HARDWARE is built at boot and has no hive file");
		if (!hive)
			return lb_err(-EINVAL, s, PATH_HINT, "unknown hive '%.*s' under %.*s",
				      (int)LB_MIN(hlen, (size_t)64), hname, (int)rlen, root);
	} else {
		if (!word_is(hname, hlen, ".DEFAULT") && !word_is(hname, hlen, "S-1-5-18"))
			return lb_err(
				-EINVAL, s, PATH_HINT,
				"under %.*s only .DEFAULT (the DEFAULT hive) is supported; user "
				"profiles (NTUSER.DAT) are not",
				(int)rlen, root);
		hive = "DEFAULT";
	}
	snprintf(out->hive_name, sizeof(out->hive_name), "%s", hive);
	snprintf(out->hive_file, sizeof(out->hive_file), "Windows/System32/config/%s", hive);

	/* the rest: key components, and with @has_value the value name last */
	p = e ? e + 1 : hname + hlen;
	if (*p == '\\')
		return lb_err(-EINVAL, s, NULL, "empty key name ('\\\\' in the path)");
	if (has_value) {
		const char *last = strrchr(p, '\\');
		const char *vname = last ? last + 1 : p;
		size_t vlen = strlen(vname);

		if (!e)
			return lb_err(-EINVAL, s,
				      "add the value name after the key: ...\\Key\\Name",
				      "no value name");
		if (vlen >= sizeof(out->value))
			return lb_err(-EINVAL, s, NULL, "the value name is longer than %zu bytes",
				      sizeof(out->value) - 1);
		memcpy(out->value, vname, vlen + 1); /* "" names the default value */
		n = last ? (size_t)(last - p) : 0;
	} else {
		n = strlen(p);
		if (n && p[n - 1] == '\\')
			n--; /* one trailing '\' is harmless */
	}
	for (size_t i = 0; n;) {
		size_t j = i;

		while (j < n && p[j] != '\\')
			j++;
		if (j == i)
			return lb_err(-EINVAL, s, NULL, "empty key name ('\\\\' in the path)");
		if (j - i > 255)
			return lb_err(-EINVAL, s, NULL, "a key name is longer than 255 characters");
		if (klen + (klen ? 1 : 0) + (j - i) + 1 > sizeof(out->key))
			return lb_err(-EINVAL, s, NULL, "the key path is longer than %zu bytes",
				      sizeof(out->key) - 1);
		if (klen)
			out->key[klen++] = '\\';
		memcpy(out->key + klen, p + i, j - i);
		klen += j - i;
		if (j == n)
			break;
		i = j + 1;
	}
	out->key[klen] = '\0';
	return 0;
}

/* ---- hives ------------------------------------------------------------------ */

static int hivex_error(int e, const char *object, const char *what)
{
	switch (e) {
	case ENOMEM:
		return -ENOMEM;
	case EROFS:
		return lb_err(-EROFS, object, NULL, "%s: the hive was loaded read-only", what);
	case ENOENT:
	case HIVEX_NO_KEY:
		return lb_err(-ENOENT, object, NULL, "%s: not found", what);
	case EINVAL:
	case ERANGE:
	case ENOSPC:
		return lb_err(-EINVAL, object, NULL, "%s: hivex refused it (%s)", what,
			      strerror(e));
	default:
		return lb_err(-EBADMSG, object, "the hive may be damaged", "%s: hivex failed (%s)",
			      what, strerror(e ? e : EIO));
	}
}

/* Write all of @data to @fd. */
static int write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return lb_err(-errno ? -errno : -EIO, "memory file", NULL,
				      "cannot hold the hive: %s", strerror(errno ? errno : EIO));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int new_memfd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return lb_err(-errno, "memfd_create", NULL,
			      "cannot make an anonymous memory file: %s", strerror(errno));
	return fd;
}

/* Open the hive held in memfd @fd (hivex gets its own access; @fd is ours). */
static int open_fd(int fd, uint64_t size, bool write, const char *object, struct lb_hive **out)
{
	char path[64], hdr[12];
	struct lb_hive *hv = NULL;

	if (size > LB_HIVE_MAX)
		return lb_err(-EFBIG, object, NULL,
			      "the hive is %" PRIu64 " bytes; the limit is %u", size, LB_HIVE_MAX);
	if (size < REGF_MIN)
		return lb_err(-EBADMSG, object, NULL,
			      "%" PRIu64 " bytes is too short for a registry hive", size);
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		return lb_err(-EIO, object, NULL, "cannot read the hive back from memory");
	if (memcmp(hdr, "regf", 4))
		return lb_err(-EBADMSG, object, NULL, "not a registry hive (no 'regf' signature)");
	hv = calloc(1, sizeof(*hv));
	if (!hv)
		return -ENOMEM;
	hv->fd = -1;
	hv->write = write;
	hv->dirty = lb_le32(hdr + 4) != lb_le32(hdr + 8);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	errno = 0;
	hv->h = hivex_open(path, write ? HIVEX_OPEN_WRITE : 0);
	if (!hv->h) {
		int e = errno;

		free(hv);
		if (e == ENOMEM)
			return -ENOMEM;
		if (e == ENOENT || e == EACCES)
			return lb_err(-EIO, object, "lifeboat needs /proc mounted",
				      "hivex cannot open the hive through %s: %s", path,
				      strerror(e));
		return lb_err(-EBADMSG, object,
			      "the hive is damaged; Windows may still have a "
			      "copy in Windows/System32/config/RegBack",
			      "hivex rejects the hive (%s)", strerror(e ? e : EINVAL));
	}
	*out = hv;
	return 0;
}

int lb_hive_load_mem(const void *data, size_t len, bool write, struct lb_hive **out)
{
	_cleanup_close_ int fd = -1;
	struct lb_hive *hv = NULL;
	int r;

	if (len > LB_HIVE_MAX)
		return lb_err(-EFBIG, "hive", NULL, "the hive is %zu bytes; the limit is %u", len,
			      LB_HIVE_MAX);
	fd = new_memfd("lb-hive");
	if (fd < 0)
		return fd;
	r = write_all(fd, data, len);
	if (r < 0)
		return r;
	r = open_fd(fd, len, write, "hive", &hv);
	if (r < 0)
		return r;
	if (!write)
		hv->fd = TAKE_FD(fd);
	*out = hv;
	return 0;
}

int lb_hive_load(struct lb_fs *fs, const char *path, bool write, struct lb_hive **out,
		 bool *dirty_out)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *buf = NULL;
	struct lb_fs_stat st;
	struct lb_hive *hv = NULL;
	uint64_t off = 0;
	int r;

	r = lb_fs_stat(fs, path, &st, NULL, 0);
	if (r < 0)
		return r;
	if (st.type == LB_FT_DIR)
		return lb_err(-EISDIR, path, NULL, "a directory, not a hive file");
	if (st.type != LB_FT_FILE)
		return lb_err(-EBADMSG, path, NULL, "not a regular file, so not a hive");
	if (st.size > LB_HIVE_MAX)
		return lb_err(-EFBIG, path, NULL, "the hive is %" PRIu64 " bytes; the limit is %u",
			      st.size, LB_HIVE_MAX);
	fd = new_memfd("lb-hive");
	if (fd < 0)
		return fd;
	buf = malloc(READ_CHUNK);
	if (!buf)
		return -ENOMEM;
	while (off < st.size) {
		size_t want = (size_t)LB_MIN((uint64_t)READ_CHUNK, st.size - off);
		ssize_t n = lb_fs_pread(fs, path, buf, want, off);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return lb_err(-EIO, path, NULL,
				      "the file ended at %" PRIu64 " of its %" PRIu64 " bytes", off,
				      st.size);
		r = write_all(fd, buf, (size_t)n);
		if (r < 0)
			return r;
		off += (uint64_t)n;
	}
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
	r = open_fd(fd, st.size, write, path, &hv);
	if (r < 0)
		return r;
	hv->fs = fs;
	hv->path = strdup(path);
	if (!hv->path) {
		lb_hive_free(hv);
		return -ENOMEM;
	}
	if (!write)
		hv->fd = TAKE_FD(fd);
	if (dirty_out)
		*dirty_out = hv->dirty;
	*out = hv;
	return 0;
}

void lb_hive_free(struct lb_hive *h)
{
	if (!h)
		return;
	if (h->h)
		hivex_close(h->h);
	if (h->fd >= 0)
		close(h->fd);
	free(h->path);
	free(h);
}

bool lb_hive_changed(const struct lb_hive *h)
{
	return h->changed;
}

bool lb_hive_was_dirty(const struct lb_hive *h)
{
	return h->dirty;
}

/* Find the node for @key ('\'-separated; empty components are skipped). */
static int find_key(struct lb_hive *hv, const char *key, bool create, hive_node_h *out)
{
	hive_node_h node = hivex_root(hv->h);
	const char *p = key;
	char name[256];

	if (!node)
		return hivex_error(errno, "hive", "finding the root key");
	while (*p) {
		const char *e = strchr(p, '\\');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		hive_node_h child;

		if (!n) {
			p++;
			continue;
		}
		if (n >= sizeof(name))
			return lb_err(-EINVAL, key, NULL,
				      "a key name is longer than 255 characters");
		memcpy(name, p, n);
		name[n] = '\0';
		errno = 0;
		child = hivex_node_get_child(hv->h, node, name);
		if (!child && errno)
			return hivex_error(errno, key, "looking up a key");
		if (!child && !create) {
			size_t done = (size_t)(p - key);

			if (!done)
				return lb_err(-ENOENT, key, NULL, "no key '%s' in the root key",
					      name);
			return lb_err(-ENOENT, key, NULL, "no key '%s' under '%.*s'", name,
				      (int)(done - 1), key);
		}
		if (!child) {
			if (!hv->write)
				return lb_err(-EROFS, key, NULL, "the hive was loaded read-only");
			errno = 0;
			child = hivex_node_add_child(hv->h, node, name);
			if (!child)
				return hivex_error(errno, key, "creating a key");
			hv->changed = true;
		}
		node = child;
		p += n;
		if (*p)
			p++;
	}
	*out = node;
	return 0;
}

/* Fill @out from value @v. */
static int read_value(struct lb_hive *hv, hive_value_h v, const char *key, struct lb_reg_value *out)
{
	hive_type t;
	size_t len = 0;
	char *name, *data;

	memset(out, 0, sizeof(*out));
	errno = 0;
	name = hivex_value_key(hv->h, v);
	if (!name)
		return hivex_error(errno, key, "reading a value name");
	errno = 0;
	data = hivex_value_value(hv->h, v, &t, &len);
	if (!data) {
		int e = errno;

		free(name);
		return hivex_error(e, key, "reading a value");
	}
	out->name = name;
	out->type = (enum lb_reg_type)t;
	out->data = (uint8_t *)data;
	out->len = len;
	return 0;
}

int lb_hive_get_values(struct lb_hive *h, const char *key, struct lb_reg_value **vals, size_t *n)
{
	_cleanup_free_ hive_value_h *list = NULL;
	struct lb_reg_value *out;
	hive_node_h node = 0;
	size_t count = 0;
	int r;

	*vals = NULL;
	*n = 0;
	r = find_key(h, key, false, &node);
	if (r < 0)
		return r;
	errno = 0;
	list = hivex_node_values(h->h, node);
	if (!list)
		return hivex_error(errno, key, "listing the values");
	while (list[count])
		count++;
	out = calloc(count ? count : 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		r = read_value(h, list[i], key, &out[i]);
		if (r < 0) {
			lb_reg_values_free(out, i);
			return r;
		}
	}
	*vals = out;
	*n = count;
	return 0;
}

int lb_hive_get_subkeys(struct lb_hive *h, const char *key, char ***names, size_t *n)
{
	_cleanup_free_ hive_node_h *list = NULL;
	hive_node_h node = 0;
	size_t count = 0;
	char **out;
	int r;

	*names = NULL;
	*n = 0;
	r = find_key(h, key, false, &node);
	if (r < 0)
		return r;
	errno = 0;
	list = hivex_node_children(h->h, node);
	if (!list)
		return hivex_error(errno, key, "listing the subkeys");
	while (list[count])
		count++;
	out = calloc(count ? count : 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		errno = 0;
		out[i] = hivex_node_name(h->h, list[i]);
		if (!out[i]) {
			r = hivex_error(errno, key, "reading a subkey name");
			lb_strv_free(out, i);
			return r;
		}
	}
	*names = out;
	*n = count;
	return 0;
}

int lb_hive_get_value(struct lb_hive *h, const char *key, const char *name,
		      struct lb_reg_value *out)
{
	hive_node_h node = 0;
	hive_value_h v;
	int r;

	memset(out, 0, sizeof(*out));
	r = find_key(h, key, false, &node);
	if (r < 0)
		return r;
	errno = 0;
	v = hivex_node_get_value(h->h, node, name ? name : "");
	if (!v && errno && errno != HIVEX_NO_KEY)
		return hivex_error(errno, key, "looking up a value");
	if (!v)
		return lb_err(-ENOENT, key, NULL, "no value %s%s%s in the key",
			      name && *name ? "'" : "(default)", name && *name ? name : "",
			      name && *name ? "'" : "");
	return read_value(h, v, key, out);
}

int lb_hive_set_value(struct lb_hive *h, const char *key, const struct lb_reg_value *v,
		      bool create_keys)
{
	hive_set_value sv;
	hive_node_h node = 0;
	int r;

	if (!h->write)
		return lb_err(-EROFS, key, NULL, "the hive was loaded read-only");
	r = find_key(h, key, create_keys, &node);
	if (r < 0)
		return r;
	sv.key = v->name ? v->name : (char *)"";
	sv.t = (hive_type)v->type;
	sv.len = v->data ? v->len : 0;
	sv.value = (char *)v->data;
	errno = 0;
	if (hivex_node_set_value(h->h, node, &sv, 0) < 0)
		return hivex_error(errno, key, "setting the value");
	h->changed = true;
	return 0;
}

int lb_hive_delete_value(struct lb_hive *h, const char *key, const char *name)
{
	struct lb_reg_value *vals = NULL;
	hive_set_value *keep = NULL;
	size_t n = 0, k = 0;
	bool found = false;
	int r;

	if (!name)
		name = "";
	if (!h->write)
		return lb_err(-EROFS, key, NULL, "the hive was loaded read-only");
	/* hivex has no single-value delete: write back all the others */
	r = lb_hive_get_values(h, key, &vals, &n);
	if (r < 0)
		return r;
	keep = calloc(n ? n : 1, sizeof(*keep));
	if (!keep) {
		lb_reg_values_free(vals, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (!found && vals[i].name && !strcasecmp(vals[i].name, name)) {
			found = true;
			continue;
		}
		keep[k].key = vals[i].name;
		keep[k].t = (hive_type)vals[i].type;
		keep[k].len = vals[i].len;
		keep[k].value = (char *)vals[i].data;
		k++;
	}
	if (!found) {
		r = lb_err(-ENOENT, key, NULL, "no value %s%s%s in the key",
			   *name ? "'" : "(default)", name, *name ? "'" : "");
	} else {
		hive_node_h node = 0;

		r = find_key(h, key, false, &node);
		errno = 0;
		if (!r && hivex_node_set_values(h->h, node, k, keep, 0) < 0)
			r = hivex_error(errno, key, "deleting the value");
		if (!r)
			h->changed = true;
	}
	free(keep);
	lb_reg_values_free(vals, n);
	return r;
}

int lb_hive_resolve_ccs(struct lb_hive *h, const char *key, char *out, size_t cap)
{
	static const char ccs[] = "CurrentControlSet";
	const size_t cl = sizeof(ccs) - 1;
	struct lb_reg_value v;
	hive_node_h node = 0;
	char set[32];
	uint32_t cur;
	size_t rest;
	int r;

	if (strncasecmp(key, ccs, cl) || (key[cl] && key[cl] != '\\')) {
		if (strlen(key) + 1 > cap)
			return lb_err(-ENAMETOOLONG, key, NULL, "the key path is too long");
		memcpy(out, key, strlen(key) + 1);
		return 0;
	}
	r = lb_hive_get_value(h, "Select", "Current", &v);
	if (r == -ENOENT)
		return lb_err(r, "Select\\Current", "is this the SYSTEM hive?",
			      "cannot find which control set is current: no Select\\Current "
			      "value");
	if (r < 0)
		return r;
	if (v.type != LB_REG_DWORD || v.len != 4) {
		lb_reg_value_release(&v);
		return lb_err(-EBADMSG, "Select\\Current", NULL,
			      "expected a REG_DWORD, found %s of %zu bytes",
			      lb_reg_type_name(v.type), v.len);
	}
	cur = lb_le32(v.data);
	lb_reg_value_release(&v);
	if (cur < 1 || cur > 999)
		return lb_err(-EBADMSG, "Select\\Current", NULL,
			      "control set %" PRIu32 " is out of range (1 to 999)", cur);
	snprintf(set, sizeof(set), "ControlSet%03" PRIu32, cur);
	r = find_key(h, set, false, &node);
	if (r < 0)
		return lb_err(-ENOENT, set, NULL,
			      "Select\\Current names %s, but the hive has no such key", set);
	rest = strlen(key + cl);
	if (strlen(set) + rest + 1 > cap)
		return lb_err(-ENAMETOOLONG, key, NULL, "the key path is too long");
	memcpy(out, set, strlen(set));
	memcpy(out + strlen(set), key + cl, rest + 1);
	return 0;
}

/* ---- writing back ------------------------------------------------------------ */

/* Read all of memfd @fd (its size now) into a malloc'ed buffer. */
static int slurp_fd(int fd, uint8_t **data, size_t *len)
{
	off_t size = lseek(fd, 0, SEEK_END);
	uint8_t *buf;
	size_t got = 0;

	if (size < 0)
		return lb_err(-errno, "hive", NULL, "cannot size the committed hive: %s",
			      strerror(errno));
	if ((uint64_t)size > LB_HIVE_MAX)
		return lb_err(-EFBIG, "hive", NULL, "the hive grew to %lld bytes; the limit is %u",
			      (long long)size, LB_HIVE_MAX);
	buf = malloc(size ? (size_t)size : 1);
	if (!buf)
		return -ENOMEM;
	while (got < (size_t)size) {
		ssize_t n = pread(fd, buf + got, (size_t)size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return lb_err(-EIO, "hive", NULL, "cannot read the committed hive back");
		}
		got += (size_t)n;
	}
	*data = buf;
	*len = got;
	return 0;
}

int lb_hive_serialize(struct lb_hive *h, uint8_t **data, size_t *len)
{
	_cleanup_close_ int fd = -1;
	char path[64];

	*data = NULL;
	*len = 0;
	if (!h->write)
		return slurp_fd(h->fd, data, len); /* unchanged: the bytes as loaded */
	fd = new_memfd("lb-hive-commit");
	if (fd < 0)
		return fd;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	errno = 0;
	if (hivex_commit(h->h, path, 0) < 0)
		return lb_err(-EIO, h->path ? h->path : "hive", NULL,
			      "hivex could not write the hive: %s", strerror(errno ? errno : EIO));
	return slurp_fd(fd, data, len);
}

int lb_hive_store(struct lb_hive *h)
{
	_cleanup_free_ uint8_t *data = NULL;
	size_t len;
	int r;

	if (!h->changed)
		return 0;
	if (!h->fs)
		return lb_err(-EINVAL, "hive", NULL,
			      "the hive was loaded from memory; it has no file to store to");
	r = lb_hive_serialize(h, &data, &len);
	if (r < 0)
		return r;
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
	r = lb_fs_replace(h->fs, h->path, data, len);
	if (r < 0)
		return r;
	h->changed = false;
	return 0;
}
