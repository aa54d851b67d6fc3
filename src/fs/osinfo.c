/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fs/osinfo.h"

#include <errno.h>
#include <string.h>

int lb_os_detect(struct lb_dev *dev, const struct lb_fs_info *fs, struct lb_os_info *out)
{
	(void)dev;
	(void)fs;
	memset(out, 0, sizeof(*out));
	return -ENOTSUP;
}
