/* SPDX-License-Identifier: MIT */
/* Following jobs: drmaa_job_ps (boxqd keeps finished jobs, so DONE and
 * FAILED stay answered), drmaa_wait and drmaa_synchronize (a MSG_WAIT
 * that boxqd answers when the jobs end: no polling; on a connection of
 * their own, so that the session's other calls go on meanwhile, and
 * dropped at the timeout), drmaa_control, and the status macros. */
#include "internal.h"
#include "jobs_fetch.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>

/* The stat drmaa_wait returns: how the job ended, for drmaa_w*. */
#define STAT_EXITED   0x10000
#define STAT_SIGNALED 0x20000
#define STAT_ABORTED  0x40000

/* How DRMAA names a job of ours. */
static void
job_name_of(const struct job_rec *j, char *buf, size_t len) {
  if (j->array_id)
    snprintf(buf, len, "%lld[%lld]", (long long)j->array_id, (long long)j->array_index);
  else
    snprintf(buf, len, "%lld", (long long)j->id);
}

/* Whether the job never ran: nothing to report of it but that. */
static bool
aborted(const struct job_rec *j) {
  return j->end_reason == END_LAUNCH || j->end_reason == END_DEPENDENCY ||
         (j->stime == 0 && j->run_count == 0);
}

static int
ps_of(const struct job_rec *j) {
  switch (j->state) {
    case JOB_QUEUED:
    case JOB_WAITING:
      return DRMAA_PS_QUEUED_ACTIVE;
    case JOB_HELD:
      return j->hold_types && strchr(j->hold_types, 'u') ? DRMAA_PS_USER_ON_HOLD
                                                         : DRMAA_PS_SYSTEM_ON_HOLD;
    case JOB_RUNNING:
    case JOB_EXITING:
      return j->suspended_at ? DRMAA_PS_USER_SUSPENDED : DRMAA_PS_RUNNING;
    case JOB_FINISHED:
      /* DONE only for a job that ran and exited 0; workflow tools
       * (Snakemake) take DONE as success. */
      return j->end_reason == END_COMPLETED && j->has_exit && j->exit_status == 0 ? DRMAA_PS_DONE
                                                                                  : DRMAA_PS_FAILED;
    default:
      return DRMAA_PS_UNDETERMINED;
  }
}

/* The records of ids (finished ones too). DRMAA error otherwise. */
static int
fetch(char **ids, int n, struct joblist *l, char *diag, size_t len) {
  int errors = 0;
  dsess.err[0] = '\0';
  int r = jobs_fetch(&dsess.ctx, FETCH_FINISHED | FETCH_ACCOUNTING, ids, n, l, &errors);
  if (r < 0) {
    cli_close_connection(&dsess.ctx);
    return derr(diag, len, DRMAA_ERRNO_DRM_COMMUNICATION_FAILURE, "%s", dsess.err);
  }
  if (errors)
    return derr(diag, len, DRMAA_ERRNO_INVALID_JOB, "%s", dsess.err);
  return DRMAA_ERRNO_SUCCESS;
}

static bool
reaped(const char *id) {
  for (size_t i = 0; i < dsess.reaped.n; i++)
    if (!strcmp(dsess.reaped.items[i], id))
      return true;
  return false;
}

int
drmaa_job_ps(const char *job_id, int *remote_ps, char *error_diagnosis, size_t error_diag_len) {
  if (!job_id || !remote_ps)
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT,
                "no job id or no result");
  pthread_mutex_lock(&dsess.lock);
  int r = dsession_check(error_diagnosis, error_diag_len);
  struct joblist l = {0};
  char *ids[] = {(char *)job_id};
  if (r == 0)
    r = fetch(ids, 1, &l, error_diagnosis, error_diag_len);
  if (r == 0 && l.n != 1)
    r = derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_JOB, "no job %s", job_id);
  if (r == 0)
    *remote_ps = ps_of(&l.jobs[0]);
  joblist_free(&l);
  pthread_mutex_unlock(&dsess.lock);
  return r;
}

/* Waits for boxqd's answer to a MSG_WAIT for ids (flags: WAIT_ANY or
 * not) for at most timeout seconds (negative: forever), on a connection
 * of its own. The jobs' records in *l. */
static int
wait_for(char **ids, int n, int64_t flags, signed long timeout, struct joblist *l, char *diag,
         size_t len) {
  char err[1024] = "";
  struct cli_ctx w = dsess.ctx; /* its configuration, not its connection */
  w.fd = -1;
  w.fr = (struct pframer){0};
  w.no_timeout = true;
  w.errbuf = err;
  w.errlen = sizeof(err);
  struct pbuf b = {0};
  pb_begin(&b, MSG_WAIT);
  pb_i64(&b, T_FLAGS, flags);
  int bad = 0;
  cli_put_jobids(&w, &b, ids, n, false, &bad);
  pb_end(&b);
  int r = bad ? -EINVAL : cli_connect(&w);
  if (r == 0)
    r = proto_send(w.fd, &b);
  pbuf_free(&b);
  if (r < 0) {
    cli_close_connection(&w);
    return derr(diag, len, bad ? DRMAA_ERRNO_INVALID_JOB : DRMAA_ERRNO_DRM_COMMUNICATION_FAILURE,
                "%s", err[0] ? err : strerror(-r));
  }
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    int ms = -1;
    if (timeout >= 0) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      int64_t spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
      ms = spent >= timeout * 1000 ? 0 : (int)(timeout * 1000 - spent);
    }
    struct pollfd p = {w.fd, POLLIN, 0};
    int k = poll(&p, 1, ms);
    if (k < 0 && errno == EINTR)
      continue;
    if (k == 0) {
      cli_close_connection(&w); /* boxqd forgets the wait */
      return derr(diag, len, DRMAA_ERRNO_EXIT_TIMEOUT, "the jobs had not ended after %lds",
                  (long)timeout);
    }
    break;
  }
  struct pmsg reply;
  size_t flen;
  r = proto_recv(w.fd, &w.fr, &reply, &flen);
  int code = DRMAA_ERRNO_SUCCESS;
  if (r < 0 || reply.type != MSG_REPLY)
    code = derr(diag, len, DRMAA_ERRNO_DRM_COMMUNICATION_FAILURE, "no answer from boxqd: %s",
                r < 0 ? strerror(-r) : "unexpected reply");
  else if (pmsg_i64_or(&reply, T_STATUS, -EPROTO) < 0) {
    const char *msg = pmsg_str(&reply, T_ERROR);
    if (!msg)
      msg = pmsg_str(&reply, T_MESSAGE);
    code = derr(diag, len, DRMAA_ERRNO_INVALID_JOB, "%s", msg ? msg : "cannot wait for the jobs");
  } else {
    *l = (struct joblist){0};
    joblist_add_reply(l, &reply);
  }
  cli_close_connection(&w);
  return code;
}

static const char *
signal_name(int sig) {
  static const struct {
    int sig;
    const char *name;
  } names[] = {{SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
               {SIGILL, "SIGILL"},   {SIGABRT, "SIGABRT"}, {SIGFPE, "SIGFPE"},
               {SIGKILL, "SIGKILL"}, {SIGSEGV, "SIGSEGV"}, {SIGPIPE, "SIGPIPE"},
               {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGUSR1, "SIGUSR1"},
               {SIGUSR2, "SIGUSR2"}, {SIGBUS, "SIGBUS"},   {SIGXCPU, "SIGXCPU"}};
  for (size_t i = 0; i < ARRAY_SIZE(names); i++)
    if (names[i].sig == sig)
      return names[i].name;
  return "SIGUNKNOWN";
}

static int
stat_of(const struct job_rec *j) {
  if (aborted(j))
    return STAT_ABORTED;
  if (j->has_exit && j->exit_status >= JOB_EXIT_SIGNAL_BASE)
    return STAT_SIGNALED | (int)((j->exit_status - JOB_EXIT_SIGNAL_BASE) & 0xff) << 8;
  if (j->has_exit && j->exit_status >= 0)
    return STAT_EXITED | (int)(j->exit_status & 0xff);
  return STAT_ABORTED;
}

static drmaa_attr_values_t *
rusage_of(const struct job_rec *j) {
  drmaa_attr_values_t *v = xcalloc(1, sizeof(*v));
  const struct job_usage *u = &j->usage;
  char buf[128];
#define ADD(...)                                                                                   \
  do {                                                                                             \
    snprintf(buf, sizeof(buf), __VA_ARGS__);                                                       \
    dlist_add(&v->l, buf);                                                                         \
  } while (0)
  ADD("submission_time=%lld", (long long)j->ctime);
  ADD("start_time=%lld", (long long)j->stime);
  ADD("end_time=%lld", (long long)j->etime);
  ADD("exit_status=%lld", (long long)(j->has_exit ? j->exit_status : -1));
  ADD("end_reason=%s", job_end_to_string(j->end_reason));
  if (j->has_usage) {
    ADD("ru_wallclock=%.3f", u->wall_usec / 1e6);
    ADD("cpu=%.3f", u->cpu_usec / 1e6);
    ADD("ru_utime=%.3f", u->user_usec / 1e6);
    ADD("ru_stime=%.3f", u->sys_usec / 1e6);
    ADD("maxvmem=%lld", (long long)u->mem_peak);
    ADD("ru_maxrss=%lld", (long long)(u->ru_maxrss_kb > 0 ? u->ru_maxrss_kb : u->mem_peak / 1024));
    if (u->io_rbytes >= 0)
      ADD("io_read_bytes=%lld", (long long)u->io_rbytes);
    if (u->io_wbytes >= 0)
      ADD("io_write_bytes=%lld", (long long)u->io_wbytes);
  }
#undef ADD
  return v;
}

/* The session's unreaped jobs (copies) for *_SESSION_ALL/ANY. */
static char **
session_ids(int *n) {
  *n = (int)dsess.jobs.n;
  char **ids = xcalloc(dsess.jobs.n + 1, sizeof(char *));
  for (size_t i = 0; i < dsess.jobs.n; i++)
    ids[i] = xstrdup(dsess.jobs.items[i]);
  return ids;
}

static void
free_ids(char **ids, int n) {
  for (int i = 0; i < n; i++)
    free(ids[i]);
  free(ids);
}

/* The ended job of l that ids name (the first, for WAIT_ANY), or NULL. */
static const struct job_rec *
first_ended(const struct joblist *l) {
  for (size_t i = 0; i < l->n; i++)
    if (l->jobs[i].state == JOB_FINISHED)
      return &l->jobs[i];
  return NULL;
}

int
drmaa_wait(const char *job_id, char *job_id_out, size_t job_id_out_len, int *stat,
           signed long timeout, drmaa_attr_values_t **rusage, char *error_diagnosis,
           size_t error_diag_len) {
  if (!job_id)
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT, "no job id");
  pthread_mutex_lock(&dsess.lock);
  int r = dsession_check(error_diagnosis, error_diag_len);
  bool any = !strcmp(job_id, DRMAA_JOB_IDS_SESSION_ANY);
  int n = 0;
  char **ids = NULL;
  if (r == 0 && any) {
    ids = session_ids(&n);
    if (n == 0)
      r = derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_JOB,
               "the session has no job left to wait for");
  } else if (r == 0 && reaped(job_id))
    r = derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_JOB,
             "job %s was reaped already (drmaa_wait or drmaa_synchronize)", job_id);
  else if (r == 0) {
    n = 1;
    ids = xcalloc(2, sizeof(char *));
    ids[0] = xstrdup(job_id);
  }
  /* Ended already: the answer is at hand. */
  struct joblist l = {0};
  if (r == 0)
    r = fetch(ids, n, &l, error_diagnosis, error_diag_len);
  pthread_mutex_unlock(&dsess.lock);
  const struct job_rec *j = r == 0 ? first_ended(&l) : NULL;
  if (r == 0 && !j && timeout == DRMAA_TIMEOUT_NO_WAIT)
    r = derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_EXIT_TIMEOUT, "job %s has not ended",
             job_id);
  if (r == 0 && !j) {
    joblist_free(&l);
    r = wait_for(ids, n, any ? WAIT_ANY : 0, timeout < 0 ? -1 : timeout, &l, error_diagnosis,
                 error_diag_len);
    j = r == 0 ? first_ended(&l) : NULL;
    if (r == 0 && !j)
      r = derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INTERNAL_ERROR,
               "boxqd answered the wait without an ended job");
  }
  if (r == 0) {
    char name[64];
    job_name_of(j, name, sizeof(name));
    if (job_id_out && job_id_out_len)
      snprintf(job_id_out, job_id_out_len, "%s", name);
    if (stat)
      *stat = stat_of(j);
    if (rusage)
      *rusage = rusage_of(j);
    pthread_mutex_lock(&dsess.lock);
    dsession_reap(name);
    pthread_mutex_unlock(&dsess.lock);
  }
  joblist_free(&l);
  free_ids(ids, n);
  return r;
}

int
drmaa_synchronize(const char *job_ids[], signed long timeout, int dispose, char *error_diagnosis,
                  size_t error_diag_len) {
  if (!job_ids)
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT, "no job ids");
  pthread_mutex_lock(&dsess.lock);
  int r = dsession_check(error_diagnosis, error_diag_len);
  int n = 0;
  char **ids = NULL;
  bool all = false;
  for (size_t i = 0; job_ids[i]; i++)
    all |= !strcmp(job_ids[i], DRMAA_JOB_IDS_SESSION_ALL);
  if (r == 0 && all)
    ids = session_ids(&n);
  else if (r == 0) {
    while (job_ids[n])
      n++;
    ids = xcalloc((size_t)n + 1, sizeof(char *));
    for (int i = 0; i < n; i++) {
      if (reaped(job_ids[i]) && r == 0)
        r = derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_JOB,
                 "job %s was reaped already", job_ids[i]);
      ids[i] = xstrdup(job_ids[i]);
    }
  }
  struct joblist l = {0};
  if (r == 0 && n > 0)
    r = fetch(ids, n, &l, error_diagnosis, error_diag_len);
  pthread_mutex_unlock(&dsess.lock);
  bool ended = true;
  for (size_t i = 0; r == 0 && i < l.n; i++)
    ended &= l.jobs[i].state == JOB_FINISHED;
  if (r == 0 && !ended) {
    joblist_free(&l);
    if (timeout == DRMAA_TIMEOUT_NO_WAIT)
      r = derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_EXIT_TIMEOUT,
               "not every job has ended");
    else
      r = wait_for(ids, n, 0, timeout < 0 ? -1 : timeout, &l, error_diagnosis, error_diag_len);
  }
  if (r == 0 && dispose) {
    pthread_mutex_lock(&dsess.lock);
    for (int i = 0; i < n; i++)
      dsession_reap(ids[i]);
    pthread_mutex_unlock(&dsess.lock);
  }
  joblist_free(&l);
  free_ids(ids, n);
  return r;
}

/* One control request for one job. */
static int
control_one(const char *id, int action, char *diag, size_t len) {
  static const uint16_t types[] = {[DRMAA_CONTROL_SUSPEND] = MSG_SUSPEND,
                                   [DRMAA_CONTROL_RESUME] = MSG_SUSPEND,
                                   [DRMAA_CONTROL_HOLD] = MSG_HOLD,
                                   [DRMAA_CONTROL_RELEASE] = MSG_RELEASE,
                                   [DRMAA_CONTROL_TERMINATE] = MSG_DELETE};
  if (action == DRMAA_CONTROL_HOLD) {
    /* boxq's qhold suspends a running job; DRMAA's hold is for queued ones. */
    struct joblist l = {0};
    char *ids[] = {(char *)id};
    int r = fetch(ids, 1, &l, diag, len);
    bool queued = r == 0 && l.n == 1 &&
                  (l.jobs[0].state == JOB_QUEUED || l.jobs[0].state == JOB_WAITING ||
                   l.jobs[0].state == JOB_HELD);
    joblist_free(&l);
    if (r)
      return r;
    if (!queued)
      return derr(diag, len, DRMAA_ERRNO_HOLD_INCONSISTENT_STATE,
                  "job %s has started: only a queued job can be held", id);
  }
  struct pbuf b = {0};
  pb_begin(&b, types[action]);
  if (action == DRMAA_CONTROL_RESUME)
    pb_i64(&b, T_FLAGS, 1);
  pb_str(&b, T_JOBREF, id);
  pb_end(&b);
  struct pmsg reply;
  int64_t status;
  int r = dsession_call(&b, &reply, &status, diag, len);
  if (r || status >= 0)
    return r;
  if (action == DRMAA_CONTROL_TERMINATE && status == -EALREADY)
    return DRMAA_ERRNO_SUCCESS; /* it has ended already */
  const char *msg = pmsg_str(&reply, T_ERROR);
  if (!msg)
    msg = pmsg_str(&reply, T_MESSAGE);
  return derr(diag, len, derr_of_status(status, action), "%s", msg ? msg : strerror((int)-status));
}

int
drmaa_control(const char *jobid, int action, char *error_diagnosis, size_t error_diag_len) {
  if (!jobid || action < DRMAA_CONTROL_SUSPEND || action > DRMAA_CONTROL_TERMINATE)
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT,
                "no job id, or an unknown action %d", action);
  pthread_mutex_lock(&dsess.lock);
  int r = dsession_check(error_diagnosis, error_diag_len);
  if (r == 0 && !strcmp(jobid, DRMAA_JOB_IDS_SESSION_ALL)) {
    int n;
    char **ids = session_ids(&n);
    for (int i = 0; i < n && r == 0; i++)
      r = control_one(ids[i], action, error_diagnosis, error_diag_len);
    free_ids(ids, n);
  } else if (r == 0)
    r = control_one(jobid, action, error_diagnosis, error_diag_len);
  pthread_mutex_unlock(&dsess.lock);
  return r;
}

/* ---- the status macros ---- */

int
drmaa_wifexited(int *exited, int stat, char *error_diagnosis, size_t error_diag_len) {
  (void)error_diagnosis;
  (void)error_diag_len;
  if (exited)
    *exited = (stat & STAT_EXITED) != 0;
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_wexitstatus(int *exit_status, int stat, char *error_diagnosis, size_t error_diag_len) {
  (void)error_diagnosis;
  (void)error_diag_len;
  if (exit_status)
    *exit_status = stat & STAT_EXITED ? stat & 0xff : 0;
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_wifsignaled(int *signaled, int stat, char *error_diagnosis, size_t error_diag_len) {
  (void)error_diagnosis;
  (void)error_diag_len;
  if (signaled)
    *signaled = (stat & STAT_SIGNALED) != 0;
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_wtermsig(char *signal, size_t signal_len, int stat, char *error_diagnosis,
               size_t error_diag_len) {
  (void)error_diagnosis;
  (void)error_diag_len;
  if (signal && signal_len)
    snprintf(signal, signal_len, "%s", stat & STAT_SIGNALED ? signal_name((stat >> 8) & 0xff) : "");
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_wcoredump(int *core_dumped, int stat, char *error_diagnosis, size_t error_diag_len) {
  (void)stat;
  (void)error_diagnosis;
  (void)error_diag_len;
  if (core_dumped)
    *core_dumped = 0; /* cores are not kept apart from signals in boxq's record */
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_wifaborted(int *aborted_ret, int stat, char *error_diagnosis, size_t error_diag_len) {
  (void)error_diagnosis;
  (void)error_diag_len;
  if (aborted_ret)
    *aborted_ret = (stat & STAT_ABORTED) != 0;
  return DRMAA_ERRNO_SUCCESS;
}
