/* SPDX-License-Identifier: MIT */
/* The worker's ready set (ready.h). It holds a few jobs per running job
 * ([scheduler] lookahead of them), so a list searched in order is both
 * the simplest and fast enough. */
#include "ready.h"
#include "util.h"

#include <string.h>

void
wplace_set(struct wplace *p, const struct job_rec *job) {
  wplace_clear(p);
  *p = (struct wplace){.known = true,
                       .uid = job->uid,
                       .ncpus = job->ncpus,
                       .mem = job->mem,
                       .array_id = job->array_id,
                       .queue = xstrdup(job->queue ? job->queue : ""),
                       .cpus = xstrdup(job->cpus ? job->cpus : "")};
}

void
wplace_clear(struct wplace *p) {
  free(p->queue);
  free(p->cpus);
  *p = (struct wplace){0};
}

bool
wready_fits(const struct wplace *p, const struct job_rec *job) {
  return p->known && job->uid == p->uid && streq(job->queue ? job->queue : "", p->queue) &&
         job->ncpus <= p->ncpus && job->mem <= p->mem &&
         (job->array_limit <= 0 || job->array_id == p->array_id);
}

static ssize_t
index_of(const struct wready *r, int64_t id) {
  for (size_t i = 0; i < r->n; i++)
    if (r->jobs[i].id == id)
      return (ssize_t)i;
  return -1;
}

/* Keeps the order: the jobs behind move up. */
static void
cut(struct wready *r, size_t i) {
  memmove(&r->jobs[i], &r->jobs[i + 1], (r->n - i - 1) * sizeof(*r->jobs));
  r->n--;
}

void
wready_add(struct wready *r, struct job_rec *job) {
  wready_remove(r, job->id);
  r->jobs = xgrow(r->jobs, r->n, &r->cap, sizeof(*r->jobs), 16);
  r->jobs[r->n++] = *job;
  *job = (struct job_rec){0};
}

bool
wready_has(const struct wready *r, int64_t id) {
  return index_of(r, id) >= 0;
}

bool
wready_remove(struct wready *r, int64_t id) {
  ssize_t i = index_of(r, id);
  if (i < 0)
    return false;
  job_rec_free(&r->jobs[i]);
  cut(r, (size_t)i);
  return true;
}

bool
wready_take_for(struct wready *r, const struct wplace *p, struct job_rec *ret) {
  for (size_t i = 0; i < r->n; i++)
    if (wready_fits(p, &r->jobs[i])) {
      *ret = r->jobs[i];
      cut(r, i);
      return true;
    }
  return false;
}

void
wready_clear(struct wready *r) {
  for (size_t i = 0; i < r->n; i++)
    job_rec_free(&r->jobs[i]);
  free(r->jobs);
  *r = (struct wready){0};
}
