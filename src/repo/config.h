/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.h - the two plaintext records of a repository: "config" (format
 * parameters) and "keys/<id>" (the repository keys, sealed with a key
 * derived from a password). Formats: docs/repository-format.md.
 */
#ifndef LB_REPO_CONFIG_H
#define LB_REPO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repo/crypto.h"

#define LB_CONFIG_SIZE 128
#define LB_KEYFILE_SIZE 256

struct lb_repo_config {
	uint32_t version;
	uint8_t repo_id[LB_ID_LEN];
	int64_t created;
	bool encrypted;
	uint32_t image_chunk; /* power of two, 4 KiB .. 1 MiB */
	uint32_t cdc_min, cdc_avg, cdc_max;
	uint32_t frame_size; /* 64 KiB .. 8 MiB */
	uint32_t pack_size;
	int32_t zstd_level; /* -7 .. 19 */
};

/* Defaults for a new repository (random id, now). Returns 0 or -EIO. */
int lb_config_default(struct lb_repo_config *c, bool encrypted);

/* Encode into 128 bytes. */
void lb_config_encode(const struct lb_repo_config *c, uint8_t out[LB_CONFIG_SIZE]);

/* Decode and check every field (fuzzed). Returns 0, -EBADMSG, -ENOTSUP (a newer version). */
int lb_config_decode(const uint8_t *buf, size_t len, struct lb_repo_config *c);

struct lb_keyfile {
	uint8_t repo_id[LB_ID_LEN];
	int64_t created;
	uint32_t kdf; /* 1 Argon2id, 0 none */
	uint32_t ops;
	uint64_t mem;
	uint8_t salt[LB_SALT_LEN];
	uint8_t sealed[LB_SEAL_OVERHEAD + 2 * LB_KEY_LEN];
};

/*
 * Make a key record for @keys protected by @password (Argon2id with the
 * default cost, or the minimum with LIFEBOAT_KDF_FAST=1 in the environment:
 * tests). For an unencrypted repository @password is ignored. Returns 0,
 * -ENOMEM, -EIO.
 */
int lb_keyfile_make(const struct lb_repo_config *c, const struct lb_keys *keys,
		    const char *password, struct lb_keyfile *kf);
void lb_keyfile_encode(const struct lb_keyfile *kf, uint8_t out[LB_KEYFILE_SIZE]);
/* Decode and check (fuzzed). Returns 0, -EBADMSG. */
int lb_keyfile_decode(const uint8_t *buf, size_t len, struct lb_keyfile *kf);

/*
 * Open the keys with @password. Returns 0, -EACCES (wrong password: the
 * seal does not open), -EBADMSG (the record belongs to another repository),
 * -ENOMEM.
 */
int lb_keyfile_open(const struct lb_repo_config *c, const struct lb_keyfile *kf,
		    const char *password, struct lb_keys *keys);

#endif
