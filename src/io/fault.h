/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fault.h - a device filter that injects faults, for tests.
 *
 * Spec grammar (comma-separated rules; offsets and lengths take size suffixes):
 *
 *   read-error=OFF[+LEN]    reads touching [OFF, OFF+LEN) fail with EIO (LEN default 1)
 *   write-error=OFF[+LEN]   writes touching the range fail with EIO
 *   enospc=OFF              writes touching OFF or beyond fail with ENOSPC
 *   flip=OFF[:BIT]          reads return byte OFF with bit BIT (0-7, default 0) inverted
 *   short-reads             every read returns at most half of what was asked (min 1)
 *   write-limit=N           the N+1th write request and every one after fail with EIO
 *   kill-at-write=N         the process kills itself (SIGKILL) when write request N (1-based)
 *                           arrives, before it reaches the device below
 *   kill-after-write=N      ... right after write request N reached the device (and a flush)
 *   crash-at-write=N        the process crashes (SIGSEGV) when write request N arrives
 *   kill-all-at-write=N     like kill-at-write, but first kills the parent process too (a
 *                           repair worker's parent: the whole repair dies, as by kill -9,
 *                           and nobody rolls back; 'lifeboat undo' must)
 *
 * The image layer stacks this filter over the guest disk when the environment
 * variable LIFEBOAT_FAULT holds a spec, so end-to-end tests can switch it on.
 */
#ifndef LB_IO_FAULT_H
#define LB_IO_FAULT_H

#include "io/dev.h"

#define LB_FAULT_MAX_RULES 32

/*
 * Wrap @lower. Returns 0 and a new device in @out, -EINVAL if the spec does
 * not parse (recorded, naming the rule), -ENOMEM.
 */
int lb_fault_dev_new(struct lb_dev *lower, const char *spec, struct lb_dev **out);

/* Parse only (for validation and fuzzing). Returns 0 or -EINVAL (recorded). */
int lb_fault_spec_check(const char *spec);

#endif
