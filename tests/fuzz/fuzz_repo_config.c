/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_repo_config.c - the repository's plaintext records: config (128 bytes) and key records (256). */
#include "fuzz.h"

#include "repo/config.h"

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	struct lb_repo_config c;
	struct lb_keyfile kf;

	if (size == LB_KEYFILE_SIZE)
		return lb_keyfile_decode(data, size, &kf);
	return lb_config_decode(data, size, &c);
}

LB_FUZZ_TARGET
