/* SPDX-License-Identifier: MIT */
#include "policy.h"

int
sched_fits_box(const struct sched_capacity *cap, int64_t ncpus, int64_t mem) {
  return ncpus <= cap->ncpus && mem <= cap->mem;
}

size_t
sched_pick(const struct sched_capacity *cap, struct sched_capacity *used,
           const struct sched_job *queue, size_t n, size_t *chosen, size_t max_chosen) {
  size_t count = 0;
  for (size_t i = 0; i < n && count < max_chosen; i++) {
    const struct sched_job *j = &queue[i];
    if (used->ncpus + j->ncpus > cap->ncpus || used->mem + j->mem > cap->mem)
      break;
    used->ncpus += j->ncpus;
    used->mem += j->mem;
    chosen[count++] = i;
  }
  return count;
}
