/* SPDX-License-Identifier: MIT */
/* The worker's ready set (worker/ready.c): which handed-ahead job a freed
 * place takes. It must be the first, in the order handed, that fits the
 * place one for one (same user and queue, no more CPUs or memory, the
 * same array when the job's array caps its running tasks), so that no
 * limit boxqd enforces is ever exceeded by a start boxqd did not plan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cpuset.h"
#include "ready.h"
#include "util.h"

#include <string.h>

static struct job_rec
job(int64_t id, int64_t uid, const char *queue, int64_t ncpus, int64_t mem) {
  return (struct job_rec){.id = id,
                          .uid = uid,
                          .queue = xstrdup(queue),
                          .ncpus = ncpus,
                          .mem = mem,
                          .script = xstrdup("true\n"),
                          .script_len = 5};
}

static struct wplace
place_of(int64_t uid, const char *queue, int64_t ncpus, int64_t mem, const char *cpus) {
  struct job_rec j = job(1, uid, queue, ncpus, mem);
  j.cpus = xstrdup(cpus);
  struct wplace p = {0};
  wplace_set(&p, &j);
  job_rec_free(&j);
  return p;
}

static void
a_place_fits_one_for_one(void **state) {
  (void)state;
  struct wplace p = place_of(1000, "batch", 2, 1 << 30, "2-3");
  struct job_rec same = job(2, 1000, "batch", 2, 1 << 30), smaller = job(3, 1000, "batch", 1, 1);
  struct job_rec other_user = job(4, 1001, "batch", 1, 1), other_queue = job(5, 1000, "fast", 1, 1);
  struct job_rec more_cpus = job(6, 1000, "batch", 3, 1),
                 more_mem = job(7, 1000, "batch", 1, 2LL << 30);
  assert_true(wready_fits(&p, &same));
  assert_true(wready_fits(&p, &smaller));
  assert_false(wready_fits(&p, &other_user));
  assert_false(wready_fits(&p, &other_queue));
  assert_false(wready_fits(&p, &more_cpus));
  assert_false(wready_fits(&p, &more_mem));
  /* A task of an array capped with %N takes only its own array's place. */
  struct job_rec capped = job(8, 1000, "batch", 1, 1);
  capped.array_id = 50;
  capped.array_limit = 2;
  assert_false(wready_fits(&p, &capped));
  p.array_id = 50;
  assert_true(wready_fits(&p, &capped));
  capped.array_limit = 0; /* uncapped: any place of its user and queue */
  p.array_id = 0;
  assert_true(wready_fits(&p, &capped));
  /* A place whose job was found after a restart has no record: none. */
  struct wplace unknown = {0};
  assert_false(wready_fits(&unknown, &same));
  struct job_rec *all[] = {&same,      &smaller,  &other_user, &other_queue,
                           &more_cpus, &more_mem, &capped};
  for (size_t i = 0; i < ARRAY_SIZE(all); i++)
    job_rec_free(all[i]);
  wplace_clear(&p);
}

static void
a_freed_place_takes_the_first_handed_that_fits(void **state) {
  (void)state;
  struct wready r = {0};
  struct job_rec a = job(10, 1001, "batch", 1, 1), b = job(11, 1000, "batch", 4, 1);
  struct job_rec c = job(12, 1000, "batch", 1, 1), e = job(13, 1000, "batch", 1, 1);
  wready_add(&r, &a);
  wready_add(&r, &b);
  wready_add(&r, &c);
  wready_add(&r, &e);
  assert_int_equal(r.n, 4);
  assert_null(c.queue); /* its strings moved into the set */
  struct wplace p = place_of(1000, "batch", 2, 1 << 30, "");
  struct job_rec got;
  assert_true(wready_take_for(&r, &p, &got));
  assert_int_equal(got.id, 12); /* not 10 (another user), not 11 (too big) */
  assert_string_equal(got.script, "true\n");
  job_rec_free(&got);
  assert_false(wready_has(&r, 12));
  assert_true(wready_take_for(&r, &p, &got));
  assert_int_equal(got.id, 13);
  job_rec_free(&got);
  assert_false(wready_take_for(&r, &p, &got));
  /* The order of the rest is kept. */
  assert_int_equal(r.n, 2);
  assert_int_equal(r.jobs[0].id, 10);
  assert_int_equal(r.jobs[1].id, 11);
  wplace_clear(&p);
  wready_clear(&r);
  assert_int_equal(r.n, 0);
}

static void
taken_back_dispatched_or_handed_again(void **state) {
  (void)state;
  struct wready r = {0};
  struct job_rec a = job(20, 1000, "batch", 1, 1), b = job(21, 1000, "batch", 1, 1);
  wready_add(&r, &a);
  wready_add(&r, &b);
  /* Taken back (or dispatched to start now): gone, once. */
  assert_true(wready_remove(&r, 20));
  assert_false(wready_remove(&r, 20));
  assert_false(wready_has(&r, 20));
  /* Handed again: one entry, the newest record, last in line. */
  struct job_rec again = job(21, 1000, "batch", 1, 1), c = job(22, 1000, "batch", 1, 1);
  wready_add(&r, &c);
  wready_add(&r, &again);
  assert_int_equal(r.n, 2);
  assert_int_equal(r.jobs[0].id, 22);
  assert_int_equal(r.jobs[1].id, 21);
  wready_clear(&r);
}

static void
pinned_cpus_of_a_place_go_to_the_job_lowest_first(void **state) {
  (void)state;
  char *one = cpuset_first("4-7", 1), *two = cpuset_first("1,5,9", 2), *none = cpuset_first("", 2);
  assert_string_equal(one, "4");
  assert_string_equal(two, "1,5");
  assert_string_equal(none, "");
  free(one);
  free(two);
  free(none);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_place_fits_one_for_one),
      cmocka_unit_test(a_freed_place_takes_the_first_handed_that_fits),
      cmocka_unit_test(taken_back_dispatched_or_handed_again),
      cmocka_unit_test(pinned_cpus_of_a_place_go_to_the_job_lowest_first),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
