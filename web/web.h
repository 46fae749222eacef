/* SPDX-License-Identifier: MIT */
/* boxq-web: a read-only view of the box in a browser, and Prometheus
 * metrics. It asks boxqd what any user may see (no scripts, no
 * environments: it never asks for them) over the CLI's socket and
 * renders HTML with server-drawn SVG plots; the pages refresh their
 * content in place by short polling (?fragment=1).
 *
 *   main.c          options, the listening socket, libmicrohttpd
 *   source.c        requests to boxqd (one connection, reopened as needed)
 *   box.c           the box as / and /metrics see it: jobs, who holds what
 *   html.c          text building and escaping, the page frame
 *   svg.c           bars, lines over time, bars by day
 *   page_box.c      /          the box now: who holds what, running, queue
 *   page_job.c      /job/ID    a job: attributes, plots, history
 *   page_history.c  /history   the last 30 days
 *   metrics.c       /metrics   Prometheus' text format */
#pragma once

#include "cli.h"
#include "jobs_fetch.h"
#include "series.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growing text. */
struct sb {
  char *s;
  size_t len, cap;
};

void sb_puts(struct sb *b, const char *s);
void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with & < > " ' escaped (NULL: nothing). */
void sb_html(struct sb *b, const char *s);
/* s as a Prometheus label value: backslash, double quote, newline escaped. */
void sb_label(struct sb *b, const char *s);
void sb_free(struct sb *b);

/* What one request of a page needs. */
struct web {
  struct cli_ctx cli; /* its connection to boxqd; MHD's one thread uses it */
  int refresh_ms;     /* how often pages poll for fresh content */
};

/* source.c: requests to boxqd. Each returns 0 or -errno with the reason
 * in w->cli's error buffer (web_error). A broken connection is reopened
 * once. */
const char *web_error(struct web *w);
int web_server_info(struct web *w, char **ret_text);
/* "key=value" lines: the value of key, or NULL. */
const char *info_get(const char *text, const char *key, char *buf, size_t len);
int64_t info_i64(const char *text, const char *key, int64_t dflt);
int web_jobs(struct web *w, int flags, const char *ref, struct joblist *ret);
int web_series(struct web *w, int64_t id, struct series_point *pts, size_t *ret_n);
struct web_event {
  int64_t time;
  char *name, *detail;
};
int web_events(struct web *w, int64_t id, struct web_event **ret, size_t *ret_n);
void web_events_free(struct web_event *ev, size_t n);
struct web_group {
  char *key;
  int64_t jobs, completed, failed, timeouts, oom_kills, cancelled;
  int64_t cpu_usec, gpu_usec, waited, wait_sec, wait_max_sec;
};
/* qacct's summaries grouped by "day,user", "day" or "user", of jobs that
 * ended since then (reasons: a mask of 1 << enum job_end; 0 all). */
int web_acct(struct web *w, const char *by, int64_t since, int64_t reasons, struct web_group **ret,
             size_t *ret_n);
void web_groups_free(struct web_group *g, size_t n);

/* box.c: the box as / and /metrics see it. jobs holds the unfinished
 * jobs, an array job beside its tasks (job_is_array_job: count its
 * tasks, not it); holds what running jobs hold per user, the heaviest
 * CPU holder first, held the same in all. */
struct user_hold {
  const char *user;
  int64_t cpus, mem, gpus;
};
struct box {
  char *info; /* boxqd's "key=value" server info */
  struct joblist jobs;
  struct user_hold *holds, held;
  size_t nholds;
};
int box_fetch(struct web *w, struct box *box);
void box_free(struct box *box);
bool job_is_array_job(const struct job_rec *j);
/* The CPUs a job holds (1 when it named none), its memory (0: none). */
int64_t job_cpus(const struct job_rec *j);
int64_t job_mem(const struct job_rec *j);

/* html.c: the page around a page's content. */
void html_head(struct sb *b, const char *title, const char *nav);
void html_tail(struct sb *b, int refresh_ms);
/* "2.5 GiB", "512 MiB"; "-" below 0. */
void fmt_bytes(int64_t v, char *buf, size_t len);
/* "1h 02m", "3m 05s", "12s". */
void fmt_span(int64_t sec, char *buf, size_t len);
/* Local time, "12-07 14:03:05". */
void fmt_when(int64_t t, char *buf, size_t len);
/* A stable colour for a name. */
const char *name_color(const char *name);
const char *state_word(int state);

/* svg.c */
struct bar_part {
  const char *label;
  double value;
  const char *color;
};
/* One horizontal bar of parts out of total (the rest: free). */
void svg_stacked_bar(struct sb *b, const struct bar_part *parts, size_t n, double total,
                     const char *unit);
/* A small gauge: used against a limit (0: none); warning colours as it
 * nears the limit when that is bad (memory, walltime; not CPUs). */
void svg_gauge(struct sb *b, double used, double limit, bool near_is_bad);
struct line {
  const char *label;
  const char *color;
  const double *x, *y; /* x in seconds since the start */
  size_t n;
  bool dashed;
};
/* Lines over time with a limit drawn across (limit <= 0: none). */
void svg_lines(struct sb *b, const char *title, const char *unit, const struct line *lines,
               size_t n, double limit, const char *limit_label);
/* Bars by day, stacked by series: v[s * ndays + d]. */
void svg_day_bars(struct sb *b, const char *title, const char *unit, char *const *days,
                  size_t ndays, char *const *series, const char *const *colors, size_t nseries,
                  const double *v);

/* The pages: each writes a whole page, or only its live part when
 * fragment. 0, or an HTTP status to answer instead (its text in out). */
int page_box(struct web *w, struct sb *out, bool fragment);
int page_job(struct web *w, const char *ref, struct sb *out, bool fragment);
int page_history(struct web *w, struct sb *out, bool fragment);
int page_metrics(struct web *w, struct sb *out);
