/* SPDX-License-Identifier: MIT */
/* drmaa_run_job, drmaa_run_bulk_jobs: a template becomes the job qsub
 * would submit (the native specification is qsub's options, read by
 * qsub's parser), whose script execs the remote command with its
 * arguments. Paths take the standard's placeholders; a directory as the
 * output or error path gets the default file name inside it. */
#include "internal.h"
#include "qsub_interactive.h"
#include "qsub_opts.h"
#include "qsub_sge.h"

#include <ctype.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *
home_dir(void) {
  const char *h = getenv("HOME");
  return h && *h == '/' ? h : "/";
}

/* Replaces every occurrence of ph in s with with (s is freed). */
static char *
replace_all(char *s, const char *ph, const char *with) {
  char *at;
  while ((at = strstr(s, ph))) {
    char *n = xasprintf("%.*s%s%s", (int)(at - s), s, with, at + strlen(ph));
    free(s);
    s = n;
  }
  return s;
}

/* A path attribute: "[host]:path", placeholders replaced, relative to
 * the working directory; a directory stays one (a trailing '/'). */
static char *
path_attr(const char *value, const char *wd, bool bulk) {
  const char *colon = strchr(value, ':');
  char *p = xstrdup(colon ? colon + 1 : value);
  p = replace_all(p, DRMAA_PLACEHOLDER_HD, home_dir());
  p = replace_all(p, DRMAA_PLACEHOLDER_WD, wd);
  p = replace_all(p, DRMAA_PLACEHOLDER_INCR, bulk ? "^array_index^" : "");
  if (p[0] != '/') {
    char *a = xasprintf("%s/%s", wd, p);
    free(p);
    p = a;
  }
  struct stat st;
  size_t len = strlen(p);
  if (len && p[len - 1] != '/' && stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
    char *d = xasprintf("%s/", p);
    free(p);
    p = d;
  }
  return p;
}

/* DRMAA's partial time stamp: [[[[CC]YY/]MM/]DD] hh:mm[:ss] [{-|+}UU:uu].
 * Parts left out are today's (tomorrow's, if the time has passed). */
static int
parse_start_time(const char *s, int64_t *ret) {
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  tm.tm_sec = 0;
  int date[3], nd = 0, h, m, sec = 0, zh = 0, zm = 0;
  char zsign = 0;
  const char *p = s;
  while (*p == ' ')
    p++;
  /* The date part, if any: numbers separated by '/', ended by a blank. */
  const char *blank = strchr(p, ' ');
  if (blank && !memchr(p, ':', (size_t)(blank - p))) {
    char *end;
    for (;;) {
      if (nd == 3)
        return -EINVAL;
      date[nd++] = (int)strtol(p, &end, 10);
      if (end == p)
        return -EINVAL;
      p = end;
      if (*p != '/')
        break;
      p++;
    }
    while (*p == ' ')
      p++;
  }
  int n = 0;
  if (sscanf(p, "%2d:%2d%n", &h, &m, &n) != 2)
    return -EINVAL;
  p += n;
  if (*p == ':' && sscanf(p, ":%2d%n", &sec, &n) == 1)
    p += n;
  while (*p == ' ')
    p++;
  if (*p == '+' || *p == '-') {
    zsign = *p++;
    if (sscanf(p, "%2d:%2d%n", &zh, &zm, &n) != 2)
      return -EINVAL;
    p += n;
  }
  if (*p || h > 23 || m > 59 || sec > 59)
    return -EINVAL;
  if (nd >= 1)
    tm.tm_mday = date[nd - 1];
  if (nd >= 2)
    tm.tm_mon = date[nd - 2] - 1;
  if (nd == 3)
    tm.tm_year = (date[0] < 100 ? date[0] + 2000 : date[0]) - 1900;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  tm.tm_isdst = -1;
  int64_t t;
  if (zsign) {
    tm.tm_isdst = 0;
    t = (int64_t)timegm(&tm) - (zsign == '-' ? -1 : 1) * (zh * 3600 + zm * 60);
  } else
    t = (int64_t)mktime(&tm);
  if (nd == 0 && t <= (int64_t)now)
    t += 86400;
  *ret = t;
  return 0;
}

static bool
yes(const char *v) {
  return v && (!strcmp(v, "y") || !strcmp(v, "1"));
}

/* The job of template jt (bulk: an array's, whose paths may name the
 * task). DRMAA errors with the diagnosis. */
static int
build_job(const drmaa_job_template_t *jt, const char *array_spec, struct job_rec *j, char *diag,
          size_t len) {
  const char *const *a = (const char *const *)jt->scalar;
  const char *cmd = a[DA_REMOTE_COMMAND];
  if (!cmd || !*cmd)
    return derr(diag, len, DRMAA_ERRNO_DENIED_BY_DRM, DRMAA_REMOTE_COMMAND " is not set");
  struct qsub_opts o;
  qsub_opts_init(&o);
  o.now = (int64_t)time(NULL);
  o.respol = cfg_res_policy(&dsess.ctx.cfg);
  struct berr err = {{0}};
  char *wd = NULL, *script = NULL, *name = NULL, *copy = NULL, *input = NULL;
  int r = DRMAA_ERRNO_SUCCESS;
  if (a[DA_NATIVE_SPECIFICATION]) {
    char **words = NULL;
    int nwords = 0;
    int k = qsub_split_words(a[DA_NATIVE_SPECIFICATION], &words, &nwords, &err);
    /* Grid Engine's options under its dialect, as its DRMAA library reads them. */
    bool sge = dsess.ctx.dialect == DIALECT_SGE;
    if (k == 0)
      k = (sge ? qsub_sge_parse_args : qsub_parse_args)(&o, nwords, words, false, NULL, &err);
    if (k == 0 && sge)
      k = qsub_sge_finish(&o, &err);
    if (k == 0 && (o.hold_jid || o.hold_jid_ad))
      k = qsub_sge_holds(&dsess.ctx, &o, &err);
    for (int i = 0; i < nwords; i++)
      free(words[i]);
    free(words);
    if (k < 0) {
      r = derr(diag, len, DRMAA_ERRNO_INVALID_ATTRIBUTE_VALUE,
               DRMAA_NATIVE_SPECIFICATION " (qsub's options): %s", err.msg);
      goto out;
    }
  }
  res_finish(&o.res);
  if (o.interactive || o.array_spec || o.block) {
    r = derr(diag, len, DRMAA_ERRNO_INVALID_ATTRIBUTE_VALUE,
             DRMAA_NATIVE_SPECIFICATION ": -I, -J and -W block are not for DRMAA jobs "
                                        "(drmaa_run_bulk_jobs makes arrays)");
    goto out;
  }
  if (array_spec)
    o.array_spec = xstrdup(array_spec);
  if (a[DA_JOB_CATEGORY] && *a[DA_JOB_CATEGORY] && !o.queue)
    o.queue = xstrdup(a[DA_JOB_CATEGORY]); /* a category is a queue (or queue_aliases' name) */
  if (a[DA_JS_STATE] && !strcmp(a[DA_JS_STATE], DRMAA_SUBMISSION_STATE_HOLD))
    o.hold = true;
  if (yes(a[DA_JOIN_FILES]))
    o.join = JOIN_OE;
  if (yes(a[DA_BLOCK_EMAIL])) {
    free(o.mail_points);
    o.mail_points = xstrdup("n");
  }
  if (jt->vector[DV_EMAIL] && jt->vector[DV_EMAIL][0]) {
    char *list = xstrdup(jt->vector[DV_EMAIL][0]);
    for (size_t i = 1; jt->vector[DV_EMAIL][i]; i++) {
      char *l = xasprintf("%s,%s", list, jt->vector[DV_EMAIL][i]);
      free(list);
      list = l;
    }
    free(o.mail_users);
    o.mail_users = list;
  }
  if (a[DA_WCT_HLIMIT])
    res_parse_duration(a[DA_WCT_HLIMIT], &o.res.walltime, &err); /* checked when set */
  if (a[DA_DURATION_HLIMIT])
    res_parse_duration(a[DA_DURATION_HLIMIT], &o.res.cput, &err);
  if (a[DA_START_TIME] && parse_start_time(a[DA_START_TIME], &o.exec_time) < 0) {
    r = derr(diag, len, DRMAA_ERRNO_INVALID_ATTRIBUTE_FORMAT,
             DRMAA_START_TIME " '%s': [[[[CC]YY/]MM/]DD] hh:mm[:ss] [{-|+}UU:uu]",
             a[DA_START_TIME]);
    goto out;
  }
  /* The working directory: the home directory unless drmaa_wd says. */
  wd = xstrdup(a[DA_WD] && *a[DA_WD] ? a[DA_WD] : home_dir());
  if (strstr(wd, DRMAA_PLACEHOLDER_INCR)) {
    r = derr(diag, len, DRMAA_ERRNO_INVALID_ATTRIBUTE_VALUE,
             DRMAA_WD " cannot name the task (" DRMAA_PLACEHOLDER_INCR "): one directory per job");
    goto out;
  }
  wd = replace_all(wd, DRMAA_PLACEHOLDER_HD, home_dir());
  if (wd[0] != '/') {
    char *abs = xasprintf("%s/%s", home_dir(), wd);
    free(wd);
    wd = abs;
  }
  free(o.workdir);
  o.workdir = xstrdup(wd);
  if (a[DA_JOB_NAME] && *a[DA_JOB_NAME]) {
    /* PBS names: no blanks or '/'; DRMAA's may have them. */
    name = xstrndup(a[DA_JOB_NAME], 236);
    for (char *c = name; *c; c++)
      if (isspace((unsigned char)*c) || *c == '/' || !isprint((unsigned char)*c))
        *c = '_';
    free(o.name);
    o.name = xstrdup(name);
  }
  copy = xstrdup(cmd);
  if (qsub_fill_job(&o, wd, basename(copy), j, &err) < 0) {
    r = derr(diag, len, DRMAA_ERRNO_INVALID_ATTRIBUTE_VALUE, "%s", err.msg);
    goto out;
  }
  bool bulk = array_spec != NULL;
  if (a[DA_OUTPUT_PATH]) {
    free(j->out_path);
    j->out_path = path_attr(a[DA_OUTPUT_PATH], wd, bulk);
  }
  if (a[DA_ERROR_PATH]) {
    free(j->err_path);
    j->err_path = path_attr(a[DA_ERROR_PATH], wd, bulk);
  }
  input = a[DA_INPUT_PATH] ? path_attr(a[DA_INPUT_PATH], wd, bulk) : NULL;
  if (input && strstr(input, "^array_index^")) {
    r = derr(diag, len, DRMAA_ERRNO_INVALID_ATTRIBUTE_VALUE,
             DRMAA_INPUT_PATH " cannot name the task: one input per job");
    goto out;
  }
  size_t nargs = 0;
  while (jt->vector[DV_ARGV] && jt->vector[DV_ARGV][nargs])
    nargs++;
  char **argv = xcalloc(nargs + 2, sizeof(char *));
  argv[0] = (char *)cmd;
  for (size_t i = 0; i < nargs; i++)
    argv[i + 1] = jt->vector[DV_ARGV][i];
  script = qsub_command_script_in(argv, (int)nargs + 1, input);
  free(argv);
  j->script = script;
  j->script_len = strlen(script);
  script = NULL;
  size_t have = job_env_count(j->env), add = 0;
  while (jt->vector[DV_ENV] && jt->vector[DV_ENV][add])
    add++;
  j->env = xrealloc(j->env, (have + add + 1) * sizeof(char *));
  for (size_t i = 0; i < add; i++)
    j->env[have + i] = xstrdup(jt->vector[DV_ENV][i]);
  j->env[have + add] = NULL;
out:
  free(wd);
  free(name);
  free(copy);
  free(input);
  free(script);
  qsub_opts_free(&o);
  return r;
}

/* Submits job j: its id (and, for an array, its T_JOBREF) from boxqd. */
static int
submit(struct job_rec *j, int64_t *id, char *diag, size_t len) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_SUBMIT);
  size_t mark = pb_nest_begin(&b, T_JOB);
  job_rec_encode(&b, j);
  pb_nest_end(&b, mark);
  pb_end(&b);
  struct pmsg reply;
  int64_t status;
  int r = dsession_call(&b, &reply, &status, diag, len);
  if (r)
    return r;
  if (status < 0) {
    const char *msg = pmsg_str(&reply, T_MESSAGE);
    int code = status == -EAGAIN || status == -ENOSPC || status == -EBUSY
                   ? DRMAA_ERRNO_TRY_LATER
                   : DRMAA_ERRNO_DENIED_BY_DRM;
    return derr(diag, len, code, "%s", msg ? msg : strerror((int)-status));
  }
  if (pmsg_i64(&reply, T_JOBID, id) < 0)
    return derr(diag, len, DRMAA_ERRNO_INTERNAL_ERROR, "boxqd returned no job id");
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_run_job(char *job_id, size_t job_id_len, const drmaa_job_template_t *jt,
              char *error_diagnosis, size_t error_diag_len) {
  if (!jt)
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT, "jt is NULL");
  pthread_mutex_lock(&dsess.lock);
  int r = dsession_check(error_diagnosis, error_diag_len);
  struct job_rec j = {0};
  int64_t id = 0;
  if (r == 0)
    r = build_job(jt, NULL, &j, error_diagnosis, error_diag_len);
  if (r == 0)
    r = submit(&j, &id, error_diagnosis, error_diag_len);
  if (r == 0) {
    char s[32];
    snprintf(s, sizeof(s), "%lld", (long long)id);
    dlist_add(&dsess.jobs, s);
    if (job_id && job_id_len)
      snprintf(job_id, job_id_len, "%s", s);
  }
  job_rec_free(&j);
  pthread_mutex_unlock(&dsess.lock);
  return r;
}

int
drmaa_run_bulk_jobs(drmaa_job_ids_t **jobids, const drmaa_job_template_t *jt, unsigned start,
                    unsigned end, int incr, char *error_diagnosis, size_t error_diag_len) {
  if (!jt || !jobids)
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT,
                "no template or no result");
  if (start < 1 || end < start || incr < 1 || end > (unsigned)INT32_MAX)
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT,
                "bulk jobs %u-%u:%d: 1 <= start <= end, incr >= 1", start, end, incr);
  pthread_mutex_lock(&dsess.lock);
  int r = dsession_check(error_diagnosis, error_diag_len);
  struct job_rec j = {0};
  int64_t id = 0;
  char spec[64];
  snprintf(spec, sizeof(spec), "%u-%u:%d", start, end, incr);
  if (r == 0)
    r = build_job(jt, spec, &j, error_diagnosis, error_diag_len);
  if (r == 0)
    r = submit(&j, &id, error_diagnosis, error_diag_len);
  if (r == 0) {
    *jobids = xcalloc(1, sizeof(**jobids));
    for (int64_t i = start; i <= (int64_t)end; i += incr) {
      char s[48];
      snprintf(s, sizeof(s), "%lld[%lld]", (long long)id, (long long)i);
      dlist_add(&(*jobids)->l, s);
      dlist_add(&dsess.jobs, s);
    }
  }
  job_rec_free(&j);
  pthread_mutex_unlock(&dsess.lock);
  return r;
}
