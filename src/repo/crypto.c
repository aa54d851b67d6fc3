/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "repo/crypto.h"
#include "base/err.h"
#include "base/sha256.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

int lb_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return lb_err(-EIO, "random", NULL, "getrandom failed: %s",
				      strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int lb_keys_generate(struct lb_keys *k, bool encrypted)
{
	memset(k, 0, sizeof(*k));
	k->encrypted = encrypted;
	if (!encrypted)
		return 0;
	if (lb_random(k->enc, sizeof(k->enc)) < 0 || lb_random(k->mac, sizeof(k->mac)) < 0)
		return -EIO;
	return 0;
}

int lb_aead_derive(const struct lb_keys *keys, const char *label, const uint8_t *salt,
		   size_t salt_len, struct lb_aead_key *out)
{
	uint8_t msg[64 + 256];
	size_t ll = strlen(label);
	unsigned int n = 0;

	memset(out, 0, sizeof(*out));
	out->encrypted = keys->encrypted;
	if (!keys->encrypted)
		return 0;
	if (ll > 64 || salt_len > 256)
		return lb_err(-EINVAL, "key derivation", NULL, "label or salt too long");
	memcpy(msg, label, ll);
	memcpy(msg + ll, salt, salt_len);
	if (!HMAC(EVP_sha256(), keys->enc, LB_KEY_LEN, msg, ll + salt_len, out->k, &n) ||
	    n != LB_KEY_LEN)
		return lb_err(-ENOMEM, "key derivation", NULL,
			      "HMAC-SHA-256 failed (out of memory?)");
	return 0;
}

/* The unencrypted "tag": SHA-256(aad || pt), first 16 bytes. */
static int plain_tag(const void *aad, size_t aad_len, const void *pt, size_t len,
		     uint8_t tag[LB_SEAL_TAG])
{
	struct lb_sha256 h;
	uint8_t d[LB_SHA256_LEN];
	int r;

	lb_sha256_init(&h);
	lb_sha256_update(&h, aad, aad_len);
	lb_sha256_update(&h, pt, len);
	r = lb_sha256_final(&h, d);
	if (r < 0)
		return r;
	memcpy(tag, d, LB_SEAL_TAG);
	return 0;
}

int lb_seal(const struct lb_aead_key *key, const void *aad, size_t aad_len, const void *pt,
	    size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c;
	int n = 0, r = -EIO;

	if (len > INT32_MAX || aad_len > INT32_MAX)
		return -EINVAL;
	if (!key->encrypted) {
		memset(out, 0, LB_SEAL_NONCE);
		memmove(out + LB_SEAL_NONCE, pt, len);
		return plain_tag(aad, aad_len, out + LB_SEAL_NONCE, len, out + LB_SEAL_NONCE + len);
	}
	if (lb_random(out, LB_SEAL_NONCE) < 0)
		return -EIO;
	c = EVP_CIPHER_CTX_new();
	if (!c)
		return -ENOMEM;
	if (EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key->k, out) != 1 ||
	    (aad_len && EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_len) != 1) ||
	    EVP_EncryptUpdate(c, out + LB_SEAL_NONCE, &n, pt, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(c, out + LB_SEAL_NONCE + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, LB_SEAL_TAG, out + LB_SEAL_NONCE + len) !=
		    1)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return r;
}

int lb_unseal(const struct lb_aead_key *key, const void *aad, size_t aad_len, const uint8_t *in,
	      size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c;
	size_t n = len - LB_SEAL_OVERHEAD;
	int m = 0, r = -EBADMSG;

	if (len < LB_SEAL_OVERHEAD || len > INT32_MAX || aad_len > INT32_MAX)
		return -EBADMSG;
	if (!key->encrypted) {
		uint8_t tag[LB_SEAL_TAG];

		static const uint8_t zero[LB_SEAL_NONCE];

		r = plain_tag(aad, aad_len, in + LB_SEAL_NONCE, n, tag);
		if (r < 0)
			return r;
		if (CRYPTO_memcmp(tag, in + LB_SEAL_NONCE + n, LB_SEAL_TAG) ||
		    memcmp(in, zero, LB_SEAL_NONCE))
			return -EBADMSG;
		memmove(out, in + LB_SEAL_NONCE, n);
		return 0;
	}
	c = EVP_CIPHER_CTX_new();
	if (!c)
		return -ENOMEM;
	/* a failure before the tag check is OpenSSL's (memory), not damage */
	r = -ENOMEM;
	if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key->k, in) != 1 ||
	    (aad_len && EVP_DecryptUpdate(c, NULL, &m, aad, (int)aad_len) != 1) ||
	    EVP_DecryptUpdate(c, out, &m, in + LB_SEAL_NONCE, (int)n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, LB_SEAL_TAG,
				(void *)(in + LB_SEAL_NONCE + n)) != 1)
		goto out;
	r = -EBADMSG;
	if (EVP_DecryptFinal_ex(c, out + m, &m) != 1)
		goto out; /* the tag does not match */
	r = 0;
out:
	EVP_CIPHER_CTX_free(c);
	if (r < 0)
		memset(out, 0, n); /* never hand out unauthenticated plaintext */
	return r;
}

/*
 * HMAC with the key's inner and outer states computed once: per chunk, two
 * context copies instead of a full HMAC setup (chunks are small and many).
 */
struct lb_idhash {
	bool keyed;
	EVP_MD_CTX *inner, *outer, *tmp;
};

int lb_idhash_new(const struct lb_keys *k, struct lb_idhash **out)
{
	struct lb_idhash *h = calloc(1, sizeof(*h));
	uint8_t ipad[64], opad[64];

	if (!h)
		return -ENOMEM;
	h->keyed = k->encrypted;
	h->inner = EVP_MD_CTX_new();
	h->outer = EVP_MD_CTX_new();
	h->tmp = EVP_MD_CTX_new();
	if (!h->inner || !h->outer || !h->tmp)
		goto fail;
	memset(ipad, 0x36, sizeof(ipad));
	memset(opad, 0x5c, sizeof(opad));
	if (h->keyed)
		for (size_t i = 0; i < LB_KEY_LEN; i++) {
			ipad[i] ^= k->mac[i];
			opad[i] ^= k->mac[i];
		}
	if (EVP_DigestInit_ex(h->inner, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(h->outer, EVP_sha256(), NULL) != 1)
		goto fail;
	if (h->keyed && (EVP_DigestUpdate(h->inner, ipad, sizeof(ipad)) != 1 ||
			 EVP_DigestUpdate(h->outer, opad, sizeof(opad)) != 1))
		goto fail;
	OPENSSL_cleanse(ipad, sizeof(ipad));
	OPENSSL_cleanse(opad, sizeof(opad));
	*out = h;
	return 0;
fail:
	lb_idhash_free(h);
	return -ENOMEM;
}

int lb_idhash(struct lb_idhash *h, const void *data, size_t len, uint8_t id[LB_ID_LEN])
{
	uint8_t inner[32];
	unsigned int n = 0;

	if (EVP_MD_CTX_copy_ex(h->tmp, h->inner) != 1 || EVP_DigestUpdate(h->tmp, data, len) != 1)
		return -ENOMEM;
	if (!h->keyed)
		return EVP_DigestFinal_ex(h->tmp, id, &n) == 1 ? 0 : -ENOMEM;
	if (EVP_DigestFinal_ex(h->tmp, inner, &n) != 1 ||
	    EVP_MD_CTX_copy_ex(h->tmp, h->outer) != 1 ||
	    EVP_DigestUpdate(h->tmp, inner, sizeof(inner)) != 1 ||
	    EVP_DigestFinal_ex(h->tmp, id, &n) != 1)
		return -ENOMEM;
	return 0;
}

void lb_idhash_free(struct lb_idhash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->inner);
	EVP_MD_CTX_free(h->outer);
	EVP_MD_CTX_free(h->tmp);
	free(h);
}

int lb_kdf(const char *password, size_t len, const uint8_t salt[LB_SALT_LEN], uint64_t ops,
	   uint64_t mem, uint8_t out[LB_KEY_LEN])
{
	static int init;

	if (!init) {
		if (sodium_init() < 0)
			return lb_err(-EIO, "libsodium", NULL, "cannot initialise libsodium");
		init = 1;
	}
	if (ops < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
	    ops > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
	    mem < crypto_pwhash_argon2id_MEMLIMIT_MIN || mem > (4ULL << 30))
		return lb_err(-EINVAL, "key", "the key file is damaged",
			      "Argon2id parameters out of range (ops %llu, memory %llu)",
			      (unsigned long long)ops, (unsigned long long)mem);
	if (crypto_pwhash(out, LB_KEY_LEN, password, len, salt, ops, (size_t)mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return lb_err(-ENOMEM, "key", "free some memory", "Argon2id needs %llu MiB",
			      (unsigned long long)(mem >> 20));
	return 0;
}

char *lb_id_hex(const uint8_t id[LB_ID_LEN], char out[2 * LB_ID_LEN + 1])
{
	return lb_hex(id, LB_ID_LEN, out);
}
