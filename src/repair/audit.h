/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * audit.h - the audit journal: what every repair found and did, append-only,
 * tamper-evident.
 *
 * A journal is a JSON Lines file. Each line is one JSON object whose first
 * two members are written here:
 *
 *   {"seq":N,"prev":"<sha256 hex of the previous line's bytes, without its
 *    newline; 64 zeros for the first>", ...the caller's members...}
 *
 * so deleting, reordering or editing a line breaks the chain at the next one.
 * Truncating whole lines from the end is caught by the head file
 * JOURNAL.head, replaced atomically (write, fsync, rename, fsync dir) after
 * every append, which holds "seq sha256-of-last-line\n".
 *
 * Appends take an exclusive flock() on the journal, so several lifeboat
 * processes can share one journal; each append is fsync'ed. Verification
 * takes a shared lock, so it never sees half an append.
 *
 * Every line is exactly {"seq":N,"prev":"HEX"} or {"seq":N,"prev":"HEX",...}:
 * N decimal without leading zeros, HEX 64 lower-case digits, the line one
 * valid JSON object (UTF-8) in which no later top-level key is "seq" or
 * "prev". JOURNAL.head holds "N HEX\n" (N >= 1); it is absent only while the
 * journal is empty. An append checks the journal's last line and head file
 * (not the whole chain: that is lb_audit_verify()'s job), and repairs the two
 * states a crash in an earlier append can leave: a partial line after the
 * line the head file names (cut off), and a complete line one past the head
 * file (the head file is brought forward). Verify reports both until then.
 */
#ifndef LB_REPAIR_AUDIT_H
#define LB_REPAIR_AUDIT_H

#include <stddef.h>
#include <stdint.h>

/* Longest line accepted when reading (appending a longer one is -EOVERFLOW). */
#define LB_AUDIT_MAX_LINE (4u << 20)

/*
 * Append one record. @members is the inside of a JSON object without braces
 * ("\"image\":\"a.img\",\"action\":\"delete\"", or "" for none), written
 * after seq and prev; it must be valid JSON members, must not name seq or
 * prev, and must not contain a newline (-EINVAL). The journal is created
 * (0600) if missing. Returns the new record's seq (>= 1) or -EBADMSG (the
 * journal's last line or head file is damaged: nothing is appended to a
 * broken chain), -EINVAL, -EOVERFLOW, -ENOSPC, -EIO, -ENOMEM (recorded). When
 * writing the head file fails after the line is durable, the error is
 * returned and the next append completes the head file.
 */
int64_t lb_audit_append(const char *journal, const char *members);

struct lb_audit_check {
	uint64_t records;  /* lines that verified */
	uint64_t bad_line; /* first line (1-based) that breaks the chain, 0 if none */
	char problem[256]; /* what is wrong with it */
};

/*
 * Verify a whole journal: every line parses as an object starting with the
 * right seq and prev, and the head file matches the last line (a missing head
 * file for a non-empty journal is -EBADMSG: lines removed from the end could
 * not be seen). For a problem with the head file, bad_line is the number of
 * lines + 1. Returns 0 if intact, -EBADMSG if not (details in @out and
 * recorded), -ENOENT, -EIO, -ENOMEM.
 */
int lb_audit_verify(const char *journal, struct lb_audit_check *out);

/*
 * Check a journal held in memory, without a head file (fuzzing, tests): so an
 * edit of the last line or lines removed from the end cannot be seen. Returns
 * 0, -EBADMSG (details in @out and recorded), -ENOMEM.
 */
int lb_audit_verify_buf(const char *buf, size_t len, struct lb_audit_check *out);

#endif
