/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * osinfo.h - which operating system a volume holds.
 *
 * The hook inspect calls for each volume. Windows: ProductName and build
 * from the SOFTWARE hive (Windows/System32/config/SOFTWARE); Linux:
 * /etc/os-release. Reading them needs the file-system layer of the repair
 * work (NTFS paths, ext4, hives); until that lands this returns -ENOTSUP and
 * inspect leaves "os" out.
 */
#ifndef LB_FS_OSINFO_H
#define LB_FS_OSINFO_H

#include "fs/probe.h"
#include "io/dev.h"

struct lb_os_info {
	char family[16];   /* "windows", "linux" */
	char name[128];    /* "Windows Server 2022 Datacenter", "Debian GNU/Linux 12 (bookworm)" */
	char version[64];  /* build "20348" / VERSION_ID "12" */
};

/*
 * Detect the OS on the volume @dev already probed as @fs. Returns 0 and fills
 * @out, -ENOENT if the volume holds no OS, -ENOTSUP if detection is not
 * available for this file system yet.
 */
int lb_os_detect(struct lb_dev *dev, const struct lb_fs_info *fs, struct lb_os_info *out);

#endif
