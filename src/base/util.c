/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base/util.h"
#include "base/endian.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

int lb_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int lb_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
		{"", 1},
		{"b", 1},
		{"s", 512},
		{"k", 1ULL << 10},
		{"kib", 1ULL << 10},
		{"m", 1ULL << 20},
		{"mib", 1ULL << 20},
		{"g", 1ULL << 30},
		{"gib", 1ULL << 30},
		{"t", 1ULL << 40},
		{"tib", 1ULL << 40},
		{"p", 1ULL << 50},
		{"pib", 1ULL << 50},
		{"e", 1ULL << 60},
		{"eib", 1ULL << 60},
		{"kb", 1000ULL},
		{"mb", 1000000ULL},
		{"gb", 1000000000ULL},
		{"tb", 1000000000000ULL},
	};
	char num[32];
	size_t n = 0;
	uint64_t v, r;

	if (!s)
		return -EINVAL;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(num))
		return n == 0 ? -EINVAL : -ERANGE;
	memcpy(num, s, n);
	num[n] = '\0';
	if (lb_parse_u64(num, &v) < 0)
		return -ERANGE;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(s + n, units[i].suffix) != 0)
			continue;
		if (__builtin_mul_overflow(v, units[i].mult, &r))
			return -ERANGE;
		*out = r;
		return 0;
	}
	return -EINVAL;
}

char *lb_format_size(uint64_t bytes, char *out, size_t cap)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	int u = 0;

	if (bytes < 1024) {
		snprintf(out, cap, "%" PRIu64 " B", bytes);
		return out;
	}
	while (v >= 1024.0 && u < 6) {
		v /= 1024.0;
		u++;
	}
	if (v >= 100.0)
		snprintf(out, cap, "%.0f %s", v, unit[u]);
	else if (v >= 10.0)
		snprintf(out, cap, "%.1f %s", v, unit[u]);
	else
		snprintf(out, cap, "%.2f %s", v, unit[u]);
	return out;
}

char *lb_format_guid(const uint8_t g[16], char out[37])
{
	snprintf(out, 37,
		 "%08" PRIX32 "-%04" PRIX16 "-%04" PRIX16 "-%02X%02X-%02X%02X%02X%02X%02X%02X",
		 lb_le32(g), lb_le16(g + 4), lb_le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13],
		 g[14], g[15]);
	return out;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int lb_parse_guid(const char *s, uint8_t g[16])
{
	uint8_t raw[16];
	size_t k = 0;

	if (!s || strlen(s) != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36;) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			i++;
			continue;
		}
		hi = hexval((unsigned char)s[i]);
		lo = hexval((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		raw[k++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	/* text order -> mixed-endian on-disk order */
	g[0] = raw[3], g[1] = raw[2], g[2] = raw[1], g[3] = raw[0];
	g[4] = raw[5], g[5] = raw[4];
	g[6] = raw[7], g[7] = raw[6];
	memcpy(g + 8, raw + 8, 8);
	return 0;
}

static size_t put_utf8(uint32_t cp, char *out, size_t pos, size_t cap)
{
	char tmp[4];
	size_t n;

	if (cp < 0x80) {
		tmp[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		tmp[0] = (char)(0xc0 | cp >> 6);
		tmp[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		tmp[0] = (char)(0xe0 | cp >> 12);
		tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		tmp[0] = (char)(0xf0 | cp >> 18);
		tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		tmp[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (pos + n >= cap)
		return 0;
	memcpy(out + pos, tmp, n);
	return n;
}

size_t lb_utf16le_to_utf8(const uint8_t *src, size_t n, char *out, size_t cap)
{
	size_t pos = 0;

	if (cap == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t cp = lb_le16(src + 2 * i);
		size_t w;

		if (cp == 0)
			break;
		if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
			uint32_t lo = lb_le16(src + 2 * (i + 1));

			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i++;
			} else {
				cp = 0xfffd;
			}
		} else if (cp >= 0xd800 && cp <= 0xdfff) {
			cp = 0xfffd;
		}
		w = put_utf8(cp, out, pos, cap);
		if (w == 0)
			break;
		pos += w;
	}
	out[pos] = '\0';
	return pos;
}

char *lb_copy_label(const uint8_t *src, size_t n, char *out, size_t cap)
{
	size_t len = 0;

	if (cap == 0)
		return out;
	while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0'))
		n--;
	for (size_t i = 0; i < n && len + 1 < cap; i++) {
		if (src[i] == '\0')
			break;
		out[len++] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	}
	out[len] = '\0';
	return out;
}

uint32_t lb_crc32(uint32_t crc, const void *data, size_t len)
{
	const Bytef *p = data;

	while (len > 0) {
		uInt chunk = len > 0x40000000u ? 0x40000000u : (uInt)len;

		crc = (uint32_t)crc32(crc, p, chunk);
		p += chunk;
		len -= chunk;
	}
	return crc;
}

bool lb_is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	if (len == 0)
		return true;
	if (b[0] != 0)
		return false;
	return memcmp(b, b + 1, len - 1) == 0;
}

char *lb_strlcpy(char *dst, const char *src, size_t cap)
{
	size_t n;

	if (cap == 0)
		return dst;
	n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return dst;
}

volatile sig_atomic_t lb_stop_requested;

/* Length of the valid UTF-8 sequence at @s (1..4), or 0. */
static size_t utf8_seq(const unsigned char *s)
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

size_t lb_utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t bad = 0;

	while (*p) {
		size_t n = utf8_seq(p);

		if (!n) {
			*p++ = '?';
			bad++;
		} else {
			p += n;
		}
	}
	return bad;
}
