/* SPDX-License-Identifier: MIT */
/* "/": the box now. Who holds the CPUs, memory and devices, the running
 * jobs' usage against their limits, the queue in priority order with why
 * each job waits and when it should start. */
#include "web.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Most rows of the queue shown (and estimated); the rest are counted. */
#define QUEUE_ROWS 200

static double
job_priority(const struct job_rec *j) {
  const char *p = j->sched_info ? strstr(j->sched_info, "priority=") : NULL;
  return p ? strtod(p + 9, NULL) : (double)j->priority;
}

static int
queue_order(const void *a, const void *b) {
  const struct job_rec *x = *(const struct job_rec *const *)a,
                       *y = *(const struct job_rec *const *)b;
  /* Queued first, then held and deferred; by priority, then by age. */
  int qx = x->state == JOB_QUEUED, qy = y->state == JOB_QUEUED;
  if (qx != qy)
    return qy - qx;
  double px = job_priority(x), py = job_priority(y);
  if (px != py)
    return px < py ? 1 : -1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* When each queued job should start if jobs start in this order and
 * each running one ends at its walltime: an upper bound (backfill may
 * start it sooner), unknown when something in the way has no walltime. */
struct hold_until {
  double end; /* INFINITY: no walltime */
  double cpus, mem;
};

static double
estimate_start(struct hold_until **occ, size_t *nocc, size_t *cap, double after, double now,
               double ncpus, double mem, const struct job_rec *j) {
  double need_c = (double)job_cpus(j), need_m = (double)job_mem(j);
  if (need_c > ncpus || (mem > 0 && need_m > mem))
    return -1; /* never fits the box */
  double t = after > now ? after : now;
  for (;;) {
    double used_c = 0, used_m = 0, next = INFINITY;
    for (size_t i = 0; i < *nocc; i++)
      if ((*occ)[i].end > t) {
        used_c += (*occ)[i].cpus, used_m += (*occ)[i].mem;
        if ((*occ)[i].end < next)
          next = (*occ)[i].end;
      }
    if (used_c + need_c <= ncpus && (mem <= 0 || used_m + need_m <= mem))
      break;
    if (isinf(next))
      return -1;
    t = next;
  }
  *occ = xgrow(*occ, *nocc + 1, cap, sizeof(**occ), 64);
  (*occ)[(*nocc)++] =
      (struct hold_until){j->walltime > 0 ? t + (double)j->walltime : INFINITY, need_c, need_m};
  return t;
}

/* The cells every row starts with: the job (linked), name, user, queue;
 * the next cell is open. */
static void
job_cells(struct sb *b, const struct job_rec *j) {
  if (j->array_id)
    sb_printf(b, "<td><a href=\"/job/%lld\">%lld[%lld]</a>", (long long)j->id,
              (long long)j->array_id, (long long)j->array_index);
  else
    sb_printf(b, "<td><a href=\"/job/%lld\">%lld</a>", (long long)j->id, (long long)j->id);
  const char *text[] = {j->name, j->owner, j->queue};
  for (size_t i = 0; i < ARRAY_SIZE(text); i++) {
    sb_puts(b, "</td><td>");
    sb_html(b, text[i]);
  }
}

static void
running_table(struct sb *b, struct job_rec **run, size_t n, int64_t now) {
  sb_printf(b, "<h2>Running (%zu)</h2>", n);
  if (n == 0) {
    sb_puts(b, "<p class=\"mute\">No job is running.</p>");
    return;
  }
  sb_puts(b, "<table id=\"running\"><tr><th>Job</th><th>Name</th><th>User</th><th>Queue</th>"
             "<th>CPUs used / held</th><th></th><th>Memory now / limit</th><th></th>"
             "<th>Run time / walltime</th><th></th></tr>");
  for (size_t i = 0; i < n; i++) {
    const struct job_rec *j = run[i];
    double wall = j->has_usage && j->usage.wall_usec > 0 ? (double)j->usage.wall_usec : 0;
    double cpus = wall > 0 ? (double)j->usage.cpu_usec / wall : 0;
    int64_t memnow = !j->has_usage           ? -1
                     : j->usage.mem_now >= 0 ? j->usage.mem_now
                                             : j->usage.mem_peak;
    int64_t ran = j->stime > 0 ? now - j->stime - j->suspended_sec : 0;
    char mem[32], lim[32], ranb[32], wt[32];
    fmt_bytes(memnow, mem, sizeof(mem));
    fmt_bytes(j->mem > 0 ? j->mem : -1, lim, sizeof(lim));
    fmt_span(ran, ranb, sizeof(ranb));
    if (j->walltime > 0)
      fmt_span(j->walltime, wt, sizeof(wt));
    else
      snprintf(wt, sizeof(wt), "none");
    sb_printf(b, "<tr data-job=\"%lld\">", (long long)j->id);
    job_cells(b, j);
    sb_printf(b, "</td><td class=\"n\">%.2f / %lld</td><td>", cpus, (long long)j->ncpus);
    svg_gauge(b, cpus, (double)j->ncpus, false);
    sb_printf(b, "</td><td class=\"n\">%s / %s</td><td>", mem, lim);
    svg_gauge(b, (double)memnow, (double)j->mem, true);
    sb_printf(b, "</td><td class=\"n\">%s / %s</td><td>", ranb, wt);
    svg_gauge(b, (double)ran, (double)j->walltime, true);
    sb_puts(b, "</td></tr>");
  }
  sb_puts(b, "</table>");
}

static void
queue_table(struct sb *b, struct job_rec **q, size_t n, const struct job_rec *const *run,
            size_t nrun, double ncpus, double mem, int64_t now) {
  size_t queued = 0;
  for (size_t i = 0; i < n; i++)
    queued += q[i]->state == JOB_QUEUED;
  sb_printf(b, "<h2>Queue (%zu queued, %zu held or deferred)</h2>", queued, n - queued);
  if (n == 0) {
    sb_puts(b, "<p class=\"mute\">Nothing waits.</p>");
    return;
  }
  struct hold_until *occ = NULL;
  size_t nocc = 0, cap = 0;
  for (size_t i = 0; i < nrun; i++) {
    const struct job_rec *j = run[i];
    occ = xgrow(occ, nocc + 1, &cap, sizeof(*occ), 64);
    occ[nocc++] = (struct hold_until){
        j->walltime > 0 ? (double)(j->stime + j->suspended_sec + j->walltime) : INFINITY,
        (double)job_cpus(j), (double)job_mem(j)};
  }
  sb_puts(b, "<table id=\"queue\"><tr><th>#</th><th>Job</th><th>Name</th><th>User</th>"
             "<th>Queue</th><th>State</th><th class=\"n\">CPUs</th><th class=\"n\">Memory</th>"
             "<th class=\"n\">Walltime</th><th class=\"n\">Priority</th><th>Why it waits</th>"
             "<th>Expected start</th></tr>");
  double after = (double)now;
  bool blocked = false; /* an earlier job cannot be placed: later ones neither */
  for (size_t i = 0; i < n && i < QUEUE_ROWS; i++) {
    const struct job_rec *j = q[i];
    char memb[32], wt[32], when[64] = "-";
    fmt_bytes(j->mem > 0 ? j->mem : -1, memb, sizeof(memb));
    if (j->walltime > 0)
      fmt_span(j->walltime, wt, sizeof(wt));
    else
      snprintf(wt, sizeof(wt), "-");
    if (j->state == JOB_QUEUED && !blocked) {
      double t = estimate_start(&occ, &nocc, &cap, after, (double)now, ncpus, mem, j);
      if (t < 0) {
        blocked = true;
        snprintf(when, sizeof(when), "unknown (no walltime ahead)");
      } else {
        after = t;
        char at[32], in[32];
        fmt_when((int64_t)t, at, sizeof(at));
        fmt_span((int64_t)t - now, in, sizeof(in));
        snprintf(when, sizeof(when), t <= (double)now + 1 ? "now" : "by %s (in %s)", at, in);
      }
    } else if (j->state == JOB_QUEUED)
      snprintf(when, sizeof(when), "unknown");
    else if (j->state == JOB_WAITING && j->exec_time > 0)
      fmt_when(j->exec_time, when, sizeof(when));
    const char *why = j->comment ? j->comment : "";
    if (strncmp(why, "Not Running: ", 13) == 0)
      why += 13;
    sb_printf(b, "<tr data-job=\"%lld\"><td class=\"n\">%zu</td>", (long long)j->id, i + 1);
    job_cells(b, j);
    sb_printf(b,
              "</td><td><span class=\"badge s-%c\">%s</span></td><td class=\"n\">%lld</td>"
              "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%.0f</td>"
              "<td class=\"why\">",
              j->state, state_word(j->state), (long long)job_cpus(j), memb, wt, job_priority(j));
    sb_html(b, why);
    sb_puts(b, "</td><td>");
    sb_html(b, when);
    sb_puts(b, "</td></tr>");
  }
  free(occ);
  sb_puts(b, "</table>");
  if (n > QUEUE_ROWS)
    sb_printf(b, "<p class=\"mute\">and %zu more (qstat lists them all)</p>", n - QUEUE_ROWS);
  sb_puts(b, "<p class=\"mute\">Expected starts assume jobs start in this order and each job "
             "ends at its walltime: backfill may start a job sooner; per-user and queue limits "
             "may hold it longer.</p>");
}

static void
holdings(struct sb *b, const char *what, const char *unit, const struct box *box, double total,
         int field) {
  struct bar_part parts[64];
  size_t n = 0;
  const struct user_hold *h = box->holds;
  double other = 0, held = (double)(field == 0   ? box->held.cpus
                                    : field == 1 ? box->held.mem
                                                 : box->held.gpus);
  for (size_t i = 0; i < box->nholds; i++) {
    double v = (double)(field == 0 ? h[i].cpus : field == 1 ? h[i].mem : h[i].gpus);
    if (v <= 0)
      continue;
    if (n + 1 < ARRAY_SIZE(parts))
      parts[n++] = (struct bar_part){h[i].user, v, name_color(h[i].user)};
    else
      other += v;
  }
  if (other > 0)
    parts[n++] = (struct bar_part){"others", other, "#8a93a8"};
  char a[32], t[32], f[32];
  if (field == 1) {
    fmt_bytes((int64_t)held, a, sizeof(a));
    fmt_bytes((int64_t)total, t, sizeof(t));
    fmt_bytes((int64_t)(total - held > 0 ? total - held : 0), f, sizeof(f));
  } else {
    snprintf(a, sizeof(a), "%.0f", held);
    snprintf(t, sizeof(t), "%.0f", total);
    snprintf(f, sizeof(f), "%.0f", total - held > 0 ? total - held : 0);
  }
  sb_printf(b,
            "<div class=\"card\" data-resource=\"%s\"><b>%s</b> <span class=\"mute\">%s of %s "
            "held, %s free</span>",
            what, what, a, t, f);
  svg_stacked_bar(b, parts, n, total, unit);
  sb_puts(b, "<div class=\"legend\">");
  for (size_t i = 0; i < n; i++) {
    char v[32];
    if (field == 1)
      fmt_bytes((int64_t)parts[i].value, v, sizeof(v));
    else
      snprintf(v, sizeof(v), "%.0f", parts[i].value);
    sb_printf(b, "<span><i style=\"background:%s\"></i>", parts[i].color);
    sb_html(b, parts[i].label);
    sb_printf(b, " %s</span>", v);
  }
  sb_printf(b, "<span><i style=\"background:#eef0f6\"></i>free %s</span></div></div>", f);
}

int
page_box(struct web *w, struct sb *out, bool fragment) {
  if (!fragment)
    html_head(out, "Box now", "/");
  struct box box;
  int r = box_fetch(w, &box);
  if (r < 0) {
    sb_puts(out, "<div class=\"err\">Cannot ask boxqd: ");
    sb_html(out, web_error(w));
    sb_puts(out, "</div>");
    box_free(&box);
    if (!fragment)
      html_tail(out, w->refresh_ms);
    return 0;
  }
  const char *info = box.info;
  const struct joblist jl = box.jobs;
  int64_t now = (int64_t)time(NULL);
  double ncpus = (double)info_i64(info, "ncpus", 0), mem = (double)info_i64(info, "mem", 0);
  int64_t gpus = info_i64(info, "resources_available.ngpus", 0);
  struct job_rec **run = xcalloc(jl.n + 1, sizeof(*run)), **q = xcalloc(jl.n + 1, sizeof(*q));
  size_t nrun = 0, nq = 0;
  for (size_t i = 0; i < jl.n; i++) {
    struct job_rec *j = &jl.jobs[i];
    if (job_is_array_job(j))
      continue; /* its tasks are listed */
    if (j->state == JOB_RUNNING || j->state == JOB_EXITING)
      run[nrun++] = j;
    else if (j->state == JOB_QUEUED || j->state == JOB_HELD || j->state == JOB_WAITING)
      q[nq++] = j;
  }
  qsort(q, nq, sizeof(*q), queue_order);
  char state[64], worker[64];
  sb_printf(out,
            "<h1>The box now</h1><div class=\"kpi\"><div>server<b>%s</b></div>"
            "<div>worker<b>%s</b></div><div>running<b id=\"n-running\">%zu</b></div>"
            "<div>waiting<b id=\"n-waiting\">%zu</b></div><div>CPUs<b>%.0f</b></div>",
            info_get(info, "server_state", state, sizeof(state)) ? state : "?",
            info_get(info, "worker", worker, sizeof(worker)) ? worker : "?", nrun, nq, ncpus);
  char memb[32];
  fmt_bytes((int64_t)mem, memb, sizeof(memb));
  sb_printf(out, "<div>memory<b>%s</b></div>", memb);
  if (gpus > 0)
    sb_printf(out, "<div>GPUs<b>%lld</b></div>", (long long)gpus);
  sb_puts(out, "</div><div class=\"cards\">");
  holdings(out, "CPUs", NULL, &box, ncpus, 0);
  holdings(out, "Memory", "bytes", &box, mem, 1);
  if (gpus > 0)
    holdings(out, "GPUs", NULL, &box, (double)gpus, 2);
  sb_puts(out, "</div>");
  running_table(out, run, nrun, now);
  queue_table(out, q, nq, (const struct job_rec *const *)run, nrun, ncpus, mem, now);
  free(run);
  free(q);
  box_free(&box);
  if (!fragment)
    html_tail(out, w->refresh_ms);
  return 0;
}
