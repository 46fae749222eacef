/* SPDX-License-Identifier: MIT */
/* Clients waiting for jobs to end (qwait, qsub -W block=true) or to start
 * (qsub -I, WAIT_STARTED). A MSG_WAIT names jobs; boxqd answers it once
 * the last of them has finished (started), with their records, so the
 * client sleeps in one read instead of polling. Waits are looked at
 * before and after every scheduling pass: every change that can finish a
 * job (an end, a qdel, a dependency that can no longer be met) asks for
 * one, and passes start jobs. A qsub -I that goes while its job waits
 * (WAIT_WITHDRAW) takes the job with it: nobody would be at its terminal. */
#include "boxqd.h"
#include "log.h"

#include <string.h>

/* Most jobs one request may wait for. */
#define WAIT_MAX_JOBS 100000

struct waiter {
  struct conn *c;
  int64_t *ids;
  size_t n;
  size_t done;   /* ids[0..done) have finished (started) */
  int64_t flags; /* WAIT_* */
  struct waiter *next;
};

/* Moves *w's done mark past the jobs that have finished (or started, for
 * WAIT_STARTED); true when all have (with WAIT_ANY: when any has). A job
 * that is gone from the database counts as finished. */
static bool
all_finished(struct boxqd *d, struct waiter *w) {
  if (w->flags & WAIT_ANY) {
    for (size_t i = 0; i < w->n; i++) {
      struct job_rec j;
      int r = db_get_job(d->db, w->ids[i], false, &j);
      bool fin = r == -ENOENT || (r == 0 && j.state == JOB_FINISHED);
      if (r == 0)
        job_rec_free(&j);
      if (fin)
        return true;
    }
    return false;
  }
  while (w->done < w->n) {
    struct job_rec j;
    int r = db_get_job(d->db, w->ids[w->done], false, &j);
    if (r == 0) {
      bool fin = j.state == JOB_FINISHED ||
                 ((w->flags & WAIT_STARTED) && (j.state == JOB_RUNNING || j.state == JOB_EXITING));
      job_rec_free(&j);
      if (!fin)
        return false;
    } else if (r != -ENOENT)
      return false; /* try again at the next look */
    w->done++;
  }
  return true;
}

static void
answer(struct boxqd *d, struct waiter *w) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  for (size_t i = 0; i < w->n; i++) {
    struct job_rec j;
    if (db_get_job(d->db, w->ids[i], false, &j) < 0)
      continue;
    free(j.script);
    j.script = NULL;
    size_t mark = pb_nest_begin(&b, T_JOB);
    job_rec_encode(&b, &j);
    pb_nest_end(&b, mark);
    job_rec_free(&j);
  }
  reply_finish(d, w->c, &b, 0);
}

static void
waiter_free(struct waiter *w) {
  free(w->ids);
  free(w);
}

void
req_wait(struct boxqd *d, struct conn *c, const struct pmsg *m) {
  struct waiter *w = xcalloc(1, sizeof(*w));
  w->c = c;
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  int status = 0;
  size_t off = 0;
  struct pfield f;
  w->flags = pmsg_i64_or(m, T_FLAGS, 0);
  while (pmsg_next(m, &off, &f)) {
    int64_t id;
    struct berr err = {{0}};
    int r = ref_field(d, &f, &id, &err);
    if (r == 1)
      continue;
    if (r < 0) {
      reply_add_error(&b, &status, r, err.msg);
      continue;
    }
    struct job_rec j;
    if ((r = db_get_job(d->db, id, false, &j)) < 0) {
      _cleanup_free_ char *msg =
          r == -ENOENT ? xasprintf("Unknown Job Id %lld.%s", (long long)id, d->server_name)
                       : xasprintf("%lld.%s: %s", (long long)id, d->server_name, db_errmsg(d->db));
      reply_add_error(&b, &status, r, msg);
      continue;
    }
    job_rec_free(&j);
    if (w->n >= WAIT_MAX_JOBS) {
      reply_add_error(&b, &status, -E2BIG, "too many jobs to wait for in one request");
      break;
    }
    w->ids = xrealloc(w->ids, (w->n + 1) * sizeof(*w->ids));
    w->ids[w->n++] = id;
  }
  if (status < 0 || w->n == 0) {
    if (w->n == 0 && status == 0)
      reply_add_error(&b, &status, -EINVAL, "no job to wait for");
    reply_finish(d, c, &b, status);
    waiter_free(w);
    return;
  }
  pbuf_free(&b);
  if (all_finished(d, w)) {
    answer(d, w);
    waiter_free(w);
    return;
  }
  w->next = d->waiters;
  d->waiters = w;
}

void
waiters_check(struct boxqd *d) {
  for (struct waiter **p = &d->waiters; *p;) {
    struct waiter *w = *p;
    if (!all_finished(d, w)) {
      p = &w->next;
      continue;
    }
    *p = w->next;
    answer(d, w);
    waiter_free(w);
  }
}

void
waiters_forget_conn(struct boxqd *d, struct conn *c) {
  for (struct waiter **p = &d->waiters; *p;) {
    struct waiter *w = *p;
    if (w->c != c) {
      p = &w->next;
      continue;
    }
    *p = w->next;
    for (size_t i = w->done; i < w->n && (w->flags & WAIT_WITHDRAW); i++)
      act_withdraw(d, w->ids[i], c->uid, "its qsub -I went away before it started");
    waiter_free(w);
  }
}

void
waiters_free(struct boxqd *d) {
  while (d->waiters) {
    struct waiter *w = d->waiters;
    d->waiters = w->next;
    waiter_free(w);
  }
}
