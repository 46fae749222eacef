/* SPDX-License-Identifier: MIT */
/* "/job/ID": one job. Its CPU and memory over its run against its limits
 * (the series boxqd keeps), its attributes as qstat shows them to anyone,
 * and its history as tracejob gives it. */
#include "web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
attr(struct sb *b, const char *name, const char *value) {
  if (!value || !*value)
    return;
  sb_puts(b, "<dt>");
  sb_html(b, name);
  sb_puts(b, "</dt><dd>");
  sb_html(b, value);
  sb_puts(b, "</dd>");
}

static void
attr_time(struct sb *b, const char *name, int64_t t) {
  if (t <= 0)
    return;
  char buf[64];
  fmt_time(t, buf, sizeof(buf));
  attr(b, name, buf);
}

static void
attributes(struct sb *b, const struct job_rec *j) {
  char buf[128];
  sb_puts(b, "<div class=\"card\"><b>Attributes</b><dl id=\"attrs\">");
  attr(b, "Name", j->name);
  attr(b, "Owner", j->owner);
  attr(b, "Queue", j->queue);
  attr(b, "State", state_word(j->state));
  if (j->state == JOB_FINISHED && j->end_reason)
    attr(b, "End", job_end_to_string(j->end_reason));
  if (j->state == JOB_FINISHED && j->has_exit) {
    snprintf(buf, sizeof(buf), "%lld", (long long)j->exit_status);
    attr(b, "Exit status", buf);
  }
  snprintf(buf, sizeof(buf), "%lld", (long long)job_cpus(j));
  attr(b, "CPUs", buf);
  fmt_bytes(j->mem > 0 ? j->mem : -1, buf, sizeof(buf));
  attr(b, "Memory limit", j->mem > 0 ? buf : "none");
  if (j->walltime > 0)
    res_format_duration(j->walltime, buf, sizeof(buf));
  attr(b, "Walltime", j->walltime > 0 ? buf : "none");
  if (j->ngpus > 0) {
    snprintf(buf, sizeof(buf), "%lld", (long long)j->ngpus);
    attr(b, "GPUs", buf);
  }
  attr(b, "Devices", j->devices);
  attr(b, "Account", j->account);
  attr(b, "Project", j->project);
  attr(b, "Depends on", j->depend);
  attr(b, "Working directory", j->workdir);
  attr(b, "Comment", j->comment);
  attr_time(b, "Submitted", j->ctime);
  attr_time(b, "Eligible", j->qtime);
  attr_time(b, "Started", j->stime);
  attr_time(b, "Ended", j->etime);
  if (j->stime > 0 && j->qtime > 0 && j->stime >= j->qtime) {
    fmt_span(j->stime - j->qtime, buf, sizeof(buf));
    attr(b, "Waited", buf);
  }
  attr(b, "Host", j->exec_host);
  if (j->has_usage) {
    fmt_hms_usec(j->usage.cpu_usec, buf, sizeof(buf));
    attr(b, "CPU time", buf);
    fmt_hms_usec(j->usage.wall_usec, buf, sizeof(buf));
    attr(b, "Wall time", buf);
    fmt_bytes(j->usage.mem_peak, buf, sizeof(buf));
    attr(b, "Peak memory", buf);
    if (j->usage.oom_kills > 0) {
      snprintf(buf, sizeof(buf), "%lld", (long long)j->usage.oom_kills);
      attr(b, "OOM kills", buf);
    }
    if (j->usage.nr_throttled > 0) {
      snprintf(buf, sizeof(buf), "%lld times, %.1f s", (long long)j->usage.nr_throttled,
               (double)j->usage.throttled_usec / 1e6);
      attr(b, "CPU throttled", buf);
    }
  }
  sb_puts(b, "</dl></div>");
}

static void
plots(struct sb *b, const struct job_rec *j, const struct series_point *p, size_t n) {
  sb_puts(b, "<div class=\"cards\"><div class=\"card\" id=\"plot-cpu\">");
  if (n == 0) {
    sb_puts(b, "<p class=\"mute\">No usage samples yet: a job's usage is taken every second "
               "over its first minute and reaches boxqd every sample_interval (boxq.ini); a "
               "job shorter than a second, or without a cgroup, has its final figures "
               "only.</p></div></div>");
    return;
  }
  double *x = xcalloc(n, sizeof(double)), *cpu = xcalloc(n, sizeof(double));
  double *mem = xcalloc(n, sizeof(double)), *peak = xcalloc(n, sizeof(double));
  size_t nmem = 0;
  for (size_t i = 0; i < n; i++) {
    x[i] = (double)p[i].t_usec / 1e6;
    double dt = (double)(p[i].t_usec - (i ? p[i - 1].t_usec : 0));
    double dc = (double)(p[i].cpu_usec - (i ? p[i - 1].cpu_usec : 0));
    cpu[i] = dt > 0 && dc > 0 ? dc / dt : 0;
    peak[i] = (double)p[i].mem_peak;
    if (p[i].mem >= 0)
      mem[nmem++] = (double)p[i].mem;
  }
  char lim[64];
  snprintf(lim, sizeof(lim), "ncpus %lld", (long long)job_cpus(j));
  struct line cl = {"CPUs used", "#3558d6", x, cpu, n, false};
  svg_lines(b, "CPU", NULL, &cl, 1, (double)job_cpus(j), lim);
  sb_puts(b, "</div><div class=\"card\" id=\"plot-mem\">");
  char mb[32];
  fmt_bytes(j->mem, mb, sizeof(mb));
  snprintf(lim, sizeof(lim), "limit %s", mb);
  /* Samples without a current figure (an older worker) plot the peak only. */
  struct line ml[2] = {{"in use", "#2a9d8f", x, mem, nmem == n ? n : 0, false},
                       {"peak", "#c2417a", x, peak, n, true}};
  svg_lines(b, "Memory", "bytes", ml, 2, j->mem > 0 ? (double)j->mem : 0, lim);
  sb_printf(b, "<p class=\"mute\">%zu samples", n);
  if (j->state == JOB_FINISHED && j->end_reason == END_OOM)
    sb_puts(b, "; the kernel's OOM killer ended the job at its memory limit");
  sb_puts(b, "</p></div></div>");
  free(x);
  free(cpu);
  free(mem);
  free(peak);
}

static void
history(struct sb *b, const struct web_event *ev, size_t n) {
  sb_printf(b, "<h2>History</h2><table id=\"events\"><tr><th>Time</th><th>Event</th>"
               "<th>Detail</th></tr>");
  for (size_t i = 0; i < n; i++) {
    char when[64];
    fmt_time(ev[i].time, when, sizeof(when));
    sb_printf(b, "<tr><td>%s</td><td>", when);
    sb_html(b, ev[i].name);
    sb_puts(b, "</td><td>");
    sb_html(b, ev[i].detail);
    sb_puts(b, "</td></tr>");
  }
  bool hidden = false;
  for (size_t i = 0; i < n; i++)
    hidden |= !ev[i].detail[0];
  if (n == 0)
    sb_puts(b, "<tr><td colspan=\"3\" class=\"mute\">none kept (its history may have expired: "
               "keep_history)</td></tr>");
  sb_puts(b, "</table>");
  if (hidden)
    sb_puts(b, "<p class=\"mute\">Details of a job's events are its owner's: tracejob shows "
               "them to its owner.</p>");
}

int
page_job(struct web *w, const char *ref, struct sb *out, bool fragment) {
  char title[96];
  snprintf(title, sizeof(title), "Job %.40s", ref);
  if (!fragment)
    html_head(out, title, NULL);
  struct joblist jl = {0};
  int r = web_jobs(w, FETCH_FINISHED | FETCH_ACCOUNTING | FETCH_TASKS, ref, &jl);
  if (r < 0 || jl.n == 0) {
    sb_puts(out, r == -ENOENT || (r == 0 && jl.n == 0) ? "<div class=\"err\">No such job: "
                                                       : "<div class=\"err\">Cannot ask boxqd: ");
    sb_html(out, r == -ENOENT || r == 0 ? ref : web_error(w));
    sb_puts(out, "</div>");
    joblist_free(&jl);
    if (!fragment)
      html_tail(out, w->refresh_ms);
    return r == -ENOENT || r == 0 ? 404 : 0;
  }
  const struct job_rec *j = &jl.jobs[0];
  struct series_point pts[SERIES_MAX];
  size_t n = 0;
  struct web_event *ev = NULL;
  size_t nev = 0;
  web_series(w, j->id, pts, &n);
  web_events(w, j->id, &ev, &nev);
  _cleanup_free_ char *name = job_display_id(j, w->cli.server[0] ? w->cli.server : "boxq");
  sb_puts(out, "<h1>Job ");
  sb_html(out, name);
  sb_puts(out, " <span class=\"mute\">");
  sb_html(out, j->name);
  sb_printf(out, "</span> <span class=\"badge s-%c\" id=\"state\">%s</span>", j->state,
            state_word(j->state));
  if (j->state == JOB_FINISHED && j->end_reason)
    sb_printf(out, " <span class=\"badge e-%s\" id=\"end\">%s</span>",
              job_end_to_string(j->end_reason), job_end_to_string(j->end_reason));
  sb_puts(out, "</h1>");
  plots(out, j, pts, n);
  sb_puts(out, "<div class=\"cards\" style=\"margin-top:14px\">");
  attributes(out, j);
  sb_puts(out, "</div>");
  history(out, ev, nev);
  web_events_free(ev, nev);
  joblist_free(&jl);
  if (!fragment)
    html_tail(out, w->refresh_ms);
  return 0;
}
