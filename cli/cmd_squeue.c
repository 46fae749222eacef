/* SPDX-License-Identifier: MIT */
/* squeue: the queue as Slurm prints it, every job of it (qsub's too): the
 * default table, -o's %-fields and -O's named ones, -h, -j, -u, -t, -p,
 * -r (each task of an array; otherwise its waiting tasks on one line as
 * 12_[3-10]), --json. */
#include "json.h"
#include "slurm_out.h"

#include <ctype.h>
#include <getopt.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static const char squeue_usage[] =
    "Usage: squeue [-h] [-j ids] [-u users] [-t states] [-p partitions] [-r] [-l]\n"
    "              [-o format | -O fields] [--json] [--me]\n"
    "The queue as Slurm prints it. -o takes %i %A %F %K %j %u %U %t %T %M %l %L %D %C\n"
    "%R %r %P %m %V %S %e %N %Z %o %Q %a %%; %.10i right-justifies in 10 columns.\n";

/* One line: a job, a task, or an array's waiting tasks. */
struct sq_row {
  const struct job_rec *job;
  char id[96];
  struct job_rec waiting; /* an array's waiting tasks: the array, as not started */
};

static void
put(const char *s, int width, bool right) {
  if (width == 0) {
    fputs(s, stdout);
    return;
  }
  if (right)
    printf("%*.*s", width, width, s);
  else
    printf("%-*.*s", width, width, s);
}

/* The text of field c (a %-letter) for a row. */
static void
field_text(char c, const struct sq_row *r, char *buf, size_t len) {
  const struct job_rec *j = r->job;
  char host[256] = "localhost";
  buf[0] = '\0';
  switch (c) {
    case 'i':
      snprintf(buf, len, "%s", r->id);
      break;
    case 'A':
      snprintf(buf, len, "%lld", (long long)j->id);
      break;
    case 'F':
      snprintf(buf, len, "%lld", (long long)(j->array_id ? j->array_id : j->id));
      break;
    case 'K':
      if (j->array_id)
        snprintf(buf, len, "%lld", (long long)j->array_index);
      else
        snprintf(buf, len, "%s", strchr(r->id, '[') ? strchr(r->id, '[') : "N/A");
      break;
    case 'j':
      snprintf(buf, len, "%s", j->name ? j->name : "");
      break;
    case 'u':
      snprintf(buf, len, "%s", j->owner ? j->owner : "");
      break;
    case 'U':
      snprintf(buf, len, "%lld", (long long)j->uid);
      break;
    case 't':
    case 'T':
      snprintf(buf, len, "%s", slurm_state(j, c == 't'));
      break;
    case 'M':
      slurm_secs(slurm_elapsed(j), buf, len);
      break;
    case 'l':
    case 'L': {
      int64_t left = j->walltime - (c == 'L' ? slurm_elapsed(j) : 0);
      if (!j->walltime)
        snprintf(buf, len, "UNLIMITED");
      else
        slurm_secs(left > 0 ? left : 0, buf, len);
      break;
    }
    case 'D':
      snprintf(buf, len, "1");
      break;
    case 'C':
      snprintf(buf, len, "%lld", (long long)j->ncpus);
      break;
    case 'R':
    case 'N':
      if (j->stime && j->state != JOB_FINISHED) {
        gethostname(host, sizeof(host) - 1);
        snprintf(buf, len, "%s", host);
      } else if (c == 'R')
        snprintf(buf, len, "(%s)", slurm_reason(j));
      break;
    case 'r':
      snprintf(buf, len, "%s", slurm_reason(j));
      break;
    case 'P':
      snprintf(buf, len, "%s", j->queue ? j->queue : "");
      break;
    case 'm':
      slurm_size(j->mem, buf, len);
      break;
    case 'V':
      slurm_date(j->ctime, buf, len);
      break;
    case 'S':
      if (j->stime)
        slurm_date(j->stime, buf, len);
      else
        snprintf(buf, len, "N/A");
      break;
    case 'e':
      if (j->stime && j->walltime)
        slurm_date(j->stime + j->walltime + j->suspended_sec, buf, len);
      else
        snprintf(buf, len, "N/A");
      break;
    case 'Z':
      snprintf(buf, len, "%s", j->workdir ? j->workdir : "");
      break;
    case 'o':
      snprintf(buf, len, "%s", j->name ? j->name : "");
      break;
    case 'Q':
      snprintf(buf, len, "%lld", (long long)(j->priority + 1024));
      break;
    case 'a':
      snprintf(buf, len, "%s", j->account && *j->account ? j->account : "(null)");
      break;
    case '%':
      snprintf(buf, len, "%%");
      break;
    default:
      snprintf(buf, len, "?");
  }
}

/* -O's names, each with its letter and Slurm's default width. */
static const struct {
  const char *name;
  char letter;
} long_fields[] = {
    {"jobarrayid", 'i'}, {"jobid", 'A'},     {"arrayjobid", 'F'}, {"arraytaskid", 'K'},
    {"name", 'j'},       {"username", 'u'},  {"userid", 'U'},     {"statecompact", 't'},
    {"state", 'T'},      {"timeused", 'M'},  {"timelimit", 'l'},  {"timeleft", 'L'},
    {"numnodes", 'D'},   {"numcpus", 'C'},   {"reasonlist", 'R'}, {"reason", 'r'},
    {"partition", 'P'},  {"minmemory", 'm'}, {"submittime", 'V'}, {"starttime", 'S'},
    {"endtime", 'e'},    {"nodelist", 'N'},  {"workdir", 'Z'},    {"command", 'o'},
    {"priority", 'Q'},   {"account", 'a'},
};

/* The header of a letter. */
static const char *
header_of(char c) {
  switch (c) {
    case 'i':
    case 'A':
      return "JOBID";
    case 'F':
      return "ARRAY_JOB_ID";
    case 'K':
      return "ARRAY_TASK_ID";
    case 'j':
    case 'o':
      return c == 'j' ? "NAME" : "COMMAND";
    case 'u':
      return "USER";
    case 'U':
      return "UID";
    case 't':
      return "ST";
    case 'T':
      return "STATE";
    case 'M':
      return "TIME";
    case 'l':
      return "TIME_LIMIT";
    case 'L':
      return "TIME_LEFT";
    case 'D':
      return "NODES";
    case 'C':
      return "CPUS";
    case 'R':
      return "NODELIST(REASON)";
    case 'r':
      return "REASON";
    case 'P':
      return "PARTITION";
    case 'm':
      return "MIN_MEMORY";
    case 'V':
      return "SUBMIT_TIME";
    case 'S':
      return "START_TIME";
    case 'e':
      return "END_TIME";
    case 'N':
      return "NODELIST";
    case 'Z':
      return "WORK_DIR";
    case 'Q':
      return "PRIORITY";
    case 'a':
      return "ACCOUNT";
    default:
      return "";
  }
}

/* A format, parsed: literal text and fields. */
struct sq_item {
  char letter; /* 0: literal text */
  int width;
  bool right;
  char text[64];
};

static int
parse_format(const char *f, struct sq_item **ret, size_t *ret_n, struct berr *err) {
  struct sq_item *items = NULL;
  size_t n = 0;
  for (const char *p = f; *p;) {
    items = xrealloc(items, (n + 1) * sizeof(*items));
    struct sq_item *it = &items[n++];
    *it = (struct sq_item){0};
    if (*p != '%') {
      size_t k = strcspn(p, "%");
      snprintf(it->text, sizeof(it->text), "%.*s", (int)(k < 63 ? k : 63), p);
      p += k;
      continue;
    }
    p++;
    if (*p == '.')
      it->right = true, p++;
    while (isdigit((unsigned char)*p))
      it->width = it->width * 10 + (*p++ - '0');
    if (!*p || !strchr("iAFKjuUtTMlLDCRrPmVSeNZoQa%", *p)) {
      free(items);
      return berr_set(err, -EINVAL, "-o '%s': unknown field %%%c", f, *p ? *p : ' ');
    }
    it->letter = *p++;
  }
  *ret = items;
  *ret_n = n;
  return 0;
}

/* -O name[:[.]width][,name...]: each field 20 columns unless given. */
static int
parse_long_format(const char *f, struct sq_item **ret, size_t *ret_n, struct berr *err) {
  _cleanup_free_ char *copy = xstrdup(f);
  struct sq_item *items = NULL;
  size_t n = 0;
  char *save = NULL;
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    char *colon = strchr(w, ':');
    struct sq_item it = {.width = 20};
    if (colon) {
      *colon = '\0';
      const char *spec = colon + 1;
      if (*spec == '.')
        it.right = true, spec++;
      it.width = atoi(spec);
    }
    for (size_t i = 0; i < ARRAY_SIZE(long_fields); i++)
      if (!strcasecmp(w, long_fields[i].name))
        it.letter = long_fields[i].letter;
    if (!it.letter) {
      free(items);
      return berr_set(err, -EINVAL, "-O: unknown field '%s'", w);
    }
    items = xrealloc(items, (n + 1) * sizeof(*items));
    items[n++] = it;
  }
  *ret = items;
  *ret_n = n;
  return 0;
}

static void
print_rows(const struct sq_row *rows, size_t n, const struct sq_item *items, size_t ni,
           bool header) {
  char buf[4200];
  if (header) {
    for (size_t i = 0; i < ni; i++) {
      if (!items[i].letter)
        fputs(items[i].text, stdout);
      else
        put(header_of(items[i].letter), items[i].width, items[i].right);
    }
    putchar('\n');
  }
  for (size_t r = 0; r < n; r++) {
    for (size_t i = 0; i < ni; i++) {
      if (!items[i].letter) {
        fputs(items[i].text, stdout);
        continue;
      }
      field_text(items[i].letter, &rows[r], buf, sizeof(buf));
      put(buf, items[i].width, items[i].right);
    }
    putchar('\n');
  }
}

static void
print_json(const struct sq_row *rows, size_t n) {
  struct json js;
  json_init(&js, stdout);
  json_open(&js, NULL, '{');
  json_open(&js, "jobs", '[');
  char buf[4200];
  for (size_t r = 0; r < n; r++) {
    const struct job_rec *j = rows[r].job;
    json_open(&js, NULL, '{');
    json_int(&js, "job_id", j->id);
    json_int(&js, "array_job_id", j->array_id);
    if (j->array_id)
      json_int(&js, "array_task_id", j->array_index);
    json_str(&js, "name", j->name ? j->name : "");
    json_str(&js, "user_name", j->owner ? j->owner : "");
    json_int(&js, "user_id", j->uid);
    json_str(&js, "job_state", slurm_state(j, false));
    json_str(&js, "state_reason", slurm_reason(j));
    json_str(&js, "partition", j->queue ? j->queue : "");
    json_int(&js, "cpus", j->ncpus);
    json_int(&js, "node_count", 1);
    json_int(&js, "memory_per_node", (j->mem >> 20));
    json_int(&js, "time_limit", (j->walltime / 60));
    json_int(&js, "submit_time", j->ctime);
    json_int(&js, "start_time", j->stime);
    json_int(&js, "priority", (j->priority + 1024));
    json_str(&js, "current_working_directory", j->workdir ? j->workdir : "");
    field_text('N', &rows[r], buf, sizeof(buf));
    json_str(&js, "nodes", buf);
    json_close(&js, '}');
  }
  json_close(&js, ']');
  json_open(&js, "errors", '[');
  json_close(&js, ']');
  json_open(&js, "warnings", '[');
  json_close(&js, ']');
  json_close(&js, '}');
  json_end(&js);
}

/* An array's waiting tasks: "12_[3-10]", "12_[1,4-6]". */
static void
pending_range(const struct job_rec *a, const struct joblist *l, char *buf, size_t len, bool *any) {
  int64_t *idx = NULL;
  size_t k = 0;
  for (size_t i = 0; i < l->n; i++)
    if (l->jobs[i].array_id == a->id && !l->jobs[i].stime && l->jobs[i].state != JOB_FINISHED) {
      idx = xrealloc(idx, (k + 1) * sizeof(int64_t));
      idx[k++] = l->jobs[i].array_index;
    }
  *any = k > 0;
  size_t used = (size_t)snprintf(buf, len, "%lld_[", (long long)a->id);
  if (k)
    qsort(idx, k, sizeof(int64_t), i64_cmp);
  for (size_t i = 0; i < k && used < len;) {
    size_t e = i;
    while (e + 1 < k && idx[e + 1] == idx[e] + 1)
      e++;
    used += (size_t)snprintf(buf + used, len - used, e > i ? "%s%lld-%lld" : "%s%lld", i ? "," : "",
                             (long long)idx[i], (long long)idx[e]);
    i = e + 1;
  }
  if (used < len && a->array_limit)
    used += (size_t)snprintf(buf + used, len - used, "%%%lld", (long long)a->array_limit);
  if (used < len)
    snprintf(buf + used, len - used, "]");
  free(idx);
}

/* A row's job: its own copy for an array's waiting tasks. */
static const struct job_rec *
row_job(const struct sq_row *r) {
  return r->waiting.id ? &r->waiting : r->job;
}

static int
cmp_rows(const void *a, const void *b) {
  const struct job_rec *x = row_job(a), *y = row_job(b);
  int q = strcmp(x->queue ? x->queue : "", y->queue ? y->queue : "");
  if (q)
    return q;
  bool px = !x->stime, py = !y->stime;
  if (px != py)
    return px ? -1 : 1; /* pending first, as Slurm's default sort (P,t,-p) */
  if (x->priority != y->priority)
    return x->priority > y->priority ? -1 : 1;
  return (x->id < y->id) - (x->id > y->id); /* newest first, as Slurm lists ties */
}

int
cmd_squeue(struct cli_ctx *ctx, int argc, char **argv) {
  enum { OPT_JSON = 1000, OPT_ME, OPT_HELP };
  static const struct option opts[] = {{"noheader", no_argument, NULL, 'h'},
                                       {"jobs", required_argument, NULL, 'j'},
                                       {"user", required_argument, NULL, 'u'},
                                       {"states", required_argument, NULL, 't'},
                                       {"partition", required_argument, NULL, 'p'},
                                       {"format", required_argument, NULL, 'o'},
                                       {"Format", required_argument, NULL, 'O'},
                                       {"array", no_argument, NULL, 'r'},
                                       {"long", no_argument, NULL, 'l'},
                                       {"all", no_argument, NULL, 'a'},
                                       {"sort", required_argument, NULL, 'S'},
                                       {"json", no_argument, NULL, OPT_JSON},
                                       {"me", no_argument, NULL, OPT_ME},
                                       {"help", no_argument, NULL, OPT_HELP},
                                       {"verbose", no_argument, NULL, 'v'},
                                       {0}};
  bool header = true, each_task = false, json = false, longer = false;
  const char *jobs = NULL, *users = NULL, *states = NULL, *parts = NULL, *format = NULL,
             *long_format = NULL;
  char me[64];
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "hj:u:t:p:o:O:rlaS:v", opts, NULL)) != -1) {
    switch (o) {
      case 'h':
        header = false;
        break;
      case 'j':
        jobs = optarg;
        break;
      case 'u':
        users = optarg;
        break;
      case 't':
        states = optarg;
        break;
      case 'p':
        parts = optarg;
        break;
      case 'o':
        format = optarg;
        break;
      case 'O':
        long_format = optarg;
        break;
      case 'r':
        each_task = true;
        break;
      case 'l':
        longer = true;
        break;
      case 'a':
      case 'S':
      case 'v':
        break; /* every partition is shown; Slurm's default order */
      case OPT_JSON:
        json = true;
        break;
      case OPT_ME: {
        const char *u = getenv("USER");
        snprintf(me, sizeof(me), "%s", u && *u ? u : "");
        users = me;
        break;
      }
      case OPT_HELP:
        fputs(squeue_usage, stdout);
        return 0;
      default:
        fputs(squeue_usage, stderr);
        return 1;
    }
  }
  if (!format && !long_format)
    format = getenv("SQUEUE_FORMAT");
  if (!format && !long_format)
    format = longer ? "%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R"
                    : "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R";
  struct berr err = {{0}};
  struct sq_item *items = NULL;
  size_t ni = 0;
  if ((long_format ? parse_long_format(long_format, &items, &ni, &err)
                   : parse_format(format, &items, &ni, &err)) < 0) {
    cli_error(ctx, "%s", err.msg);
    return 1;
  }
  if (cli_load_config(ctx) < 0) {
    free(items);
    return 1;
  }
  struct joblist l;
  int errors;
  if (jobs_fetch(ctx, FETCH_TASKS, NULL, 0, &l, &errors) < 0) {
    free(items);
    return 1;
  }
  /* -j's ids, Slurm's forms: the job itself, or an array and its tasks. */
  _cleanup_free_ char *wanted = NULL;
  if (jobs) {
    _cleanup_free_ char *copy = xstrdup(jobs);
    char *save = NULL;
    size_t used = 0, cap = strlen(jobs) * 2 + 8;
    wanted = xmalloc(cap);
    wanted[0] = '\0';
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
      used += (size_t)snprintf(wanted + used, cap - used, "%s%.*s", used ? "," : "",
                               (int)strspn(w, "0123456789"), w);
  }
  struct sq_row *rows = NULL;
  size_t n = 0;
  for (size_t i = 0; i < l.n; i++) {
    const struct job_rec *j = &l.jobs[i];
    char num[32], parent[32];
    snprintf(num, sizeof(num), "%lld", (long long)j->id);
    snprintf(parent, sizeof(parent), "%lld", (long long)j->array_id);
    if (j->state == JOB_FINISHED || !slurm_listed(users, j->owner) ||
        !slurm_listed(parts, j->queue) ||
        (wanted && !slurm_listed(wanted, num) && !(j->array_id && slurm_listed(wanted, parent))))
      continue;
    if (states ? !slurm_states_match(states, j) : false)
      continue;
    struct sq_row row = {.job = j};
    if (j->array_spec) {
      bool any;
      pending_range(j, &l, row.id, sizeof(row.id), &any);
      if (!any || each_task)
        continue;       /* the tasks have their own lines */
      row.waiting = *j; /* shallow: the array's strings, its tasks' state */
      row.waiting.state = JOB_QUEUED;
      row.waiting.stime = row.waiting.suspended_at = 0;
    } else if (j->array_id) {
      if (!j->stime && !each_task)
        continue; /* with its array's waiting tasks */
      slurm_job_id(j, row.id, sizeof(row.id));
    } else
      slurm_job_id(j, row.id, sizeof(row.id));
    rows = xrealloc(rows, (n + 1) * sizeof(*rows));
    rows[n++] = row;
  }
  if (n)
    qsort(rows, n, sizeof(*rows), cmp_rows);
  for (size_t i = 0; i < n; i++)
    rows[i].job = row_job(&rows[i]); /* after the sort: the rows have moved */
  if (json)
    print_json(rows, n);
  else
    print_rows(rows, n, items, ni, header);
  free(rows);
  free(items);
  joblist_free(&l);
  return fflush(stdout) == 0 ? 0 : 1;
}
