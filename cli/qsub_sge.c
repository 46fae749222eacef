/* SPDX-License-Identifier: MIT */
#include "qsub_sge.h"

#include "job.h"
#include "jobref.h"

#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void
set_str(char **dst, const char *v) {
  free(*dst);
  *dst = xstrdup(v);
}

/* y[es] or n[o], as Grid Engine's boolean arguments: 1, 0, or -1. */
static int
yes_no(const char *s) {
  if (!strcasecmp(s, "y") || !strcasecmp(s, "yes") || !strcasecmp(s, "true"))
    return 1;
  if (!strcasecmp(s, "n") || !strcasecmp(s, "no") || !strcasecmp(s, "false"))
    return 0;
  return -1;
}

int
qsub_sge_parse_size(const char *s, int64_t *ret, struct berr *err) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || errno || v < 0 || !isdigit((unsigned char)s[0]))
    return berr_set(err, -EINVAL, "'%s' is not a size (a number with K, M, G or T)", s);
  double mult = 1;
  if (*end) {
    const char *units = "kKmMgGtT";
    const char *u = strchr(units, *end);
    if (!u || end[1])
      return berr_set(err, -EINVAL, "'%s': the units are K, M, G, T (1024s) or k, m, g, t (1000s)",
                      s);
    int power = (int)(u - units) / 2 + 1;
    double base = isupper((unsigned char)*end) ? 1024 : 1000;
    for (int i = 0; i < power; i++)
      mult *= base;
  }
  double bytes = v * mult;
  if (bytes > (double)RES_SIZE_MAX)
    return berr_set(err, -ERANGE, "'%s' is larger than boxq allows", s);
  *ret = (int64_t)bytes;
  return 0;
}

static bool
is_one_of(const char *s, const char *const *list) {
  for (; *list; list++)
    if (!strcmp(s, *list))
      return true;
  return false;
}

/* Memory per slot (Grid Engine multiplies these by the slots). */
static const char *const slot_mem_names[] = {
    "h_vmem", "s_vmem", "mem_free", "virtual_free", "vf",      "mf", "h_data",
    "s_data", "h_rss",  "s_rss",    "mem",          "mem_req", NULL};

/* One -l name=value. */
static int
sge_resource(struct qsub_opts *o, const char *name, const char *value, struct berr *err) {
  int64_t v;
  int r;
  if (o->soft)
    return 0; /* -soft: wishes the scheduler may ignore; boxq does */
  if (is_one_of(name, slot_mem_names)) {
    if ((r = qsub_sge_parse_size(value, &v, err)) < 0)
      return berr_prefix(err, r, "-l %s", name);
    if (v > o->slot_mem)
      o->slot_mem = v; /* the largest of those given bounds the job */
    return 0;
  }
  if (!strcmp(name, "h_rt") || !strcmp(name, "s_rt") || !strcmp(name, "h_cpu")) {
    if ((r = res_parse_duration(value, &v, err)) < 0 || v <= 0)
      return berr_set(err, r < 0 ? r : -EINVAL, "-l %s=%s: give [[hours:]minutes:]seconds", name,
                      value);
    if (name[0] == 's')
      o->soft_walltime = v;
    else if (name[2] == 'r')
      o->res.walltime = v;
    else
      o->res.cput = v;
    return 0;
  }
  /* Anything else (arch, hostname, a site's complex): as PBS's -l has it. */
  _cleanup_free_ char *item = xasprintf("%s=%s", name, value);
  return res_parse_list(item, &o->res, &o->respol, err);
}

/* -l name=value[,name=value...]; a bare name means name=true. */
static int
sge_resources(struct qsub_opts *o, const char *list, struct berr *err) {
  _cleanup_free_ char *copy = xstrdup(list);
  char *save = NULL;
  for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(item, '=');
    if (eq == item)
      return berr_set(err, -EINVAL, "-l '%s': a resource needs a name", list);
    if (eq)
      *eq = '\0';
    int r = sge_resource(o, item, eq ? eq + 1 : "true", err);
    if (r < 0)
      return r;
  }
  return 0;
}

static void
append_list(char **dst, const char *v) {
  char *joined = *dst ? xasprintf("%s,%s", *dst, v) : xstrdup(v);
  free(*dst);
  *dst = joined;
}

/* Options taking no argument. 1 if opt is one, 0 if not. */
static int
sge_flag(struct qsub_opts *o, const char *opt) {
  if (!strcmp(opt, "-cwd"))
    o->cwd = true;
  else if (!strcmp(opt, "-V"))
    o->export_all = true;
  else if (!strcmp(opt, "-h"))
    o->hold = true;
  else if (!strcmp(opt, "-terse"))
    o->terse = true;
  else if (!strcmp(opt, "-notify"))
    o->notify = true;
  else if (!strcmp(opt, "-hard"))
    o->soft = false;
  else if (!strcmp(opt, "-soft"))
    o->soft = true;
  else
    return 0;
  return 1;
}

/* Grid Engine's options boxq knows it cannot honour, said as such. */
static const char *const unsupported[] = {"-i",      "-dl", "-ckpt",    "-c",       "-ac",  "-dc",
                                          "-sc",     "-@",  "-clear",   "-display", "-pty", "-jsv",
                                          "-verify", "-ar", "-pe_list", "-js_list", NULL};

/* Options ignored on one box: queue choice among hosts, reservation,
 * verification, share, binding. Their argument is still required. */
static const char *const ignored[] = {"-R", "-js", "-masterq", "-shell", "-w", NULL};

/* One option with its argument. */
static int
sge_option(struct qsub_opts *o, const char *opt, const char *arg, struct berr *err) {
  int64_t v;
  int yn = yes_no(arg);
  if (!strcmp(opt, "-l"))
    return sge_resources(o, arg, err);
  if (!strcmp(opt, "-wd")) {
    if (!*arg)
      return berr_set(err, -EINVAL, "-wd needs a directory");
    set_str(&o->workdir, arg);
    o->cwd = false;
    return 0;
  }
  if (!strcmp(opt, "-j") || !strcmp(opt, "-b") || !strcmp(opt, "-sync") || !strcmp(opt, "-r") ||
      !strcmp(opt, "-now")) {
    if (yn < 0)
      return berr_set(err, -EINVAL, "%s '%s': use y or n", opt, arg);
    if (opt[1] == 'j')
      o->join = yn ? JOIN_OE : JOIN_NONE;
    else if (opt[1] == 'b')
      o->binary = yn;
    else if (opt[1] == 's')
      o->sync = yn;
    else if (opt[1] == 'r')
      o->rerunnable = yn;
    else if (yn)
      return berr_set(err, -ENOTSUP,
                      "-now y (start now or not at all) is not supported by boxq: jobs wait "
                      "in the queue until they fit");
    return 0;
  }
  if (!strcmp(opt, "-p")) {
    if (parse_i64(arg, -1023, 1024, &v) < 0)
      return berr_set(err, -EINVAL, "-p '%s': priority must be a whole number from -1023 to 1024",
                      arg);
    o->priority = v > 1023 ? 1023 : v; /* PBS's range is one lower */
    o->has_priority = true;
    return 0;
  }
  if (!strcmp(opt, "-q")) {
    if (o->soft)
      return 0;
    /* queue[@host][,queue...]: one box, the first queue. */
    _cleanup_free_ char *first = xstrndup(arg, strcspn(arg, ",@"));
    return qsub_parse_option(o, 'q', first, err);
  }
  if (!strcmp(opt, "-m")) {
    /* b e a s n; s (suspended) has no mail of its own here. */
    char points[8] = "";
    size_t n = 0;
    if (!*arg || strspn(arg, "beasn") != strlen(arg))
      return berr_set(err, -EINVAL,
                      "-m '%s': use any of b (begun), e (ended), a (aborted), s (suspended), "
                      "or n (none)",
                      arg);
    for (const char *c = "bea"; *c; c++)
      if (strchr(arg, *c) && !strchr(arg, 'n'))
        points[n++] = *c;
    return qsub_parse_option(o, 'm', n ? points : "n", err);
  }
  if (!strcmp(opt, "-t"))
    return qsub_parse_option(o, 't', arg, err);
  if (!strcmp(opt, "-tc")) {
    if (parse_i64(arg, 1, JOB_ARRAY_MAX, &v) < 0)
      return berr_set(err, -EINVAL, "-tc '%s': give the number of tasks that may run at once", arg);
    o->task_limit = v;
    return 0;
  }
  if (!strcmp(opt, "-hold_jid") || !strcmp(opt, "-hold_jid_ad")) {
    if (!*arg || strspn(arg, ", ") == strlen(arg))
      return berr_set(err, -EINVAL, "%s needs job ids or names", opt);
    append_list(opt[9] ? &o->hold_jid_ad : &o->hold_jid, arg);
    return 0;
  }
  /* The options spelled as PBS's: -N -o -e -v -a -A -P -S -M -C. */
  if (opt[1] && !opt[2] && strchr("NoevaAPSMC", opt[1]))
    return qsub_parse_option(o, opt[1], arg, err);
  if (is_one_of(opt, ignored))
    return 0;
  return berr_set(err, -EINVAL, "unknown option %s", opt);
}

/* One Grid Engine option word, argv[0], and the words it takes. */
static int
sge_word(struct qsub_opts *o, int argc, char *const *argv, struct berr *err) {
  const char *w = argv[0];
  if (sge_flag(o, w))
    return 0;
  if (is_one_of(w, unsupported))
    return berr_set(err, -ENOTSUP, "Grid Engine's %s is not supported by boxq", w);
  /* -pe NAME SLOTS (SLOTS: N, or a range N-M: the least is what the job
   * is given, so that it fits whenever N CPUs are free). */
  if (!strcmp(w, "-pe")) {
    if (argc < 3)
      return berr_set(err, -EINVAL, "-pe needs a parallel environment name and a slot count");
    const char *name = argv[1], *slots = argv[2];
    int64_t n;
    _cleanup_free_ char *low = xstrndup(slots, strcspn(slots, "-"));
    if (!*low || parse_i64(low, 1, RES_NCPUS_MAX, &n) < 0)
      return berr_set(err, -EINVAL, "-pe %s '%s': give the slots, a number from 1 to %d", name,
                      slots, RES_NCPUS_MAX);
    set_str(&o->pe_name, name);
    o->pe_slots = n;
    return 2;
  }
  /* -binding [env|pe|set] STRATEGY: accepted, one box binds by cpuset. */
  if (!strcmp(w, "-binding")) {
    int used =
        argc > 1 && (!strcmp(argv[1], "env") || !strcmp(argv[1], "pe") || !strcmp(argv[1], "set"));
    if (argc < used + 2)
      return berr_set(err, -EINVAL, "-binding needs a strategy");
    return used + 1;
  }
  if (argc < 2)
    return berr_set(err, -EINVAL, "option %s needs a value (or is unknown)", w);
  int r = sge_option(o, w, argv[1], err);
  return r < 0 ? r : 1;
}

int
qsub_sge_parse_args(struct qsub_opts *o, int argc, char *const *argv, bool allow_operands,
                    int *ret_index, struct berr *err) {
  o->sge = true;
  return qsub_parse_words(o, argc, argv, allow_operands, ret_index, err, sge_word);
}

static bool
line_starts(const char *p, const char *end, const char *prefix) {
  size_t n = strlen(prefix);
  return (size_t)(end - p) >= n && memcmp(p, prefix, n) == 0;
}

bool
qsub_sge_script(const char *script, size_t len) {
  if (qsub_has_pbs_directives(script, len))
    return false; /* a #PBS directive: PBS's script */
  for (const char *p = script, *end = script + len; p < end;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (line_starts(p, nl ? nl : end, "#$"))
      return true;
    p = nl ? nl + 1 : end;
  }
  return false;
}

int
qsub_sge_parse_directives(struct qsub_opts *o, const char *script, size_t len, const char *name,
                          const char *prefix, struct berr *err) {
  size_t plen = strlen(prefix);
  o->sge = true;
  if (plen == 0)
    return 0;
  const char *p = script, *end = script + len;
  for (int lineno = 1; p < end; lineno++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t llen = nl ? (size_t)(nl - p) : (size_t)(end - p);
    bool directive = llen >= plen && memcmp(p, prefix, plen) == 0;
    _cleanup_free_ char *line = directive ? xstrndup(p, llen) : NULL;
    p = nl ? nl + 1 : end;
    if (!directive)
      continue;
    char *text = line + plen;
    text[strcspn(text, "#")] = '\0'; /* a comment after the options */
    int r = qsub_parse_directive_text(o, text, qsub_sge_parse_args, err);
    if (r < 0)
      return berr_prefix(err, r, "%s:%d: '%s'", name, lineno, line);
  }
  return 0;
}

/* $HOME, $USER and $HOSTNAME in an -o/-e path: the submitter's (the
 * job's own variables, $JOB_ID and the like, are replaced as it starts). */
static void
expand_submit_vars(char **path) {
  static const char *const names[] = {"HOME", "USER", "HOSTNAME"};
  if (!*path || !strchr(*path, '$'))
    return;
  char host[256] = "";
  gethostname(host, sizeof(host) - 1);
  for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
    _cleanup_free_ char *token = xasprintf("$%s", names[i]);
    const char *value = i == 2 ? host : getenv(names[i]);
    char *at = strstr(*path, token);
    size_t tlen = strlen(token);
    /* $HOMEDIR is not $HOME. */
    if (!at || !value || isalnum((unsigned char)at[tlen]) || at[tlen] == '_')
      continue;
    char *joined = xasprintf("%.*s%s%s", (int)(at - *path), *path, value, at + tlen);
    free(*path);
    *path = joined;
  }
}

int
qsub_sge_finish(struct qsub_opts *o, struct berr *err) {
  if (!o->sge)
    return 0;
  /* Grid Engine runs a job in the home directory unless told otherwise. */
  if (!o->workdir && !o->cwd) {
    const char *home = getenv("HOME");
    if (home && *home)
      o->workdir = xstrdup(home);
  }
  if (o->pe_slots && !o->res.ncpus)
    o->res.ncpus = o->pe_slots;
  if (o->slot_mem && !o->res.mem) {
    int64_t slots = o->res.ncpus > 0 ? o->res.ncpus : 1;
    if (o->slot_mem > RES_SIZE_MAX / slots)
      return berr_set(err, -ERANGE, "-l h_vmem times %lld slots is larger than boxq allows",
                      (long long)slots);
    o->res.mem = o->slot_mem * slots;
  }
  if (o->task_limit) {
    if (!o->array_spec)
      return berr_set(err, -EINVAL, "-tc limits an array's tasks: give -t too");
    char *spec = xasprintf("%.*s%%%lld", (int)strcspn(o->array_spec, "%"), o->array_spec,
                           (long long)o->task_limit);
    free(o->array_spec);
    o->array_spec = spec;
  }
  if (o->hold_jid_ad && !o->array_spec)
    return berr_set(err, -EINVAL, "-hold_jid_ad makes an array's tasks wait: give -t too");
  if (o->sync == 1)
    o->block = true;
  expand_submit_vars(&o->out_path);
  expand_submit_vars(&o->err_path);
  return 0;
}
