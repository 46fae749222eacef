/* SPDX-License-Identifier: MIT */
/* qselect: prints the ids of the jobs that match every filter given, one
 * per line, as POSIX describes it (-a -h -l -N -p -q -r -s -u), plus -x
 * (finished jobs too), -J (array jobs only) and -T (their tasks too). */
#include "cli.h"
#include "jobs_fetch.h"
#include "json.h"
#include "qsub_opts.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

static const char qselect_usage[] =
    "Usage: qselect [-a [op]date_time] [-h hold_list] [-l resource[.op.]value,...]\n"
    "               [-N name] [-p [op]priority] [-q queue] [-r y|n] [-s states]\n"
    "               [-u user[,user...]] [-x] [-J] [-T] [--json]\n"
    "Prints the ids of matching jobs. op is .eq. .ne. .ge. .gt. .le. .lt. (default .eq.).\n";

enum cmp_op { OP_EQ, OP_NE, OP_GE, OP_GT, OP_LE, OP_LT };

struct cmp {
  bool set;
  enum cmp_op op;
  int64_t value;
};

struct filters {
  struct cmp exec_time, priority, ncpus, mem, walltime, pids;
  const char *holds, *name, *queue, *states, *users;
  int rerunnable; /* -1 any */
  bool arrays_only;
};

static const char *const op_names[] = {".eq.", ".ne.", ".ge.", ".gt.", ".le.", ".lt."};

/* Takes a leading ".op." off *s (default .eq.). */
static enum cmp_op
take_op(const char **s) {
  for (size_t i = 0; i < ARRAY_SIZE(op_names); i++)
    if (strncmp(*s, op_names[i], 4) == 0) {
      *s += 4;
      return (enum cmp_op)i;
    }
  return OP_EQ;
}

static bool
matches(const struct cmp *c, int64_t v) {
  if (!c->set)
    return true;
  switch (c->op) {
    case OP_EQ:
      return v == c->value;
    case OP_NE:
      return v != c->value;
    case OP_GE:
      return v >= c->value;
    case OP_GT:
      return v > c->value;
    case OP_LE:
      return v <= c->value;
    case OP_LT:
      return v < c->value;
  }
  return false;
}

/* -l ncpus.gt.2,mem.ge.1gb,walltime.lt.1:00:00 */
static int
parse_resources(struct filters *f, const char *list, struct berr *err) {
  _cleanup_free_ char *copy = xstrdup(list);
  char *save = NULL;
  for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    char *dot = strchr(item, '.');
    char *eq = strchr(item, '=');
    const char *rest;
    enum cmp_op op = OP_EQ;
    if (dot && (!eq || dot < eq)) {
      *dot = '.';
      rest = dot;
      op = take_op(&rest);
      if (rest == dot)
        return berr_set(err, -EINVAL, "-l '%s': expected RESOURCE.op.VALUE", item);
      *dot = '\0';
    } else if (eq) {
      *eq = '\0';
      rest = eq + 1;
    } else
      return berr_set(err, -EINVAL, "-l '%s': expected RESOURCE.op.VALUE", item);
    struct cmp *c = NULL;
    int r = 0;
    int64_t v = 0;
    if (!strcmp(item, "ncpus")) {
      c = &f->ncpus;
      r = res_parse_ncpus(rest, &v, err);
    } else if (!strcmp(item, "mem")) {
      c = &f->mem;
      r = res_parse_size(rest, &v, err);
    } else if (!strcmp(item, "walltime")) {
      c = &f->walltime;
      r = res_parse_duration(rest, &v, err);
    } else if (!strcmp(item, "pids")) {
      c = &f->pids;
      r = parse_i64(rest, 0, INT64_MAX, &v);
      if (r < 0)
        berr_set(err, r, "pids '%s' is not a number", rest);
    } else
      return berr_set(err, -EINVAL, "-l: unknown resource '%s' (ncpus, mem, walltime, pids)", item);
    if (r < 0)
      return r;
    *c = (struct cmp){true, op, v};
  }
  return 0;
}

static bool
selected(const struct filters *f, const struct job_rec *j) {
  if (f->arrays_only && !j->array_spec)
    return false;
  if (!matches(&f->exec_time, j->exec_time) || !matches(&f->priority, j->priority) ||
      !matches(&f->ncpus, j->ncpus) || !matches(&f->mem, j->mem) ||
      !matches(&f->walltime, j->walltime) || !matches(&f->pids, j->pids))
    return false;
  if (f->name && !streq(f->name, j->name ? j->name : ""))
    return false;
  if (f->queue && !streq(f->queue, j->queue ? j->queue : ""))
    return false;
  if (f->rerunnable >= 0 && (f->rerunnable == 1) != j->rerunnable)
    return false;
  if (f->states && !strchr(f->states, j->state))
    return false;
  if (f->users && !name_in_list(f->users, j->owner))
    return false;
  if (f->holds) {
    /* -h n: no hold; otherwise every listed hold type must be present. */
    const char *h = j->hold_types ? j->hold_types : "";
    if (strchr(f->holds, 'n'))
      return *h == '\0';
    for (const char *p = f->holds; *p; p++)
      if (!strchr(h, *p))
        return false;
  }
  return true;
}

int
cmd_qselect(struct cli_ctx *ctx, int argc, char **argv) {
  enum { OPT_JSON = 1000 };
  static const struct option opts[] = {
      {"help", no_argument, NULL, '?'}, {"json", no_argument, NULL, OPT_JSON}, {0}};
  struct filters f = {.rerunnable = -1};
  bool json = false;
  int flags = 0, o;
  struct berr err = {{0}};
  while ((o = getopt_long(argc, argv, "a:h:l:N:p:q:r:s:u:xJT", opts, NULL)) != -1) {
    const char *arg = optarg;
    int r = 0;
    switch (o) {
      case 'a':
        f.exec_time.op = take_op(&arg);
        r = qsub_parse_datetime(arg, (int64_t)time(NULL), &f.exec_time.value, &err);
        f.exec_time.set = true;
        break;
      case 'h':
        if (strspn(arg, "usn") != strlen(arg) || !*arg)
          r = berr_set(&err, -EINVAL, "-h '%s': hold types are u, s or n", arg);
        f.holds = arg;
        break;
      case 'l':
        r = parse_resources(&f, arg, &err);
        break;
      case 'N':
        f.name = arg;
        break;
      case 'p':
        f.priority.op = take_op(&arg);
        r = parse_i64(arg, -1024, 1023, &f.priority.value);
        if (r < 0)
          berr_set(&err, r, "-p '%s': priority is -1024..1023", optarg);
        f.priority.set = true;
        break;
      case 'q':
        f.queue = arg;
        break;
      case 'r':
        if (strcmp(arg, "y") && strcmp(arg, "n"))
          r = berr_set(&err, -EINVAL, "-r '%s': use y or n", arg);
        f.rerunnable = !strcmp(arg, "y");
        break;
      case 's':
        if (strspn(arg, "QHWREFB") != strlen(arg) || !*arg)
          r = berr_set(&err, -EINVAL, "-s '%s': states are Q H W R E F B", arg);
        f.states = arg;
        if (strchr(arg, 'F'))
          flags |= FETCH_FINISHED;
        break;
      case 'u':
        f.users = arg;
        break;
      case 'x':
        flags |= FETCH_FINISHED;
        break;
      case 'J':
        f.arrays_only = true;
        break;
      case 'T':
        flags |= FETCH_TASKS;
        break;
      case OPT_JSON:
        json = true;
        break;
      default:
        fputs(qselect_usage, o == '?' && optopt == 0 ? stdout : stderr);
        return 2;
    }
    if (r < 0) {
      cli_error(ctx, "%s", err.msg);
      return 2;
    }
  }
  if (optind != argc) {
    cli_error(ctx, "unexpected '%s'", argv[optind]);
    return 2;
  }
  struct joblist l;
  int errors;
  if (jobs_fetch(ctx, flags, NULL, 0, &l, &errors) < 0)
    return 1;
  struct json js;
  if (json) {
    json_init(&js, stdout);
    json_open(&js, NULL, '[');
  }
  for (size_t i = 0; i < l.n; i++)
    if (selected(&f, &l.jobs[i])) {
      _cleanup_free_ char *id = job_display_id(&l.jobs[i], ctx->server);
      if (json)
        json_str(&js, NULL, id);
      else
        puts(id);
    }
  if (json) {
    json_close(&js, ']');
    json_end(&js);
  }
  joblist_free(&l);
  return fflush(stdout) == 0 && !errors ? 0 : 1;
}
