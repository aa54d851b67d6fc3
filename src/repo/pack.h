/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pack.h - frames and packs (format: docs/repository-format.md, "Frames and
 * packs").
 *
 * A frame is a run of chunks compressed (zstd, unless it does not pay) and
 * sealed as one unit; a pack is a store object holding frames and a sealed
 * trailer that lists them and the chunks in them. Everything read back is
 * checked: the AEAD tag of every frame and of the trailer, every length and
 * offset against the object's size, counts against caps.
 *
 * The writer is split so that a pipeline can compress and seal frames on
 * several threads: the pack and frame number of a frame are fixed when it is
 * started (lb_pack_next_frame), lb_frame_encode() is thread-safe and pure,
 * and sealed frames are appended in order (lb_pack_add_frame).
 *
 * Error codes (recorded with the pack's name): -EBADMSG (damaged: a tag, a
 * magic, a length), -ENODATA (the object is truncated), -EOVERFLOW (a count
 * or size beyond the caps), -ENOENT, -EIO, -ENOSPC, -ENOMEM.
 */
#ifndef LB_REPO_PACK_H
#define LB_REPO_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "repo/crypto.h"
#include "store/store.h"

#define LB_PACK_HEADER 32
#define LB_PACK_FOOTER 16
#define LB_FRAME_HEADER 8
#define LB_PACK_MAX_FRAMES 32	      /* a pack is closed after this many frames (writer) */
#define LB_PACK_READ_MAX_FRAMES 4096  /* frames a reader accepts in one trailer */
#define LB_FRAME_MAX_RAW (8u << 20)   /* raw bytes in one frame, at most */
#define LB_PACK_MAX_CHUNKS (1u << 20) /* chunks listed in one trailer, at most */
/* chunks in one frame, at most (writer): so that a full pack stays within LB_PACK_MAX_CHUNKS */
#define LB_FRAME_MAX_CHUNKS (LB_PACK_MAX_CHUNKS / LB_PACK_MAX_FRAMES)
#define LB_PACK_MAX_TRAILER (64u << 20) /* bytes of a sealed trailer a reader accepts */
/*
 * A frame never grows: one that zstd does not shrink is stored raw, so a
 * sealed frame has at most LB_FRAME_OVERHEAD + its raw length bytes.
 */
#define LB_FRAME_OVERHEAD (LB_SEAL_OVERHEAD + LB_FRAME_HEADER)

enum lb_chunk_type {
	LB_CHUNK_DATA = 0, /* file or disk content */
	LB_CHUNK_TREE = 1, /* metadata: image map blobs, tree blobs */
};

struct lb_frame_info {
	uint64_t off;	     /* of the sealed frame in the pack */
	uint32_t sealed_len; /* nonce + ciphertext + tag */
	uint32_t raw_len;    /* the chunks' bytes, decompressed */
};

struct lb_chunk_ref {
	uint8_t id[LB_ID_LEN];
	uint32_t frame; /* frame number in the pack */
	uint32_t off;	/* offset in the frame's raw bytes */
	uint32_t len;
};

/* What a trailer (or an index object) says about one pack. Release with lb_pack_info_release(). */
struct lb_pack_info {
	uint8_t id[LB_ID_LEN];
	uint8_t salt[LB_SALT_LEN];
	uint64_t size; /* bytes of the pack object */
	uint32_t nframes;
	struct lb_frame_info *frames;
	uint32_t nchunks;
	struct lb_chunk_ref *chunks;
};

void lb_pack_info_release(struct lb_pack_info *p);

/* "data/3f/3f5c...": the store name of pack @id (@out holds 80 bytes). */
char *lb_pack_name(const uint8_t id[LB_ID_LEN], char out[80]);

/* The pack key (from the repository keys and the pack's salt). */
int lb_pack_key(const struct lb_keys *keys, const uint8_t salt[LB_SALT_LEN],
		struct lb_aead_key *out);

/*
 * Encode a frame: compress @raw (zstd at @level; stored raw if that saves
 * less than 3 %, decided cheaply for incompressible data: libzstd 1.5+
 * skips it by itself, with older ones frames over 128 KiB are first judged
 * by four 16 KiB samples at level 1) and seal it with the pack key, aad =
 * "lifeboat-frame" | salt | frame number. Returns 0 and a malloc'ed sealed
 * frame in @out/@out_len (at most raw_len + LB_FRAME_OVERHEAD bytes; free()
 * it), -EINVAL (@raw_len over LB_FRAME_MAX_RAW), -ENOMEM, -EIO. Thread-safe:
 * each thread keeps its own zstd context (freed when the thread exits).
 */
int lb_frame_encode(const struct lb_aead_key *pk, const uint8_t salt[LB_SALT_LEN],
		    uint32_t frame_no, int level, const void *raw, size_t raw_len, uint8_t **out,
		    size_t *out_len);

/* Sampling before compressing: 0 as libzstd's version says (default), 1 always, -1 never. */
void lb_frame_set_sampling(int mode);

/*
 * Decode a sealed frame into @raw (room for @raw_len, the length the trailer
 * gives). Returns 0, -EBADMSG (tag, codec, or length mismatch; recorded with
 * the object "frame N"), -ENOMEM. Thread-safe. Nothing is written past
 * @raw_len; on error @raw holds nothing meaningful.
 */
int lb_frame_decode(const struct lb_aead_key *pk, const uint8_t salt[LB_SALT_LEN],
		    uint32_t frame_no, const uint8_t *sealed, size_t len, uint8_t *raw,
		    size_t raw_len);

/* ---- writing a pack ----------------------------------------------------------- */

struct lb_pack_writer;

/*
 * Start a pack: random ID and salt, the store object created (not visible
 * until lb_pack_finish), the header written. Returns 0 or a store error.
 * The writer is for one thread (frames may be encoded on others).
 * Memory stays flat: it keeps the frame and chunk lists, not the frames.
 */
int lb_pack_writer_new(struct lb_store *s, const struct lb_keys *keys, struct lb_pack_writer **out);

const uint8_t *lb_pack_writer_id(const struct lb_pack_writer *w);
const uint8_t *lb_pack_writer_salt(const struct lb_pack_writer *w);
const struct lb_aead_key *lb_pack_writer_key(const struct lb_pack_writer *w);

/*
 * Reserve the next frame number (0, 1, ...; at most LB_PACK_MAX_FRAMES).
 * Returns it, or -ENOSPC when the pack is full (finish it, start another).
 */
int lb_pack_next_frame(struct lb_pack_writer *w);

/*
 * Append sealed frame @frame_no (frames must come in the order they were
 * reserved) with the @n chunks it holds (copied; their .frame is set here).
 * Returns 0, -EINVAL (out of order, or a length or chunk that does not fit
 * the frame, or more than LB_FRAME_MAX_CHUNKS chunks: nothing written), -ENOMEM,
 * or a store error (the pack is then broken: every later call returns that
 * error; abort it).
 */
int lb_pack_add_frame(struct lb_pack_writer *w, uint32_t frame_no, const uint8_t *sealed,
		      size_t len, uint32_t raw_len, const struct lb_chunk_ref *chunks, size_t n);

/* Bytes written so far. */
uint64_t lb_pack_writer_size(const struct lb_pack_writer *w);

/*
 * Write the trailer and footer, commit the object, and describe the pack in
 * @info (for the index; release it with lb_pack_info_release). Frees the
 * writer, whatever it returns; on error nothing is visible and @info is
 * empty. Returns 0, -EINVAL (a reserved frame was never added), -ENOMEM, or
 * a store error.
 */
int lb_pack_finish(struct lb_pack_writer *w, struct lb_pack_info *info);

/* Throw the pack away (nothing becomes visible). NULL-safe. */
void lb_pack_abort(struct lb_pack_writer *w);

/* ---- reading ---------------------------------------------------------------------- */

/*
 * Read and check the header, footer and trailer of the pack named by @id:
 * fill @info (release it with lb_pack_info_release). Four store calls: stat,
 * footer, header, trailer. Returns 0, -ENOENT, -ENODATA (shorter than its
 * footer says), -EBADMSG (damaged, or sealed with another key), -EOVERFLOW
 * (a trailer over LB_PACK_MAX_TRAILER, or counts over the caps), -EIO,
 * -ENOMEM.
 */
int lb_pack_read_info(struct lb_store *s, const struct lb_keys *keys, const uint8_t id[LB_ID_LEN],
		      struct lb_pack_info *info);

/*
 * Read frame @frame_no of a pack (a ranged get) and decode it into @raw
 * (room for f->raw_len). Returns 0, -ENOENT, -ENODATA, -EBADMSG (recorded
 * with the pack's name and the frame number), -EIO, -ENOMEM. Thread-safe.
 */
int lb_pack_read_frame(struct lb_store *s, const struct lb_aead_key *pk,
		       const uint8_t id[LB_ID_LEN], const uint8_t salt[LB_SALT_LEN],
		       uint32_t frame_no, const struct lb_frame_info *f, uint8_t *raw);

/*
 * Parse a trailer's plaintext (fuzzed). Checks counts against the caps
 * (LB_PACK_READ_MAX_FRAMES, LB_PACK_MAX_CHUNKS, LB_FRAME_MAX_RAW: -EOVERFLOW),
 * the length against the counts, every frame inside [LB_PACK_HEADER,
 * @trailer_off) without overlap and in order, every sealed length between
 * LB_FRAME_OVERHEAD and raw length + LB_FRAME_OVERHEAD, every chunk inside
 * its frame's raw length (-EBADMSG). Fills the frames and chunks of @out
 * (zeroing the rest; release it with lb_pack_info_release, also on error).
 * Returns 0, -EBADMSG, -EOVERFLOW, -ENOMEM (recorded).
 */
int lb_pack_trailer_parse(const uint8_t *buf, size_t len, uint64_t trailer_off,
			  struct lb_pack_info *out);

/* Encode a trailer's plaintext (malloc'ed; free() it). Returns 0, -ENOMEM, -EOVERFLOW. */
int lb_pack_trailer_encode(const struct lb_pack_info *p, uint8_t **out, size_t *len);

/*
 * Where the trailer of a pack of @pack_size bytes starts, given the length of
 * its plaintext (the footer and the seal follow it). Returns 0, or -EBADMSG
 * if the pack is too small to hold it.
 */
int lb_pack_trailer_offset(uint64_t pack_size, size_t trailer_len, uint64_t *off);

/* ---- zstd with one context per thread (frames, index objects) ------------------- */

/* The most @len bytes compress to (room to give lb_zstd_compress). */
size_t lb_zstd_bound(size_t len);

/* Compress @len bytes at @level into @dst (room for @cap). Returns 0, -ENOMEM, -EIO. */
int lb_zstd_compress(int level, const void *src, size_t len, void *dst, size_t cap,
		     size_t *out_len);

/*
 * The decompressed size of @src, which must be exactly one zstd frame that
 * records its size. Returns 0 or -EBADMSG (recorded).
 */
int lb_zstd_frame_size(const void *src, size_t len, uint64_t *size);

/*
 * Decompress @src (exactly one zstd frame) into exactly @dst_len bytes:
 * anything else is -EBADMSG (recorded); -ENOMEM.
 */
int lb_zstd_decompress(const void *src, size_t len, void *dst, size_t dst_len);

#endif
