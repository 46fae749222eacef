/* SPDX-License-Identifier: MIT */
/* Handing a job to a shepherd: the frame (the job, its spool directory,
 * its user as the worker looked it up) and how it crosses the socket pair
 * between the worker and the shepherd.
 *
 * The worker's end is non-blocking (its event loop watches it) and must
 * never wait: a frame that surely fits the socket's buffer goes inline; a
 * larger one (a job with a big environment: up to 1 MiB) goes in a memfd
 * passed with SCM_RIGHTS, behind a small frame that says so. */
#pragma once

#include "job.h"
#include "proto.h"
#include "usercache.h"

#include <stdbool.h>
#include <stdint.h>

/* One handed-over job and its user, owned by the shepherd while it runs. */
struct handover {
  uint32_t seq;
  char *jobdir;
  struct job_rec job;
  struct user_info user;
  bool has_user;
  int user_errno;
  char *user_error;
  bool large; /* it came in a memfd: the shepherd gives the memory back after */
};

/* The frame: user NULL means user_error says why there is none (the job
 * fails to start). seq numbers the shepherd's jobs. */
void handover_encode(struct pbuf *b, uint32_t seq, const char *jobdir, const struct job_rec *job,
                     const struct user_info *user, int user_errno, const char *user_error);

/* Sends the frame on the worker's end of the pair without waiting: 0, or
 * -errno (the shepherd is gone, or no memory for a memfd). */
int handover_send(int chan, const struct pbuf *frame);

/* The shepherd's side, blocking: 1 and *ret filled (handover_free it), 0
 * when the worker's end is closed, -errno for a broken channel or frame. */
int handover_recv(int chan, struct pframer *fr, struct handover *ret);
void handover_free(struct handover *h);
