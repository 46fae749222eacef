/* SPDX-License-Identifier: MIT */
/* "/metrics": the box in Prometheus' text exposition format (0.0.4).
 * Names: boxq_ prefix, base units (seconds, bytes), _total for counters;
 * labels: state, queue, user, reason, pass. Counters count from boxqd's
 * start (Prometheus handles the reset when it restarts). */
#include "web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
help(struct sb *b, const char *name, const char *type, const char *text) {
  sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

void
sb_label(struct sb *b, const char *v) {
  for (; v && *v; v++) {
    if (*v == '\\')
      sb_puts(b, "\\\\");
    else if (*v == '"')
      sb_puts(b, "\\\"");
    else if (*v == '\n')
      sb_puts(b, "\\n");
    else {
      char c[2] = {*v, 0};
      sb_puts(b, c);
    }
  }
}

struct count {
  int state;
  const char *queue, *user;
  int64_t n;
};

static void
pass_histogram(struct sb *b, const char *info, const char *pass) {
  char key[64], buf[1024];
  snprintf(key, sizeof(key), "sched_%s_pass_buckets_us", pass);
  if (!info_get(info, key, buf, sizeof(buf)))
    return;
  for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    char *colon = strchr(tok, ':');
    if (!colon)
      continue;
    *colon = '\0';
    if (strcmp(tok, "inf") == 0)
      sb_printf(b, "boxq_scheduler_pass_duration_seconds_bucket{pass=\"%s\",le=\"+Inf\"} %s\n",
                pass, colon + 1);
    else
      sb_printf(b, "boxq_scheduler_pass_duration_seconds_bucket{pass=\"%s\",le=\"%g\"} %s\n", pass,
                strtod(tok, NULL) / 1e6, colon + 1);
  }
  snprintf(key, sizeof(key), "sched_%s_pass_sum_us", pass);
  sb_printf(b, "boxq_scheduler_pass_duration_seconds_sum{pass=\"%s\"} %g\n", pass,
            (double)info_i64(info, key, 0) / 1e6);
  snprintf(key, sizeof(key), "sched_%s_passes", pass);
  sb_printf(b, "boxq_scheduler_pass_duration_seconds_count{pass=\"%s\"} %lld\n", pass,
            (long long)info_i64(info, key, 0));
}

int
page_metrics(struct web *w, struct sb *out) {
  struct box box;
  int r = box_fetch(w, &box);
  help(out, "boxq_up", "gauge", "Whether boxq-web could ask boxqd (1) or not (0).");
  sb_printf(out, "boxq_up %d\n", r == 0);
  if (r < 0) {
    box_free(&box);
    return 0;
  }
  const char *info = box.info;
  const struct joblist jl = box.jobs;
  /* Unfinished jobs by state, queue and user. */
  struct count *c = xcalloc(jl.n + 1, sizeof(*c));
  size_t nc = 0;
  for (size_t i = 0; i < jl.n; i++) {
    const struct job_rec *j = &jl.jobs[i];
    if (job_is_array_job(j))
      continue; /* its tasks count */
    const char *q = j->queue ? j->queue : "", *u = j->owner ? j->owner : "";
    size_t k = 0;
    while (k < nc && !(c[k].state == j->state && !strcmp(c[k].queue, q) && !strcmp(c[k].user, u)))
      k++;
    if (k == nc)
      c[nc++] = (struct count){j->state, q, u, 0};
    c[k].n++;
  }
  help(out, "boxq_jobs", "gauge", "Unfinished jobs (array tasks each) by state, queue and user.");
  for (size_t k = 0; k < nc; k++) {
    sb_printf(out, "boxq_jobs{state=\"%s\",queue=\"", state_word(c[k].state));
    sb_label(out, c[k].queue);
    sb_puts(out, "\",user=\"");
    sb_label(out, c[k].user);
    sb_printf(out, "\"} %lld\n", (long long)c[k].n);
  }
  help(out, "boxq_cpus", "gauge", "CPUs boxq places jobs on.");
  sb_printf(out, "boxq_cpus %lld\n", (long long)info_i64(info, "ncpus", 0));
  help(out, "boxq_cpus_allocated", "gauge", "CPUs held by running jobs.");
  sb_printf(out, "boxq_cpus_allocated %lld\n", (long long)box.held.cpus);
  help(out, "boxq_memory_bytes", "gauge", "Memory boxq places jobs in.");
  sb_printf(out, "boxq_memory_bytes %lld\n", (long long)info_i64(info, "mem", 0));
  help(out, "boxq_memory_allocated_bytes", "gauge", "Memory held (asked) by running jobs.");
  sb_printf(out, "boxq_memory_allocated_bytes %lld\n", (long long)box.held.mem);
  int64_t ngpus = info_i64(info, "resources_available.ngpus", -1);
  if (ngpus >= 0) {
    help(out, "boxq_gpus", "gauge", "GPUs boxq places jobs on.");
    sb_printf(out, "boxq_gpus %lld\n", (long long)ngpus);
    help(out, "boxq_gpus_allocated", "gauge", "GPUs held by running jobs.");
    sb_printf(out, "boxq_gpus_allocated %lld\n", (long long)box.held.gpus);
  }
  static const char *const held_names[][2] = {
      {"boxq_user_cpus_allocated", "CPUs held by each user's running jobs."},
      {"boxq_user_memory_allocated_bytes", "Memory held by each user's running jobs."},
      {"boxq_user_gpus_allocated", "GPUs held by each user's running jobs."}};
  for (int f = 0; f < (ngpus >= 0 ? 3 : 2); f++) {
    help(out, held_names[f][0], "gauge", held_names[f][1]);
    const struct user_hold *h = box.holds;
    for (size_t m = 0; m < box.nholds; m++) {
      sb_printf(out, "%s{user=\"", held_names[f][0]);
      sb_label(out, h[m].user);
      sb_printf(out, "\"} %lld\n", (long long)(f == 0 ? h[m].cpus : f == 1 ? h[m].mem : h[m].gpus));
    }
  }
  free(c);
  help(out, "boxq_jobs_submitted_total", "counter", "Jobs submitted since boxqd started.");
  sb_printf(out, "boxq_jobs_submitted_total %lld\n",
            (long long)info_i64(info, "jobs_submitted", 0));
  help(out, "boxq_job_ends_total", "counter", "Jobs that ended since boxqd started, by how.");
  for (int e = END_NONE + 1; e < END_MAX; e++) {
    char key[64];
    snprintf(key, sizeof(key), "jobs_ended.%s", job_end_to_string(e));
    sb_printf(out, "boxq_job_ends_total{reason=\"%s\"} %lld\n", job_end_to_string(e),
              (long long)info_i64(info, key, 0));
  }
  help(out, "boxq_scheduler_pass_duration_seconds", "histogram",
       "How long boxqd's scheduling passes took (full: the whole queue; quick: after a change).");
  pass_histogram(out, info, "full");
  pass_histogram(out, info, "quick");
  char v[64];
  help(out, "boxq_scheduler_start_time_seconds", "gauge", "When boxqd started, unix time.");
  sb_printf(out, "boxq_scheduler_start_time_seconds %lld\n",
            (long long)info_i64(info, "started_at", 0));
  help(out, "boxq_scheduling_enabled", "gauge",
       "1 unless scheduling is off (qmgr) or the node offline.");
  sb_printf(out, "boxq_scheduling_enabled %d\n",
            info_get(info, "scheduling", v, sizeof(v)) && !strcmp(v, "True") &&
                info_get(info, "node_state", v, sizeof(v)) && !strcmp(v, "free"));
  help(out, "boxq_worker_up", "gauge", "Whether boxq-worker is connected to boxqd.");
  sb_printf(out, "boxq_worker_up %d\n",
            info_get(info, "worker", v, sizeof(v)) && !strcmp(v, "connected"));
  help(out, "boxq_worker_last_change_timestamp_seconds", "gauge",
       "When boxq-worker last connected or went away, unix time.");
  sb_printf(out, "boxq_worker_last_change_timestamp_seconds %lld\n",
            (long long)info_i64(info, "worker_since", 0));
  help(out, "boxq_db_size_bytes", "gauge", "Size of boxqd's SQLite database.");
  sb_printf(out, "boxq_db_size_bytes %lld\n", (long long)info_i64(info, "db_bytes", -1));
  help(out, "boxq_db_wal_size_bytes", "gauge", "Size of the database's write-ahead log.");
  sb_printf(out, "boxq_db_wal_size_bytes %lld\n", (long long)info_i64(info, "db_wal_bytes", -1));
  help(out, "boxq_db_commit_failures_total", "counter",
       "Database commits that failed (a full disk, an I/O error) since boxqd started.");
  sb_printf(out, "boxq_db_commit_failures_total %lld\n",
            (long long)info_i64(info, "db_commit_failures", 0));
  box_free(&box);
  return 0;
}
