/* SPDX-License-Identifier: MIT */
/* scheduler/timing.c: exact percentiles over the recent durations (nearest
 * rank, the ring keeps the last TIMING_RECENT), and histogram buckets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "timing.h"

static void
percentiles_are_nearest_rank(void **state) {
  (void)state;
  static struct timing t;
  assert_int_equal(timing_percentile(&t, 50), 0);
  for (uint64_t v = 100; v >= 1; v--) /* 100 .. 1, out of order */
    timing_add(&t, v);
  assert_int_equal(t.n, 100);
  assert_int_equal(t.sum_us, 5050);
  assert_int_equal(t.max_us, 100);
  assert_int_equal(timing_percentile(&t, 50), 50);
  assert_int_equal(timing_percentile(&t, 99), 99);
  assert_int_equal(timing_percentile(&t, 100), 100);
  assert_int_equal(timing_percentile(&t, 1), 1);
}

static void
the_ring_keeps_the_most_recent(void **state) {
  (void)state;
  static struct timing t;
  for (int i = 0; i < TIMING_RECENT; i++)
    timing_add(&t, 1000000); /* old, slow */
  for (int i = 0; i < TIMING_RECENT; i++)
    timing_add(&t, 7); /* recent, fast: they alone count */
  assert_int_equal(timing_percentile(&t, 99), 7);
  assert_int_equal(timing_percentile(&t, 100), 7);
  assert_int_equal(t.max_us, 1000000); /* the maximum is of all */
  assert_int_equal(t.n, 2 * TIMING_RECENT);
}

static void
buckets_count_each_duration_once(void **state) {
  (void)state;
  static struct timing t;
  timing_add(&t, 100);     /* on the first bound: in it */
  timing_add(&t, 101);     /* just above */
  timing_add(&t, 9999999); /* above every bound */
  assert_int_equal(t.bucket[0], 1);
  assert_int_equal(t.bucket[1], 1);
  assert_int_equal(t.bucket[TIMING_BUCKETS], 1);
  uint64_t total = 0;
  for (int b = 0; b <= TIMING_BUCKETS; b++)
    total += t.bucket[b];
  assert_int_equal(total, t.n);
  /* Prometheus' form: cumulative, +Inf holding all. */
  char *text = timing_buckets_text(&t);
  assert_string_equal(text, "100:1 250:2 500:2 1000:2 2500:2 5000:2 10000:2 25000:2 50000:2 "
                            "100000:2 250000:2 1000000:2 inf:3");
  free(text);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(percentiles_are_nearest_rank),
      cmocka_unit_test(the_ring_keeps_the_most_recent),
      cmocka_unit_test(buckets_count_each_duration_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
