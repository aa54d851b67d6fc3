/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * timefmt.h - points in time as people and scripts write them.
 *
 * Input is ISO 8601 with an explicit zone, because a time without one is
 * ambiguous at 3 a.m. in an incident: "2024-07-19T04:09:00Z",
 * "2024-07-19 04:09Z", "2024-07-19T06:09:00+02:00", "2024-07-19T04:09:00.5Z",
 * or "@1721362140" (seconds since the epoch). Output is UTC with "Z".
 */
#ifndef LB_BASE_TIMEFMT_H
#define LB_BASE_TIMEFMT_H

#include <stddef.h>
#include <time.h>

/*
 * Parse @s. Returns 0, or -EINVAL with the error recorded (a time without a
 * zone is refused with a hint to add "Z" or an offset).
 */
int lb_parse_time(const char *s, struct timespec *out);

/* "2024-07-19T04:09:00Z"; with @nsec, "2024-07-19T04:09:00.123456700Z". Returns @out. */
char *lb_format_time(const struct timespec *t, int nsec, char *out, size_t cap);

/* a < b: -1, equal: 0, a > b: 1 */
int lb_timespec_cmp(const struct timespec *a, const struct timespec *b);

#endif
