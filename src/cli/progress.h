/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * progress.h - the progress display every long command shares.
 *
 * Mode (from --progress): on a terminal, a bar on stderr with bytes, rate and
 * ETA, redrawn at most ten times a second and erased when done; nothing when
 * stderr is not a terminal or with -q; with --progress=json, one JSON object
 * per line on stderr:
 *
 *   {"event":"start","task":"inspect","total_bytes":N,"total_items":N}
 *   {"event":"progress","task":"inspect","done_bytes":N,"total_bytes":N,
 *    "done_items":N,"total_items":N,"rate":BYTES_PER_S,"eta":SECONDS|null,
 *    "elapsed":SECONDS,"current":"NAME"}
 *   {"event":"end","task":"inspect","done_bytes":N,"done_items":N,"elapsed":SECONDS}
 *
 * Progress lines are emitted at most twice a second, plus one per completed
 * item, so a script sees each item finish.
 */
#ifndef LB_CLI_PROGRESS_H
#define LB_CLI_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct lb_progress;

/* Returns NULL when no display is wanted (the other calls accept NULL). */
struct lb_progress *lb_progress_start(const char *task, uint64_t total_bytes, uint64_t total_items);
/* Report absolute progress; @current names the item being worked on (may be NULL). */
void lb_progress_update(struct lb_progress *p, uint64_t done_bytes, uint64_t done_items,
			const char *current);
/* Erase the bar / emit the end event, and free. */
void lb_progress_finish(struct lb_progress *p);

/* "1:02:03" / "2:03" into @out. */
char *lb_format_duration(double seconds, char *out, size_t cap);

#endif
