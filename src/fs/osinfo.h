/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * osinfo.h - which operating system a volume holds.
 *
 * The hook inspect calls for each volume. It opens the volume read-only
 * (LB_FS_RDONLY: it never writes) and reads little: a few lookups and one
 * hive or one small text file.
 *
 * Windows: a volume with a Windows/System32 directory. Name and build come
 * from the SOFTWARE hive (Windows/System32/config/SOFTWARE), key
 * Microsoft\Windows NT\CurrentVersion: name = ProductName, version =
 * CurrentBuild (else CurrentBuildNumber; DisplayVersion or ReleaseId only if
 * there is no build). Windows 11 still says "Windows 10 ..." in ProductName:
 * when the build is 22000 or later and the name starts with "Windows 10",
 * the name is reported as "Windows 11 ...". Without ProductName the name is
 * "Windows <EditionID>". When the hive cannot be read (missing, damaged),
 * the volume is still reported as Windows, named "Windows (version
 * unknown)", with an empty version.
 *
 * Linux: etc/os-release, else usr/lib/os-release (os-release(5)); symlinks
 * are followed inside the volume (absolute targets from the volume's root,
 * at most 8). name = PRETTY_NAME, else NAME VERSION, else NAME, else
 * "Linux"; version = VERSION_ID. Values are unquoted the os-release way
 * (double quotes with \" \\ \$ \` escapes, single quotes, bare words).
 */
#ifndef LB_FS_OSINFO_H
#define LB_FS_OSINFO_H

#include "fs/probe.h"
#include "io/dev.h"

struct lb_os_info {
	char family[16];  /* "windows", "linux" */
	char name[128];	  /* "Windows Server 2022 Datacenter", "Debian GNU/Linux 12 (bookworm)" */
	char version[64]; /* build "20348" / VERSION_ID "12" */
};

/*
 * Detect the OS on the volume @dev already probed as @fs. Returns 0 and fills
 * @out, -ENOENT if the volume holds no OS (no Windows/System32, no
 * os-release), -ENOTSUP for file systems other than NTFS and ext2/3/4, or
 * the error of opening the volume (lb_fs_open(): -EPERM for BitLocker,
 * -EBADMSG, -EIO, ...). Errors are recorded; @out is zeroed on failure.
 */
int lb_os_detect(struct lb_dev *dev, const struct lb_fs_info *fs, struct lb_os_info *out);

#endif
