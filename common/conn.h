/* SPDX-License-Identifier: MIT */
/* A framed protocol connection on a libuv unix-socket stream, used by both
 * daemons. The peer's identity comes from SO_PEERCRED only. A peer that
 * sends a malformed or oversized frame, or stops reading its replies, is
 * dropped; the daemon goes on. */
#pragma once

#include "proto.h"

#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

struct conn;
typedef void (*conn_msg_cb)(struct conn *c, const struct pmsg *m);
typedef void (*conn_close_cb)(struct conn *c);
/* After the messages that arrived together have been handled. */
typedef void (*conn_batch_cb)(struct conn *c);

struct conn {
  uv_pipe_t pipe;
  uv_timer_t idle;
  struct pframer fr;
  conn_msg_cb on_msg;
  conn_close_cb on_close;
  conn_batch_cb on_batch_end; /* optional */
  void *data;
  uid_t uid;
  gid_t gid;
  pid_t pid;
  bool closing;
  bool connected;
  int handles_open;
  uint64_t idle_timeout_ms; /* 0: none */
  int64_t partial_since;    /* monotonic usec when a frame began to arrive, 0 if none */
};

/* A frame must arrive whole within this long, however slowly it drips. */
#define CONN_FRAME_DEADLINE_USEC (30 * 1000000LL)

/* The queued replies a peer may leave unread before it is dropped. */
#define CONN_MAX_WRITE_QUEUE (64u << 20)

struct conn *conn_new(uv_loop_t *loop, void *data, conn_msg_cb on_msg, conn_close_cb on_close);
/* Accepts from a listening server, reads the peer's credentials, starts reading. */
int conn_accept(uv_stream_t *server, struct conn *c);
/* Starts reading on an already connected pipe (the client side). */
int conn_start(struct conn *c);
/* Queues a copy of b's bytes. */
int conn_send(struct conn *c, const struct pbuf *b);
/* Closes the connection; on_close runs once, then the conn is freed. */
void conn_close(struct conn *c);

/* Creates a listening unix socket at path with the given mode, removing a
 * stale socket file first. */
int conn_listen(uv_loop_t *loop, uv_pipe_t *server, const char *path, int mode,
                uv_connection_cb cb);
