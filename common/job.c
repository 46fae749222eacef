/* SPDX-License-Identifier: MIT */
#include "job.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static const char *const end_names[END_MAX] = {
    [END_NONE] = "none",
    [END_COMPLETED] = "completed",
    [END_FAILED] = "failed",
    [END_TIMEOUT] = "timeout",
    [END_OOM] = "out-of-memory",
    [END_CANCELLED] = "cancelled",
    [END_LOST] = "lost",
    [END_LAUNCH] = "launch-failed",
    [END_DEPENDENCY] = "dependency-never-satisfied",
    [END_CPUTIME] = "cput-exceeded",
};

const char *
job_end_to_string(enum job_end e) {
  return (e >= 0 && e < END_MAX) ? end_names[e] : "unknown";
}

int
job_end_from_string(const char *s) {
  for (int i = 0; i < END_MAX; i++)
    if (streq(s, end_names[i]))
      return i;
  return -EINVAL;
}

bool
job_signal_allowed(int sig) {
  static const int allowed[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM,
                                SIGUSR1, SIGUSR2, SIGALRM, SIGKILL};
  for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
    if (allowed[i] == sig)
      return true;
  return false;
}

const char *
job_env_value(const struct job_rec *j, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; j->env && j->env[i]; i++)
    if (!strncmp(j->env[i], name, n) && j->env[i][n] == '=')
      return j->env[i] + n + 1;
  return NULL;
}

size_t
job_env_count(char *const *env) {
  size_t n = 0;
  while (env && env[n])
    n++;
  return n;
}

/* Per kind: what freeing a member takes. */
#define FREE_I64(p)
#define FREE_INT(p)
#define FREE_BOOL(p)
#define FREE_STATE(p)
#define FREE_STR(p)  free(*(p));
#define FREE_STRN(p) free(*(p));

void
job_rec_free(struct job_rec *j) {
#define FREE_FIELD_(member, kind, tag, column, wire, stored) FREE_##kind(&j->member)
  JOB_FIELDS(FREE_FIELD_)
  JOB_STAT_FIELDS(FREE_FIELD_)
#undef FREE_FIELD_
  for (size_t i = 0; j->env && j->env[i]; i++)
    free(j->env[i]);
  free(j->env);
  free(j->script);
  free(j->groups);
  *j = (struct job_rec){0};
}

/* Per kind and wire rule: how a member is sent. */
#define ENC_I64_ALWAYS(b, tag, v)   pb_i64(b, tag, v);
#define ENC_INT_ALWAYS(b, tag, v)   pb_i64(b, tag, v);
#define ENC_BOOL_ALWAYS(b, tag, v)  pb_i64(b, tag, v);
#define ENC_STATE_ALWAYS(b, tag, v) pb_i64(b, tag, v);
#define ENC_STR_ALWAYS(b, tag, v)   pb_str(b, tag, v);
#define ENC_STRN_ALWAYS(b, tag, v)  pb_str(b, tag, v);
#define ENC_I64_NONZERO(b, tag, v)                                                                 \
  if (v)                                                                                           \
    pb_i64(b, tag, v);
#define ENC_BOOL_NONZERO(b, tag, v)                                                                \
  if (v)                                                                                           \
    pb_i64(b, tag, 1);

void
job_usage_encode(struct pbuf *b, const struct job_usage *u) {
#define ENC_USAGE_(member, kind, tag) ENC_##kind##_ALWAYS(b, tag, u->member)
  JOB_USAGE_FIELDS(ENC_USAGE_)
#undef ENC_USAGE_
  pb_str(b, U_CG_BACKEND, u->cg_backend);
}

void
job_rec_encode(struct pbuf *b, const struct job_rec *j) {
#define ENC_FIELD_(member, kind, tag, column, wire, stored) ENC_##kind##_##wire(b, tag, j->member)
  JOB_FIELDS(ENC_FIELD_)
  JOB_STAT_FIELDS(ENC_FIELD_)
#undef ENC_FIELD_
  if (j->has_exit)
    pb_i64(b, J_EXIT_STATUS, j->exit_status);
  for (size_t i = 0; j->env && j->env[i]; i++)
    pb_str(b, J_ENV, j->env[i]);
  if (j->script)
    pb_bytes(b, J_SCRIPT, j->script, j->script_len);
  for (size_t i = 0; i < j->ngroups; i++)
    pb_i64(b, J_GROUPS, j->groups[i]);
  if (j->has_usage)
    job_usage_encode(b, &j->usage);
}

void
job_rec_encode_brief(struct pbuf *b, const struct job_rec *j) {
  pb_i64(b, J_ID, j->id);
  pb_str(b, J_OWNER, j->owner);
  pb_str(b, J_NAME, j->name);
  pb_str(b, J_QUEUE, j->queue);
  pb_str(b, J_SUBMIT_HOST, j->submit_host);
  pb_i64(b, J_STATE, j->state);
  pb_str(b, J_ARRAY_SPEC, j->array_spec);
  if (j->array_id)
    pb_i64(b, J_ARRAY_ID, j->array_id);
  if (j->array_index)
    pb_i64(b, J_ARRAY_INDEX, j->array_index);
  if (j->suspended_at)
    pb_i64(b, J_SUSPENDED_AT, j->suspended_at);
  if (j->has_usage)
    pb_i64(b, U_CPU_USEC, j->usage.cpu_usec);
}

/* Per kind: how a received field becomes a member (0, or -EBADMSG). */
static int
dec_I64(const struct pfield *f, int64_t *dst) {
  return pfield_i64(f, dst);
}

static int
dec_INT(const struct pfield *f, int *dst) {
  int64_t v;
  int r = pfield_i64(f, &v);
  if (r == 0)
    *dst = (int)v;
  return r;
}

#define dec_STATE dec_INT

static int
dec_BOOL(const struct pfield *f, bool *dst) {
  int64_t v;
  int r = pfield_i64(f, &v);
  if (r == 0)
    *dst = v != 0;
  return r;
}

static int
dec_STR(const struct pfield *f, char **dst) {
  const char *s = pfield_str(f);
  if (!s)
    return -EBADMSG;
  free(*dst);
  *dst = xstrdup(s);
  return 0;
}

#define dec_STRN dec_STR

void
job_usage_decode(const struct pmsg *m, struct job_usage *u) {
  size_t off = 0;
  struct pfield f;
  *u = (struct job_usage){.io_rbytes = -1,
                          .io_wbytes = -1,
                          .oom_events = -1,
                          .mem_max_events = -1,
                          .swap_peak = -1,
                          .ru_maxrss_kb = -1,
                          .final = true};
  while (pmsg_next(m, &off, &f)) {
    switch (f.tag) {
#define DEC_USAGE_(member, kind, tag)                                                              \
  case tag:                                                                                        \
    (void)dec_##kind(&f, &u->member);                                                              \
    break;
      JOB_USAGE_FIELDS(DEC_USAGE_)
#undef DEC_USAGE_
      case U_CG_BACKEND: {
        const char *s = pfield_str(&f);
        if (s)
          snprintf(u->cg_backend, sizeof(u->cg_backend), "%s", s);
        break;
      }
      default:
        break;
    }
  }
}

int
job_rec_decode(const struct pmsg *m, struct job_rec *j) {
  size_t off = 0, nenv = 0;
  struct pfield f;
  *j = (struct job_rec){0};
  while (pmsg_next(m, &off, &f)) {
    int64_t v = 0;
    int r = 0;
    switch (f.tag) {
#define DEC_FIELD_(member, kind, tag, column, wire, stored)                                        \
  case tag:                                                                                        \
    r = dec_##kind(&f, &j->member);                                                                \
    break;
      JOB_FIELDS(DEC_FIELD_)
      JOB_STAT_FIELDS(DEC_FIELD_)
#undef DEC_FIELD_
      case J_EXIT_STATUS:
        r = pfield_i64(&f, &j->exit_status);
        j->has_exit = r == 0;
        break;
      case J_ENV: {
        const char *s = pfield_str(&f);
        if (!s || !strchr(s, '=')) {
          r = -EBADMSG;
          break;
        }
        /* A frame can hold millions of tiny variables: refuse early, and
         * grow geometrically so decoding stays linear. */
        if (nenv >= JOB_ENV_MAX) {
          r = -E2BIG;
          break;
        }
        if ((nenv & (nenv + 1)) == 0 || nenv == 0) /* nenv+1 is a power of two */
          j->env = xrealloc(j->env, (2 * nenv + 2) * sizeof(char *));
        j->env[nenv++] = xstrdup(s);
        j->env[nenv] = NULL;
        break;
      }
      case J_SCRIPT:
        free(j->script);
        j->script = xmalloc(f.len + 1);
        memcpy(j->script, f.data, f.len);
        j->script[f.len] = '\0';
        j->script_len = f.len;
        break;
      case J_GROUPS:
        r = pfield_i64(&f, &v);
        if (r == 0 && j->ngroups < JOB_GROUPS_MAX) {
          j->groups = xrealloc(j->groups, (j->ngroups + 1) * sizeof(int64_t));
          j->groups[j->ngroups++] = v;
        }
        break;
      case U_CPU_USEC:
        j->has_usage = true;
        break;
      default:
        break;
    }
    if (r < 0) {
      job_rec_free(j);
      return r;
    }
  }
  if (j->has_usage)
    job_usage_decode(m, &j->usage);
  return 0;
}

/* NAME.oID, or NAME.oARRAY.INDEX for a task (as PBS Pro names them). */
static char *
default_name(const struct job_rec *j, char kind) {
  const char *name = j->name ? j->name : "job";
  if (j->array_id)
    return xasprintf("%s.%c%lld.%lld", name, kind, (long long)j->array_id,
                     (long long)j->array_index);
  return xasprintf("%s.%c%lld", name, kind, (long long)j->id);
}

/* The names a given output path may use, as PBS Pro (^array_index^),
 * Torque's users (their shell's variables, which qsub passes unexpanded
 * when quoted) and Grid Engine's ($JOB_ID, $TASK_ID, $JOB_NAME) write
 * them. */
static char *
token_value(const struct job_rec *j, const char *server, const char *name) {
  if (!strcmp(name, "^array_index^") || !strcmp(name, "PBS_ARRAYID") ||
      !strcmp(name, "PBS_ARRAY_INDEX"))
    return xasprintf("%lld", (long long)(j->array_id ? j->array_index : 0));
  if (!strcmp(name, "PBS_JOBID"))
    return job_display_id(j, server ? server : "");
  if (!strcmp(name, "PBS_JOBNAME") || !strcmp(name, "JOB_NAME"))
    return xstrdup(j->name ? j->name : "");
  /* Grid Engine's: the number alone; an array's task, the array's. */
  if (!strcmp(name, "JOB_ID"))
    return xasprintf("%lld", (long long)(j->array_id ? j->array_id : j->id));
  if (!strcmp(name, "TASK_ID")) /* an array itself has none: kept for its tasks */
    return j->array_id     ? xasprintf("%lld", (long long)j->array_index)
           : j->array_spec ? NULL
                           : xstrdup("undefined");
  return NULL;
}

/* Replaces ^array_index^, $NAME and ${NAME} for the names token_value
 * knows; anything else is kept as written. */
static char *
expand_tokens(const struct job_rec *j, const char *server, const char *path) {
  size_t cap = strlen(path) + 1, n = 0;
  char *out = xmalloc(cap);
  for (const char *p = path; *p;) {
    char name[32] = "";
    size_t used = 0;
    if (!strncmp(p, "^array_index^", 13)) {
      snprintf(name, sizeof(name), "^array_index^");
      used = 13;
    } else if (p[0] == '$') {
      bool braced = p[1] == '{';
      const char *q = p + 1 + braced;
      size_t len = strspn(q, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
      if (len && len < sizeof(name) && (!braced || q[len] == '}')) {
        snprintf(name, sizeof(name), "%.*s", (int)len, q);
        used = 1 + braced + len + braced;
      }
    }
    _cleanup_free_ char *value = used ? token_value(j, server, name) : NULL;
    const char *add = value ? value : p;
    size_t alen = value ? strlen(value) : 1;
    if (n + alen + 1 > cap) {
      cap = (n + alen + 1) * 2;
      out = xrealloc(out, cap);
    }
    memcpy(out + n, add, alen);
    n += alen;
    p += value ? used : 1;
  }
  out[n] = '\0';
  return out;
}

/* Slurm's file name patterns: %j (the job's id; a task's own), %x (its
 * name), %A and %a (the array's id, the task's index), %u (the user), %N
 * (the host), %%; a width (%4a) pads with zeros. An array itself, as
 * Slurm shows it, has no task: %a is Slurm's NO_VAL, 4294967294. */
static char *
expand_slurm(const struct job_rec *j, const char *path) {
  size_t cap = strlen(path) + 64, n = 0;
  char *out = xmalloc(cap);
  for (const char *p = path; *p; p++) {
    char value[512] = "";
    const char *q = p + 1;
    int width = 0;
    while (*p == '%' && *q >= '0' && *q <= '9' && width < 10)
      width = width * 10 + (*q++ - '0');
    if (*p != '%' || !*q || !strchr("jxAau%N", *q)) {
      value[0] = *p, value[1] = '\0';
    } else {
      long long num = -1;
      switch (*q) {
        case 'j':
          num = j->id;
          break;
        case 'A':
          num = j->array_id ? j->array_id : j->id;
          break;
        case 'a':
          num = j->array_id ? j->array_index : 4294967294LL; /* Slurm's NO_VAL for no task */
          break;
        case 'x':
          snprintf(value, sizeof(value), "%s", j->name ? j->name : "");
          break;
        case 'u':
          snprintf(value, sizeof(value), "%s", j->owner ? j->owner : "");
          break;
        case 'N':
          gethostname(value, sizeof(value) - 1);
          break;
        default:
          snprintf(value, sizeof(value), "%%");
      }
      if (num >= 0)
        snprintf(value, sizeof(value), "%0*lld", width, num);
      p = q;
    }
    size_t add = strlen(value);
    if (n + add + 1 > cap) {
      cap = (n + add + 1) * 2;
      out = xrealloc(out, cap);
    }
    memcpy(out + n, value, add);
    n += add;
  }
  out[n] = '\0';
  return out;
}

/* A given path ending in '/' names a directory for the default file name. */
static char *
output_path(const struct job_rec *j, const char *server, const char *given, char kind) {
  _cleanup_free_ char *name = default_name(j, kind);
  if (!given || !*given)
    return xasprintf("%s/%s", j->workdir ? j->workdir : "", name);
  size_t len = strlen(given);
  if (given[len - 1] == '/')
    return xasprintf("%s%s", given, name);
  if (j->dialect && !strcmp(j->dialect, "slurm"))
    return expand_slurm(j, given);
  return expand_tokens(j, server, given);
}

char *
job_out_path(const struct job_rec *j, const char *server) {
  return output_path(j, server, j->out_path, 'o');
}

char *
job_err_path(const struct job_rec *j, const char *server) {
  return output_path(j, server, j->err_path, 'e');
}

char *
job_id_string(int64_t id, const char *server) {
  return xasprintf("%lld.%s", (long long)id, server);
}

char *
job_display_id(const struct job_rec *j, const char *server) {
  if (j->array_id)
    return xasprintf("%lld[%lld].%s", (long long)j->array_id, (long long)j->array_index, server);
  if (j->array_spec)
    return xasprintf("%lld[].%s", (long long)j->id, server);
  return job_id_string(j->id, server);
}

int
job_name_check(const char *name, struct berr *err) {
  size_t len = name ? strlen(name) : 0;
  if (len == 0)
    return berr_set(err, -EINVAL, "job name is empty");
  if (len > 236)
    return berr_set(err, -EINVAL, "job name is longer than 236 characters");
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    if (*p <= ' ' || *p == 0x7f || *p == '/')
      return berr_set(err, -EINVAL, "job name '%s' contains a space, '/' or a control character",
                      name);
  return 0;
}

int
job_shell_status(const struct job_rec *j) {
  int64_t st = j->has_exit ? j->exit_status : -1;
  if (st >= 0 && st < 256)
    return (int)st;
  if (st > JOB_EXIT_SIGNAL_BASE && st < JOB_EXIT_SIGNAL_BASE + 128)
    return 128 + (int)(st - JOB_EXIT_SIGNAL_BASE);
  return 1;
}
