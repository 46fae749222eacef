/* SPDX-License-Identifier: MIT */
#include "slurm_opts.h"

#include "cli.h"
#include "job.h"
#include "jobref.h"

#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int
slurm_parse_time(const char *s, int64_t *ret, struct berr *err) {
  if (!strcasecmp(s, "infinite") || !strcasecmp(s, "unlimited") || !strcmp(s, "0")) {
    *ret = 0;
    return 0;
  }
  long long days = 0, f[3];
  int n = 0, used = 0;
  const char *p = s, *dash = strchr(s, '-');
  if (dash) {
    if (sscanf(s, "%lld-%n", &days, &used) != 1 || p + used != dash + 1)
      goto bad;
    p = dash + 1;
  }
  while (n < 3) {
    used = 0;
    if (!isdigit((unsigned char)*p) || sscanf(p, "%lld%n", &f[n], &used) != 1)
      goto bad;
    n++;
    p += used;
    if (*p != ':')
      break;
    p++;
  }
  if (*p || days < 0 || days > 100000000)
    goto bad;
  for (int i = 0; i < n; i++)
    if (f[i] < 0 || f[i] > 100000000) /* no product below can overflow */
      goto bad;
  int64_t sec;
  if (dash) /* D-HH, D-HH:MM, D-HH:MM:SS */
    sec = days * 86400 + f[0] * 3600 + (n > 1 ? f[1] * 60 : 0) + (n > 2 ? f[2] : 0);
  else if (n == 1) /* minutes */
    sec = f[0] * 60;
  else if (n == 2) /* MM:SS */
    sec = f[0] * 60 + f[1];
  else /* HH:MM:SS */
    sec = f[0] * 3600 + f[1] * 60 + f[2];
  if (sec <= 0 || sec > RES_DURATION_MAX)
    goto bad;
  *ret = sec;
  return 0;
bad:
  return berr_set(err, -EINVAL,
                  "time '%s': use minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS", s);
}

int
slurm_parse_mem(const char *s, int64_t *ret, struct berr *err) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno || v < 0 || !isdigit((unsigned char)s[0]))
    return berr_set(err, -EINVAL, "'%s' is not a size (a number with K, M, G or T)", s);
  double mult = 1024.0 * 1024; /* megabytes when no unit is given */
  if (*end) {
    const char *u = strchr("KMGT", toupper((unsigned char)*end));
    if (!u || (end[1] && strcasecmp(end + 1, "B")))
      return berr_set(err, -EINVAL, "'%s': the units are K, M, G and T", s);
    mult = 1024;
    for (int i = 0; i < (int)(u - "KMGT"); i++)
      mult *= 1024;
  }
  if (v * mult > (double)RES_SIZE_MAX)
    return berr_set(err, -ERANGE, "'%s' is larger than boxq allows", s);
  *ret = (int64_t)(v * mult);
  return 0;
}

int
slurm_parse_begin(const char *s, int64_t now, int64_t *ret, struct berr *err) {
  time_t t = (time_t)now;
  struct tm tm;
  localtime_r(&t, &tm);
  long long n;
  char unit[16] = "";
  int used = 0;
  if (!strncmp(s, "now", 3)) {
    if (!s[3]) {
      *ret = now;
      return 0;
    }
    /* now+N or now-N (sacct's -S), N seconds or with a unit */
    char sign = s[3];
    if ((sign == '+' || sign == '-') && sscanf(s + 4, "%lld%15[a-z]%n", &n, unit, &used) >= 1 &&
        n >= 0 && n < 100000000 && (!unit[0] || (int)strlen(s + 4) == used) &&
        strspn(s + 4, "0123456789") > 0) {
      int64_t scale = !unit[0] || !strncmp(unit, "second", 6) ? 1
                      : !strncmp(unit, "minute", 6)           ? 60
                      : !strncmp(unit, "hour", 4)             ? 3600
                      : !strncmp(unit, "day", 3)              ? 86400
                      : !strncmp(unit, "week", 4)             ? 604800
                                                              : 0;
      if (scale) {
        *ret = sign == '+' ? now + n * scale : now - n * scale;
        return 0;
      }
    }
    goto bad;
  }
  int hour = -1, min = 0, sec = 0, y, mo, d;
  tm.tm_isdst = -1;
  if (!strcmp(s, "midnight") || !strcmp(s, "noon") || !strcmp(s, "teatime") ||
      !strcmp(s, "today") || !strcmp(s, "tomorrow")) {
    hour = s[0] == 'n' ? 12 : s[1] == 'e' ? 16 : 0;
    tm.tm_hour = hour;
    tm.tm_min = tm.tm_sec = 0;
    if (!strcmp(s, "tomorrow") || !strcmp(s, "midnight"))
      tm.tm_mday++;
    time_t when = mktime(&tm);
    if (when < (time_t)now && s[0] != 't')
      tm.tm_mday++, when = mktime(&tm);
    *ret = (int64_t)when;
    return 0;
  }
  if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3) {
    const char *rest = s + used;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    if (*rest == 'T') {
      int k = sscanf(rest + 1, "%2d:%2d:%2d%n", &hour, &min, &sec, &used);
      if (k < 2)
        goto bad;
      tm.tm_hour = hour, tm.tm_min = min, tm.tm_sec = k == 3 ? sec : 0;
    } else if (*rest)
      goto bad;
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
      goto bad;
    *ret = (int64_t)mktime(&tm);
    return 0;
  }
  int k = sscanf(s, "%2d:%2d:%2d%n", &hour, &min, &sec, &used);
  if (k >= 2 && hour < 24 && min < 60 && sec < 61) {
    tm.tm_hour = hour, tm.tm_min = min, tm.tm_sec = k == 3 ? sec : 0;
    time_t when = mktime(&tm);
    if (when < (time_t)now) /* a time of day already past: tomorrow */
      tm.tm_mday++, tm.tm_isdst = -1, when = mktime(&tm);
    *ret = (int64_t)when;
    return 0;
  }
bad:
  return berr_set(err, -EINVAL,
                  "--begin '%s': use now+N[minutes|hours|days], HH:MM[:SS], "
                  "YYYY-MM-DD[THH:MM[:SS]], midnight, noon, teatime, today or tomorrow",
                  s);
}

static void
set_str(char **dst, const char *v) {
  free(*dst);
  *dst = xstrdup(v);
}

/* -d: Slurm's list (afterok:12:13,afterany:14_2) into boxq's depend; a
 * task is ID_INDEX there, ID[INDEX] here; singleton is resolved by sbatch
 * against the caller's jobs. '?' (any of) is not boxq's. */
static int
parse_dependency(struct qsub_opts *o, const char *arg, struct berr *err) {
  if (strchr(arg, '?'))
    return berr_set(err, -ENOTSUP, "-d '%s': boxq's dependencies are all required (',', not '?')",
                    arg);
  _cleanup_free_ char *copy = xstrdup(arg);
  size_t cap = strlen(arg) * 2 + 16, len = 0;
  _cleanup_free_ char *out = xmalloc(cap);
  out[0] = '\0';
  char *save = NULL;
  for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    if (!strcmp(item, "singleton")) {
      o->singleton = true;
      continue;
    }
    const char *sep = len ? "," : "";
    for (const char *c = item; *c; c++) {
      if (*c == '_' && c > item && isdigit((unsigned char)c[-1])) {
        /* 12_3 -> 12[3] */
        size_t digits = strspn(c + 1, "0123456789");
        len += (size_t)snprintf(out + len, cap - len, "%s[%.*s]", sep, (int)digits, c + 1);
        c += digits;
      } else
        len += (size_t)snprintf(out + len, cap - len, "%s%c", sep, *c);
      sep = "";
    }
  }
  if (!len)
    return 0;
  struct job_dep *deps;
  size_t n;
  int r = job_depend_parse(out, &deps, &n, err);
  if (r < 0)
    return berr_prefix(err, r, "-d '%s'", arg);
  free(deps);
  set_str(&o->depend, out);
  return 0;
}

/* --export=ALL | NONE | NIL | [ALL,]VAR[=value],... */
static int
parse_export(struct qsub_opts *o, const char *arg, struct berr *err) {
  _cleanup_free_ char *copy = xstrdup(arg);
  char *save = NULL;
  for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    if (!strcmp(item, "ALL"))
      o->export_all = true;
    else if (!strcmp(item, "NONE") || !strcmp(item, "NIL")) {
      o->export_all = false;
      o->export_none = true;
    } else {
      int r = qsub_parse_option(o, 'v', item, err);
      if (r < 0)
        return berr_prefix(err, r, "--export");
    }
  }
  return 0;
}

/* --mail-type=BEGIN,END,FAIL,ALL,NONE,... into PBS's mail points. */
static int
parse_mail_type(struct qsub_opts *o, const char *arg, struct berr *err) {
  char points[8] = "";
  size_t n = 0;
  _cleanup_free_ char *copy = xstrdup(arg);
  char *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    const char *add = !strcasecmp(t, "BEGIN") ? "b"
                      : !strcasecmp(t, "END") ? "e"
                      : !strcasecmp(t, "FAIL") || !strcasecmp(t, "TIME_LIMIT") ||
                              !strcasecmp(t, "REQUEUE") || !strcasecmp(t, "INVALID_DEPEND")
                          ? "a"
                      : !strcasecmp(t, "ALL")  ? "bea"
                      : !strcasecmp(t, "NONE") ? ""
                      : !strncasecmp(t, "TIME_LIMIT_", 11) || !strcasecmp(t, "ARRAY_TASKS") ||
                              !strcasecmp(t, "STAGE_OUT")
                          ? ""
                          : NULL;
    if (!add)
      return berr_set(err, -EINVAL,
                      "--mail-type '%s': use BEGIN, END, FAIL, ALL or NONE (comma-separated)", t);
    for (; *add; add++)
      if (!strchr(points, *add))
        points[n++] = *add;
  }
  return qsub_parse_option(o, 'm', n ? points : "n", err);
}

static int
parse_count(const char *opt, const char *arg, int64_t max, int64_t *ret, struct berr *err) {
  if (parse_i64(arg, 1, max, ret) < 0)
    return berr_set(err, -EINVAL, "%s '%s': give a whole number from 1 to %lld", opt, arg,
                    (long long)max);
  return 0;
}

enum arg_kind { NO_ARG, ARG, OPT_ARG };

struct slurm_opt {
  char letter;
  const char *name;
  enum arg_kind arg;
};

static const struct slurm_opt slurm_opts[] = {
    {'J', "job-name", ARG},
    {'o', "output", ARG},
    {'e', "error", ARG},
    {'c', "cpus-per-task", ARG},
    {'n', "ntasks", ARG},
    {'N', "nodes", ARG},
    {0, "ntasks-per-node", ARG},
    {0, "mem", ARG},
    {0, "mem-per-cpu", ARG},
    {'t', "time", ARG},
    {'p', "partition", ARG},
    {'a', "array", ARG},
    {'d', "dependency", ARG},
    {0, "parsable", NO_ARG},
    {0, "wrap", ARG},
    {'D', "chdir", ARG},
    {0, "export", ARG},
    {'H', "hold", NO_ARG},
    {0, "gres", ARG},
    {'b', "begin", ARG},
    {'W', "wait", NO_ARG},
    {0, "nice", OPT_ARG},
    {0, "mail-type", ARG},
    {0, "mail-user", ARG},
    {'A', "account", ARG},
    {0, "comment", ARG},
    {'q', "qos", ARG},
    {0, "exclusive", OPT_ARG},
    {0, "requeue", NO_ARG},
    {0, "no-requeue", NO_ARG},
    {0, "signal", ARG},
    {0, "open-mode", ARG},
    {'x', "exclude", ARG},
    {'w', "nodelist", ARG},
    {'C', "constraint", ARG},
    {0, "tmp", ARG},
    {0, "time-min", ARG},
    {'Q', "quiet", NO_ARG},
    {0, "get-user-env", OPT_ARG},
    {0, "mem-bind", ARG},
    {0, "cpu-bind", ARG},
    {0, "hint", ARG},
    {0, "propagate", OPT_ARG},
    {0, "threads-per-core", ARG},
    {0, "gpus", ARG},
    {'G', "gpus", ARG},
    {0, "gpus-per-node", ARG},
    {0, "licenses", ARG},
    {'L', "licenses", ARG},
    {0, "reservation", ARG},
    {0, "priority", ARG},
    {0, "cluster", ARG},
    {'M', "clusters", ARG},
    {'i', "input", ARG},
    {0, "uid", ARG},
    {0, "gid", ARG},
    {0, "test-only", NO_ARG},
    {0, "kill-on-invalid-dep", ARG},
    {'k', "no-kill", OPT_ARG},
    {'v', "verbose", NO_ARG},
    {0, "container", ARG},
    {0, "deadline", ARG},
};

/* Options boxq must refuse rather than pretend to honour. */
static const char *const refused[] = {"input",    "uid",       "gid",         "test-only",
                                      "deadline", "container", "reservation", "clusters",
                                      "cluster",  NULL};

/* Recorded only: site placement and binding, meaningless on one box. */
static const char *const recorded[] = {"qos",
                                       "exclude",
                                       "nodelist",
                                       "constraint",
                                       "tmp",
                                       "time-min",
                                       "mem-bind",
                                       "cpu-bind",
                                       "hint",
                                       "propagate",
                                       "threads-per-core",
                                       "licenses",
                                       "comment",
                                       "get-user-env",
                                       "open-mode",
                                       "kill-on-invalid-dep",
                                       "no-kill",
                                       "exclusive",
                                       NULL};

static bool
in_list(const char *s, const char *const *list) {
  for (; *list; list++)
    if (!strcmp(s, *list))
      return true;
  return false;
}

static int
slurm_option(struct qsub_opts *o, const char *name, const char *arg, struct berr *err) {
  int64_t v;
  int r;
  if (!strcmp(name, "job-name"))
    return qsub_parse_option(o, 'N', arg, err);
  if (!strcmp(name, "output") || !strcmp(name, "error")) {
    if (!*arg)
      return berr_set(err, -EINVAL, "--%s needs a path", name);
    set_str(name[0] == 'o' ? &o->out_path : &o->err_path, arg);
    return 0;
  }
  if (!strcmp(name, "cpus-per-task"))
    return parse_count("-c", arg, RES_NCPUS_MAX, &o->cpus_per_task, err);
  if (!strcmp(name, "ntasks") || !strcmp(name, "ntasks-per-node"))
    return parse_count("-n", arg, RES_NCPUS_MAX, &o->ntasks, err);
  if (!strcmp(name, "nodes")) {
    /* N or MIN-MAX: one box is one node; more is the site's multinode
     * policy, as PBS's nodes= is. */
    _cleanup_free_ char *low = xstrndup(arg, strcspn(arg, "-"));
    if (parse_count("-N", low, 100000, &v, err) < 0)
      return -EINVAL;
    if (v > 1) {
      _cleanup_free_ char *item = xasprintf("nodes=%lld", (long long)v);
      return res_parse_list(item, &o->res, &o->respol, err);
    }
    return 0;
  }
  if (!strcmp(name, "mem")) {
    if ((r = slurm_parse_mem(arg, &v, err)) < 0)
      return berr_prefix(err, r, "--mem");
    if (v == 0)
      return berr_set(err, -EINVAL, "--mem=0 (all of a node's memory) is not for a shared box");
    o->res.mem = v;
    o->mem_per_cpu = 0;
    return 0;
  }
  if (!strcmp(name, "mem-per-cpu")) {
    if ((r = slurm_parse_mem(arg, &v, err)) < 0 || v == 0)
      return berr_prefix(err, r < 0 ? r : -EINVAL, "--mem-per-cpu");
    o->mem_per_cpu = v;
    o->res.mem = 0;
    return 0;
  }
  if (!strcmp(name, "time")) {
    if ((r = slurm_parse_time(arg, &v, err)) < 0)
      return berr_prefix(err, r, "-t");
    o->res.walltime = v;
    return 0;
  }
  if (!strcmp(name, "partition")) {
    _cleanup_free_ char *first = xstrndup(arg, strcspn(arg, ",")); /* one box: the first */
    return qsub_parse_option(o, 'q', first, err);
  }
  if (!strcmp(name, "array"))
    return qsub_parse_option(o, 't', arg, err);
  if (!strcmp(name, "dependency"))
    return parse_dependency(o, arg, err);
  if (!strcmp(name, "wrap")) {
    set_str(&o->wrap, arg);
    return 0;
  }
  if (!strcmp(name, "chdir"))
    return qsub_parse_option(o, 'd', arg, err);
  if (!strcmp(name, "export"))
    return parse_export(o, arg, err);
  if (!strcmp(name, "gres") || !strcmp(name, "gpus") || !strcmp(name, "gpus-per-node")) {
    /* gpu:N or gpu:TYPE:N: kept as the site's resource until boxq
     * schedules GPUs. */
    const char *count = strrchr(arg, ':');
    _cleanup_free_ char *item =
        xasprintf("gpus=%s", !strcmp(name, "gres") ? (count ? count + 1 : "1") : arg);
    return res_parse_list(item, &o->res, &o->respol, err);
  }
  if (!strcmp(name, "begin"))
    return slurm_parse_begin(arg, o->now, &o->exec_time, err);
  if (!strcmp(name, "nice")) {
    /* A positive nice lowers the priority (PBS's range, the other way). */
    v = 100;
    if (arg && parse_i64(arg, -1024, 1024, &v) < 0)
      return berr_set(err, -EINVAL, "--nice '%s': a whole number from -1024 to 1024", arg);
    o->priority = v > 1023 ? -1023 : -v;
    o->has_priority = true;
    return 0;
  }
  if (!strcmp(name, "priority")) {
    if (parse_i64(arg, -1024, 1023, &v) < 0)
      return berr_set(err, -EINVAL, "--priority '%s': a whole number from -1024 to 1023", arg);
    o->priority = v;
    o->has_priority = true;
    return 0;
  }
  if (!strcmp(name, "mail-type"))
    return parse_mail_type(o, arg, err);
  if (!strcmp(name, "mail-user"))
    return qsub_parse_option(o, 'M', arg, err);
  if (!strcmp(name, "account"))
    return qsub_parse_option(o, 'A', arg, err);
  if (!strcmp(name, "signal")) {
    /* [{R|B}:]SIG[@TIME]: TIME seconds (60) before the walltime ends. */
    const char *sig = arg[0] && arg[1] == ':' ? arg + 2 : arg;
    _cleanup_free_ char *name_part = xstrndup(sig, strcspn(sig, "@"));
    const char *at = strchr(sig, '@');
    int s = cli_parse_signal(name_part);
    int64_t before = 60;
    if (s <= 0 || !job_signal_allowed(s) || (at && parse_i64(at + 1, 1, 65535, &before) < 0))
      return berr_set(err, -EINVAL,
                      "--signal '%s': [B:]SIG[@SECONDS], SIG one of HUP INT QUIT TERM USR1 USR2 "
                      "ALRM",
                      arg);
    o->signal_number = s;
    o->signal_before = before;
    return 0;
  }
  if (in_list(name, refused))
    return berr_set(err, -ENOTSUP, "Slurm's --%s is not supported by boxq", name);
  if (in_list(name, recorded))
    return 0;
  return berr_set(err, -EINVAL, "unknown option --%s", name);
}

static int
slurm_flag(struct qsub_opts *o, const char *name) {
  if (!strcmp(name, "parsable"))
    o->parsable = true;
  else if (!strcmp(name, "hold"))
    o->hold = true;
  else if (!strcmp(name, "wait"))
    o->block = true;
  else if (!strcmp(name, "requeue"))
    o->rerunnable = 1;
  else if (!strcmp(name, "no-requeue"))
    o->rerunnable = 0;
  else if (!strcmp(name, "quiet"))
    o->quiet = true;
  return 0;
}

static const struct slurm_opt *
find_long(const char *name, size_t len) {
  for (size_t i = 0; i < ARRAY_SIZE(slurm_opts); i++)
    if (strlen(slurm_opts[i].name) == len && !strncmp(slurm_opts[i].name, name, len))
      return &slurm_opts[i];
  return NULL;
}

static const struct slurm_opt *
find_short(char c) {
  for (size_t i = 0; i < ARRAY_SIZE(slurm_opts); i++)
    if (slurm_opts[i].letter == c)
      return &slurm_opts[i];
  return NULL;
}

/* One sbatch option word, argv[0], and the words it takes. */
static int
slurm_word(struct qsub_opts *o, int argc, char *const *argv, struct berr *err) {
  const char *w = argv[0];
  const struct slurm_opt *opt;
  const char *arg = NULL;
  if (w[1] == '-') {
    /* --name, --name=value, --name value */
    const char *eq = strchr(w + 2, '=');
    size_t len = eq ? (size_t)(eq - w - 2) : strlen(w + 2);
    opt = find_long(w + 2, len);
    if (!opt)
      return berr_set(err, -EINVAL, "unknown option %.*s", (int)(len + 2), w);
    if (eq)
      arg = eq + 1;
    if (opt->arg == NO_ARG && arg)
      return berr_set(err, -EINVAL, "--%s takes no value", opt->name);
  } else {
    /* -J name, -Jname; flags may be grouped (-HW). */
    opt = find_short(w[1]);
    if (!opt)
      return berr_set(err, -EINVAL, "unknown option -%c", w[1]);
    if (w[2] && opt->arg == NO_ARG) {
      for (const char *c = w + 1; *c; c++) {
        const struct slurm_opt *f = find_short(*c);
        if (!f || f->arg != NO_ARG)
          return berr_set(err, -EINVAL, "-%c cannot be grouped with other options", *c);
        slurm_flag(o, f->name);
      }
      return 0;
    }
    if (w[2])
      arg = w + 2;
  }
  int used = 0;
  if (opt->arg == ARG && !arg) {
    if (argc < 2)
      return berr_set(err, -EINVAL, "option %s needs a value", w);
    arg = argv[1];
    used = 1;
  }
  int r = opt->arg == NO_ARG ? slurm_flag(o, opt->name) : slurm_option(o, opt->name, arg, err);
  return r < 0 ? r : used;
}

int
slurm_parse_args(struct qsub_opts *o, int argc, char *const *argv, bool allow_operands,
                 int *ret_index, struct berr *err) {
  o->slurm = true;
  return qsub_parse_words(o, argc, argv, allow_operands, ret_index, err, slurm_word);
}

static bool
is_sbatch_line(const char *p, size_t len) {
  return len >= 7 && !memcmp(p, "#SBATCH", 7) && (len == 7 || p[7] == ' ' || p[7] == '\t');
}

bool
slurm_script(const char *script, size_t len) {
  for (const char *p = script, *end = script + len; p < end;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t llen = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (is_sbatch_line(p, llen))
      return true;
    p = nl ? nl + 1 : end;
  }
  return false;
}

int
slurm_parse_directives(struct qsub_opts *o, const char *script, size_t len, const char *name,
                       struct berr *err) {
  const char *p = script, *end = script + len;
  o->slurm = true;
  for (int lineno = 1; p < end; lineno++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t llen = nl ? (size_t)(nl - p) : (size_t)(end - p);
    _cleanup_free_ char *line = xstrndup(p, llen);
    p = nl ? nl + 1 : end;
    const char *s = line;
    if (!*s || *s == '\r' || strspn(s, " \t\r") == strlen(s))
      continue;
    if (*s != '#')
      break; /* Slurm stops at the first command */
    if (!is_sbatch_line(s, strlen(s)))
      continue;
    char *text = line + 7;
    text[strcspn(text, "#")] = '\0'; /* a comment after the options */
    int r = qsub_parse_directive_text(o, text, slurm_parse_args, err);
    if (r < 0)
      return berr_prefix(err, r, "%s:%d: '%s'", name, lineno, line);
  }
  return 0;
}

int
slurm_finish(struct qsub_opts *o, struct berr *err) {
  if (!o->slurm)
    return 0;
  int64_t tasks = o->ntasks ? o->ntasks : 1, per = o->cpus_per_task ? o->cpus_per_task : 1;
  if (!o->res.ncpus && (o->ntasks || o->cpus_per_task)) {
    if (tasks * per > RES_NCPUS_MAX)
      return berr_set(err, -ERANGE, "%lld tasks of %lld CPUs is more than boxq allows",
                      (long long)tasks, (long long)per);
    o->res.ncpus = tasks * per;
  }
  if (o->mem_per_cpu && !o->res.mem) {
    int64_t cpus = o->res.ncpus > 0 ? o->res.ncpus : 1;
    if (o->mem_per_cpu > RES_SIZE_MAX / cpus)
      return berr_set(err, -ERANGE, "--mem-per-cpu times %lld CPUs is larger than boxq allows",
                      (long long)cpus);
    o->res.mem = o->mem_per_cpu * cpus;
  }
  /* Slurm passes the whole environment unless --export says otherwise. */
  if (!o->export_none && !o->nvars)
    o->export_all = true;
  /* Slurm's default: one file, slurm-%j.out (slurm-%A_%a.out for an
   * array), where the job starts; -e alone splits stderr off. */
  if (!o->out_path)
    o->out_path = xstrdup(o->array_spec ? "slurm-%A_%a.out" : "slurm-%j.out");
  if (!o->err_path && o->join < 0)
    o->join = JOIN_OE;
  if (o->signal_number && o->res.walltime) {
    if (o->signal_before >= o->res.walltime)
      return berr_set(err, -EINVAL, "--signal: %lld seconds before a walltime of %lld",
                      (long long)o->signal_before, (long long)o->res.walltime);
    o->soft_walltime = o->res.walltime - o->signal_before;
  }
  return 0;
}
