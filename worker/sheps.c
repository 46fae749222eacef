/* SPDX-License-Identifier: MIT */
/* The worker's shepherd processes: forked on demand, each serving one job
 * at a time over a socket pair (the job goes out, a note comes back once
 * its result is written), kept idle for the next job (at most one per
 * CPU, for shepherd_idle seconds), watched through a pidfd until they
 * exit; and those a restarted worker finds running a job. */
#include "handover.h"
#include "log.h"
#include "spool.h"
#include "worker.h"

#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void
shep_free(struct wshep *s) {
  for (struct wshep **pp = &s->w->sheps; *pp; pp = &(*pp)->next)
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  free(s);
}

/* A shepherd's entry goes once it has exited and its handles are closed. */
static void
on_shep_handle_closed(uv_handle_t *h) {
  struct wshep *s = h->data;
  if (--s->handles == 0 && s->exited)
    shep_free(s);
}

static void
close_handle(uv_handle_t *h) {
  if (!uv_is_closing(h))
    uv_close(h, on_shep_handle_closed);
}

static void
shep_set_idle(struct wshep *s, bool idle) {
  s->idle = idle;
  if (idle)
    s->idle_since = uv_hrtime();
}

static int
count_idle(const struct worker *w) {
  int n = 0;
  for (const struct wshep *s = w->sheps; s; s = s->next)
    n += s->idle;
  return n;
}

/* Stops watching fd (its poll, if it was set up) and closes it. */
static void
unwatch(uv_poll_t *poll, bool watched, int *fd) {
  if (*fd < 0)
    return;
  if (watched)
    close_handle((uv_handle_t *)poll);
  close(*fd);
  *fd = -1;
}

/* No more jobs for it: it exits when idle, or after its job. */
static void
shep_retire(struct wshep *s) {
  shep_set_idle(s, false);
  unwatch(&s->chan_poll, s->chan_watched, &s->chan);
}

static void
shep_unwatch_exit(struct wshep *s) {
  unwatch(&s->exit_poll, s->exit_watched, &s->pidfd);
}

/* It has exited (or never may run): nothing of it is watched any more,
 * and its entry goes once its handles have closed. */
static void
shep_gone(struct wshep *s) {
  shep_retire(s);
  s->exited = true;
  shep_unwatch_exit(s);
  if (s->handles == 0)
    shep_free(s);
}

/* Its job's result is in (or, if it died, is to be written as lost). */
static void
shep_job_done(struct wshep *s) {
  struct wjob *j = s->job;
  s->job = NULL;
  s->last_job = j->id;
  j->shep = NULL;
  if (s->chan >= 0 && !s->exited) {
    shep_set_idle(s, true);
    if (count_idle(s->w) > s->w->max_idle_sheps || s->w->cfg.shepherd_idle == 0)
      shep_retire(s);
  }
  /* A ready job that fits its place starts there now (on this shepherd,
   * idle again), and its 'started' goes out before this job's result. */
  wjob_fill_place(s->w, j);
  wjob_finish(s->w, j);
  /* The set is running dry (one job or none left): boxqd is to hand more
   * before the next place frees, not when the reports would have found
   * company. */
  if (j->followed && s->w->ready.n <= 1)
    worker_flush(s->w);
}

/* The shepherd has exited. Reap it if it is ours (not one found after a
 * restart); its job, if any, ends with whatever result it wrote. */
static void
on_shep_exit(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  struct wshep *s = h->data;
  siginfo_t si = {0};
  /* A shepherd found after a restart is not ours to wait for: how it
   * ended is unknown. */
  bool clean = waitid(P_PIDFD, (id_t)s->pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid &&
               si.si_code == CLD_EXITED && si.si_status == 0;
  if (!clean && si.si_pid)
    log_warn("shepherd %d ended with %s %d", (int)s->pid,
             si.si_code == CLD_EXITED ? "status" : "signal", si.si_status);
  shep_gone(s); /* its exit poll is closing: the entry outlives this call */
  if (s->job)
    shep_job_done(s);
  /* One that exits cleanly has removed what its last job left; one that
   * did not may have died between noting that job's result and that. */
  if (!clean && s->last_job)
    wjob_remove_leftovers(s->w, s->last_job);
}

/* Notes from the shepherd: the id of each job whose result it has
 * written. EOF: it is leaving (its exit follows). */
static void
on_shep_note(uv_poll_t *h, int status, int events) {
  (void)events;
  struct wshep *s = h->data;
  while (status == 0 && s->chan >= 0) {
    ssize_t n = recv(s->chan, s->note + s->note_len, sizeof(s->note) - s->note_len, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (n <= 0)
      break;
    s->note_len += (size_t)n;
    if (s->note_len < sizeof(s->note))
      continue;
    int64_t id;
    memcpy(&id, s->note, sizeof(id));
    s->note_len = 0;
    if (s->job && s->job->id == id)
      shep_job_done(s);
    else
      log_warn("shepherd %d: a note for job %lld, which it does not run", (int)s->pid,
               (long long)id);
  }
  shep_retire(s);
}

/* Watches its exit (a pidfd) and its notes (chan, if any). */
static int
shep_watch(struct worker *w, struct wshep *s) {
  s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
  if (s->pidfd < 0)
    return -errno;
  int r = uv_poll_init(w->loop, &s->exit_poll, s->pidfd);
  if (r < 0)
    return r;
  s->exit_poll.data = s;
  s->exit_watched = true;
  s->handles++;
  r = uv_poll_start(&s->exit_poll, UV_READABLE, on_shep_exit);
  if (r < 0 || s->chan < 0)
    return r;
  r = uv_poll_init(w->loop, &s->chan_poll, s->chan);
  if (r < 0)
    return r;
  s->chan_poll.data = s;
  s->chan_watched = true;
  s->handles++;
  return uv_poll_start(&s->chan_poll, UV_READABLE | UV_DISCONNECT, on_shep_note);
}

static struct wshep *
shep_new(struct worker *w, pid_t pid, int chan) {
  struct wshep *s = xcalloc(1, sizeof(*s));
  s->w = w;
  s->pid = pid;
  s->pidfd = -1;
  s->chan = chan;
  s->next = w->sheps;
  w->sheps = s;
  return s;
}

/* A new shepherd, waiting for its first job. */
static int
shep_fork(struct worker *w, struct wshep **ret) {
  struct shepherd_settings set = {
      .cg = &w->sys,
      .init_fd = w->init_fd,
      .tmp_root = streq(w->cfg.job_tmp, "disk") ? w->cfg.job_tmp_dir : NULL,
      .server = w->server_name,
      .spool = w->cfg.spool_dir,
      .tty_dir = w->cfg.tty_dir,
      .kill_grace_sec = w->cfg.kill_grace,
      .sample_sec = w->cfg.sample_interval,
      .devs = &w->devs,
      .nvml_library = w->cfg.nvml_library,
      .args = &w->args,
  };
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return -errno;
  pid_t pid = fork();
  if (pid < 0) {
    int r = -errno;
    close(sv[0]);
    close(sv[1]);
    return r;
  }
  if (pid == 0) {
    set.chan = sv[1];
    _exit(shepherd_main(&set));
  }
  close(sv[1]);
  struct wshep *s = shep_new(w, pid, sv[0]);
  int r = proc_stat_fields(pid, 22, 1, &s->start);
  if (r == 0)
    r = shep_watch(w, s);
  if (r < 0) {
    /* Unwatchable (no pidfd): it must not run at all. It has no job yet. */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    shep_gone(s);
    return r;
  }
  *ret = s;
  return 0;
}

int
shep_adopt(struct worker *w, pid_t pid, struct wjob *j) {
  struct wshep *s = shep_new(w, pid, -1);
  int r = shep_watch(w, s);
  if (r == 0) {
    s->job = j;
    j->shep = s;
    return 0;
  }
  shep_gone(s);
  return r;
}

int
shep_start_job(struct worker *w, struct wjob *j, const struct job_rec *job) {
  struct berr err = {{0}};
  const struct user_info *user = NULL;
  int user_errno =
      usercache_get(&w->users, (uid_t)job->uid, (gid_t)job->gid, job->owner, &user, &err);
  struct pbuf b = {0};
  int r = -ESRCH;
  /* An idle one may have died unseen yet: then the next, or a new one. */
  for (int attempt = 0; attempt < 3 && r < 0; attempt++) {
    /* The one idle longest: one that has just noted a result may still
     * be removing what its job left. */
    struct wshep *s = NULL;
    for (struct wshep *c = w->sheps; c; c = c->next)
      if (c->idle && (!s || c->idle_since < s->idle_since))
        s = c;
    if (s)
      shep_set_idle(s, false);
    else if ((r = shep_fork(w, &s)) < 0)
      break;
    /* Named in the spool before it has the job: a worker restarting at
     * any moment from here finds the shepherd that may run it. Not durable:
     * after a machine crash no shepherd is left to find. */
    r = spool_write_pid(j->dir, s->pid, s->start);
    if (r < 0) {
      shep_set_idle(s, true);
      break;
    }
    if (++s->seq > SHEPHERD_SEQ_MAX)
      s->seq = 1;
    pbuf_reset(&b);
    handover_encode(&b, s->seq, j->dir, job, user_errno < 0 ? NULL : user, user_errno,
                    user_errno < 0 ? err.msg : NULL);
    r = handover_send(s->chan, &b);
    if (r < 0) {
      log_warn("shepherd %d: cannot hand it job %lld: %s", (int)s->pid, (long long)j->id,
               strerror(-r));
      shep_retire(s);
      continue;
    }
    s->job = j;
    j->shep = s;
  }
  pbuf_free(&b);
  return r;
}

void
shep_retire_idle(struct worker *w) {
  uint64_t now = uv_hrtime(), keep_ns = (uint64_t)w->cfg.shepherd_idle * 1000000000;
  for (struct wshep *s = w->sheps; s; s = s->next)
    if (s->idle && now - s->idle_since >= keep_ns)
      shep_retire(s);
}

void
shep_close_all(struct worker *w) {
  /* Shepherds keep running their jobs, then exit (their channel is
   * closed); only our handles on them go. */
  for (struct wshep *s = w->sheps; s; s = s->next) {
    shep_retire(s);
    shep_unwatch_exit(s);
  }
}
