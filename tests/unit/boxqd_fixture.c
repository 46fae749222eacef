/* SPDX-License-Identifier: MIT */
/* boxqd in process for unit tests (boxqd_fixture.h). */
#include "boxqd_fixture.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char root[64];

static void
on_client_msg(struct conn *c, const struct pmsg *m) {
  req_dispatch(c->data, c, m);
}

static void
on_client_close(struct conn *c) {
  walsync_forget_conn(c->data, c);
  ready_forget_conn(c->data, c);
}

static void
close_walk(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static int
setup_common(void **state, bool with_worker) {
  snprintf(root, sizeof(root), "/var/tmp/boxq-requests-test.XXXXXX");
  if (!mkdtemp(root))
    return -1;
  struct fixture *f = xcalloc(1, sizeof(*f));
  struct boxqd *d = &f->d;
  char ini[512];
  snprintf(ini, sizeof(ini),
           "[boxq]\nstate_dir = %s\nserver_name = test\n[scheduler]\nncpus = 4\nmem = 16gb\n"
           "allow_root_jobs = true\n[queue batch]\nmax_ncpus = 2\n",
           root);
  struct berr err = {{0}};
  unsetenv("BOXQ_STATE_DIR");
  if (cfg_load_string(ini, "t.ini", &d->cfg, &err) < 0 ||
      db_open(d->cfg.db_path, &d->db, &err) < 0) {
    fprintf(stderr, "setup: %s\n", err.msg);
    return -1;
  }
  d->cap.ncpus = 4;
  d->cap.mem = 16LL << 30;
  d->server_name = "test";
  d->loop = uv_default_loop();
  f->listen_fd = f->worker = -1;
  if (with_worker) {
    /* The test is the worker: boxqd connects to its socket. */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->cfg.worker_socket);
    f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(f->listen_fd, 4) < 0)
      return -1;
    worker_link_start(d);
  } else
    sched_pass_init(d);
  if (wf_start(d, &err) < 0)
    return -1;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return -1;
  f->client = conn_new(d->loop, d, on_client_msg, on_client_close);
  uv_pipe_open(&f->client->pipe, sv[0]);
  conn_start(f->client);
  f->peer = sv[1];
  *state = f;
  return 0;
}

int
setup(void **state) {
  return setup_common(state, false);
}

int
teardown(void **state) {
  struct fixture *f = *state;
  struct boxqd *d = &f->d;
  conn_close(f->client);
  close(f->peer);
  if (f->listen_fd >= 0) {
    worker_link_stop(d);
    close(f->listen_fd);
    if (f->worker >= 0)
      close(f->worker);
    pframer_free(&f->wfr);
  } else
    sched_pass_stop(d);
  wf_stop(d);
  /* Every handle of this boxqd closes before the loop is reused, as at
   * boxqd's exit (a pending sync finishes first). */
  uv_walk(d->loop, close_walk, NULL);
  uv_run(d->loop, UV_RUN_DEFAULT);
  db_close(d->db);
  sched_pass_free(d);
  worker_batch_free(d);
  ready_free(d);
  walsync_free(d);
  cfg_free(&d->cfg);
  pframer_free(&f->fr);
  free(f);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
  return system(cmd) == 0 ? 0 : -1;
}

/* Sends b as the client (uid, gid) and runs boxqd's loop until the reply
 * comes; returns its status, its message (or first per-job error) in msg
 * and its first T_JOBID in *id. */
void
request_send(struct fixture *f, uid_t uid, struct pbuf *b) {
  f->client->uid = uid;
  f->client->gid = uid;
  assert_int_equal(write(f->peer, b->data, b->len), (ssize_t)b->len);
  pbuf_free(b);
}

/* Whether the client's reply has arrived (without waiting for it). */
bool
reply_waiting(struct fixture *f) {
  struct pollfd p = {f->peer, POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

int64_t
reply_read(struct fixture *f, char *msg, size_t msglen, int64_t *id) {
  for (int i = 0; i < 2000; i++) {
    uv_run(f->d.loop, UV_RUN_NOWAIT);
    struct pollfd p = {f->peer, POLLIN, 0};
    if (poll(&p, 1, 5) == 1)
      break;
  }
  struct pmsg m;
  size_t len;
  assert_int_equal(proto_recv(f->peer, &f->fr, &m, &len), 0);
  assert_int_equal(m.type, MSG_REPLY);
  int64_t status = pmsg_i64_or(&m, T_STATUS, -999);
  const char *text = pmsg_str(&m, T_MESSAGE);
  if (!text)
    text = pmsg_str(&m, T_ERROR);
  if (msg)
    snprintf(msg, msglen, "%s", text ? text : "");
  if (id)
    *id = pmsg_i64_or(&m, T_JOBID, 0);
  pframer_consume(&f->fr, len);
  return status;
}

int64_t
request(struct fixture *f, uid_t uid, struct pbuf *b, char *msg, size_t msglen, int64_t *id) {
  request_send(f, uid, b);
  return reply_read(f, msg, msglen, id);
}

int64_t
submit_mem(struct fixture *f, uid_t uid, int64_t ncpus, int64_t mem, char *msg, size_t msglen) {
  static char *env[] = {(char *)"PATH=/bin", NULL};
  struct job_rec j = {.uid = uid,
                      .gid = uid,
                      .name = (char *)"t",
                      .workdir = (char *)"/tmp",
                      .script = (char *)"true\n",
                      .script_len = 5,
                      .env = env,
                      .ncpus = ncpus,
                      .mem = mem,
                      .pids = 64};
  struct pbuf b = {0};
  pb_begin(&b, MSG_SUBMIT);
  size_t mark = pb_nest_begin(&b, T_JOB);
  job_rec_encode(&b, &j);
  pb_nest_end(&b, mark);
  pb_end(&b);
  int64_t id = 0;
  int64_t status = request(f, uid, &b, msg, msglen, &id);
  return status == 0 ? id : status;
}

int64_t
submit(struct fixture *f, uid_t uid, int64_t ncpus, char *msg, size_t msglen) {
  return submit_mem(f, uid, ncpus, 1 << 20, msg, msglen);
}

int64_t
act(struct fixture *f, uid_t uid, uint16_t type, int64_t id, char *msg, size_t msglen) {
  struct pbuf b = {0};
  pb_begin(&b, type);
  pb_i64(&b, T_JOBID, id);
  pb_end(&b);
  return request(f, uid, &b, msg, msglen, NULL);
}

int
state_of(struct fixture *f, int64_t id, int *end_reason) {
  struct job_rec j;
  assert_int_equal(db_get_job(f->d.db, id, false, &j), 0);
  int st = j.state;
  if (end_reason)
    *end_reason = j.end_reason;
  job_rec_free(&j);
  return st;
}

/* Runs boxqd's loop until fd is readable (or about 10 s pass). */
void
run_until_readable(struct fixture *f, int fd) {
  for (int i = 0; i < 2000; i++) {
    uv_run(f->d.loop, UV_RUN_NOWAIT);
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 5) == 1)
      return;
  }
  fail_msg("nothing came in 10 s");
}

void
worker_send(struct fixture *f, struct pbuf *b) {
  assert_int_equal(write(f->worker, b->data, b->len), (ssize_t)b->len);
  pbuf_free(b);
}

/* The next frame boxqd sends the worker, of type want (others, such as a
 * dispatch the test does not look at, are skipped); *ret points into
 * f->wfr until the next call. */
void
worker_expect(struct fixture *f, uint16_t want, struct pmsg *ret) {
  if (f->wlast) {
    pframer_consume(&f->wfr, f->wlast);
    f->wlast = 0;
  }
  for (;;) {
    struct pmsg m;
    size_t len;
    if (pframer_next(&f->wfr, &m, &len) == 1) {
      if (m.type == want) {
        *ret = m;
        f->wlast = len;
        return;
      }
      pframer_consume(&f->wfr, len);
      continue;
    }
    run_until_readable(f, f->worker);
    uint8_t buf[65536];
    ssize_t n = read(f->worker, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(pframer_feed(&f->wfr, buf, (size_t)n), 0);
  }
}

/* The next job boxqd dispatches to the worker (job_rec_free it). */
void
worker_expect_dispatch(struct fixture *f, struct job_rec *ret) {
  struct pmsg m, sub;
  struct pfield fld;
  worker_expect(f, MSG_DISPATCH, &m);
  assert_true(pmsg_find(&m, T_JOB, &fld));
  assert_int_equal(pmsg_sub(&fld, &sub), 0);
  assert_int_equal(job_rec_decode(&sub, ret), 0);
}

/* Accepts boxqd's connection and says hello, listing the jobs it runs. */
void
worker_hello(struct fixture *f, const int64_t *running, size_t n) {
  run_until_readable(f, f->listen_fd);
  f->worker = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  assert_true(f->worker >= 0);
  struct pbuf b = {0};
  pb_begin(&b, MSG_WORKER_HELLO);
  pb_str(&b, T_INFO, "v2");
  for (size_t i = 0; i < n; i++)
    pb_i64(&b, T_JOBID, running[i]);
  pb_end(&b);
  worker_send(f, &b);
  for (int i = 0; i < 2000 && !f->d.worker_ready; i++) {
    uv_run(f->d.loop, UV_RUN_NOWAIT);
    poll(NULL, 0, 1);
  }
  assert_true(f->d.worker_ready);
}

int
setup_worker(void **state) {
  return setup_common(state, true);
}

void
worker_started(struct fixture *f, int64_t id) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_STARTED);
  pb_i64(&b, T_JOBID, id);
  pb_i64(&b, J_STIME, 1000);
  pb_str(&b, J_CGROUP, "v2:boxq/test/job-1");
  pb_end(&b);
  worker_send(f, &b);
}

void
worker_ended(struct fixture *f, int64_t id, int reason, int64_t exit_status) {
  struct job_rec end = {.id = id,
                        .end_reason = reason,
                        .has_exit = true,
                        .exit_status = exit_status,
                        .etime = 1010,
                        .has_usage = true,
                        .usage = {.cpu_usec = 1500000, .wall_usec = 10000000, .final = true}};
  struct pbuf b = {0};
  pb_begin(&b, MSG_ENDED);
  size_t mark = pb_nest_begin(&b, T_JOB);
  job_rec_encode(&b, &end);
  pb_nest_end(&b, mark);
  pb_end(&b);
  worker_send(f, &b);
}

/* Runs the loop until job id is in state st (or about 10 s pass). */
void
run_until_state(struct fixture *f, int64_t id, int st) {
  for (int i = 0; i < 2000; i++) {
    uv_run(f->d.loop, UV_RUN_NOWAIT);
    if (state_of(f, id, NULL) == st)
      return;
    poll(NULL, 0, 5);
  }
  fail_msg("job %lld never reached state %c", (long long)id, st);
}

void
act_send(struct fixture *f, uid_t uid, uint16_t type, int64_t id) {
  struct pbuf b = {0};
  pb_begin(&b, type);
  pb_i64(&b, T_JOBID, id);
  pb_end(&b);
  request_send(f, uid, &b);
}

void
worker_started_instead(struct fixture *f, int64_t id, int64_t instead) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_STARTED);
  pb_i64(&b, T_JOBID, id);
  pb_i64(&b, J_STIME, 1005);
  pb_str(&b, J_CGROUP, "v2:boxq/test/job-3");
  pb_i64(&b, T_INSTEAD, instead);
  pb_end(&b);
  worker_send(f, &b);
}

void
worker_returned(struct fixture *f, int64_t id) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_RETURNED);
  pb_i64(&b, T_JOBID, id);
  pb_end(&b);
  worker_send(f, &b);
}
