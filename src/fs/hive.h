/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hive.h - Windows registry hives, offline, through hivex.
 *
 * A hive is a file inside the volume (Windows/System32/config/SYSTEM, ...).
 * lb_hive_load() reads it through the fs layer into an anonymous memory file
 * (memfd) that hivex opens as /proc/self/fd/N, so nothing touches the host's
 * file system; lb_hive_store() commits the changes and writes the new bytes
 * back into the volume with lb_fs_replace(). hivex validates the hive as it
 * opens it; a hive larger than LB_HIVE_MAX is refused.
 *
 * Registry paths as users type them:
 *   HKLM\SYSTEM\CurrentControlSet\Services\CSAgent\Start
 *   HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion
 * lb_reg_path_parse() splits one into the hive file (SYSTEM, SOFTWARE, SAM,
 * SECURITY, DEFAULT, and HKU\.DEFAULT) and the key path inside the hive.
 * Offline there is no CurrentControlSet: lb_hive_resolve_ccs() reads
 * SYSTEM\Select\Current (a DWORD N) and substitutes ControlSet00N.
 *
 * Key and value names compare case-insensitively (as Windows does).
 *
 * Errors: -ENOENT (no such key or value), -EBADMSG (hivex rejects the hive),
 * -EFBIG (over LB_HIVE_MAX), -EINVAL (a malformed path or value spec),
 * -EROFS (changed a hive loaded read-only), -ENOMEM, -EIO.
 */
#ifndef LB_FS_HIVE_H
#define LB_FS_HIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/fs.h"

#define LB_HIVE_MAX (512u << 20)

struct lb_hive;

/* Registry value types (REG_*), as stored. */
enum lb_reg_type {
	LB_REG_NONE = 0,
	LB_REG_SZ = 1,
	LB_REG_EXPAND_SZ = 2,
	LB_REG_BINARY = 3,
	LB_REG_DWORD = 4,
	LB_REG_DWORD_BE = 5,
	LB_REG_LINK = 6,
	LB_REG_MULTI_SZ = 7,
	LB_REG_QWORD = 11,
};

struct lb_reg_value {
	char *name; /* "" for the default value; UTF-8 */
	enum lb_reg_type type;
	uint8_t *data; /* raw bytes as stored (strings UTF-16LE) */
	size_t len;
};

/* A parsed registry path. */
struct lb_reg_path {
	char hive_file[64]; /* the hive inside the volume: "Windows/System32/config/SYSTEM" */
	char hive_name[16]; /* "SYSTEM", "SOFTWARE", ... */
	char key[1024];	    /* key path inside the hive, '\'-separated, "" for the root */
	char value[256];    /* value name when the path names a value, else "" */
};

/*
 * Parse @s ("HKLM\SYSTEM\CurrentControlSet\Services\CSAgent"). Roots:
 * HKLM / HKEY_LOCAL_MACHINE with SYSTEM, SOFTWARE, SAM, SECURITY or DEFAULT;
 * HKU / HKEY_USERS with .DEFAULT (or S-1-5-18, its alias), both the DEFAULT
 * hive; case-insensitive; regedit's "Computer\" prefix is skipped. HKCU,
 * HKCR, HKLM\HARDWARE and user profiles are refused with the reason. Only
 * '\' separates (key names may contain '/'); empty key names are refused,
 * one trailing '\' after a key is allowed. With @has_value, the last
 * component is a value name ("...\CSAgent\Start"); a path ending in '\'
 * then names the key's default value (value ""). Names are UTF-8 without
 * control characters; key names up to 255 bytes.
 * Returns 0 or -EINVAL (recorded: which part is wrong).
 */
int lb_reg_path_parse(const char *s, bool has_value, struct lb_reg_path *out);

/*
 * Parse a value spec as in --reg-set ("dword:4", "qword:0x10", "sz:text",
 * "expand_sz:%SystemRoot%\x", "multi_sz:a,b" with '\,' for a comma and
 * '\\' for a backslash (any other '\' is kept as it is, so C:\dir works),
 * "binary:0a0b" (pairs may be separated by ','), "none:"). Type names are
 * case-insensitive and may carry a "REG_" prefix; "string" and "hex" are
 * accepted for sz and binary. DWORD/QWORD accept decimal or 0x hex, nothing
 * else (no sign, no spaces). Strings must be UTF-8; they are stored as
 * UTF-16LE with a terminating NUL (multi_sz: each, plus a final one; an
 * empty string inside the list is refused, since Windows ends it there).
 * Fills @out->type, data and len; @out->name is left NULL for the caller
 * (lb_reg_value_release() frees both). Returns 0, -EINVAL (recorded: what is
 * wrong), -ENOMEM.
 */
int lb_reg_value_parse(const char *spec, struct lb_reg_value *out);

/*
 * Format a value's data for people: "dword:0x00000004 (4)", "qword:0x... (N)",
 * "sz:\"text\"", "expand_sz:\"...\"", "multi_sz:\"a\",\"b\"",
 * "binary:0a0b" (the first 64 bytes, then "... (N bytes)"), "none:", and
 * "hex(T):..." for other types or lengths that do not fit the type. Strings
 * are converted from UTF-16LE; '"' and control characters are escaped.
 * Always NUL-terminates @out (truncating); returns @out.
 */
char *lb_reg_value_format(const struct lb_reg_value *v, char *out, size_t cap);

/* Type name: "REG_DWORD", ... */
const char *lb_reg_type_name(enum lb_reg_type t);

void lb_reg_value_release(struct lb_reg_value *v);

/*
 * Load the hive file @path from @fs. @write allows changes (the fs must be
 * writable for lb_hive_store()). @fs is borrowed and must outlive the hive.
 * Returns 0, -ENOENT, -EISDIR, -EBADMSG, -EFBIG, -ENOMEM, -EIO (also when
 * /proc is not mounted: hivex opens the memfd through /proc/self/fd). @dirty_out (may be
 * NULL) is set if the hive's two sequence numbers differ (its .LOG files
 * hold changes hivex does not replay; see lb_hive_was_dirty()).
 */
int lb_hive_load(struct lb_fs *fs, const char *path, bool write, struct lb_hive **out,
		 bool *dirty_out);

/*
 * Load from bytes in memory (tests, fuzzing); @data is copied. Such a hive
 * has no file: lb_hive_store() refuses (-EINVAL), lb_hive_serialize() works.
 * Same errors as lb_hive_load().
 */
int lb_hive_load_mem(const void *data, size_t len, bool write, struct lb_hive **out);

/* Free; changes not stored are dropped. NULL-safe. */
void lb_hive_free(struct lb_hive *h);

/*
 * Replace "CurrentControlSet" (any case) at the start of @key with
 * "ControlSet00N" from Select\Current. Only meaningful in a SYSTEM hive.
 * Returns 0 (also when @key does not start with it), -ENOENT (no Select\Current).
 */
int lb_hive_resolve_ccs(struct lb_hive *h, const char *key, char *out, size_t cap);

/*
 * All values of @key (resolved path, '\'-separated), in stored order, and its
 * subkey names. Caller frees with lb_reg_values_free() / lb_strv_free().
 * Returns 0 or -ENOENT.
 */
int lb_hive_get_values(struct lb_hive *h, const char *key, struct lb_reg_value **vals, size_t *n);
int lb_hive_get_subkeys(struct lb_hive *h, const char *key, char ***names, size_t *n);
void lb_reg_values_free(struct lb_reg_value *vals, size_t n);
void lb_strv_free(char **v, size_t n);

/* One value. Returns 0 (fill @out; release it), -ENOENT. */
int lb_hive_get_value(struct lb_hive *h, const char *key, const char *name,
		      struct lb_reg_value *out);

/*
 * Set (create or overwrite) one value, keeping the key's other values.
 * @v->name NULL or "" is the default value. Creates missing keys only if
 * @create_keys. Returns 0, -ENOENT, -EROFS, -EINVAL (hivex refused the
 * value), -EBADMSG.
 */
int lb_hive_set_value(struct lb_hive *h, const char *key, const struct lb_reg_value *v,
		      bool create_keys);

/* Delete one value. Returns 0, -ENOENT (no such key or value), -EROFS. */
int lb_hive_delete_value(struct lb_hive *h, const char *key, const char *name);

/* true if anything was changed since loading (or since the last lb_hive_store()). */
bool lb_hive_changed(const struct lb_hive *h);

/*
 * true if the hive's two sequence numbers differed when it was loaded: Windows
 * stopped while writing it, and its .LOG1/.LOG2 files may hold changes that
 * hivex does not replay (committing makes the numbers equal again, so those
 * changes would then be ignored by Windows too). Callers should warn, and
 * refuse to write without being told to.
 */
bool lb_hive_was_dirty(const struct lb_hive *h);

/*
 * Commit the changes and write the hive back to the file it was loaded from
 * (lb_fs_replace()). Returns 0, or the errors of hivex_commit (-EIO) and
 * lb_fs_replace(). Does nothing if nothing changed.
 */
int lb_hive_store(struct lb_hive *h);

/*
 * The committed bytes (tests): a malloc'ed copy in @data (caller frees). A
 * hive loaded for writing is committed first (hivex makes the sequence
 * numbers equal and bumps them); a read-only one gives the bytes as loaded.
 * Returns 0, -ENOMEM, -EIO, -EFBIG.
 */
int lb_hive_serialize(struct lb_hive *h, uint8_t **data, size_t *len);

#endif
