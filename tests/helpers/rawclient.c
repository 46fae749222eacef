/* SPDX-License-Identifier: MIT */
/* rawclient SOCKET MODE: talks to a boxq socket the way a broken or hostile
 * client would, to show the daemon survives it.
 *   garbage    random bytes
 *   badmagic   a header with a wrong magic
 *   huge       a header announcing a payload over the limit
 *   partial    half a frame, then disconnect
 *   badfields  a valid header whose fields overrun the payload
 *   badstring  a submit whose strings lack their NUL
 *   unknown    a well-formed request of an unknown type (expects a reply)
 *   flood      many well-formed requests without reading the replies
 *   hold N     opens N connections, counts those the daemon keeps open
 *   submitquit N  sends N valid held submissions and hangs up at once,
 *              before the replies (which wait for a disk sync) can come
 * Exits 0 if the daemon behaved (closed the connection or replied).
 *
 * rawclient SOCKET worker N: a worker that starts nothing. Listens on
 * SOCKET (the worker's), says hello with no jobs to the boxqd that
 * connects, and prints "ID READY" for each of the first N jobs it is sent
 * (READY: 1 for the ready set, T_READY), so that a test sees what boxqd
 * asks of a worker. Exits 1 if they do not come within 10 s.
 *
 * rawclient SOCKET scheduler WORKDIR ID: a boxqd that sends the worker on
 * SOCKET job ID (sleep 2) to start, then ID+1 and ID+2 for its ready set,
 * and asks for ID+2 back; prints what the worker reports until it has
 * been quiet for 0.3 s ("started N", "returned N"), then cancels job ID
 * and prints the rest ("started N instead M", "ended N") until ID and
 * ID+1 have ended, acknowledging each result. */
#include "job.h"
#include "proto.h"
#include "util.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

/* A connected socket, or -1 (errno set). */
static int
try_connect(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    fd = -1;
  }
  return fd;
}

static int
connect_to(const char *path) {
  int fd = try_connect(path);
  if (fd < 0) {
    perror("connect");
    exit(1);
  }
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

/* After a bad frame the daemon must drop us: read returns 0 (or reset). */
static int
expect_closed(int fd) {
  char buf[256];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0 || (n < 0 && errno == ECONNRESET))
      return 0;
    if (n < 0) {
      perror("read");
      return 1;
    }
  }
}

static void
header(uint8_t *h, uint32_t magic, uint16_t type, uint32_t len) {
  uint16_t version = BOXQ_PROTOCOL_VERSION;
  memcpy(h, &magic, 4);
  memcpy(h + 4, &version, 2);
  memcpy(h + 6, &type, 2);
  memcpy(h + 8, &len, 4);
}

static int
fake_worker(const char *path, int n) {
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
  unlink(path);
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
    perror("listen");
    return 1;
  }
  struct timeval tv = {10, 0};
  setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)); /* bounds accept too */
  int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) {
    perror("accept");
    return 1;
  }
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  struct pbuf b = {0};
  pb_begin(&b, MSG_WORKER_HELLO);
  pb_str(&b, T_INFO, "none");
  pb_end(&b);
  write_full(fd, b.data, b.len);
  pbuf_free(&b);
  struct pframer fr = {0};
  int seen = 0;
  while (seen < n) {
    struct pmsg m, sub;
    struct pfield f;
    size_t flen;
    int r = proto_recv(fd, &fr, &m, &flen);
    if (r < 0) {
      fprintf(stderr, "worker: %d of %d jobs came: %s\n", seen, n, strerror(-r));
      return 1;
    }
    struct job_rec j;
    if (m.type == MSG_DISPATCH && pmsg_find(&m, T_JOB, &f) && pmsg_sub(&f, &sub) == 0 &&
        job_rec_decode(&sub, &j) == 0) {
      printf("%lld %lld\n", (long long)j.id, (long long)pmsg_i64_or(&m, T_READY, 0));
      fflush(stdout);
      job_rec_free(&j);
      seen++;
    }
    pframer_consume(&fr, flen);
  }
  pframer_free(&fr);
  close(fd);
  close(lfd);
  return 0;
}

static void
send_job(int fd, const char *workdir, int64_t id, bool ready, const char *script) {
  struct job_rec j = {.id = id,
                      .owner = (char *)"root",
                      .name = (char *)"fake",
                      .queue = (char *)"batch",
                      .workdir = (char *)workdir,
                      .ncpus = 1,
                      .mem = INT64_C(64) << 20,
                      .pids = 64,
                      .script = (char *)script,
                      .script_len = strlen(script)};
  struct pbuf b = {0};
  pb_begin(&b, MSG_DISPATCH);
  size_t mark = pb_nest_begin(&b, T_JOB);
  job_rec_encode(&b, &j);
  pb_nest_end(&b, mark);
  if (ready)
    pb_i64(&b, T_READY, 1);
  pb_end(&b);
  write_full(fd, b.data, b.len);
  pbuf_free(&b);
}

static void
send_id(int fd, uint16_t type, int64_t id, bool cancel) {
  struct pbuf b = {0};
  pb_begin(&b, type);
  pb_i64(&b, T_JOBID, id);
  if (type == MSG_SIGNAL) {
    pb_i64(&b, T_SIGNAL, 0);
    pb_i64(&b, T_FLAGS, cancel);
  }
  pb_end(&b);
  write_full(fd, b.data, b.len);
  pbuf_free(&b);
}

static int
fake_scheduler(const char *path, const char *workdir, int64_t id) {
  /* The worker may be starting: its socket refuses us until it listens. */
  int fd = try_connect(path);
  for (int i = 0; i < 100 && fd < 0; i++) {
    usleep(100000);
    fd = try_connect(path);
  }
  if (fd < 0) {
    perror("scheduler: connect");
    return 1;
  }
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  struct pframer fr = {0};
  struct pmsg m;
  size_t flen;
  if (proto_recv(fd, &fr, &m, &flen) < 0 || m.type != MSG_WORKER_HELLO) {
    fprintf(stderr, "scheduler: no hello from the worker\n");
    return 1;
  }
  pframer_consume(&fr, flen);
  send_job(fd, workdir, id, false, "sleep 2\n");
  send_job(fd, workdir, id + 1, true, "true\n");
  send_job(fd, workdir, id + 2, true, "true\n");
  send_id(fd, MSG_TAKE_BACK, id + 2, false);
  tv = (struct timeval){0, 300000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  int ended = 0;
  for (bool cancelled = false; ended < 2;) {
    int r = proto_recv(fd, &fr, &m, &flen);
    if (r == -EAGAIN || r == -EWOULDBLOCK) {
      if (cancelled) {
        fprintf(stderr, "scheduler: the jobs did not end\n");
        return 1;
      }
      /* What the worker did on its own is printed; now end the first. */
      printf("--\n");
      send_id(fd, MSG_SIGNAL, id, true);
      cancelled = true;
      tv.tv_sec = 10;
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      continue;
    }
    if (r < 0) {
      fprintf(stderr, "scheduler: %s\n", strerror(-r));
      return 1;
    }
    int64_t job = 0;
    if (m.type == MSG_ENDED) {
      struct pfield f;
      struct pmsg sub;
      struct job_rec e;
      if (pmsg_find(&m, T_JOB, &f) && pmsg_sub(&f, &sub) == 0 && job_rec_decode(&sub, &e) == 0) {
        job = e.id;
        job_rec_free(&e);
      }
    } else
      job = pmsg_i64_or(&m, T_JOBID, 0);
    const char *what = m.type == MSG_STARTED    ? "started"
                       : m.type == MSG_RETURNED ? "returned"
                       : m.type == MSG_ENDED    ? "ended"
                                                : NULL;
    int64_t instead = m.type == MSG_STARTED ? pmsg_i64_or(&m, T_INSTEAD, 0) : 0;
    if (what && job && instead)
      printf("%s %lld instead %lld\n", what, (long long)job, (long long)instead);
    else if (what && job)
      printf("%s %lld\n", what, (long long)job);
    fflush(stdout);
    if (m.type == MSG_ENDED) {
      ended++;
      send_id(fd, MSG_ENDED_ACK, job, false);
    }
    pframer_consume(&fr, flen);
  }
  pframer_free(&fr);
  close(fd);
  return 0;
}

int
main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[2], "worker"))
    return fake_worker(argv[1], atoi(argv[3]));
  if (argc == 5 && !strcmp(argv[2], "scheduler"))
    return fake_scheduler(argv[1], argv[3], atoll(argv[4]));
  if (argc == 4 && !strcmp(argv[2], "hold")) {
    int n = atoi(argv[3]), kept = 0;
    int *fds = calloc((size_t)n, sizeof(int));
    for (int i = 0; i < n; i++)
      fds[i] = connect_to(argv[1]);
    usleep(300000);
    for (int i = 0; i < n; i++) {
      /* A dropped connection reads EOF at once; a kept one would block. */
      struct timeval tv = {0, 20000};
      setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      char c;
      if (read(fds[i], &c, 1) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        kept++;
    }
    printf("kept=%d\n", kept);
    fflush(stdout); /* before any sanitizer exit hook that might _exit */
    return 0;
  }
  if (argc != 3 && argc != 4)
    return 2;
  int fd = connect_to(argv[1]);
  const char *mode = argv[2];
  uint8_t h[PROTO_HDR_SIZE];
  if (!strcmp(mode, "garbage")) {
    uint8_t junk[4096];
    srand(42);
    for (size_t i = 0; i < sizeof(junk); i++)
      junk[i] = (uint8_t)rand();
    write_full(fd, junk, sizeof(junk));
    return expect_closed(fd);
  }
  if (!strcmp(mode, "badmagic")) {
    header(h, 0xdeadbeef, MSG_STAT, 0);
    write_full(fd, h, sizeof(h));
    return expect_closed(fd);
  }
  if (!strcmp(mode, "huge")) {
    header(h, PROTO_MAGIC, MSG_SUBMIT, 0xffffffffu);
    write_full(fd, h, sizeof(h));
    return expect_closed(fd);
  }
  if (!strcmp(mode, "partial")) {
    header(h, PROTO_MAGIC, MSG_SUBMIT, 1000);
    write_full(fd, h, sizeof(h));
    write_full(fd, "abc", 3);
    return 0; /* exit with the frame half sent */
  }
  if (!strcmp(mode, "badfields")) {
    uint8_t msg[PROTO_HDR_SIZE + 6];
    header(msg, PROTO_MAGIC, MSG_STAT, 6);
    uint16_t tag = T_JOBID;
    uint32_t flen = 1000; /* overruns the 6-byte payload */
    memcpy(msg + PROTO_HDR_SIZE, &tag, 2);
    memcpy(msg + PROTO_HDR_SIZE + 2, &flen, 4);
    write_full(fd, msg, sizeof(msg));
    return expect_closed(fd);
  }
  struct pbuf b = {0};
  if (!strncmp(mode, "submitquit", 10)) {
    int n = argc > 3 ? atoi(argv[3]) : 10;
    for (int i = 0; i < n; i++) {
      struct job_rec j = {.name = (char *)"rq",
                          .workdir = (char *)"/",
                          .script = (char *)"true\n",
                          .script_len = 5,
                          .hold_types = (char *)"u",
                          .state = JOB_HELD};
      pb_begin(&b, MSG_SUBMIT);
      size_t mark = pb_nest_begin(&b, T_JOB);
      job_rec_encode(&b, &j);
      pb_nest_end(&b, mark);
      pb_end(&b);
    }
    write_full(fd, b.data, b.len);
    pbuf_free(&b);
    return 0; /* gone before any reply */
  }
  if (!strcmp(mode, "badstring")) {
    pb_begin(&b, MSG_SUBMIT);
    size_t mark = pb_nest_begin(&b, T_JOB);
    pb_bytes(&b, J_NAME, "no-nul", 6);
    pb_nest_end(&b, mark);
    pb_end(&b);
  } else if (!strcmp(mode, "unknown")) {
    pb_begin(&b, 4242);
    pb_end(&b);
  } else if (!strcmp(mode, "flood")) {
    for (int i = 0; i < 20000; i++) {
      pb_begin(&b, MSG_STAT);
      pb_i64(&b, T_FLAGS, 1);
      pb_end(&b);
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    write_full(fd, b.data, b.len); /* may stop early once dropped */
    pbuf_free(&b);
    return 0;
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  write_full(fd, b.data, b.len);
  pbuf_free(&b);
  struct pframer fr = {0};
  struct pmsg m;
  size_t flen;
  int r = proto_recv(fd, &fr, &m, &flen);
  if (r < 0) {
    fprintf(stderr, "no reply: %s\n", strerror(-r));
    return 1;
  }
  int64_t status = pmsg_i64_or(&m, T_STATUS, 0);
  const char *msg = pmsg_str(&m, T_MESSAGE);
  printf("status %lld: %s\n", (long long)status, msg ? msg : "");
  pframer_free(&fr);
  return status < 0 ? 0 : 1;
}
