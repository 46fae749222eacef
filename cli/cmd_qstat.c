/* SPDX-License-Identifier: MIT */
/* qstat in PBS's forms: the default table, -a (alternate, with -n/-1/-s),
 * -f ("Job Id:" / "    key = value"), -Q (queues), -B (server), and JSON
 * (-F json, --json). Every job value comes from jobfields.c. */
#include "jobfields.h"
#include "jobs_fetch.h"
#include "qstat_torque.h"
#include "res.h"
#include "sge_out.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

static const char qstat_usage[] =
    "Usage: qstat [-a [-n] [-1] [-s] [-R]] [-x] [-f] [-t] [-u user[,user...]] [-F json | --json]\n"
    "             [job_id ...]\n"
    "       qstat -Q [-f] [queue ...]\n"
    "       qstat -B [-f]\n"
    "  -a  alternate table: requested memory and time, elapsed time\n"
    "  -n  with -a: the execution host below each job (-1: on the same line)\n"
    "  -s  with -a: the job's comment below it (-1: on the same line)\n"
    "  -x  finished jobs too (dialect torque: Torque's XML of the jobs)\n"
    "  -R  with -a, dialect torque: Torque's NDS/TSK/memory table\n"
    "  -f  full display, PBS 'key = value' form\n"
    "  -t  array jobs with each of their tasks\n"
    "  -u  only these users' jobs\n"
    "  -Q  queues with their limits and job counts\n"
    "  -B  server status\n"
    "  -F json, --json   the same in JSON\n"
    "job_id: 123, 123.server, 123[] (an array), 123[7] (a task)\n"
    "Under the torque dialect (BOXQ_DIALECT=torque) finished jobs show as C for\n"
    "keep_completed and every form is Torque's.\n";

enum qstat_form { FORM_TABLE, FORM_ALT, FORM_FULL };

struct qstat_opts {
  enum qstat_form form;
  bool json, nodes, one_line, comments, srfs, xml;
  const char *users;
};

/* PBS truncates a column that does not fit and marks it with '*'; a
 * character is never cut in half. */
static void
put_col(const char *s, int width) {
  if ((int)fmt_text_chars(s) <= width) {
    fmt_put_text(s, width, true);
    return;
  }
  const char *end = fmt_text_skip(s, (size_t)width - 1);
  printf("%.*s*", (int)(end - s), s);
}

/* A column's text: a field of the job, as qstat -f would show it. */
static char *
col(const struct job_rec *j, const char *server, const char *key) {
  return job_field_text(key, j, server);
}

/* "alice@host" -> "alice" */
static char *
owner_col(const struct job_rec *j, const char *server) {
  char *s = col(j, server, "Job_Owner");
  char *at = strchr(s, '@');
  if (at)
    *at = '\0';
  return s;
}

static void
print_table(const char *server, const struct joblist *l) {
  if (l->n == 0)
    return;
  printf("Job id            Name             User              Time Use S Queue\n");
  printf("----------------  ---------------- ----------------  -------- - -----\n");
  for (size_t i = 0; i < l->n; i++) {
    const struct job_rec *j = &l->jobs[i];
    _cleanup_free_ char *id = job_display_id(j, server);
    _cleanup_free_ char *name = col(j, server, "Job_Name"), *user = owner_col(j, server);
    _cleanup_free_ char *cput = col(j, server, "resources_used.cput");
    _cleanup_free_ char *state = col(j, server, "job_state"), *queue = col(j, server, "queue");
    put_col(id, 17);
    putchar(' ');
    put_col(name, 16);
    putchar(' ');
    put_col(user, 16);
    printf("  %8s %s %s\n", *cput ? cput : "0", state, queue);
  }
}

/* "HH:MM:SS" -> "HH:MM" as -a shows times; "" -> "--". */
static void
hh_mm(const char *hms, char *buf, size_t len) {
  if (!*hms) {
    snprintf(buf, len, "--");
    return;
  }
  snprintf(buf, len, "%s", hms);
  char *last = strrchr(buf, ':');
  if (last && last != strchr(buf, ':'))
    *last = '\0';
}

static void
print_alternate(const char *server, const struct joblist *l, const struct qstat_opts *o) {
  if (l->n == 0)
    return;
  printf("\n%s: \n", server);
  printf("                                                            Req'd  Req'd   Elap\n");
  printf("Job ID          Username Queue    Jobname    SessID NDS TSK Memory Time  S Time\n");
  printf("--------------- -------- -------- ---------- ------ --- --- ------ ----- - -----\n");
  for (size_t i = 0; i < l->n; i++) {
    const struct job_rec *j = &l->jobs[i];
    _cleanup_free_ char *id = job_display_id(j, server);
    _cleanup_free_ char *user = owner_col(j, server), *queue = col(j, server, "queue");
    _cleanup_free_ char *name = col(j, server, "Job_Name"),
                        *tsk = col(j, server, "Resource_List.ncpus");
    _cleanup_free_ char *mem = col(j, server, "Resource_List.mem");
    _cleanup_free_ char *wall = col(j, server, "Resource_List.walltime");
    _cleanup_free_ char *elap = col(j, server, "resources_used.walltime");
    _cleanup_free_ char *state = col(j, server, "job_state");
    char req_time[32], elap_time[32];
    hh_mm(wall, req_time, sizeof(req_time));
    hh_mm(elap, elap_time, sizeof(elap_time));
    put_col(id, 15);
    putchar(' ');
    put_col(user, 8);
    putchar(' ');
    put_col(queue, 8);
    putchar(' ');
    put_col(name, 10);
    printf(" %6s %3s %3s %6s %5s %s %5s", "--", "1", tsk, mem, req_time, state, elap_time);
    _cleanup_free_ char *host = col(j, server, "exec_host"), *comment = col(j, server, "comment");
    if (o->one_line) {
      if (o->nodes)
        printf(" %s", *host ? host : "--");
      if (o->comments && *comment)
        printf(" %s", comment);
      putchar('\n');
      continue;
    }
    putchar('\n');
    if (o->nodes)
      printf("   %s\n", *host ? host : "--");
    if (o->comments && *comment)
      printf("   %s\n", comment);
  }
}

static void
print_full(const char *server, const struct joblist *l) {
  for (size_t i = 0; i < l->n; i++) {
    _cleanup_free_ char *id = job_display_id(&l->jobs[i], server);
    printf("Job Id: %s\n", id);
    fields_print_kv(&qstat_fields, &l->jobs[i], server);
    putchar('\n');
  }
}

static void
print_json(const char *server, const struct joblist *l) {
  struct json js;
  json_init(&js, stdout);
  json_pbs_header(&js, server);
  json_open(&js, "Jobs", '{');
  for (size_t i = 0; i < l->n; i++) {
    _cleanup_free_ char *id = job_display_id(&l->jobs[i], server);
    json_open(&js, id, '{');
    fields_json(&qstat_fields, &l->jobs[i], server, &js);
    json_close(&js, '}');
  }
  json_close(&js, '}');
  json_close(&js, '}');
  json_end(&js);
}

/* Writes "key=value" lines as JSON members: integers as numbers, "a.b"
 * keys nested as PBS does ("resources_max": {"ncpus": 2}). */
static void
json_kv_lines(struct json *js, const char *text) {
  _cleanup_free_ char *copy = xstrdup(text);
  char *save = NULL;
  struct json_group group = {""};
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *eq = strchr(line, '=');
    if (!eq)
      continue;
    *eq = '\0';
    const char *key = json_grouped_key(js, &group, line), *value = eq + 1;
    int64_t n;
    if (parse_i64(value, INT64_MIN, INT64_MAX, &n) == 0)
      json_int(js, key, n);
    else
      json_str(js, key, value);
  }
  json_group_end(js, &group);
}

/* The value of key in "key=value" lines, or "". */
static void
kv_get(const char *text, const char *key, char *buf, size_t len) {
  size_t klen = strlen(key);
  buf[0] = '\0';
  for (const char *p = text; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t llen = nl ? (size_t)(nl - p) : strlen(p);
    if (llen > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
      snprintf(buf, len, "%.*s", (int)(llen - klen - 1), p + klen + 1);
      return;
    }
    p = nl ? nl + 1 : NULL;
  }
}

static void
print_kv_lines(const char *text) {
  _cleanup_free_ char *copy = xstrdup(text);
  char *save = NULL;
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *eq = strchr(line, '=');
    if (!eq)
      continue;
    *eq = '\0';
    printf("    %s = %s\n", line, eq + 1);
  }
}

/* One request without job ids (server or queue status). */
static int
info_request(struct cli_ctx *ctx, enum proto_type type, char **names, int n, struct pmsg *reply) {
  if (cli_load_config(ctx) < 0)
    return -1;
  struct pbuf b = {0};
  pb_begin(&b, type);
  for (int i = 0; i < n; i++)
    pb_str(&b, T_INFO, names[i]);
  pb_end(&b);
  return cli_call_each(ctx, &b, reply);
}

/* qstat -B: the server's status. */
static int
server_status(struct cli_ctx *ctx, bool full, bool json) {
  struct pmsg reply;
  int errors = info_request(ctx, MSG_SERVER_INFO, NULL, 0, &reply);
  if (errors < 0)
    return 1;
  const char *info = pmsg_str(&reply, T_INFO);
  if (!info) {
    cli_error(ctx, "no server status from boxqd");
    return 1;
  }
  if (json) {
    struct json js;
    json_init(&js, stdout);
    json_pbs_header(&js, ctx->server);
    json_open(&js, "Server", '{');
    json_open(&js, ctx->server, '{');
    json_kv_lines(&js, info);
    json_close(&js, '}');
    json_close(&js, '}');
    json_close(&js, '}');
    json_end(&js);
    return errors ? 1 : 0;
  }
  if (full) {
    printf("Server: %s\n", ctx->server);
    print_kv_lines(info);
    putchar('\n');
    return errors ? 1 : 0;
  }
  char state[64], total[32], queued[32], running[32], held[32], waiting[32], exiting[32];
  kv_get(info, "server_state", state, sizeof(state));
  kv_get(info, "total_jobs", total, sizeof(total));
  kv_get(info, "queued", queued, sizeof(queued));
  kv_get(info, "running", running, sizeof(running));
  kv_get(info, "held", held, sizeof(held));
  kv_get(info, "waiting", waiting, sizeof(waiting));
  kv_get(info, "exiting", exiting, sizeof(exiting));
  printf("Server             Max   Tot   Que   Run   Hld   Wat   Trn   Ext Status\n");
  printf("---------------- ----- ----- ----- ----- ----- ----- ----- ----- -----------\n");
  printf("%-16.16s %5d %5s %5s %5s %5s %5s %5d %5s %s\n", ctx->server, 0, total, queued, running,
         held, waiting, 0, exiting, state);
  return errors ? 1 : 0;
}

/* qstat -Q: each queue, its limits and its jobs by state. */
static int
queue_status(struct cli_ctx *ctx, bool full, bool json, char **names, int n) {
  struct pmsg reply;
  int errors = info_request(ctx, MSG_QUEUE_INFO, names, n, &reply);
  if (errors < 0)
    return 1;
  struct json js;
  if (json) {
    json_init(&js, stdout);
    json_pbs_header(&js, ctx->server);
    json_open(&js, "Queue", '{');
  } else if (!full) {
    printf("Queue              Max   Tot Ena Str   Que   Run   Hld   Wat   Trn   Ext Type\n");
    printf("---------------- ----- ----- --- --- ----- ----- ----- ----- ----- ----- ----\n");
  }
  size_t off = 0;
  struct pfield f;
  while (pmsg_next(&reply, &off, &f)) {
    const char *info = f.tag == T_QUEUE ? pfield_str(&f) : NULL;
    if (!info)
      continue;
    char name[64], max[32], total[32], ena[16], str[16], que[32], run[32], hld[32], wat[32],
        ext[32];
    kv_get(info, "name", name, sizeof(name));
    if (json) {
      json_open(&js, name, '{');
      json_kv_lines(&js, strchr(info, '\n') ? strchr(info, '\n') + 1 : "");
      json_close(&js, '}');
      continue;
    }
    if (full) {
      printf("Queue: %s\n", name);
      print_kv_lines(strchr(info, '\n') ? strchr(info, '\n') + 1 : "");
      putchar('\n');
      continue;
    }
    kv_get(info, "max_running", max, sizeof(max));
    kv_get(info, "total_jobs", total, sizeof(total));
    kv_get(info, "enabled", ena, sizeof(ena));
    kv_get(info, "started", str, sizeof(str));
    kv_get(info, "jobs_queued", que, sizeof(que));
    kv_get(info, "jobs_running", run, sizeof(run));
    kv_get(info, "jobs_held", hld, sizeof(hld));
    kv_get(info, "jobs_waiting", wat, sizeof(wat));
    kv_get(info, "jobs_exiting", ext, sizeof(ext));
    put_col(name, 16);
    printf(" %5s %5s %3s %3s %5s %5s %5s %5s %5d %5s Exec\n", max, total,
           strcmp(ena, "True") == 0 ? "yes" : "no", strcmp(str, "True") == 0 ? "yes" : "no", que,
           run, hld, wat, 0, ext);
  }
  if (json) {
    json_close(&js, '}');
    json_close(&js, '}');
    json_end(&js);
  }
  return errors ? 1 : 0;
}

int
cmd_qstat(struct cli_ctx *ctx, int argc, char **argv) {
  enum { OPT_JSON = 1000 };
  static const struct option opts[] = {
      {"help", no_argument, NULL, '?'}, {"json", no_argument, NULL, OPT_JSON}, {0}};
  struct qstat_opts qo = {.form = FORM_TABLE};
  int flags = 0, o;
  bool server = false, queues = false;
  bool x_opt = false;
  /* Grid Engine's qstat has options of its own (-j ID, -xml, -s pr). */
  if (cli_load_config(ctx) < 0)
    return 1;
  if (ctx->dialect == DIALECT_SGE)
    return qstat_sge(ctx, argc, argv);
  while ((o = getopt_long(argc, argv, "xftu:BQan1sRF:", opts, NULL)) != -1) {
    switch (o) {
      case 'x':
        x_opt = true;
        break;
      case 'R':
        qo.srfs = true;
        break;
      case 'f':
        qo.form = FORM_FULL;
        flags |= FETCH_FULL;
        break;
      case 't':
        flags |= FETCH_TASKS;
        break;
      case 'u':
        qo.users = optarg;
        break;
      case 'B':
        server = true;
        break;
      case 'Q':
        queues = true;
        break;
      case 'a':
        if (qo.form == FORM_TABLE)
          qo.form = FORM_ALT;
        break;
      case 'n':
        qo.nodes = true;
        break;
      case '1':
        qo.one_line = true;
        break;
      case 's':
        qo.comments = true;
        break;
      case 'F':
        if (strcmp(optarg, "json") != 0) {
          cli_error(ctx, "-F '%s': boxq writes json (-F json)", optarg);
          return 2;
        }
        qo.json = true;
        break;
      case OPT_JSON:
        qo.json = true;
        break;
      default:
        fputs(qstat_usage, o == '?' && optopt == 0 ? stdout : stderr);
        return 2;
    }
  }
  if (cli_load_config(ctx) < 0)
    return 1;
  bool torque = ctx->dialect == DIALECT_TORQUE;
  if (torque) {
    /* Torque: -x is XML, and finished jobs show as C for keep_completed. */
    qo.xml = x_opt;
    flags |= FETCH_COMPLETED;
    if (qo.one_line && !qo.nodes && qo.form != FORM_FULL && !x_opt) {
      cli_error(ctx, "-1 goes with -n or -f");
      return 2;
    }
  } else if (x_opt)
    flags |= FETCH_FINISHED;
  if ((qo.nodes || qo.comments || qo.one_line || qo.srfs) && qo.form == FORM_TABLE)
    qo.form = FORM_ALT; /* -n, -s, -1 and -R imply the alternate table, as in PBS */
  if (server)
    return server_status(ctx, qo.form == FORM_FULL, qo.json);
  if (queues)
    return queue_status(ctx, qo.form == FORM_FULL, qo.json, argv + optind, argc - optind);
  if (qo.json || qo.xml)
    flags |= FETCH_FULL;
  if (!torque && !qo.json && !qo.xml && qo.form == FORM_TABLE)
    flags |= FETCH_BRIEF;
  struct joblist l;
  int errors;
  int r = jobs_fetch_users(ctx, flags, qo.users, argv + optind, argc - optind, &l, &errors);
  if (r < 0)
    return 1;
  if (qo.users) {
    size_t k = 0;
    for (size_t i = 0; i < l.n; i++) {
      if (name_in_list(qo.users, l.jobs[i].owner))
        l.jobs[k++] = l.jobs[i];
      else
        job_rec_free(&l.jobs[i]);
    }
    l.n = k;
  }
  struct torque_alt ta = {qo.nodes, qo.one_line, qo.comments, qo.srfs};
  if (torque && qo.xml)
    torque_print_xml(ctx->server, &l);
  else if (torque && !qo.json && qo.form == FORM_FULL)
    torque_print_full(ctx->server, &l);
  else if (torque && !qo.json && qo.form == FORM_ALT)
    torque_print_alternate(ctx->server, &l, &ta);
  else if (torque && !qo.json)
    torque_print_table(ctx->server, &l);
  else if (qo.json)
    print_json(ctx->server, &l);
  else if (qo.form == FORM_FULL)
    print_full(ctx->server, &l);
  else if (qo.form == FORM_ALT)
    print_alternate(ctx->server, &l, &qo);
  else
    print_table(ctx->server, &l);
  joblist_free(&l);
  return fflush(stdout) == 0 && !errors ? 0 : 1;
}
