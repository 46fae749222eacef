/* SPDX-License-Identifier: MIT */
#include "conn.h"

#include "log.h"
#include "util.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

struct write_req {
  uv_write_t req;
  uv_buf_t buf;
};

static void
on_handle_closed(uv_handle_t *h) {
  struct conn *c = h->data;
  if (--c->handles_open > 0)
    return;
  if (c->on_close)
    c->on_close(c);
  pframer_free(&c->fr);
  free(c);
}

void
conn_close(struct conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  uv_close((uv_handle_t *)&c->pipe, on_handle_closed);
  uv_close((uv_handle_t *)&c->idle, on_handle_closed);
}

static void
on_idle(uv_timer_t *t) {
  struct conn *c = t->data;
  log_debug("dropping idle peer pid %d uid %u", (int)c->pid, (unsigned)c->uid);
  conn_close(c);
}

static void
touch(struct conn *c) {
  if (c->idle_timeout_ms && !c->closing)
    uv_timer_start(&c->idle, on_idle, c->idle_timeout_ms, 0);
}

struct conn *
conn_new(uv_loop_t *loop, void *data, conn_msg_cb on_msg, conn_close_cb on_close) {
  struct conn *c = xcalloc(1, sizeof(*c));
  c->data = data;
  c->on_msg = on_msg;
  c->on_close = on_close;
  c->uid = (uid_t)-1;
  c->gid = (gid_t)-1;
  uv_pipe_init(loop, &c->pipe, 0);
  uv_timer_init(loop, &c->idle);
  c->pipe.data = c;
  c->idle.data = c;
  c->handles_open = 2;
  return c;
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  static char chunk[65536]; /* single-threaded loop: consumed before the next read */
  *buf = uv_buf_init(chunk, sizeof(chunk));
}

static void
read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct conn *c = s->data;
  if (c->closing)
    return;
  if (nread < 0) {
    if (nread != UV_EOF)
      log_debug("peer pid %d: read error: %s", (int)c->pid, uv_strerror((int)nread));
    conn_close(c);
    return;
  }
  if (nread == 0)
    return;
  touch(c);
  int r = pframer_feed(&c->fr, buf->base, (size_t)nread);
  int delivered = 0;
  while (r >= 0 && !c->closing) {
    struct pmsg m;
    size_t flen;
    r = pframer_next(&c->fr, &m, &flen);
    if (r <= 0)
      break;
    c->on_msg(c, &m);
    delivered++;
    pframer_consume(&c->fr, flen);
  }
  if (delivered && c->on_batch_end)
    c->on_batch_end(c);
  if (r < 0 && !c->closing) {
    log_warn("dropping peer pid %d uid %u: %s", (int)c->pid, (unsigned)c->uid,
             r == -E2BIG ? "message too large" : "malformed message");
    conn_close(c);
    return;
  }
  if (c->closing)
    return;
  if (c->fr.len == 0)
    c->partial_since = 0;
  else if (c->partial_since == 0)
    c->partial_since = now_mono_usec();
  else if (now_mono_usec() - c->partial_since > CONN_FRAME_DEADLINE_USEC) {
    log_warn("dropping peer pid %d uid %u: a frame took over %llds to arrive", (int)c->pid,
             (unsigned)c->uid, CONN_FRAME_DEADLINE_USEC / 1000000);
    conn_close(c);
  }
}

int
conn_start(struct conn *c) {
  c->connected = true;
  touch(c);
  return uv_read_start((uv_stream_t *)&c->pipe, alloc_cb, read_cb);
}

int
conn_accept(uv_stream_t *server, struct conn *c) {
  int r = uv_accept(server, (uv_stream_t *)&c->pipe);
  if (r < 0)
    return r;
  uv_os_fd_t fd;
  r = uv_fileno((uv_handle_t *)&c->pipe, &fd);
  if (r < 0)
    return r;
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
    return -errno;
  c->uid = cred.uid;
  c->gid = cred.gid;
  c->pid = cred.pid;
  return conn_start(c);
}

static void
write_cb(uv_write_t *req, int status) {
  struct write_req *w = (struct write_req *)req;
  struct conn *c = req->handle->data;
  free(w->buf.base);
  free(w);
  if (status < 0 && status != UV_ECANCELED && !c->closing) {
    log_debug("peer pid %d: write error: %s", (int)c->pid, uv_strerror(status));
    conn_close(c);
  }
}

int
conn_send(struct conn *c, const struct pbuf *b) {
  if (c->closing)
    return -ECONNRESET;
  if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > CONN_MAX_WRITE_QUEUE) {
    log_warn("dropping peer pid %d: it does not read its replies", (int)c->pid);
    conn_close(c);
    return -ENOBUFS;
  }
  struct write_req *w = xmalloc(sizeof(*w));
  w->buf = uv_buf_init(xmalloc(b->len), (unsigned)b->len);
  memcpy(w->buf.base, b->data, b->len);
  int r = uv_write(&w->req, (uv_stream_t *)&c->pipe, &w->buf, 1, write_cb);
  if (r < 0) {
    free(w->buf.base);
    free(w);
    conn_close(c);
  }
  return r;
}

int
conn_listen(uv_loop_t *loop, uv_pipe_t *server, const char *path, int mode, uv_connection_cb cb) {
  struct stat st;
  if (lstat(path, &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return -EEXIST;
    unlink(path);
  }
  int r = uv_pipe_init(loop, server, 0);
  if (r < 0)
    return r;
  /* Create the socket with no access, then open it up: no window where it
   * is reachable with the process umask's mode. */
  mode_t old = umask(0777);
  r = uv_pipe_bind(server, path);
  umask(old);
  if (r == 0 && chmod(path, (mode_t)mode) < 0)
    r = -errno;
  if (r == 0)
    r = uv_listen((uv_stream_t *)server, 128, cb);
  return r;
}
