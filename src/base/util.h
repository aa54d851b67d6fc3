/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * util.h - small parsers and formatters shared by every layer.
 *
 * The parsers take untrusted text (command-line arguments, recipe files) and
 * are fuzzed: they reject anything but the documented syntax and never
 * overflow.
 */
#ifndef LB_BASE_UTIL_H
#define LB_BASE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>

/*
 * Parse a decimal unsigned integer (no sign, no spaces, no suffix). Returns 0,
 * -EINVAL if @s is not a number, -ERANGE if it exceeds UINT64_MAX.
 */
int lb_parse_u64(const char *s, uint64_t *out);

/*
 * Parse a size: a decimal number with an optional suffix: K/M/G/T/P/E
 * (powers of 1024, with or without a trailing "iB"), KB/MB/GB/TB (powers of
 * 1000), or "s" (512-byte sectors). "4G", "4GiB", "512", "2048s". Returns 0,
 * -EINVAL or -ERANGE.
 */
int lb_parse_size(const char *s, uint64_t *out);

/* Format @bytes as "1.5 GiB" (binary units, three significant digits). Returns @out. */
char *lb_format_size(uint64_t bytes, char *out, size_t cap);

/* Format a 16-byte GPT/Microsoft mixed-endian GUID as upper-case text; @out holds 37 bytes. */
char *lb_format_guid(const uint8_t guid[16], char out[37]);

/* Parse the text form back (case-insensitive). Returns 0 or -EINVAL. */
int lb_parse_guid(const char *s, uint8_t guid[16]);

/*
 * Convert @n UTF-16LE code units at @src to UTF-8 in @out (capacity @cap,
 * always NUL-terminated). Stops at the first NUL code unit. Unpaired
 * surrogates become U+FFFD. Returns the length written.
 */
size_t lb_utf16le_to_utf8(const uint8_t *src, size_t n, char *out, size_t cap);

/* Copy a fixed-width on-disk text field, trimming trailing spaces and NULs; non-printable
 * bytes become '?'. Returns @out. */
char *lb_copy_label(const uint8_t *src, size_t n, char *out, size_t cap);

/* CRC-32 (IEEE 802.3, as used by GPT, zip and VHDX's neighbours). */
uint32_t lb_crc32(uint32_t crc, const void *data, size_t len);

/* true if every byte of @p is zero. */
bool lb_is_zero(const void *p, size_t len);

/*
 * Replace every byte of @s that is not part of a valid UTF-8 sequence (no
 * overlong forms, surrogates or code points above U+10FFFF) with '?', in
 * place: file names on Linux are bytes, records that want text get text.
 * Returns the number of bytes replaced.
 */
size_t lb_utf8_sanitize(char *s);

/* Bounded string copy that always NUL-terminates; returns @dst. */
char *lb_strlcpy(char *dst, const char *src, size_t cap);

/*
 * Set (to 1) by the CLI's SIGINT/SIGTERM handler. Long loops in the library
 * check it with lb_interrupted_check() and stop with -EINTR at a safe point.
 */
extern volatile sig_atomic_t lb_stop_requested;

static inline bool lb_interrupted_check(void)
{
	return lb_stop_requested != 0;
}

#endif
