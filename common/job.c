/* SPDX-License-Identifier: MIT */
#include "job.h"

#include <signal.h>
#include <string.h>

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

size_t
job_env_count(char *const *env) {
  size_t n = 0;
  while (env && env[n])
    n++;
  return n;
}

void
job_rec_free(struct job_rec *j) {
  free(j->owner);
  free(j->name);
  free(j->queue);
  free(j->submit_host);
  free(j->workdir);
  free(j->out_path);
  free(j->err_path);
  free(j->comment);
  free(j->exec_host);
  free(j->cgroup);
  free(j->hold_types);
  free(j->net);
  free(j->cpus);
  free(j->array_spec);
  free(j->depend);
  free(j->sched_info);
  free(j->array_counts);
  for (size_t i = 0; j->env && j->env[i]; i++)
    free(j->env[i]);
  free(j->env);
  free(j->script);
  free(j->groups);
  *j = (struct job_rec){0};
}

void
job_usage_encode(struct pbuf *b, const struct job_usage *u) {
  pb_i64(b, U_CPU_USEC, u->cpu_usec);
  pb_i64(b, U_USER_USEC, u->user_usec);
  pb_i64(b, U_SYS_USEC, u->sys_usec);
  pb_i64(b, U_MEM_PEAK, u->mem_peak);
  pb_i64(b, U_MEM_PEAK_SRC, u->mem_peak_src);
  pb_i64(b, U_OOM_KILLS, u->oom_kills);
  pb_i64(b, U_NR_THROTTLED, u->nr_throttled);
  pb_i64(b, U_THROTTLED_USEC, u->throttled_usec);
  pb_i64(b, U_PIDS_PEAK, u->pids_peak);
  pb_i64(b, U_IO_RBYTES, u->io_rbytes);
  pb_i64(b, U_IO_WBYTES, u->io_wbytes);
  pb_i64(b, U_WALL_USEC, u->wall_usec);
  pb_i64(b, U_OOM_EVENTS, u->oom_events);
  pb_i64(b, U_MEM_MAX_EVENTS, u->mem_max_events);
  pb_i64(b, U_SWAP_PEAK, u->swap_peak);
  pb_i64(b, U_FINAL, u->final);
  pb_i64(b, U_RU_UTIME_USEC, u->ru_utime_usec);
  pb_i64(b, U_RU_STIME_USEC, u->ru_stime_usec);
  pb_i64(b, U_RU_MAXRSS_KB, u->ru_maxrss_kb);
  pb_str(b, U_CG_BACKEND, u->cg_backend);
}

void
job_rec_encode(struct pbuf *b, const struct job_rec *j) {
  pb_i64(b, J_ID, j->id);
  pb_i64(b, J_UID, j->uid);
  pb_i64(b, J_GID, j->gid);
  pb_str(b, J_OWNER, j->owner);
  pb_str(b, J_NAME, j->name);
  pb_str(b, J_QUEUE, j->queue);
  pb_str(b, J_SUBMIT_HOST, j->submit_host);
  pb_i64(b, J_STATE, j->state);
  pb_i64(b, J_END_REASON, j->end_reason);
  pb_i64(b, J_PRIORITY, j->priority);
  pb_str(b, J_WORKDIR, j->workdir);
  pb_str(b, J_OUT_PATH, j->out_path);
  pb_str(b, J_ERR_PATH, j->err_path);
  pb_i64(b, J_JOIN, j->join);
  pb_i64(b, J_NCPUS, j->ncpus);
  pb_i64(b, J_MEM, j->mem);
  pb_i64(b, J_WALLTIME, j->walltime);
  pb_i64(b, J_PIDS, j->pids);
  pb_i64(b, J_RERUNNABLE, j->rerunnable);
  pb_i64(b, J_RUN_COUNT, j->run_count);
  pb_str(b, J_NET, j->net);
  pb_str(b, J_CPUS, j->cpus);
  pb_str(b, J_ARRAY_SPEC, j->array_spec);
  pb_str(b, J_DEPEND, j->depend);
  pb_str(b, J_SCHED_INFO, j->sched_info);
  pb_str(b, J_ARRAY_COUNTS, j->array_counts);
  if (j->array_id) {
    pb_i64(b, J_ARRAY_ID, j->array_id);
    pb_i64(b, J_ARRAY_INDEX, j->array_index);
  }
  if (j->array_limit)
    pb_i64(b, J_ARRAY_LIMIT, j->array_limit);
  if (j->exec_time)
    pb_i64(b, J_EXEC_TIME, j->exec_time);
  if (j->pruned)
    pb_i64(b, J_PRUNED, 1);
  pb_i64(b, J_CTIME, j->ctime);
  pb_i64(b, J_QTIME, j->qtime);
  pb_i64(b, J_STIME, j->stime);
  pb_i64(b, J_ETIME, j->etime);
  pb_i64(b, J_MTIME, j->mtime);
  if (j->has_exit)
    pb_i64(b, J_EXIT_STATUS, j->exit_status);
  pb_str(b, J_COMMENT, j->comment);
  pb_str(b, J_EXEC_HOST, j->exec_host);
  pb_str(b, J_CGROUP, j->cgroup);
  pb_str(b, J_HOLD_TYPES, j->hold_types);
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
job_usage_decode(const struct pmsg *m, struct job_usage *u) {
  size_t off = 0;
  struct pfield f;
  *u = (struct job_usage){.io_rbytes = -1,
                          .io_wbytes = -1,
                          .oom_events = -1,
                          .mem_max_events = -1,
                          .swap_peak = -1,
                          .final = true};
  while (pmsg_next(m, &off, &f)) {
    int64_t v = 0;
    if (f.tag == U_CG_BACKEND) {
      const char *s = pfield_str(&f);
      if (s)
        snprintf(u->cg_backend, sizeof(u->cg_backend), "%s", s);
      continue;
    }
    if (pfield_i64(&f, &v) < 0)
      continue;
    switch (f.tag) {
      case U_CPU_USEC:
        u->cpu_usec = v;
        break;
      case U_USER_USEC:
        u->user_usec = v;
        break;
      case U_SYS_USEC:
        u->sys_usec = v;
        break;
      case U_MEM_PEAK:
        u->mem_peak = v;
        break;
      case U_MEM_PEAK_SRC:
        u->mem_peak_src = v;
        break;
      case U_OOM_KILLS:
        u->oom_kills = v;
        break;
      case U_NR_THROTTLED:
        u->nr_throttled = v;
        break;
      case U_THROTTLED_USEC:
        u->throttled_usec = v;
        break;
      case U_PIDS_PEAK:
        u->pids_peak = v;
        break;
      case U_IO_RBYTES:
        u->io_rbytes = v;
        break;
      case U_IO_WBYTES:
        u->io_wbytes = v;
        break;
      case U_WALL_USEC:
        u->wall_usec = v;
        break;
      case U_OOM_EVENTS:
        u->oom_events = v;
        break;
      case U_MEM_MAX_EVENTS:
        u->mem_max_events = v;
        break;
      case U_SWAP_PEAK:
        u->swap_peak = v;
        break;
      case U_FINAL:
        u->final = v != 0;
        break;
      case U_RU_UTIME_USEC:
        u->ru_utime_usec = v;
        break;
      case U_RU_STIME_USEC:
        u->ru_stime_usec = v;
        break;
      case U_RU_MAXRSS_KB:
        u->ru_maxrss_kb = v;
        break;
      default:
        break;
    }
  }
}

static int
take_str(const struct pfield *f, char **dst) {
  const char *s = pfield_str(f);
  if (!s)
    return -EBADMSG;
  free(*dst);
  *dst = xstrdup(s);
  return 0;
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
      case J_OWNER:
        r = take_str(&f, &j->owner);
        break;
      case J_NAME:
        r = take_str(&f, &j->name);
        break;
      case J_QUEUE:
        r = take_str(&f, &j->queue);
        break;
      case J_SUBMIT_HOST:
        r = take_str(&f, &j->submit_host);
        break;
      case J_WORKDIR:
        r = take_str(&f, &j->workdir);
        break;
      case J_OUT_PATH:
        r = take_str(&f, &j->out_path);
        break;
      case J_ERR_PATH:
        r = take_str(&f, &j->err_path);
        break;
      case J_COMMENT:
        r = take_str(&f, &j->comment);
        break;
      case J_EXEC_HOST:
        r = take_str(&f, &j->exec_host);
        break;
      case J_CGROUP:
        r = take_str(&f, &j->cgroup);
        break;
      case J_HOLD_TYPES:
        r = take_str(&f, &j->hold_types);
        break;
      case J_NET:
        r = take_str(&f, &j->net);
        break;
      case J_CPUS:
        r = take_str(&f, &j->cpus);
        break;
      case J_ARRAY_SPEC:
        r = take_str(&f, &j->array_spec);
        break;
      case J_DEPEND:
        r = take_str(&f, &j->depend);
        break;
      case J_SCHED_INFO:
        r = take_str(&f, &j->sched_info);
        break;
      case J_ARRAY_COUNTS:
        r = take_str(&f, &j->array_counts);
        break;
      case J_ARRAY_ID:
        r = pfield_i64(&f, &j->array_id);
        break;
      case J_ARRAY_INDEX:
        r = pfield_i64(&f, &j->array_index);
        break;
      case J_ARRAY_LIMIT:
        r = pfield_i64(&f, &j->array_limit);
        break;
      case J_EXEC_TIME:
        r = pfield_i64(&f, &j->exec_time);
        break;
      case J_PRUNED:
        r = pfield_i64(&f, &v);
        j->pruned = v != 0;
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
      case U_CPU_USEC:
        j->has_usage = true;
        break;
      default:
        if (f.tag >= J_ID && f.tag <= J_RUN_COUNT) {
          r = pfield_i64(&f, &v);
          if (r < 0)
            break;
          switch (f.tag) {
            case J_ID:
              j->id = v;
              break;
            case J_UID:
              j->uid = v;
              break;
            case J_GID:
              j->gid = v;
              break;
            case J_STATE:
              j->state = (int)v;
              break;
            case J_END_REASON:
              j->end_reason = (int)v;
              break;
            case J_PRIORITY:
              j->priority = v;
              break;
            case J_JOIN:
              j->join = (int)v;
              break;
            case J_NCPUS:
              j->ncpus = v;
              break;
            case J_MEM:
              j->mem = v;
              break;
            case J_WALLTIME:
              j->walltime = v;
              break;
            case J_PIDS:
              j->pids = v;
              break;
            case J_RERUNNABLE:
              j->rerunnable = v != 0;
              break;
            case J_RUN_COUNT:
              j->run_count = v;
              break;
            case J_CTIME:
              j->ctime = v;
              break;
            case J_QTIME:
              j->qtime = v;
              break;
            case J_STIME:
              j->stime = v;
              break;
            case J_ETIME:
              j->etime = v;
              break;
            case J_MTIME:
              j->mtime = v;
              break;
            case J_EXIT_STATUS:
              j->exit_status = v;
              j->has_exit = true;
              break;
            case J_GROUPS:
              if (j->ngroups < 65536) {
                j->groups = xrealloc(j->groups, (j->ngroups + 1) * sizeof(int64_t));
                j->groups[j->ngroups++] = v;
              }
              break;
            default:
              break;
          }
        }
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

/* Replaces every ^array_index^ in path with the task's index. */
static char *
expand_array_index(const struct job_rec *j, const char *path) {
  static const char token[] = "^array_index^";
  const char *hit = strstr(path, token);
  if (!hit)
    return xstrdup(path);
  char idx[24];
  snprintf(idx, sizeof(idx), "%lld", (long long)(j->array_id ? j->array_index : 0));
  _cleanup_free_ char *rest = expand_array_index(j, hit + sizeof(token) - 1);
  return xasprintf("%.*s%s%s", (int)(hit - path), path, idx, rest);
}

/* A given path ending in '/' names a directory for the default file name. */
static char *
output_path(const struct job_rec *j, const char *given, char kind) {
  _cleanup_free_ char *name = default_name(j, kind);
  if (!given || !*given)
    return xasprintf("%s/%s", j->workdir ? j->workdir : "", name);
  size_t len = strlen(given);
  if (given[len - 1] == '/')
    return xasprintf("%s%s", given, name);
  return expand_array_index(j, given);
}

char *
job_out_path(const struct job_rec *j) {
  return output_path(j, j->out_path, 'o');
}

char *
job_err_path(const struct job_rec *j) {
  return output_path(j, j->err_path, 'e');
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
