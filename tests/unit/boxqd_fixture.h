/* SPDX-License-Identifier: MIT */
/* boxqd's state machines driven in process, frame by frame, with a real
 * database in a scratch directory: client requests (a client on one end
 * of a socket pair with the uid the test gives it) and the worker link
 * (the test listens on the worker's socket and plays the worker). The
 * helpers run boxqd's loop until the answer they wait for arrives (after
 * the log's sync, for changes). Shared by test_boxqd and test_ready. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "boxqd.h"

struct fixture {
  struct boxqd d;
  struct conn *client; /* boxqd's end */
  int peer;            /* the test's end */
  struct pframer fr;
  int listen_fd, worker; /* the test as the worker: its socket, boxqd's link */
  struct pframer wfr;
  size_t wlast; /* the frame worker_expect returned, consumed at the next call */
};

/* A scratch boxqd (its own state directory and database); with a worker
 * link, the test accepts it (worker_hello). teardown removes it all. */
int setup(void **state);
int setup_worker(void **state);
int teardown(void **state);

/* Requests as the client with uid (gid = uid): sent alone; its reply read,
 * waiting up to 10 s (its status, its message or first per-job error in
 * msg, its first T_JOBID in *id); or both. */
void request_send(struct fixture *f, uid_t uid, struct pbuf *b);
int64_t reply_read(struct fixture *f, char *msg, size_t msglen, int64_t *id);
int64_t request(struct fixture *f, uid_t uid, struct pbuf *b, char *msg, size_t msglen,
                int64_t *id);
/* Whether the client's reply has arrived (without waiting for it). */
bool reply_waiting(struct fixture *f);
/* A job of uid's ("true", 1 MiB unless given): its id, or the status. */
int64_t submit(struct fixture *f, uid_t uid, int64_t ncpus, char *msg, size_t msglen);
int64_t submit_mem(struct fixture *f, uid_t uid, int64_t ncpus, int64_t mem, char *msg,
                   size_t msglen);
/* A request of this type naming job id: answered (act), or only sent. */
int64_t act(struct fixture *f, uid_t uid, uint16_t type, int64_t id, char *msg, size_t msglen);
void act_send(struct fixture *f, uid_t uid, uint16_t type, int64_t id);
/* The job's state as stored (and its end reason). */
int state_of(struct fixture *f, int64_t id, int *end_reason);

/* Runs boxqd's loop until fd is readable, or job id is in state st (or
 * about 10 s pass: the test fails). */
void run_until_readable(struct fixture *f, int fd);
void run_until_state(struct fixture *f, int64_t id, int st);

/* The test as the worker: accepts boxqd's connection and says hello,
 * listing the jobs it runs; sends frames; reads the next frame of type
 * want (others skipped; *ret points into f->wfr until the next call), or
 * the next dispatched job (job_rec_free it). */
void worker_hello(struct fixture *f, const int64_t *running, size_t n);
void worker_send(struct fixture *f, struct pbuf *b);
void worker_expect(struct fixture *f, uint16_t want, struct pmsg *ret);
void worker_expect_dispatch(struct fixture *f, struct job_rec *ret);
/* Reports as the worker: a start (stime 1000; 1005 in another's place),
 * an end (etime 1010, some usage), a ready job given back. */
void worker_started(struct fixture *f, int64_t id);
void worker_started_instead(struct fixture *f, int64_t id, int64_t instead);
void worker_ended(struct fixture *f, int64_t id, int reason, int64_t exit_status);
void worker_returned(struct fixture *f, int64_t id);
