/* SPDX-License-Identifier: MIT */
/* Successors: jobs boxqd hands over ahead of time, each to start the
 * moment a given job (its predecessor) ends, so that a slot freed by a
 * short job is filled without a round trip through boxqd (the policy,
 * scheduler/policy.h, picks them: same user, same queue, no bigger). One
 * waits here, unstarted: no spool, no shepherd, no process. If its
 * predecessor runs longer than SUCCESSOR_WAIT_MS it goes back to boxqd
 * (MSG_RETURNED), with the chain behind it, so that a job planned early
 * never holds its place in line for long. */
#include "log.h"
#include "worker.h"

#include <string.h>
#include <time.h>

static void on_wait_timer(uv_timer_t *t);

static void
arm_wait_timer(struct worker *w) {
  uint64_t now = uv_now(w->loop), first = UINT64_MAX;
  for (struct wjob *j = w->jobs; j; j = j->next)
    if (j->waiting && !(j->pred && j->pred->waiting) && j->waiting_since < first)
      first = j->waiting_since;
  if (first == UINT64_MAX) {
    uv_timer_stop(&w->wait_timer);
    return;
  }
  uint64_t due = first + SUCCESSOR_WAIT_MS;
  uv_timer_start(&w->wait_timer, on_wait_timer, due > now ? due - now : 0, 0);
}

void
wsucc_hold(struct worker *w, struct wjob *j, struct wjob *pred, struct job_rec *job) {
  pred->succ = j;
  j->pred = pred;
  j->waiting = xmalloc(sizeof(*job));
  *j->waiting = *job;                 /* the record's strings move with it */
  j->waiting_since = uv_now(w->loop); /* counts once pred runs (on_wait_timer) */
  static uint64_t seq;
  j->held_seq = ++seq;
  log_debug("job %lld: held to start when job %lld ends", (long long)j->id, (long long)pred->id);
  if (!uv_is_active((uv_handle_t *)&w->wait_timer))
    arm_wait_timer(w);
}

void
wsucc_unlink(struct wjob *j) {
  if (j->pred)
    j->pred->succ = j->succ;
  if (j->succ)
    j->succ->pred = j->pred;
  j->pred = j->succ = NULL;
}

/* Interchangeable in any place: same user, queue, CPUs, memory, array. */
static bool
alike(const struct job_rec *a, const struct job_rec *b) {
  return a->uid == b->uid && a->ncpus == b->ncpus && a->mem == b->mem &&
         a->array_id == b->array_id && streq(a->queue ? a->queue : "", b->queue ? b->queue : "");
}

/* Chains are planned one place at a time, so when one place frees before
 * another, a job planned for the later one may be ranked above the one
 * planned for this. The earliest handed over of the jobs alike to next
 * takes next's place (they trade places); boxqd hears it with the start. */
static struct wjob *
earliest_alike(struct worker *w, struct wjob *next) {
  struct wjob *best = next;
  for (struct wjob *h = w->jobs; h; h = h->next)
    if (h != next && h->waiting && h->held_seq < best->held_seq && alike(h->waiting, next->waiting))
      best = h;
  if (best == next)
    return next;
  struct wjob *pn = next->pred, *sn = next->succ, *pb = best->pred, *sb = best->succ;
  if (pb == next || sn == best || sb == next || pn == best)
    return next; /* neighbours: never planned so (a chain is in order) */
  pn->succ = best;
  best->pred = pn;
  best->succ = sn;
  if (sn)
    sn->pred = best;
  if (pb)
    pb->succ = next;
  next->pred = pb;
  next->succ = sb;
  if (sb)
    sb->pred = next;
  uint64_t since = best->waiting_since;
  best->waiting_since = next->waiting_since;
  next->waiting_since = since;
  best->instead_of = next->id;
  best->behind_started = sn ? sn->id : 0;
  best->behind_instead = sb ? sb->id : 0;
  log_debug("job %lld: starts in the place planned for job %lld", (long long)best->id,
            (long long)next->id);
  return best;
}

void
wsucc_follow_on(struct worker *w, struct wjob *j) {
  struct wjob *next = j->succ;
  if (!next)
    return;
  next = earliest_alike(w, next);
  j->succ = NULL;
  j->followed = true;
  next->pred = NULL; /* the chain behind it stays behind it */
  if (next->succ) {
    next->succ->waiting_since = uv_now(w->loop);
    if (!uv_is_active((uv_handle_t *)&w->wait_timer))
      arm_wait_timer(w);
  }
  struct job_rec *job = next->waiting;
  next->waiting = NULL;
  wjob_launch(w, next, job);
  job_rec_free(job);
  free(job);
}

void
wsucc_cancel(struct worker *w, struct wjob *j) {
  wsucc_unlink(j); /* the one behind it now follows its predecessor */
  j->unstarted = true;
  job_rec_free(j->waiting);
  free(j->waiting);
  j->waiting = NULL;
  struct job_rec end = {.id = j->id,
                        .end_reason = END_CANCELLED,
                        .has_exit = true,
                        .exit_status = JOB_EXEC_KILLED_BEFORE_START,
                        .etime = time(NULL)};
  end.comment = xstrdup("deleted before it started");
  wjob_end_unstarted(w, j, &end);
  job_rec_free(&end);
}

void
wsucc_refuse(struct worker *w, int64_t id) {
  log_debug("job %lld: given back to boxqd unstarted", (long long)id);
  struct pbuf b = {0};
  pb_begin(&b, MSG_RETURNED);
  pb_i64(&b, T_JOBID, id);
  pb_end(&b);
  worker_send(w, &b);
  pbuf_free(&b);
}

void
wsucc_give_back(struct worker *w, struct wjob *j) {
  if (j->pred)
    j->pred->succ = NULL;
  j->pred = NULL;
  while (j) {
    struct wjob *next = j->succ;
    wsucc_refuse(w, j->id);
    j->succ = NULL;
    if (next)
      next->pred = NULL;
    wjob_free(w, j);
    j = next;
  }
}

static void
on_wait_timer(uv_timer_t *t) {
  struct worker *w = t->data;
  uint64_t now = uv_now(w->loop);
  for (bool again = true; again;) {
    again = false;
    for (struct wjob *j = w->jobs; j; j = j->next)
      /* Timed from its predecessor's start: one behind another held job
       * waits for that one first. */
      if (j->waiting && !(j->pred && j->pred->waiting) &&
          now - j->waiting_since >= SUCCESSOR_WAIT_MS) {
        wsucc_give_back(w, j); /* frees j and others: walk the list again */
        again = true;
        break;
      }
  }
  arm_wait_timer(w);
}
