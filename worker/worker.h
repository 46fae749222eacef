/* SPDX-License-Identifier: MIT */
/* boxq-worker: runs as root, receives jobs from boxqd, starts one shepherd
 * per job and relays each job's result back until boxqd has stored it. */
#pragma once

#include "cfg.h"
#include "cgroup.h"
#include "conn.h"
#include "shepherd.h"
#include "usercache.h"

#include <uv.h>

struct wjob {
  int64_t id;
  char *dir;
  pid_t pid; /* the shepherd */
  bool ended;
  bool acked;     /* boxqd stored the result; the shepherd may still be leaving */
  uv_poll_t poll; /* on pidfd: the shepherd's exit (forked, or found after a restart) */
  int pidfd;
  /* Closed by the shepherd once its result is written, before it releases
   * the job's namespaces and exits: the result goes out that much sooner. */
  uv_poll_t done_poll;
  int done_fd;
  int handles;         /* open uv handles: freed when the last one has closed */
  struct pbuf result;  /* the ENDED frame, once ended */
  int64_t usage_mtime; /* of the last usage snapshot relayed */
  struct worker *w;
  struct wjob *next;
};

struct worker {
  struct boxq_config cfg;
  uv_loop_t *loop;
  struct cg_system sys;
  const char *server_name;
  uv_pipe_t server;
  uv_signal_t sig_term, sig_int;
  struct conn *sched;
  struct wjob *jobs;
  uv_timer_t sample_timer;
  /* Jobs' 'started' reports wait here a few milliseconds and go out with
   * the next message: a short job's start and end reach boxqd together,
   * one transaction there instead of two. */
  struct pbuf outbox;
  uv_timer_t outbox_timer;
  uid_t sched_uid;        /* scheduler_user's uid */
  struct usercache users; /* jobs' accounts, looked up before each fork */
  struct arg_area args;   /* its command line's place, which shepherds rename; 0s: unknown */
};

/* jobs.c */
/* Sends b to the scheduler after whatever waits in the outbox. */
void worker_send(struct worker *w, const struct pbuf *b);
void worker_flush(struct worker *w);
struct wjob *wjob_find(struct worker *w, int64_t id);
void wjob_recover_all(struct worker *w);
int wjob_dispatch(struct worker *w, const struct pmsg *m);
void wjob_ack(struct worker *w, int64_t id);
void wjob_signal(struct worker *w, int64_t id, int sig, bool cancel);
void wjob_send_hello(struct worker *w);
void wjob_close_all(struct worker *w);
/* Relays running jobs' new usage snapshots to the scheduler. */
void wjob_relay_usage(struct worker *w);
