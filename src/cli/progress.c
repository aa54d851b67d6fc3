/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli/progress.h"
#include "cli/cli.h"
#include "base/json.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

struct lb_progress {
	char task[32];
	enum lb_progress_mode mode; /* BAR or JSON */
	uint64_t total_bytes, total_items;
	uint64_t done_bytes, done_items;
	double start, last_draw;
	uint64_t last_items;
	bool drawn;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *lb_format_duration(double s, char *out, size_t cap)
{
	unsigned long t = s < 0 ? 0 : (unsigned long)(s + 0.5);

	if (t >= 3600)
		snprintf(out, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(out, cap, "%lu:%02lu", t / 60, t % 60);
	return out;
}

struct lb_progress *lb_progress_start(const char *task, uint64_t total_bytes, uint64_t total_items)
{
	enum lb_progress_mode mode = lb_cli.progress;
	struct lb_progress *p;

	if (mode == LB_PROGRESS_AUTO)
		mode = (lb_cli.verbosity >= 0 && isatty(2)) ? LB_PROGRESS_BAR : LB_PROGRESS_NONE;
	if (mode == LB_PROGRESS_NONE)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	lb_strlcpy(p->task, task, sizeof(p->task));
	p->mode = mode;
	p->total_bytes = total_bytes;
	p->total_items = total_items;
	p->start = now();
	if (mode == LB_PROGRESS_JSON) {
		struct lb_json j;

		lb_json_init(&j, stderr, LB_JSON_COMPACT);
		lb_json_begin_object(&j, NULL);
		lb_json_string(&j, "event", "start");
		lb_json_string(&j, "task", p->task);
		lb_json_u64(&j, "total_bytes", total_bytes);
		lb_json_u64(&j, "total_items", total_items);
		lb_json_end_object(&j);
		lb_json_finish(&j);
	}
	return p;
}

static unsigned term_width(void)
{
	struct winsize ws;

	if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

static void draw_bar(struct lb_progress *p, const char *current, double elapsed)
{
	char done[16], total[16], rate[16], eta[16] = "", right[160], line[512];
	double r = elapsed > 0.05 ? (double)p->done_bytes / elapsed : 0;
	double frac = p->total_bytes   ? (double)p->done_bytes / (double)p->total_bytes
		      : p->total_items ? (double)p->done_items / (double)p->total_items
				       : 0;
	unsigned width = term_width(), barw, fill;
	int n;

	if (frac > 1)
		frac = 1;
	lb_format_size(p->done_bytes, done, sizeof(done));
	lb_format_size(p->total_bytes, total, sizeof(total));
	lb_format_size((uint64_t)r, rate, sizeof(rate));
	if (r > 0 && p->total_bytes > p->done_bytes) {
		char d[16];

		snprintf(eta, sizeof(eta), " ETA %s",
			 lb_format_duration((double)(p->total_bytes - p->done_bytes) / r, d,
					    sizeof(d)));
	}
	if (!p->total_bytes && p->total_items) {
		/* counting items (images, files): their rate and ETA instead of bytes */
		double ir = elapsed > 0.05 ? (double)p->done_items / elapsed : 0;

		eta[0] = '\0';
		if (ir > 0 && p->total_items > p->done_items) {
			char d[16];

			snprintf(eta, sizeof(eta), " ETA %s",
				 lb_format_duration((double)(p->total_items - p->done_items) / ir,
						    d, sizeof(d)));
		}
		n = snprintf(right, sizeof(right), " %3.0f%% %llu/%llu %.1f/s%s", frac * 100,
			     (unsigned long long)p->done_items, (unsigned long long)p->total_items,
			     ir, eta);
	} else {
		n = snprintf(right, sizeof(right), " %3.0f%% %s/%s %s/s%s", frac * 100, done, total,
			     rate, eta);
	}
	if (p->total_bytes && p->total_items > 1 && n > 0 && (size_t)n < sizeof(right))
		snprintf(right + n, sizeof(right) - (size_t)n, " (%llu/%llu)",
			 (unsigned long long)p->done_items, (unsigned long long)p->total_items);
	barw = width > strlen(p->task) + strlen(right) + 24 ? 20 : 10;
	fill = (unsigned)(frac * barw);
	n = snprintf(line, sizeof(line), "%s [", p->task);
	for (unsigned i = 0; i < barw && n > 0 && (size_t)n < sizeof(line) - 1; i++)
		line[n++] = i < fill ? '#' : '.';
	if (n > 0 && (size_t)n < sizeof(line)) {
		line[n] = '\0';
		snprintf(line + n, sizeof(line) - (size_t)n, "]%s %s", right,
			 current ? current : "");
	}
	if (strlen(line) > width - 1)
		line[width - 1] = '\0';
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	p->drawn = true;
}

static void emit_json(struct lb_progress *p, const char *current, double elapsed)
{
	struct lb_json j;
	double r = elapsed > 0 ? (double)p->done_bytes / elapsed : 0;

	lb_json_init(&j, stderr, LB_JSON_COMPACT);
	lb_json_begin_object(&j, NULL);
	lb_json_string(&j, "event", "progress");
	lb_json_string(&j, "task", p->task);
	lb_json_u64(&j, "done_bytes", p->done_bytes);
	lb_json_u64(&j, "total_bytes", p->total_bytes);
	lb_json_u64(&j, "done_items", p->done_items);
	lb_json_u64(&j, "total_items", p->total_items);
	lb_json_double(&j, "rate", r);
	if (r > 0 && p->total_bytes >= p->done_bytes)
		lb_json_double(&j, "eta", (double)(p->total_bytes - p->done_bytes) / r);
	else
		lb_json_null(&j, "eta");
	lb_json_double(&j, "elapsed", elapsed);
	lb_json_string(&j, "current", current);
	lb_json_end_object(&j);
	lb_json_finish(&j);
}

void lb_progress_update(struct lb_progress *p, uint64_t done_bytes, uint64_t done_items,
			const char *current)
{
	double t, interval;

	if (!p)
		return;
	p->done_bytes = done_bytes;
	p->done_items = done_items;
	t = now();
	interval = p->mode == LB_PROGRESS_JSON ? 0.5 : 0.1;
	if (t - p->last_draw < interval && done_items == p->last_items)
		return;
	p->last_draw = t;
	p->last_items = done_items;
	if (p->mode == LB_PROGRESS_BAR)
		draw_bar(p, current, t - p->start);
	else
		emit_json(p, current, t - p->start);
}

void lb_progress_finish(struct lb_progress *p)
{
	if (!p)
		return;
	if (p->mode == LB_PROGRESS_BAR && p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	} else if (p->mode == LB_PROGRESS_JSON) {
		struct lb_json j;

		lb_json_init(&j, stderr, LB_JSON_COMPACT);
		lb_json_begin_object(&j, NULL);
		lb_json_string(&j, "event", "end");
		lb_json_string(&j, "task", p->task);
		lb_json_u64(&j, "done_bytes", p->done_bytes);
		lb_json_u64(&j, "done_items", p->done_items);
		lb_json_double(&j, "elapsed", now() - p->start);
		lb_json_end_object(&j);
		lb_json_finish(&j);
	}
	free(p);
}
