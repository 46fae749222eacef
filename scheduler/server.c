/* SPDX-License-Identifier: MIT */
/* The scheduler's client socket: anyone on the box may connect; who they
 * are comes from SO_PEERCRED in conn_accept. */
#include "boxqd.h"
#include "log.h"

#include <stdarg.h>
#include <string.h>

/* A client has this long between messages before it is dropped. */
#define CLIENT_IDLE_MS 60000

static void
on_client_msg(struct conn *c, const struct pmsg *m) {
  req_dispatch(c->data, c, m);
}

/* Connections a uid holds: kept by uid + 1 (root is 0). */
static int64_t
conn_count(struct boxqd *d, uid_t uid) {
  return (int64_t)(intptr_t)idmap_get(&d->conns_by_uid, (int64_t)uid + 1);
}

static void
conn_count_add(struct boxqd *d, uid_t uid, int64_t delta) {
  int64_t n = conn_count(d, uid) + delta;
  if (n > 0)
    idmap_put(&d->conns_by_uid, (int64_t)uid + 1, (void *)(intptr_t)n);
  else
    idmap_del(&d->conns_by_uid, (int64_t)uid + 1);
}

static void
on_client_close(struct conn *c) {
  struct boxqd *d = c->data;
  walsync_forget_conn(d, c);
  ready_forget_conn(d, c);
  waiters_forget_conn(d, c);
  if (c->uid != (uid_t)-1)
    conn_count_add(d, c->uid, -1);
}

static void
on_connection(uv_stream_t *server, int status) {
  struct boxqd *d = server->data;
  if (status < 0) {
    log_warn("accept: %s", uv_strerror(status));
    return;
  }
  struct conn *c = conn_new(d->loop, d, on_client_msg, on_client_close);
  c->idle_timeout_ms = CLIENT_IDLE_MS;
  int r = conn_accept(server, c);
  if (r < 0) {
    log_warn("accept: %s", uv_strerror(r));
    c->uid = (uid_t)-1;
    conn_close(c);
    return;
  }
  conn_count_add(d, c->uid, 1);
  int64_t n = conn_count(d, c->uid);
  if (c->uid != 0 && n > d->cfg.max_connections_per_user) {
    if (n == d->cfg.max_connections_per_user + 1)
      log_warn("uid %u holds %lld connections, the most allowed: refusing more", (unsigned)c->uid,
               (long long)d->cfg.max_connections_per_user);
    conn_close(c); /* on_client_close gives the count back */
  }
}

int
server_start(struct boxqd *d) {
  d->server.data = d;
  /* Every local user may submit: the socket is world-connectable, and the
   * daemon decides what each caller may do. */
  int r = conn_listen(d->loop, &d->server, d->cfg.sched_socket, 0666, on_connection);
  d->server.data = d;
  return r;
}

void
reply_status(struct conn *c, int status, const char *fmt, ...) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_REPLY);
  pb_i64(&b, T_STATUS, status);
  if (fmt) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pb_str(&b, T_MESSAGE, msg);
  }
  pb_end(&b);
  conn_send(c, &b);
  pbuf_free(&b);
}
