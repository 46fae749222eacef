/* SPDX-License-Identifier: MIT */
/* boxqd's state machines driven in process, frame by frame, with a real
 * database in a scratch directory: client requests (scheduler/requests.c:
 * a client on one end of a socket pair with the uid the test gives it) and
 * the worker link (scheduler/dispatch.c: the test listens on the worker's
 * socket and plays the worker). The test runs boxqd's loop until the
 * answer it waits for arrives (after the log's sync, for changes) and
 * checks the answer and the stored job: submission and its refusals, who
 * may act on a job, hold -> release -> delete, dispatch -> started ->
 * ended -> acknowledged, a qdel of a running job, the hello's
 * reconciliation, and the ready set (scheduler/ready.c): a job handed
 * ahead stays queued, a request on it waits for the worker's answer and
 * then acts on the job as it is, a start in another's place is recorded
 * from the report or from the next hello. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "boxqd.h"

#include <poll.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char root[64];

struct fixture {
  struct boxqd d;
  struct conn *client; /* boxqd's end */
  int peer;            /* the test's end */
  struct pframer fr;
  int listen_fd, worker; /* the test as the worker: its socket, boxqd's link */
  struct pframer wfr;
  size_t wlast; /* the frame worker_expect returned, consumed at the next call */
};

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

static int
setup(void **state) {
  return setup_common(state, false);
}

static int
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
static void
request_send(struct fixture *f, uid_t uid, struct pbuf *b) {
  f->client->uid = uid;
  f->client->gid = uid;
  assert_int_equal(write(f->peer, b->data, b->len), (ssize_t)b->len);
  pbuf_free(b);
}

/* Whether the client's reply has arrived (without waiting for it). */
static bool
reply_waiting(struct fixture *f) {
  struct pollfd p = {f->peer, POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

static int64_t
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

static int64_t
request(struct fixture *f, uid_t uid, struct pbuf *b, char *msg, size_t msglen, int64_t *id) {
  request_send(f, uid, b);
  return reply_read(f, msg, msglen, id);
}

static int64_t
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

static int64_t
submit(struct fixture *f, uid_t uid, int64_t ncpus, char *msg, size_t msglen) {
  return submit_mem(f, uid, ncpus, 1 << 20, msg, msglen);
}

static int64_t
act(struct fixture *f, uid_t uid, uint16_t type, int64_t id, char *msg, size_t msglen) {
  struct pbuf b = {0};
  pb_begin(&b, type);
  pb_i64(&b, T_JOBID, id);
  pb_end(&b);
  return request(f, uid, &b, msg, msglen, NULL);
}

static int
state_of(struct fixture *f, int64_t id, int *end_reason) {
  struct job_rec j;
  assert_int_equal(db_get_job(f->d.db, id, false, &j), 0);
  int st = j.state;
  if (end_reason)
    *end_reason = j.end_reason;
  job_rec_free(&j);
  return st;
}

static void
submission_is_stored_queued_and_answered_with_its_id(void **state) {
  struct fixture *f = *state;
  char msg[512];
  int64_t id = submit(f, 1000, 1, msg, sizeof(msg));
  assert_true(id > 0);
  assert_int_equal(state_of(f, id, NULL), JOB_QUEUED);
  int64_t second = submit(f, 1000, 2, msg, sizeof(msg));
  assert_int_equal(second, id + 1);
}

static void
submissions_beyond_limits_are_refused_with_the_reason(void **state) {
  struct fixture *f = *state;
  char msg[512];
  /* The queue's max_ncpus is 2. */
  assert_true(submit(f, 1000, 3, msg, sizeof(msg)) < 0);
  assert_non_null(strstr(msg, "ncpus"));
  /* More memory than the box has for jobs (16 GiB). */
  assert_true(submit_mem(f, 1000, 1, 32LL << 30, msg, sizeof(msg)) < 0);
  assert_non_null(strstr(msg, "exceeds this server's"));
  /* Nothing was stored. */
  struct job_rec j;
  assert_int_equal(db_get_job(f->d.db, 1, false, &j), -ENOENT);
}

static void
hold_release_delete_of_a_queued_job(void **state) {
  struct fixture *f = *state;
  char msg[512];
  int64_t id = submit(f, 1000, 1, msg, sizeof(msg));
  assert_true(id > 0);
  assert_int_equal(act(f, 1000, MSG_HOLD, id, msg, sizeof(msg)), 0);
  assert_int_equal(state_of(f, id, NULL), JOB_HELD);
  assert_int_equal(act(f, 1000, MSG_RELEASE, id, msg, sizeof(msg)), 0);
  assert_int_equal(state_of(f, id, NULL), JOB_QUEUED);
  assert_int_equal(act(f, 1000, MSG_DELETE, id, msg, sizeof(msg)), 0);
  int reason = 0;
  assert_int_equal(state_of(f, id, &reason), JOB_FINISHED);
  assert_int_equal(reason, END_CANCELLED);
  /* A finished job cannot be deleted again. */
  assert_true(act(f, 1000, MSG_DELETE, id, msg, sizeof(msg)) < 0);
}

static void
no_user_acts_on_another_users_job(void **state) {
  struct fixture *f = *state;
  char msg[512];
  int64_t id = submit(f, 1000, 1, msg, sizeof(msg));
  assert_true(id > 0);
  static const uint16_t verbs[] = {MSG_HOLD, MSG_DELETE, MSG_RELEASE, MSG_RERUN};
  for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
    assert_int_equal(act(f, 1001, verbs[i], id, msg, sizeof(msg)), -EPERM);
    assert_non_null(strstr(msg, "Unauthorized"));
  }
  assert_int_equal(state_of(f, id, NULL), JOB_QUEUED);
  /* Root may. */
  assert_int_equal(act(f, 0, MSG_HOLD, id, msg, sizeof(msg)), 0);
  assert_int_equal(state_of(f, id, NULL), JOB_HELD);
}

static void
unknown_job_is_named_in_the_error(void **state) {
  struct fixture *f = *state;
  char msg[512];
  assert_int_equal(act(f, 1000, MSG_DELETE, 4242, msg, sizeof(msg)), -ENOENT);
  assert_non_null(strstr(msg, "Unknown Job Id 4242.test"));
}

static void
malformed_request_is_answered_not_fatal(void **state) {
  struct fixture *f = *state;
  struct pbuf b = {0};
  pb_begin(&b, MSG_SUBMIT);
  pb_str(&b, T_JOB, "not a job record");
  pb_end(&b);
  char msg[512];
  assert_true(request(f, 1000, &b, msg, sizeof(msg), NULL) < 0);
  assert_non_null(strstr(msg, "malformed"));
  /* The next request is served as usual. */
  assert_true(submit(f, 1000, 1, msg, sizeof(msg)) > 0);
}

/* Runs boxqd's loop until fd is readable (or about 10 s pass). */
static void
run_until_readable(struct fixture *f, int fd) {
  for (int i = 0; i < 2000; i++) {
    uv_run(f->d.loop, UV_RUN_NOWAIT);
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 5) == 1)
      return;
  }
  fail_msg("nothing came in 10 s");
}

static void
worker_send(struct fixture *f, struct pbuf *b) {
  assert_int_equal(write(f->worker, b->data, b->len), (ssize_t)b->len);
  pbuf_free(b);
}

/* The next frame boxqd sends the worker, of type want (others, such as a
 * dispatch the test does not look at, are skipped); *ret points into
 * f->wfr until the next call. */
static void
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
static void
worker_expect_dispatch(struct fixture *f, struct job_rec *ret) {
  struct pmsg m, sub;
  struct pfield fld;
  worker_expect(f, MSG_DISPATCH, &m);
  assert_true(pmsg_find(&m, T_JOB, &fld));
  assert_int_equal(pmsg_sub(&fld, &sub), 0);
  assert_int_equal(job_rec_decode(&sub, ret), 0);
}

/* Accepts boxqd's connection and says hello, listing the jobs it runs. */
static void
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

static int
setup_worker(void **state) {
  return setup_common(state, true);
}

static void
worker_started(struct fixture *f, int64_t id) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_STARTED);
  pb_i64(&b, T_JOBID, id);
  pb_i64(&b, J_STIME, 1000);
  pb_str(&b, J_CGROUP, "v2:boxq/test/job-1");
  pb_end(&b);
  worker_send(f, &b);
}

static void
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
static void
run_until_state(struct fixture *f, int64_t id, int st) {
  for (int i = 0; i < 2000; i++) {
    uv_run(f->d.loop, UV_RUN_NOWAIT);
    if (state_of(f, id, NULL) == st)
      return;
    poll(NULL, 0, 5);
  }
  fail_msg("job %lld never reached state %c", (long long)id, st);
}

static void
dispatched_started_ended_acknowledged(void **state) {
  struct fixture *f = *state;
  worker_hello(f, NULL, 0);
  char msg[512];
  int64_t id = submit(f, 1000, 1, msg, sizeof(msg));
  assert_true(id > 0);
  struct pmsg m;
  struct job_rec sent;
  worker_expect_dispatch(f, &sent);
  assert_int_equal(sent.id, id);
  assert_int_equal(sent.uid, 1000);
  assert_string_equal(sent.script, "true\n");
  job_rec_free(&sent);
  assert_int_equal(state_of(f, id, NULL), JOB_RUNNING);
  worker_started(f, id);
  worker_ended(f, id, END_COMPLETED, 0);
  /* Stored, then acknowledged once on disk: the worker may forget it. */
  worker_expect(f, MSG_ENDED_ACK, &m);
  assert_int_equal(pmsg_i64_or(&m, T_JOBID, 0), id);
  struct job_rec j;
  assert_int_equal(db_get_job(f->d.db, id, false, &j), 0);
  assert_int_equal(j.state, JOB_FINISHED);
  assert_int_equal(j.end_reason, END_COMPLETED);
  assert_true(j.has_exit);
  assert_int_equal(j.exit_status, 0);
  assert_true(j.has_usage);
  assert_int_equal(j.usage.cpu_usec, 1500000);
  assert_int_equal(j.run_count, 1);
  job_rec_free(&j);
}

static void
qdel_of_a_running_job_asks_the_worker_and_waits_for_its_result(void **state) {
  struct fixture *f = *state;
  worker_hello(f, NULL, 0);
  char msg[512];
  int64_t id = submit(f, 1000, 1, msg, sizeof(msg));
  struct pmsg m;
  worker_expect(f, MSG_DISPATCH, &m);
  worker_started(f, id);
  run_until_state(f, id, JOB_RUNNING);
  assert_int_equal(act(f, 1000, MSG_DELETE, id, msg, sizeof(msg)), 0);
  worker_expect(f, MSG_SIGNAL, &m);
  assert_int_equal(pmsg_i64_or(&m, T_JOBID, 0), id);
  assert_int_equal(pmsg_i64_or(&m, T_FLAGS, 0), 1); /* cancel */
  /* Still running until the worker says it ended. */
  assert_int_equal(state_of(f, id, NULL), JOB_RUNNING);
  worker_ended(f, id, END_CANCELLED, 256 + 15);
  run_until_state(f, id, JOB_FINISHED);
  int reason;
  state_of(f, id, &reason);
  assert_int_equal(reason, END_CANCELLED);
}

static void
hello_reconciles_running_jobs_the_worker_does_not_know(void **state) {
  struct fixture *f = *state;
  char msg[512];
  /* Job a was dispatched but never reached the worker; job b had started;
   * job c runs there. */
  int64_t a = submit(f, 1000, 1, msg, sizeof(msg));
  int64_t b = submit(f, 1000, 1, msg, sizeof(msg));
  int64_t c = submit(f, 1000, 1, msg, sizeof(msg));
  assert_int_equal(db_begin(f->d.db), 0);
  assert_int_equal(db_set_state(f->d.db, a, JOB_RUNNING, "", 100), 0);
  assert_int_equal(db_set_state(f->d.db, b, JOB_RUNNING, "", 100), 0);
  assert_int_equal(db_set_state(f->d.db, c, JOB_RUNNING, "", 100), 0);
  assert_int_equal(db_job_started(f->d.db, b, 100, "test", "v2:boxq/test/job-2"), 0);
  assert_int_equal(db_commit(f->d.db), 0);
  int64_t running[] = {c};
  worker_hello(f, running, 1);
  /* a is queued again (no process of it ran) and dispatched anew; b is
   * lost; c still runs. */
  struct job_rec sent;
  worker_expect_dispatch(f, &sent);
  assert_int_equal(sent.id, a);
  job_rec_free(&sent);
  int reason;
  assert_int_equal(state_of(f, b, &reason), JOB_FINISHED);
  assert_int_equal(reason, END_LOST);
  assert_int_equal(state_of(f, c, NULL), JOB_RUNNING);
}

static void
act_send(struct fixture *f, uid_t uid, uint16_t type, int64_t id) {
  struct pbuf b = {0};
  pb_begin(&b, type);
  pb_i64(&b, T_JOBID, id);
  pb_end(&b);
  request_send(f, uid, &b);
}

static void
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

static void
worker_returned(struct fixture *f, int64_t id) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_RETURNED);
  pb_i64(&b, T_JOBID, id);
  pb_end(&b);
  worker_send(f, &b);
}

/* The box (4 CPUs) full with two 2-CPU jobs, a third of the same user
 * waits: boxqd hands it to the worker's ready set. Returns its id; a and
 * b are the running ones. */
static int64_t
a_job_handed_ahead(struct fixture *f, int64_t *a, int64_t *b) {
  worker_hello(f, NULL, 0);
  char msg[512];
  *a = submit(f, 1000, 2, msg, sizeof(msg));
  *b = submit(f, 1000, 2, msg, sizeof(msg));
  struct job_rec sent;
  worker_expect_dispatch(f, &sent);
  job_rec_free(&sent);
  worker_expect_dispatch(f, &sent);
  job_rec_free(&sent);
  int64_t c = submit(f, 1000, 2, msg, sizeof(msg));
  struct pmsg m, sub;
  struct pfield fld;
  worker_expect(f, MSG_DISPATCH, &m);
  assert_int_equal(pmsg_i64_or(&m, T_READY, 0), 1);
  assert_true(pmsg_find(&m, T_JOB, &fld));
  assert_int_equal(pmsg_sub(&fld, &sub), 0);
  assert_int_equal(job_rec_decode(&sub, &sent), 0);
  assert_int_equal(sent.id, c);
  job_rec_free(&sent);
  assert_true(ready_has(&f->d, c));
  /* Queued, in the database as in qstat. */
  assert_int_equal(state_of(f, c, NULL), JOB_QUEUED);
  return c;
}

static void
ready_job_deleted_waits_for_the_worker_to_give_it_back(void **state) {
  struct fixture *f = *state;
  int64_t a, b, c = a_job_handed_ahead(f, &a, &b);
  act_send(f, 1000, MSG_DELETE, c);
  struct pmsg m;
  worker_expect(f, MSG_TAKE_BACK, &m);
  assert_int_equal(pmsg_i64_or(&m, T_JOBID, 0), c);
  /* No answer until the worker has answered. */
  for (int i = 0; i < 20; i++) {
    uv_run(f->d.loop, UV_RUN_NOWAIT);
    poll(NULL, 0, 2);
  }
  assert_false(reply_waiting(f));
  assert_int_equal(state_of(f, c, NULL), JOB_QUEUED);
  worker_returned(f, c);
  char msg[512];
  assert_int_equal(reply_read(f, msg, sizeof(msg), NULL), 0);
  int reason;
  assert_int_equal(state_of(f, c, &reason), JOB_FINISHED);
  assert_int_equal(reason, END_CANCELLED);
  assert_false(ready_has(&f->d, c));
}

static void
ready_job_started_by_the_worker_is_recorded_in_its_place(void **state) {
  struct fixture *f = *state;
  int64_t a, b, c = a_job_handed_ahead(f, &a, &b);
  worker_started(f, a);
  worker_started(f, b);
  /* a ends and c takes its place: the start is reported first. */
  worker_started_instead(f, c, a);
  worker_ended(f, a, END_COMPLETED, 0);
  run_until_state(f, a, JOB_FINISHED);
  run_until_state(f, c, JOB_RUNNING);
  assert_false(ready_has(&f->d, c));
  struct job_rec j;
  assert_int_equal(db_get_job(f->d.db, c, false, &j), 0);
  assert_int_equal(j.stime, 1005);
  assert_int_equal(j.run_count, 1);
  job_rec_free(&j);
}

/* A pass may start a job of the ready set itself (CPUs freed that the
 * worker could not give it) just as the worker starts it in another's
 * place: one run, recorded once, in the place the worker gave it. */
static void
ready_job_dispatched_while_the_worker_starts_it(void **state) {
  struct fixture *f = *state;
  int64_t a, b, c = a_job_handed_ahead(f, &a, &b);
  worker_started(f, a);
  worker_started(f, b);
  worker_ended(f, b, END_COMPLETED, 0);
  struct pmsg m;
  worker_expect(f, MSG_DISPATCH, &m);
  assert_int_equal(pmsg_i64_or(&m, T_READY, 0), 0);
  assert_false(ready_has(&f->d, c));
  assert_int_equal(state_of(f, c, NULL), JOB_RUNNING);
  worker_started_instead(f, c, a);
  worker_ended(f, a, END_COMPLETED, 0);
  run_until_state(f, a, JOB_FINISHED);
  struct job_rec j;
  assert_int_equal(db_get_job(f->d.db, c, false, &j), 0);
  assert_int_equal(j.state, JOB_RUNNING);
  assert_int_equal(j.stime, 1005);
  assert_int_equal(j.run_count, 1);
  job_rec_free(&j);
}

static void
a_hold_crossing_the_start_acts_on_the_running_job(void **state) {
  struct fixture *f = *state;
  int64_t a, b, c = a_job_handed_ahead(f, &a, &b);
  act_send(f, 1000, MSG_HOLD, c);
  struct pmsg m;
  worker_expect(f, MSG_TAKE_BACK, &m);
  /* The worker had started it already: it answers with the start. */
  worker_started_instead(f, c, a);
  worker_ended(f, a, END_COMPLETED, 0);
  char msg[512];
  assert_true(reply_read(f, msg, sizeof(msg), NULL) < 0);
  assert_non_null(strstr(msg, "state R"));
  assert_int_equal(state_of(f, c, NULL), JOB_RUNNING);
}

static void
hello_records_a_ready_job_the_worker_runs(void **state) {
  struct fixture *f = *state;
  int64_t a, b, c = a_job_handed_ahead(f, &a, &b);
  /* The connection drops before c's start is heard; the new hello lists
   * it, in a's place. A request on it waits for that hello. */
  close(f->worker);
  f->worker = -1;
  pframer_free(&f->wfr);
  f->wfr = (struct pframer){0};
  f->wlast = 0;
  for (int i = 0; i < 2000 && f->d.worker; i++) {
    uv_run(f->d.loop, UV_RUN_NOWAIT);
    poll(NULL, 0, 1);
  }
  act_send(f, 1000, MSG_HOLD, c);
  for (int i = 0; i < 20; i++) {
    uv_run(f->d.loop, UV_RUN_NOWAIT);
    poll(NULL, 0, 2);
  }
  assert_false(reply_waiting(f));
  run_until_readable(f, f->listen_fd);
  f->worker = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  assert_true(f->worker >= 0);
  struct pbuf hb = {0};
  pb_begin(&hb, MSG_WORKER_HELLO);
  pb_str(&hb, T_INFO, "v2");
  pb_i64(&hb, T_JOBID, a);
  pb_i64(&hb, T_JOBID, b);
  pb_i64(&hb, T_JOBID, c);
  pb_i64(&hb, T_INSTEAD, a);
  pb_end(&hb);
  worker_send(f, &hb);
  char msg[512];
  assert_true(reply_read(f, msg, sizeof(msg), NULL) < 0); /* a running job is not held */
  assert_int_equal(state_of(f, c, NULL), JOB_RUNNING);
  assert_false(ready_has(&f->d, c));
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(submission_is_stored_queued_and_answered_with_its_id, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(submissions_beyond_limits_are_refused_with_the_reason, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(hold_release_delete_of_a_queued_job, setup, teardown),
      cmocka_unit_test_setup_teardown(no_user_acts_on_another_users_job, setup, teardown),
      cmocka_unit_test_setup_teardown(unknown_job_is_named_in_the_error, setup, teardown),
      cmocka_unit_test_setup_teardown(malformed_request_is_answered_not_fatal, setup, teardown),
      cmocka_unit_test_setup_teardown(dispatched_started_ended_acknowledged, setup_worker,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          qdel_of_a_running_job_asks_the_worker_and_waits_for_its_result, setup_worker, teardown),
      cmocka_unit_test_setup_teardown(hello_reconciles_running_jobs_the_worker_does_not_know,
                                      setup_worker, teardown),
      cmocka_unit_test_setup_teardown(ready_job_deleted_waits_for_the_worker_to_give_it_back,
                                      setup_worker, teardown),
      cmocka_unit_test_setup_teardown(ready_job_started_by_the_worker_is_recorded_in_its_place,
                                      setup_worker, teardown),
      cmocka_unit_test_setup_teardown(ready_job_dispatched_while_the_worker_starts_it, setup_worker,
                                      teardown),
      cmocka_unit_test_setup_teardown(a_hold_crossing_the_start_acts_on_the_running_job,
                                      setup_worker, teardown),
      cmocka_unit_test_setup_teardown(hello_records_a_ready_job_the_worker_runs, setup_worker,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
