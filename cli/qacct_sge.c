/* SPDX-License-Identifier: MIT */
/* qacct as Grid Engine prints it (dialect sge): -j's records in its
 * layout (the field names its clients parse: failed, exit_status, ru_*,
 * cpu, mem, io, maxvmem) and the usage sums, in all or by owner, queue or
 * project, over -d days or -b/-e times. The figures are boxq's cgroup
 * accounting; mem, Grid Engine's integral of memory over CPU time, is the
 * peak times the CPU seconds (boxq keeps no integral). */
#include "jobs_fetch.h"
#include "sge_out.h"

#include <fnmatch.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char qacct_sge_usage[] =
    "Usage: qacct [-j [job_id|job_name|pattern]] [-o [owner]] [-q [queue]] [-P [project]]\n"
    "             [-A account] [-d days] [-b begin_time] [-e end_time]\n"
    "The Grid Engine forms of qacct (dialect sge): the usage of finished jobs,\n"
    "in all or by owner (-o), queue (-q), project (-P); -j the record of each job.\n"
    "  begin_time, end_time: [[CC]YY]MMDDhhmm[.SS]\n";

/* What Grid Engine's accounting says of a job. */
struct sge_acct {
  double wallclock, utime, stime, cpu, mem, io, iow, maxvmem;
  int failed;
  const char *failed_why;
  int64_t exit_status;
};

static void
acct_of(const struct job_rec *j, struct sge_acct *a) {
  const struct job_usage *u = &j->usage;
  *a = (struct sge_acct){.failed_why = ""};
  if (j->has_usage) {
    a->wallclock = (double)u->wall_usec / 1e6;
    a->utime = (double)u->user_usec / 1e6;
    a->stime = (double)u->sys_usec / 1e6;
    a->cpu = (double)u->cpu_usec / 1e6;
    a->maxvmem = (double)(u->mem_peak > 0 ? u->mem_peak : 0);
    a->mem = a->maxvmem / (1024.0 * 1024 * 1024) * a->cpu;
    a->io =
        (double)((u->io_rbytes > 0 ? u->io_rbytes : 0) + (u->io_wbytes > 0 ? u->io_wbytes : 0)) /
        (1024.0 * 1024 * 1024);
  } else if (j->stime && j->etime > j->stime)
    a->wallclock = (double)(j->etime - j->stime);
  a->exit_status = job_shell_status(j);
  bool ran = j->stime > 0;
  /* Grid Engine's failure codes: the job's own exit is not a failure; one
   * the system ended is "assumedly after job" (100); one that never ran
   * failed before it ("opening input/output file" for its files). */
  if (!ran || (j->has_exit && j->exit_status < 0)) {
    bool files = j->has_exit && j->exit_status == JOB_EXEC_FAIL_FILES;
    a->failed = files ? 26 : 1;
    a->failed_why = files ? "opening input/output file" : "assumedly before job";
  } else if (j->end_reason == END_TIMEOUT || j->end_reason == END_OOM ||
             j->end_reason == END_CANCELLED || j->end_reason == END_CPUTIME ||
             j->end_reason == END_LOST) {
    a->failed = 100;
    a->failed_why = "assumedly after job";
  }
}

/* qacct -j's lines: the name in 13 columns (12 of it at most), the value
 * in 20. */
static void
kv(const char *key, const char *value) {
  sge_kv(key, 13, 20, value);
}

static void
kv_i64(const char *key, int64_t v) {
  sge_kv_i64(key, 13, 20, v);
}

/* ctime's form, its newline included, as Grid Engine prints it. */
static void
kv_time(const char *key, int64_t t) {
  char when[64];
  if (t <= 0) {
    printf("%-13.12s-/-\n", key);
    return;
  }
  fmt_time(t, when, sizeof(when));
  printf("%-13.12s%s\n", key, when);
}

static void
print_record(const struct job_rec *j) {
  struct sge_acct a;
  acct_of(j, &a);
  char host[256] = "localhost", buf[64];
  gethostname(host, sizeof(host) - 1);
  const struct job_usage *u = &j->usage;
  printf("==============================================================\n");
  kv("qname", j->queue ? j->queue : "(NULL)");
  kv("hostname", host);
  snprintf(buf, sizeof(buf), "%lld", (long long)j->gid);
  kv("group", j->group_list && *j->group_list ? j->group_list : buf);
  kv("owner", j->owner ? j->owner : "(NULL)");
  kv("project", j->project && *j->project ? j->project : "NONE");
  kv("department", "defaultdepartment");
  kv("jobname", j->name ? j->name : "(NULL)");
  kv_i64("jobnumber", sge_job_number(j));
  if (j->array_id)
    kv_i64("taskid", j->array_index);
  else
    printf("%-13.12s%s\n", "taskid", "undefined");
  kv("account", j->account && *j->account ? j->account : "sge");
  kv_i64("priority", j->priority);
  kv_time("qsub_time", j->ctime);
  kv_time("start_time", j->stime);
  kv_time("end_time", j->stime ? j->etime : 0);
  const char *pe = job_env_value(j, "PE");
  kv("granted_pe", pe ? pe : "NONE");
  kv_i64("slots", j->ncpus);
  printf("%-13.12s%-3d %s %s\n", "failed", a.failed, a.failed ? ":" : "", a.failed_why);
  kv_i64("exit_status", a.exit_status);
  printf("%-13.12s%-13.0f\n", "ru_wallclock", a.wallclock);
  printf("%-13.12s%-13.3f\n", "ru_utime", a.utime);
  printf("%-13.12s%-13.3f\n", "ru_stime", a.stime);
  int64_t maxrss_kb = j->has_usage && u->mem_peak > 0 ? u->mem_peak / 1024 : 0;
  kv_i64("ru_maxrss", maxrss_kb);
  static const char *const zeros[] = {"ru_ixrss",   "ru_ismrss", "ru_idrss",  "ru_isrss",
                                      "ru_minflt",  "ru_majflt", "ru_nswap",  "ru_inblock",
                                      "ru_oublock", "ru_msgsnd", "ru_msgrcv", "ru_nsignals",
                                      "ru_nvcsw",   "ru_nivcsw"};
  for (size_t i = 0; i < ARRAY_SIZE(zeros); i++) {
    int64_t v = 0; /* the cgroup counts blocks in bytes: rusage's blocks are 512 */
    if (!strcmp(zeros[i], "ru_inblock") && j->has_usage && u->io_rbytes > 0)
      v = u->io_rbytes / 512;
    else if (!strcmp(zeros[i], "ru_oublock") && j->has_usage && u->io_wbytes > 0)
      v = u->io_wbytes / 512;
    kv_i64(zeros[i], v);
  }
  printf("%-13.12s%-13.3f\n", "cpu", a.cpu);
  printf("%-13.12s%-18.3f\n", "mem", a.mem);
  printf("%-13.12s%-18.3f\n", "io", a.io);
  printf("%-13.12s%-18.3f\n", "iow", a.iow);
  sge_fmt_mem(a.maxvmem, buf, sizeof(buf));
  printf("%-13.12s%s\n", "maxvmem", buf);
  printf("%-13.12s%s\n", "arid", "undefined");
}

/* Grid Engine's -b/-e: [[CC]YY]MMDDhhmm[.SS], local time. */
static int
parse_sge_time(const char *s, int64_t now, int64_t *ret) {
  const char *dot = strchr(s, '.');
  size_t digits = dot ? (size_t)(dot - s) : strlen(s);
  if (strspn(s, "0123456789") != digits || (digits != 8 && digits != 10 && digits != 12) ||
      (dot && (strlen(dot + 1) != 2 || strspn(dot + 1, "0123456789") != 2)))
    return -EINVAL;
  int v[6] = {0}, n = (int)digits / 2; /* from the left */
  for (int i = 0; i < n; i++)
    v[i] = (s[2 * i] - '0') * 10 + (s[2 * i + 1] - '0');
  time_t t = (time_t)now;
  struct tm tm;
  localtime_r(&t, &tm);
  int k = 0;
  if (n == 6)
    tm.tm_year = v[0] * 100 + v[1] - 1900, k = 2;
  else if (n == 5)
    tm.tm_year = 2000 + v[0] - 1900, k = 1;
  tm.tm_mon = v[k] - 1;
  tm.tm_mday = v[k + 1];
  tm.tm_hour = v[k + 2];
  tm.tm_min = v[k + 3];
  tm.tm_sec = dot ? atoi(dot + 1) : 0;
  tm.tm_isdst = -1;
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return -EINVAL;
  time_t when = mktime(&tm);
  if (when == (time_t)-1)
    return -EINVAL;
  *ret = (int64_t)when;
  return 0;
}

/* Finished jobs' rows from boxqd's accounting, filtered there. */
struct acct_query {
  const char *owner, *queue, *project, *account;
  int64_t since, until;
};

static int
fetch_rows(struct cli_ctx *ctx, const struct acct_query *q, struct joblist *l) {
  *l = (struct joblist){0};
  struct pbuf b = {0};
  pb_begin(&b, MSG_ACCT);
  if (q->owner)
    pb_str(&b, A_USER, q->owner);
  if (q->queue)
    pb_str(&b, A_QUEUE, q->queue);
  if (q->project)
    pb_str(&b, A_PROJECT, q->project);
  if (q->account)
    pb_str(&b, A_ACCOUNT, q->account);
  if (q->since)
    pb_i64(&b, A_SINCE, q->since);
  if (q->until)
    pb_i64(&b, A_UNTIL, q->until);
  pb_end(&b);
  struct pmsg reply;
  if (cli_call(ctx, &b, &reply, false) < 0)
    return -1;
  joblist_add_reply(l, &reply);
  return 0;
}

/* qacct -j WHAT: the records of a job by number (an array's tasks), by
 * name or pattern, or of every job (no WHAT). */
static int
job_records(struct cli_ctx *ctx, const char *what) {
  struct joblist l = {0};
  int errors = 0;
  if (what && sge_is_number(what)) {
    _cleanup_free_ char *id = xstrndup(what, strcspn(what, "."));
    char *ids[] = {id};
    char scratch[512];
    ctx->errbuf = scratch; /* said below, Grid Engine's way */
    ctx->errlen = sizeof(scratch);
    /* An array's number names its tasks. */
    jobs_fetch_arrays(ctx, FETCH_FINISHED | FETCH_ACCOUNTING | FETCH_FULL, ids, 1, &l, &errors);
    if (l.n >= 1 && l.jobs[0].array_id)
      joblist_free(&l); /* a task's own boxq id is no Grid Engine job number */
    ctx->errbuf = NULL;
  } else {
    struct acct_query q = {0};
    if (fetch_rows(ctx, &q, &l) < 0)
      return 1;
  }
  size_t shown = 0;
  for (size_t i = 0; i < l.n; i++) {
    const struct job_rec *j = &l.jobs[i];
    if (j->state != JOB_FINISHED || j->array_spec)
      continue; /* not in the accounting yet; an array: its tasks are */
    if (what && !sge_is_number(what) && (!j->name || fnmatch(what, j->name, 0) != 0))
      continue;
    print_record(j);
    shown++;
  }
  joblist_free(&l);
  if (!shown && what) {
    if (sge_is_number(what))
      fprintf(stderr, "error: job id %.*s not found\n", (int)strcspn(what, "."), what);
    else
      fprintf(stderr, "error: job name %s not found\n", what);
    return 1;
  }
  return fflush(stdout) == 0 ? 0 : 1;
}

/* One line of sums: by owner, queue or project, or all. */
struct acct_group {
  char *key;
  struct sge_acct sum;
};

static void
add_to(struct sge_acct *s, const struct sge_acct *a) {
  s->wallclock += a->wallclock;
  s->utime += a->utime;
  s->stime += a->stime;
  s->cpu += a->cpu;
  s->mem += a->mem;
  s->io += a->io;
  s->iow += a->iow;
}

static int
cmp_groups(const void *a, const void *b) {
  return strcmp(((const struct acct_group *)a)->key, ((const struct acct_group *)b)->key);
}

static int
usage_sums(struct cli_ctx *ctx, const struct acct_query *q, char by) {
  struct joblist l;
  if (fetch_rows(ctx, q, &l) < 0)
    return 1;
  struct acct_group *groups = NULL;
  size_t ng = 0;
  struct sge_acct total = {0};
  for (size_t i = 0; i < l.n; i++) {
    const struct job_rec *j = &l.jobs[i];
    if (j->array_spec)
      continue;
    struct sge_acct a;
    acct_of(j, &a);
    add_to(&total, &a);
    if (!by)
      continue;
    const char *key = by == 'o'   ? j->owner
                      : by == 'q' ? j->queue
                                  : (j->project && *j->project ? j->project : "NONE");
    key = key ? key : "";
    size_t g = 0;
    while (g < ng && strcmp(groups[g].key, key))
      g++;
    if (g == ng) {
      groups = xrealloc(groups, (ng + 1) * sizeof(*groups));
      groups[ng++] = (struct acct_group){.key = xstrdup(key)};
    }
    add_to(&groups[g].sum, &a);
  }
  joblist_free(&l);
  if (ng)
    qsort(groups, ng, sizeof(*groups), cmp_groups);
  const char *title = by == 'o' ? "OWNER" : by == 'q' ? "CLUSTER QUEUE" : "PROJECT";
  int width = by ? (int)strlen(title) + 1 : 0;
  for (size_t g = 0; g < ng; g++)
    if ((int)strlen(groups[g].key) + 1 > width)
      width = (int)strlen(groups[g].key) + 1;
  char header[256];
  snprintf(header, sizeof(header), "%13.13s %13.13s %13.13s %13.13s %18.18s %18.18s %18.18s",
           "WALLCLOCK", "UTIME", "STIME", "CPU", "MEMORY", "IO", "IOW");
  if (!by)
    printf("Total System Usage\n");
  else
    printf("%-*s", width, title);
  printf("%s\n", header);
  for (int i = 0; i < width + (int)strlen(header); i++)
    putchar('=');
  putchar('\n');
  for (size_t g = 0; g <= ng; g++) {
    const struct sge_acct *s = by ? (g < ng ? &groups[g].sum : NULL) : (g == 0 ? &total : NULL);
    if (!s)
      break;
    if (by)
      printf("%-*s", width, groups[g].key);
    printf("%13.0f %13.3f %13.3f %13.3f %18.3f %18.3f %18.3f\n", s->wallclock, s->utime, s->stime,
           s->cpu, s->mem, s->io, s->iow);
  }
  for (size_t g = 0; g < ng; g++)
    free(groups[g].key);
  free(groups);
  return fflush(stdout) == 0 ? 0 : 1;
}

int
qacct_sge(struct cli_ctx *ctx, int argc, char **argv) {
  struct acct_query q = {0};
  char by = 0;
  bool records = false;
  const char *what = NULL;
  int64_t now = (int64_t)time(NULL);
  for (int i = 1; i < argc; i++) {
    const char *w = argv[i];
    /* -j, -o, -q, -P take a value only when one follows. */
    const char *opt_value = i + 1 < argc && argv[i + 1][0] != '-' ? argv[i + 1] : NULL;
    if (!strcmp(w, "-help") || !strcmp(w, "--help")) {
      fputs(qacct_sge_usage, stdout);
      return 0;
    } else if (!strcmp(w, "-j")) {
      records = true;
      what = opt_value;
    } else if (!strcmp(w, "-o") || !strcmp(w, "-q") || !strcmp(w, "-P")) {
      by = w[1] == 'P' ? 'p' : w[1];
      const char **slot = w[1] == 'o' ? &q.owner : w[1] == 'q' ? &q.queue : &q.project;
      *slot = opt_value;
    } else if (!strcmp(w, "-A") && opt_value)
      q.account = opt_value;
    else if (!strcmp(w, "-d") && opt_value) {
      int64_t days;
      if (parse_i64(opt_value, 1, 100000, &days) < 0) {
        cli_error(ctx, "-d '%s': give a number of days", opt_value);
        return 2;
      }
      q.since = now - days * 86400;
    } else if ((!strcmp(w, "-b") || !strcmp(w, "-e")) && opt_value) {
      int64_t t;
      if (parse_sge_time(opt_value, now, &t) < 0) {
        cli_error(ctx, "%s '%s': give [[CC]YY]MMDDhhmm[.SS]", w, opt_value);
        return 2;
      }
      *(w[1] == 'b' ? &q.since : &q.until) = t;
    } else {
      cli_error(ctx, "unknown option or missing value: %s (qacct -help lists them)", w);
      return 2;
    }
    if (opt_value && strcmp(w, "-help"))
      i++;
  }
  if (cli_load_config(ctx) < 0)
    return 1;
  if (records)
    return job_records(ctx, what);
  return usage_sums(ctx, &q, by);
}
