/* SPDX-License-Identifier: MIT */
/* scancel, scontrol and sinfo over boxq's queue, in Slurm's words: one
 * box is one node, each queue a partition. */
#include "slurm_opts.h"
#include "slurm_out.h"

#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Sends one request of type about boxq id ref (T_SIGNAL sig when > 0, or
 * T_FLAGS flags when >= 0); errors in Slurm's words. 0 or 1. */
static int
job_request(struct cli_ctx *ctx, enum proto_type type, const char *ref, const char *slurm_id,
            int sig, int64_t flags) {
  char scratch[512] = "";
  struct pbuf b = {0};
  pb_begin(&b, type);
  if (sig > 0)
    pb_i64(&b, T_SIGNAL, sig);
  if (flags >= 0)
    pb_i64(&b, T_FLAGS, flags);
  char *ids[] = {(char *)ref};
  ctx->errbuf = scratch;
  ctx->errlen = sizeof(scratch);
  int r = cli_job_request(ctx, &b, ids, 1);
  ctx->errbuf = NULL;
  if (r == 0)
    return 0;
  const char *why = strstr(scratch, "Unknown Job Id") ? "Invalid job id specified" : scratch;
  fprintf(stderr, "%s: error: Kill job error on job id %s: %s\n", ctx->prog, slurm_id, why);
  return 1;
}

int
cmd_scancel(struct cli_ctx *ctx, int argc, char **argv) {
  static const struct option opts[] = {
      {"user", required_argument, NULL, 'u'},   {"name", required_argument, NULL, 'n'},
      {"state", required_argument, NULL, 't'},  {"partition", required_argument, NULL, 'p'},
      {"signal", required_argument, NULL, 's'}, {"batch", no_argument, NULL, 'b'},
      {"full", no_argument, NULL, 'f'},         {"quiet", no_argument, NULL, 'Q'},
      {"me", no_argument, NULL, 'M'},           {"help", no_argument, NULL, 'h'},
      {"verbose", no_argument, NULL, 'v'},      {0}};
  const char *user = NULL, *name = NULL, *state = NULL, *part = NULL;
  int sig = 0, o;
  char me[64] = "";
  optind = 1;
  while ((o = getopt_long(argc, argv, "u:n:t:p:s:bfQvh", opts, NULL)) != -1) {
    switch (o) {
      case 'u':
        user = optarg;
        break;
      case 'n':
        name = optarg;
        break;
      case 't':
        state = optarg;
        break;
      case 'p':
        part = optarg;
        break;
      case 's':
        if ((sig = cli_parse_signal(optarg)) <= 0 || !job_signal_allowed(sig)) {
          cli_error(ctx, "Invalid signal name: %s", optarg);
          return 1;
        }
        break;
      case 'M':
        snprintf(me, sizeof(me), "%s", getenv("USER") ? getenv("USER") : "");
        user = me;
        break;
      case 'b':
      case 'f':
      case 'Q':
      case 'v':
        break; /* the batch script is the job here: one signal reaches it all */
      case 'h':
        fputs("Usage: scancel [-s signal] [-u user] [-n name] [-t state] [-p partition] "
              "[job_id[_task]...]\n",
              stdout);
        return 0;
      default:
        return 1;
    }
  }
  if (cli_load_config(ctx) < 0)
    return 1;
  enum proto_type type = sig ? MSG_SIGNAL_JOB : MSG_DELETE;
  int bad = 0;
  if (optind == argc) {
    /* Filters alone: every matching job (boxqd refuses others' jobs). */
    if (!user && !name && !state && !part) {
      cli_error(ctx, "No job identification provided");
      return 1;
    }
    struct joblist l;
    int errs;
    if (jobs_fetch(ctx, 0, NULL, 0, &l, &errs) < 0)
      return 1;
    for (size_t i = 0; i < l.n; i++) {
      const struct job_rec *j = &l.jobs[i];
      if (j->array_id || (user && (!j->owner || strcmp(j->owner, user))) ||
          (name && (!j->name || strcmp(j->name, name))) ||
          (part && (!j->queue || strcmp(j->queue, part))) || (state && !slurm_state_is(j, state)))
        continue;
      char num[32];
      snprintf(num, sizeof(num), "%lld", (long long)j->id);
      bad |= job_request(ctx, type, num, num, sig, -1);
    }
    joblist_free(&l);
    return bad;
  }
  for (int i = optind; i < argc; i++) {
    _cleanup_free_ char *copy = xstrdup(argv[i]);
    char *save = NULL;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
      _cleanup_free_ char *ref = slurm_to_boxq_id(ctx, w);
      bad |= ref ? job_request(ctx, type, ref, w, sig, -1) : 1;
    }
  }
  return bad;
}

/* ---- scontrol ---- */

static void
show_job(const struct job_rec *j, const char *server) {
  char a[256], b[256], c[256], host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  slurm_job_id(j, a, sizeof(a));
  printf("JobId=%lld", (long long)j->id);
  if (j->array_id)
    printf(" ArrayJobId=%lld ArrayTaskId=%lld", (long long)j->array_id, (long long)j->array_index);
  else if (j->array_spec) {
    printf(" ArrayJobId=%lld ArrayTaskId=%s", (long long)j->id, j->array_spec);
    if (j->array_limit)
      printf(" ArrayTaskThrottle=%lld", (long long)j->array_limit);
  }
  printf(" JobName=%s\n", j->name ? j->name : "");
  printf("   UserId=%s(%lld) GroupId=%lld(%lld) MCS_label=N/A\n", j->owner ? j->owner : "",
         (long long)j->uid, (long long)j->gid, (long long)j->gid);
  printf("   Priority=%lld Nice=0 Account=%s QOS=normal\n", (long long)(j->priority + 1024),
         j->account && *j->account ? j->account : "(null)");
  printf("   JobState=%s Reason=%s Dependency=%s\n", slurm_state(j, false),
         j->state == JOB_FINISHED || j->stime ? "None" : slurm_reason(j),
         j->depend && *j->depend ? j->depend : "(null)");
  slurm_exit_code(j, a, sizeof(a));
  printf("   Requeue=%d Restarts=%lld BatchFlag=1 Reboot=0 ExitCode=%s\n", j->rerunnable ? 1 : 0,
         (long long)(j->run_count > 1 ? j->run_count - 1 : 0),
         j->state == JOB_FINISHED ? a : "0:0");
  slurm_hms(slurm_elapsed(j), a, sizeof(a));
  if (j->walltime)
    slurm_hms(j->walltime, b, sizeof(b));
  else
    snprintf(b, sizeof(b), "UNLIMITED");
  printf("   RunTime=%s TimeLimit=%s TimeMin=N/A\n", a, b);
  slurm_date(j->ctime, a, sizeof(a));
  printf("   SubmitTime=%s EligibleTime=%s\n", a, a);
  slurm_date(j->stime, a, sizeof(a));
  slurm_date(j->state == JOB_FINISHED  ? j->etime
             : j->stime && j->walltime ? j->stime + j->walltime
                                       : 0,
             b, sizeof(b));
  printf("   StartTime=%s EndTime=%s Deadline=N/A\n", a, b);
  printf("   Partition=%s AllocNode:Sid=%s:0\n", j->queue ? j->queue : "",
         j->submit_host ? j->submit_host : host);
  printf("   NodeList=%s\n", j->stime ? host : "(null)");
  slurm_size(j->mem, c, sizeof(c));
  printf("   NumNodes=1 NumCPUs=%lld NumTasks=1 CPUs/Task=%lld ReqB:S:C:T=0:0:*:*\n",
         (long long)j->ncpus, (long long)j->ncpus);
  printf("   TRES=cpu=%lld,mem=%s,node=1,billing=%lld\n", (long long)j->ncpus, c,
         (long long)j->ncpus);
  printf("   MinCPUsNode=%lld MinMemoryNode=%s MinTmpDiskNode=0\n", (long long)j->ncpus, c);
  printf("   WorkDir=%s\n", j->workdir ? j->workdir : "");
  _cleanup_free_ char *out = job_out_path(j, server), *err = job_err_path(j, server);
  printf("   StdErr=%s\n", j->join == JOIN_NONE ? err : out);
  printf("   StdIn=/dev/null\n");
  printf("   StdOut=%s\n", out);
  putchar('\n');
}

static int
scontrol_show(struct cli_ctx *ctx, const char *what, const char *arg) {
  if (!strcasecmp(what, "config")) {
    char host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    printf("Configuration data as of boxq\n");
    printf("AccountingStorageType   = accounting_storage/boxq\n");
    printf("AcctGatherNodeFreq      = 0 sec\n");
    printf("ClusterName             = %s\n",
           ctx->cfg.server_name && *ctx->cfg.server_name ? ctx->cfg.server_name : host);
    printf("JobAcctGatherType       = jobacct_gather/cgroup\n");
    printf("ProctrackType           = proctrack/cgroup\n");
    printf("SchedulerTimeSlice      = 30 sec\n");
    printf("SchedulerType           = sched/boxq\n");
    printf("SelectType              = select/cons_tres\n");
    printf("SlurmctldHost[0]        = %s\n", host);
    printf("TaskPlugin              = task/cgroup\n");
    return 0;
  }
  if (!strcasecmp(what, "partition") || !strcasecmp(what, "partitions")) {
    for (size_t i = 0; i < ctx->cfg.nqueues; i++) {
      const struct boxq_queue *q = &ctx->cfg.queues[i];
      char limit[64];
      if (arg && strcmp(arg, q->name))
        continue;
      if (q->max_walltime)
        slurm_hms(q->max_walltime, limit, sizeof(limit));
      else
        snprintf(limit, sizeof(limit), "UNLIMITED");
      printf("PartitionName=%s\n   Default=%s State=%s MaxTime=%s\n   Nodes=ALL\n\n", q->name,
             ctx->cfg.default_queue && !strcmp(ctx->cfg.default_queue, q->name) ? "YES" : "NO",
             q->enabled && q->started ? "UP"
             : q->enabled             ? "INACTIVE"
                                      : "DOWN",
             limit);
    }
    return 0;
  }
  if (strcasecmp(what, "job") && strcasecmp(what, "jobs")) {
    cli_error(ctx, "scontrol shows job, config and partition");
    return 1;
  }
  struct joblist l;
  int errs = 0;
  _cleanup_free_ char *ref = arg ? slurm_to_boxq_id(ctx, arg) : NULL;
  if (arg && !ref)
    return 1;
  char *ids[] = {ref};
  char scratch[256];
  ctx->errbuf = scratch;
  ctx->errlen = sizeof(scratch);
  int r = jobs_fetch(ctx, FETCH_FINISHED | FETCH_TASKS, ref ? ids : NULL, ref ? 1 : 0, &l, &errs);
  ctx->errbuf = NULL;
  if (r < 0)
    return 1;
  /* An array shows as Slurm shows it: one record for its waiting tasks
   * (the array's own), one for each task that started. */
  size_t shown = 0;
  bool task_asked = ref && strchr(ref, '[') && !strstr(ref, "[]");
  for (size_t i = 0; i < l.n; i++) {
    const struct job_rec *j = &l.jobs[i];
    bool waiting = !j->stime && j->state != JOB_FINISHED;
    if (!ref && j->state == JOB_FINISHED)
      continue;
    if (j->array_spec) {
      bool any = false;
      for (size_t k = 0; k < l.n && !any; k++)
        any = l.jobs[k].array_id == j->id && !l.jobs[k].stime && l.jobs[k].state != JOB_FINISHED;
      if (!any || task_asked)
        continue;
    } else if (j->array_id && waiting && !task_asked)
      continue; /* with its array's record */
    show_job(j, ctx->server);
    shown++;
  }
  joblist_free(&l);
  if (!shown && arg) {
    fprintf(stderr, "slurm_load_jobs error: Invalid job id specified\n");
    return 1;
  }
  if (!shown)
    printf("No jobs in the system\n");
  return 0;
}

/* scontrol update JobId=ID Key=Value...: what qalter changes. */
static int
scontrol_update(struct cli_ctx *ctx, int argc, char **argv) {
  struct job_rec j = {0};
  int64_t flags = 0;
  const char *id = NULL;
  struct berr err = {{0}};
  int rc = 1;
  for (int i = 0; i < argc; i++) {
    const char *eq = strchr(argv[i], '=');
    if (!eq) {
      cli_error(ctx, "update: '%s' is not Key=Value", argv[i]);
      goto out;
    }
    size_t klen = (size_t)(eq - argv[i]);
    const char *v = eq + 1;
    int64_t n;
#define KEY(k) (klen == strlen(k) && !strncasecmp(argv[i], k, klen))
    if (KEY("JobId") || KEY("JobID"))
      id = v;
    else if (KEY("JobName") || KEY("Name")) {
      free(j.name);
      j.name = xstrdup(v);
      flags |= ALTER_NAME;
    } else if (KEY("TimeLimit")) {
      if (slurm_parse_time(v, &j.walltime, &err) < 0)
        goto bad;
      flags |= ALTER_WALLTIME;
    } else if (KEY("NumCPUs") || KEY("MinCPUsNode")) {
      if (parse_i64(v, 1, RES_NCPUS_MAX, &j.ncpus) < 0) {
        berr_set(&err, -EINVAL, "NumCPUs=%s: a number of CPUs", v);
        goto bad;
      }
      flags |= ALTER_NCPUS;
    } else if (KEY("MinMemoryNode")) {
      if (slurm_parse_mem(v, &j.mem, &err) < 0)
        goto bad;
      flags |= ALTER_MEM;
    } else if (KEY("Partition")) {
      free(j.queue);
      j.queue = xstrdup(v);
      flags |= ALTER_QUEUE;
    } else if (KEY("Nice")) {
      if (parse_i64(v, -1023, 1024, &n) < 0) {
        berr_set(&err, -EINVAL, "Nice=%s: -1023 to 1024", v);
        goto bad;
      }
      j.priority = -n;
      flags |= ALTER_PRIORITY;
    } else if (KEY("Dependency")) {
      struct qsub_opts o;
      qsub_opts_init(&o);
      char *dv[] = {"-d", (char *)v};
      int r = slurm_parse_args(&o, 2, dv, false, NULL, &err);
      if (r == 0) {
        j.depend = xstrdup(o.depend ? o.depend : "");
        flags |= ALTER_DEPEND;
      }
      qsub_opts_free(&o);
      if (r < 0)
        goto bad;
    } else {
      cli_error(ctx,
                "update: %.*s cannot be changed here (JobName, TimeLimit, NumCPUs, "
                "MinMemoryNode, Partition, Nice, Dependency)",
                (int)klen, argv[i]);
      goto out;
    }
#undef KEY
  }
  if (!id || !flags) {
    cli_error(ctx, "update needs JobId= and something to change");
    goto out;
  }
  char *ref = slurm_to_boxq_id(ctx, id);
  if (!ref)
    goto out;
  char *ids[] = {ref};
  rc = cli_alter_request(ctx, flags, &j, ids, 1);
  free(ref);
  goto out;
bad:
  cli_error(ctx, "update: %s", err.msg);
out:
  job_rec_free(&j);
  return rc;
}

int
cmd_scontrol(struct cli_ctx *ctx, int argc, char **argv) {
  int first = 1;
  while (first < argc && argv[first][0] == '-')
    first++; /* -d, -o, -a: the same output here */
  if (first >= argc || !strcmp(argv[first], "help")) {
    fputs("Usage: scontrol show job [ID] | show config | show partition [NAME]\n"
          "       scontrol hold|release|suspend|resume|requeue ID...\n"
          "       scontrol update JobId=ID Key=Value...\n",
          first >= argc ? stderr : stdout);
    return first >= argc ? 1 : 0;
  }
  if (cli_load_config(ctx) < 0)
    return 1;
  const char *verb = argv[first];
  if (!strcasecmp(verb, "show"))
    return first + 1 < argc
               ? scontrol_show(ctx, argv[first + 1], first + 2 < argc ? argv[first + 2] : NULL)
               : 1;
  if (!strcasecmp(verb, "update"))
    return scontrol_update(ctx, argc - first - 1, argv + first + 1);
  enum proto_type type;
  int64_t flags = -1;
  if (!strcasecmp(verb, "hold") || !strcasecmp(verb, "uhold"))
    type = MSG_HOLD;
  else if (!strcasecmp(verb, "release"))
    type = MSG_RELEASE;
  else if (!strcasecmp(verb, "requeue"))
    type = MSG_RERUN;
  else if (!strcasecmp(verb, "suspend") || !strcasecmp(verb, "resume")) {
    type = MSG_SUSPEND;
    flags = !strcasecmp(verb, "resume");
  } else {
    cli_error(ctx, "invalid keyword: %s", verb);
    return 1;
  }
  int bad = 0;
  for (int i = first + 1; i < argc; i++) {
    _cleanup_free_ char *copy = xstrdup(argv[i]);
    char *save = NULL;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
      _cleanup_free_ char *ref = slurm_to_boxq_id(ctx, w);
      bad |= ref ? job_request(ctx, type, ref, w, 0, flags) : 1;
    }
  }
  return bad;
}

/* ---- sinfo ---- */

int
cmd_sinfo(struct cli_ctx *ctx, int argc, char **argv) {
  static const struct option opts[] = {{"noheader", no_argument, NULL, 'h'},
                                       {"Node", no_argument, NULL, 'N'},
                                       {"summarize", no_argument, NULL, 's'},
                                       {"partition", required_argument, NULL, 'p'},
                                       {"long", no_argument, NULL, 'l'},
                                       {"help", no_argument, NULL, 'H'},
                                       {0}};
  bool header = true, nodes = false;
  const char *part = NULL;
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "hNsp:l", opts, NULL)) != -1) {
    if (o == 'h')
      header = false;
    else if (o == 'N')
      nodes = true;
    else if (o == 'p')
      part = optarg;
    else if (o == 'H') {
      fputs("Usage: sinfo [-h] [-N] [-p partition]\n", stdout);
      return 0;
    } else if (o != 's' && o != 'l')
      return 1;
  }
  if (cli_load_config(ctx) < 0)
    return 1;
  /* The node's state: its CPUs in use by running jobs. */
  struct joblist l;
  int errs;
  if (jobs_fetch(ctx, FETCH_TASKS, NULL, 0, &l, &errs) < 0)
    return 1;
  int64_t used = 0;
  for (size_t i = 0; i < l.n; i++)
    if (l.jobs[i].stime && !l.jobs[i].array_spec && !l.jobs[i].suspended_at)
      used += l.jobs[i].ncpus;
  joblist_free(&l);
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  int64_t cap = ctx->cfg.ncpus > 0 ? ctx->cfg.ncpus : online > 0 ? online : 1;
  const char *state = used == 0 ? "idle" : used >= cap ? "alloc" : "mix";
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  if (nodes) {
    if (header)
      printf("NODELIST   NODES PARTITION STATE \n");
    for (size_t i = 0; i < ctx->cfg.nqueues; i++) {
      const struct boxq_queue *q = &ctx->cfg.queues[i];
      bool def = ctx->cfg.default_queue && !strcmp(ctx->cfg.default_queue, q->name);
      if (part && strcmp(part, q->name))
        continue;
      char name[128];
      snprintf(name, sizeof(name), "%s%s", q->name, def ? "*" : "");
      printf("%-10.10s %5d %9.9s %-6s\n", host, 1, name, state);
    }
    return 0;
  }
  if (header)
    printf("PARTITION AVAIL  TIMELIMIT  NODES  STATE NODELIST\n");
  for (size_t i = 0; i < ctx->cfg.nqueues; i++) {
    const struct boxq_queue *q = &ctx->cfg.queues[i];
    bool def = ctx->cfg.default_queue && !strcmp(ctx->cfg.default_queue, q->name);
    if (part && strcmp(part, q->name))
      continue;
    char name[128], limit[64];
    snprintf(name, sizeof(name), "%s%s", q->name, def ? "*" : "");
    if (q->max_walltime)
      slurm_secs(q->max_walltime, limit, sizeof(limit));
    else
      snprintf(limit, sizeof(limit), "infinite");
    printf("%-9.9s %5s %10.10s %6d %6.6s %s\n", name,
           q->enabled && q->started ? "up"
           : q->enabled             ? "inact"
                                    : "down",
           limit, 1, state, host);
  }
  return fflush(stdout) == 0 ? 0 : 1;
}
