/* SPDX-License-Identifier: MIT */
/* The box as / and /metrics both see it: boxqd's server info, the
 * unfinished jobs, and what the running ones hold, in all and per user. */
#include "web.h"

#include <stdlib.h>
#include <string.h>

bool
job_is_array_job(const struct job_rec *j) {
  return j->array_spec && j->array_spec[0] && !j->array_id;
}

int64_t
job_cpus(const struct job_rec *j) {
  return j->ncpus > 0 ? j->ncpus : 1;
}

int64_t
job_mem(const struct job_rec *j) {
  return j->mem > 0 ? j->mem : 0;
}

static int
by_cpus(const void *a, const void *b) {
  const struct user_hold *x = a, *y = b;
  return x->cpus < y->cpus ? 1 : x->cpus > y->cpus ? -1 : strcmp(x->user, y->user);
}

int
box_fetch(struct web *w, struct box *box) {
  *box = (struct box){0};
  int r = web_server_info(w, &box->info);
  if (r == 0)
    r = web_jobs(w, FETCH_TASKS, NULL, &box->jobs);
  if (r < 0)
    return r;
  box->holds = xcalloc(box->jobs.n + 1, sizeof(*box->holds));
  for (size_t i = 0; i < box->jobs.n; i++) {
    const struct job_rec *j = &box->jobs.jobs[i];
    if (job_is_array_job(j) || (j->state != JOB_RUNNING && j->state != JOB_EXITING))
      continue;
    const char *user = j->owner ? j->owner : "";
    size_t k = 0;
    while (k < box->nholds && strcmp(box->holds[k].user, user) != 0)
      k++;
    if (k == box->nholds)
      box->holds[box->nholds++] = (struct user_hold){.user = user};
    struct user_hold *h[] = {&box->holds[k], &box->held};
    for (size_t m = 0; m < ARRAY_SIZE(h); m++) {
      h[m]->cpus += job_cpus(j);
      h[m]->mem += job_mem(j);
      h[m]->gpus += j->ngpus;
    }
  }
  qsort(box->holds, box->nholds, sizeof(*box->holds), by_cpus);
  return 0;
}

void
box_free(struct box *box) {
  free(box->info);
  joblist_free(&box->jobs);
  free(box->holds);
  *box = (struct box){0};
}
