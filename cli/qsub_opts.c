/* SPDX-License-Identifier: MIT */
#include "qsub_opts.h"

#include "job.h"
#include "jobref.h"

#include <ctype.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <strings.h>

int
qsub_parse_datetime(const char *s, int64_t now, int64_t *ret, struct berr *err) {
  const char *dot = strchr(s, '.');
  size_t digits = dot ? (size_t)(dot - s) : strlen(s);
  if (strspn(s, "0123456789") != digits || digits < 4 || digits > 12 || digits % 2 ||
      (dot && (strlen(dot + 1) != 2 || strspn(dot + 1, "0123456789") != 2)))
    return berr_set(err, -EINVAL, "-a '%s': use [[[[CC]YY]MM]DD]hhmm[.SS]", s);
  int parts[6], n = (int)digits / 2; /* from the right: mm hh DD MM YY CC */
  for (int i = 0; i < n; i++)
    parts[i] = (s[digits - 2 * i - 2] - '0') * 10 + (s[digits - 2 * i - 1] - '0');
  time_t t = (time_t)now;
  struct tm tm;
  localtime_r(&t, &tm);
  tm.tm_sec = dot ? atoi(dot + 1) : 0;
  tm.tm_min = parts[0];
  tm.tm_hour = parts[1];
  if (n > 2)
    tm.tm_mday = parts[2];
  if (n > 3)
    tm.tm_mon = parts[3] - 1;
  if (n > 4)
    tm.tm_year = (n > 5 ? parts[5] * 100 + parts[4] : 2000 + parts[4]) - 1900;
  if (tm.tm_min > 59 || tm.tm_hour > 23 || tm.tm_sec > 60 ||
      (n > 2 && (tm.tm_mday < 1 || tm.tm_mday > 31)) ||
      (n > 3 && (tm.tm_mon < 0 || tm.tm_mon > 11)))
    return berr_set(err, -EINVAL, "-a '%s': no such date or time", s);
  tm.tm_isdst = -1;
  int mday = tm.tm_mday, mon = tm.tm_mon;
  time_t when = mktime(&tm);
  if (when == (time_t)-1 || tm.tm_mday != mday || tm.tm_mon != mon)
    return berr_set(err, -EINVAL, "-a '%s': no such date or time", s);
  /* Left-out parts mean the next such time: tomorrow, next month, next year. */
  if (when < now && n < 5) {
    if (n == 2)
      tm.tm_mday++;
    else if (n == 3)
      tm.tm_mon++;
    else
      tm.tm_year++;
    tm.tm_isdst = -1;
    when = mktime(&tm);
  }
  *ret = (int64_t)when;
  return 0;
}

void
qsub_opts_init(struct qsub_opts *o) {
  *o = (struct qsub_opts){.join = -1, .rerunnable = -1, .binary = -1, .sync = -1};
}

static void
free_vars(char **vars, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(vars[i]);
  free(vars);
}

void
qsub_opts_free(struct qsub_opts *o) {
  free(o->name);
  free(o->out_path);
  free(o->err_path);
  free(o->queue);
  free(o->array_spec);
  free(o->depend);
  free_vars(o->vars, o->nvars);
  free(o->workdir);
  free(o->shell);
  free(o->umask);
  free(o->user_list);
  free(o->prefix);
  free(o->account);
  free(o->mail_points);
  free(o->mail_users);
  free(o->project);
  free(o->group_list);
  free(o->pe_name);
  free(o->hold_jid);
  free(o->hold_jid_ad);
  free(o->wrap);
  res_request_free(&o->res);
  int64_t now = o->now;
  struct res_policy pol = o->respol;
  qsub_opts_init(o);
  o->now = now;
  o->respol = pol;
}

static void
set_str(char **dst, const char *v) {
  free(*dst);
  *dst = xstrdup(v);
}

static void
add_var(struct qsub_opts *o, const char *v) {
  o->vars = xrealloc(o->vars, (o->nvars + 1) * sizeof(char *));
  o->vars[o->nvars++] = xstrdup(v);
}

/* Copies one token from *p into out (which has room for strlen(*p) + 1),
 * stopping at an unquoted character of stops or at the end; '' and ""
 * quote and are removed. Returns false on an unterminated quote. */
static bool
scan_token(const char **p, const char *stops, char *out) {
  char quote = 0;
  size_t n = 0;
  const char *s = *p;
  for (; *s && (quote || !strchr(stops, *s)); s++) {
    if (!quote && (*s == '"' || *s == '\'')) {
      quote = *s;
      continue;
    }
    if (quote && *s == quote) {
      quote = 0;
      continue;
    }
    out[n++] = *s;
  }
  out[n] = '\0';
  *p = s;
  return quote == 0;
}

/* -v VAR[=value][,VAR[=value]...]; a value may be quoted to hold commas. */
static int
parse_vars(struct qsub_opts *o, const char *list, struct berr *err) {
  const char *p = list; /* -v '' (Torque's tools send it): nothing */
  while (*p) {
    const char *start = p;
    _cleanup_free_ char *item = xmalloc(strlen(p) + 1);
    if (!scan_token(&p, ",", item))
      return berr_set(err, -EINVAL, "-v: unterminated quote in '%s'", start);
    size_t klen = strcspn(item, "=");
    if (klen == 0)
      return berr_set(err, -EINVAL, "-v: empty variable name in '%s'", list);
    for (size_t i = 0; i < klen; i++)
      if (!(isalnum((unsigned char)item[i]) || item[i] == '_') ||
          (i == 0 && isdigit((unsigned char)item[0])))
        return berr_set(err, -EINVAL, "-v: '%.*s' is not a valid variable name", (int)klen, item);
    add_var(o, item);
    if (*p == ',')
      p++;
  }
  return 0;
}

int
qsub_parse_option(struct qsub_opts *o, char opt, const char *arg, struct berr *err) {
  int64_t v;
  switch (opt) {
    case 'N': {
      int r = job_name_check(arg, err);
      if (r < 0)
        return r;
      set_str(&o->name, arg);
      return 0;
    }
    case 'o':
    case 'e': {
      /* PBS allows "host:path"; on one box only the path matters. */
      const char *colon = strchr(arg, ':');
      const char *path = arg;
      if (colon && memchr(arg, '/', (size_t)(colon - arg)) == NULL)
        path = colon + 1;
      if (!*path)
        return berr_set(err, -EINVAL, "-%c needs a path", opt);
      set_str(opt == 'o' ? &o->out_path : &o->err_path, path);
      return 0;
    }
    case 'j':
      if (!strcmp(arg, "oe"))
        o->join = JOIN_OE;
      else if (!strcmp(arg, "eo"))
        o->join = JOIN_EO;
      else if (!strcmp(arg, "n"))
        o->join = JOIN_NONE;
      else
        return berr_set(err, -EINVAL, "-j '%s': use oe, eo or n", arg);
      return 0;
    case 'l':
      return res_parse_list(arg, &o->res, &o->respol, err);
    case 'v':
      return parse_vars(o, arg, err);
    case 'p':
      if (parse_i64(arg, -1024, 1023, &v) < 0)
        return berr_set(err, -EINVAL, "-p '%s': priority must be a whole number from -1024 to 1023",
                        arg);
      o->priority = v;
      o->has_priority = true;
      return 0;
    case 'r':
      if (strcmp(arg, "y") == 0)
        o->rerunnable = 1;
      else if (strcmp(arg, "n") == 0)
        o->rerunnable = 0;
      else
        return berr_set(err, -EINVAL, "-r '%s': use y or n", arg);
      return 0;
    case 'q':
      if (!*arg)
        return berr_set(err, -EINVAL, "-q needs a queue name");
      set_str(&o->queue, arg);
      return 0;
    case 'J': {
      struct job_array_range range;
      int r = job_array_parse(arg, &range, err);
      if (r < 0)
        return berr_prefix(err, r, "-J");
      set_str(&o->array_spec, arg);
      return 0;
    }
    case 'd':
    case 'w':
      if (!*arg)
        return berr_set(err, -EINVAL, "-%c needs a directory", opt);
      set_str(&o->workdir, arg);
      return 0;
    case 'S': {
      /* path[@host][,path@host...]: on one box, the first path. */
      _cleanup_free_ char *first = xstrndup(arg, strcspn(arg, ",@"));
      if (first[0] != '/')
        return berr_set(err, -EINVAL, "-S '%s': give the interpreter's absolute path", arg);
      set_str(&o->shell, first);
      return 0;
    }
    case 'u':
      set_str(&o->user_list, arg);
      return 0;
    case 'k':
      /* Torque and PBS Pro keep output on the execution host or not: on
       * one box it goes where -o/-e say from the start. */
      if (strspn(arg, "oedn") != strlen(arg) || !*arg)
        return berr_set(err, -EINVAL, "-k '%s': use n, o, e, oe, eo, or with d", arg);
      return 0;
    case 'C':
      set_str(&o->prefix, arg);
      return 0;
    case 'c':
      /* Checkpointing (Torque's n, s, c, c=MIN, enabled, ...; PBS Pro's):
       * boxq does not checkpoint jobs; a request for none is fine. */
      if (strcmp(arg, "n") != 0 && strcmp(arg, "u") != 0 && strcmp(arg, "none") != 0)
        return berr_set(err, -ENOTSUP,
                        "-c '%s': boxq does not checkpoint jobs (-c n is accepted); a job "
                        "to restart from its own checkpoints can be marked -r y",
                        arg);
      return 0;
    case 'm': {
      /* a (aborted), b (begun), e (ended), or n (none); PBS Pro's j too. */
      size_t len = strlen(arg);
      if (!len || (strcmp(arg, "n") != 0 && strspn(arg, "abej") != len))
        return berr_set(err, -EINVAL,
                        "-m '%s': use any of a (aborted), b (begun), e (ended), "
                        "or n (none)",
                        arg);
      set_str(&o->mail_points, arg);
      return 0;
    }
    case 'M': {
      /* user[@host][,...]: addresses as sendmail takes them, nothing a
       * header or a command line could be tricked with. */
      size_t len = strlen(arg);
      if (!len || len > 1024 ||
          strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-@,") !=
              len ||
          arg[0] == ',' || arg[0] == '-' || strstr(arg, ",,") || arg[len - 1] == ',' ||
          strstr(arg, ",-"))
        return berr_set(err, -EINVAL,
                        "-M '%s': give mail addresses (user or user@host), comma-separated", arg);
      set_str(&o->mail_users, arg);
      return 0;
    }
    case 'A':
    case 'P': {
      /* Recorded for accounting (qacct -A/-P/--by): a name, no blanks. */
      size_t len = strlen(arg);
      bool printable = len > 0 && len <= 64;
      for (size_t i = 0; printable && i < len; i++)
        printable = isgraph((unsigned char)arg[i]) && arg[i] != ',';
      if (!printable)
        return berr_set(err, -EINVAL,
                        "-%c '%s': give a name of 1 to 64 printable characters, no blanks or "
                        "commas",
                        opt, arg);
      set_str(opt == 'A' ? &o->account : &o->project, arg);
      return 0;
    }
    case 't': {
      /* Torque's arrays: 1-10, 1-10%2, 7, and lists: 1,3,5-7%2. */
      struct job_array_range *ranges;
      size_t n;
      int64_t count;
      int r = job_array_parse_list(arg, &ranges, &n, &count, err);
      if (r < 0)
        return berr_prefix(err, r, "-t");
      free(ranges);
      set_str(&o->array_spec, arg);
      return 0;
    }
    case 'W': {
      if (strncmp(arg, "umask=", 6) == 0) {
        const char *mask = arg + 6;
        if (!*mask || strlen(mask) > 4 || strspn(mask, "01234567") != strlen(mask) ||
            strtol(mask, NULL, 8) > 0777)
          return berr_set(err, -EINVAL, "-W umask='%s': give an octal mask from 0 to 777", mask);
        set_str(&o->umask, mask);
        return 0;
      }
      if (strncmp(arg, "group_list=", 11) == 0) {
        if (!arg[11])
          return berr_set(err, -EINVAL, "-W group_list= needs a group name");
        set_str(&o->group_list, arg + 11);
        return 0;
      }
      if (strncmp(arg, "block=", 6) == 0) {
        if (!strcasecmp(arg + 6, "true"))
          o->block = true;
        else if (!strcasecmp(arg + 6, "false"))
          o->block = false;
        else
          return berr_set(err, -EINVAL, "-W block='%s': use true or false", arg + 6);
        return 0;
      }
      if (strncmp(arg, "depend=", 7) != 0)
        return berr_set(err, -ENOTSUP,
                        "-W '%s': boxq knows -W depend=, umask=, group_list= and block=", arg);
      struct job_dep *deps;
      size_t n;
      int r = job_depend_parse(arg + 7, &deps, &n, err);
      if (r < 0)
        return r;
      free(o->depend);
      o->depend = n ? job_depend_format(deps, n) : NULL; /* "afterok:": none */
      free(deps);
      return 0;
    }
    case 'a':
      return qsub_parse_datetime(arg, o->now, &o->exec_time, err);
    default:
      return berr_set(err, -EINVAL, "unknown option -%c", opt);
  }
}

static bool
takes_arg(char opt) {
  return strchr("NoejlvpqrJWadwSukCtAPmMc", opt) != NULL;
}

static bool
known_flag(char opt) {
  return opt == 'V' || opt == 'h' || opt == 'z' || opt == 'I';
}

/* Whether word w ends the options: 0 no; 1 it is the first operand; 2 it
 * is "--" (o->dashdash set; the operands follow it); -EINVAL for an
 * operand where allow_operands is false (directives). */
static int
word_ends_options(struct qsub_opts *o, const char *w, bool allow_operands, struct berr *err) {
  if (!strcmp(w, "--")) {
    o->dashdash = true;
    return 2;
  }
  if (w[0] != '-' || w[1] == '\0') {
    if (!allow_operands)
      return berr_set(err, -EINVAL, "unexpected '%s' (options start with '-')", w);
    return 1;
  }
  return 0;
}

int
qsub_parse_words(struct qsub_opts *o, int argc, char *const *argv, bool allow_operands,
                 int *ret_index, struct berr *err, qsub_word_parser parse_word) {
  int i = 0;
  for (; i < argc; i++) {
    int end = word_ends_options(o, argv[i], allow_operands, err);
    if (end < 0)
      return end;
    if (end) {
      i += end == 2;
      break;
    }
    int used = parse_word(o, argc - i, argv + i, err);
    if (used < 0)
      return used;
    i += used;
  }
  if (ret_index)
    *ret_index = i;
  return 0;
}

/* One PBS option word (argv[0]) and what it takes: clustered flags (-hV)
 * and attached arguments (-Nname) as getopt does. */
static int
pbs_word(struct qsub_opts *o, int argc, char *const *argv, struct berr *err) {
  const char *w = argv[0];
  for (const char *c = w + 1; *c; c++) {
    if (takes_arg(*c)) {
      const char *arg = c[1] ? c + 1 : NULL;
      int used = 0;
      if (!arg) {
        if (argc < 2)
          return berr_set(err, -EINVAL, "option -%c needs a value", *c);
        arg = argv[1];
        used = 1;
      }
      int r = qsub_parse_option(o, *c, arg, err);
      return r < 0 ? r : used;
    }
    if (!known_flag(*c)) {
      if (strchr("DfX", *c))
        return berr_set(err, -ENOTSUP, "option -%c is not supported by boxq yet", *c);
      return berr_set(err, -EINVAL, "unknown option -%c", *c);
    }
    if (*c == 'V')
      o->export_all = true;
    else if (*c == 'z')
      o->quiet = true;
    else if (*c == 'I')
      o->interactive = true;
    else
      o->hold = true;
  }
  return 0;
}

int
qsub_parse_args(struct qsub_opts *o, int argc, char *const *argv, bool allow_operands,
                int *ret_index, struct berr *err) {
  return qsub_parse_words(o, argc, argv, allow_operands, ret_index, err, pbs_word);
}

int
qsub_split_words(const char *text, char ***ret_words, int *ret_count, struct berr *err) {
  char **words = NULL;
  int n = 0;
  const char *p = text;
  for (;;) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (!*p || *p == '\n' || *p == '\r')
      break;
    char *w = xmalloc(strlen(p) + 1);
    bool closed = scan_token(&p, " \t\r\n", w);
    words = xrealloc(words, (size_t)(n + 2) * sizeof(char *));
    words[n++] = w;
    words[n] = NULL;
    if (!closed) {
      for (int i = 0; i < n; i++)
        free(words[i]);
      free(words);
      return berr_set(err, -EINVAL, "unterminated quote");
    }
  }
  *ret_words = words;
  *ret_count = n;
  return 0;
}

int
qsub_parse_directive_text(struct qsub_opts *o, const char *text, qsub_args_parser parse,
                          struct berr *err) {
  char **words;
  int n;
  int r = qsub_split_words(text, &words, &n, err);
  if (r < 0)
    return r;
  r = parse(o, n, words, false, NULL, err);
  for (int i = 0; i < n; i++)
    free(words[i]);
  free(words);
  return r;
}

bool
qsub_has_pbs_directives(const char *script, size_t len) {
  for (const char *p = script, *end = script + len; p < end;) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t llen = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (llen > 5 && !memcmp(p, "#PBS", 4) && (p[4] == ' ' || p[4] == '\t'))
      return true;
    p = nl ? nl + 1 : end;
  }
  return false;
}

const char *
qsub_directive_prefix(const struct qsub_opts *cmdline) {
  if (cmdline->prefix)
    return cmdline->prefix;
  const char *env = getenv("PBS_DPREFIX");
  return env ? env : "#PBS";
}

int
qsub_parse_directives(struct qsub_opts *o, const char *script, size_t len, const char *name,
                      const char *prefix, struct berr *err) {
  const char *p = script, *end = script + len;
  size_t plen = strlen(prefix);
  if (plen == 0)
    return 0; /* -C '': no directives */
  for (int lineno = 1; p < end; lineno++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t llen = nl ? (size_t)(nl - p) : (size_t)(end - p);
    _cleanup_free_ char *line = xstrndup(p, llen);
    p = nl ? nl + 1 : end;
    const char *s = line;
    while (*s == ' ' || *s == '\t')
      s++;
    if (*s == '\0' || *s == '\r')
      continue;
    if (*s != '#' && strncmp(s, prefix, plen) != 0)
      break; /* the first executable line ends the directives, as in PBS */
    if (strncmp(s, prefix, plen) != 0 || (s[plen] != ' ' && s[plen] != '\t'))
      continue;
    int r = qsub_parse_directive_text(o, s + plen, qsub_parse_args, err);
    if (r < 0)
      return berr_prefix(err, r, "%s:%d: '%s'", name, lineno, s);
  }
  return 0;
}

void
qsub_opts_merge(struct qsub_opts *base, const struct qsub_opts *over) {
  if (over->name)
    set_str(&base->name, over->name);
  if (over->out_path)
    set_str(&base->out_path, over->out_path);
  if (over->err_path)
    set_str(&base->err_path, over->err_path);
  if (over->queue)
    set_str(&base->queue, over->queue);
  if (over->join >= 0)
    base->join = over->join;
  if (over->rerunnable >= 0)
    base->rerunnable = over->rerunnable;
  res_merge(&base->res, &over->res);
  for (size_t i = 0; i < over->nvars; i++)
    add_var(base, over->vars[i]);
  if (over->array_spec)
    set_str(&base->array_spec, over->array_spec);
  if (over->depend)
    set_str(&base->depend, over->depend);
  if (over->exec_time)
    base->exec_time = over->exec_time;
  if (over->workdir)
    set_str(&base->workdir, over->workdir);
  if (over->shell)
    set_str(&base->shell, over->shell);
  if (over->umask)
    set_str(&base->umask, over->umask);
  if (over->user_list)
    set_str(&base->user_list, over->user_list);
  if (over->account)
    set_str(&base->account, over->account);
  if (over->project)
    set_str(&base->project, over->project);
  if (over->group_list)
    set_str(&base->group_list, over->group_list);
  if (over->mail_points)
    set_str(&base->mail_points, over->mail_points);
  if (over->mail_users)
    set_str(&base->mail_users, over->mail_users);
  base->block |= over->block;
  base->interactive |= over->interactive;
  base->quiet |= over->quiet;
  base->export_all |= over->export_all;
  base->hold |= over->hold;
  if (over->has_priority) {
    base->priority = over->priority;
    base->has_priority = true;
  }
  base->sge |= over->sge;
  base->cwd |= over->cwd;
  base->notify |= over->notify;
  base->terse |= over->terse;
  if (over->binary >= 0)
    base->binary = over->binary;
  if (over->sync >= 0)
    base->sync = over->sync;
  if (over->pe_name) {
    set_str(&base->pe_name, over->pe_name);
    base->pe_slots = over->pe_slots;
  }
  if (over->slot_mem)
    base->slot_mem = over->slot_mem;
  if (over->soft_walltime)
    base->soft_walltime = over->soft_walltime;
  if (over->hold_jid)
    set_str(&base->hold_jid, over->hold_jid);
  if (over->hold_jid_ad)
    set_str(&base->hold_jid_ad, over->hold_jid_ad);
  if (over->task_limit)
    base->task_limit = over->task_limit;
  base->slurm |= over->slurm;
  base->parsable |= over->parsable;
  base->singleton |= over->singleton;
  base->export_none |= over->export_none;
  if (over->ntasks)
    base->ntasks = over->ntasks;
  if (over->cpus_per_task)
    base->cpus_per_task = over->cpus_per_task;
  if (over->mem_per_cpu)
    base->mem_per_cpu = over->mem_per_cpu;
  if (over->wrap)
    set_str(&base->wrap, over->wrap);
  if (over->signal_number) {
    base->signal_number = over->signal_number;
    base->signal_before = over->signal_before;
  }
}
