/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_reg_path - a registry path for lb_reg_path_parse(): the first byte's
 * low bit is has_value ('1' in the seeds), the rest up to the first NUL is
 * the path. An accepted path names one of the known hive files and a clean
 * key path.
 */
#include "fuzz.h"

#include "base/err.h"
#include "fs/hive.h"

int lb_fuzz_check(const uint8_t *data, size_t size)
{
	static const char *const hives[] = {"SYSTEM", "SOFTWARE", "SAM", "SECURITY", "DEFAULT"};
	struct lb_reg_path p;
	bool has_value = size && (data[0] & 1);
	char *s = malloc(size + 1);
	bool known = false;
	size_t kl;
	int r;

	LB_FUZZ_ASSERT(s != NULL);
	if (size)
		memcpy(s, data + 1, size - 1);
	s[size ? size - 1 : 0] = '\0';
	lb_err_clear();
	r = lb_reg_path_parse(s, has_value, &p);
	LB_FUZZ_ASSERT(r == 0 || (r == -EINVAL && lb_err_last()->code == -EINVAL));
	if (r == 0) {
		LB_FUZZ_TERMINATED(p.hive_file);
		LB_FUZZ_TERMINATED(p.hive_name);
		LB_FUZZ_TERMINATED(p.key);
		LB_FUZZ_TERMINATED(p.value);
		for (size_t i = 0; i < sizeof(hives) / sizeof(hives[0]); i++)
			known |= !strcmp(p.hive_name, hives[i]);
		LB_FUZZ_ASSERT(known);
		LB_FUZZ_ASSERT(!strncmp(p.hive_file, "Windows/System32/config/", 24) &&
			       !strcmp(p.hive_file + 24, p.hive_name));
		kl = strlen(p.key);
		LB_FUZZ_ASSERT(kl == 0 || (p.key[0] != '\\' && p.key[kl - 1] != '\\'));
		LB_FUZZ_ASSERT(!strstr(p.key, "\\\\"));
		LB_FUZZ_ASSERT(has_value || p.value[0] == '\0');
		LB_FUZZ_ASSERT(!strchr(p.value, '\\'));
		LB_FUZZ_ASSERT(kl + strlen(p.value) < size);
	}
	free(s);
	return r;
}

LB_FUZZ_TARGET
