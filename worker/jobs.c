/* SPDX-License-Identifier: MIT */
/* The worker's jobs: dispatch into a spool directory and a shepherd
 * (sheps.c), relay its result, and find everything again after a
 * restart. */
#include "cpuset.h"
#include "drain.h"
#include "log.h"
#include "rmtree.h"
#include "shepherd.h"
#include "spool.h"
#include "worker.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct wjob *
wjob_find(struct worker *w, int64_t id) {
  return id > 0 ? idmap_get(&w->jobs_by_id, id) : NULL;
}

static struct wjob *
wjob_add(struct worker *w, int64_t id) {
  struct wjob *j = xcalloc(1, sizeof(*j));
  j->id = id;
  j->w = w;
  j->dir = xasprintf("%s/%lld", w->cfg.spool_dir, (long long)id);
  j->next = w->jobs;
  if (w->jobs)
    w->jobs->prev = j;
  w->jobs = j;
  idmap_put(&w->jobs_by_id, id, j);
  return j;
}

void
wjob_free(struct worker *w, struct wjob *j) {
  if (j->prev)
    j->prev->next = j->next;
  else
    w->jobs = j->next;
  if (j->next)
    j->next->prev = j->prev;
  if (idmap_get(&w->jobs_by_id, j->id) == j)
    idmap_del(&w->jobs_by_id, j->id);
  wplace_clear(&j->place);
  pbuf_free(&j->result);
  free(j->dir);
  free(j);
}

/* How long a 'started' report may wait for company. */
#define OUTBOX_DELAY_MS 5

void
worker_send(struct worker *w, const struct pbuf *b) {
  if (!w->sched)
    return;
  if (!w->outbox.len) {
    conn_send(w->sched, b);
    return;
  }
  pb_frames(&w->outbox, b);
  worker_flush(w);
}

void
worker_flush(struct worker *w) {
  uv_timer_stop(&w->outbox_timer);
  if (!w->sched)
    return; /* kept for the next connection, after its hello */
  if (w->outbox.len)
    conn_send(w->sched, &w->outbox);
  pbuf_reset(&w->outbox);
}

static void
on_outbox_timer(uv_timer_t *t) {
  worker_flush(t->data);
}

/* What was just put in the outbox goes within OUTBOX_DELAY_MS. */
static void
outbox_later(struct worker *w) {
  if (!uv_is_active((uv_handle_t *)&w->outbox_timer))
    uv_timer_start(&w->outbox_timer, on_outbox_timer, OUTBOX_DELAY_MS, 0);
}

static void
send_result(struct worker *w, struct wjob *j) {
  if (!j->ended || !j->result.len)
    return;
  if (j->followed && w->sched) {
    /* A ready job took its place: boxqd's answer is not awaited, so the
     * result waits for company, and boxqd stores several in one go. It
     * follows that job's 'started' report: boxqd never sees the place
     * free before it hears who took it. */
    pb_frames(&w->outbox, &j->result);
    outbox_later(w);
    return;
  }
  worker_send(w, &j->result);
}

/* A job's /tmp on disk (job_tmp = disk), if it is still there. */
static void
remove_job_tmp(struct worker *w, int64_t id) {
  _cleanup_free_ char *tmp_name = xasprintf("job-%lld", (long long)id);
  int tfd = open(w->cfg.job_tmp_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tfd >= 0) {
    rmtree_at(tfd, tmp_name);
    close(tfd);
  }
}

static void
leftovers_emptied(struct worker *w, int64_t id, struct cg_job *cg, bool emptied) {
  (void)cg;
  if (emptied)
    log_info("job %lld: removing the cgroup its shepherd left", (long long)id);
  remove_job_tmp(w, id);
}

void
wjob_remove_leftovers(struct worker *w, int64_t id) {
  struct wjob *j = wjob_find(w, id);
  if ((j && j->shep) || wdrain_active(w, id))
    return; /* it runs again (qrerun): its cgroup is in use; or it is in hand */
  struct cg_job *cg = NULL;
  if (w->sys.mode != CG_MODE_NONE && cg_job_open(&w->sys, id, &cg) == 0)
    wdrain_start(w, id, cg, 5000, leftovers_emptied);
  else
    remove_job_tmp(w, id);
}

/* The shepherd is gone without a result: it was killed, or the machine
 * restarted. Whatever is left of the job has been ended (cg, NULL when its
 * cgroup is gone): record it as lost. */
static int
write_lost_result(struct worker *w, struct wjob *j, struct cg_job *cg) {
  struct job_rec end = {.id = j->id,
                        .end_reason = END_LOST,
                        .has_exit = true,
                        .exit_status = JOB_EXEC_LOST,
                        .etime = time(NULL)};
  if (cg) {
    end.has_usage = true;
    cg_job_stats(cg, &end.usage);
    end.cgroup = xasprintf("%s:%s", cg_mode_name(cg->mode), cg->path);
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
  remove_job_tmp(w, j->id);
  int r = spool_write_result(j->dir, &end, NULL, 0);
  if (r < 0)
    log_error("job %lld: cannot write its lost result: %s", (long long)j->id, strerror(-r));
  else
    log_warn("job %lld: its shepherd went away; recorded as lost", (long long)j->id);
  job_rec_free(&end);
  return r;
}

/* The lost job's cgroup is empty (or will not be): its record now. */
static void
lost_emptied(struct worker *w, int64_t id, struct cg_job *cg, bool emptied) {
  (void)emptied;
  struct wjob *j = wjob_find(w, id);
  if (!j || j->ended || j->shep)
    return;
  if (write_lost_result(w, j, cg) == 0)
    wjob_finish(w, j);
}

/* Records job j as lost: at once when its cgroup is gone, else once the
 * cgroup is empty (drain.c), which may take a while: the loop goes on. */
static void
lose_job(struct worker *w, struct wjob *j) {
  struct cg_job *cg = NULL;
  if (wdrain_active(w, j->id))
    return; /* its record follows the drain under way */
  if (w->sys.mode != CG_MODE_NONE && cg_job_open(&w->sys, j->id, &cg) == 0) {
    wdrain_start(w, j->id, cg, 5000, lost_emptied);
    return;
  }
  if (write_lost_result(w, j, NULL) == 0)
    wjob_finish(w, j);
}

/* Loads JOBDIR/result and sends it; with none, the job is lost (its
 * record is written first, which may wait for its cgroup to empty). */
void
wjob_finish(struct worker *w, struct wjob *j) {
  uint8_t *data = NULL;
  size_t len = 0;
  struct pmsg m;
  int r = spool_read(j->dir, SPOOL_RESULT, &data, &len);
  if (r == -ENOENT) {
    lose_job(w, j);
    return;
  }
  if (r < 0 || proto_parse_frame(data, len, &m) < 0 || m.type != MSG_ENDED) {
    log_error("job %lld: unreadable result in %s", (long long)j->id, j->dir);
    free(data);
    /* Replace it with a lost record so the scheduler still hears of it. */
    _cleanup_free_ char *path = xasprintf("%s/%s", j->dir, SPOOL_RESULT);
    unlink(path);
    lose_job(w, j);
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

/* The spool directory and the script; the shepherd opens the script and
 * hands the job a descriptor. */
static int
write_spool(struct job_rec *job, const char *dir) {
  int r = mkdir(dir, 0700);
  if (r < 0 && errno != EEXIST)
    return -errno;
  _cleanup_free_ char *script = xasprintf("%s/%s", dir, SPOOL_SCRIPT);
  /* The spool must outlive the worker, not the machine: a machine crash
   * ends the job with it, and boxqd then records it as lost (or reruns it).
   * So no fsync here, on the path of every launch. And in place, not
   * renamed: only the job's shepherd reads it, after the handover that
   * follows; a worker killed before that leaves a job nobody runs. */
  r = write_file_direct(script, job->script, job->script_len, 0755);
  free(job->script);
  job->script = NULL;
  job->script_len = 0;
  return r;
}

void
wjob_end_unstarted(struct worker *w, struct wjob *j, const struct job_rec *end) {
  mkdir(j->dir, 0700);
  int r = spool_write_result(j->dir, end, NULL, 0);
  if (r < 0)
    log_error("job %lld: cannot write its result: %s", (long long)j->id, strerror(-r));
  wjob_finish(w, j);
}

int
wjob_launch(struct worker *w, struct wjob *j, struct job_rec *job) {
  /* A run before it may still be draining: its shepherd replaces what is
   * left of that cgroup itself. */
  wdrain_cancel(w, job->id);
  int r = write_spool(job, j->dir);
  if (r == 0)
    r = shep_start_job(w, j, job);
  if (r < 0) {
    log_error("job %lld: cannot start its shepherd: %s", (long long)job->id, strerror(-r));
    struct job_rec end = {.id = job->id,
                          .end_reason = END_LAUNCH,
                          .has_exit = true,
                          .exit_status = JOB_EXEC_FAIL,
                          .etime = time(NULL)};
    end.comment = xasprintf("the worker cannot start the job: %s", strerror(-r));
    wjob_end_unstarted(w, j, &end);
    job_rec_free(&end);
    return r;
  }
  wplace_set(&j->place, job);
  log_info("job %lld: shepherd %d runs it for %s (its job %u)", (long long)job->id,
           (int)j->shep->pid, job->owner, (unsigned)j->shep->seq);
  if (w->sched) {
    struct pbuf *b = &w->outbox;
    pb_begin(b, MSG_STARTED);
    pb_i64(b, T_JOBID, job->id);
    pb_i64(b, J_STIME, time(NULL));
    _cleanup_free_ char *cg =
        xasprintf("%s:%s/job-%lld", cg_mode_name(w->sys.mode),
                  w->sys.parent ? w->sys.parent : w->cfg.cgroup_parent, (long long)job->id);
    pb_str(b, J_CGROUP, cg);
    if (j->instead_of)
      pb_i64(b, T_INSTEAD, j->instead_of);
    pb_end(b);
    outbox_later(w); /* waits for company: its end, or others' */
  }
  return 0;
}

/* A job boxqd has not seen start yet: a result of an earlier run of the
 * same id (a requeue) that waits for its acknowledgement goes first. */
static int
start_job(struct worker *w, struct job_rec *job, int64_t instead_of) {
  struct wjob *prev = wjob_find(w, job->id);
  if (prev && prev->ended)
    wjob_ack(w, job->id); /* boxqd stored it: it runs the job again */
  struct wjob *j = wjob_add(w, job->id);
  j->instead_of = instead_of;
  j->run = job->run_count + 1;
  return wjob_launch(w, j, job);
}

void
wjob_fill_place(struct worker *w, struct wjob *ended) {
  struct job_rec job;
  while (ended->place.known && wready_take_for(&w->ready, &ended->place, &job)) {
    /* Pinned: the lowest of the CPUs the place held, as boxqd records. */
    free(job.cpus);
    job.cpus = cpuset_first(ended->place.cpus, (int)job.ncpus);
    log_debug("job %lld: starts in the place of job %lld", (long long)job.id, (long long)ended->id);
    int r = start_job(w, &job, ended->id);
    job_rec_free(&job);
    if (r == 0) {
      ended->followed = true;
      return;
    }
    /* It ended at once (a launch error): the place is still free. */
  }
}

void
wjob_take_back(struct worker *w, int64_t id) {
  if (!wready_remove(&w->ready, id))
    return; /* started already: boxqd hears it from its 'started' report */
  log_debug("job %lld: given back to boxqd unstarted", (long long)id);
  struct pbuf b = {0};
  pb_begin(&b, MSG_RETURNED);
  pb_i64(&b, T_JOBID, id);
  pb_end(&b);
  worker_send(w, &b);
  pbuf_free(&b);
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
  struct wjob *prev = job.id > 0 ? wjob_find(w, job.id) : NULL;
  if (job.id <= 0 || (prev && (!prev->ended || job.run_count < prev->run))) {
    /* A resend of a job we already have, or one handed ahead that started
     * in another's place (and may have ended) before boxqd heard of it:
     * sent for a run that has been made. A run boxqd asks for again after
     * storing the last (a requeue) counts that one. */
    job_rec_free(&job);
    return 0;
  }
  if (pmsg_i64_or(m, T_READY, 0)) {
    wready_add(&w->ready, &job); /* started when a place it fits frees */
    return 0;
  }
  /* To start now: if it was handed ahead, it is no longer waiting. */
  wready_remove(&w->ready, job.id);
  int r = start_job(w, &job, 0);
  job_rec_free(&job);
  return r;
}

void
wjob_ack(struct worker *w, int64_t id) {
  struct wjob *j = wjob_find(w, id);
  if (!j || !j->ended)
    return; /* an ack for a job still running is a stale message */
  int r = spool_remove(j->dir);
  if (r < 0)
    log_warn("job %lld: cannot remove %s: %s", (long long)id, j->dir, strerror(-r));
  wjob_free(w, j);
}

void
wjob_signal(struct worker *w, int64_t id, int sig, bool cancel) {
  struct wjob *j = wjob_find(w, id);
  if (!j || j->ended || !j->shep)
    return;
  union sigval v = {.sival_int = shepherd_sigval(j->shep->seq, cancel ? 0 : sig)};
  if (sigqueue(j->shep->pid, cancel ? SHEPHERD_SIG_CANCEL : SHEPHERD_SIG_FORWARD, v) < 0)
    log_warn("job %lld: cannot signal shepherd %d: %s", (long long)id, (int)j->shep->pid,
             strerror(errno));
}

void
wjob_send_hello(struct worker *w) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_WORKER_HELLO);
  pb_str(&b, T_INFO, cg_mode_name(w->sys.mode));
  /* A job started in another's place says so (boxqd may not have heard
   * its start: it then records it as it would have). */
  for (struct wjob *j = w->jobs; j; j = j->next) {
    pb_i64(&b, T_JOBID, j->id);
    if (j->instead_of)
      pb_i64(&b, T_INSTEAD, j->instead_of);
  }
  pb_end(&b);
  /* The hello comes first on a connection; 'started' reports that waited
   * for the old one follow it. */
  pb_frames(&b, &w->outbox);
  pbuf_reset(&w->outbox);
  uv_timer_stop(&w->outbox_timer);
  if (w->sched)
    conn_send(w->sched, &b);
  pbuf_free(&b);
  for (struct wjob *j = w->jobs; j; j = j->next)
    send_result(w, j);
}

static void
recover_one(struct worker *w, int64_t id) {
  struct wjob *j = wjob_add(w, id);
  _cleanup_free_ char *result = xasprintf("%s/%s", j->dir, SPOOL_RESULT);
  pid_t pid = spool_find_shepherd(j->dir);
  if (access(result, F_OK) == 0) {
    /* Its shepherd removes the job's cgroup after the result: unless it
     * is still alive to do so, that is ours. */
    if (pid <= 0)
      wjob_remove_leftovers(w, id);
    wjob_finish(w, j);
    return;
  }
  /* A shepherd of the worker before: it serves no other job (seq 0 names
   * whichever it runs) and ends with this one. */
  if (pid > 0 && shep_adopt(w, pid, j) == 0) {
    log_info("job %lld: found its shepherd %d running", (long long)id, (int)pid);
    return;
  }
  wjob_finish(w, j);
}

void
wjob_recover_all(struct worker *w) {
  DIR *d = opendir(w->cfg.spool_dir);
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
      worker_send(w, &b);
      j->usage_mtime = mtime;
    }
    free(data);
  }
}
