/* SPDX-License-Identifier: MIT */
/* "/history": the last 30 days from the accounting summaries boxqd keeps
 * (a few thousand rows however many jobs ended): CPU-hours and GPU-hours
 * per user per day, how jobs ended, how long they waited. */
#include "web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAYS      30
#define TOP_USERS 9

struct user_total {
  char *name;
  double cpu_h, gpu_h;
  int64_t jobs, waited, wait_sec, wait_max;
};

static int
by_cpu_h(const void *a, const void *b) {
  const struct user_total *x = a, *y = b;
  return x->cpu_h < y->cpu_h ? 1 : x->cpu_h > y->cpu_h ? -1 : strcmp(x->name, y->name);
}

static int
day_index(char *const *days, const char *key) {
  for (int d = 0; d < DAYS; d++)
    if (strncmp(days[d], key, 10) == 0)
      return d;
  return -1;
}

int
page_history(struct web *w, struct sb *out, bool fragment) {
  if (!fragment)
    html_head(out, "History", "/history");
  /* From local midnight DAYS - 1 days ago: whole days, today's so far. */
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_mday -= DAYS - 1;
  tm.tm_isdst = -1;
  int64_t since = (int64_t)mktime(&tm);
  char *days[DAYS];
  for (int d = 0; d < DAYS; d++) {
    struct tm t = tm;
    t.tm_mday += d;
    t.tm_isdst = -1;
    mktime(&t);
    days[d] = xasprintf("%04d-%02d-%02d", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday);
  }
  struct web_group *du = NULL, *dd = NULL, *oom = NULL, *us = NULL;
  size_t ndu = 0, ndd = 0, noom = 0, nus = 0;
  int r = web_acct(w, "day,user", since, 0, &du, &ndu);
  if (r == 0)
    r = web_acct(w, "day", since, 0, &dd, &ndd);
  if (r == 0)
    r = web_acct(w, "day", since, 1 << END_OOM, &oom, &noom);
  if (r == 0)
    r = web_acct(w, "user", since, 0, &us, &nus);
  if (r < 0) {
    sb_puts(out, "<div class=\"err\">Cannot ask boxqd: ");
    sb_html(out, web_error(w));
    sb_puts(out, "</div>");
    goto done;
  }
  /* Users by CPU-hours over the 30 days: the heaviest apart, the rest as
   * "others". */
  struct user_total *ut = xcalloc(nus + 1, sizeof(*ut));
  for (size_t i = 0; i < nus; i++)
    ut[i] = (struct user_total){us[i].key,
                                (double)us[i].cpu_usec / 3.6e9,
                                (double)us[i].gpu_usec / 3.6e9,
                                us[i].jobs,
                                us[i].waited,
                                us[i].wait_sec,
                                us[i].wait_max_sec};
  qsort(ut, nus, sizeof(*ut), by_cpu_h);
  size_t nser = nus > TOP_USERS + 1 ? TOP_USERS + 1 : nus;
  char **names = xcalloc(nser + 1, sizeof(*names));
  const char **colors = xcalloc(nser + 1, sizeof(*colors));
  for (size_t s = 0; s < nser; s++) {
    bool other = nus > TOP_USERS + 1 && s == TOP_USERS;
    names[s] = other ? (char *)"others" : ut[s].name;
    colors[s] = other ? "#8a93a8" : name_color(ut[s].name);
  }
  double *cpu = xcalloc(nser * DAYS + 1, sizeof(double)),
         *gpu = xcalloc(nser * DAYS + 1, sizeof(double));
  double gpu_total = 0, cpu_total = 0;
  for (size_t i = 0; i < ndu; i++) {
    int d = day_index(days, du[i].key);
    const char *user = strlen(du[i].key) > 11 ? du[i].key + 11 : "";
    if (d < 0)
      continue;
    size_t s = nser ? nser - 1 : 0;
    for (size_t k = 0; k < nser; k++)
      if (strcmp(names[k], user) == 0)
        s = k;
    cpu[s * DAYS + (size_t)d] += (double)du[i].cpu_usec / 3.6e9;
    gpu[s * DAYS + (size_t)d] += (double)du[i].gpu_usec / 3.6e9;
    cpu_total += (double)du[i].cpu_usec / 3.6e9;
    gpu_total += (double)du[i].gpu_usec / 3.6e9;
  }
  int64_t jobs = 0, waited = 0, wait_sec = 0;
  for (size_t i = 0; i < ndd; i++)
    jobs += dd[i].jobs, waited += dd[i].waited, wait_sec += dd[i].wait_sec;
  char avg[32];
  fmt_span(waited ? wait_sec / waited : 0, avg, sizeof(avg));
  sb_printf(out,
            "<h1>The last %d days</h1><div class=\"kpi\"><div>jobs ended<b id=\"n-ended\">"
            "%lld</b></div><div>CPU-hours<b>%.1f</b></div><div>GPU-hours<b>%.1f</b></div>"
            "<div>users<b>%zu</b></div><div>average wait<b>%s</b></div></div>",
            DAYS, (long long)jobs, cpu_total, gpu_total, nus, avg);
  sb_puts(out, "<div class=\"card\" id=\"plot-cpu-hours\">");
  svg_day_bars(out, "CPU-hours per user per day", "h", days, DAYS, names, colors, nser, cpu);
  sb_puts(out, "</div><div class=\"card\" id=\"plot-gpu-hours\" style=\"margin-top:14px\">");
  if (gpu_total > 0)
    svg_day_bars(out, "GPU-hours per user per day", "h", days, DAYS, names, colors, nser, gpu);
  else
    sb_puts(out, "<b>GPU-hours per user per day</b><p class=\"mute\">No GPU time in these "
                 "days.</p>");
  /* How jobs ended: failed counts every unsuccessful end; timeouts and
   * OOM kills are taken out of it to stand alone. */
  static char *reason_names[] = {"completed", "failed", "timeout", "out of memory", "cancelled"};
  static const char *reason_colors[] = {"#1e8e4e", "#c0392b", "#c77c02", "#7a5cd6", "#8a93a8"};
  double *ends = xcalloc(5 * DAYS, sizeof(double)), *waits = xcalloc(2 * DAYS, sizeof(double));
  for (size_t i = 0; i < ndd; i++) {
    int d = day_index(days, dd[i].key);
    if (d < 0)
      continue;
    int64_t ooms = 0;
    for (size_t k = 0; k < noom; k++)
      if (strcmp(oom[k].key, dd[i].key) == 0)
        ooms = oom[k].jobs;
    ends[0 * DAYS + d] = (double)dd[i].completed;
    ends[1 * DAYS + d] = (double)(dd[i].failed - dd[i].timeouts - ooms);
    ends[2 * DAYS + d] = (double)dd[i].timeouts;
    ends[3 * DAYS + d] = (double)ooms;
    ends[4 * DAYS + d] = (double)dd[i].cancelled;
    waits[d] = dd[i].waited ? (double)dd[i].wait_sec / (double)dd[i].waited : 0;
    waits[DAYS + d] = (double)dd[i].wait_max_sec;
  }
  sb_puts(out, "</div><div class=\"card\" id=\"plot-ends\" style=\"margin-top:14px\">");
  svg_day_bars(out, "Jobs ended per day, by how", NULL, days, DAYS, reason_names, reason_colors, 5,
               ends);
  sb_puts(out, "</div><div class=\"card\" id=\"plot-waits\" style=\"margin-top:14px\">");
  static char *wait_names[] = {"average wait"};
  static const char *wait_colors[] = {"#3558d6"};
  svg_day_bars(out, "Time waited in the queue per day (average)", "seconds", days, DAYS, wait_names,
               wait_colors, 1, waits);
  sb_puts(out, "</div><h2>By user</h2><table id=\"users\"><tr><th>User</th>"
               "<th class=\"n\">Jobs</th><th class=\"n\">CPU-hours</th><th class=\"n\">GPU-hours"
               "</th><th class=\"n\">Average wait</th><th class=\"n\">Longest wait</th></tr>");
  for (size_t i = 0; i < nus; i++) {
    char a[32], m[32];
    fmt_span(ut[i].waited ? ut[i].wait_sec / ut[i].waited : 0, a, sizeof(a));
    fmt_span(ut[i].wait_max, m, sizeof(m));
    sb_puts(out, "<tr><td>");
    sb_html(out, ut[i].name);
    sb_printf(out,
              "</td><td class=\"n\">%lld</td><td class=\"n\">%.2f</td><td class=\"n\">%.2f"
              "</td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>",
              (long long)ut[i].jobs, ut[i].cpu_h, ut[i].gpu_h, a, m);
  }
  if (nus == 0)
    sb_puts(out, "<tr><td colspan=\"6\" class=\"mute\">No job ended in these days.</td></tr>");
  sb_puts(out, "</table>");
  free(ends);
  free(waits);
  free(cpu);
  free(gpu);
  free(names);
  free(colors);
  free(ut);
done:
  web_groups_free(du, ndu);
  web_groups_free(dd, ndd);
  web_groups_free(oom, noom);
  web_groups_free(us, nus);
  for (int d = 0; d < DAYS; d++)
    free(days[d]);
  if (!fragment)
    html_tail(out, w->refresh_ms);
  return 0;
}
