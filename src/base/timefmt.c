/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base/timefmt.h"
#include "base/err.h"
#include "base/util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Read exactly @n digits. */
static bool digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

#define TIME_HINT "write it as 2024-07-19T04:09:00Z (UTC) or with an offset such as +02:00"

int lb_parse_time(const char *s, struct timespec *out)
{
	const char *p = s;
	int y, mo, d, h, mi, sec = 0, oh = 0, om = 0;
	long nsec = 0;
	int64_t t;

	if (s[0] == '@') {
		uint64_t v;

		if (lb_parse_u64(s + 1, &v) < 0 || v > (uint64_t)INT64_MAX / 2)
			return lb_err(-EINVAL, s, TIME_HINT, "not a number of seconds since 1970");
		out->tv_sec = (time_t)v;
		out->tv_nsec = 0;
		return 0;
	}
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return lb_err(-EINVAL, s, TIME_HINT, "not a date and time");
	if (*p != 'T' && *p != 't' && *p != ' ')
		return lb_err(-EINVAL, s, TIME_HINT, "a time of day is missing");
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
		return lb_err(-EINVAL, s, TIME_HINT, "not a time of day");
	if (*p == ':') {
		p++;
		if (!digits(&p, 2, &sec))
			return lb_err(-EINVAL, s, TIME_HINT, "bad seconds");
		if (*p == '.' || *p == ',') {
			long scale = 100000000;

			p++;
			if (*p < '0' || *p > '9')
				return lb_err(-EINVAL, s, TIME_HINT, "bad fraction of a second");
			for (; *p >= '0' && *p <= '9'; p++) {
				nsec += (*p - '0') * scale;
				scale /= 10;
			}
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
		return lb_err(-EINVAL, s, TIME_HINT, "no such date or time");
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if (!digits(&p, 2, &oh))
			return lb_err(-EINVAL, s, TIME_HINT, "bad zone offset");
		if (*p == ':')
			p++;
		if (*p && !digits(&p, 2, &om))
			return lb_err(-EINVAL, s, TIME_HINT, "bad zone offset");
		if (oh > 23 || om > 59)
			return lb_err(-EINVAL, s, TIME_HINT, "bad zone offset");
		oh *= sign;
		om *= sign;
	} else if (!*p) {
		return lb_err(-EINVAL, s, TIME_HINT,
			      "the time has no zone, so it is ambiguous; lifeboat does not guess");
	}
	if (*p)
		return lb_err(-EINVAL, s, TIME_HINT, "unexpected text after the time");
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= (int64_t)oh * 3600 + (int64_t)om * 60;
	out->tv_sec = (time_t)t;
	out->tv_nsec = nsec;
	return 0;
}

char *lb_format_time(const struct timespec *t, int nsec, char *out, size_t cap)
{
	struct tm tm;
	time_t s = t->tv_sec;

	if (!gmtime_r(&s, &tm)) {
		snprintf(out, cap, "@%lld", (long long)s);
		return out;
	}
	if (nsec)
		snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, t->tv_nsec);
	else
		snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return out;
}

int lb_timespec_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}
