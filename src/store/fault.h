/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fault.h - a store wrapper that injects faults, for tests: it sits between
 * store.c and the backend when LIFEBOAT_STORE_FAULT holds a spec, fails the
 * object operations a rule picks, returns corrupted bytes, or kills the
 * process at a commit.
 *
 * Spec grammar (comma-separated rules):
 *
 *   OP-error=GLOB[#N][/ERRNO]  the operation OP on an object whose name
 *                              matches GLOB (fnmatch, '*' matches '/' too)
 *                              fails with ERRNO: EIO (default), ENOSPC,
 *                              EACCES, ENOENT, EROFS. OP is put (a whole
 *                              object, or a streamed one at its commit:
 *                              nothing becomes visible), write (one chunk
 *                              of a streamed object), get, stat, list (GLOB
 *                              matches the prefix listed) or delete. With #N
 *                              only the Nth call the rule matches fails
 *                              (1-based), otherwise every one.
 *   corrupt=GLOB[#N]           reads of matching objects come back with the
 *                              middle byte of the range read inverted
 *   truncate=GLOB[#N]          reads of matching objects fail as if the
 *                              object were cut short (-ENODATA)
 *   delay=MS                   every operation waits MS milliseconds first
 *                              (to watch progress; no test relies on timing)
 *   kill-at-commit=N           SIGKILL when the Nth object (put or commit,
 *                              counted together) is about to become visible
 *   kill-after-commit=N        SIGKILL right after it became visible
 *   kill-at-write=N            SIGKILL at the Nth write of a streamed object
 *                              (a pack half-written)
 */
#ifndef LB_STORE_FAULT_H
#define LB_STORE_FAULT_H

struct lb_store;

#define LB_STORE_FAULT_MAX_RULES 16

/*
 * If $LIFEBOAT_STORE_FAULT is set, replace *@s by a wrapper around it (which
 * owns it). Returns 0 (also when unset), -EINVAL if the spec does not parse
 * (recorded, naming the rule), -ENOMEM; on error *@s is unchanged.
 */
int lb_store_fault_wrap(struct lb_store **s);

/* Parse only (for validation and fuzzing). Returns 0 or -EINVAL (recorded). */
int lb_store_fault_spec_check(const char *spec);

#endif
