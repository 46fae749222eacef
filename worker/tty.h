/* SPDX-License-Identifier: MIT */
/* The shepherd's side of an interactive job's terminal (ttyproto.h): a
 * pseudo-terminal the job gets as its controlling terminal, an attach
 * socket for the job's owner, and the relay between the two, run from the
 * shepherd's poll loop. */
#pragma once

#include "util.h"

#include <poll.h>
#include <stdbool.h>
#include <sys/types.h>

struct tty_rec; /* a record queued for the client */

struct job_tty {
  int master;    /* the pty's master (nonblocking); -1 once hung up */
  int listen_fd; /* the attach socket until a client comes; then -1 */
  int client;    /* the attached qsub; -1 none */
  char *sock_path;
  uid_t uid; /* the only user who may attach */
  int64_t job_id;
  bool master_eof; /* the job's side is closed: all read */
  bool attached;   /* a client came (it may have gone since) */
  /* Records on their way to the client, oldest first. */
  struct tty_rec *queue, *queue_tail;
  size_t queued;
  /* Typed input on its way to the job. */
  char in[4096];
  size_t in_len, in_off;
};

/* Makes the terminal and listens on DIR/ID for its owner. *slave is the
 * job's side (close-on-exec), for launch_spec.tty_fd. */
int tty_create(struct job_tty *t, const char *dir, int64_t job_id, uid_t uid, int *slave,
               struct berr *err);
/* The descriptors to poll (at most TTY_POLLFDS), filled into p. */
#define TTY_POLLFDS 3
int tty_poll_fill(struct job_tty *t, struct pollfd *p);
/* Handles what poll found in p[0..n). Returns true when the client has
 * gone (or was refused being the last chance): the caller hangs up. */
bool tty_poll_handle(struct job_tty *t, const struct pollfd *p, int n);
/* Once attached: waits at most timeout_ms for the client's first record,
 * its terminal's size (applied), so that the job starts at that size. */
void tty_first_winsize(struct job_tty *t, int timeout_ms);
/* Queues a line of text for the client (shown on its terminal). */
void tty_notice(struct job_tty *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hangs the terminal up (the job's session gets SIGHUP) and forgets the
 * client: a dropped connection, or none came in time. */
void tty_hangup(struct job_tty *t);
/* The job has ended: sends what it wrote last, then its status and how
 * it ended, waiting at most timeout_ms for a slow client; then closes
 * everything. */
void tty_finish(struct job_tty *t, int status, const char *how, int timeout_ms);
/* Closes whatever is left and removes the socket. */
void tty_close(struct job_tty *t);
