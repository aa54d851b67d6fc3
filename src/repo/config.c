/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "repo/config.h"
#include "base/endian.h"
#include "base/err.h"
#include "io/image.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const uint8_t config_magic[8] = {'L', 'B', 'R', 'E', 'P', 'O', '\r', '\n'};
static const uint8_t keys_magic[8] = {'L', 'B', 'K', 'E', 'Y', 'S', '\r', '\n'};

#define HINT_DAMAGED "the repository is damaged; run 'lifeboat check'"

int lb_config_default(struct lb_repo_config *c, bool encrypted)
{
	memset(c, 0, sizeof(*c));
	c->version = 1;
	c->created = (int64_t)time(NULL);
	c->encrypted = encrypted;
	c->image_chunk = 8u << 10;
	c->cdc_min = 256u << 10;
	c->cdc_avg = 1u << 20;
	c->cdc_max = 4u << 20;
	c->frame_size = 512u << 10;
	c->pack_size = 16u << 20;
	c->zstd_level = 1;
	return lb_random(c->repo_id, sizeof(c->repo_id));
}

void lb_config_encode(const struct lb_repo_config *c, uint8_t out[LB_CONFIG_SIZE])
{
	memset(out, 0, LB_CONFIG_SIZE);
	memcpy(out, config_magic, 8);
	lb_put_le32(out + 8, c->version);
	lb_put_le32(out + 12, LB_CONFIG_SIZE);
	memcpy(out + 16, c->repo_id, LB_ID_LEN);
	lb_put_le64(out + 48, (uint64_t)c->created);
	lb_put_le32(out + 56, c->encrypted ? 1 : 0);
	lb_put_le32(out + 60, c->image_chunk);
	lb_put_le32(out + 64, c->cdc_min);
	lb_put_le32(out + 68, c->cdc_avg);
	lb_put_le32(out + 72, c->cdc_max);
	lb_put_le32(out + 76, c->frame_size);
	lb_put_le32(out + 80, c->pack_size);
	lb_put_le32(out + 84, (uint32_t)c->zstd_level);
	lb_put_le32(out + 124, lb_crc32c(0, out, 124));
}

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int lb_config_decode(const uint8_t *b, size_t len, struct lb_repo_config *c)
{
	memset(c, 0, sizeof(*c));
	if (len < 16 || memcmp(b, config_magic, 8))
		return lb_err(-EBADMSG, "config", "is -r the repository's folder?",
			      "not a lifeboat repository (no config magic)");
	c->version = lb_le32(b + 8);
	if (c->version > 1)
		return lb_err(-ENOTSUP, "config", "upgrade lifeboat",
			      "the repository has format version %u; this lifeboat reads version 1",
			      c->version);
	if (c->version != 1 || len != LB_CONFIG_SIZE || lb_le32(b + 12) != LB_CONFIG_SIZE)
		return lb_err(-EBADMSG, "config", HINT_DAMAGED, "bad version or length");
	if (lb_le32(b + 124) != lb_crc32c(0, b, 124))
		return lb_err(-EBADMSG, "config", HINT_DAMAGED, "checksum mismatch");
	memcpy(c->repo_id, b + 16, LB_ID_LEN);
	c->created = (int64_t)lb_le64(b + 48);
	c->encrypted = lb_le32(b + 56) & 1;
	c->image_chunk = lb_le32(b + 60);
	c->cdc_min = lb_le32(b + 64);
	c->cdc_avg = lb_le32(b + 68);
	c->cdc_max = lb_le32(b + 72);
	c->frame_size = lb_le32(b + 76);
	c->pack_size = lb_le32(b + 80);
	c->zstd_level = (int32_t)lb_le32(b + 84);
	if (!pow2(c->image_chunk) || c->image_chunk < 4096 || c->image_chunk > (1u << 20) ||
	    !pow2(c->cdc_avg) || c->cdc_min < 64 || c->cdc_min >= c->cdc_avg ||
	    c->cdc_avg >= c->cdc_max || c->cdc_max > (64u << 20) || c->frame_size < (64u << 10) ||
	    c->frame_size > (8u << 20) || c->frame_size < c->image_chunk ||
	    c->pack_size < c->frame_size || c->pack_size > (1u << 30) || c->zstd_level < -7 ||
	    c->zstd_level > 19)
		return lb_err(-EBADMSG, "config", HINT_DAMAGED, "a parameter is out of range");
	return 0;
}

static void keys_aad(const uint8_t repo_id[LB_ID_LEN], uint8_t aad[13 + LB_ID_LEN])
{
	memcpy(aad, "lifeboat-keys", 13);
	memcpy(aad + 13, repo_id, LB_ID_LEN);
}

int lb_keyfile_make(const struct lb_repo_config *c, const struct lb_keys *keys,
		    const char *password, struct lb_keyfile *kf)
{
	struct lb_aead_key k = {.encrypted = true};
	uint8_t aad[13 + LB_ID_LEN], plain[2 * LB_KEY_LEN];
	const char *fast = getenv("LIFEBOAT_KDF_FAST");
	int r;

	memset(kf, 0, sizeof(*kf));
	memcpy(kf->repo_id, c->repo_id, LB_ID_LEN);
	kf->created = (int64_t)time(NULL);
	if (!c->encrypted)
		return 0;
	kf->kdf = 1;
	kf->ops = fast && *fast == '1' ? 1 : LB_KDF_OPS;
	kf->mem = fast && *fast == '1' ? 8192 : LB_KDF_MEM;
	r = lb_random(kf->salt, sizeof(kf->salt));
	if (r < 0)
		return r;
	r = lb_kdf(password, strlen(password), kf->salt, kf->ops, kf->mem, k.k);
	if (r < 0)
		return r;
	memcpy(plain, keys->enc, LB_KEY_LEN);
	memcpy(plain + LB_KEY_LEN, keys->mac, LB_KEY_LEN);
	keys_aad(c->repo_id, aad);
	r = lb_seal(&k, aad, sizeof(aad), plain, sizeof(plain), kf->sealed);
	memset(plain, 0, sizeof(plain));
	memset(&k, 0, sizeof(k));
	return r;
}

void lb_keyfile_encode(const struct lb_keyfile *kf, uint8_t out[LB_KEYFILE_SIZE])
{
	memset(out, 0, LB_KEYFILE_SIZE);
	memcpy(out, keys_magic, 8);
	lb_put_le32(out + 8, 1);
	lb_put_le32(out + 12, LB_KEYFILE_SIZE);
	memcpy(out + 16, kf->repo_id, LB_ID_LEN);
	lb_put_le64(out + 48, (uint64_t)kf->created);
	lb_put_le32(out + 56, kf->kdf);
	lb_put_le32(out + 60, kf->ops);
	lb_put_le64(out + 64, kf->mem);
	memcpy(out + 72, kf->salt, LB_SALT_LEN);
	memcpy(out + 88, kf->sealed, sizeof(kf->sealed));
	lb_put_le32(out + 252, lb_crc32c(0, out, 252));
}

int lb_keyfile_decode(const uint8_t *b, size_t len, struct lb_keyfile *kf)
{
	memset(kf, 0, sizeof(*kf));
	if (len != LB_KEYFILE_SIZE || memcmp(b, keys_magic, 8) || lb_le32(b + 8) != 1 ||
	    lb_le32(b + 12) != LB_KEYFILE_SIZE)
		return lb_err(-EBADMSG, "key", HINT_DAMAGED, "not a lifeboat key record");
	if (lb_le32(b + 252) != lb_crc32c(0, b, 252))
		return lb_err(-EBADMSG, "key", HINT_DAMAGED, "checksum mismatch");
	memcpy(kf->repo_id, b + 16, LB_ID_LEN);
	kf->created = (int64_t)lb_le64(b + 48);
	kf->kdf = lb_le32(b + 56);
	kf->ops = lb_le32(b + 60);
	kf->mem = lb_le64(b + 64);
	memcpy(kf->salt, b + 72, LB_SALT_LEN);
	memcpy(kf->sealed, b + 88, sizeof(kf->sealed));
	if (kf->kdf > 1)
		return lb_err(-EBADMSG, "key", HINT_DAMAGED, "unknown key derivation %u", kf->kdf);
	return 0;
}

int lb_keyfile_open(const struct lb_repo_config *c, const struct lb_keyfile *kf,
		    const char *password, struct lb_keys *keys)
{
	struct lb_aead_key k = {.encrypted = true};
	uint8_t aad[13 + LB_ID_LEN], plain[2 * LB_KEY_LEN];
	int r;

	memset(keys, 0, sizeof(*keys));
	if (memcmp(kf->repo_id, c->repo_id, LB_ID_LEN))
		return lb_err(-EBADMSG, "key", HINT_DAMAGED,
			      "the key record belongs to another repository");
	if (!c->encrypted || kf->kdf == 0) {
		if (c->encrypted)
			return lb_err(-EBADMSG, "key", HINT_DAMAGED,
				      "an encrypted repository with an unprotected key record");
		keys->encrypted = false;
		return 0;
	}
	r = lb_kdf(password, strlen(password), kf->salt, kf->ops, kf->mem, k.k);
	if (r < 0)
		return r;
	keys_aad(c->repo_id, aad);
	r = lb_unseal(&k, aad, sizeof(aad), kf->sealed, sizeof(kf->sealed), plain);
	memset(&k, 0, sizeof(k));
	if (r == -EBADMSG)
		return lb_err(-EACCES, "password",
			      "check LIFEBOAT_PASSWORD, LIFEBOAT_PASSWORD_FILE or --password-file",
			      "wrong password (it does not open the repository's key)");
	if (r < 0)
		return r;
	keys->encrypted = true;
	memcpy(keys->enc, plain, LB_KEY_LEN);
	memcpy(keys->mac, plain + LB_KEY_LEN, LB_KEY_LEN);
	memset(plain, 0, sizeof(plain));
	return 0;
}
