/* SPDX-License-Identifier: MIT */
/* The worker's ready set: queued jobs boxqd hands over ahead of time
 * (MSG_DISPATCH with T_READY), none of them started. When a running job's
 * place frees, the worker starts the first of them, in the order handed,
 * that fits that place (wready_fits) without asking boxqd, and says which
 * place it took (T_INSTEAD in its MSG_STARTED). boxqd keeps the same set
 * (scheduler/ready.c); in its database these jobs stay queued.
 *
 * Pure bookkeeping: no I/O, so tests drive it directly. */
#pragma once

#include "job.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a running job holds, for a ready job to take over when it ends. */
struct wplace {
  bool known; /* false: a job found after a restart, its record gone */
  int64_t uid, ncpus, mem, array_id;
  char *queue;
  char *cpus; /* pinned CPUs, "" if none */
};

struct wready {
  struct job_rec *jobs; /* in the order handed */
  size_t n, cap;
};

/* The place job will hold. */
void wplace_set(struct wplace *p, const struct job_rec *job);
void wplace_clear(struct wplace *p);

/* Whether job may start in place p: the same user and queue, no more CPUs
 * or memory, and if its array caps how many run at once (%N), the same
 * array. The policy plans the set by the same rule (policy.h). */
bool wready_fits(const struct wplace *p, const struct job_rec *job);

/* Takes job (its strings move into the set). A job already in it is
 * replaced. */
void wready_add(struct wready *r, struct job_rec *job);
bool wready_has(const struct wready *r, int64_t id);
/* Removes job id; true if it was there. */
bool wready_remove(struct wready *r, int64_t id);
/* The first job that fits p, moved out of the set into *ret; false if
 * none does. */
bool wready_take_for(struct wready *r, const struct wplace *p, struct job_rec *ret);
void wready_clear(struct wready *r);
