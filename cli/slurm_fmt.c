/* SPDX-License-Identifier: MIT */
/* The words and forms Slurm's commands share (slurm_out.h). */
#include "slurm_out.h"

#include "jobref.h"

#include <string.h>
#include <strings.h>
#include <time.h>

void
slurm_job_id(const struct job_rec *j, char *buf, size_t len) {
  if (j->array_id)
    snprintf(buf, len, "%lld_%lld", (long long)j->array_id, (long long)j->array_index);
  else
    snprintf(buf, len, "%lld", (long long)j->id);
}

const char *
slurm_state(const struct job_rec *j, bool compact) {
  switch (j->state) {
    case JOB_RUNNING:
    case 'B':
      return j->suspended_at ? (compact ? "S" : "SUSPENDED") : (compact ? "R" : "RUNNING");
    case JOB_EXITING:
      return compact ? "CG" : "COMPLETING";
    case JOB_FINISHED:
      break;
    default:
      return compact ? "PD" : "PENDING";
  }
  switch (j->end_reason) {
    case END_COMPLETED:
      return compact ? "CD" : "COMPLETED";
    case END_TIMEOUT:
    case END_CPUTIME:
      return compact ? "TO" : "TIMEOUT";
    case END_OOM:
      return compact ? "OOM" : "OUT_OF_MEMORY";
    case END_CANCELLED:
    case END_DEPENDENCY:
      return compact ? "CA" : "CANCELLED";
    case END_LOST:
      return compact ? "NF" : "NODE_FAIL";
    default:
      return compact ? "F" : "FAILED";
  }
}

bool
slurm_state_is(const struct job_rec *j, const char *name) {
  return !strcasecmp(name, slurm_state(j, false)) || !strcasecmp(name, slurm_state(j, true)) ||
         (!strcasecmp(name, "all"));
}

bool
slurm_listed(const char *list, const char *s) {
  return !list || (s && name_in_list(list, s));
}

bool
slurm_states_match(const char *list, const struct job_rec *j) {
  _cleanup_free_ char *copy = xstrdup(list);
  char *save = NULL;
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
    if (slurm_state_is(j, w))
      return true;
  return false;
}

const char *
slurm_reason(const struct job_rec *j) {
  if (j->state == JOB_HELD)
    return j->hold_types && strchr(j->hold_types, 's') && !strchr(j->hold_types, 'u')
               ? "Dependency"
               : "JobHeldUser";
  if (j->state == JOB_WAITING)
    return "BeginTime";
  if (j->state == JOB_QUEUED)
    return "Priority";
  return "None";
}

void
slurm_exit_code(const struct job_rec *j, char *buf, size_t len) {
  int64_t code = 0, sig = 0;
  if (j->end_reason == END_OOM)
    sig = 125; /* Slurm's OUT_OF_MEMORY */
  else if (j->has_exit && j->exit_status >= JOB_EXIT_SIGNAL_BASE)
    sig = j->exit_status - JOB_EXIT_SIGNAL_BASE;
  else if (j->has_exit && j->exit_status < 0)
    code = 1; /* never ran its script */
  else if (j->has_exit)
    code = j->exit_status;
  snprintf(buf, len, "%lld:%lld", (long long)code, (long long)sig);
}

void
slurm_secs(int64_t s, char *buf, size_t len) {
  long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
  if (s < 0)
    snprintf(buf, len, "INVALID");
  else if (d)
    snprintf(buf, len, "%lld-%02lld:%02lld:%02lld", d, h, m, sec);
  else if (h)
    snprintf(buf, len, "%lld:%02lld:%02lld", h, m, sec);
  else
    snprintf(buf, len, "%lld:%02lld", m, sec);
}

void
slurm_hms(int64_t s, char *buf, size_t len) {
  long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
  if (d)
    snprintf(buf, len, "%lld-%02lld:%02lld:%02lld", d, h, m, sec);
  else
    snprintf(buf, len, "%02lld:%02lld:%02lld", h, m, sec);
}

void
slurm_cpu_time(int64_t usec, char *buf, size_t len) {
  int64_t s = usec / 1000000, ms = usec % 1000000 / 1000;
  if (s >= 3600)
    slurm_hms(s, buf, len);
  else if (ms)
    snprintf(buf, len, "%02lld:%02lld.%03lld", (long long)(s / 60), (long long)(s % 60),
             (long long)ms);
  else
    snprintf(buf, len, "00:%02lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

void
slurm_date(int64_t t, char *buf, size_t len) {
  if (t <= 0)
    snprintf(buf, len, "Unknown");
  else
    fmt_time_as(t, "%Y-%m-%dT%H:%M:%S", buf, len);
}

void
slurm_size(int64_t bytes, char *buf, size_t len) {
  static const char units[] = "KMGTP";
  int64_t v = bytes / 1024;
  int u = 0;
  if (bytes % 1024) {
    snprintf(buf, len, "%lld", (long long)bytes);
    return;
  }
  while (u < 4 && v >= 1024 && v % 1024 == 0) {
    v /= 1024;
    u++;
  }
  snprintf(buf, len, "%lld%c", (long long)v, units[u]);
}

int64_t
slurm_elapsed(const struct job_rec *j) {
  if (!j->stime)
    return 0;
  int64_t end = j->state == JOB_FINISHED && j->etime ? j->etime : (int64_t)time(NULL);
  int64_t susp =
      j->suspended_sec + (j->suspended_at && end > j->suspended_at ? end - j->suspended_at : 0);
  int64_t e = end - j->stime - (j->state == JOB_FINISHED ? 0 : susp);
  return e > 0 ? e : 0;
}

char *
slurm_to_boxq_id(struct cli_ctx *ctx, const char *id) {
  size_t n = strspn(id, "0123456789");
  if (!n || (id[n] && id[n] != '_' && id[n] != '.')) {
    cli_error(ctx, "Invalid job id specified: %s", id);
    return NULL;
  }
  if (id[n] != '_')
    return xstrndup(id, n); /* "12" or a step "12.batch": the job */
  const char *task = id + n + 1;
  if (task[0] == '[' || task[0] == '*')
    return xasprintf("%.*s[]", (int)n, id); /* the array, all its tasks */
  size_t t = strspn(task, "0123456789");
  if (!t || task[t]) {
    cli_error(ctx, "Invalid job id specified: %s", id);
    return NULL;
  }
  return xasprintf("%.*s[%s]", (int)n, id, task);
}
