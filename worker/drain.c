/* SPDX-License-Identifier: MIT */
#include "drain.h"

#include "log.h"
#include "worker.h"

#include <string.h>

#define FIRST_DELAY_MS 5
#define MAX_DELAY_MS   100
#define REMOVE_TIME_MS 1000 /* the kernel releasing the last task: moments */

struct wdrain {
  struct worker *w;
  int64_t id;
  struct cg_job *cg;
  wdrain_fn done;
  bool removing; /* emptied (or given up) and reported: removal now */
  uint64_t deadline, delay;
  uv_timer_t timer;
  struct wdrain *next;
};

static void on_timer(uv_timer_t *t);

static void
unlink_drain(struct wdrain *d) {
  for (struct wdrain **pp = &d->w->drains; *pp; pp = &(*pp)->next)
    if (*pp == d) {
      *pp = d->next;
      break;
    }
}

static void
free_drain(uv_handle_t *h) {
  struct wdrain *d = h->data;
  cg_job_free(d->cg);
  free(d);
}

static void
finish(struct wdrain *d) {
  unlink_drain(d);
  uv_timer_stop(&d->timer);
  uv_close((uv_handle_t *)&d->timer, free_drain);
}

static void
later(struct wdrain *d) {
  uv_timer_start(&d->timer, on_timer, d->delay, 0);
  d->delay = d->delay * 2 > MAX_DELAY_MS ? MAX_DELAY_MS : d->delay * 2;
}

/* One step: kill and look (emptying), or try rmdir (removing). */
static void
step(struct wdrain *d) {
  uint64_t now = uv_now(d->w->loop);
  if (!d->removing) {
    bool empty = !cg_job_populated(d->cg);
    if (!empty && now < d->deadline) {
      cg_job_kill(d->cg);
      later(d);
      return;
    }
    d->cg->emptied = empty;
    if (!empty)
      log_error("job %lld: processes remain in cgroup %s", (long long)d->id, d->cg->path);
    d->done(d->w, d->id, d->cg, empty);
    if (!empty) {
      finish(d); /* not removable: the next start of the worker tries again */
      return;
    }
    d->removing = true;
    d->deadline = now + REMOVE_TIME_MS;
    d->delay = FIRST_DELAY_MS;
  }
  int r = cg_job_remove(d->cg);
  if (r == -EBUSY && now < d->deadline) {
    later(d);
    return;
  }
  if (r < 0)
    log_warn("job %lld: cannot remove cgroup %s: %s", (long long)d->id, d->cg->path, strerror(-r));
  finish(d);
}

static void
on_timer(uv_timer_t *t) {
  step(t->data);
}

void
wdrain_start(struct worker *w, int64_t id, struct cg_job *cg, int timeout_ms, wdrain_fn done) {
  struct wdrain *d = xcalloc(1, sizeof(*d));
  d->w = w;
  d->id = id;
  d->cg = cg;
  d->done = done;
  d->delay = FIRST_DELAY_MS;
  d->deadline = uv_now(w->loop) + (uint64_t)timeout_ms;
  uv_timer_init(w->loop, &d->timer);
  d->timer.data = d;
  d->next = w->drains;
  w->drains = d;
  cg_job_kill(cg);
  step(d);
}

bool
wdrain_active(const struct worker *w, int64_t id) {
  for (const struct wdrain *d = w->drains; d; d = d->next)
    if (d->id == id)
      return true;
  return false;
}

void
wdrain_cancel(struct worker *w, int64_t id) {
  for (struct wdrain *d = w->drains, *next; d; d = next) {
    next = d->next;
    if (d->id != id)
      continue;
    /* Its done is not called: a lost job's drain ends before boxqd can
     * dispatch the job again (it learns of the end from done), so what
     * is cancelled is a leftover's, whose done only tidies. */
    finish(d);
  }
}

void
wdrain_close_all(struct worker *w) {
  while (w->drains)
    finish(w->drains);
}
