/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_cat.c - lifeboat cat IMAGE [PART:]PATH: copy one file from inside an
 * image to standard output, read-only, in 1 MiB pieces (a file of any size
 * streams in constant memory).
 *
 * The file must be in exactly one volume: a path found in two partitions is
 * refused with the partitions named, so that a script never gets the wrong
 * one's bytes. Folders, symlinks and special files are refused.
 */
#include "cli/cli.h"
#include "cli/volume.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAT_CHUNK (1u << 20)

/* Write all of @buf to fd 1. Returns 0, -EPIPE (the reader went away) or -errno. */
static int write_all(const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t w = write(STDOUT_FILENO, buf, len);

		if (w < 0) {
			if (errno == EINTR && !lb_interrupted_check())
				continue;
			return -errno;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static bool looks_binary(const uint8_t *buf, size_t len)
{
	return memchr(buf, 0, LB_MIN(len, (size_t)4096)) != NULL;
}

static int copy_out(const char *image, struct lb_vol_hit *hit)
{
	_cleanup_free_ uint8_t *buf = malloc(CAT_CHUNK);
	uint64_t off = 0, size = hit->st.size;
	int r;

	if (!buf)
		return lb_cli_error(image);
	while (off < size) {
		size_t want = (size_t)LB_MIN((uint64_t)CAT_CHUNK, size - off);
		ssize_t got;

		if (lb_interrupted_check()) {
			lb_err(-EINTR, NULL, "run it again",
			       "interrupted after %" PRIu64 " of %" PRIu64 " bytes", off, size);
			return lb_cli_error(image);
		}
		lb_err_clear();
		got = lb_fs_pread(hit->vol->fs, hit->stored, buf, want, off);
		if (got < 0) {
			if (!lb_err_last()->code)
				lb_err_errno((int)got, hit->stored, "reading the file");
			if (hit->vol->part)
				lb_err_context("partition %u", hit->vol->part);
			lb_err_default_hint("the file system may be damaged; see 'lifeboat "
					    "inspect IMAGE'");
			return lb_cli_error(image);
		}
		if (got == 0) {
			lb_err(-EIO, hit->stored,
			       "the file system may be damaged; see 'lifeboat "
			       "inspect IMAGE'",
			       "the file ended after %" PRIu64 " of its %" PRIu64 " bytes", off,
			       size);
			if (hit->vol->part)
				lb_err_context("partition %u", hit->vol->part);
			return lb_cli_error(image);
		}
		if (off == 0 && isatty(STDOUT_FILENO) && looks_binary(buf, (size_t)got))
			lb_cli_warn(image,
				    "%s is binary; pipe it into 'xxd | less' or redirect it "
				    "to a file",
				    hit->stored);
		r = write_all(buf, (size_t)got);
		if (r == -EPIPE)
			return LB_EXIT_OK; /* the reader has what it wanted (| head) */
		if (r < 0) {
			lb_err(r == -ENOSPC ? -ENOSPC : -EIO, "standard output",
			       "check where the output goes (disk full?)", "write failed: %s",
			       strerror(-r));
			return lb_cli_error(NULL);
		}
		off += (uint64_t)got;
	}
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): a _cleanup_free_ variable */
	return LB_EXIT_OK;
}

int cmd_cat(int argc, char **argv, const struct lb_cmd *cmd)
{
	struct lb_vol_opts vo = {0};
	const struct lb_option opts[] = {
		LB_VOL_OPTIONS(&vo),
		{LB_OPT_END},
	};
	const char *image, *path;
	enum lb_image_format fmt;
	struct lb_volumes vs;
	struct lb_vol_hit *hits = NULL;
	unsigned nhits = 0;
	int n, r, code;

	n = lb_parse_options(argc, argv, opts, cmd);
	if (n < 0)
		return n == -2 ? LB_EXIT_OK : LB_EXIT_USAGE;
	if (lb_cli.json)
		return lb_cli_usage("cat writes the file's bytes; --json is not available");
	if (n == 0)
		return lb_cli_usage("no image given");
	if (n == 1)
		return lb_cli_usage("no file given (IMAGE [PART:]PATH)");
	if (n > 2)
		return lb_cli_usage("unexpected argument '%s' (one image and one file)", argv[3]);
	image = argv[1];
	if ((r = lb_vol_split_operand(argv[2], &vo, &path)) != 0)
		return r;
	if ((r = lb_vol_opts_validate(&vo, &fmt)) != 0)
		return r;
	lb_cli_install_signals();

	lb_err_clear();
	r = lb_volumes_open(image, &vo, &vs);
	if (r < 0) {
		code = lb_cli_error(image);
		goto out;
	}
	if (lb_volumes_need_one(&vs) < 0) {
		code = lb_volumes_print_none(&vs);
		goto out;
	}
	r = lb_volumes_locate(&vs, path, &hits, &nhits);
	if (r < 0) {
		struct lb_error err;

		lb_err_save(&err);
		if (r == -ENOENT)
			lb_volumes_report(&vs, true);
		code = lb_cli_print_error(image, &err);
		goto out;
	}
	lb_volumes_report(&vs, true);
	if (nhits > 1) {
		code = lb_vol_ambiguous(&vs, path, hits, nhits);
		goto out;
	}
	switch (hits[0].st.type) {
	case LB_FT_FILE:
		code = copy_out(image, &hits[0]);
		break;
	case LB_FT_DIR:
		lb_err(-EISDIR, hits[0].stored[0] ? hits[0].stored : "/",
		       "list it with 'lifeboat ls'", "is a folder");
		code = lb_cli_error(image);
		break;
	case LB_FT_SYMLINK: {
		char target[4097];
		ssize_t t = lb_fs_readlink(hits[0].vol->fs, hits[0].stored, target, sizeof(target));

		lb_err_clear();
		if (t >= 0)
			lb_err(-EINVAL, hits[0].stored, "cat the file it points to",
			       "is a symbolic link to '%s', which lifeboat does not follow",
			       target);
		else
			lb_err(-EINVAL, hits[0].stored, "cat the file it points to",
			       "is a symbolic link, which lifeboat does not follow");
		lb_cli_error(image);
		code = LB_EXIT_NOINPUT;
		break;
	}
	default:
		lb_err(-EINVAL, hits[0].stored, "only regular files have content to show",
		       "is a special file (device, fifo, socket or reparse point)");
		lb_cli_error(image);
		code = LB_EXIT_NOINPUT;
		break;
	}
out:
	lb_vol_hits_free(hits, nhits);
	lb_volumes_release(&vs);
	return code;
}
