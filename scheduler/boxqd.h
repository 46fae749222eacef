/* SPDX-License-Identifier: MIT */
/* The scheduler daemon's state, passed to every part of it. */
#pragma once

#include "cfg.h"
#include "cpuset.h"
#include "conn.h"
#include "db.h"
#include "policy.h"

#include <uv.h>

struct boxqd {
  struct boxq_config cfg;
  uv_loop_t *loop;
  struct db *db;
  const char *server_name;
  struct sched_capacity cap;
  struct cpuset pin_cpus; /* CPUs jobs are pinned to, with pin_cpus */

  uv_pipe_t server;
  uv_signal_t sig_term, sig_int;

  /* The link to boxq-worker: connected, and ready once its hello arrived. */
  struct conn *worker;
  bool worker_ready;
  char worker_backend[16]; /* the worker's cgroup backend, from its hello */
  uv_timer_t reconnect;
  uv_connect_t connect_req;

  /* Scheduling passes are coalesced: events ask for one, the loop runs it. */
  uv_idle_t sched_idle;
  bool sched_pending;
  bool stopping;
  /* Open client connections per uid, to cap what one user can hold. */
  struct uid_count *conns_by_uid;
};

struct uid_count {
  uid_t uid;
  int n;
  struct uid_count *next;
};

/* server.c: the client socket. */
int server_start(struct boxqd *d);

/* requests.c: one handler per client request; each sends one reply. */
void req_dispatch(struct boxqd *d, struct conn *c, const struct pmsg *m);
/* Root, managers and operators may act on any job. */
bool may_act_on_any(struct boxqd *d, struct conn *c);

/* dispatch.c: the worker link and the scheduling pass. */
void worker_link_start(struct boxqd *d);
void worker_link_stop(struct boxqd *d);
void sched_request_pass(struct boxqd *d);
/* Asks the worker to signal (or, with cancel, to end) a running job. */
int worker_signal_job(struct boxqd *d, int64_t id, int sig, bool cancel);

/* Sends a reply with a status and an optional message. */
void reply_status(struct conn *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
