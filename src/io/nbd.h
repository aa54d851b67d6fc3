/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nbd.h - images that qemu understands (qcow2, VHDX, dynamic VHD, VMDK, VDI),
 * read and written through libnbd driving a qemu-nbd child, in user space:
 * no /dev/nbd, no kernel module, no root. Also any existing NBD server by URI.
 *
 * The child is started with systemd socket activation and dies with the
 * handle. Its stderr is captured so that a failure is reported with qemu's
 * own words ("Image is not in qcow2 format"). Writes are flushed before the
 * handle is closed, so the image is consistent when lb_dev_unref() returns.
 *
 * I/O is split to the server's maximum request size and widened to its
 * minimum block size (read-modify-write), because qemu-nbd wants 512-byte
 * aligned requests for some formats.
 */
#ifndef LB_IO_NBD_H
#define LB_IO_NBD_H

#include "io/dev.h"

enum {
	LB_NBD_READ_ONLY = 1 << 0, /* qemu-nbd --read-only; the device refuses writes */
	/*
	 * With LB_NBD_READ_ONLY: open even if another process (a running VM, a
	 * writable qemu-nbd) holds the image's write lock (qemu's force-share=on).
	 * What is read may then be inconsistent while that process writes.
	 */
	LB_NBD_FORCE_SHARE = 1 << 1,
};

/*
 * Open @path as a qemu block driver @qemu_format ("qcow2", "vpc", "vhdx",
 * "vmdk", "vdi", "raw") with LB_NBD_* @flags. Errors (recorded, with
 * qemu-nbd's message): -ENOENT if qemu-nbd or the file is missing, -EBUSY if
 * the image is locked by another process, -EBADMSG if qemu rejects the
 * image, -EIO.
 */
int lb_nbd_dev_open(const char *path, const char *qemu_format, unsigned flags, struct lb_dev **out);

/* Connect to a running NBD server: nbd://host[:port]/export, nbd+unix:///export?socket=PATH. */
int lb_nbd_dev_connect_uri(const char *uri, bool read_only, struct lb_dev **out);

/* true if @s looks like an NBD URI. */
bool lb_is_nbd_uri(const char *s);

#endif
