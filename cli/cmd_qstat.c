/* SPDX-License-Identifier: MIT */
/* qstat: the PBS default table, or -f's "Job Id:" / "    key = value". */
#include "jobs_fetch.h"
#include "res.h"

#include <getopt.h>
#include <string.h>

static const char qstat_usage[] = "Usage: qstat [-x] [-f] [-t] [-u user] [job_id ...]\n"
                                  "       qstat -B [-f]\n"
                                  "  -B  server status (with -f: every attribute)\n"
                                  "  -x  include finished jobs\n"
                                  "  -f  full display, PBS 'key = value' form\n"
                                  "  -t  array jobs with each of their tasks\n"
                                  "  -u  only jobs of this user\n"
                                  "job_id: 123, 123.server, 123[] (an array), 123[7] (a task)\n";

/* PBS truncates a column that does not fit and marks it with '*'. */
static void
put_col(const char *s, int width) {
  int len = (int)strlen(s);
  if (len <= width)
    printf("%-*s", width, s);
  else
    printf("%.*s*", width - 1, s);
}

static int64_t
cpu_usec(const struct job_rec *j) {
  return j->has_usage ? j->usage.cpu_usec : 0;
}

static void
print_table(struct cli_ctx *ctx, const struct joblist *l) {
  (void)ctx;
  if (l->n == 0)
    return;
  printf("Job id            Name             User              Time Use S Queue\n");
  printf("----------------  ---------------- ----------------  -------- - -----\n");
  for (size_t i = 0; i < l->n; i++) {
    const struct job_rec *j = &l->jobs[i];
    char hms[32];
    _cleanup_free_ char *id = job_display_id(j, ctx->server);
    fmt_hms_usec(cpu_usec(j), hms, sizeof(hms));
    put_col(id, 17);
    putchar(' ');
    put_col(j->name ? j->name : "", 16);
    putchar(' ');
    put_col(j->owner ? j->owner : "", 16);
    printf("  %8s %c %s\n", hms, j->state, j->queue ? j->queue : "");
  }
}

static void
kv(const char *key, const char *value) {
  printf("    %s = %s\n", key, value);
}

static void
kv_time(const char *key, int64_t t) {
  if (t <= 0)
    return;
  char buf[64];
  fmt_time(t, buf, sizeof(buf));
  kv(key, buf);
}

static void
kv_int(const char *key, long long v) {
  printf("    %s = %lld\n", key, v);
}

static void
print_full(struct cli_ctx *ctx, const struct job_rec *j) {
  const char *server = ctx->server;
  char buf[4200];
  _cleanup_free_ char *id = job_display_id(j, server);
  printf("Job Id: %s\n", id);
  kv("Job_Name", j->name ? j->name : "");
  snprintf(buf, sizeof(buf), "%s@%s", j->owner ? j->owner : "?",
           j->submit_host && *j->submit_host ? j->submit_host : server);
  kv("Job_Owner", buf);
  if (j->has_usage || j->state == JOB_RUNNING) {
    const struct job_usage *u = &j->usage;
    fmt_hms_usec(u->cpu_usec, buf, sizeof(buf));
    kv("resources_used.cput", buf);
    res_format_size(u->mem_peak, buf, sizeof(buf));
    kv("resources_used.mem", buf);
    kv_int("resources_used.ncpus", (long long)j->ncpus);
    fmt_hms_usec(u->wall_usec, buf, sizeof(buf));
    kv("resources_used.walltime", buf);
  }
  snprintf(buf, sizeof(buf), "%c", j->state);
  kv("job_state", buf);
  kv("queue", j->queue ? j->queue : "");
  kv("server", server);
  kv_time("ctime", j->ctime);
  _cleanup_free_ char *errp = job_err_path(j);
  _cleanup_free_ char *outp = job_out_path(j);
  snprintf(buf, sizeof(buf), "%s:", server);
  printf("    Error_Path = %s%s\n", buf, j->join == JOIN_OE ? outp : errp);
  if (j->exec_host)
    printf("    exec_host = %s/0*%lld\n", j->exec_host, (long long)j->ncpus);
  kv("Hold_Types", j->hold_types && *j->hold_types ? j->hold_types : "n");
  kv("Join_Path", j->join == JOIN_OE ? "oe" : j->join == JOIN_EO ? "eo" : "n");
  kv_time("mtime", j->mtime);
  printf("    Output_Path = %s%s\n", buf, j->join == JOIN_EO ? errp : outp);
  kv_int("Priority", (long long)j->priority);
  kv("Rerunable", j->rerunnable ? "True" : "False");
  kv_int("run_count", (long long)j->run_count);
  kv_time("qtime", j->qtime);
  res_format_size(j->mem, buf, sizeof(buf));
  kv("Resource_List.mem", buf);
  kv_int("Resource_List.ncpus", (long long)j->ncpus);
  if (j->net && *j->net)
    kv("Resource_List.net", j->net);
  if (j->pids > 0)
    kv_int("Resource_List.pids", (long long)j->pids);
  if (j->walltime > 0) {
    res_format_duration(j->walltime, buf, sizeof(buf));
    kv("Resource_List.walltime", buf);
  }
  kv_time("stime", j->stime);
  if (j->state == JOB_FINISHED)
    kv_time("obittime", j->etime);
  kv("euser", j->owner ? j->owner : "");
  kv_int("egid", (long long)j->gid);
  if (j->has_exit)
    kv_int("Exit_status", (long long)j->exit_status);
  if (j->state == JOB_FINISHED)
    kv("end_reason", job_end_to_string(j->end_reason));
  if (j->cpus && *j->cpus)
    kv("cpus", j->cpus);
  if (j->cgroup)
    kv("cgroup", j->cgroup);
  if (j->comment)
    kv("comment", j->comment);
  if (j->sched_info)
    kv("sched_priority", j->sched_info);
  if (j->depend)
    kv("depend", j->depend);
  if (j->exec_time)
    kv_time("Execution_Time", j->exec_time);
  if (j->array_spec) {
    kv("array", "True");
    kv("array_indices_submitted", j->array_spec);
    if (j->array_limit)
      kv_int("max_run_subjobs", (long long)j->array_limit);
    if (j->array_counts)
      kv("array_state_count", j->array_counts);
  }
  if (j->array_id) {
    snprintf(buf, sizeof(buf), "%lld[].%s", (long long)j->array_id, server);
    kv("array_id", buf);
    kv_int("array_index", (long long)j->array_index);
  }
  if (j->env) {
    printf("    Variable_List = ");
    for (size_t i = 0; j->env[i]; i++) {
      /* PBS separates with commas and escapes commas inside values. */
      if (i)
        putchar(',');
      for (const char *p = j->env[i]; *p; p++) {
        if (*p == ',' || *p == '\\')
          putchar('\\');
        if (*p == '\n')
          fputs("\\n", stdout);
        else
          putchar(*p);
      }
    }
    putchar('\n');
  }
  putchar('\n');
}

/* qstat -B: the server's status, from one MSG_SERVER_INFO request. */
static int
server_status(struct cli_ctx *ctx, bool full) {
  if (cli_load_config(ctx) < 0)
    return 1;
  struct pbuf b = {0};
  pb_begin(&b, MSG_SERVER_INFO);
  pb_end(&b);
  struct pmsg reply;
  int64_t status;
  int r = cli_request(ctx, &b, &reply, &status);
  pbuf_free(&b);
  if (r < 0)
    return 1;
  const char *info = pmsg_str(&reply, T_INFO);
  if (status < 0 || !info) {
    cli_error(ctx, "no server status from boxqd");
    return 1;
  }
  char state[32] = "", queued[32] = "0", held[32] = "0", running[32] = "0", total[32];
  long long sum = 0;
  _cleanup_free_ char *copy = xstrdup(info);
  char *save = NULL;
  if (full)
    printf("Server: %s\n", ctx->server);
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *eq = strchr(line, '=');
    if (!eq)
      continue;
    *eq = '\0';
    const char *k = line, *v = eq + 1;
    if (full)
      printf("    %s = %s\n", k, v);
    if (!strcmp(k, "server_state"))
      snprintf(state, sizeof(state), "%s", v);
    else if (!strcmp(k, "queued"))
      snprintf(queued, sizeof(queued), "%s", v);
    else if (!strcmp(k, "held"))
      snprintf(held, sizeof(held), "%s", v);
    else if (!strcmp(k, "running"))
      snprintf(running, sizeof(running), "%s", v);
    if (!strcmp(k, "queued") || !strcmp(k, "held") || !strcmp(k, "running") ||
        !strcmp(k, "waiting") || !strcmp(k, "exiting"))
      sum += atoll(v);
  }
  if (full) {
    putchar('\n');
    return 0;
  }
  snprintf(total, sizeof(total), "%lld", sum);
  printf("Server             Max   Tot   Que   Run   Hld   Wat   Trn   Ext Status\n");
  printf("---------------- ----- ----- ----- ----- ----- ----- ----- ----- -----------\n");
  printf("%-16.16s %5d %5s %5s %5s %5s %5d %5d %5d %s\n", ctx->server, 0, total, queued, running,
         held, 0, 0, 0, state);
  return 0;
}

int
cmd_qstat(struct cli_ctx *ctx, int argc, char **argv) {
  static const struct option opts[] = {{"help", no_argument, NULL, '?'}, {0}};
  int flags = 0, o;
  const char *user = NULL;
  bool server = false;
  while ((o = getopt_long(argc, argv, "xftu:B", opts, NULL)) != -1) {
    switch (o) {
      case 'x':
        flags |= FETCH_FINISHED;
        break;
      case 'f':
        flags |= FETCH_FULL;
        break;
      case 't':
        flags |= FETCH_TASKS;
        break;
      case 'u':
        user = optarg;
        break;
      case 'B':
        server = true;
        break;
      default:
        fputs(qstat_usage, o == '?' && optopt == 0 ? stdout : stderr);
        return 2;
    }
  }
  if (server)
    return server_status(ctx, flags & FETCH_FULL);
  struct joblist l;
  int errors;
  int r = jobs_fetch(ctx, flags, argv + optind, argc - optind, &l, &errors);
  if (r < 0)
    return 1;
  if (user) {
    size_t k = 0;
    for (size_t i = 0; i < l.n; i++) {
      if (streq(l.jobs[i].owner, user))
        l.jobs[k++] = l.jobs[i];
      else
        job_rec_free(&l.jobs[i]);
    }
    l.n = k;
  }
  if (flags & FETCH_FULL)
    for (size_t i = 0; i < l.n; i++)
      print_full(ctx, &l.jobs[i]);
  else
    print_table(ctx, &l);
  joblist_free(&l);
  return errors ? 1 : 0;
}
