/* SPDX-License-Identifier: MIT */
/* A crontab, read as boxq reads it: crontab(5) lines (a schedule and a
 * command, NAME=value for the commands' environment, # comments), with
 * #PBS lines (qsub's options) for the entry after them, as Slurm's
 * scrontab takes #SCRON lines. A command that is one script file also
 * takes that script's own #PBS directives, as qsub would; the crontab's
 * win. Each entry becomes the job qsub would submit, in $HOME (or -d),
 * checked here so that an error names its line, and again by boxqd. */
#include "crontab.h"
#include "cronexpr.h"
#include "qsub_opts.h"

#include <ctype.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A script named as the command: read for its directives (at most). */
#define DIRECTIVE_SCAN_MAX (1u << 20)

static bool
is_assignment(const char *p) {
  if (!isalpha((unsigned char)*p) && *p != '_')
    return false;
  while (isalnum((unsigned char)*p) || *p == '_')
    p++;
  return *p == '=';
}

/* NAME=value, its value unquoted as cron does ("..." or '...'). */
static char *
assignment(const char *p) {
  const char *eq = strchr(p, '=');
  const char *v = eq + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  size_t len = strlen(v);
  while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
    len--;
  if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
    v++;
    len -= 2;
  }
  return xasprintf("%.*s=%.*s", (int)(eq - p), p, (int)len, v);
}

/* The command's script file's directives, if the command is one. */
static int
script_directives(const char *command, struct qsub_opts *o, struct berr *err) {
  if (strpbrk(command, " \t;|&<>$`'\"") || command[0] != '/')
    return 0;
  int fd = open(command, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0)
      close(fd);
    return 0; /* not (yet) a readable file: a command like any other */
  }
  char *text = NULL;
  size_t len = 0;
  int r = read_fd_all(fd, DIRECTIVE_SCAN_MAX, &text, &len);
  close(fd);
  if (r == 0)
    r = qsub_parse_directives(o, text, len, command, qsub_directive_prefix(o), err);
  else if (r == -EFBIG)
    r = 0;
  free(text);
  return r;
}

static char *
default_name(const char *command) {
  size_t n = strcspn(command, " \t");
  _cleanup_free_ char *first = xstrndup(command, n);
  char *name = xstrdup(basename(first));
  struct berr err = {{0}};
  if (job_name_check(name, &err) < 0) {
    free(name);
    name = xstrdup("cron");
  }
  return name;
}

/* One entry: the job it submits, into b. */
static int
encode_entry(struct cli_ctx *ctx, const char *label, int line, const char *spec,
             const char *command, struct qsub_opts *pending, char **env, size_t nenv,
             struct pbuf *b, struct berr *err) {
  struct cron_spec cs;
  struct berr why = {{0}};
  if (cron_parse(spec, &cs, &why) < 0)
    return berr_set(err, -EINVAL, "%s:%d: %s", label, line, why.msg);
  struct qsub_opts o;
  qsub_opts_init(&o);
  o.now = (int64_t)time(NULL);
  o.respol = cfg_res_policy(&ctx->cfg);
  struct job_rec j = {0};
  int r = script_directives(command, &o, &why);
  if (r < 0) {
    r = berr_set(err, r, "%s:%d: %s", label, line, why.msg);
    goto out;
  }
  qsub_opts_merge(&o, pending);
  res_finish(&o.res);
  if (o.interactive || o.array_spec || o.block) {
    r = berr_set(err, -EINVAL,
                 "%s:%d: a schedule's job cannot be interactive (-I), an array (-J) "
                 "or blocking (-W block)",
                 label, line);
    goto out;
  }
  /* Where cron runs commands: the home directory, unless -d says. */
  const char *home = getenv("HOME");
  const char *cwd = o.workdir && o.workdir[0] == '/' ? o.workdir : home && *home ? home : "/";
  char *name = default_name(command);
  r = qsub_fill_job(&o, cwd, name, &j, &why);
  free(name);
  if (r < 0) {
    r = berr_set(err, -EINVAL, "%s:%d: %s", label, line, why.msg);
    goto out;
  }
  size_t have = job_env_count(j.env);
  j.env = xrealloc(j.env, (have + nenv + 1) * sizeof(char *));
  for (size_t i = 0; i < nenv; i++)
    j.env[have++] = xstrdup(env[i]);
  j.env[have] = NULL;
  j.script = xasprintf("#!/bin/sh\n%s\n", command);
  j.script_len = strlen(j.script);
  size_t mark = pb_nest_begin(b, T_CRON);
  pb_i64(b, C_LINE, line);
  pb_str(b, C_SPEC, spec);
  pb_str(b, C_COMMAND, command);
  size_t jmark = pb_nest_begin(b, T_JOB);
  job_rec_encode(b, &j);
  pb_nest_end(b, jmark);
  pb_nest_end(b, mark);
out:
  job_rec_free(&j);
  qsub_opts_free(&o);
  return r;
}

int
crontab_encode(struct cli_ctx *ctx, const char *text, const char *label, struct pbuf *b,
               int *ret_entries, struct berr *err) {
  struct qsub_opts pending;
  qsub_opts_init(&pending);
  pending.respol = cfg_res_policy(&ctx->cfg);
  pending.now = (int64_t)time(NULL);
  char **env = NULL;
  size_t nenv = 0;
  /* What is kept: the text as written, less boxq's own status lines. */
  char *kept = NULL;
  size_t kept_len = 0;
  FILE *keep = open_memstream(&kept, &kept_len);
  int r = keep ? 0 : -ENOMEM, entries = 0, lineno = 0;
  const char *p = text;
  while (r == 0 && *p) {
    lineno++;
    size_t len = strcspn(p, "\n");
    _cleanup_free_ char *line = xstrndup(p, len);
    p += len + (p[len] == '\n');
    if (strncmp(line, "#|", 2) == 0)
      continue;
    fprintf(keep, "%s\n", line);
    if (len && line[len - 1] == '\r')
      line[--len] = '\0';
    char *s = line + strspn(line, " \t");
    if (!*s)
      continue;
    if (strncmp(s, "#PBS", 4) == 0 && (s[4] == ' ' || s[4] == '\t' || !s[4])) {
      char **words = NULL;
      int nwords = 0;
      struct berr why = {{0}};
      r = qsub_split_words(s + 4, &words, &nwords, &why);
      if (r == 0)
        r = qsub_parse_args(&pending, nwords, words, false, NULL, &why);
      for (int i = 0; i < nwords; i++)
        free(words[i]);
      free(words);
      if (r < 0)
        berr_set(err, r, "%s:%d: #PBS: %s", label, lineno, why.msg);
      continue;
    }
    if (*s == '#')
      continue;
    if (is_assignment(s)) {
      env = xrealloc(env, (nenv + 1) * sizeof(char *));
      env[nenv++] = assignment(s);
      continue;
    }
    int nw = cron_spec_words(s);
    if (nw == 0) {
      r = berr_set(err, -EINVAL,
                   "%s:%d: not a schedule (MIN HOUR DAY MONTH WEEKDAY command, or @daily "
                   "command), a #PBS line, NAME=value or a # comment",
                   label, lineno);
      break;
    }
    char *cmd = s;
    for (int w = 0; w < nw; w++) {
      cmd += strspn(cmd, " \t");
      cmd += strcspn(cmd, " \t");
    }
    _cleanup_free_ char *spec = xstrndup(s, (size_t)(cmd - s));
    cmd += strspn(cmd, " \t");
    if (!*cmd) {
      r = berr_set(err, -EINVAL, "%s:%d: the schedule '%s' has no command", label, lineno, spec);
      break;
    }
    r = encode_entry(ctx, label, lineno, spec, cmd, &pending, env, nenv, b, err);
    entries++;
    qsub_opts_free(&pending);
    qsub_opts_init(&pending);
    pending.respol = cfg_res_policy(&ctx->cfg);
    pending.now = (int64_t)time(NULL);
  }
  if (keep)
    fclose(keep);
  if (r == 0)
    pb_str(b, T_TEXT, entries || (kept && *kept) ? kept : "");
  free(kept);
  for (size_t i = 0; i < nenv; i++)
    free(env[i]);
  free(env);
  qsub_opts_free(&pending);
  *ret_entries = entries;
  return r;
}
