/* SPDX-License-Identifier: MIT */
/* qacct: what finished jobs used, as the kernel's cgroup files measured
 * it (with wait4's rusage beside it as a check). One row per job, one
 * record per job (-j), or sums by user, queue or day; as a table, CSV or
 * JSON. Filtering and summing happen in boxqd, next to the data. */
#include "jobfields.h"
#include "jobs_fetch.h"
#include "res.h"
#include "sge_out.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

static const char qacct_usage[] =
    "Usage: qacct [-j job_id ...] [-u user[,user...]] [-q queue[,queue...]]\n"
    "             [-A account[,...]] [-P project[,...]] [--since WHEN] [--until WHEN]\n"
    "             [--state reason[,reason...]] [--by user|queue|day|account|project]\n"
    "             [--csv | --json] [--limit N] [--recount]\n"
    "  without -j: one line per finished job (or, with --by, sums per group)\n"
    "  --recount  with --by: sum the jobs themselves, not the summaries kept as they end\n"
    "  -j         the full accounting record of each job named (ID[] an array's tasks)\n"
    "  WHEN       now, today, yesterday, 2026-11-01, '2026-11-01 12:00', -7d, -12h, -30m, @EPOCH\n"
    "  reason     completed, failed, timeout, out-of-memory, cancelled, lost, launch-failed,\n"
    "             dependency-never-satisfied\n";

enum out_form { OUT_TABLE, OUT_CSV, OUT_JSON };

/* qacct's dates: now, today, yesterday (at 00:00), YYYY-MM-DD[( |T)HH:MM[:SS]],
 * -Nd/-Nh/-Nm/-Ns before now, @EPOCH. Local time. */
int
qacct_parse_when(const char *s, int64_t now, int64_t *ret) {
  time_t t = (time_t)now;
  struct tm tm;
  localtime_r(&t, &tm);
  char unit;
  long long n;
  int used = 0;
  if (!strcmp(s, "now")) {
    *ret = now;
    return 0;
  }
  if (!strcmp(s, "today") || !strcmp(s, "yesterday")) {
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    if (s[0] == 'y')
      tm.tm_mday--;
    tm.tm_isdst = -1;
    *ret = (int64_t)mktime(&tm);
    return 0;
  }
  if (s[0] == '@' && parse_i64(s + 1, 0, INT64_MAX / 2, ret) == 0)
    return 0;
  if (s[0] == '-' && sscanf(s + 1, "%lld%c%n", &n, &unit, &used) == 2 && s[1 + used] == '\0' &&
      n >= 0 && n < 100000000) {
    int64_t scale = unit == 'd'   ? 86400
                    : unit == 'h' ? 3600
                    : unit == 'm' ? 60
                    : unit == 's' ? 1
                                  : 0;
    if (!scale)
      return -EINVAL;
    *ret = now - (int64_t)n * scale;
    return 0;
  }
  struct tm d = {.tm_isdst = -1};
  int y, mo, da, h = 0, mi = 0, se = 0;
  used = 0;
  int k = sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &da, &used);
  if (k != 3)
    return -EINVAL;
  const char *rest = s + used;
  if (*rest == 'T' || *rest == ' ') {
    int used2 = 0;
    if (sscanf(rest + 1, "%2d:%2d%n", &h, &mi, &used2) != 2)
      return -EINVAL;
    rest += 1 + used2;
    if (*rest == ':') {
      int used3 = 0;
      if (sscanf(rest + 1, "%2d%n", &se, &used3) != 1)
        return -EINVAL;
      rest += 1 + used3;
    }
  }
  if (*rest != '\0' || mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || se > 60)
    return -EINVAL;
  d.tm_year = y - 1900;
  d.tm_mon = mo - 1;
  d.tm_mday = da;
  d.tm_hour = h;
  d.tm_min = mi;
  d.tm_sec = se;
  time_t when = mktime(&d);
  if (when == (time_t)-1 || d.tm_mday != da)
    return -EINVAL;
  *ret = (int64_t)when;
  return 0;
}

/* "completed,timeout" -> bit mask of end reasons. */
static int
parse_reasons(const char *list, int64_t *ret, struct berr *err) {
  _cleanup_free_ char *copy = xstrdup(list);
  char *save = NULL;
  int64_t mask = 0;
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    int e = job_end_from_string(w);
    if (e <= END_NONE)
      return berr_set(err, -EINVAL, "--state: unknown end reason '%s'", w);
    mask |= INT64_C(1) << e;
  }
  if (!mask)
    return berr_set(err, -EINVAL, "--state needs at least one end reason");
  *ret = mask;
  return 0;
}

static void
put_list(struct pbuf *b, uint16_t tag, const char *list) {
  _cleanup_free_ char *copy = xstrdup(list);
  char *save = NULL;
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
    pb_str(b, tag, w);
}

/* ---- CSV ---- */

static void
csv_cell(const char *s, bool last) {
  if (strpbrk(s, ",\"\n\r")) {
    putchar('"');
    for (; *s; s++) {
      if (*s == '"')
        putchar('"');
      putchar(*s);
    }
    putchar('"');
  } else
    fputs(s, stdout);
  putchar(last ? '\n' : ',');
}

/* ---- per-job rows ---- */

static void
print_rows(const char *server, const struct joblist *l, enum out_form form) {
  if (form == OUT_JSON) {
    struct json js;
    json_init(&js, stdout);
    json_open(&js, NULL, '{');
    json_str(&js, "server", server);
    json_open(&js, "jobs", '[');
    for (size_t i = 0; i < l->n; i++) {
      json_open(&js, NULL, '{');
      fields_json(&acct_fields, &l->jobs[i], server, &js);
      json_close(&js, '}');
    }
    json_close(&js, ']');
    json_close(&js, '}');
    json_end(&js);
    return;
  }
  if (form == OUT_CSV) {
    /* Numbers bare (seconds, bytes), for spreadsheets and scripts. */
    fputs("job_id,name,owner,queue,end_reason,exit_status,cpu_seconds,mem_peak_bytes,oom_kills,"
          "wall_seconds,ncpus,submitted,started,ended,account,project\n",
          stdout);
    for (size_t i = 0; i < l->n; i++) {
      const struct job_rec *j = &l->jobs[i];
      _cleanup_free_ char *id = job_display_id(j, server);
      char num[8][32];
      snprintf(num[0], 32, "%lld", j->has_exit ? (long long)j->exit_status : 0LL);
      snprintf(num[1], 32, "%.6f", j->usage.cpu_usec / 1e6);
      snprintf(num[2], 32, "%lld", (long long)j->usage.mem_peak);
      snprintf(num[3], 32, "%lld", (long long)j->usage.oom_kills);
      snprintf(num[4], 32, "%.6f", j->usage.wall_usec / 1e6);
      snprintf(num[5], 32, "%lld", (long long)j->ncpus);
      snprintf(num[6], 32, "%lld", (long long)j->ctime);
      snprintf(num[7], 32, "%lld", (long long)j->stime);
      char ended[32];
      snprintf(ended, sizeof(ended), "%lld", (long long)j->etime);
      csv_cell(id, false);
      csv_cell(j->name ? j->name : "", false);
      csv_cell(j->owner ? j->owner : "", false);
      csv_cell(j->queue ? j->queue : "", false);
      csv_cell(job_end_to_string(j->end_reason), false);
      csv_cell(j->has_exit ? num[0] : "", false);
      for (int k = 1; k < 8; k++)
        csv_cell(num[k], false);
      csv_cell(ended, false);
      csv_cell(j->account ? j->account : "", false);
      csv_cell(j->project ? j->project : "", true);
    }
    return;
  }
  printf("%-16s %-12s %-12s %-26s %5s %10s %10s %4s\n", "Job id", "Name", "User", "End reason",
         "Exit", "CPU (s)", "Mem peak", "OOM");
  for (size_t i = 0; i < l->n; i++) {
    const struct job_rec *j = &l->jobs[i];
    char mem[32] = "-", exit[32] = "-";
    _cleanup_free_ char *id = job_display_id(j, server);
    if (j->has_usage)
      res_format_size(j->usage.mem_peak, mem, sizeof(mem));
    if (j->has_exit)
      snprintf(exit, sizeof(exit), "%lld", (long long)j->exit_status);
    printf("%-16.16s %-12.12s %-12.12s %-26s %5s %10.2f %10s %4lld\n", id, j->name ? j->name : "",
           j->owner ? j->owner : "", job_end_to_string(j->end_reason), exit,
           j->usage.cpu_usec / 1e6, mem, (long long)j->usage.oom_kills);
  }
}

/* ---- summaries ---- */

struct group {
  const char *key;
  int64_t jobs, completed, failed, timeouts, oom_kills, cancelled, cpu_usec, wall_usec, alloc_usec,
      mem_peak, gpu_usec;
};

static void
read_group(const struct pmsg *g, struct group *out) {
  *out = (struct group){.key = pmsg_str(g, G_KEY)};
  if (!out->key)
    out->key = "";
  out->jobs = pmsg_i64_or(g, G_JOBS, 0);
  out->completed = pmsg_i64_or(g, G_COMPLETED, 0);
  out->failed = pmsg_i64_or(g, G_FAILED, 0);
  out->timeouts = pmsg_i64_or(g, G_TIMEOUTS, 0);
  out->oom_kills = pmsg_i64_or(g, G_OOM_KILLS, 0);
  out->cancelled = pmsg_i64_or(g, G_CANCELLED, 0);
  out->cpu_usec = pmsg_i64_or(g, G_CPU_USEC, 0);
  out->wall_usec = pmsg_i64_or(g, G_WALL_USEC, 0);
  out->alloc_usec = pmsg_i64_or(g, G_CPU_ALLOC_USEC, 0);
  out->mem_peak = pmsg_i64_or(g, G_MEM_PEAK, 0);
  out->gpu_usec = pmsg_i64_or(g, G_GPU_USEC, 0);
}

static void
add_group(struct group *total, const struct group *g) {
  total->jobs += g->jobs;
  total->completed += g->completed;
  total->failed += g->failed;
  total->timeouts += g->timeouts;
  total->oom_kills += g->oom_kills;
  total->cancelled += g->cancelled;
  total->cpu_usec += g->cpu_usec;
  total->wall_usec += g->wall_usec;
  total->alloc_usec += g->alloc_usec;
  total->gpu_usec += g->gpu_usec;
  if (g->mem_peak > total->mem_peak)
    total->mem_peak = g->mem_peak;
}

static void
group_table_row(const struct group *g) {
  char mem[32];
  res_format_size(g->mem_peak, mem, sizeof(mem));
  printf("%-16.16s %8lld %9lld %7lld %8lld %9lld %9lld %10.3f %10.3f %10.3f %10s %8.3f\n", g->key,
         (long long)g->jobs, (long long)g->completed, (long long)g->failed, (long long)g->timeouts,
         (long long)g->oom_kills, (long long)g->cancelled, g->cpu_usec / 3.6e9,
         g->wall_usec / 3.6e9, g->alloc_usec / 3.6e9, mem, g->gpu_usec / 3.6e9);
}

static void
group_json(struct json *js, const char *by, const struct group *g) {
  json_open(js, NULL, '{');
  json_str(js, by, g->key);
  json_int(js, "jobs", g->jobs);
  json_int(js, "completed", g->completed);
  json_int(js, "failed", g->failed);
  json_int(js, "timeouts", g->timeouts);
  json_int(js, "oom_kills", g->oom_kills);
  json_int(js, "cancelled", g->cancelled);
  json_num(js, "cpu_hours", g->cpu_usec / 3.6e9);
  json_num(js, "wall_hours", g->wall_usec / 3.6e9);
  json_num(js, "cpu_hours_allocated", g->alloc_usec / 3.6e9);
  json_int(js, "mem_peak_bytes", g->mem_peak);
  json_num(js, "gpu_hours", g->gpu_usec / 3.6e9);
  json_close(js, '}');
}

static void
group_csv(const struct group *g) {
  char cells[11][32];
  snprintf(cells[0], 32, "%lld", (long long)g->jobs);
  snprintf(cells[1], 32, "%lld", (long long)g->completed);
  snprintf(cells[2], 32, "%lld", (long long)g->failed);
  snprintf(cells[3], 32, "%lld", (long long)g->timeouts);
  snprintf(cells[4], 32, "%lld", (long long)g->oom_kills);
  snprintf(cells[5], 32, "%lld", (long long)g->cancelled);
  snprintf(cells[6], 32, "%.6f", g->cpu_usec / 3.6e9);
  snprintf(cells[7], 32, "%.6f", g->wall_usec / 3.6e9);
  snprintf(cells[8], 32, "%.6f", g->alloc_usec / 3.6e9);
  snprintf(cells[9], 32, "%lld", (long long)g->mem_peak);
  snprintf(cells[10], 32, "%.6f", g->gpu_usec / 3.6e9);
  csv_cell(g->key, false);
  for (int k = 0; k < 11; k++)
    csv_cell(cells[k], k == 10);
}

static void
print_groups(const struct pmsg *reply, const char *by, enum out_form form) {
  struct json js;
  struct group total = {.key = "total"};
  if (form == OUT_JSON) {
    json_init(&js, stdout);
    json_open(&js, NULL, '{');
    json_str(&js, "by", by);
    json_open(&js, "groups", '[');
  } else if (form == OUT_CSV)
    printf("%s,jobs,completed,failed,timeouts,oom_kills,cancelled,cpu_hours,wall_hours,"
           "cpu_hours_allocated,mem_peak_bytes,gpu_hours\n",
           by);
  else
    printf("%-16s %8s %9s %7s %8s %9s %9s %10s %10s %10s %10s %8s\n", by, "Jobs", "Completed",
           "Failed", "Timeouts", "OOM kills", "Cancelled", "CPU h", "Wall h", "CPU h held",
           "Peak mem", "GPU h");
  size_t off = 0;
  struct pfield f;
  while (pmsg_next(reply, &off, &f)) {
    struct pmsg sub;
    if (f.tag != T_GROUP || pmsg_sub(&f, &sub) < 0)
      continue;
    struct group g;
    read_group(&sub, &g);
    add_group(&total, &g);
    if (form == OUT_JSON)
      group_json(&js, by, &g);
    else if (form == OUT_CSV)
      group_csv(&g);
    else
      group_table_row(&g);
  }
  if (form == OUT_JSON) {
    json_close(&js, ']');
    json_open(&js, "total", '{');
    json_int(&js, "jobs", total.jobs);
    json_num(&js, "cpu_hours", total.cpu_usec / 3.6e9);
    json_num(&js, "wall_hours", total.wall_usec / 3.6e9);
    json_num(&js, "gpu_hours", total.gpu_usec / 3.6e9);
    json_close(&js, '}');
    json_close(&js, '}');
    json_end(&js);
  } else if (form == OUT_TABLE)
    group_table_row(&total);
}

/* -j: full records of the jobs named (an array's tasks for ID[]). */
static int
records(struct cli_ctx *ctx, char **ids, int n, enum out_form form) {
  struct joblist l;
  int errors;
  if (jobs_fetch(ctx, FETCH_FINISHED | FETCH_TASKS | FETCH_ACCOUNTING, ids, n, &l, &errors) < 0)
    return 1;
  struct joblist done = {xcalloc(l.n + 1, sizeof(struct job_rec)), 0};
  for (size_t i = 0; i < l.n; i++) {
    struct job_rec *j = &l.jobs[i];
    if (j->array_spec) /* qacct -j ID[]: its tasks follow */
      continue;
    if (j->state != JOB_FINISHED) {
      _cleanup_free_ char *id = job_display_id(j, ctx->server);
      cli_error(ctx, "job %s has not finished (state %c): no accounting yet", id, j->state);
      errors++;
      continue;
    }
    done.jobs[done.n++] = *j;
  }
  if (form == OUT_TABLE)
    for (size_t i = 0; i < done.n; i++) {
      printf("==============================================================\n");
      fields_print_aligned(&acct_fields, &done.jobs[i], ctx->server);
    }
  else
    print_rows(ctx->server, &done, form);
  free(done.jobs);
  joblist_free(&l);
  return errors ? 1 : 0;
}

int
cmd_qacct(struct cli_ctx *ctx, int argc, char **argv) {
  enum {
    OPT_SINCE = 1000,
    OPT_UNTIL,
    OPT_STATE,
    OPT_BY,
    OPT_CSV,
    OPT_JSON,
    OPT_LIMIT,
    OPT_RECOUNT
  };
  static const struct option opts[] = {{"help", no_argument, NULL, '?'},
                                       {"since", required_argument, NULL, OPT_SINCE},
                                       {"until", required_argument, NULL, OPT_UNTIL},
                                       {"state", required_argument, NULL, OPT_STATE},
                                       {"by", required_argument, NULL, OPT_BY},
                                       {"csv", no_argument, NULL, OPT_CSV},
                                       {"json", no_argument, NULL, OPT_JSON},
                                       {"limit", required_argument, NULL, OPT_LIMIT},
                                       {"recount", no_argument, NULL, OPT_RECOUNT},
                                       {0}};
  bool by_id = false, recount = false;
  const char *users = NULL, *queues = NULL, *by = NULL, *accounts = NULL, *projects = NULL;
  int64_t since = 0, until = 0, reasons = 0, limit = 0, now = (int64_t)time(NULL);
  enum out_form form = OUT_TABLE;
  struct berr err = {{0}};
  int o;
  if (cli_load_config(ctx) < 0)
    return 1;
  if (ctx->dialect == DIALECT_SGE)
    return qacct_sge(ctx, argc, argv);
  while ((o = getopt_long(argc, argv, "ju:q:A:P:", opts, NULL)) != -1) {
    switch (o) {
      case 'j':
        by_id = true;
        break;
      case 'u':
        users = optarg;
        break;
      case 'q':
        queues = optarg;
        break;
      case 'A':
        accounts = optarg;
        break;
      case 'P':
        projects = optarg;
        break;
      case OPT_SINCE:
      case OPT_UNTIL:
        if (qacct_parse_when(optarg, now, o == OPT_SINCE ? &since : &until) < 0) {
          cli_error(ctx,
                    "--%s '%s': not a date (now, today, yesterday, YYYY-MM-DD[ HH:MM[:SS]], "
                    "-7d, -12h, -30m, @EPOCH)",
                    o == OPT_SINCE ? "since" : "until", optarg);
          return 2;
        }
        break;
      case OPT_STATE:
        if (parse_reasons(optarg, &reasons, &err) < 0) {
          cli_error(ctx, "%s", err.msg);
          return 2;
        }
        break;
      case OPT_BY:
        if (strcmp(optarg, "user") && strcmp(optarg, "queue") && strcmp(optarg, "day") &&
            strcmp(optarg, "account") && strcmp(optarg, "project") && strcmp(optarg, "day,user")) {
          cli_error(ctx, "--by '%s': use user, queue, day, account, project or day,user", optarg);
          return 2;
        }
        by = optarg;
        break;
      case OPT_CSV:
        form = OUT_CSV;
        break;
      case OPT_JSON:
        form = OUT_JSON;
        break;
      case OPT_LIMIT:
        if (parse_i64(optarg, 1, INT64_MAX, &limit) < 0) {
          cli_error(ctx, "--limit '%s': a number of jobs, 1 or more", optarg);
          return 2;
        }
        break;
      case OPT_RECOUNT:
        recount = true;
        break;
      default:
        fputs(qacct_usage, o == '?' && optopt == 0 ? stdout : stderr);
        return 2;
    }
  }
  if (by_id) {
    if (optind == argc) {
      cli_error(ctx, "-j needs at least one job id");
      return 2;
    }
    if (users || queues || accounts || projects || by || since || until || reasons) {
      cli_error(ctx, "-j names jobs: it takes no filters");
      return 2;
    }
    return records(ctx, argv + optind, argc - optind, form);
  }
  if (recount && !by) {
    cli_error(ctx, "--recount sums groups: it goes with --by");
    return 2;
  }
  if (optind != argc) {
    cli_error(ctx, "unexpected '%s' (job ids go with -j)", argv[optind]);
    return 2;
  }
  if (until && since >= until) {
    cli_error(ctx, "--since must be before --until");
    return 2;
  }
  if (cli_load_config(ctx) < 0)
    return 1;
  struct pbuf b = {0};
  pb_begin(&b, MSG_ACCT);
  if (users)
    put_list(&b, A_USER, users);
  if (queues)
    put_list(&b, A_QUEUE, queues);
  if (accounts)
    put_list(&b, A_ACCOUNT, accounts);
  if (projects)
    put_list(&b, A_PROJECT, projects);
  if (since)
    pb_i64(&b, A_SINCE, since);
  if (until)
    pb_i64(&b, A_UNTIL, until);
  if (reasons)
    pb_i64(&b, A_REASONS, reasons);
  if (by)
    pb_str(&b, A_GROUP_BY, by);
  if (limit)
    pb_i64(&b, A_LIMIT, limit);
  if (recount)
    pb_i64(&b, A_RECOUNT, 1);
  pb_end(&b);
  struct pmsg reply;
  if (cli_call(ctx, &b, &reply, false) < 0)
    return 1;
  if (by) {
    print_groups(&reply, by, form);
    return fflush(stdout) == 0 ? 0 : 1;
  }
  struct joblist l = {0};
  size_t off = 0;
  struct pfield f;
  while (pmsg_next(&reply, &off, &f)) {
    struct pmsg sub;
    if (f.tag != T_JOB || pmsg_sub(&f, &sub) < 0)
      continue;
    l.jobs = xrealloc(l.jobs, (l.n + 1) * sizeof(struct job_rec));
    if (job_rec_decode(&sub, &l.jobs[l.n]) == 0)
      l.n++;
  }
  print_rows(ctx->server, &l, form);
  const char *info = pmsg_str(&reply, T_INFO);
  if (info && !strcmp(info, "truncated"))
    cli_error(ctx, "more jobs match than one answer holds: narrow with --since/--until or --limit");
  joblist_free(&l);
  return fflush(stdout) == 0 ? 0 : 1;
}
