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
 * reconciliation, a qwait answered at the job's end, and scheduling
 * turned off and on. The ready set's cases are test_ready's. */
#include "boxqd_fixture.h"

#include <string.h>

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

/* qwait: the request is answered when the job ends, not before, with its
 * record (the exit status the client returns). */
static void
a_wait_is_answered_when_its_job_ends(void **state) {
  struct fixture *f = *state;
  worker_hello(f, NULL, 0);
  char msg[512];
  int64_t id = submit(f, 1000, 1, msg, sizeof(msg));
  struct job_rec sent;
  worker_expect_dispatch(f, &sent);
  job_rec_free(&sent);
  worker_started(f, id);
  act_send(f, 1000, MSG_WAIT, id);
  for (int i = 0; i < 20; i++)
    uv_run(f->d.loop, UV_RUN_NOWAIT);
  assert_false(reply_waiting(f));
  worker_ended(f, id, END_FAILED, 3);
  assert_int_equal(reply_read(f, msg, sizeof(msg), NULL), 0);
  /* A finished job is answered at once; an unknown one is named. */
  assert_int_equal(act(f, 1000, MSG_WAIT, id, msg, sizeof(msg)), 0);
  assert_true(act(f, 1000, MSG_WAIT, id + 100, msg, sizeof(msg)) < 0);
  assert_non_null(strstr(msg, "Unknown Job Id"));
}

/* Scheduling off (qmgr): nothing is dispatched until it is on again; only
 * root (or a manager) may turn it off, and it is kept in the database. */
static void
scheduling_off_starts_nothing_until_on(void **state) {
  struct fixture *f = *state;
  worker_hello(f, NULL, 0);
  char msg[512];
  struct pbuf b = {0};
  pb_begin(&b, MSG_ADMIN);
  pb_i64(&b, T_FLAGS, ADMIN_SCHEDULING_OFF);
  pb_end(&b);
  assert_true(request(f, 1000, &b, msg, sizeof(msg), NULL) < 0);
  assert_non_null(strstr(msg, "only root, managers and operators"));
  pb_begin(&b, MSG_ADMIN);
  pb_i64(&b, T_FLAGS, ADMIN_SCHEDULING_OFF);
  pb_end(&b);
  assert_int_equal(request(f, 0, &b, msg, sizeof(msg), NULL), 0);
  assert_true(f->d.scheduling_off);
  int64_t id = submit(f, 1000, 1, msg, sizeof(msg));
  for (int i = 0; i < 20; i++)
    uv_run(f->d.loop, UV_RUN_NOWAIT);
  assert_int_equal(state_of(f, id, NULL), JOB_QUEUED);
  char *v = NULL;
  assert_int_equal(db_get_attr(f->d.db, "scheduling", &v), 0);
  assert_string_equal(v, "false");
  free(v);
  pb_begin(&b, MSG_ADMIN);
  pb_i64(&b, T_FLAGS, ADMIN_SCHEDULING_ON);
  pb_end(&b);
  assert_int_equal(request(f, 0, &b, msg, sizeof(msg), NULL), 0);
  struct job_rec sent;
  worker_expect_dispatch(f, &sent);
  assert_int_equal(sent.id, id);
  job_rec_free(&sent);
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
      cmocka_unit_test_setup_teardown(a_wait_is_answered_when_its_job_ends, setup_worker, teardown),
      cmocka_unit_test_setup_teardown(scheduling_off_starts_nothing_until_on, setup_worker,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
