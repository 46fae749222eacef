/* SPDX-License-Identifier: MIT */
#include "handover.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* The frame's fields (a private channel: its own tags). */
enum {
  H_SEQ = 1,
  H_JOBDIR,
  H_JOB,
  H_USER_NAME,
  H_USER_DIR,
  H_USER_SHELL,
  H_USER_GROUP, /* may repeat */
  H_USER_ERRNO,
  H_USER_ERROR,
  H_IN_MEMFD, /* i64: the whole frame, this many bytes, is in the descriptor passed with it */
};

void
handover_encode(struct pbuf *b, uint32_t seq, const char *jobdir, const struct job_rec *job,
                const struct user_info *user, int user_errno, const char *user_error) {
  pb_begin(b, MSG_DISPATCH);
  pb_i64(b, H_SEQ, seq);
  pb_str(b, H_JOBDIR, jobdir);
  size_t mark = pb_nest_begin(b, H_JOB);
  job_rec_encode(b, job);
  pb_nest_end(b, mark);
  if (user) {
    pb_str(b, H_USER_NAME, user->name);
    pb_str(b, H_USER_DIR, user->dir);
    pb_str(b, H_USER_SHELL, user->shell);
    for (int i = 0; i < user->ngroups; i++)
      pb_i64(b, H_USER_GROUP, user->groups[i]);
  } else {
    pb_i64(b, H_USER_ERRNO, user_errno);
    pb_str(b, H_USER_ERROR, user_error);
  }
  pb_end(b);
}

/* The frame in a memfd, announced by a small frame carrying it. */
static int
send_in_memfd(int chan, const struct pbuf *frame) {
  int fd = memfd_create("boxq-handover", MFD_CLOEXEC);
  if (fd < 0)
    return -errno;
  int r = write_full(fd, frame->data, frame->len) < 0 ? -errno : 0;
  if (r == 0) {
    struct pbuf note = {0};
    pb_begin(&note, MSG_DISPATCH);
    pb_i64(&note, H_IN_MEMFD, (int64_t)frame->len);
    pb_end(&note);
    struct iovec iov = {.iov_base = note.data, .iov_len = note.len};
    union {
      struct cmsghdr h;
      char space[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = ctl.space,
                         .msg_controllen = sizeof(ctl.space)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do
      n = sendmsg(chan, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    /* A few dozen bytes into an empty socket: all or nothing. */
    r = n == (ssize_t)note.len ? 0 : n < 0 ? -errno : -EIO;
    pbuf_free(&note);
  }
  close(fd);
  return r;
}

int
handover_send(int chan, const struct pbuf *frame) {
  /* The shepherd has read its previous job's frame, so the socket is
   * empty: a frame within a quarter of its send buffer goes in one piece
   * without waiting (the kernel always takes the first buffer of an empty
   * socket, up to half its size). */
  int sndbuf = 0;
  socklen_t optlen = sizeof(sndbuf);
  if (getsockopt(chan, SOL_SOCKET, SO_SNDBUF, &sndbuf, &optlen) < 0)
    return -errno;
  if (frame->len <= (size_t)sndbuf / 4) {
    ssize_t n;
    do
      n = send(chan, frame->data, frame->len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)frame->len)
      return 0;
    if (n > 0)
      return -EIO; /* part of a frame: the channel is unusable */
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return -errno;
  }
  return send_in_memfd(chan, frame);
}

void
handover_free(struct handover *h) {
  free(h->jobdir);
  job_rec_free(&h->job);
  free(h->user.name);
  free(h->user.dir);
  free(h->user.shell);
  free(h->user.groups);
  free(h->user_error);
  *h = (struct handover){0};
}

static int
decode(const struct pmsg *m, struct handover *h) {
  struct pfield f;
  struct pmsg sub;
  int64_t seq = 0;
  const char *dir = pmsg_str(m, H_JOBDIR);
  if (m->type != MSG_DISPATCH || pmsg_i64(m, H_SEQ, &seq) < 0 || !dir || !pmsg_find(m, H_JOB, &f) ||
      pmsg_sub(&f, &sub) < 0 || job_rec_decode(&sub, &h->job) < 0)
    return -EBADMSG;
  h->seq = (uint32_t)seq;
  h->jobdir = xstrdup(dir);
  const char *name = pmsg_str(m, H_USER_NAME);
  if (!name) {
    h->user_errno = (int)pmsg_i64_or(m, H_USER_ERRNO, -ENOENT);
    const char *why = pmsg_str(m, H_USER_ERROR);
    h->user_error = why ? xstrdup(why) : NULL;
    return 0;
  }
  struct user_info *u = &h->user;
  h->has_user = true;
  u->uid = (uid_t)h->job.uid;
  u->gid = (gid_t)h->job.gid;
  u->name = xstrdup(name);
  u->dir = xstrdup(pmsg_str(m, H_USER_DIR) ? pmsg_str(m, H_USER_DIR) : "/");
  u->shell = xstrdup(pmsg_str(m, H_USER_SHELL) ? pmsg_str(m, H_USER_SHELL) : "");
  size_t off = 0, cap = 0;
  while (pmsg_next(m, &off, &f)) {
    int64_t g;
    if (f.tag != H_USER_GROUP || pfield_i64(&f, &g) < 0)
      continue;
    u->groups = xgrow(u->groups, (size_t)u->ngroups, &cap, sizeof(*u->groups), 16);
    u->groups[u->ngroups++] = (gid_t)g;
  }
  return 0;
}

/* The frame announced by H_IN_MEMFD, read from fd and decoded. */
static int
decode_memfd(int fd, int64_t len, struct handover *h) {
  struct stat st;
  if (fd < 0 || len < PROTO_HDR_SIZE || len > PROTO_HDR_SIZE + PROTO_MAX_PAYLOAD ||
      fstat(fd, &st) < 0 || st.st_size != len)
    return -EBADMSG;
  uint8_t *data = xmalloc((size_t)len);
  ssize_t n = pread(fd, data, (size_t)len, 0);
  struct pmsg m;
  int r = n == len && proto_parse_frame(data, (size_t)len, &m) == 0 ? decode(&m, h) : -EBADMSG;
  free(data);
  h->large = true;
  return r;
}

/* Reads more of the channel into fr, keeping a descriptor that comes with
 * it in *fd (one at a time: a second replaces and closes the first). */
static int
read_more(int chan, struct pframer *fr, int *fd) {
  uint8_t chunk[16384];
  union {
    struct cmsghdr h;
    char space[CMSG_SPACE(sizeof(int))];
  } ctl;
  struct iovec iov = {.iov_base = chunk, .iov_len = sizeof(chunk)};
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space, .msg_controllen = sizeof(ctl)};
  ssize_t n;
  do
    n = recvmsg(chan, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
        c->cmsg_len == CMSG_LEN(sizeof(int))) {
      if (*fd >= 0)
        close(*fd);
      memcpy(fd, CMSG_DATA(c), sizeof(int));
    }
  if (n == 0)
    return 0;
  int r = pframer_feed(fr, chunk, (size_t)n);
  return r < 0 ? r : 1;
}

int
handover_recv(int chan, struct pframer *fr, struct handover *ret) {
  *ret = (struct handover){0};
  int fd = -1, r;
  struct pmsg m;
  size_t len;
  while ((r = pframer_next(fr, &m, &len)) == 0)
    if ((r = read_more(chan, fr, &fd)) <= 0)
      break;
  if (r == 1) {
    int64_t big;
    r = pmsg_i64(&m, H_IN_MEMFD, &big) == 0 ? decode_memfd(fd, big, ret) : decode(&m, ret);
    pframer_consume(fr, len);
    r = r < 0 ? r : 1;
  }
  if (fd >= 0)
    close(fd);
  if (r < 0)
    handover_free(ret);
  return r;
}
