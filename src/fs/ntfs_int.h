/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ntfs_int.h - what the two NTFS files share (private to src/fs/ntfs*.c):
 * ntfs.c owns the libntfs-3g device operations over an lb_dev and the log
 * capture; ntfs_fs.c is the fs.h backend built on them.
 *
 * Ownership: lb_ntfs_device_new() returns a device that holds a reference to
 * the lb_dev. Hand it to ntfs_device_mount(); if that fails, free it with
 * lb_ntfs_device_free(); once mounted, lb_ntfs_umount() releases the volume,
 * the device and the reference together.
 */
#ifndef LB_FS_NTFS_INT_H
#define LB_FS_NTFS_INT_H

#include "fs/ntfs3g.h"

#include <stdbool.h>

#include "io/dev.h"

/* A libntfs-3g device whose I/O goes to @dev (clamped to its size). NULL: out of memory. */
struct ntfs_device *lb_ntfs_device_new(struct lb_dev *dev);

/* Free a device that is not mounted (after ntfs_device_mount() failed). NULL-safe. */
void lb_ntfs_device_free(struct ntfs_device *nd);

/*
 * Unmount @vol (writing back what is dirty) and free it with its device.
 * Returns 0, or -1 with errno set and libntfs-3g's message captured.
 */
int lb_ntfs_umount(ntfs_volume *vol);

/* Capture libntfs-3g's log (never printed); forget the last message and lb_ntfs_oom_seen(). */
void lb_ntfs_log_begin(void);

/* true if libntfs-3g failed to allocate memory since lb_ntfs_log_begin(). */
bool lb_ntfs_oom_seen(void);

/* 1 if $LogFile is clean (or empty), 0 if not, -1 if it cannot be read. */
int lb_ntfs_journal_clean(ntfs_volume *vol);

#endif
