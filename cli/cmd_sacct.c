/* SPDX-License-Identifier: MIT */
/* sacct: Slurm's accounting over boxq's records, every job (qsub's too):
 * a job's line and its batch step's (MaxRSS and the script's own exit are
 * the step's, as in Slurm), -X for the jobs alone, -P/-p, -n, -o/--format
 * with widths (jobname%20), -j, -u/-a, -s, -S/-E (today by default, or
 * any time with -j), --json. Usage is boxq's cgroup accounting. */
#include "json.h"
#include "slurm_opts.h"
#include "slurm_out.h"

#include <ctype.h>
#include <getopt.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char sacct_usage[] =
    "Usage: sacct [-X] [-P|-p] [-n] [-b|-l] [-o field[%width],...] [-j ids] [-u users | -a]\n"
    "             [-s states] [-S time] [-E time] [--name names] [-r partitions] [--json]\n"
    "Finished, running and pending jobs as Slurm's accounting shows them.\n"
    "  time: YYYY-MM-DD[THH:MM[:SS]], MMDD[YY], now[{+|-}N[minutes|hours|days|weeks]],\n"
    "        today, midnight, noon; -S defaults to 00:00 today unless -j is given.\n";

enum sa_field {
  F_JOBID,
  F_JOBIDRAW,
  F_JOBNAME,
  F_PARTITION,
  F_ACCOUNT,
  F_ALLOCCPUS,
  F_NCPUS,
  F_REQCPUS,
  F_STATE,
  F_EXITCODE,
  F_DERIVED,
  F_ELAPSED,
  F_ELAPSEDRAW,
  F_TOTALCPU,
  F_USERCPU,
  F_SYSCPU,
  F_CPUTIME,
  F_CPUTIMERAW,
  F_MAXRSS,
  F_AVERSS,
  F_MAXVMSIZE,
  F_REQMEM,
  F_START,
  F_END,
  F_SUBMIT,
  F_ELIGIBLE,
  F_USER,
  F_UID,
  F_GID,
  F_NODELIST,
  F_NNODES,
  F_ALLOCNODES,
  F_TIMELIMIT,
  F_TIMELIMITRAW,
  F_PRIORITY,
  F_WORKDIR,
  F_REASON,
  F_SUSPENDED,
  F_QOS,
  F_CLUSTER,
  F_MAXDISKREAD,
  F_MAXDISKWRITE,
  F_ALLOCTRES,
  F_REQTRES,
};

static const struct {
  const char *name;
  int width; /* negative: left-justified (Slurm's) */
} fields[] = {
    [F_JOBID] = {"JobID", -12},
    [F_JOBIDRAW] = {"JobIDRaw", -12},
    [F_JOBNAME] = {"JobName", 10},
    [F_PARTITION] = {"Partition", 10},
    [F_ACCOUNT] = {"Account", 10},
    [F_ALLOCCPUS] = {"AllocCPUS", 10},
    [F_NCPUS] = {"NCPUS", 10},
    [F_REQCPUS] = {"ReqCPUS", 8},
    [F_STATE] = {"State", 10},
    [F_EXITCODE] = {"ExitCode", 8},
    [F_DERIVED] = {"DerivedExitCode", 15},
    [F_ELAPSED] = {"Elapsed", 10},
    [F_ELAPSEDRAW] = {"ElapsedRaw", 10},
    [F_TOTALCPU] = {"TotalCPU", 10},
    [F_USERCPU] = {"UserCPU", 10},
    [F_SYSCPU] = {"SystemCPU", 10},
    [F_CPUTIME] = {"CPUTime", 10},
    [F_CPUTIMERAW] = {"CPUTimeRAW", 10},
    [F_MAXRSS] = {"MaxRSS", 10},
    [F_AVERSS] = {"AveRSS", 10},
    [F_MAXVMSIZE] = {"MaxVMSize", 10},
    [F_REQMEM] = {"ReqMem", 10},
    [F_START] = {"Start", 19},
    [F_END] = {"End", 19},
    [F_SUBMIT] = {"Submit", 19},
    [F_ELIGIBLE] = {"Eligible", 19},
    [F_USER] = {"User", 9},
    [F_UID] = {"UID", 6},
    [F_GID] = {"GID", 6},
    [F_NODELIST] = {"NodeList", 15},
    [F_NNODES] = {"NNodes", 8},
    [F_ALLOCNODES] = {"AllocNodes", 10},
    [F_TIMELIMIT] = {"Timelimit", 10},
    [F_TIMELIMITRAW] = {"TimelimitRaw", 10},
    [F_PRIORITY] = {"Priority", 10},
    [F_WORKDIR] = {"WorkDir", 20},
    [F_REASON] = {"Reason", 22},
    [F_SUSPENDED] = {"Suspended", 10},
    [F_QOS] = {"QOS", 10},
    [F_CLUSTER] = {"Cluster", 10},
    [F_MAXDISKREAD] = {"MaxDiskRead", 12},
    [F_MAXDISKWRITE] = {"MaxDiskWrite", 12},
    [F_ALLOCTRES] = {"AllocTRES", 10},
    [F_REQTRES] = {"ReqTRES", 10},
};

struct sa_col {
  enum sa_field f;
  int width;
};

/* One line: a job, or its batch step. */
struct sa_row {
  const struct job_rec *job;
  bool step;
  char id[96];
};

static void
tres(const struct job_rec *j, char *buf, size_t len) {
  char mem[32];
  slurm_size(j->mem, mem, sizeof(mem));
  snprintf(buf, len, "billing=%lld,cpu=%lld,mem=%s,node=1", (long long)j->ncpus,
           (long long)j->ncpus, mem);
}

static void
value(const struct sa_row *r, enum sa_field f, const char *server, char *buf, size_t len) {
  const struct job_rec *j = r->job;
  const struct job_usage *u = &j->usage;
  bool usage = j->has_usage, step = r->step;
  int64_t elapsed = slurm_elapsed(j);
  char host[256] = "localhost";
  buf[0] = '\0';
  switch (f) {
    case F_JOBID:
    case F_JOBIDRAW:
      if (f == F_JOBIDRAW && !strchr(r->id, '['))
        snprintf(buf, len, "%lld%s", (long long)j->id, step ? ".batch" : "");
      else
        snprintf(buf, len, "%s%s", r->id, step ? ".batch" : "");
      break;
    case F_JOBNAME:
      snprintf(buf, len, "%s", step ? "batch" : j->name ? j->name : "");
      break;
    case F_PARTITION:
      if (!step)
        snprintf(buf, len, "%s", j->queue ? j->queue : "");
      break;
    case F_ACCOUNT:
      snprintf(buf, len, "%s", j->account && *j->account ? j->account : "");
      break;
    case F_ALLOCCPUS:
    case F_NCPUS:
      snprintf(buf, len, "%lld", (long long)(j->stime ? j->ncpus : 0));
      break;
    case F_REQCPUS:
      snprintf(buf, len, "%lld", (long long)j->ncpus);
      break;
    case F_STATE:
      snprintf(buf, len, "%s", slurm_state(j, false));
      if (!step && j->state == JOB_FINISHED && j->end_reason == END_CANCELLED)
        snprintf(buf, len, "CANCELLED by %lld", (long long)j->uid);
      break;
    case F_EXITCODE:
    case F_DERIVED:
      slurm_exit_code(j, buf, len);
      if (j->state != JOB_FINISHED)
        snprintf(buf, len, "0:0");
      break;
    case F_ELAPSED:
      slurm_hms(elapsed, buf, len);
      break;
    case F_ELAPSEDRAW:
      snprintf(buf, len, "%lld", (long long)elapsed);
      break;
    case F_TOTALCPU:
    case F_USERCPU:
    case F_SYSCPU: {
      int64_t us = !usage            ? 0
                   : f == F_TOTALCPU ? u->cpu_usec
                   : f == F_USERCPU  ? u->user_usec
                                     : u->sys_usec;
      slurm_cpu_time(us, buf, len);
      break;
    }
    case F_CPUTIME:
      slurm_hms(elapsed * j->ncpus, buf, len);
      break;
    case F_CPUTIMERAW:
      snprintf(buf, len, "%lld", (long long)(elapsed * j->ncpus));
      break;
    case F_MAXRSS:
    case F_AVERSS:
    case F_MAXVMSIZE:
      /* A step's figures in Slurm: the job's line has none. */
      if (step && usage && u->mem_peak > 0)
        slurm_size(u->mem_peak / 1024 * 1024, buf, len);
      else if (step)
        snprintf(buf, len, "0");
      break;
    case F_MAXDISKREAD:
    case F_MAXDISKWRITE:
      if (step && usage) {
        int64_t b = f == F_MAXDISKREAD ? u->io_rbytes : u->io_wbytes;
        snprintf(buf, len, "%lld", (long long)(b > 0 ? b : 0));
      }
      break;
    case F_REQMEM:
      slurm_size(j->mem, buf, len);
      break;
    case F_START:
      slurm_date(j->stime, buf, len);
      break;
    case F_END:
      slurm_date(j->state == JOB_FINISHED ? j->etime : 0, buf, len);
      break;
    case F_SUBMIT:
    case F_ELIGIBLE:
      slurm_date(j->ctime, buf, len);
      break;
    case F_USER:
      if (!step)
        snprintf(buf, len, "%s", j->owner ? j->owner : "");
      break;
    case F_UID:
      snprintf(buf, len, "%lld", (long long)j->uid);
      break;
    case F_GID:
      snprintf(buf, len, "%lld", (long long)j->gid);
      break;
    case F_NODELIST:
      if (j->stime) {
        gethostname(host, sizeof(host) - 1);
        snprintf(buf, len, "%s", host);
      } else
        snprintf(buf, len, "None assigned");
      break;
    case F_NNODES:
    case F_ALLOCNODES:
      snprintf(buf, len, "%d", j->stime || f == F_NNODES ? 1 : 0);
      break;
    case F_TIMELIMIT:
      if (!step) {
        if (j->walltime)
          slurm_hms(j->walltime, buf, len);
        else
          snprintf(buf, len, "UNLIMITED");
      }
      break;
    case F_TIMELIMITRAW:
      if (!step)
        snprintf(buf, len, j->walltime ? "%lld" : "UNLIMITED", (long long)(j->walltime / 60));
      break;
    case F_PRIORITY:
      snprintf(buf, len, "%lld", (long long)(j->priority + 1024));
      break;
    case F_WORKDIR:
      snprintf(buf, len, "%s", j->workdir ? j->workdir : "");
      break;
    case F_REASON:
      snprintf(buf, len, "%s", j->state == JOB_FINISHED ? "None" : slurm_reason(j));
      break;
    case F_SUSPENDED:
      slurm_hms(j->suspended_sec, buf, len);
      break;
    case F_QOS:
      snprintf(buf, len, "normal");
      break;
    case F_CLUSTER:
      snprintf(buf, len, "%s", server);
      break;
    case F_ALLOCTRES:
    case F_REQTRES:
      if (!step || f == F_ALLOCTRES)
        tres(j, buf, len);
      break;
  }
}

static int
parse_fields(const char *list, struct sa_col **ret, size_t *ret_n, struct berr *err) {
  _cleanup_free_ char *copy = xstrdup(list);
  struct sa_col *cols = NULL;
  size_t n = 0;
  char *save = NULL;
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    char *pct = strchr(w, '%');
    int width = 0;
    if (pct) {
      *pct = '\0';
      width = atoi(pct + 1);
    }
    int found = -1;
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
      if (!strcasecmp(w, fields[i].name))
        found = (int)i;
    if (found < 0) {
      free(cols);
      return berr_set(err, -EINVAL, "Invalid field requested: \"%s\"", w);
    }
    int def = fields[found].width;
    cols = xrealloc(cols, (n + 1) * sizeof(*cols));
    cols[n++] = (struct sa_col){(enum sa_field)found, width ? (def < 0 ? -width : width) : def};
  }
  *ret = cols;
  *ret_n = n;
  return 0;
}

/* Slurm's column: right (or left, negative) in |width|, '+' ending a value
 * cut short; parsable: the value and the delimiter. */
static void
cell(const char *s, int width, int parsable, bool last) {
  if (parsable) {
    fputs(s, stdout);
    if (!last || parsable == 1)
      putchar('|');
    return;
  }
  int w = width < 0 ? -width : width;
  char cut[512];
  snprintf(cut, sizeof(cut), "%s", *s ? s : " ");
  if ((int)strlen(cut) > w && w > 0 && w < (int)sizeof(cut)) {
    cut[w - 1] = '+';
    cut[w] = '\0';
  }
  printf(width < 0 ? "%-*s " : "%*s ", w, cut);
}

static int64_t
parse_when(const char *s, int64_t now, struct berr *err) {
  int used = 0;
  int64_t t;
  int mo, d, y = -1;
  if ((sscanf(s, "%2d%2d%2d%n", &mo, &d, &y, &used) >= 2 && (size_t)used == strlen(s) &&
       strspn(s, "0123456789") == strlen(s)) ||
      (sscanf(s, "%d/%d/%d", &mo, &d, &y) >= 2 && strchr(s, '/'))) {
    time_t tt = (time_t)now;
    struct tm tm;
    localtime_r(&tt, &tm);
    tm.tm_mon = mo - 1, tm.tm_mday = d, tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    if (y >= 0)
      tm.tm_year = (y < 100 ? 2000 + y : y) - 1900;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm);
  }
  if (slurm_parse_begin(s, now, &t, err) < 0)
    return -1;
  if (!strcmp(s, "midnight") || !strcmp(s, "today")) {
    /* the last midnight, for a start of accounting */
    time_t tt = (time_t)now;
    struct tm tm;
    localtime_r(&tt, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    return (int64_t)mktime(&tm);
  }
  return t;
}

static void
print_json(const struct joblist *l, const struct sa_row *rows, size_t n, const char *server) {
  struct json js;
  char buf[512];
  json_init(&js, stdout);
  json_open(&js, NULL, '{');
  json_open(&js, "jobs", '[');
  for (size_t i = 0; i < n; i++) {
    if (rows[i].step)
      continue;
    const struct sa_row *r = &rows[i];
    const struct job_rec *j = r->job;
    json_open(&js, NULL, '{');
    json_int(&js, "job_id", j->id);
    json_open(&js, "array", '{');
    json_int(&js, "job_id", j->array_id);
    json_int(&js, "task_id", j->array_id ? j->array_index : 0);
    json_close(&js, '}');
    json_str(&js, "name", j->name ? j->name : "");
    json_str(&js, "user", j->owner ? j->owner : "");
    json_str(&js, "partition", j->queue ? j->queue : "");
    json_str(&js, "account", j->account ? j->account : "");
    json_str(&js, "cluster", server);
    json_open(&js, "state", '{');
    json_str(&js, "current", slurm_state(j, false));
    json_str(&js, "reason", j->state == JOB_FINISHED ? "None" : slurm_reason(j));
    json_close(&js, '}');
    json_open(&js, "exit_code", '{');
    slurm_exit_code(j, buf, sizeof(buf));
    json_int(&js, "return_code", atoll(buf));
    json_int(&js, "signal", atoll(strchr(buf, ':') + 1));
    json_close(&js, '}');
    json_open(&js, "time", '{');
    json_int(&js, "submission", j->ctime);
    json_int(&js, "start", j->stime);
    json_int(&js, "end", j->state == JOB_FINISHED ? j->etime : 0);
    json_int(&js, "elapsed", slurm_elapsed(j));
    json_int(&js, "limit", j->walltime / 60);
    json_int(&js, "suspended", j->suspended_sec);
    json_int(&js, "total_cpu_usec", j->has_usage ? j->usage.cpu_usec : 0);
    json_close(&js, '}');
    json_int(&js, "cpus", j->ncpus);
    json_int(&js, "memory_bytes", j->mem);
    json_int(&js, "max_rss_bytes", j->has_usage && j->usage.mem_peak > 0 ? j->usage.mem_peak : 0);
    json_str(&js, "working_directory", j->workdir ? j->workdir : "");
    json_close(&js, '}');
  }
  (void)l;
  json_close(&js, ']');
  json_open(&js, "errors", '[');
  json_close(&js, ']');
  json_close(&js, '}');
  json_end(&js);
}

int
cmd_sacct(struct cli_ctx *ctx, int argc, char **argv) {
  enum { OPT_JSON = 1000, OPT_NAME, OPT_HELP };
  static const struct option opts[] = {{"allocations", no_argument, NULL, 'X'},
                                       {"parsable2", no_argument, NULL, 'P'},
                                       {"parsable", no_argument, NULL, 'p'},
                                       {"noheader", no_argument, NULL, 'n'},
                                       {"format", required_argument, NULL, 'o'},
                                       {"jobs", required_argument, NULL, 'j'},
                                       {"user", required_argument, NULL, 'u'},
                                       {"allusers", no_argument, NULL, 'a'},
                                       {"state", required_argument, NULL, 's'},
                                       {"starttime", required_argument, NULL, 'S'},
                                       {"endtime", required_argument, NULL, 'E'},
                                       {"brief", no_argument, NULL, 'b'},
                                       {"long", no_argument, NULL, 'l'},
                                       {"partition", required_argument, NULL, 'r'},
                                       {"duplicates", no_argument, NULL, 'D'},
                                       {"allclusters", no_argument, NULL, 'L'},
                                       {"units", required_argument, NULL, 'U'},
                                       {"json", no_argument, NULL, OPT_JSON},
                                       {"name", required_argument, NULL, OPT_NAME},
                                       {"help", no_argument, NULL, OPT_HELP},
                                       {0}};
  bool steps = true, header = true, json = false, all_users = false;
  int parsable = 0;
  const char *format = "jobid,jobname,partition,account,alloccpus,state,exitcode";
  const char *jobs = NULL, *users = NULL, *states = NULL, *names = NULL, *parts = NULL;
  int64_t now = (int64_t)time(NULL), since = -1, until = 0;
  struct berr err = {{0}};
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "XPpno:j:u:as:S:E:blr:DLU:", opts, NULL)) != -1) {
    switch (o) {
      case 'X':
        steps = false;
        break;
      case 'P':
        parsable = 2;
        break;
      case 'p':
        parsable = 1;
        break;
      case 'n':
        header = false;
        break;
      case 'o':
        format = optarg;
        break;
      case 'b':
        format = "jobid,state,exitcode";
        break;
      case 'l':
        format = "jobid,jobidraw,jobname,partition,maxvmsize,maxrss,averss,alloccpus,elapsed,"
                 "state,exitcode,reqmem,maxdiskread,maxdiskwrite,reqtres,alloctres";
        break;
      case 'j':
        jobs = optarg;
        break;
      case 'u':
        users = optarg;
        break;
      case 'a':
        all_users = true;
        break;
      case 's':
        states = optarg;
        break;
      case 'S':
      case 'E': {
        int64_t t = parse_when(optarg, now, &err);
        if (t < 0) {
          cli_error(ctx, "-%c: %s", o, err.msg);
          return 1;
        }
        *(o == 'S' ? &since : &until) = t;
        break;
      }
      case 'r':
        parts = optarg;
        break;
      case 'D':
      case 'L':
      case 'U':
        break;
      case OPT_JSON:
        json = true;
        break;
      case OPT_NAME:
        names = optarg;
        break;
      case OPT_HELP:
        fputs(sacct_usage, stdout);
        return 0;
      default:
        fputs(sacct_usage, stderr);
        return 1;
    }
  }
  struct sa_col *cols = NULL;
  size_t ncols = 0;
  if (parse_fields(format, &cols, &ncols, &err) < 0) {
    cli_error(ctx, "%s", err.msg);
    return 1;
  }
  if (since < 0 && !jobs) { /* Slurm's default: since 00:00 today */
    time_t tt = (time_t)now;
    struct tm tm;
    localtime_r(&tt, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    since = (int64_t)mktime(&tm);
  }
  /* Your own jobs, unless -a or -u; root's default is everyone's. */
  char me[64] = "";
  if (!users && !all_users && getuid() != 0) {
    const char *u = getenv("USER");
    snprintf(me, sizeof(me), "%s", u && *u ? u : "");
  }
  if (cli_load_config(ctx) < 0) {
    free(cols);
    return 1;
  }
  struct joblist l;
  int errors = 0;
  int flags = FETCH_FINISHED | FETCH_TASKS | FETCH_ACCOUNTING;
  int r;
  if (jobs) {
    /* Each id as boxq names it; unknown ones are no error in sacct. */
    char **ids = NULL;
    int nids = 0;
    _cleanup_free_ char *copy = xstrdup(jobs);
    char *save = NULL;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
      char *id = slurm_to_boxq_id(ctx, w);
      if (!id)
        continue;
      ids = xrealloc(ids, (size_t)(nids + 1) * sizeof(char *));
      ids[nids++] = id;
    }
    char scratch[256];
    ctx->errbuf = scratch;
    ctx->errlen = sizeof(scratch);
    /* An array's id names its tasks too. */
    r = nids ? jobs_fetch_arrays(ctx, flags, ids, nids, &l, &errors) : 0;
    ctx->errbuf = NULL;
    if (!nids)
      l = (struct joblist){0};
    for (int i = 0; i < nids; i++)
      free(ids[i]);
    free(ids);
  } else
    r = jobs_fetch(ctx, flags, NULL, 0, &l, &errors);
  if (r < 0) {
    free(cols);
    return 1;
  }
  struct sa_row *rows = NULL;
  size_t n = 0;
  for (size_t i = 0; i < l.n; i++) {
    const struct job_rec *j = &l.jobs[i];
    bool dup = false;
    for (size_t k = 0; k < i && !dup; k++)
      dup = l.jobs[k].id == j->id;
    if (dup || j->array_spec)
      continue; /* an array is its tasks here */
    if (!slurm_listed(users   ? users
                      : me[0] ? me
                              : NULL,
                      j->owner) ||
        !slurm_listed(parts, j->queue) || !slurm_listed(names, j->name) ||
        (states && !slurm_states_match(states, j)))
      continue;
    int64_t end = j->state == JOB_FINISHED ? j->etime : now;
    if ((since >= 0 && end < since) || (until && j->ctime > until))
      continue;
    struct sa_row row = {.job = j};
    slurm_job_id(j, row.id, sizeof(row.id));
    rows = xrealloc(rows, (n + 2) * sizeof(*rows));
    rows[n++] = row;
    if (steps && j->stime) {
      row.step = true;
      rows[n++] = row;
    }
  }
  if (json)
    print_json(&l, rows, n, ctx->server);
  else {
    char buf[4200];
    if (header) {
      for (size_t c = 0; c < ncols; c++)
        cell(fields[cols[c].f].name, cols[c].width, parsable, c + 1 == ncols);
      putchar('\n');
      if (!parsable) {
        for (size_t c = 0; c < ncols; c++) {
          int w = cols[c].width < 0 ? -cols[c].width : cols[c].width;
          for (int k = 0; k < w; k++)
            putchar('-');
          putchar(' ');
        }
        putchar('\n');
      }
    }
    for (size_t i = 0; i < n; i++) {
      for (size_t c = 0; c < ncols; c++) {
        value(&rows[i], cols[c].f, ctx->server, buf, sizeof(buf));
        cell(buf, cols[c].width, parsable, c + 1 == ncols);
      }
      putchar('\n');
    }
  }
  free(rows);
  free(cols);
  joblist_free(&l);
  return fflush(stdout) == 0 ? 0 : 1;
}
