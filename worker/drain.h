/* SPDX-License-Identifier: MIT */
/* Emptying and removing a dead job's cgroup without ever blocking the
 * worker's loop (its shepherd died, or left the cgroup behind). A process
 * can take long to die (uninterruptible sleep, a frozen cgroup, a slow
 * file system): the worker kills, then looks again on a timer (5 ms,
 * doubling up to 100 ms) until the cgroup is empty or its time is up, and
 * likewise retries a busy rmdir, while every other job starts on time. */
#pragma once

#include "cgroup.h"

#include <stdbool.h>
#include <stdint.h>

struct worker;

/* Called once the cgroup is empty (emptied true) or time is up; the
 * cgroup's files are still there to read. Removal follows. */
typedef void (*wdrain_fn)(struct worker *w, int64_t id, struct cg_job *cg, bool emptied);

/* Takes cg; done runs from the loop, or at once when cg is empty already. */
void wdrain_start(struct worker *w, int64_t id, struct cg_job *cg, int timeout_ms, wdrain_fn done);
/* A drain of job id's cgroup is under way (not removed yet). */
bool wdrain_active(const struct worker *w, int64_t id);
/* The job runs again (qrerun, a requeued lost job): its shepherd replaces
 * what is left of the old cgroup itself; the drain stops touching it
 * (without calling its done). */
void wdrain_cancel(struct worker *w, int64_t id);
/* At the worker's exit: stops every drain (what is left stays, and a
 * restarted worker's recovery finds it). */
void wdrain_close_all(struct worker *w);
