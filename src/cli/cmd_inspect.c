/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_inspect.c - lifeboat inspect IMAGE...: what is inside each image,
 * read-only: format, sizes, partition table, and the file system (with its
 * health: dirty, hibernated, BitLocker) of each partition.
 */
#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/repoopt.h"
#include "base/err.h"
#include "base/json.h"
#include "base/util.h"
#include "fs/osinfo.h"
#include "fs/probe.h"
#include "io/image.h"
#include "io/ptable.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct part_report {
	struct lb_part part;
	bool has_fs; /* false for an extended container */
	struct lb_fs_info fs;
	int fs_err; /* a read error while probing, or 0 */
	struct lb_error err;
	bool has_os;
	struct lb_os_info os;
};

struct image_report {
	const char *path;
	int err;
	struct lb_error error;
	struct lb_image *img;
	uint64_t data_allocated;
	bool data_known;
	struct lb_ptable pt;
	unsigned nparts;
	struct part_report *parts; /* nparts; for an unpartitioned disk, one entry, number 0 */
	unsigned part_errors;	   /* volumes that could not be read (their fs_err < 0) */
};

/*
 * A volume that cannot be read does not stop the inspection of the others:
 * its error is kept (with "partition N" in front of the object) and the
 * command exits non-zero at the end.
 */
static void probe_volume(struct lb_dev *dev, struct part_report *pr, unsigned *errors)
{
	pr->has_fs = true;
	lb_err_clear();
	pr->fs_err = lb_fs_probe(dev, &pr->fs);
	if (pr->fs_err < 0) {
		if (!lb_err_last()->code)
			lb_err_errno(pr->fs_err, NULL, "reading the volume");
		if (pr->part.number)
			lb_err_context("partition %u", pr->part.number);
		lb_err_save(&pr->err);
		(*errors)++;
		return;
	}
	pr->has_os = lb_os_detect(dev, &pr->fs, &pr->os) == 0;
}

static int inspect_one(const char *path, enum lb_image_format fmt, bool force_share,
		       struct image_report *rep)
{
	struct lb_image_opts opts = {.read_only = true, .format = fmt, .force_share = force_share};
	int r;

	rep->path = path;
	r = lb_image_open(path, &opts, &rep->img);
	if (r < 0)
		return r;
	if (lb_dev_allocated(rep->img->disk, &rep->data_allocated) == 0)
		rep->data_known = true;
	r = lb_ptable_read(rep->img->disk, &rep->pt);
	if (r < 0)
		return r;
	if (rep->pt.kind == LB_PTABLE_NONE) {
		rep->parts = calloc(1, sizeof(*rep->parts));
		if (!rep->parts)
			return -ENOMEM;
		rep->nparts = 1;
		rep->parts[0].part.size = rep->img->disk->size;
		rep->parts[0].part.type_name = "whole disk";
		probe_volume(rep->img->disk, &rep->parts[0], &rep->part_errors);
		return 0;
	}
	rep->parts = calloc(rep->pt.n ? rep->pt.n : 1, sizeof(*rep->parts));
	if (!rep->parts)
		return -ENOMEM;
	rep->nparts = rep->pt.n;
	for (unsigned i = 0; i < rep->pt.n; i++) {
		struct part_report *pr = &rep->parts[i];
		struct lb_dev *pdev;

		pr->part = rep->pt.parts[i];
		if (pr->part.mbr_type == 0x05 || pr->part.mbr_type == 0x0f ||
		    pr->part.mbr_type == 0x85)
			continue;
		r = lb_part_dev_new(rep->img->disk, &pr->part, &pdev);
		if (r < 0)
			return r;
		probe_volume(pdev, pr, &rep->part_errors);
		lb_dev_unref(pdev);
	}
	return 0;
}

static void report_release(struct image_report *rep)
{
	lb_image_free(rep->img);
	lb_ptable_release(&rep->pt);
	free(rep->parts);
}

/* ---- JSON output ------------------------------------------------------- */

static void json_tristate(struct lb_json *j, const char *key, int v)
{
	if (v < 0)
		lb_json_null(j, key);
	else
		lb_json_bool(j, key, v != 0);
}

static void json_error(struct lb_json *j, const char *key, const char *subject,
		       const struct lb_error *e)
{
	char object[LB_ERR_OBJECT_MAX];

	lb_cli_object(subject, e->object, object, sizeof(object));
	lb_json_begin_object(j, key);
	lb_json_string(j, "code", lb_errno_name(e->code));
	lb_json_u64(j, "exit_code", (uint64_t)lb_exit_code(e->code));
	lb_json_string(j, "object", object[0] ? object : NULL);
	lb_json_string(j, "problem", e->problem);
	lb_json_string(j, "hint", e->hint[0] ? e->hint : NULL);
	lb_json_end_object(j);
}

static void json_fs(struct lb_json *j, const char *subject, const struct part_report *pr)
{
	const struct lb_fs_info *fs = &pr->fs;

	if (!pr->has_fs) {
		lb_json_null(j, "filesystem");
		return;
	}
	if (pr->fs_err < 0) {
		lb_json_begin_object(j, "filesystem");
		lb_json_null(j, "type");
		json_error(j, "error", subject, &pr->err);
		lb_json_end_object(j);
		return;
	}
	lb_json_begin_object(j, "filesystem");
	lb_json_string(j, "type", lb_fs_kind_name(fs->kind));
	lb_json_string(j, "label", fs->label[0] ? fs->label : NULL);
	lb_json_string(j, "uuid", fs->uuid[0] ? fs->uuid : NULL);
	lb_json_string(j, "version", fs->version[0] ? fs->version : NULL);
	if (fs->cluster_size)
		lb_json_u64(j, "cluster_size", fs->cluster_size);
	else
		lb_json_null(j, "cluster_size");
	if (fs->size)
		lb_json_u64(j, "size", fs->size);
	else
		lb_json_null(j, "size");
	json_tristate(j, "dirty", fs->dirty);
	if (fs->kind == LB_FS_NTFS) {
		json_tristate(j, "dirty_flag", fs->dirty_flag);
		json_tristate(j, "journal_clean", fs->journal_clean);
		json_tristate(j, "hibernated", fs->hibernated);
	}
	if (fs->kind == LB_FS_BITLOCKER)
		lb_json_bool(j, "to_go", fs->togo);
	lb_json_bool(j, "encrypted", fs->kind == LB_FS_BITLOCKER || fs->kind == LB_FS_LUKS);
	lb_json_string(j, "note", fs->note[0] ? fs->note : NULL);
	lb_json_end_object(j);
}

static void json_os(struct lb_json *j, const struct part_report *pr)
{
	if (!pr->has_os) {
		lb_json_null(j, "os");
		return;
	}
	lb_json_begin_object(j, "os");
	lb_json_string(j, "family", pr->os.family);
	lb_json_string(j, "name", pr->os.name);
	lb_json_string(j, "version", pr->os.version);
	lb_json_end_object(j);
}

static void json_image(struct lb_json *j, const struct image_report *rep)
{
	const struct lb_image *img = rep->img;
	char guid[37];

	lb_json_begin_object(j, NULL);
	lb_json_string(j, "path", rep->path);
	lb_json_bool(j, "ok", rep->err == 0);
	if (rep->err < 0) {
		json_error(j, "error", rep->path, &rep->error);
		lb_json_end_object(j);
		return;
	}
	lb_json_string(j, "format", lb_image_format_name(img->format));
	lb_json_string(j, "subformat", img->subformat[0] ? img->subformat : NULL);
	lb_json_u64(j, "virtual_size", img->disk->size);
	lb_json_u64(j, "file_size", img->file_size);
	lb_json_u64(j, "file_allocated", img->file_allocated);
	if (rep->data_known)
		lb_json_u64(j, "data_allocated", rep->data_allocated);
	else
		lb_json_null(j, "data_allocated");
	lb_json_string(j, "backing_file", img->backing_file[0] ? img->backing_file : NULL);
	lb_json_u64(j, "partition_errors", rep->part_errors);
	lb_json_begin_array(j, "notes");
	if (img->note[0])
		lb_json_string(j, NULL, img->note);
	if (rep->pt.note[0])
		lb_json_string(j, NULL, rep->pt.note);
	lb_json_end_array(j);

	lb_json_begin_object(j, "partition_table");
	lb_json_string(j, "type", lb_ptable_kind_name(rep->pt.kind));
	if (rep->pt.kind != LB_PTABLE_NONE)
		lb_json_u64(j, "sector_size", rep->pt.sector_size);
	if (rep->pt.kind == LB_PTABLE_GPT) {
		lb_json_string(j, "disk_guid", lb_format_guid(rep->pt.disk_guid, guid));
		lb_json_bool(j, "primary_header_ok", rep->pt.gpt_primary_ok);
		lb_json_bool(j, "backup_header_ok", rep->pt.gpt_backup_ok);
		lb_json_bool(j, "used_backup", rep->pt.gpt_used_backup);
		lb_json_u64(j, "entries", rep->pt.gpt_entries);
	} else if (rep->pt.kind == LB_PTABLE_MBR) {
		char sig[16];

		snprintf(sig, sizeof(sig), "0x%08" PRIx32, rep->pt.mbr_signature);
		lb_json_string(j, "disk_signature", sig);
	}
	lb_json_end_object(j);

	lb_json_begin_array(j, "partitions");
	for (unsigned i = 0; rep->pt.kind != LB_PTABLE_NONE && i < rep->nparts; i++) {
		const struct part_report *pr = &rep->parts[i];
		const struct lb_part *p = &pr->part;

		lb_json_begin_object(j, NULL);
		lb_json_u64(j, "number", p->number);
		lb_json_u64(j, "start", p->start);
		lb_json_u64(j, "size", p->size);
		lb_json_string(j, "type", p->type_name);
		if (rep->pt.kind == LB_PTABLE_GPT) {
			lb_json_string(j, "type_guid", lb_format_guid(p->type_guid, guid));
			lb_json_string(j, "partition_guid", lb_format_guid(p->part_guid, guid));
			lb_json_string(j, "name", p->name);
			lb_json_u64(j, "attributes", p->attributes);
		} else {
			char t[8];

			snprintf(t, sizeof(t), "0x%02x", p->mbr_type);
			lb_json_string(j, "mbr_type", t);
			lb_json_bool(j, "bootable", p->bootable);
			lb_json_bool(j, "logical", p->logical);
		}
		json_fs(j, rep->path, pr);
		json_os(j, pr);
		lb_json_end_object(j);
	}
	lb_json_end_array(j);
	if (rep->pt.kind == LB_PTABLE_NONE && rep->nparts == 1) {
		json_fs(j, rep->path, &rep->parts[0]);
		json_os(j, &rep->parts[0]);
	} else {
		lb_json_null(j, "filesystem");
		lb_json_null(j, "os");
	}
	lb_json_end_object(j);
}

/* ---- human output ------------------------------------------------------ */

/* Windows file systems speak of clusters; ext and XFS of blocks. */
static bool has_clusters(enum lb_fs_kind kind)
{
	switch (kind) {
	case LB_FS_NTFS:
	case LB_FS_FAT12:
	case LB_FS_FAT16:
	case LB_FS_FAT32:
	case LB_FS_EXFAT:
	case LB_FS_REFS:
		return true;
	default:
		return false;
	}
}

static void fs_summary(const struct part_report *pr, char *out, size_t cap)
{
	const struct lb_fs_info *fs = &pr->fs;
	char cs[16];
	size_t n;

	if (!pr->has_fs) {
		snprintf(out, cap, "-");
		return;
	}
	if (pr->fs_err < 0) {
		snprintf(out, cap, "unreadable: %.300s", pr->err.problem);
		return;
	}
	n = (size_t)snprintf(out, cap, "%s", lb_fs_kind_name(fs->kind));
#define ADD(...)                                                              \
	do {                                                                  \
		if (n < cap)                                                  \
			n += (size_t)snprintf(out + n, cap - n, __VA_ARGS__); \
	} while (0)
	if (fs->label[0])
		ADD(" \"%s\"", fs->label);
	if (fs->kind == LB_FS_BITLOCKER)
		ADD(fs->togo ? " (To Go), locked" : ", locked");
	if (fs->cluster_size && fs->kind != LB_FS_SWAP)
		ADD(", %s %s", lb_format_size(fs->cluster_size, cs, sizeof(cs)),
		    has_clusters(fs->kind) ? "clusters" : "blocks");
	if (fs->dirty == 1)
		ADD(", DIRTY");
	else if (fs->dirty == 0)
		ADD(", clean");
	if (fs->hibernated == 1)
		ADD(", HIBERNATED");
	else if (fs->hibernated == 0)
		ADD(", not hibernated");
	if (pr->has_os)
		ADD(", %s", pr->os.name);
	if (fs->note[0])
		ADD(" (%s)", fs->note);
#undef ADD
}

static void human_image(const struct image_report *rep)
{
	const struct lb_image *img = rep->img;
	char a[16], b[16], c[16], guid[37], fsdesc[512];

	printf("%s\n", rep->path);
	printf("  format       %s%s%s%s\n", lb_image_format_name(img->format),
	       img->subformat[0] ? " (" : "", img->subformat, img->subformat[0] ? ")" : "");
	printf("  disk size    %s (%" PRIu64 " bytes)\n",
	       lb_format_size(img->disk->size, a, sizeof(a)), img->disk->size);
	if (img->format != LB_FMT_NBD)
		printf("  file         %s, %s allocated on the host\n",
		       lb_format_size(img->file_size, b, sizeof(b)),
		       lb_format_size(img->file_allocated, c, sizeof(c)));
	if (rep->data_known)
		printf("  guest data   %s allocated\n",
		       lb_format_size(rep->data_allocated, a, sizeof(a)));
	if (img->backing_file[0])
		printf("  backing file %s\n", img->backing_file);
	if (img->note[0])
		printf("  note         %s\n", img->note);
	if (rep->pt.kind == LB_PTABLE_GPT)
		printf("  table        GPT, %u-byte sectors, disk GUID %s\n", rep->pt.sector_size,
		       lb_format_guid(rep->pt.disk_guid, guid));
	else if (rep->pt.kind == LB_PTABLE_MBR)
		printf("  table        MBR, disk signature 0x%08" PRIx32 "\n",
		       rep->pt.mbr_signature);
	else
		printf("  table        none\n");
	if (rep->pt.note[0])
		printf("  note         %s\n", rep->pt.note);
	if (rep->pt.kind == LB_PTABLE_NONE) {
		fs_summary(&rep->parts[0], fsdesc, sizeof(fsdesc));
		printf("  file system  %s\n", fsdesc);
		return;
	}
	printf("  %-3s %-10s %-10s %-22s %s\n", "#", "start", "size", "type", "file system");
	for (unsigned i = 0; i < rep->nparts; i++) {
		const struct part_report *pr = &rep->parts[i];

		fs_summary(pr, fsdesc, sizeof(fsdesc));
		printf("  %-3u %-10s %-10s %-22s %s\n", pr->part.number,
		       lb_format_size(pr->part.start, a, sizeof(a)),
		       lb_format_size(pr->part.size, b, sizeof(b)), pr->part.type_name, fsdesc);
	}
}

int cmd_inspect(int argc, char **argv, const struct lb_cmd *cmd)
{
	const char *format = NULL;
	int force_share = 0;
	const struct lb_option opts[] = {
		{LB_OPT_STRING, 'f', "format", &format, "FMT",
		 "read as this format: raw, vhd, vhdx, qcow2, vmdk, vdi (default: detect)"},
		{LB_OPT_BOOL, 'U', "force-share", &force_share, NULL,
		 "read an image even while a running VM holds its lock (what is read may be "
		 "inconsistent)"},
		LB_SNAPSHOT_REPO_OPTIONS,
		{LB_OPT_END},
	};
	enum lb_image_format fmt = LB_FMT_AUTO;
	struct image_report *reps;
	struct lb_progress *prog;
	struct lb_json j;
	unsigned ok = 0, failed = 0, incomplete = 0, clean = 0;
	int n, first_code = 0, code;
	bool mixed = false;

	n = lb_parse_options(argc, argv, opts, cmd);
	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (n == 0)
		return lb_cli_usage("no image given");
	if (format && lb_image_format_parse(format, &fmt) < 0)
		return lb_cli_usage("--format: '%s' is not one of raw, vhd, vhdx, qcow2, vmdk, vdi",
				    format);

	reps = calloc((size_t)n, sizeof(*reps));
	if (!reps)
		return LB_EXIT_FAILURE;
	prog = lb_progress_start("inspect", 0, (uint64_t)n);
	if (lb_cli.json) {
		lb_json_init(&j, stdout, LB_JSON_PRETTY);
		lb_json_begin_object(&j, NULL);
		lb_json_u64(&j, "version", 1);
		lb_json_begin_array(&j, "images");
	}
	/*
	 * Exit status: each image ends clean (0), failed (it could not be read:
	 * the error's code) or incomplete (read, but a partition could not be:
	 * that error's code). All clean: 0; some clean and some not: 3
	 * (partial); none clean: their common code, or 1 if they differ.
	 */
	for (int i = 0; i < n; i++) {
		struct image_report *rep = &reps[i];
		int img_code = 0;

		lb_progress_update(prog, 0, (uint64_t)i, argv[1 + i]);
		lb_err_clear();
		rep->err = inspect_one(argv[1 + i], fmt, force_share, rep);
		if (rep->err < 0) {
			lb_err_save(&rep->error);
			if (!rep->error.code)
				rep->error.code = rep->err;
			img_code = lb_cli_error(argv[1 + i]);
			failed++;
		} else {
			ok++;
			for (unsigned k = 0; k < rep->nparts; k++) {
				const struct part_report *pr = &rep->parts[k];

				if (!pr->has_fs || pr->fs_err >= 0)
					continue;
				code = lb_cli_print_error(argv[1 + i], &pr->err);
				if (!img_code)
					img_code = code;
			}
			if (rep->part_errors)
				incomplete++;
			else
				clean++;
		}
		if (img_code) {
			if (first_code && img_code != first_code)
				mixed = true;
			if (!first_code)
				first_code = img_code;
		}
		if (lb_cli.json) {
			json_image(&j, rep);
		} else if (rep->err == 0) {
			if (i > 0)
				putchar('\n');
			human_image(rep);
		}
		fflush(stdout);
		report_release(rep);
	}
	lb_progress_update(prog, 0, (uint64_t)n, NULL);
	lb_progress_finish(prog);
	if (lb_cli.json) {
		lb_json_end_array(&j);
		lb_json_begin_object(&j, "summary");
		lb_json_u64(&j, "images", (uint64_t)n);
		lb_json_u64(&j, "ok", ok);
		lb_json_u64(&j, "failed", failed);
		lb_json_u64(&j, "incomplete", incomplete);
		lb_json_end_object(&j);
		lb_json_end_object(&j);
		lb_json_finish(&j);
	}
	free(reps);
	if (clean == (unsigned)n)
		return LB_EXIT_OK;
	if (clean > 0)
		return LB_EXIT_PARTIAL;
	return mixed ? LB_EXIT_FAILURE : first_code;
}
