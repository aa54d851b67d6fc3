/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check.h - is a repository whole? Structure first (every index object
 * decodes, every pack it lists exists with its size, every snapshot decodes
 * and every blob and chunk it refers to is in the index), then optionally the
 * data (every frame of the packs read is authenticated and every chunk's ID
 * recomputed). Damage is reported with what it affects: the snapshots, and
 * for an image the byte ranges of the disk, for a file tree the files.
 */
#ifndef LB_REPO_CHECK_H
#define LB_REPO_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "repo/repo.h"

struct lb_check_opts {
	double read_data; /* percent of the packs to read (0: none, 100: all) */
	void (*problem)(void *ctx, const char *what); /* called for each problem found */
	void (*progress)(void *ctx, uint64_t done, uint64_t total, const char *what);
	void *ctx;
};

struct lb_check_result {
	uint64_t snapshots, packs, chunks, index_objects;
	uint64_t packs_read, bytes_read;
	uint64_t problems; /* everything reported through problem() */
	uint64_t damaged_packs;
	uint64_t affected_snapshots;
};

/*
 * Check @r. Returns 0 when the check ran (look at res->problems), or an error
 * that stopped it (the store failed, no memory).
 */
int lb_repo_check(struct lb_repo *r, const struct lb_check_opts *o, struct lb_check_result *res);

#endif
