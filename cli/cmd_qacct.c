/* SPDX-License-Identifier: MIT */
/* qacct: the accounting record of finished jobs, as measured by the
 * kernel's cgroup files (with wait4's rusage beside them as a check). */
#include "jobs_fetch.h"
#include "res.h"

#include <getopt.h>
#include <stdarg.h>
#include <string.h>

static const char qacct_usage[] = "Usage: qacct [-j job_id ...]\n"
                                  "  without -j: one line per finished job\n"
                                  "  -j       the full accounting record of each job named\n";

static void line(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
line(const char *key, const char *fmt, ...) {
  printf("%-16s ", key);
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
}

static void
print_record(struct cli_ctx *ctx, const struct job_rec *j) {
  char buf[64];
  const struct job_usage *u = &j->usage;
  printf("==============================================================\n");
  line("qname", "%s", j->queue ? j->queue : "");
  line("hostname", "%s", j->exec_host ? j->exec_host : "-");
  line("owner", "%s", j->owner ? j->owner : "");
  line("gid", "%lld", (long long)j->gid);
  line("jobname", "%s", j->name ? j->name : "");
  _cleanup_free_ char *id = job_display_id(j, ctx->server);
  line("jobnumber", "%s", id);
  fmt_time(j->ctime, buf, sizeof(buf));
  line("qsub_time", "%s", buf);
  fmt_time(j->stime, buf, sizeof(buf));
  line("start_time", "%s", buf);
  fmt_time(j->etime, buf, sizeof(buf));
  line("end_time", "%s", buf);
  line("state", "%c", j->state);
  line("end_reason", "%s", job_end_to_string(j->end_reason));
  if (j->has_exit)
    line("exit_status", "%lld%s", (long long)j->exit_status,
         j->exit_status > JOB_EXIT_SIGNAL_BASE ? " (killed by a signal)" : "");
  res_format_size(j->mem, buf, sizeof(buf));
  line("req_mem", "%s", buf);
  line("req_ncpus", "%lld", (long long)j->ncpus);
  if (j->pids > 0)
    line("req_pids", "%lld", (long long)j->pids);
  if (j->net && *j->net)
    line("req_net", "%s", j->net);
  if (j->cpus && *j->cpus)
    line("cpus", "%s", j->cpus);
  if (j->walltime > 0) {
    res_format_duration(j->walltime, buf, sizeof(buf));
    line("req_walltime", "%s", buf);
  }
  if (j->has_usage) {
    line("ru_wallclock", "%.3fs", u->wall_usec / 1e6);
    line("cpu", "%.3fs", u->cpu_usec / 1e6);
    line("cpu_user", "%.3fs", u->user_usec / 1e6);
    line("cpu_sys", "%.3fs", u->sys_usec / 1e6);
    line("cpu_throttled", "%.3fs in %lld periods", u->throttled_usec / 1e6,
         (long long)u->nr_throttled);
    line("mem_peak", "%lld bytes (%s)", (long long)u->mem_peak, fmt_mem_src(u->mem_peak_src));
    line("oom_kills", "%lld", (long long)u->oom_kills);
    if (u->oom_events >= 0)
      line("oom_events", "%lld", (long long)u->oom_events);
    if (u->mem_max_events >= 0)
      line("mem_limit_hits", "%lld", (long long)u->mem_max_events);
    if (u->swap_peak >= 0)
      line("swap_peak", "%lld bytes", (long long)u->swap_peak);
    line("pids_peak", "%lld", (long long)u->pids_peak);
    if (u->io_rbytes >= 0)
      line("io_read", "%lld bytes", (long long)u->io_rbytes);
    if (u->io_wbytes >= 0)
      line("io_write", "%lld bytes", (long long)u->io_wbytes);
    line("rusage_utime", "%.3fs", u->ru_utime_usec / 1e6);
    line("rusage_stime", "%.3fs", u->ru_stime_usec / 1e6);
    line("rusage_maxrss", "%lld kb", (long long)u->ru_maxrss_kb);
    line("cgroup_backend", "%s", u->cg_backend);
  }
  if (j->cgroup)
    line("cgroup", "%s", j->cgroup);
  if (j->comment)
    line("comment", "%s", j->comment);
}

static void
print_summary(struct cli_ctx *ctx, const struct joblist *l) {
  printf("%-16s %-12s %-12s %-14s %11s %10s %12s %6s\n", "Job id", "Name", "User", "End reason",
         "Exit", "CPU (s)", "Mem peak", "OOM");
  for (size_t i = 0; i < l->n; i++) {
    const struct job_rec *j = &l->jobs[i];
    /* An array job holds nothing itself: its tasks are accounted. */
    if (j->state != JOB_FINISHED || j->array_spec)
      continue;
    char mem[32] = "-", exit[32] = "-";
    _cleanup_free_ char *id = job_display_id(j, ctx->server);
    if (j->has_usage)
      res_format_size(j->usage.mem_peak, mem, sizeof(mem));
    if (j->has_exit)
      snprintf(exit, sizeof(exit), "%lld", (long long)j->exit_status);
    printf("%-16.16s %-12.12s %-12.12s %-14s %11s %10.2f %12s %6lld\n", id, j->name ? j->name : "",
           j->owner ? j->owner : "", job_end_to_string(j->end_reason), exit,
           j->usage.cpu_usec / 1e6, mem, (long long)j->usage.oom_kills);
  }
}

int
cmd_qacct(struct cli_ctx *ctx, int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, NULL, '?'}, {0}};
  bool by_id = false;
  int o;
  while ((o = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
    switch (o) {
      case 'j':
        by_id = true;
        break;
      default:
        fputs(qacct_usage, stderr);
        return 2;
    }
  }
  if (by_id && optind == argc) {
    cli_error(ctx, "-j needs at least one job id");
    return 2;
  }
  if (!by_id && optind != argc) {
    fputs(qacct_usage, stderr);
    return 2;
  }
  struct joblist l;
  int errors;
  if (jobs_fetch(ctx, FETCH_FINISHED | FETCH_TASKS, argv + optind, argc - optind, &l, &errors) < 0)
    return 1;
  if (by_id) {
    for (size_t i = 0; i < l.n; i++) {
      if (l.jobs[i].array_spec)
        continue; /* qacct -j ID[]: its tasks follow */
      if (l.jobs[i].state != JOB_FINISHED) {
        cli_error(ctx, "job %lld.%s has not finished (state %c): no accounting yet",
                  (long long)l.jobs[i].id, ctx->server, l.jobs[i].state);
        errors++;
        continue;
      }
      print_record(ctx, &l.jobs[i]);
    }
  } else
    print_summary(ctx, &l);
  joblist_free(&l);
  return errors ? 1 : 0;
}
