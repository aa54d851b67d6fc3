/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crypto.h - the repository's cryptography, behind a small interface.
 *
 *  - chunk IDs: HMAC-SHA-256 of the chunk under the repository's MAC key, so
 *    that the IDs do not reveal whether the repository holds a known file
 *    (plain SHA-256 in an unencrypted repository);
 *  - sealing: AES-256-GCM (OpenSSL, AES-NI) with a random 96-bit nonce and
 *    caller-chosen associated data; a sealed object is
 *        nonce (12) || ciphertext (n) || tag (16)
 *    Every pack has its own key, derived from the repository key and the
 *    pack's random salt, so the number of messages per key stays far below
 *    GCM's random-nonce limit. In an unencrypted repository the "nonce" is
 *    zero, the "ciphertext" is the plaintext and the "tag" is the first 16
 *    bytes of SHA-256(aad || plaintext): the same layout, checked the same way
 *    (against damage, not against an attacker);
 *  - the password: Argon2id (libsodium crypto_pwhash) over a random salt.
 */
#ifndef LB_REPO_CRYPTO_H
#define LB_REPO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LB_ID_LEN 32
#define LB_KEY_LEN 32
#define LB_SALT_LEN 16
#define LB_SEAL_NONCE 12
#define LB_SEAL_TAG 16
#define LB_SEAL_OVERHEAD (LB_SEAL_NONCE + LB_SEAL_TAG)

/* The repository's secrets, random at init, stored wrapped by the password key. */
struct lb_keys {
	bool encrypted;
	uint8_t enc[LB_KEY_LEN]; /* derives every sealing key */
	uint8_t mac[LB_KEY_LEN]; /* keys the chunk IDs */
};

/* One AEAD key (a repository key or a pack's subkey). */
struct lb_aead_key {
	bool encrypted;
	uint8_t k[LB_KEY_LEN];
};

/* Fill @buf with random bytes (getrandom). Returns 0 or -EIO. */
int lb_random(void *buf, size_t len);

/* New random keys. Returns 0 or -EIO. */
int lb_keys_generate(struct lb_keys *k, bool encrypted);

/*
 * The sealing key for @label ("pack", "index", "snapshot", "key") and @salt:
 * HMAC-SHA-256(keys->enc, label || salt). For an unencrypted repository,
 * encrypted is false and the key unused.
 */
int lb_aead_derive(const struct lb_keys *keys, const char *label, const uint8_t *salt,
		   size_t salt_len, struct lb_aead_key *out);

/*
 * Seal @len bytes of @pt into @out (room for len + LB_SEAL_OVERHEAD bytes).
 * In place is allowed: @pt == @out + LB_SEAL_NONCE (and for lb_unseal,
 * @out == @in + LB_SEAL_NONCE).
 * Returns 0, -ENOMEM, -EIO (OpenSSL failed).
 */
int lb_seal(const struct lb_aead_key *key, const void *aad, size_t aad_len, const void *pt,
	    size_t len, uint8_t *out);

/*
 * Open a sealed object of @len bytes into @out (room for len -
 * LB_SEAL_OVERHEAD). Returns 0, -EBADMSG (shorter than the overhead, or the
 * tag does not match: damaged, or the wrong key), -ENOMEM. Nothing is
 * recorded for -EBADMSG: the caller says what object it was.
 */
int lb_unseal(const struct lb_aead_key *key, const void *aad, size_t aad_len, const uint8_t *in,
	      size_t len, uint8_t *out);

/* Chunk IDs, reusable (one per thread): HMAC-SHA-256 or SHA-256. */
struct lb_idhash;
int lb_idhash_new(const struct lb_keys *k, struct lb_idhash **out);
int lb_idhash(struct lb_idhash *h, const void *data, size_t len, uint8_t id[LB_ID_LEN]);
void lb_idhash_free(struct lb_idhash *h);

/* Argon2id defaults; LIFEBOAT_KDF_FAST=1 in the environment (tests) uses the minimum. */
/*
 * 19 MiB and 3 passes: above OWASP's minimum for Argon2id (19 MiB, 2 passes),
 * about 0.1 s here, and small enough that the KDF is not what decides a
 * backup's peak memory. The parameters are stored with each key record.
 */
#define LB_KDF_OPS 3
#define LB_KDF_MEM (19u << 20)

/*
 * Derive a key from a password. Returns 0, -ENOMEM (libsodium could not
 * get the memory), -EINVAL (parameters out of libsodium's range).
 */
int lb_kdf(const char *password, size_t len, const uint8_t salt[LB_SALT_LEN], uint64_t ops,
	   uint64_t mem, uint8_t out[LB_KEY_LEN]);

/* Lower-case hex of an ID (65 bytes with the NUL). */
char *lb_id_hex(const uint8_t id[LB_ID_LEN], char out[2 * LB_ID_LEN + 1]);

#endif
