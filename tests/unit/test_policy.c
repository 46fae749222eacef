/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy.h"

#define GB (INT64_C(1) << 30)

static void
fills_up_to_capacity(void **state) {
  (void)state;
  struct sched_capacity cap = {2, 4 * GB}, used = {0, 0};
  struct sched_job q[] = {{1, 1, GB}, {2, 1, GB}, {3, 1, GB}};
  size_t chosen[3];
  size_t n = sched_pick(&cap, &used, q, 3, chosen, 3);
  assert_int_equal(n, 2);
  assert_int_equal(chosen[0], 0);
  assert_int_equal(chosen[1], 1);
  assert_int_equal(used.ncpus, 2);
  assert_int_equal(used.mem, 2 * GB);
}

static void
memory_is_consumable_too(void **state) {
  (void)state;
  struct sched_capacity cap = {8, 4 * GB}, used = {0, 3 * GB};
  struct sched_job q[] = {{1, 1, 2 * GB}};
  size_t chosen[1];
  assert_int_equal(sched_pick(&cap, &used, q, 1, chosen, 1), 0);
  used.mem = 2 * GB;
  assert_int_equal(sched_pick(&cap, &used, q, 1, chosen, 1), 1);
}

/* A big job at the head is not overtaken by small ones behind it. */
static void
no_starvation_of_the_head(void **state) {
  (void)state;
  struct sched_capacity cap = {2, 4 * GB}, used = {1, GB};
  struct sched_job q[] = {{1, 2, GB}, {2, 1, GB}, {3, 1, GB}};
  size_t chosen[3];
  assert_int_equal(sched_pick(&cap, &used, q, 3, chosen, 3), 0);
  assert_int_equal(used.ncpus, 1);
}

static void
respects_max_chosen(void **state) {
  (void)state;
  struct sched_capacity cap = {100, 100 * GB}, used = {0, 0};
  struct sched_job q[] = {{1, 1, GB}, {2, 1, GB}, {3, 1, GB}};
  size_t chosen[2];
  assert_int_equal(sched_pick(&cap, &used, q, 3, chosen, 2), 2);
  assert_true(sched_fits_box(&cap, 100, 100 * GB));
  assert_false(sched_fits_box(&cap, 101, GB));
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fills_up_to_capacity),
      cmocka_unit_test(memory_is_consumable_too),
      cmocka_unit_test(no_starvation_of_the_head),
      cmocka_unit_test(respects_max_chosen),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
