/* SPDX-License-Identifier: MIT */
/* qstat as Grid Engine prints it (dialect sge): the job table (running
 * jobs, then pending ones, an array's waiting tasks on one line as a
 * range), -j's details, -xml; "Following jobs do not exist" for a job
 * that has ended, which is how Grid Engine's clients (Toil) learn it. */
#include "json.h"
#include "jobs_fetch.h"
#include "jobref.h"
#include "res.h"
#include "sge_out.h"

#include <ctype.h>
#include <fnmatch.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char qstat_sge_usage[] =
    "Usage: qstat [-u user[,user...]] [-s {p|r|s|z|h|a}...] [-q queue] [-xml]\n"
    "       qstat -j job_id|job_name[,...] [-xml]\n"
    "The Grid Engine forms of qstat (dialect sge): running and pending jobs;\n"
    "  -s   p pending, r running, s suspended, z finished, h held, a = prs\n"
    "  -u   only these users' jobs ('*': everyone's)\n"
    "  -j   the details of each job named\n"
    "  -xml the same in Grid Engine's XML\n";

void
sge_fmt_mem(double bytes, char *buf, size_t len) {
  static const char units[] = "KMG";
  double v = bytes;
  int u = -1;
  while (u < 2 && v >= 1024) {
    v /= 1024;
    u++;
  }
  if (u < 0)
    snprintf(buf, len, "%.3f", bytes);
  else
    snprintf(buf, len, "%.3f%c", v, units[u]);
}

void
sge_fmt_duration(int64_t s, char *buf, size_t len) {
  if (s < 0)
    s = 0;
  long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
  if (d > 0)
    snprintf(buf, len, "%lld:%02lld:%02lld:%02lld", d, h, m, sec);
  else
    snprintf(buf, len, "%02lld:%02lld:%02lld", h, m, sec);
}

int64_t
sge_job_number(const struct job_rec *j) {
  return j->array_id ? j->array_id : j->id;
}

bool
sge_is_number(const char *s) {
  size_t n = strspn(s, "0123456789");
  return n > 0 && (s[n] == '\0' || s[n] == '.');
}

/* "12/07/2026 10:53:35", local time. */
static void
sge_date(int64_t t, char *buf, size_t len) {
  fmt_time_as(t, "%m/%d/%Y %H:%M:%S", buf, len);
}

/* The queue instance a running job is in: "batch@host". */
static void
queue_instance(const struct job_rec *j, char *buf, size_t len) {
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  host[strcspn(host, ".")] = '\0';
  snprintf(buf, len, "%s@%s", j->queue ? j->queue : "", host);
}

/* Grid Engine's state letters. */
static const char *
sge_state(const struct job_rec *j) {
  switch (j->state) {
    case JOB_RUNNING:
    case JOB_EXITING:
    case 'B':
      return j->suspended_at ? "s" : "r";
    case JOB_HELD:
      return "hqw";
    case JOB_FINISHED:
      return "z";
    default:
      return "qw";
  }
}

/* Its priority, Grid Engine's 0..1 normalized figure. */
static double
sge_prio(const struct job_rec *j) {
  return 0.5 + (double)j->priority / 2048.0;
}

/* One line of the table (or one <job_list>). */
struct sge_row {
  const struct job_rec *job;
  const char *state;
  bool running;
  char tasks[256]; /* an array's: the task index, or its waiting tasks' ranges */
};

/* "1-10:1", "3", "1-5:2,9": sorted indexes as Grid Engine's ranges. */
static void
format_ranges(const int64_t *x, size_t n, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && used < len;) {
    size_t j = i;
    int64_t step = i + 1 < n ? x[i + 1] - x[i] : 0;
    while (j + 1 < n && x[j + 1] - x[j] == step)
      j++;
    const char *sep = used ? "," : "";
    if (j > i)
      used += (size_t)snprintf(buf + used, len - used, "%s%lld-%lld:%lld", sep, (long long)x[i],
                               (long long)x[j], (long long)step);
    else
      used += (size_t)snprintf(buf + used, len - used, "%s%lld", sep, (long long)x[i]);
    i = j + 1;
  }
}

/* Which states -s shows: p r s z h (a: prs). */
struct sge_filter {
  bool pending, running, suspended, zombie, held;
  const char *queue;
};

static bool
shown(const struct sge_filter *f, const char *state) {
  if (!strcmp(state, "qw"))
    return f->pending;
  if (!strcmp(state, "hqw"))
    return f->pending || f->held;
  if (!strcmp(state, "r"))
    return f->running;
  if (!strcmp(state, "s"))
    return f->suspended;
  return f->zombie;
}

static void
add_row(struct sge_row **rows, size_t *n, const struct job_rec *j, const char *state,
        const char *tasks) {
  *rows = xrealloc(*rows, (*n + 1) * sizeof(**rows));
  struct sge_row *r = &(*rows)[(*n)++];
  *r = (struct sge_row){.job = j, .state = state, .running = state[0] == 'r' || state[0] == 's'};
  snprintf(r->tasks, sizeof(r->tasks), "%s", tasks ? tasks : "");
}

/* An array's waiting tasks in one row per state; its started ones each
 * in their own. */
static void
array_rows(struct sge_row **rows, size_t *n, const struct joblist *l, const struct job_rec *a,
           const struct sge_filter *f) {
  static const char *const waiting[] = {"qw", "hqw"};
  for (size_t w = 0; w < ARRAY_SIZE(waiting); w++) {
    int64_t *idx = NULL;
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
      const struct job_rec *t = &l->jobs[i];
      if (t->array_id == a->id && !strcmp(sge_state(t), waiting[w])) {
        idx = xrealloc(idx, (k + 1) * sizeof(int64_t));
        idx[k++] = t->array_index;
      }
    }
    if (k && shown(f, waiting[w])) {
      char ranges[256];
      qsort(idx, k, sizeof(int64_t), i64_cmp);
      format_ranges(idx, k, ranges, sizeof(ranges));
      add_row(rows, n, a, waiting[w], ranges);
    }
    free(idx);
  }
  for (size_t i = 0; i < l->n; i++) {
    const struct job_rec *t = &l->jobs[i];
    const char *st = sge_state(t);
    if (t->array_id == a->id && strcmp(st, "qw") && strcmp(st, "hqw") && shown(f, st)) {
      char index[32];
      snprintf(index, sizeof(index), "%lld", (long long)t->array_index);
      add_row(rows, n, t, st, index);
    }
  }
}

static int
cmp_rows(const void *a, const void *b) {
  const struct sge_row *x = a, *y = b;
  if (x->running != y->running)
    return x->running ? -1 : 1; /* running jobs first, as Grid Engine lists them */
  int64_t i = sge_job_number(x->job), k = sge_job_number(y->job);
  if (i != k)
    return (i > k) - (i < k);
  return (x->job->array_index > y->job->array_index) - (x->job->array_index < y->job->array_index);
}

static void
print_table(const struct sge_row *rows, size_t n) {
  if (!n)
    return; /* Grid Engine prints nothing at all for no jobs */
  printf("job-ID  prior   name       user         state submit/start at     queue          "
         "                slots ja-task-ID \n");
  printf("------------------------------------------------------------------------------------"
         "-----------------------------\n");
  for (size_t i = 0; i < n; i++) {
    const struct sge_row *r = &rows[i];
    const struct job_rec *j = r->job;
    char when[32], queue[300] = "";
    sge_date(r->running && j->stime ? j->stime : j->ctime, when, sizeof(when));
    if (r->running)
      queue_instance(j, queue, sizeof(queue));
    printf("%7lld %7.5f %-10.10s %-12.12s %-5.5s %s %-30.30s %5lld ", (long long)sge_job_number(j),
           sge_prio(j), j->name ? j->name : "", j->owner ? j->owner : "", r->state, when, queue,
           (long long)j->ncpus);
    if (r->tasks[0])
      printf("%s\n", r->tasks);
    else
      printf("       \n");
  }
}

static void
xml_elem(const char *indent, const char *name, const char *text) {
  printf("%s<%s>", indent, name);
  xml_write_text(stdout, text);
  printf("</%s>\n", name);
}

static void
print_xml(const struct sge_row *rows, size_t n) {
  printf("<?xml version='1.0'?>\n<job_info  xmlns:xsd=\"https://github.com/gridengine/gridengine/"
         "raw/master/source/dist/util/resources/schemas/qstat/qstat.xsd\">\n");
  for (int part = 0; part < 2; part++) {
    printf("  <%s>\n", part == 0 ? "queue_info" : "job_info");
    for (size_t i = 0; i < n; i++) {
      const struct sge_row *r = &rows[i];
      const struct job_rec *j = r->job;
      if (r->running != (part == 0))
        continue;
      char num[64], when[32], queue[300] = "";
      printf("    <job_list state=\"%s\">\n", r->running ? "running" : "pending");
      snprintf(num, sizeof(num), "%lld", (long long)sge_job_number(j));
      xml_elem("      ", "JB_job_number", num);
      snprintf(num, sizeof(num), "%.5f", sge_prio(j));
      xml_elem("      ", "JAT_prio", num);
      xml_elem("      ", "JB_name", j->name ? j->name : "");
      xml_elem("      ", "JB_owner", j->owner ? j->owner : "");
      xml_elem("      ", "state", r->state);
      fmt_time_as(r->running && j->stime ? j->stime : j->ctime, "%Y-%m-%dT%H:%M:%S", when,
                  sizeof(when));
      xml_elem("      ", r->running ? "JAT_start_time" : "JB_submission_time", when);
      if (r->running)
        queue_instance(j, queue, sizeof(queue));
      xml_elem("      ", "queue_name", queue);
      snprintf(num, sizeof(num), "%lld", (long long)j->ncpus);
      xml_elem("      ", "slots", num);
      if (r->tasks[0])
        xml_elem("      ", "tasks", r->tasks);
      printf("    </job_list>\n");
    }
    printf("  </%s>\n", part == 0 ? "queue_info" : "job_info");
  }
  printf("</job_info>\n");
}

/* ---- -j ---- */

void
sge_kv(const char *label, int width, int value_width, const char *value) {
  printf("%-*.*s%-*s\n", width, width - 1, label, value_width, value);
}

void
sge_kv_i64(const char *label, int width, int value_width, int64_t v) {
  char num[32];
  snprintf(num, sizeof(num), "%lld", (long long)v);
  sge_kv(label, width, value_width, num);
}

/* qstat -j's "key:" in 28 columns. */
static void
detail(const char *key, const char *value) {
  char label[64];
  snprintf(label, sizeof(label), "%s:", key);
  sge_kv(label, 28, 0, value);
}

static void
detail_i64(const char *key, int64_t v) {
  char label[64];
  snprintf(label, sizeof(label), "%s:", key);
  sge_kv_i64(label, 28, 0, v);
}

/* A size as a Grid Engine user writes one: "2G", "512M", "100K", bytes. */
static void
sge_size(int64_t bytes, char *buf, size_t len) {
  static const char units[] = "KMGT";
  int u = -1;
  while (u < 3 && bytes >= 1024 && bytes % 1024 == 0) {
    bytes /= 1024;
    u++;
  }
  if (u < 0)
    snprintf(buf, len, "%lld", (long long)bytes);
  else
    snprintf(buf, len, "%lld%c", (long long)bytes, units[u]);
}

static void
print_details(const struct job_rec *j, const char *server) {
  char buf[512];
  (void)server;
  printf("==============================================================\n");
  detail_i64("job_number", sge_job_number(j));
  snprintf(buf, sizeof(buf), "job_scripts/%lld", (long long)sge_job_number(j));
  detail("exec_file", buf);
  fmt_time(j->ctime, buf, sizeof(buf));
  detail("submission_time", buf);
  detail("owner", j->owner ? j->owner : "");
  detail_i64("uid", j->uid);
  snprintf(buf, sizeof(buf), "%lld", (long long)j->gid);
  detail("group", j->group_list && *j->group_list ? j->group_list : buf);
  detail_i64("gid", j->gid);
  static const char *const origin[][2] = {
      {"sge_o_home", "HOME"},   {"sge_o_log_name", "LOGNAME"}, {"sge_o_path", "PATH"},
      {"sge_o_shell", "SHELL"}, {"sge_o_workdir", "WORKDIR"},  {"sge_o_host", "HOST"}};
  for (size_t i = 0; i < ARRAY_SIZE(origin); i++) {
    char sge_name[32], pbs_name[32];
    snprintf(sge_name, sizeof(sge_name), "SGE_O_%s", origin[i][1]);
    snprintf(pbs_name, sizeof(pbs_name), "PBS_O_%s", origin[i][1]);
    const char *v = job_env_value(j, sge_name);
    if (!v)
      v = job_env_value(j, pbs_name);
    if (v)
      detail(origin[i][0], v);
  }
  if (j->exec_time)
    fmt_time(j->exec_time, buf, sizeof(buf)), detail("execution_time", buf);
  detail("account", j->account && *j->account ? j->account : "sge");
  detail("cwd", j->workdir ? j->workdir : "");
  if (j->join != JOIN_NONE)
    detail("merge", "y");
  /* Grid Engine's resource names, memory per slot. */
  size_t used = 0;
  buf[0] = '\0';
  if (j->walltime)
    used += (size_t)snprintf(buf + used, sizeof(buf) - used, "h_rt=%lld,", (long long)j->walltime);
  if (j->warn_after)
    used +=
        (size_t)snprintf(buf + used, sizeof(buf) - used, "s_rt=%lld,", (long long)j->warn_after);
  if (j->cput)
    used += (size_t)snprintf(buf + used, sizeof(buf) - used, "h_cpu=%lld,", (long long)j->cput);
  if (j->mem) {
    char size[32];
    sge_size(j->mem / (j->ncpus > 0 ? j->ncpus : 1), size, sizeof(size));
    used += (size_t)snprintf(buf + used, sizeof(buf) - used, "h_vmem=%s,", size);
  }
  if (used)
    buf[used - 1] = '\0';
  detail("hard resource_list", buf);
  if (j->mail_points && *j->mail_points)
    detail("mail_options", j->mail_points);
  if (j->mail_users && *j->mail_users)
    detail("mail_list", j->mail_users);
  detail("notify", j->notify ? "TRUE" : "FALSE");
  detail("job_name", j->name ? j->name : "");
  _cleanup_free_ char *out = job_out_path(j, server), *err = job_err_path(j, server);
  snprintf(buf, sizeof(buf), "NONE:NONE:%s", out);
  detail("stdout_path_list", buf);
  if (j->join == JOIN_NONE) {
    snprintf(buf, sizeof(buf), "NONE:NONE:%s", err);
    detail("stderr_path_list", buf);
  }
  detail_i64("priority", j->priority);
  detail("jobshare", "0");
  detail("hard_queue_list", j->queue ? j->queue : "");
  detail("restart", j->rerunnable ? "y" : "n");
  if (j->shell && *j->shell)
    detail("shell_list", j->shell);
  const char *pe = job_env_value(j, "PE");
  if (pe)
    printf("parallel environment:  %s range: %lld\n", pe, (long long)j->ncpus);
  if (j->depend && *j->depend) {
    struct job_dep *deps;
    size_t n;
    if (job_depend_parse(j->depend, &deps, &n, NULL) == 0) {
      used = 0;
      buf[0] = '\0';
      for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%lld", i ? "," : "",
                                 (long long)deps[i].ref.id);
      free(deps);
      detail("jid_predecessor_list (req)", buf);
    }
  }
  if (j->array_spec) {
    struct job_array_range *r;
    size_t n;
    int64_t count;
    if (job_array_parse_list(j->array_spec, &r, &n, &count, NULL) == 0 && n) {
      snprintf(buf, sizeof(buf), "%lld-%lld:%lld", (long long)r[0].first, (long long)r[n - 1].last,
               (long long)r[0].step);
      free(r);
      detail("job-array tasks", buf);
    }
  }
  if (j->has_usage && j->stime) {
    char cpu[32], maxvmem[32];
    sge_fmt_duration(j->usage.cpu_usec / 1000000, cpu, sizeof(cpu));
    if (j->usage.mem_peak > 0)
      sge_fmt_mem((double)j->usage.mem_peak, maxvmem, sizeof(maxvmem));
    else
      snprintf(maxvmem, sizeof(maxvmem), "N/A");
    double io = (double)((j->usage.io_rbytes > 0 ? j->usage.io_rbytes : 0) +
                         (j->usage.io_wbytes > 0 ? j->usage.io_wbytes : 0)) /
                1e9;
    double gbs =
        (double)j->usage.mem_peak / (1024.0 * 1024 * 1024) * ((double)j->usage.cpu_usec / 1e6);
    printf("usage %4lld:                 cpu=%s, mem=%-5.5f GBs, io=%-5.5f, vmem=N/A, "
           "maxvmem=%s\n",
           (long long)(j->array_id ? j->array_index : 1), cpu, gbs, io, maxvmem);
  }
  if (!j->stime && j->sched_info && *j->sched_info)
    detail("scheduling info", j->sched_info);
}

/* qstat -j: each job named, by number or name (a pattern); ended or
 * unknown ones listed as Grid Engine does, and the exit status 1. */
static int
job_details(struct cli_ctx *ctx, char **words, int nwords, bool xml) {
  char scratch[512];
  _cleanup_free_ char *missing = NULL;
  struct joblist all = {0};
  int errors = 0;
  for (int w = 0; w < nwords; w++) {
    _cleanup_free_ char *copy = xstrdup(words[w]);
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
      struct joblist l = {0};
      int errs = 0;
      if (sge_is_number(item)) {
        _cleanup_free_ char *id = xstrndup(item, strcspn(item, "."));
        char *ids[] = {id};
        ctx->errbuf = scratch; /* an unknown id is said below, Grid Engine's way */
        ctx->errlen = sizeof(scratch);
        int r = jobs_fetch(ctx, FETCH_FULL, ids, 1, &l, &errs);
        ctx->errbuf = NULL;
        if (r < 0 && r != -ENOENT && !l.n) {
          fprintf(stderr, "qstat: %s\n", scratch);
          joblist_free(&all);
          return 1;
        }
      } else {
        jobs_fetch(ctx, FETCH_FULL, NULL, 0, &l, &errs);
        size_t k = 0;
        for (size_t i = 0; i < l.n; i++) {
          if (!l.jobs[i].array_id && l.jobs[i].name && fnmatch(item, l.jobs[i].name, 0) == 0)
            l.jobs[k++] = l.jobs[i];
          else
            job_rec_free(&l.jobs[i]);
        }
        l.n = k;
      }
      size_t found = 0;
      for (size_t i = 0; i < l.n; i++) {
        /* A task's own boxq id is no Grid Engine job number. */
        if (l.jobs[i].state == JOB_FINISHED || l.jobs[i].array_id) {
          job_rec_free(&l.jobs[i]);
          continue;
        }
        all.jobs = xrealloc(all.jobs, (all.n + 1) * sizeof(struct job_rec));
        all.jobs[all.n++] = l.jobs[i];
        found++;
      }
      free(l.jobs);
      if (!found) {
        char *m = missing ? xasprintf("%s, %s", missing, item) : xstrdup(item);
        free(missing);
        missing = m;
      }
    }
  }
  if (missing) {
    /* Grid Engine's words exactly: its clients look for them. */
    fprintf(stderr, "Following jobs do not exist: \n%s\n", missing);
    errors++;
  }
  if (xml && !errors) {
    printf("<?xml version='1.0'?>\n<detailed_job_info  xmlns:xsd=\"https://github.com/gridengine/"
           "gridengine/raw/master/source/dist/util/resources/schemas/qstat/"
           "detailed_job_info.xsd\">\n  <djob_info>\n");
    for (size_t i = 0; i < all.n; i++) {
      const struct job_rec *j = &all.jobs[i];
      char num[32];
      printf("    <element>\n");
      snprintf(num, sizeof(num), "%lld", (long long)sge_job_number(j));
      xml_elem("      ", "JB_job_number", num);
      xml_elem("      ", "JB_job_name", j->name ? j->name : "");
      xml_elem("      ", "JB_owner", j->owner ? j->owner : "");
      snprintf(num, sizeof(num), "%lld", (long long)j->uid);
      xml_elem("      ", "JB_uid", num);
      snprintf(num, sizeof(num), "%lld", (long long)j->ctime);
      xml_elem("      ", "JB_submission_time", num);
      xml_elem("      ", "JB_cwd", j->workdir ? j->workdir : "");
      snprintf(num, sizeof(num), "%lld", (long long)j->ncpus);
      xml_elem("      ", "JB_slots", num);
      xml_elem("      ", "JB_state", sge_state(j));
      printf("    </element>\n");
    }
    printf("  </djob_info>\n</detailed_job_info>\n");
  } else if (!errors)
    for (size_t i = 0; i < all.n; i++)
      print_details(&all.jobs[i], ctx->server);
  joblist_free(&all);
  return fflush(stdout) == 0 && !errors ? 0 : 1;
}

int
qstat_sge(struct cli_ctx *ctx, int argc, char **argv) {
  struct sge_filter f = {.pending = true, .running = true, .suspended = true};
  const char *users = NULL;
  bool xml = false, details = false;
  int i = 1;
  for (; i < argc; i++) {
    const char *w = argv[i];
    bool has_arg = i + 1 < argc;
    if (!strcmp(w, "-help") || !strcmp(w, "--help")) {
      fputs(qstat_sge_usage, stdout);
      return 0;
    } else if (!strcmp(w, "-xml"))
      xml = true;
    else if (!strcmp(w, "-j")) {
      details = true;
      i++;
      break; /* the job list follows (or nothing: every job) */
    } else if (!strcmp(w, "-u") && has_arg)
      users = argv[++i];
    else if (!strcmp(w, "-q") && has_arg)
      f.queue = argv[++i];
    else if (!strcmp(w, "-s") && has_arg) {
      const char *s = argv[++i];
      f = (struct sge_filter){.queue = f.queue};
      for (; *s; s++) {
        switch (*s) {
          case 'p':
            f.pending = true;
            break;
          case 'r':
            f.running = true;
            break;
          case 's':
            f.suspended = true;
            break;
          case 'z':
            f.zombie = true;
            break;
          case 'a':
            f.pending = f.running = f.suspended = true;
            break;
          case 'h':
            f.held = true;
            if (strchr("uoshdja", s[1]) && s[1])
              s++; /* hu, ho, hs, hd, hj, ha: held, whoever held it */
            break;
          default:
            cli_error(ctx, "-s '%s': the states are p, r, s, z, h and a", argv[i]);
            return 2;
        }
      }
    } else if (!strcmp(w, "-f") || !strcmp(w, "-r") || !strcmp(w, "-ext") || !strcmp(w, "-g") ||
               !strcmp(w, "-pri") || !strcmp(w, "-urg") || !strcmp(w, "-t") || !strcmp(w, "-F")) {
      cli_error(ctx, "Grid Engine's qstat %s is not supported by boxq", w);
      return 2;
    } else {
      cli_error(ctx, "unknown option or missing value: %s (qstat -help lists them)", w);
      return 2;
    }
  }
  if (details) {
    if (i >= argc) {
      cli_error(ctx, "-j needs job ids or names");
      return 2;
    }
    return job_details(ctx, argv + i, argc - i, xml);
  }
  if (users && (!strcmp(users, "*") || !strcmp(users, "\\*")))
    users = NULL;
  struct joblist l;
  int errors;
  int flags = FETCH_TASKS | (f.zombie ? FETCH_FINISHED : 0);
  if (jobs_fetch_users(ctx, flags, users, NULL, 0, &l, &errors) < 0)
    return 1;
  struct sge_row *rows = NULL;
  size_t n = 0;
  for (size_t k = 0; k < l.n; k++) {
    const struct job_rec *j = &l.jobs[k];
    if (j->array_id || (f.queue && (!j->queue || strcmp(j->queue, f.queue))))
      continue; /* tasks go with their array */
    if (j->array_spec)
      array_rows(&rows, &n, &l, j, &f);
    else if (shown(&f, sge_state(j)))
      add_row(&rows, &n, j, sge_state(j), NULL);
  }
  if (n)
    qsort(rows, n, sizeof(*rows), cmp_rows);
  if (xml)
    print_xml(rows, n);
  else
    print_table(rows, n);
  free(rows);
  joblist_free(&l);
  return fflush(stdout) == 0 ? 0 : 1;
}
