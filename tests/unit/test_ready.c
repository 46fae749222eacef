/* SPDX-License-Identifier: MIT */
/* boxqd's ready set (scheduler/ready.c), with the test playing the worker
 * (boxqd_fixture.h): a job handed ahead stays queued; a request on it
 * waits for the worker's answer, then acts on the job as it is (deleted
 * when given back, refused as running when it had started); a start in
 * another's place is recorded from its report, from the next hello when
 * the report was lost with the connection, and once when a pass started
 * the same job meanwhile. */
#include "boxqd_fixture.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
  /* A running job cannot go back to the queue: qhold suspends it. */
  char msg[512];
  assert_int_equal(reply_read(f, msg, sizeof(msg), NULL), 0);
  worker_expect(f, MSG_SIGNAL, &m);
  assert_int_equal(pmsg_i64_or(&m, T_JOBID, 0), c);
  assert_int_equal(pmsg_i64_or(&m, T_SIGNAL, 0), JOB_SIG_SUSPEND);
  assert_int_equal(state_of(f, c, NULL), JOB_RUNNING);
  struct job_rec j;
  assert_int_equal(db_get_job(f->d.db, c, false, &j), 0);
  assert_true(j.suspended_at > 0);
  job_rec_free(&j);
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
  assert_int_equal(reply_read(f, msg, sizeof(msg), NULL), 0); /* running: suspended, not held */
  assert_int_equal(state_of(f, c, NULL), JOB_RUNNING);
  assert_false(ready_has(&f->d, c));
}

int
main(void) {
  const struct CMUnitTest tests[] = {
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
