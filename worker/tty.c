/* SPDX-License-Identifier: MIT */
/* An interactive job's terminal, on the shepherd's side: the pty, the
 * attach socket, and a relay that never blocks the shepherd. Output is
 * read from the pty only when nothing is queued for the client, and input
 * only when the last is written: a slow side slows the other down (the
 * kernel's pty buffer holds the rest) instead of growing memory. */
#include "tty.h"
#include "ttyproto.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

struct tty_rec {
  struct tty_rec *next;
  size_t len;
  char data[];
};

/* Text queued for the client at most (notices while none is attached). */
#define TTY_QUEUE_MAX (64 * 1024)

static void
enqueue(struct job_tty *t, char type, const void *payload, size_t len) {
  if (t->queued + len > TTY_QUEUE_MAX && type != TTY_EXIT)
    return;
  struct tty_rec *r = xmalloc(sizeof(*r) + 1 + len);
  r->next = NULL;
  r->len = 1 + len;
  r->data[0] = type;
  memcpy(r->data + 1, payload, len);
  if (t->queue_tail)
    t->queue_tail->next = r;
  else
    t->queue = r;
  t->queue_tail = r;
  t->queued += len;
}

static void
drop_queue(struct job_tty *t) {
  while (t->queue) {
    struct tty_rec *r = t->queue;
    t->queue = r->next;
    free(r);
  }
  t->queue_tail = NULL;
  t->queued = 0;
}

/* Sends queued records until the socket is full. -errno: the client is
 * gone. */
static int
flush_queue(struct job_tty *t) {
  while (t->queue) {
    struct tty_rec *r = t->queue;
    if (send(t->client, r->data, r->len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
      return errno == EAGAIN ? 0 : -errno;
    t->queue = r->next;
    if (!t->queue)
      t->queue_tail = NULL;
    t->queued -= r->len - 1;
    free(r);
  }
  return 0;
}

static void
close_listener(struct job_tty *t) {
  if (t->listen_fd >= 0) {
    close(t->listen_fd);
    t->listen_fd = -1;
    unlink(t->sock_path);
  }
}

int
tty_create(struct job_tty *t, const char *dir, int64_t job_id, uid_t uid, int *slave,
           struct berr *err) {
  *t = (struct job_tty){.master = -1, .listen_fd = -1, .client = -1, .uid = uid, .job_id = job_id};
  *slave = -1;
  t->master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (t->master < 0)
    return berr_set(err, -errno, "cannot open a pseudo-terminal (/dev/ptmx): %s", strerror(errno));
  int unlock = 0;
  if (ioctl(t->master, TIOCSPTLCK, &unlock) < 0)
    return berr_set(err, -errno, "cannot unlock the pseudo-terminal: %s", strerror(errno));
  /* The peer by descriptor: no path in /dev/pts to race for. */
  int s = ioctl(t->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0)
    return berr_set(err, -errno, "cannot open the pseudo-terminal's other side: %s",
                    strerror(errno));
  /* The user's terminal, as login gives it: theirs, writable by the tty
   * group (write, wall), which devpts already set. */
  if (fchown(s, uid, (gid_t)-1) < 0 || fchmod(s, 0620) < 0) {
    int r = -errno;
    close(s);
    return berr_set(err, r, "cannot give the terminal to the job's user: %s", strerror(-r));
  }
  *slave = s;

  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  t->sock_path = xasprintf("%s/%lld", dir, (long long)job_id);
  if (strlen(t->sock_path) >= sizeof(sa.sun_path))
    return berr_set(err, -ENAMETOOLONG,
                    "the terminal's socket path %s is too long (state_dir is too deep)",
                    t->sock_path);
  strcpy(sa.sun_path, t->sock_path);
  t->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (t->listen_fd < 0)
    return berr_set(err, -errno, "socket: %s", strerror(errno));
  unlink(t->sock_path); /* a leftover of a shepherd that died */
  /* Connecting takes write permission on the socket: the owner's alone
   * (root's directory, nobody else can swap the file). */
  if (bind(t->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(t->sock_path, 0600) < 0 ||
      chown(t->sock_path, uid, (gid_t)-1) < 0 || listen(t->listen_fd, 4) < 0)
    return berr_set(err, -errno, "cannot listen on %s: %s", t->sock_path, strerror(errno));
  return 0;
}

int
tty_poll_fill(struct job_tty *t, struct pollfd *p) {
  int n = 0;
  if (t->listen_fd >= 0)
    p[n++] = (struct pollfd){t->listen_fd, POLLIN, 0};
  if (t->client >= 0)
    p[n++] =
        (struct pollfd){t->client, (short)((t->in_len ? 0 : POLLIN) | (t->queue ? POLLOUT : 0)), 0};
  /* Polled only for what is wanted: a pty whose job side is closed reports
   * POLLHUP whatever is asked. */
  if (t->master >= 0 && !t->master_eof) {
    short ev = (short)((t->client >= 0 && !t->queue ? POLLIN : 0) | (t->in_len ? POLLOUT : 0));
    if (ev)
      p[n++] = (struct pollfd){t->master, ev, 0};
  }
  return n;
}

static void
accept_client(struct job_tty *t) {
  int fd = accept4(t->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return;
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != t->uid) {
    static const char refused[] = "NThis is not your job's terminal.";
    (void)!send(fd, refused, sizeof(refused) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    log_warn("job %lld: uid %d tried to attach to its terminal; refused", (long long)t->job_id,
             (int)cred.uid);
    close(fd);
    return;
  }
  t->client = fd;
  t->attached = true;
  close_listener(t); /* one client per job: a second would share the keyboard */
  log_debug("job %lld: its terminal is attached (pid %d)", (long long)t->job_id, (int)cred.pid);
}

/* One record from the client. -1: it has gone. */
static int
read_client(struct job_tty *t) {
  char rec[TTY_RECORD_MAX];
  ssize_t n = recv(t->client, rec, sizeof(rec), MSG_DONTWAIT);
  if (n < 0)
    return errno == EAGAIN || errno == EINTR ? 0 : -1;
  if (n == 0)
    return -1;
  if (rec[0] == TTY_DATA && n > 1) {
    memcpy(t->in, rec + 1, (size_t)n - 1); /* in_len is 0 when polled for input */
    t->in_len = (size_t)n - 1;
    t->in_off = 0;
  } else if (rec[0] == TTY_WINSIZE && n == 1 + (ssize_t)sizeof(struct tty_winsize) &&
             t->master >= 0) {
    struct tty_winsize w;
    memcpy(&w, rec + 1, sizeof(w));
    struct winsize ws = {
        .ws_row = w.rows, .ws_col = w.cols, .ws_xpixel = w.xpixel, .ws_ypixel = w.ypixel};
    ioctl(t->master, TIOCSWINSZ, &ws); /* the job's foreground gets SIGWINCH */
  }
  return 0;
}

/* What the job wrote: one record's worth. */
static void
read_master(struct job_tty *t) {
  char buf[TTY_DATA_MAX];
  ssize_t n = read(t->master, buf, sizeof(buf));
  if (n > 0)
    enqueue(t, TTY_DATA, buf, (size_t)n);
  else if (n == 0 || (errno != EAGAIN && errno != EINTR))
    t->master_eof = true; /* EIO: every job side is closed */
}

static void
write_master(struct job_tty *t) {
  ssize_t n = write(t->master, t->in + t->in_off, t->in_len - t->in_off);
  if (n > 0)
    t->in_off += (size_t)n;
  else if (n < 0 && errno != EAGAIN && errno != EINTR)
    t->in_off = t->in_len; /* nobody to read it */
  if (t->in_off >= t->in_len)
    t->in_len = t->in_off = 0;
}

static bool
client_gone(struct job_tty *t) {
  close(t->client);
  t->client = -1;
  drop_queue(t);
  t->in_len = t->in_off = 0;
  return true;
}

bool
tty_poll_handle(struct job_tty *t, const struct pollfd *p, int n) {
  for (int i = 0; i < n; i++) {
    if (!p[i].revents)
      continue;
    if (p[i].fd == t->listen_fd)
      accept_client(t);
    else if (p[i].fd == t->client) {
      if ((p[i].revents & POLLIN) && read_client(t) < 0)
        return client_gone(t);
      if ((p[i].revents & POLLOUT) && flush_queue(t) < 0)
        return client_gone(t);
      if ((p[i].revents & (POLLHUP | POLLERR)) && !(p[i].revents & POLLIN))
        return client_gone(t);
    } else if (p[i].fd == t->master) {
      if (p[i].revents & POLLOUT)
        write_master(t);
      if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
        read_master(t);
    }
  }
  /* Output read just now goes at once when the socket has room. */
  if (t->client >= 0 && t->queue && flush_queue(t) < 0)
    return client_gone(t);
  return false;
}

void
tty_first_winsize(struct job_tty *t, int timeout_ms) {
  struct pollfd p = {t->client, POLLIN, 0};
  if (t->client >= 0 && poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) && read_client(t) < 0)
    client_gone(t); /* seen as gone at the first look after the start */
}

void
tty_notice(struct job_tty *t, const char *fmt, ...) {
  if (t->master < 0 && t->client < 0)
    return;
  char text[512];
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  if (len < 0)
    return;
  enqueue(t, TTY_NOTICE, text, (size_t)len < sizeof(text) ? (size_t)len : sizeof(text) - 1);
  if (t->client >= 0 && flush_queue(t) < 0)
    client_gone(t);
}

void
tty_hangup(struct job_tty *t) {
  close_listener(t);
  if (t->client >= 0)
    client_gone(t);
  if (t->master >= 0) {
    close(t->master); /* the kernel hangs the terminal up: SIGHUP to its session */
    t->master = -1;
  }
}

void
tty_finish(struct job_tty *t, int status, const char *how, int timeout_ms) {
  close_listener(t);
  if (t->client >= 0) {
    /* The job's side is closed: what is left in the pty is its last
     * output, then EIO. */
    while (t->master >= 0 && !t->master_eof && t->queued < TTY_QUEUE_MAX)
      read_master(t);
    size_t how_len = strlen(how);
    char *x = xmalloc(4 + how_len);
    int32_t st = status;
    memcpy(x, &st, 4);
    memcpy(x + 4, how, how_len);
    enqueue(t, TTY_EXIT, x, 4 + how_len);
    free(x);
    int64_t deadline = now_mono_usec() + (int64_t)timeout_ms * 1000;
    while (t->queue) {
      if (flush_queue(t) < 0)
        break;
      int64_t left = deadline - now_mono_usec();
      if (!t->queue || left <= 0)
        break;
      struct pollfd p = {t->client, POLLOUT, 0};
      if (poll(&p, 1, (int)(left / 1000) + 1) < 0 && errno != EINTR)
        break;
    }
  }
  tty_close(t);
}

void
tty_close(struct job_tty *t) {
  close_listener(t);
  if (t->client >= 0)
    client_gone(t);
  drop_queue(t);
  if (t->master >= 0) {
    close(t->master);
    t->master = -1;
  }
  free(t->sock_path);
  t->sock_path = NULL;
}
