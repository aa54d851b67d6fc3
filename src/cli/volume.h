/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * volume.h - the volumes of an image as the read-only file commands (ls,
 * find, cat, reg) see them.
 *
 * lb_volumes_open() opens an image read-only, reads its partition table and
 * opens the file system of every partition (or of the one partition the user
 * named) read-only with lb_fs_open(). A volume that cannot be opened does not
 * stop the others: its error is kept in the volume, with "partition N" in
 * front of the object, for the command to print or to put in its JSON.
 *
 * Which volume a path is looked up in:
 *   "3:Windows/System32" or --partition 3   partition 3 only; an error if it
 *                                           does not exist or lifeboat cannot
 *                                           read its file system
 *   "Windows/System32"                      every volume lifeboat can open;
 *                                           partitions without NTFS or ext2/3/4
 *                                           (ESP, swap, MSR) are skipped quietly,
 *                                           the others that fail are reported
 * Partition numbers are those of 'lifeboat inspect'; 0 names the whole disk
 * of an image without a partition table. A path whose first component really
 * is "N:..." is written with a leading '/' ("/3:x").
 *
 * Invariants: nothing is ever written (image opened read-only, every file
 * system opened with LB_FS_RDONLY); lb_volumes_release() frees everything.
 */
#ifndef LB_CLI_VOLUME_H
#define LB_CLI_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/repoopt.h"
#include "base/json.h"
#include "fs/fs.h"
#include "io/image.h"

/* What the user chose on the command line; see LB_VOL_OPTIONS. */
struct lb_vol_opts {
	const char *format; /* --format, NULL: detect */
	int force_share;    /* --force-share */
	bool has_part;	    /* --partition N or a "N:" prefix */
	unsigned part;
};

/* --partition N: parses N into the lb_vol_opts that opt->value points to. */
int lb_vol_partition_cb(const struct lb_option *opt, const char *arg);

/* The options every file command takes (a fragment of an lb_option table). */
/* clang-format off */
#define LB_VOL_OPTIONS(vo) \
	{ LB_OPT_CALLBACK, 0, "partition", (vo), "N", \
	  "only partition N, as 'lifeboat inspect' numbers them (0: a disk without a table)", \
	  lb_vol_partition_cb }, \
	{ LB_OPT_STRING, 'f', "format", &(vo)->format, "FMT", \
	  "read as this format: raw, vhd, vhdx, qcow2, vmdk, vdi (default: detect)" }, \
	{ LB_OPT_BOOL, 'U', "force-share", &(vo)->force_share, NULL, \
	  "read an image even while a running VM holds its lock (what is read may be inconsistent)" }, \
	LB_SNAPSHOT_REPO_OPTIONS
/* clang-format on */

/*
 * Split a "[PART:]PATH" operand. A leading decimal number followed by ':' is
 * the partition (merged into @o; a different --partition is a usage error);
 * the rest is returned in @path (a pointer into @arg). Returns 0, or
 * LB_EXIT_USAGE after printing a usage error.
 */
int lb_vol_split_operand(const char *arg, struct lb_vol_opts *o, const char **path);

/*
 * Check --format (fills @fmt). Returns 0, or LB_EXIT_USAGE after printing a
 * usage error.
 */
int lb_vol_opts_validate(const struct lb_vol_opts *o, enum lb_image_format *fmt);

struct lb_vol {
	unsigned part;	       /* partition number; 0: the whole disk */
	enum lb_fs_kind kind;  /* the file system found (from the first bytes if not opened) */
	char label[256];       /* "" if none or unknown */
	struct lb_fs *fs;      /* NULL when the volume is not open */
	int err;	       /* < 0 when fs is NULL, or when a lookup in it failed */
	struct lb_error error; /* the recorded error for err, "partition N" in front */
};

struct lb_volumes {
	const char *image; /* the operand as given */
	struct lb_image *img;
	bool part_given; /* only the partition the user named is here */
	unsigned n;
	struct lb_vol *v; /* n entries, in partition order */
};

/*
 * Open @image read-only and every volume in it (only @o->part with
 * @o->has_part). Returns 0 when the image and its partition table could be
 * read (volumes may still have failed: see lb_vol.err), or a negative errno
 * (recorded): the errors of lb_image_open() and lb_ptable_read(), -ENOENT
 * for a partition the image does not have, -EINVAL for a bad --format.
 * Release with lb_volumes_release() in both cases.
 */
int lb_volumes_open(const char *image, const struct lb_vol_opts *o, struct lb_volumes *vs);
void lb_volumes_release(struct lb_volumes *vs);

/* true if @v was skipped because lifeboat does not read its file system (FAT, swap, ...). */
bool lb_vol_unsupported(const struct lb_vol *v);

/*
 * Check that there is something to look in. Returns 0 if at least one volume
 * is open; otherwise records why and returns it: the named partition's own
 * error, the one volume's error if only one failed for a reason other than
 * its file system, or -EMEDIUMTYPE "no partition holds NTFS or ext2/3/4".
 */
int lb_volumes_need_one(struct lb_volumes *vs);

/*
 * After lb_volumes_need_one() failed: print why nothing could be looked at
 * (each volume that failed, or the one recorded reason), leaving the
 * recorded error as it was. Returns the exit code.
 */
int lb_volumes_print_none(const struct lb_volumes *vs);

/*
 * Print the volumes that failed (except the quietly skipped unsupported ones,
 * unless the user named the partition): as errors, or with @warn as warnings
 * ("partition 5 not searched: ..."). Returns the exit code of the first one
 * printed as an error, or 0.
 */
int lb_volumes_report(const struct lb_volumes *vs, bool warn);

/* Number of volumes open, and of those that failed and are not merely unsupported. */
unsigned lb_volumes_open_count(const struct lb_volumes *vs);
unsigned lb_volumes_failed_count(const struct lb_volumes *vs);

/* A volume where a path was found. */
struct lb_vol_hit {
	struct lb_vol *vol;
	struct lb_fs_stat st;
	char *stored; /* the path as stored on disk ("" for the root); owned */
};

/*
 * Look @path (as the user wrote it, without the "N:" prefix) up in every open
 * volume. Returns 0 with at least one hit in @hits (free with
 * lb_vol_hits_free()), or a negative errno recorded: -ENOENT "not found in
 * partitions 3, 4" (with the partition named: that volume's own error),
 * -EINVAL / -ENAMETOOLONG for a malformed path, or the one lookup's error
 * when only one volume could be searched. A lookup that fails for another
 * reason than "not there" (-EIO, -EBADMSG) marks the volume failed (see
 * lb_volumes_report()).
 */
int lb_volumes_locate(struct lb_volumes *vs, const char *path, struct lb_vol_hit **hits,
		      unsigned *nhits);
void lb_vol_hits_free(struct lb_vol_hit *hits, unsigned n);

/*
 * Record that @path is in more than one volume (@hits, @n >= 2) and the
 * command needs one: -EINVAL "found in partitions 3 and 4; name one".
 * Returns LB_EXIT_USAGE after printing it.
 */
int lb_vol_ambiguous(const struct lb_volumes *vs, const char *path, const struct lb_vol_hit *hits,
		     unsigned n);

/* "partition 3 (ntfs \"Windows\")", "whole disk (ext4 \"root\")", "partition 1 (fat32)". */
char *lb_vol_describe(const struct lb_vol *v, char *buf, size_t cap);

/* ---- folder listings ---------------------------------------------------------- */

struct lb_vol_ent {
	char *name; /* as stored; owned */
	struct lb_fs_stat st;
	char *target; /* symlinks: the target, when lb_vol_list_targets() could read it */
};

struct lb_vol_list {
	struct lb_vol_ent *e;
	size_t n, cap;
};

#define LB_VOL_LIST_MAX (1u << 20) /* entries of one folder */

/*
 * Read the folder @dir of @v into @l (appending), sorted with
 * lb_vol_name_cmp(). Returns 0, -EFBIG (over LB_VOL_LIST_MAX entries), or
 * the errors of lb_fs_readdir(). Release with lb_vol_list_release().
 */
int lb_vol_list_dir(const struct lb_vol *v, const char *dir, struct lb_vol_list *l);
/* Append one entry (a copy of @name). Returns 0, -EFBIG, -ENOMEM. */
int lb_vol_list_add(struct lb_vol_list *l, const char *name, const struct lb_fs_stat *st);
/*
 * Read the target of every symlink in @l: entries of folder @dir, or, with
 * @single, @dir is the path of the one entry. Failures leave target NULL.
 */
void lb_vol_list_targets(const struct lb_vol *v, struct lb_vol_list *l, const char *dir,
			 bool single);
void lb_vol_list_release(struct lb_vol_list *l);

/* ---- output shared by ls and find ------------------------------------------- */

/* "file", "dir", "symlink", "other" */
const char *lb_ftype_name(enum lb_ftype t);

/* One character for the type column: '-', 'd', 'l', or from an ext mode 'c', 'b', 'p', 's', '?'. */
char lb_vol_type_char(const struct lb_fs_stat *st);

/* Write @s to @f with control characters (names come from disk) shown as '?'. */
void lb_vol_print_name(FILE *f, const char *s);

/* NTFS attribute letters (R H S A T P L C O N E), "-" for none; @out holds 16 bytes. */
char *lb_vol_attr_letters(uint32_t attributes, char *out, size_t cap);

/*
 * The JSON members of one entry, inside an object already begun: name, type,
 * size, inode, times (ISO 8601 with nanoseconds, btime null when unknown),
 * short_name, attributes (NTFS; else null), mode/uid/gid (ext; else null),
 * target (symlinks; else null).
 */
void lb_vol_json_stat(struct lb_json *j, const struct lb_vol *v, const char *name,
		      const struct lb_fs_stat *st, const char *target);

/* "error": {code, exit_code, object, problem, hint} as in inspect's JSON. */
void lb_vol_json_error(struct lb_json *j, const char *key, const char *subject,
		       const struct lb_error *e);

/*
 * "skipped": the volumes not opened or not searched, each {partition,
 * filesystem, error}.
 */
void lb_volumes_json_skipped(struct lb_json *j, const struct lb_volumes *vs);

/* Compare two names as the volume sorts them (NTFS: upper-cased code points, then bytes). */
int lb_vol_name_cmp(const struct lb_vol *v, const char *a, const char *b);

/* UTF-8 decoding for name comparison: the next code point, advancing *@p (bad bytes: U+FFFD). */
uint32_t lb_vol_utf8_next(const char **p);

#endif
