/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ntfs_fs.c - the fs.h backend for NTFS, through libntfs-3g over an lb_dev
 * (the device operations and log capture are ntfs.c's, see ntfs_int.h).
 *
 * Names. NTFS keeps every name as UTF-16 in the directory's B+tree, sorted
 * by the volume's $UpCase table. A lookup first asks for the exact name
 * (libntfs-3g in case-sensitive mode), then, if there is none, for any name
 * equal under $UpCase (the same B+tree walk with the volume's case
 * sensitivity switched off for that one call; libntfs-3g's own ignore-case
 * mode is never turned on because it makes readdir lower-case every name).
 * The stored spelling then comes from the file's own FILE_NAME attributes in
 * that directory: exact match first, then a case-insensitive one, then (for
 * an 8.3 name typed by the user) the long name. Every path operation walks
 * from the root; libntfs-3g's inode cache keeps that cheap.
 *
 * Opening. Read-only works on any volume libntfs-3g can read (journal not
 * clean or hibernated included). For writing, libntfs-3g refuses a volume
 * whose journal is not clean or that is hibernated; then a read-only look
 * tells which it was: hibernated is refused always, a journal not clean is
 * reset with LB_FS_FIX_DIRTY the way ntfsfix does it (forensic mount, empty
 * $LogFile, set the dirty flag so that Windows runs chkdsk at next boot).
 *
 * Errors: a failure of the device below (recorded by it) is reported as
 * such; other libntfs-3g failures mean a damaged file system (-EBADMSG)
 * unless errno says otherwise (-ENOMEM, -ENOSPC, ...).
 */
#include "fs/ntfs_int.h"

#include "fs/fs_int.h"
#include "fs/ntfs.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/util.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define LB_NTFS_REPLACE_MAX (512ULL << 20)  /* lb_fs_replace() cap */
#define LB_NTFS_DIR_MAX (1u << 22)	    /* entries one readdir collects */
#define LB_NTFS_REPARSE_MAX (16 * 1024 + 8) /* a reparse point's data is at most 16 KiB */
#define LB_NTFS_NAME_MAX 255		    /* UTF-16 units */
#define LB_NTFS_UTF8_NAME_MAX (LB_NTFS_NAME_MAX * 3 + 1)
#define LB_NTFS_LINK_MAX 4096 /* UTF-16 units of a link target we read */
#define LB_NTFS_FIRST_USER 24 /* MFT records below are (or are reserved for) metadata */

/* Reparse tags (host order). */
#define TAG_MOUNT_POINT 0xA0000003u
#define TAG_SYMLINK 0xA000000Cu
#define TAG_LX_SYMLINK 0xA000001Du
#define TAG_HSM 0xC0000004u
#define TAG_HSM2 0x80000006u
#define TAG_SIS 0x80000007u
#define TAG_WIM 0x80000008u
#define TAG_DEDUP 0x80000013u
#define TAG_WOF 0x80000017u
#define TAG_CLOUD 0x9000001Au /* and 0x9000101A ... 0x9000F01A */

/* Windows file attribute bits lifeboat reports beside what $STANDARD_INFORMATION holds. */
#define WIN_ATTR_DIRECTORY 0x00000010u
#define NTFS_ATTR_INDEX_BITS 0x30000000u /* FILE_ATTR_I30_INDEX_PRESENT | VIEW_INDEX */

static const struct lb_fs_ops ntfs_fs_ops;

static ntfs_volume *fs_vol(const struct lb_fs *fs)
{
	return fs->priv;
}

/* ---- errors ------------------------------------------------------------- */

/* Start an operation: keep the caller's error record, begin with an empty one. */
static void op_begin(struct lb_error *saved)
{
	lb_err_save(saved);
	lb_err_clear();
	lb_ntfs_log_begin();
}

/* End it: on success the caller's record comes back. */
static ssize_t op_end(const struct lb_error *saved, ssize_t r)
{
	if (r >= 0)
		lb_err_restore(saved);
	return r;
}

static const char *ntfs_msg(void)
{
	return lb_ntfs_last_message();
}

/*
 * Translate a libntfs-3g failure (@e is its errno) while doing @what to
 * @object, once. A failure the device below recorded wins: the disk failed,
 * not the file system.
 */
static int translate_ntfs_err(int e, const char *object, const char *what)
{
	const char *m = ntfs_msg();
	const char *sep = m[0] ? ": " : "";
	int recorded = lb_err_last()->code;

	if (!e)
		e = EIO;
	if (recorded < 0) {
		lb_err_context("%s", object);
		return recorded; /* visibly negative, for the static analyzer */
	}
	if (lb_ntfs_oom_seen())
		e = ENOMEM;
	switch (e) {
	case ENOMEM:
		return lb_err(-ENOMEM, object, NULL, "%s: out of memory", what);
	case ENOSPC:
		return lb_err(-ENOSPC, object, "free space on the volume first",
			      "%s: no room left on the volume", what);
	case EROFS:
		return lb_err(-EROFS, object, NULL, "%s: the volume is read-only", what);
	case EACCES:
		return lb_err(-ENOTSUP, object, NULL,
			      "%s: the file is encrypted (EFS); lifeboat cannot read or write it",
			      what);
	case EOPNOTSUPP:
		return lb_err(-ENOTSUP, object, NULL, "%s: libntfs-3g does not support this%s%s",
			      what, sep, m);
	case EFBIG:
		return lb_err(-EFBIG, object, NULL, "%s: too large for the volume", what);
	default:
		return lb_err(-EBADMSG, object, "run \"chkdsk /f\" on the volume in Windows",
			      "%s: the file system is damaged (%s)%s%s", what, strerror(e), sep, m);
	}
}

/* Always a negative errno: said where the static analyzer can see it. */
#define ntfs_fail(e, object, what)                                         \
	({                                                                 \
		int ntfs_fail_r_ = translate_ntfs_err((e), (object), (what)); \
		ntfs_fail_r_ < 0 ? ntfs_fail_r_ : -EIO;                    \
	})

/* ---- names ---------------------------------------------------------------- */

/*
 * Decode @n bytes of UTF-8 into at most @cap UTF-16LE units. Returns the
 * number of units, -EINVAL (not UTF-8: overlong forms, surrogates and code
 * points above U+10FFFF are refused) or -ENAMETOOLONG.
 */
static int utf8_to_ucs(const char *s, size_t n, ntfschar *out, int cap)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	int o = 0;

	while (p < end) {
		uint32_t cp;
		int more;

		if (*p < 0x80) {
			cp = *p++;
			more = 0;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p++ & 0x1f;
			more = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p++ & 0x0f;
			more = 2;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p++ & 0x07;
			more = 3;
		} else {
			return -EINVAL;
		}
		if (end - p < more)
			return -EINVAL;
		for (int i = 0; i < more; i++) {
			if ((*p & 0xc0) != 0x80)
				return -EINVAL;
			cp = cp << 6 | (*p++ & 0x3f);
		}
		if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) ||
		    (more == 3 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -EINVAL;
		if (cp >= 0x10000) {
			if (o + 2 > cap)
				return -ENAMETOOLONG;
			cp -= 0x10000;
			out[o++] = cpu_to_le16((u16)(0xd800 | (cp >> 10)));
			out[o++] = cpu_to_le16((u16)(0xdc00 | (cp & 0x3ff)));
		} else {
			if (o + 1 > cap)
				return -ENAMETOOLONG;
			out[o++] = cpu_to_le16((u16)cp);
		}
	}
	return o;
}

/* UTF-16LE name -> UTF-8 in @out (NUL-terminated, capacity @cap). Returns the length. */
static size_t ucs_to_utf8(const ntfschar *name, int len, char *out, size_t cap)
{
	return lb_utf16le_to_utf8((const uint8_t *)name, (size_t)len, out, cap);
}

static u16 upcase_unit(const ntfs_volume *vol, u16 c)
{
	if (vol->upcase && c < vol->upcase_len)
		return le16_to_cpu(vol->upcase[c]);
	return c;
}

static bool names_equal(const ntfschar *a, int alen, const ntfschar *b, int blen)
{
	return alen == blen && !memcmp(a, b, (size_t)alen * sizeof(ntfschar));
}

static bool names_equal_ic(const ntfs_volume *vol, const ntfschar *a, int alen, const ntfschar *b,
			   int blen)
{
	if (alen != blen)
		return false;
	for (int i = 0; i < alen; i++)
		if (upcase_unit(vol, le16_to_cpu(a[i])) != upcase_unit(vol, le16_to_cpu(b[i])))
			return false;
	return true;
}

static uint32_t ntfs_fs_upcase(const struct lb_fs *fs, uint32_t cp)
{
	if (cp > 0xffff)
		return cp;
	return upcase_unit(fs_vol(fs), (u16)cp);
}

/* ---- what a lookup finds ------------------------------------------------ */

struct nent {
	ntfs_inode *ni;	 /* open */
	ntfs_inode *dir; /* its directory, open only with LOOKUP_KEEP_DIR */
	bool is_root;
	u64 parent; /* MFT number of the directory it was found in */
	/* the name in that directory as stored: the long (non-DOS) name */
	ntfschar name[LB_NTFS_NAME_MAX];
	int name_len;
	/* its 8.3 name in that directory, if it has one besides the long name */
	ntfschar dos[12];
	int dos_len;
	uint32_t nlink; /* names, not counting 8.3 ones */
};

static void nent_release(ntfs_volume *vol, struct nent *e)
{
	(void)vol;
	if (e->ni)
		ntfs_inode_close(e->ni);
	if (e->dir)
		ntfs_inode_close(e->dir);
	e->ni = e->dir = NULL;
}

/*
 * Read the FILE_NAME attributes of @ni: count its names, and pick the one
 * in directory @parent that @want (the name looked up, may be NULL) stands
 * for: exact spelling first, then equal under $UpCase, then (when @want was
 * the 8.3 name, or the index and the record disagree) the first long name
 * there. Returns 0 or a negative errno (recorded about @object).
 */
static int scan_names(ntfs_volume *vol, ntfs_inode *ni, u64 parent, const ntfschar *want,
		      int want_len, struct nent *e, const char *object)
{
	ntfs_attr_search_ctx *ctx = ntfs_attr_get_search_ctx(ni, NULL);
	int best = 0; /* 3 exact, 2 equal ignoring case, 1 another long name */
	int r = 0;

	e->name_len = 0;
	e->dos_len = 0;
	e->nlink = 0;
	if (!ctx)
		return ntfs_fail(errno, object, "reading the file's names");
	while (!ntfs_attr_lookup(AT_FILE_NAME, AT_UNNAMED, 0, CASE_SENSITIVE, 0, NULL, 0, ctx)) {
		const ATTR_RECORD *a = ctx->attr;
		u32 alen = le32_to_cpu(a->length);
		u16 voff = le16_to_cpu(a->value_offset);
		u32 vlen = le32_to_cpu(a->value_length);
		const FILE_NAME_ATTR *fn;
		ntfschar nm[LB_NTFS_NAME_MAX];
		int len, rank;

		if (a->non_resident || voff > alen || vlen > alen - voff ||
		    vlen < sizeof(FILE_NAME_ATTR)) {
			r = lb_err(-EBADMSG, object, "run \"chkdsk /f\" on the volume in Windows",
				   "MFT record %" PRIu64 " has a malformed file name attribute",
				   (uint64_t)ni->mft_no);
			goto out;
		}
		fn = (const FILE_NAME_ATTR *)((const u8 *)a + voff);
		if (sizeof(FILE_NAME_ATTR) + (size_t)fn->file_name_length * 2 > vlen ||
		    !fn->file_name_length) {
			r = lb_err(-EBADMSG, object, "run \"chkdsk /f\" on the volume in Windows",
				   "MFT record %" PRIu64
				   " has a file name longer than its attribute",
				   (uint64_t)ni->mft_no);
			goto out;
		}
		len = fn->file_name_length;
		memcpy(nm, (const u8 *)fn + sizeof(FILE_NAME_ATTR), (size_t)len * 2);
		if (fn->file_name_type != FILE_NAME_DOS)
			e->nlink++;
		if (MREF_LE(fn->parent_directory) != parent)
			continue;
		if (fn->file_name_type == FILE_NAME_DOS) {
			if (!e->dos_len && len <= (int)LB_ARRAY_SIZE(e->dos)) {
				memcpy(e->dos, nm, (size_t)len * 2);
				e->dos_len = len;
			}
			continue;
		}
		if (want && names_equal(nm, len, want, want_len))
			rank = 3;
		else if (want && names_equal_ic(vol, nm, len, want, want_len))
			rank = 2;
		else
			rank = 1;
		if (rank > best) {
			best = rank;
			memcpy(e->name, nm, (size_t)len * 2);
			e->name_len = len;
		}
	}
	if (errno != ENOENT) {
		r = ntfs_fail(errno, object, "reading the file's names");
		goto out;
	}
	if (!best)
		r = lb_err(-EBADMSG, object, "run \"chkdsk /f\" on the volume in Windows",
			   "MFT record %" PRIu64 " has no name in the directory that lists it",
			   (uint64_t)ni->mft_no);
out:
	ntfs_attr_put_search_ctx(ctx);
	return r;
}

/*
 * Find @uname in directory @dir: the exact spelling, else any name equal
 * under $UpCase (8.3 names included). Returns 0 and the MFT reference in
 * @mref, -ENOENT (not recorded), or another negative errno (recorded).
 */
static int find_child(ntfs_volume *vol, ntfs_inode *dir, const ntfschar *uname, int ulen, u64 *mref,
		      const char *object)
{
	u64 m = ntfs_inode_lookup_by_name(dir, uname, ulen);

	if (m == (u64)-1 && errno == ENOENT) {
		/* the same B+tree walk, comparing under $UpCase, for this call only */
		NVolClearCaseSensitive(vol);
		m = ntfs_inode_lookup_by_name(dir, uname, ulen);
		NVolSetCaseSensitive(vol);
	}
	if (m == (u64)-1) {
		if (errno == ENOENT)
			return -ENOENT;
		return ntfs_fail(errno, object, "looking the name up");
	}
	*mref = m;
	return 0;
}

enum {
	LOOKUP_KEEP_DIR = 1 << 0, /* leave the last component's directory open in e->dir */
};

/* Append "/name" (or "name" first) to the stored path; false if it does not fit. */
static bool stored_append(char *stored, size_t cap, size_t *len, const char *name)
{
	size_t n = strlen(name), add = n + (*len ? 1 : 0);

	if (!stored)
		return true;
	if (*len + add + 1 > cap)
		return false;
	if (*len)
		stored[(*len)++] = '/';
	memcpy(stored + *len, name, n + 1);
	*len += n;
	return true;
}

/*
 * Walk @path (normalized by fs.c: no leading '/', no empty components) from
 * the root. Fills @e with the open inode (and its directory with
 * LOOKUP_KEEP_DIR) and, if @stored is not NULL, the path as stored. Returns
 * 0 or a negative errno (recorded); on failure nothing is left open.
 */
static int resolve(struct lb_fs *fs, const char *path, unsigned flags, struct nent *e, char *stored,
		   size_t stored_cap)
{
	ntfs_volume *vol = fs_vol(fs);
	const char *p = path;
	size_t slen = 0;
	int r;

	memset(e, 0, sizeof(*e));
	if (stored) {
		if (!stored_cap)
			return lb_err(-ENAMETOOLONG, path, NULL, "no room for the stored path");
		stored[0] = '\0';
	}
	e->ni = ntfs_inode_open(vol, FILE_root);
	if (!e->ni)
		return ntfs_fail(errno, path, "opening the root directory");
	e->is_root = true;
	e->parent = FILE_root;
	e->nlink = 1;
	while (*p) {
		size_t n = strcspn(p, "/");
		bool last = !p[n];
		ntfschar uname[LB_NTFS_NAME_MAX];
		char utf8[LB_NTFS_UTF8_NAME_MAX];
		ntfs_inode *child;
		u64 mref = 0;
		int ulen;

		if (!(e->ni->mrec->flags & MFT_RECORD_IS_DIRECTORY)) {
			r = lb_err(-ENOTDIR, path, NULL, "\"%.*s\" is not a directory",
				   (int)(p - path - 1), path);
			goto fail;
		}
		ulen = utf8_to_ucs(p, n, uname, LB_NTFS_NAME_MAX);
		if (ulen == -ENAMETOOLONG) {
			r = lb_err(-ENOENT, path, NULL,
				   "\"%.*s\" not found (longer than NTFS allows)", (int)n, p);
			goto fail;
		}
		if (ulen < 0) {
			r = lb_err(-EINVAL, path, NULL, "the name \"%.*s\" is not valid UTF-8",
				   (int)n, p);
			goto fail;
		}
		r = find_child(vol, e->ni, uname, ulen, &mref, path);
		if (r == -ENOENT) {
			if (p == path)
				r = lb_err(-ENOENT, path, NULL, "no such file or directory");
			else
				r = lb_err(-ENOENT, path, NULL, "\"%.*s\" not found in \"%.*s\"",
					   (int)n, p, (int)(p - path - 1), path);
		}
		if (r < 0)
			goto fail;
		if (MREF(mref) == e->ni->mft_no) {
			r = lb_err(-EBADMSG, path, "run \"chkdsk /f\" on the volume in Windows",
				   "the entry \"%.*s\" points back to its own directory", (int)n,
				   p);
			goto fail;
		}
		child = ntfs_inode_open(vol, mref);
		if (!child) {
			r = ntfs_fail(errno, path, "opening the file's MFT record");
			goto fail;
		}
		if (e->dir)
			ntfs_inode_close(e->dir);
		e->dir = e->ni;
		e->ni = child;
		e->is_root = false;
		e->parent = e->dir->mft_no;
		r = scan_names(vol, child, e->parent, uname, ulen, e, path);
		if (r < 0)
			goto fail;
		ucs_to_utf8(e->name, e->name_len, utf8, sizeof(utf8));
		if (!stored_append(stored, stored_cap, &slen, utf8)) {
			r = lb_err(-ENAMETOOLONG, path, NULL, "no room for the stored path");
			goto fail;
		}
		if (!last || !(flags & LOOKUP_KEEP_DIR)) {
			ntfs_inode_close(e->dir);
			e->dir = NULL;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
fail:
	nent_release(vol, e);
	return r;
}

/* ---- file types, stat ------------------------------------------------------ */

static struct timespec ntfs_time_to_ts(sle64 t)
{
	static const int64_t delta = 116444736000000000LL; /* 1601 -> 1970 in 100 ns */
	int64_t v;
	struct timespec ts = {0, 0};

	if (__builtin_sub_overflow((int64_t)sle64_to_cpu(t), delta, &v))
		return ts;
	ts.tv_sec = v / 10000000;
	v %= 10000000;
	if (v < 0) {
		v += 10000000;
		ts.tv_sec--;
	}
	ts.tv_nsec = (long)v * 100;
	return ts;
}

/*
 * Read the reparse point of @ni into a malloc'ed buffer (header included).
 * Returns its length, 0 if there is none, or a negative errno (recorded).
 */
static ssize_t read_reparse(ntfs_inode *ni, uint8_t **out, const char *object)
{
	ntfs_attr *na = ntfs_attr_open(ni, AT_REPARSE_POINT, AT_UNNAMED, 0);
	uint8_t *buf;
	s64 n;

	*out = NULL;
	if (!na) {
		if (errno == ENOENT)
			return 0;
		return ntfs_fail(errno, object, "reading the reparse point");
	}
	if (na->data_size < 8 || na->data_size > LB_NTFS_REPARSE_MAX) {
		ntfs_attr_close(na);
		return lb_err(-EBADMSG, object, "run \"chkdsk /f\" on the volume in Windows",
			      "the reparse point has an impossible size (%" PRId64 " bytes)",
			      (int64_t)na->data_size);
	}
	buf = malloc((size_t)na->data_size);
	if (!buf) {
		ntfs_attr_close(na);
		return -ENOMEM;
	}
	n = ntfs_attr_pread(na, 0, na->data_size, buf);
	if (n != na->data_size) {
		int e = n < 0 ? errno : EIO;

		free(buf);
		ntfs_attr_close(na);
		return ntfs_fail(e, object, "reading the reparse point");
	}
	ntfs_attr_close(na);
	*out = buf;
	return (ssize_t)n;
}

static uint32_t get_le16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get_le32(const uint8_t *p)
{
	return get_le16(p) | get_le16(p + 2) << 16;
}

/* Convert a Windows link target (UTF-16LE) for lb_fs_readlink(): '\' becomes '/'. */
static ssize_t link_from_ucs(const uint8_t *u, size_t units, char *buf, size_t cap,
			     const char *object)
{
	size_t n, skip = 0;
	char *tmp;

	/* "\??\C:\x" (an NT path) -> "C:\x" */
	if (units >= 4 && get_le16(u) == '\\' && get_le16(u + 2) == '?' && get_le16(u + 4) == '?' &&
	    get_le16(u + 6) == '\\')
		skip = 4;
	u += skip * 2;
	units -= skip;
	if (units > LB_NTFS_LINK_MAX)
		return lb_err(-EBADMSG, object, NULL, "the link target is impossibly long");
	tmp = malloc(units * 3 + 1);
	if (!tmp)
		return -ENOMEM;
	n = lb_utf16le_to_utf8(u, units, tmp, units * 3 + 1);
	for (size_t i = 0; i < n; i++)
		if (tmp[i] == '\\')
			tmp[i] = '/';
	if (n + 1 > cap) {
		free(tmp);
		return lb_err(-ENAMETOOLONG, object, NULL,
			      "the link target is longer than %zu bytes", cap ? cap - 1 : 0);
	}
	memcpy(buf, tmp, n + 1);
	free(tmp);
	return (ssize_t)n;
}

/*
 * The target of a symlink/junction reparse point @rp (@len bytes), or of a
 * WSL symlink. Returns its length, -EINVAL if @rp is not a link, -EBADMSG.
 */
static ssize_t reparse_target(const uint8_t *rp, size_t len, char *buf, size_t cap,
			      const char *object)
{
	uint32_t tag = get_le32(rp);
	size_t dlen = get_le16(rp + 4), hdr, so, sl, po, pl;
	const uint8_t *d = rp + 8;

	if (dlen > len - 8)
		return lb_err(-EBADMSG, object, NULL, "the reparse point is cut short");
	if (tag == TAG_LX_SYMLINK) {
		/* version (4 bytes), then the UTF-8 target */
		if (dlen < 4)
			return lb_err(-EBADMSG, object, NULL, "the WSL symlink is cut short");
		if (dlen - 4 + 1 > cap)
			return lb_err(-ENAMETOOLONG, object, NULL, "the link target is too long");
		memcpy(buf, d + 4, dlen - 4);
		buf[dlen - 4] = '\0';
		return (ssize_t)strnlen(buf, dlen - 4);
	}
	if (tag != TAG_SYMLINK && tag != TAG_MOUNT_POINT)
		return lb_err(-EINVAL, object, NULL,
			      "not a symbolic link (reparse tag 0x%08" PRIx32 ")", tag);
	hdr = tag == TAG_SYMLINK ? 12 : 8; /* symlinks carry 4 bytes of flags */
	if (dlen < hdr)
		return lb_err(-EBADMSG, object, NULL, "the link's reparse data is cut short");
	so = get_le16(d);
	sl = get_le16(d + 2);
	po = get_le16(d + 4);
	pl = get_le16(d + 6);
	if (so + sl > dlen - hdr || po + pl > dlen - hdr || (sl | pl | so | po) & 1)
		return lb_err(-EBADMSG, object, NULL, "the link's names lie outside its data");
	if (pl)
		return link_from_ucs(d + hdr + po, pl / 2, buf, cap, object);
	return link_from_ucs(d + hdr + so, sl / 2, buf, cap, object);
}

/* Interix (SFU, old ntfs-3g) special files: a system file whose data starts with a magic. */
static enum lb_ftype interix_type(ntfs_attr *na)
{
	uint8_t magic[8];

	if (na->data_size < 8 || na->data_size > 8 + 2 * LB_NTFS_LINK_MAX)
		return LB_FT_FILE;
	if (ntfs_attr_pread(na, 0, 8, magic) != 8)
		return LB_FT_FILE;
	if (!memcmp(magic, "IntxLNK\1", 8))
		return LB_FT_SYMLINK;
	if (!memcmp(magic, "IntxCHR\0", 8) || !memcmp(magic, "IntxBLK\0", 8))
		return LB_FT_OTHER;
	return LB_FT_FILE;
}

/* What stat learns beyond struct lb_fs_stat. */
struct ninfo {
	uint32_t reparse_tag; /* 0 if none */
	bool data_elsewhere;  /* WOF, dedup, cloud...: the unnamed $DATA is not the content */
	bool interix_link;
};

static bool tag_keeps_data_elsewhere(uint32_t tag)
{
	return tag == TAG_WOF || tag == TAG_DEDUP || tag == TAG_HSM || tag == TAG_HSM2 ||
	       tag == TAG_SIS || tag == TAG_WIM || (tag & 0xffff0fffu) == TAG_CLOUD;
}

/* The target of the link @ni (reparse or Interix). Returns its length or -EINVAL/-EBADMSG. */
static ssize_t read_link(ntfs_inode *ni, const struct ninfo *inf, char *buf, size_t cap,
			 const char *object)
{
	if (inf->reparse_tag) {
		uint8_t *rp;
		ssize_t n = read_reparse(ni, &rp, object), r;

		if (n <= 0)
			return n < 0 ? n
				     : lb_err(-EBADMSG, object, NULL, "the reparse point vanished");
		r = reparse_target(rp, (size_t)n, buf, cap, object);
		free(rp);
		return r;
	}
	if (inf->interix_link) {
		ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
		uint8_t *data;
		s64 len;
		ssize_t r;

		if (!na)
			return ntfs_fail(errno, object, "reading the link");
		len = na->data_size;
		if (len < 8 || len > 8 + 2 * LB_NTFS_LINK_MAX) {
			ntfs_attr_close(na);
			return lb_err(-EBADMSG, object, NULL,
				      "the Interix link has an impossible size");
		}
		data = malloc((size_t)len);
		if (!data) {
			ntfs_attr_close(na);
			return -ENOMEM;
		}
		if (ntfs_attr_pread(na, 0, len, data) != len) {
			r = ntfs_fail(errno, object, "reading the link");
		} else {
			r = link_from_ucs(data + 8, (size_t)(len - 8) / 2, buf, cap, object);
		}
		free(data);
		ntfs_attr_close(na);
		return r;
	}
	return lb_err(-EINVAL, object, NULL, "not a symbolic link");
}

/* Fill @st for the inode of @e (and @inf). Returns 0 or a negative errno (recorded). */
static int fill_stat(ntfs_inode *ni, const struct nent *e, struct lb_fs_stat *st, struct ninfo *inf,
		     const char *object)
{
	bool is_dir = ni->mrec->flags & MFT_RECORD_IS_DIRECTORY;
	uint32_t attrs = le32_to_cpu(ni->flags) & ~NTFS_ATTR_INDEX_BITS;
	ntfs_attr *na = NULL;

	memset(st, 0, sizeof(*st));
	memset(inf, 0, sizeof(*inf));
	st->ino = ni->mft_no;
	st->nlink = e->nlink ? e->nlink : 1;
	st->btime = ntfs_time_to_ts(ni->creation_time);
	st->mtime = ntfs_time_to_ts(ni->last_data_change_time);
	st->ctime = ntfs_time_to_ts(ni->last_mft_change_time);
	st->atime = ntfs_time_to_ts(ni->last_access_time);
	if (e->dos_len)
		ucs_to_utf8(e->dos, e->dos_len, st->short_name, sizeof(st->short_name));
	st->type = is_dir ? LB_FT_DIR : LB_FT_FILE;
	if (attrs & le32_to_cpu(FILE_ATTR_REPARSE_POINT)) {
		uint8_t *rp;
		ssize_t n = read_reparse(ni, &rp, object);

		if (n < 0)
			return (int)n;
		if (n > 0) {
			inf->reparse_tag = get_le32(rp);
			free(rp);
			if (inf->reparse_tag == TAG_SYMLINK ||
			    inf->reparse_tag == TAG_MOUNT_POINT ||
			    inf->reparse_tag == TAG_LX_SYMLINK)
				st->type = LB_FT_SYMLINK;
			else if (!is_dir && tag_keeps_data_elsewhere(inf->reparse_tag))
				inf->data_elsewhere = true;
			else if (!is_dir)
				st->type = LB_FT_OTHER;
		}
	}
	if (!is_dir) {
		na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
		if (!na && errno != ENOENT)
			return ntfs_fail(errno, object, "opening the file's data");
	}
	if (na) {
		st->size = (uint64_t)LB_MAX(na->data_size, 0);
		if (NAttrNonResident(na))
			st->allocated = (uint64_t)LB_MAX((NAttrCompressed(na) || NAttrSparse(na))
								 ? na->compressed_size
								 : na->allocated_size,
							 0);
		if (st->type == LB_FT_FILE && !inf->reparse_tag &&
		    (attrs & le32_to_cpu(FILE_ATTR_SYSTEM))) {
			st->type = interix_type(na);
			inf->interix_link = st->type == LB_FT_SYMLINK;
		}
		ntfs_attr_close(na);
	}
	if (is_dir)
		attrs |= WIN_ATTR_DIRECTORY;
	st->attributes = attrs;
	switch (st->type) {
	case LB_FT_DIR:
		st->mode = S_IFDIR | 0755;
		break;
	case LB_FT_SYMLINK:
		st->mode = S_IFLNK | 0777;
		break;
	default:
		st->mode = S_IFREG | 0644;
		break;
	}
	/* on a directory, "read-only" only marks a customized folder */
	if (!is_dir && (attrs & le32_to_cpu(FILE_ATTR_READONLY)))
		st->mode &= ~0222u;
	if (st->type == LB_FT_SYMLINK) {
		char target[LB_NTFS_LINK_MAX * 3 + 1];
		ssize_t n = read_link(ni, inf, target, sizeof(target), object);

		if (n < 0)
			return (int)n;
		st->size = (uint64_t)n;
	}
	return 0;
}

/* ---- operations ----------------------------------------------------------- */

static int ntfs_fs_stat(struct lb_fs *fs, const char *path, struct lb_fs_stat *st, char *stored,
			size_t stored_cap)
{
	struct lb_error saved;
	struct nent e;
	struct ninfo inf;
	int r;

	op_begin(&saved);
	r = resolve(fs, path, 0, &e, stored, stored_cap);
	if (r < 0)
		return r;
	r = fill_stat(e.ni, &e, st, &inf, path);
	nent_release(fs_vol(fs), &e);
	return (int)op_end(&saved, r);
}

/* Directory entries collected before any is handed out (callbacks may change the volume). */
struct dentry {
	u64 mref;
	size_t off; /* into the name pool, in UTF-16 units */
	int len;
};

struct dcollect {
	struct dentry *v;
	size_t n, cap;
	ntfschar *pool;
	size_t pn, pcap;
	bool root;
};

static int collect_entry(void *opaque, const ntfschar *name, const int len, const int type,
			 const s64 pos, const MFT_REF mref, const unsigned dt)
{
	struct dcollect *c = opaque;

	(void)pos, (void)dt;
	if (type == FILE_NAME_DOS || len <= 0 || len > LB_NTFS_NAME_MAX)
		return 0;
	if (le16_to_cpu(name[0]) == '.' && (len == 1 || (len == 2 && le16_to_cpu(name[1]) == '.')))
		return 0;
	/* $MFT, $LogFile, ... in the root are the file system's own */
	if (c->root && MREF(mref) < LB_NTFS_FIRST_USER && le16_to_cpu(name[0]) == '$')
		return 0;
	if (c->n == LB_NTFS_DIR_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct dentry *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			errno = ENOMEM;
			return -1;
		}
		c->v = v;
		c->cap = cap;
	}
	if (c->pn + (size_t)len > c->pcap) {
		size_t cap = LB_MAX(c->pcap * 2, c->pn + (size_t)len + 1024);
		ntfschar *pool = realloc(c->pool, cap * sizeof(*pool));

		if (!pool) {
			errno = ENOMEM;
			return -1;
		}
		c->pool = pool;
		c->pcap = cap;
	}
	memcpy(c->pool + c->pn, name, (size_t)len * sizeof(*name));
	c->v[c->n].mref = mref;
	c->v[c->n].off = c->pn;
	c->v[c->n].len = len;
	c->n++;
	c->pn += (size_t)len;
	return 0;
}

/* false if @name is (no longer) in directory @dir_no */
static bool entry_exists(ntfs_volume *vol, u64 dir_no, const ntfschar *name, int len)
{
	ntfs_inode *dir = ntfs_inode_open(vol, dir_no);
	u64 m;
	int e;

	if (!dir)
		return true;
	m = ntfs_inode_lookup_by_name(dir, name, len);
	e = errno;
	ntfs_inode_close(dir);
	return m != (u64)-1 || e != ENOENT;
}

static int ntfs_fs_readdir(struct lb_fs *fs, const char *path, lb_fs_dir_fn fn, void *opaque)
{
	ntfs_volume *vol = fs_vol(fs);
	struct dcollect c = {0};
	struct lb_error saved;
	struct nent e;
	u64 dir_no;
	s64 pos = 0;
	int r;

	op_begin(&saved);
	r = resolve(fs, path, 0, &e, NULL, 0);
	if (r < 0)
		return r;
	if (!(e.ni->mrec->flags & MFT_RECORD_IS_DIRECTORY)) {
		nent_release(vol, &e);
		return lb_err(-ENOTDIR, path, NULL, "not a directory");
	}
	dir_no = e.ni->mft_no;
	c.root = dir_no == FILE_root;
	if (ntfs_readdir(e.ni, &pos, &c, collect_entry)) {
		int err = errno;

		nent_release(vol, &e);
		if (err == EOVERFLOW)
			r = lb_err(-EOVERFLOW, path, NULL, "more than %u entries in the directory",
				   LB_NTFS_DIR_MAX);
		else
			r = ntfs_fail(err, path, "reading the directory");
		goto out;
	}
	nent_release(vol, &e);
	for (size_t i = 0; i < c.n; i++) {
		const ntfschar *name = c.pool + c.v[i].off;
		char utf8[LB_NTFS_UTF8_NAME_MAX];
		char object[LB_NTFS_UTF8_NAME_MAX + 4096];
		struct lb_fs_dirent d;
		struct nent ce = {0};
		struct ninfo inf;
		ntfs_inode *ni;

		ucs_to_utf8(name, c.v[i].len, utf8, sizeof(utf8));
		snprintf(object, sizeof(object), "%s%s%s", path, path[0] ? "/" : "", utf8);
		ni = ntfs_inode_open(vol, c.v[i].mref);
		if (!ni) {
			int err = errno;

			/* a callback may have removed it since the directory was read */
			if (!entry_exists(vol, dir_no, name, c.v[i].len))
				continue;
			r = ntfs_fail(err, object, "opening the file's MFT record");
			goto out;
		}
		r = scan_names(vol, ni, dir_no, name, c.v[i].len, &ce, object);
		if (r >= 0)
			r = fill_stat(ni, &ce, &d.st, &inf, object);
		ntfs_inode_close(ni);
		if (r < 0)
			goto out;
		d.name = utf8;
		r = fn(opaque, &d);
		if (r < 0)
			goto out_caller;
	}
	r = 0;
out:
	free(c.v);
	free(c.pool);
	return (int)op_end(&saved, r);
out_caller:
	/* the callback's error and record are the caller's own */
	free(c.v);
	free(c.pool);
	return r;
}

static ssize_t ntfs_fs_pread(struct lb_fs *fs, const char *path, void *buf, size_t len,
			     uint64_t off)
{
	struct lb_error saved;
	struct nent e;
	struct lb_fs_stat st;
	struct ninfo inf;
	ntfs_attr *na;
	size_t done = 0;
	ssize_t r;

	op_begin(&saved);
	r = resolve(fs, path, 0, &e, NULL, 0);
	if (r < 0)
		return r;
	r = fill_stat(e.ni, &e, &st, &inf, path);
	if (r < 0)
		goto out;
	if (st.type == LB_FT_DIR) {
		r = lb_err(-EISDIR, path, NULL, "is a directory");
		goto out;
	}
	if (inf.data_elsewhere) {
		r = lb_err(-ENOTSUP, path, NULL,
			   "Windows keeps this file's data elsewhere (reparse tag 0x%08" PRIx32
			   ": compressed by WOF, deduplicated or in the cloud); lifeboat cannot "
			   "read it",
			   inf.reparse_tag);
		goto out;
	}
	na = ntfs_attr_open(e.ni, AT_DATA, AT_UNNAMED, 0);
	if (!na) {
		r = errno == ENOENT ? 0 : ntfs_fail(errno, path, "opening the file's data");
		goto out;
	}
	if (NAttrEncrypted(na)) {
		ntfs_attr_close(na);
		r = lb_err(-ENOTSUP, path, NULL,
			   "the file is encrypted (EFS); lifeboat cannot read it");
		goto out;
	}
	len = LB_MIN(len, (size_t)SSIZE_MAX);
	if (off < (uint64_t)na->data_size)
		len = (size_t)LB_MIN((uint64_t)len, (uint64_t)na->data_size - off);
	else
		len = 0;
	while (done < len) {
		s64 n = ntfs_attr_pread(na, (s64)(off + done), (s64)(len - done),
					(uint8_t *)buf + done);

		if (n <= 0) {
			r = ntfs_fail(n < 0 ? errno : EIO, path, "reading the file");
			ntfs_attr_close(na);
			goto out;
		}
		done += (size_t)n;
	}
	ntfs_attr_close(na);
	r = (ssize_t)done;
out:
	nent_release(fs_vol(fs), &e);
	return op_end(&saved, r);
}

static ssize_t ntfs_fs_readlink(struct lb_fs *fs, const char *path, char *buf, size_t cap)
{
	struct lb_error saved;
	struct lb_fs_stat st;
	struct ninfo inf;
	struct nent e;
	ssize_t r;

	op_begin(&saved);
	r = resolve(fs, path, 0, &e, NULL, 0);
	if (r < 0)
		return r;
	r = fill_stat(e.ni, &e, &st, &inf, path);
	if (r >= 0 && st.type != LB_FT_SYMLINK)
		r = lb_err(-EINVAL, path, NULL, "not a symbolic link");
	if (r >= 0)
		r = read_link(e.ni, &inf, buf, cap, path);
	nent_release(fs_vol(fs), &e);
	return op_end(&saved, r);
}

static int ntfs_fs_unlink(struct lb_fs *fs, const char *path)
{
	ntfs_volume *vol = fs_vol(fs);
	struct lb_error saved;
	struct nent e;
	int r;

	op_begin(&saved);
	r = resolve(fs, path, LOOKUP_KEEP_DIR, &e, NULL, 0);
	if (r < 0)
		return r;
	if (e.is_root || (e.ni->mrec->flags & MFT_RECORD_IS_DIRECTORY)) {
		nent_release(vol, &e);
		return lb_err(-EISDIR, path, NULL, "is a directory; lifeboat removes files only");
	}
	/*
	 * The exact stored long name: libntfs-3g removes the 8.3 name with it,
	 * and the file itself when no other name is left. It closes both inodes.
	 */
	if (ntfs_delete(vol, NULL, e.ni, e.dir, e.name, (u8)e.name_len))
		return ntfs_fail(errno, path, "deleting the file");
	return (int)op_end(&saved, 0);
}

static int ntfs_fs_replace(struct lb_fs *fs, const char *path, const void *data, size_t len)
{
	ntfs_volume *vol = fs_vol(fs);
	struct lb_error saved;
	struct lb_fs_stat st;
	struct ninfo inf;
	struct nent e;
	ntfs_attr *na;
	size_t done = 0;
	int r;

	op_begin(&saved);
	if (len > LB_NTFS_REPLACE_MAX)
		return lb_err(-EFBIG, path, NULL,
			      "%zu bytes is more than lifeboat writes into one file (%llu MiB)",
			      len, LB_NTFS_REPLACE_MAX >> 20);
	r = resolve(fs, path, 0, &e, NULL, 0);
	if (r < 0)
		return r;
	r = fill_stat(e.ni, &e, &st, &inf, path);
	if (r < 0)
		goto out;
	if (st.type == LB_FT_DIR) {
		r = lb_err(-EISDIR, path, NULL, "is a directory");
		goto out;
	}
	if (st.type != LB_FT_FILE || inf.data_elsewhere) {
		r = lb_err(-ENOTSUP, path, NULL,
			   "not a plain file (reparse point or special file)");
		goto out;
	}
	na = ntfs_attr_open(e.ni, AT_DATA, AT_UNNAMED, 0);
	if (!na && errno == ENOENT) {
		if (ntfs_attr_add(e.ni, AT_DATA, AT_UNNAMED, 0, NULL, 0)) {
			r = ntfs_fail(errno, path, "adding a data attribute");
			goto out;
		}
		na = ntfs_attr_open(e.ni, AT_DATA, AT_UNNAMED, 0);
	}
	if (!na) {
		r = ntfs_fail(errno, path, "opening the file's data");
		goto out;
	}
	if (NAttrEncrypted(na)) {
		ntfs_attr_close(na);
		r = lb_err(-ENOTSUP, path, NULL,
			   "the file is encrypted (EFS); lifeboat cannot write it");
		goto out;
	}
	if (ntfs_attr_truncate(na, (s64)len)) {
		r = ntfs_fail(errno, path, "resizing the file");
		ntfs_attr_close(na);
		goto out;
	}
	while (done < len) {
		s64 n = ntfs_attr_pwrite(na, (s64)done, (s64)(len - done),
					 (const uint8_t *)data + done);

		if (n <= 0) {
			r = ntfs_fail(n < 0 ? errno : EIO, path, "writing the file");
			ntfs_attr_close(na);
			goto out;
		}
		done += (size_t)n;
	}
	ntfs_attr_close(na);
	ntfs_inode_update_times(e.ni, NTFS_UPDATE_MCTIME);
	/* writes the record and the directory entries (size, times) */
	if (ntfs_inode_close(e.ni)) {
		e.ni = NULL;
		r = ntfs_fail(errno, path, "writing the file's MFT record");
		goto out;
	}
	e.ni = NULL;
	r = 0;
out:
	nent_release(vol, &e);
	return (int)op_end(&saved, r);
}

static int ntfs_fs_close(struct lb_fs *fs)
{
	struct lb_error saved;

	op_begin(&saved);
	if (lb_ntfs_umount(fs_vol(fs))) {
		int e = errno;
		const char *m = ntfs_msg();

		fs->priv = NULL;
		if (lb_err_last()->code < 0) {
			int recorded = lb_err_last()->code;

			lb_err_context("NTFS volume");
			return recorded;
		}
		return lb_err(-EIO, "NTFS volume", NULL, "writing the changes back failed: %s",
			      m[0] ? m : strerror(e));
	}
	fs->priv = NULL;
	return (int)op_end(&saved, 0);
}

/* ---- opening ------------------------------------------------------------------ */

static ntfs_volume *mount_dev(struct lb_dev *dev, ntfs_mount_flags mflags, int *err)
{
	struct ntfs_device *nd = lb_ntfs_device_new(dev);
	ntfs_volume *vol;

	if (!nd) {
		*err = ENOMEM;
		return NULL;
	}
	errno = 0;
	vol = ntfs_device_mount(nd, mflags);
	if (!vol) {
		*err = errno ? errno : EIO;
		lb_ntfs_device_free(nd);
	}
	return vol;
}

/* Why mounting failed (errno @e), as one of fs.h's codes. */
static int mount_error(struct lb_dev *dev, int e)
{
	const char *m = ntfs_msg();
	const char *sep = m[0] ? ": " : "";
	int recorded = lb_err_last()->code;
	uint8_t oem[8];

	if (recorded < 0) {
		lb_err_context("NTFS volume");
		return recorded;
	}
	if (lb_ntfs_oom_seen())
		e = ENOMEM;
	switch (e) {
	case ENOMEM:
		return lb_err(-ENOMEM, "NTFS volume", NULL, "out of memory");
	case EROFS:
		return lb_err(-EROFS, "NTFS volume", NULL, "the device is read-only");
	case EINVAL:
		/* libntfs-3g says EINVAL for "no NTFS boot sector" and for a bad one */
		if (dev->size >= 11 && lb_dev_pread(dev, oem, sizeof(oem), 3) == 0 &&
		    memcmp(oem, "NTFS    ", 8))
			return lb_err(-EMEDIUMTYPE, "NTFS volume", NULL,
				      "not an NTFS volume (no NTFS boot sector)");
		lb_err_clear();
		return lb_err(
			-EBADMSG, "NTFS boot sector",
			"run \"chkdsk /f\" in Windows, or let ntfsfix restore the boot sector "
			"from its backup at the end of the volume",
			"the NTFS boot sector is damaged%s%s", sep, m);
	default:
		return lb_err(-EBADMSG, "NTFS volume", "run \"chkdsk /f\" on the volume in Windows",
			      "libntfs-3g cannot read the volume (%s)%s%s", strerror(e), sep, m);
	}
}

/* 1 hibernated, 0 not, -1 cannot tell. */
static int hibernated(ntfs_volume *vol)
{
	if (!ntfs_volume_check_hiberfile(vol, 0))
		return 0;
	return errno == EPERM ? 1 : -1;
}

static int refuse_hibernated(int hib)
{
	static const char hint[] =
		"start Windows and shut it down fully (hold Shift while choosing Shut down, or run "
		"\"shutdown /s /t 0\"), or turn hibernation off there (\"powercfg /h off\" deletes "
		"hiberfil.sys); reading the volume (read-only) is still possible";

	if (hib > 0)
		return lb_err(-EPERM, "NTFS volume", hint,
			      "Windows is hibernated on this volume (Fast Startup or hibernation: "
			      "hiberfil.sys holds a memory image); a change made now would be lost "
			      "or corrupt the file system when Windows resumes");
	return lb_err(-EPERM, "NTFS volume", hint,
		      "cannot tell whether Windows is hibernated on this volume (hiberfil.sys "
		      "cannot be read%s%s); refusing to write",
		      ntfs_msg()[0] ? ": " : "", ntfs_msg());
}

static void volume_info(struct lb_fs *fs, ntfs_volume *vol)
{
	fs->info.kind = LB_FS_NTFS;
	if (vol->vol_name)
		lb_strlcpy(fs->info.label, vol->vol_name, sizeof(fs->info.label));
}

static bool dirty_flag(const ntfs_volume *vol)
{
	return (vol->flags & VOLUME_IS_DIRTY) != 0;
}

static int open_read_only(struct lb_fs *fs, ntfs_volume **out)
{
	ntfs_volume *vol;
	int e;

	vol = mount_dev(fs->dev, NTFS_MNT_RDONLY, &e);
	if (!vol && (e == EPERM || e == EOPNOTSUPP)) {
		/* what the journal holds is not replayed; the volume is read as it is */
		lb_ntfs_log_begin();
		vol = mount_dev(fs->dev, NTFS_MNT_RDONLY | NTFS_MNT_FORENSIC, &e);
	}
	if (!vol)
		return mount_error(fs->dev, e);
	fs->info.was_dirty = dirty_flag(vol) || lb_ntfs_journal_clean(vol) == 0;
	*out = vol;
	return 0;
}

/* A normal read-write mount was refused (EPERM, EOPNOTSUPP): find out why, fix if allowed. */
static int open_unclean(struct lb_fs *fs, unsigned flags, ntfs_volume **out)
{
	char first[512];
	ntfs_volume *vol;
	int hib, clean, e;

	lb_strlcpy(first, ntfs_msg(), sizeof(first));
	/* look without writing */
	lb_ntfs_log_begin();
	vol = mount_dev(fs->dev, NTFS_MNT_RDONLY | NTFS_MNT_FORENSIC, &e);
	if (!vol)
		return mount_error(fs->dev, e);
	hib = hibernated(vol);
	clean = lb_ntfs_journal_clean(vol);
	lb_ntfs_umount(vol);
	if (hib)
		return refuse_hibernated(hib);
	if (clean != 0)
		return lb_err(-EPERM, "NTFS volume", "open it read-only",
			      "libntfs-3g refuses to write to the volume%s%s", first[0] ? ": " : "",
			      first);
	if (!(flags & LB_FS_FIX_DIRTY))
		return lb_err(
			-EPERM, "NTFS volume",
			"without --no-dirty lifeboat resets the journal and marks the volume so "
			"that Windows runs chkdsk at next boot (what ntfsfix does); or boot "
			"Windows once so that it replays the journal",
			"the journal ($LogFile) is not clean: Windows did not shut down cleanly "
			"(a crash or power loss), and writing now could corrupt the volume");
	/* what ntfsfix does: a forensic mount, empty $LogFile, set the dirty flag */
	lb_ntfs_log_begin();
	vol = mount_dev(fs->dev, NTFS_MNT_FORENSIC, &e);
	if (!vol)
		return mount_error(fs->dev, e);
	hib = hibernated(vol);
	if (hib) {
		lb_ntfs_umount(vol);
		return refuse_hibernated(hib);
	}
	if (ntfs_logfile_reset(vol)) {
		e = errno;
		lb_ntfs_umount(vol);
		return ntfs_fail(e, "NTFS journal ($LogFile)", "resetting the journal");
	}
	fs->info.journal_reset = true;
	if (ntfs_volume_write_flags(vol, vol->flags | VOLUME_IS_DIRTY)) {
		e = errno;
		lb_ntfs_umount(vol);
		return ntfs_fail(e, "NTFS volume", "setting the dirty flag");
	}
	fs->info.marked_for_chkdsk = true;
	fs->info.was_dirty = true;
	*out = vol;
	return 0;
}

static int open_read_write(struct lb_fs *fs, unsigned flags, ntfs_volume **out)
{
	ntfs_volume *vol;
	int e;

	vol = mount_dev(fs->dev, NTFS_MNT_NONE, &e);
	if (!vol) {
		if (e == EPERM || e == EOPNOTSUPP)
			return open_unclean(fs, flags, out);
		return mount_error(fs->dev, e);
	}
	/* libntfs-3g checked hibernation and the journal; only the flag may say dirty */
	fs->info.was_dirty = dirty_flag(vol);
	*out = vol;
	return 0;
}

int lb_ntfs_fs_open(struct lb_fs *fs, unsigned flags)
{
	struct lb_error saved;
	ntfs_volume *vol = NULL;
	int r;

	op_begin(&saved);
	if (fs->read_only)
		r = open_read_only(fs, &vol);
	else
		r = open_read_write(fs, flags, &vol);
	if (r < 0)
		return r;
	/* our own name matching; every name and file shown to readdir */
	NVolSetCaseSensitive(vol);
	ntfs_set_shown_files(vol, TRUE, TRUE, FALSE);
	ntfs_create_lru_caches(vol);
	volume_info(fs, vol);
	fs->ops = &ntfs_fs_ops;
	fs->priv = vol;
	return (int)op_end(&saved, 0);
}

static const struct lb_fs_ops ntfs_fs_ops = {
	.kind = LB_FS_NTFS,
	.case_insensitive = true,
	.close = ntfs_fs_close,
	.upcase = ntfs_fs_upcase,
	.stat = ntfs_fs_stat,
	.readdir = ntfs_fs_readdir,
	.pread = ntfs_fs_pread,
	.readlink = ntfs_fs_readlink,
	.unlink = ntfs_fs_unlink,
	.replace = ntfs_fs_replace,
};
