/* SPDX-License-Identifier: MIT */
/* The worker's job records (worker/jobs.c), driven without a scheduler,
 * cgroups or root: what a restarted worker makes of each spool directory
 * it finds (a result: ended; neither a result nor a live shepherd: lost,
 * with the last usage snapshot; an unreadable result: replaced by a lost
 * one; a live shepherd: watched, and lost when it dies without a result),
 * the acknowledgement that ends a job's stay, the ready set's jobs waiting
 * unstarted, and a dispatch for a run already made (boxqd had not heard
 * it start from the ready set) ignored. The loop runs only when
 * a shepherd's exit is awaited, never on a timer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "spool.h"
#include "worker.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[64];

struct fixture {
  struct worker w;
};

static int
setup(void **state) {
  snprintf(root, sizeof(root), "/var/tmp/boxq-wjobs-test.XXXXXX");
  if (!mkdtemp(root))
    return -1;
  struct fixture *f = xcalloc(1, sizeof(*f));
  struct berr err = {{0}};
  unsetenv("BOXQ_STATE_DIR");
  char ini[256];
  snprintf(ini, sizeof(ini), "[boxq]\nstate_dir = %s/state\n[worker]\nspool_dir = %s/spool\n", root,
           root);
  if (cfg_load_string(ini, "t.ini", &f->w.cfg, &err) < 0)
    return -1;
  mkdir(f->w.cfg.spool_dir, 0700);
  f->w.sys.mode = CG_MODE_NONE;
  f->w.sys.v2_parent_fd = -1;
  for (int i = 0; i < CG_V1_MAX; i++)
    f->w.sys.v1_parent_fd[i] = -1;
  f->w.loop = uv_default_loop();
  uv_timer_init(f->w.loop, &f->w.outbox_timer);
  *state = f;
  return 0;
}

static void
closed(uv_handle_t *h) {
  (void)h;
}

static int
teardown(void **state) {
  struct fixture *f = *state;
  while (f->w.jobs)
    wjob_free(&f->w, f->w.jobs);
  idmap_free(&f->w.jobs_by_id);
  shep_close_all(&f->w);
  uv_close((uv_handle_t *)&f->w.outbox_timer, closed);
  uv_run(f->w.loop, UV_RUN_DEFAULT);
  for (struct wshep *s = f->w.sheps, *next; s; s = next) {
    next = s->next;
    free(s);
  }
  pbuf_free(&f->w.outbox);
  cfg_free(&f->w.cfg);
  free(f);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
  return system(cmd) == 0 ? 0 : -1;
}

static char *
jobdir(struct worker *w, int64_t id) {
  char *d = xasprintf("%s/%lld", w->cfg.spool_dir, (long long)id);
  mkdir(d, 0700);
  return d;
}

/* The end record held for the scheduler. */
static struct job_rec
result_of(struct wjob *j) {
  struct pmsg m, sub;
  struct pfield f;
  struct job_rec end = {0};
  assert_true(j->ended);
  assert_int_equal(proto_parse_frame(j->result.data, j->result.len, &m), 0);
  assert_int_equal(m.type, MSG_ENDED);
  assert_true(pmsg_find(&m, T_JOB, &f));
  assert_int_equal(pmsg_sub(&f, &sub), 0);
  assert_int_equal(job_rec_decode(&sub, &end), 0);
  return end;
}

static void
ended_job_is_reported_as_it_ended(void **state) {
  struct fixture *f = *state;
  _cleanup_free_ char *d = jobdir(&f->w, 7);
  struct job_rec end = {
      .id = 7, .end_reason = END_COMPLETED, .has_exit = true, .exit_status = 3, .etime = 100};
  assert_int_equal(spool_write_result(d, &end, NULL, 0), 0);
  wjob_recover_all(&f->w);
  struct wjob *j = wjob_find(&f->w, 7);
  assert_non_null(j);
  struct job_rec got = result_of(j);
  assert_int_equal(got.end_reason, END_COMPLETED);
  assert_int_equal(got.exit_status, 3);
  job_rec_free(&got);
  /* The scheduler's acknowledgement ends its stay, spool and all. */
  wjob_ack(&f->w, 7);
  assert_null(wjob_find(&f->w, 7));
  assert_int_equal(access(d, F_OK), -1);
}

static void
job_without_shepherd_or_result_is_lost_with_its_last_usage(void **state) {
  struct fixture *f = *state;
  _cleanup_free_ char *d = jobdir(&f->w, 8);
  /* Its last usage snapshot, as a shepherd writes it. */
  struct pbuf b = {0};
  pb_begin(&b, MSG_USAGE);
  size_t mark = pb_nest_begin(&b, T_JOB);
  struct job_usage u = {.cpu_usec = 4200000, .mem_peak = 1 << 20, .mem_peak_src = MEM_PEAK_KERNEL};
  job_usage_encode(&b, &u);
  pb_nest_end(&b, mark);
  pb_end(&b);
  _cleanup_free_ char *usage = xasprintf("%s/%s", d, SPOOL_USAGE);
  assert_int_equal(write_file_direct(usage, b.data, b.len, 0600), 0);
  pbuf_free(&b);
  wjob_recover_all(&f->w);
  struct wjob *j = wjob_find(&f->w, 8);
  assert_non_null(j);
  struct job_rec got = result_of(j);
  assert_int_equal(got.end_reason, END_LOST);
  assert_int_equal(got.exit_status, JOB_EXEC_LOST);
  assert_true(got.has_usage);
  assert_int_equal(got.usage.cpu_usec, 4200000);
  assert_non_null(strstr(got.comment, "shepherd went away"));
  job_rec_free(&got);
  /* And the record is in the spool, for a worker that restarts again. */
  _cleanup_free_ char *res = xasprintf("%s/%s", d, SPOOL_RESULT);
  assert_int_equal(access(res, F_OK), 0);
}

static void
unreadable_result_is_replaced_by_a_lost_one(void **state) {
  struct fixture *f = *state;
  _cleanup_free_ char *d = jobdir(&f->w, 9);
  _cleanup_free_ char *res = xasprintf("%s/%s", d, SPOOL_RESULT);
  assert_int_equal(write_file_direct(res, "garbage", 7, 0600), 0);
  wjob_recover_all(&f->w);
  struct wjob *j = wjob_find(&f->w, 9);
  assert_non_null(j);
  struct job_rec got = result_of(j);
  assert_int_equal(got.end_reason, END_LOST);
  job_rec_free(&got);
}

static void
live_shepherd_is_watched_and_its_death_loses_the_job(void **state) {
  struct fixture *f = *state;
  _cleanup_free_ char *d = jobdir(&f->w, 10);
  /* A process standing for the job's shepherd, named in the spool. */
  int gate[2];
  assert_int_equal(pipe(gate), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char c;
    close(gate[1]);
    ssize_t n = read(gate[0], &c, 1); /* until the test lets it go */
    _exit(n == 0 ? 0 : 1);
  }
  close(gate[0]);
  uint64_t start;
  assert_int_equal(proc_stat_fields(pid, 22, 1, &start), 0);
  assert_int_equal(spool_write_pid(d, pid, start), 0);
  wjob_recover_all(&f->w);
  struct wjob *j = wjob_find(&f->w, 10);
  assert_non_null(j);
  assert_false(j->ended);
  assert_non_null(j->shep);
  assert_int_equal(j->shep->pid, pid);
  /* It dies without writing a result: the job is lost, once the loop
   * hears of the exit. */
  close(gate[1]);
  waitpid(pid, NULL, 0);
  for (int i = 0; i < 100 && !j->ended; i++)
    uv_run(f->w.loop, UV_RUN_ONCE);
  struct job_rec got = result_of(j);
  assert_int_equal(got.end_reason, END_LOST);
  job_rec_free(&got);
}

static void
stale_acknowledgement_of_a_running_job_is_ignored(void **state) {
  struct fixture *f = *state;
  _cleanup_free_ char *d = jobdir(&f->w, 11);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    pause();
    _exit(0);
  }
  uint64_t start;
  assert_int_equal(proc_stat_fields(pid, 22, 1, &start), 0);
  assert_int_equal(spool_write_pid(d, pid, start), 0);
  wjob_recover_all(&f->w);
  wjob_ack(&f->w, 11);
  struct wjob *j = wjob_find(&f->w, 11);
  assert_non_null(j);
  assert_false(j->ended);
  assert_int_equal(access(d, F_OK), 0);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  for (int i = 0; i < 100 && !j->ended; i++)
    uv_run(f->w.loop, UV_RUN_ONCE);
  assert_true(j->ended);
}

/* A dispatch frame for job id (run_count as boxqd has it), for the ready
 * set or to start now. */
static void
dispatch(struct fixture *f, int64_t id, int64_t run_count, bool ready) {
  struct job_rec j = {.id = id,
                      .owner = (char *)"root",
                      .queue = (char *)"batch",
                      .workdir = (char *)"/",
                      .ncpus = 1,
                      .mem = 1 << 20,
                      .run_count = run_count,
                      .script = (char *)"true\n",
                      .script_len = 5};
  struct pbuf b = {0};
  pb_begin(&b, MSG_DISPATCH);
  size_t mark = pb_nest_begin(&b, T_JOB);
  job_rec_encode(&b, &j);
  pb_nest_end(&b, mark);
  if (ready)
    pb_i64(&b, T_READY, 1);
  pb_end(&b);
  struct pmsg m;
  assert_int_equal(proto_parse_frame(b.data, b.len, &m), 0);
  assert_int_equal(wjob_dispatch(&f->w, &m), 0);
  pbuf_free(&b);
}

static void
ready_job_waits_unstarted_until_taken_back(void **state) {
  struct fixture *f = *state;
  dispatch(f, 13, 0, true);
  assert_true(wready_has(&f->w.ready, 13));
  assert_null(wjob_find(&f->w, 13)); /* no spool, no shepherd */
  wjob_take_back(&f->w, 13);
  assert_false(wready_has(&f->w.ready, 13));
  wready_clear(&f->w.ready);
}

/* boxqd dispatched a job it had handed ahead, not knowing the worker had
 * started it in another's place; it has even ended. That run was made:
 * the dispatch is for it, and must not run the job a second time. */
static void
dispatch_for_a_run_already_made_is_ignored(void **state) {
  struct fixture *f = *state;
  _cleanup_free_ char *d = jobdir(&f->w, 12);
  struct job_rec end = {
      .id = 12, .end_reason = END_COMPLETED, .has_exit = true, .exit_status = 0, .etime = 100};
  assert_int_equal(spool_write_result(d, &end, NULL, 0), 0);
  wjob_recover_all(&f->w);
  struct wjob *j = wjob_find(&f->w, 12);
  assert_non_null(j);
  j->run = 1; /* its first run, started from the ready set */
  dispatch(f, 12, 0, false);
  assert_ptr_equal(wjob_find(&f->w, 12), j);
  assert_true(j->ended);
  assert_null(j->shep);
  dispatch(f, 12, 0, true); /* nor handed ahead again */
  assert_false(wready_has(&f->w.ready, 12));
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(ended_job_is_reported_as_it_ended, setup, teardown),
      cmocka_unit_test_setup_teardown(job_without_shepherd_or_result_is_lost_with_its_last_usage,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(unreadable_result_is_replaced_by_a_lost_one, setup, teardown),
      cmocka_unit_test_setup_teardown(live_shepherd_is_watched_and_its_death_loses_the_job, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(stale_acknowledgement_of_a_running_job_is_ignored, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(ready_job_waits_unstarted_until_taken_back, setup, teardown),
      cmocka_unit_test_setup_teardown(dispatch_for_a_run_already_made_is_ignored, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
