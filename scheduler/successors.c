/* SPDX-License-Identifier: MIT */
/* Jobs handed to the worker ahead of time, to start the moment the job
 * they follow ends (policy.h says which may). boxqd keeps the chains the
 * worker holds, so that a pass counts a successor as running only once
 * its predecessor has ended (it then runs, or is about to), and knows
 * which jobs may take one more.
 *
 * Forgetting is always safe: a successor whose link is lost is counted as
 * running from then on, which only leaves its place unused until it
 * starts. So a new worker connection forgets them all. */
#include "boxqd.h"

#include <string.h>

static ssize_t
link_of_succ(const struct boxqd *d, int64_t id) {
  for (size_t i = 0; i < d->nsucc; i++)
    if (d->succ[i].succ == id)
      return (ssize_t)i;
  return -1;
}

static ssize_t
link_of_pred(const struct boxqd *d, int64_t id) {
  for (size_t i = 0; i < d->nsucc; i++)
    if (d->succ[i].pred == id)
      return (ssize_t)i;
  return -1;
}

static void
drop_link(struct boxqd *d, size_t i) {
  d->succ[i] = d->succ[--d->nsucc];
}

static bool
no_follow(const struct boxqd *d, int64_t id) {
  for (size_t i = 0; i < d->nno_follow; i++)
    if (d->no_follow[i] == id)
      return true;
  return false;
}

static void
forget_no_follow(struct boxqd *d, int64_t id) {
  for (size_t i = 0; i < d->nno_follow; i++)
    if (d->no_follow[i] == id) {
      d->no_follow[i] = d->no_follow[--d->nno_follow];
      return;
    }
}

void
succ_planned(struct boxqd *d, int64_t pred, int64_t succ, uint8_t reason) {
  d->succ = xgrow(d->succ, d->nsucc, &d->cap_succ, sizeof(*d->succ), 16);
  d->succ[d->nsucc++] = (struct succ_link){.pred = pred, .succ = succ, .reason = reason};
}

struct succ_link *
succ_link_of(struct boxqd *d, int64_t id) {
  ssize_t i = link_of_succ(d, id);
  return i >= 0 ? &d->succ[i] : NULL;
}

const struct succ_link *
succ_held(struct boxqd *d, const struct job_rec *j) {
  return j->state == JOB_RUNNING ? succ_link_of(d, j->id) : NULL;
}

bool
succ_waiting(const struct boxqd *d, int64_t id) {
  return link_of_succ(d, id) >= 0;
}

int
succ_depth(const struct boxqd *d, int64_t id) {
  if (link_of_pred(d, id) >= 0 || no_follow(d, id))
    return -1; /* followed already, or known to run long */
  int depth = 0;
  for (ssize_t i; (i = link_of_succ(d, id)) >= 0 && depth <= (int)d->nsucc; depth++)
    id = d->succ[i].pred;
  return depth;
}

void
succ_started(struct boxqd *d, int64_t id, int64_t instead_of, int64_t behind_id,
             int64_t behind_instead) {
  ssize_t i;
  if (instead_of > 0 && instead_of != id) {
    /* It took the place planned for instead_of (whose predecessor has
     * ended: that link is gone, or goes now), and instead_of waits in its
     * place. The jobs that were behind each, as the worker names them,
     * now follow the other. Not every link naming the two: boxqd may have
     * planned more behind either before it heard of the trade, and the
     * worker put those behind the job they were sent for. */
    if ((i = link_of_succ(d, instead_of)) >= 0)
      drop_link(d, (size_t)i);
    if ((i = link_of_succ(d, id)) >= 0) {
      d->succ[i].succ = instead_of;
      d->succ[i].taking_back = false; /* that was asked of id */
    }
    if (behind_id > 0 && (i = link_of_succ(d, behind_id)) >= 0)
      d->succ[i].pred = id;
    if (behind_instead > 0 && (i = link_of_succ(d, behind_instead)) >= 0)
      d->succ[i].pred = instead_of;
    return;
  }
  if ((i = link_of_succ(d, id)) >= 0)
    drop_link(d, (size_t)i);
}

void
succ_ended(struct boxqd *d, int64_t id) {
  forget_no_follow(d, id);
  ssize_t before = link_of_succ(d, id), after = link_of_pred(d, id);
  if (before >= 0 && after >= 0) {
    /* Cancelled before it started: the worker moves the job that was to
     * follow it up behind its own predecessor. */
    d->succ[after].pred = d->succ[before].pred;
    drop_link(d, (size_t)before);
  } else if (before >= 0)
    drop_link(d, (size_t)before);
  else if (after >= 0)
    drop_link(d, (size_t)after); /* its successor runs now */
}

void
succ_returned(struct boxqd *d, int64_t id) {
  forget_no_follow(d, id);
  ssize_t i = link_of_succ(d, id);
  if (i < 0)
    return;
  /* Unless boxqd asked for it: its predecessor ran past the worker's
   * wait, runs long, and gets no successor again (a pass would plan one
   * only for it to come back). */
  int64_t pred = d->succ[i].pred;
  bool asked = d->succ[i].taking_back;
  drop_link(d, (size_t)i);
  if (!asked && !no_follow(d, pred)) {
    d->no_follow = xgrow(d->no_follow, d->nno_follow, &d->cap_no_follow, sizeof(int64_t), 16);
    d->no_follow[d->nno_follow++] = pred;
  }
}

void
succ_forget_all(struct boxqd *d) {
  d->nsucc = 0;
  d->nno_follow = 0;
}
