/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * repair.h - apply a recipe to one disk image, safely.
 *
 * lb_repair_image() works in two phases:
 *
 *  1. plan, read-only: open the image read-only, find every volume the recipe
 *     looks at, evaluate every action (which files match, which conditions
 *     hold, what each registry value is now). Nothing is written, so a dry
 *     run is exactly this phase, and an image with nothing to do is never
 *     opened for writing (a clean image stays byte-identical, dirty journal
 *     and all).
 *  2. apply, only if there is something to change: refuse before writing
 *     anything if a volume to change is hibernated, BitLocker-encrypted, or
 *     dirty with fix_dirty off; otherwise open the image read-write under
 *     the undo filter (undo.h: every old byte is saved before it is
 *     overwritten), re-check each planned file (same inode, size and mtime),
 *     copy it to the quarantine folder, delete it; set registry values;
 *     close, flush, commit the undo log; then re-open read-only and verify
 *     that every change is in place.
 *
 * The result describes everything found and done, for the report, the JSON
 * output and the audit journal. Errors inside one volume or item are kept in
 * the result; the return value is for the image as a whole.
 */
#ifndef LB_REPAIR_REPAIR_H
#define LB_REPAIR_REPAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/sha256.h"
#include "fs/fs.h"
#include "fs/probe.h"
#include "io/image.h"
#include "repair/recipe.h"

#define LB_REPAIR_MAX_ITEMS 100000	/* matches reported per image */
#define LB_REPAIR_HASH_MAX (256u << 20) /* files hashed for the report up to this size */
#define LB_REPAIR_HEAD 16		/* first bytes kept for the report */

struct lb_repair_opts {
	const struct lb_recipe *recipe;
	bool dry_run;
	bool fix_dirty;	       /* reset the journal of a dirty NTFS volume (default) */
	bool allow_dirty_hive; /* write a hive whose .LOG files hold changes not in it */
	unsigned partition;    /* only this partition; 0: every one */
	bool partition_set;    /* --partition given (0 then means "the whole disk") */
	enum lb_image_format format;
	/* Where the undo log ("undo.log") and the quarantine ("quarantine/") go; must exist. */
	const char *run_dir;
	/* If set, called once the image is open for planning (a worker tightens its sandbox). */
	void (*image_opened)(const struct lb_image *img);
};

enum lb_item_state {
	LB_ITEM_CHANGE = 1, /* deleted / value set (or would be, in a dry run) */
	LB_ITEM_KEEP,	    /* a condition did not hold, or the value is already right */
	LB_ITEM_SKIP,	    /* matched by name but not of a type the action deletes */
	LB_ITEM_FAILED,	    /* could not be examined or changed */
};

struct lb_repair_item {
	unsigned action; /* index in the recipe */
	unsigned part;	 /* partition number, 0: the whole disk */
	enum lb_action_kind kind;
	char *path; /* delete: the file as stored; reg: the hive file */
	enum lb_item_state state;
	char reason[256]; /* why kept / skipped / failed */
	bool done;	  /* the change was made and verified */
	/* delete */
	struct lb_fs_stat st;
	bool hashed;
	uint8_t sha256[LB_SHA256_LEN];
	uint8_t head[LB_REPAIR_HEAD];
	size_t head_len;
	uint32_t flags_hit; /* bit i: the action's flag i holds */
	/* reg-set / reg-delete */
	char *key;	 /* key inside the hive, CurrentControlSet resolved */
	bool hive_dirty; /* the hive's log holds changes hivex does not replay */
	bool had_old;
	char old_text[256]; /* lb_reg_value_format() of the value before */
	char new_text[256]; /* after ("" for a deletion) */
};

struct lb_repair_volume {
	unsigned part;
	enum lb_fs_kind kind;
	char label[64];
	int err; /* could not be examined: BitLocker, damaged, ... */
	struct lb_error error;
	int dirty; /* -1 unknown, 0, 1 (NTFS: flag or journal) */
	int hibernated;
	bool journal_reset, marked_for_chkdsk; /* done by the apply phase */
	unsigned changes;		       /* items to change on this volume */
};

enum lb_repair_status {
	LB_REPAIR_CLEAN = 0, /* nothing to do */
	LB_REPAIR_CHANGED,   /* changed (or would be, in a dry run) */
	LB_REPAIR_REFUSED,   /* a volume that needs a change cannot be written safely */
	LB_REPAIR_FAILED,
};

struct lb_repair_result {
	enum lb_repair_status status;
	int err; /* for REFUSED / FAILED */
	struct lb_error error;
	char format[16];
	uint64_t virtual_size;
	struct lb_repair_volume *vols;
	unsigned nvols;
	struct lb_repair_item *items;
	unsigned nitems;
	unsigned changes; /* items in state CHANGE */
	unsigned done;	  /* of those, made and verified */
	uint64_t undo_ranges, undo_bytes;
	bool undo_committed;
	bool verified; /* the re-read after the repair showed every change */
};

/*
 * Repair @path as @opts says; fill @res (release with lb_repair_result_release,
 * also on failure). Returns 0 when the image ended CLEAN or CHANGED, or the
 * error that made it REFUSED (-EPERM) or FAILED (recorded, also in @res).
 * On failure after writing began, the image is rolled back from the undo
 * log before returning (and the result says so).
 */
int lb_repair_image(const char *path, const struct lb_repair_opts *opts,
		    struct lb_repair_result *res);

void lb_repair_result_release(struct lb_repair_result *res);

/*
 * Only the plan, on a device already open (a snapshot read in place, say):
 * what the recipe would change. Never writes. Returns 0 with status CLEAN or
 * CHANGED (volumes that could not be examined are in the result), or an error.
 */
int lb_repair_plan_disk(struct lb_dev *disk, const struct lb_repair_opts *o,
			struct lb_repair_result *res);

/* "clean", "changed", "refused", "failed". */
const char *lb_repair_status_name(enum lb_repair_status s);

/*
 * Roll back an image from an undo log after a crashed or killed repair:
 * open the image read-write and lb_undo_apply() with LB_UNDO_FORCE when the
 * log has no commit. Returns 0 or the error (recorded).
 */
int lb_repair_rollback(const char *image, enum lb_image_format format, const char *undo_log,
		       uint64_t *ranges_out);

#endif
