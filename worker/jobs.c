/* SPDX-License-Identifier: MIT */
/* The worker's jobs: dispatch into a spool directory and a shepherd, watch
 * the shepherd, relay its result, and find everything again after a
 * restart. */
#include "log.h"
#include "rmtree.h"
#include "spool.h"
#include "worker.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

struct wjob *
wjob_find(struct worker *w, int64_t id) {
  for (struct wjob *j = w->jobs; j; j = j->next)
    if (j->id == id)
      return j;
  return NULL;
}

static struct wjob *
wjob_add(struct worker *w, int64_t id) {
  struct wjob *j = xcalloc(1, sizeof(*j));
  j->id = id;
  j->w = w;
  j->pidfd = -1;
  j->dir = xasprintf("%s/%lld", w->cfg.jobs_dir, (long long)id);
  j->next = w->jobs;
  w->jobs = j;
  return j;
}

static void
wjob_free(struct wjob *j) {
  pbuf_free(&j->result);
  free(j->dir);
  free(j);
}

static void
on_handle_closed(uv_handle_t *h) {
  (void)h;
}

static void
send_result(struct worker *w, struct wjob *j) {
  if (w->sched && j->ended && j->result.len)
    conn_send(w->sched, &j->result);
}

/* The shepherd is gone without a result: it was killed, or the machine
 * restarted. End whatever is left of the job and record it as lost. */
static void
write_lost_result(struct worker *w, struct wjob *j) {
  struct job_rec end = {.id = j->id,
                        .end_reason = END_LOST,
                        .has_exit = true,
                        .exit_status = JOB_EXEC_LOST,
                        .etime = time(NULL)};
  struct cg_job *cg = NULL;
  if (w->sys.mode != CG_MODE_NONE && cg_job_open(&w->sys, j->id, &cg) == 0) {
    cg_job_empty(cg, 5000);
    end.has_usage = true;
    cg_job_stats(cg, &end.usage);
    end.cgroup = xasprintf("%s:%s", cg_mode_name(cg->mode), cg->path);
    cg_job_destroy(cg);
  } else {
    /* The cgroup is gone (a reboot): the last snapshot is all there is. */
    uint8_t *data = NULL;
    size_t len;
    struct pmsg m, sub;
    struct pfield f;
    if (spool_read(j->dir, SPOOL_USAGE, &data, &len) == 0 &&
        proto_parse_frame(data, len, &m) == 0 && pmsg_find(&m, T_JOB, &f) &&
        pmsg_sub(&f, &sub) == 0) {
      job_usage_decode(&sub, &end.usage);
      end.has_usage = true;
    }
    free(data);
  }
  end.comment = xstrdup("the job's shepherd went away; its processes were ended");
  _cleanup_free_ char *tmp_name = xasprintf("job-%lld", (long long)j->id);
  int tfd = open(w->cfg.job_tmp_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tfd >= 0) {
    rmtree_at(tfd, tmp_name);
    close(tfd);
  }
  int r = spool_write_result(j->dir, &end);
  if (r < 0)
    log_error("job %lld: cannot write its lost result: %s", (long long)j->id, strerror(-r));
  log_warn("job %lld: its shepherd went away; recorded as lost", (long long)j->id);
  job_rec_free(&end);
}

/* Loads JOBDIR/result (writing a lost one first if there is none). */
static void
finish_job(struct worker *w, struct wjob *j) {
  uint8_t *data = NULL;
  size_t len = 0;
  struct pmsg m;
  int r = spool_read(j->dir, SPOOL_RESULT, &data, &len);
  if (r == -ENOENT) {
    write_lost_result(w, j);
    r = spool_read(j->dir, SPOOL_RESULT, &data, &len);
  }
  if (r < 0 || proto_parse_frame(data, len, &m) < 0 || m.type != MSG_ENDED) {
    log_error("job %lld: unreadable result in %s", (long long)j->id, j->dir);
    free(data);
    /* Replace it with a lost record so the scheduler still hears of it. */
    _cleanup_free_ char *path = xasprintf("%s/%s", j->dir, SPOOL_RESULT);
    unlink(path);
    write_lost_result(w, j);
    if (spool_read(j->dir, SPOOL_RESULT, &data, &len) < 0)
      return;
  }
  pbuf_reset(&j->result);
  j->result.data = xrealloc(j->result.data, len);
  memcpy(j->result.data, data, len);
  j->result.len = j->result.cap = len;
  free(data);
  j->ended = true;
  send_result(w, j);
}

static void
on_shepherd_exit(uv_process_t *p, int64_t status, int term_signal) {
  struct wjob *j = p->data;
  if (status != 0 || term_signal != 0)
    log_warn("job %lld: shepherd exited with status %lld, signal %d", (long long)j->id,
             (long long)status, term_signal);
  uv_close((uv_handle_t *)p, on_handle_closed);
  finish_job(j->w, j);
}

static void
on_pidfd(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  struct wjob *j = h->data;
  uv_poll_stop(h);
  uv_close((uv_handle_t *)h, on_handle_closed);
  closep(&j->pidfd);
  finish_job(j->w, j);
}

static int
spawn_shepherd(struct worker *w, struct wjob *j) {
  char *args[] = {w->shepherd_path, j->dir, NULL};
  uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE},
                                   {.flags = UV_INHERIT_FD, .data.fd = 2},
                                   {.flags = UV_INHERIT_FD, .data.fd = 2}};
  /* A fixed, minimal environment: nothing of the worker's leaks to jobs. */
  char *env[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", (char *)"LANG=C", NULL};
  uv_process_options_t o = {
      .exit_cb = on_shepherd_exit,
      .file = w->shepherd_path,
      .args = args,
      .env = env,
      .cwd = "/",
      .flags = UV_PROCESS_DETACHED,
      .stdio_count = 3,
      .stdio = stdio,
  };
  j->proc.data = j;
  int r = uv_spawn(w->loop, &j->proc, &o);
  if (r < 0) {
    uv_close((uv_handle_t *)&j->proc, on_handle_closed);
    return r;
  }
  j->spawned = true;
  j->pid = j->proc.pid;
  return 0;
}

static int
write_spool(struct worker *w, struct job_rec *job, const char *dir) {
  int r = mkdir(dir, 0700);
  if (r < 0 && errno != EEXIST)
    return -errno;
  _cleanup_free_ char *script = xasprintf("%s/%s", dir, SPOOL_SCRIPT);
  /* The spool must outlive the worker, not the machine: a machine crash
   * ends the job with it, and boxqd then records it as lost (or reruns it).
   * So no fsync here, on the path of every launch. */
  r = write_file_atomic(script, job->script, job->script_len, 0755, false);
  if (r < 0)
    return r;
  free(job->script);
  job->script = NULL;
  job->script_len = 0;
  struct pbuf b = {0};
  pb_begin(&b, MSG_DISPATCH);
  size_t mark = pb_nest_begin(&b, T_JOB);
  job_rec_encode(&b, job);
  pb_nest_end(&b, mark);
  pb_str(&b, S_CG_MOUNT, w->cfg.cgroup_mount);
  pb_str(&b, S_CG_MODE, cg_mode_name(w->sys.mode));
  /* The resolved parent: a relative one means the worker's own cgroup. */
  pb_str(&b, S_CG_PARENT, w->sys.parent ? w->sys.parent : w->cfg.cgroup_parent);
  pb_i64(&b, S_KILL_GRACE, w->cfg.kill_grace);
  pb_str(&b, S_TMP_DIR, w->cfg.job_tmp_dir);
  pb_str(&b, S_SERVER_NAME, w->server_name);
  pb_i64(&b, S_SAMPLE_SEC, w->cfg.sample_interval);
  pb_end(&b);
  _cleanup_free_ char *spec = xasprintf("%s/%s", dir, SPOOL_SPEC);
  r = write_file_atomic(spec, b.data, b.len, 0600, false);
  pbuf_free(&b);
  return r;
}

int
wjob_dispatch(struct worker *w, const struct pmsg *m) {
  struct pfield f;
  struct pmsg sub;
  struct job_rec job;
  if (!pmsg_find(m, T_JOB, &f) || pmsg_sub(&f, &sub) < 0 || job_rec_decode(&sub, &job) < 0) {
    log_error("malformed dispatch from the scheduler");
    return -EBADMSG;
  }
  if (job.id <= 0 || wjob_find(w, job.id)) {
    /* A resend of a job we already have: the first one stands. */
    job_rec_free(&job);
    return 0;
  }
  struct wjob *j = wjob_add(w, job.id);
  int r = write_spool(w, &job, j->dir);
  if (r == 0)
    r = spawn_shepherd(w, j);
  if (r < 0) {
    log_error("job %lld: cannot start its shepherd: %s", (long long)job.id, strerror(-r));
    struct job_rec end = {.id = job.id,
                          .end_reason = END_LAUNCH,
                          .has_exit = true,
                          .exit_status = JOB_EXEC_FAIL,
                          .etime = time(NULL)};
    end.comment = xasprintf("the worker cannot start the job: %s", strerror(-r));
    mkdir(j->dir, 0700);
    spool_write_result(j->dir, &end);
    job_rec_free(&end);
    finish_job(w, j);
  } else {
    log_info("job %lld: shepherd %d started for %s", (long long)job.id, (int)j->pid, job.owner);
    struct pbuf b = {0};
    pb_begin(&b, MSG_STARTED);
    pb_i64(&b, T_JOBID, job.id);
    pb_i64(&b, J_STIME, time(NULL));
    _cleanup_free_ char *cg =
        xasprintf("%s:%s/job-%lld", cg_mode_name(w->sys.mode),
                  w->sys.parent ? w->sys.parent : w->cfg.cgroup_parent, (long long)job.id);
    pb_str(&b, J_CGROUP, cg);
    pb_end(&b);
    if (w->sched)
      conn_send(w->sched, &b);
    pbuf_free(&b);
  }
  job_rec_free(&job);
  return r;
}

void
wjob_ack(struct worker *w, int64_t id) {
  for (struct wjob **pp = &w->jobs; *pp; pp = &(*pp)->next) {
    struct wjob *j = *pp;
    if (j->id != id)
      continue;
    if (!j->ended)
      return; /* an ack for a job still running is a stale message */
    int r = spool_remove(j->dir);
    if (r < 0)
      log_warn("job %lld: cannot remove %s: %s", (long long)id, j->dir, strerror(-r));
    *pp = j->next;
    wjob_free(j);
    return;
  }
}

void
wjob_signal(struct worker *w, int64_t id, int sig, bool cancel) {
  struct wjob *j = wjob_find(w, id);
  if (!j || j->ended || j->pid <= 0)
    return;
  union sigval v = {.sival_int = sig};
  if (sigqueue(j->pid, cancel ? SIGRTMIN + 1 : SIGRTMIN, v) < 0)
    log_warn("job %lld: cannot signal shepherd %d: %s", (long long)id, (int)j->pid,
             strerror(errno));
}

void
wjob_send_hello(struct worker *w) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_WORKER_HELLO);
  pb_str(&b, T_INFO, cg_mode_name(w->sys.mode));
  for (struct wjob *j = w->jobs; j; j = j->next)
    pb_i64(&b, T_JOBID, j->id);
  pb_end(&b);
  conn_send(w->sched, &b);
  pbuf_free(&b);
  for (struct wjob *j = w->jobs; j; j = j->next)
    send_result(w, j);
}

/* Is pid the shepherd of dir? Guards against a recycled pid. */
static bool
is_shepherd_of(pid_t pid, const char *dir) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
  _cleanup_free_ char *cmd = NULL;
  size_t len;
  if (read_file_at(AT_FDCWD, path, 8192, &cmd, &len) < 0)
    return false;
  /* argv[1] follows argv[0]'s NUL. */
  size_t a0 = strnlen(cmd, len);
  return a0 + 1 < len && strcmp(cmd + a0 + 1, dir) == 0;
}

static void
recover_one(struct worker *w, int64_t id) {
  struct wjob *j = wjob_add(w, id);
  _cleanup_free_ char *result = xasprintf("%s/%s", j->dir, SPOOL_RESULT);
  if (access(result, F_OK) == 0) {
    finish_job(w, j);
    return;
  }
  _cleanup_free_ char *pidfile = xasprintf("%s/%s", j->dir, SPOOL_PID), *text = NULL;
  int64_t pid = 0;
  if (read_file_at(AT_FDCWD, pidfile, 64, &text, NULL) == 0) {
    text[strcspn(text, "\n")] = '\0';
    parse_i64(text, 1, INT32_MAX, &pid);
  }
  if (pid > 0 && is_shepherd_of((pid_t)pid, j->dir)) {
    j->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (j->pidfd >= 0) {
      j->pid = (pid_t)pid;
      j->adopted = true;
      uv_poll_init(w->loop, &j->poll, j->pidfd);
      j->poll.data = j;
      uv_poll_start(&j->poll, UV_READABLE, on_pidfd);
      log_info("job %lld: found its shepherd %d running", (long long)id, (int)pid);
      return;
    }
  }
  finish_job(w, j);
}

void
wjob_recover_all(struct worker *w) {
  DIR *d = opendir(w->cfg.jobs_dir);
  if (!d)
    return;
  struct dirent *de;
  while ((de = readdir(d))) {
    int64_t id;
    if (parse_i64(de->d_name, 1, INT64_MAX, &id) == 0)
      recover_one(w, id);
  }
  closedir(d);
}

void
wjob_relay_usage(struct worker *w) {
  if (!w->sched)
    return;
  for (struct wjob *j = w->jobs; j; j = j->next) {
    if (j->ended)
      continue;
    _cleanup_free_ char *path = xasprintf("%s/%s", j->dir, SPOOL_USAGE);
    struct stat st;
    if (stat(path, &st) < 0)
      continue;
    int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if (mtime == j->usage_mtime)
      continue;
    uint8_t *data = NULL;
    size_t len;
    struct pmsg m;
    if (spool_read(j->dir, SPOOL_USAGE, &data, &len) == 0 &&
        proto_parse_frame(data, len, &m) == 0 && m.type == MSG_USAGE) {
      /* The snapshot file is already a MSG_USAGE frame: send it as is. */
      struct pbuf b = {.data = data, .len = len, .cap = len};
      conn_send(w->sched, &b);
      j->usage_mtime = mtime;
    }
    free(data);
  }
}

void
wjob_close_all(struct worker *w) {
  /* Shepherds keep running; only our handles on them go. */
  for (struct wjob *j = w->jobs, *next; j; j = next) {
    next = j->next;
    if (j->spawned && !j->ended && !uv_is_closing((uv_handle_t *)&j->proc))
      uv_close((uv_handle_t *)&j->proc, on_handle_closed);
    if (j->adopted && !j->ended && !uv_is_closing((uv_handle_t *)&j->poll))
      uv_close((uv_handle_t *)&j->poll, on_handle_closed);
  }
}
