/* SPDX-License-Identifier: MIT */
/* Scheduling policy: which queued jobs start now. Pure: no I/O, no clock,
 * so tests can play out any situation exactly. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Consumable resources of the box. */
struct sched_capacity {
  int64_t ncpus;
  int64_t mem;
};

/* A queued job as the policy sees it, in priority order. */
struct sched_job {
  int64_t id;
  int64_t ncpus;
  int64_t mem;
};

/* Chooses jobs to start from queue[0..n), given what running jobs already
 * hold (used). Writes the indexes of the chosen jobs to chosen (at most
 * max_chosen) and returns their count; used is updated to include them.
 *
 * The policy is strict priority order: the first job that does not fit
 * stops the pass, so a big job is never starved by smaller ones behind it.
 * (Backfill of jobs that cannot delay it needs walltimes; see issue 4.) */
size_t sched_pick(const struct sched_capacity *cap, struct sched_capacity *used,
                  const struct sched_job *queue, size_t n, size_t *chosen, size_t max_chosen);

/* True if a job could ever run on this box. */
int sched_fits_box(const struct sched_capacity *cap, int64_t ncpus, int64_t mem);
