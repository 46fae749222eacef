/* SPDX-License-Identifier: MIT */
/* common/series.c: a job's usage series stays within SERIES_MAX points,
 * evenly spread over the whole run however long it is, its last point the
 * newest sample, and survives its stored form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "series.h"

#include <errno.h>
#include <string.h>

static struct series_point
at(int64_t sec) {
  return (struct series_point){sec * 1000000, sec * 500000, sec * 4096, sec * 8192};
}

static void
a_short_run_keeps_every_sample(void **state) {
  (void)state;
  struct series_point pts[SERIES_MAX];
  size_t n = 0;
  for (int s = 1; s <= 100; s++) {
    struct series_point p = at(s);
    n = series_add(pts, n, &p);
  }
  assert_int_equal(n, 100);
  assert_int_equal(pts[0].t_usec, 1000000);
  assert_int_equal(pts[99].t_usec, 100000000);
}

static void
a_long_run_stays_bounded_and_spread(void **state) {
  (void)state;
  struct series_point pts[SERIES_MAX];
  size_t n = 0;
  /* A week of samples every 10 s. */
  for (int64_t s = 10; s <= 7 * 86400; s += 10) {
    struct series_point p = at(s);
    n = series_add(pts, n, &p);
    assert_true(n <= SERIES_MAX);
  }
  assert_true(n >= SERIES_MAX / 2); /* halving never leaves fewer than half */
  assert_int_equal(pts[n - 1].t_usec, 7 * 86400 * 1000000LL); /* the newest kept */
  /* Even: no gap more than twice the bucket width, the first point early. */
  int64_t w = series_width_usec(pts[n - 1].t_usec);
  assert_true(pts[0].t_usec < w);
  for (size_t i = 1; i < n; i++) {
    assert_true(pts[i].t_usec > pts[i - 1].t_usec);
    assert_true(pts[i].t_usec - pts[i - 1].t_usec <= 2 * w);
  }
}

static void
a_bucket_keeps_its_newest_and_old_samples_are_dropped(void **state) {
  (void)state;
  struct series_point pts[SERIES_MAX];
  size_t n = 0;
  struct series_point a = {1000000, 1, 10, 10}, b = {1500000, 2, 20, 20}, old = {900000, 3, 3, 3};
  n = series_add(pts, n, &a);
  n = series_add(pts, n, &b); /* same one-second bucket: replaces a */
  assert_int_equal(n, 1);
  assert_int_equal(pts[0].mem, 20);
  n = series_add(pts, n, &old); /* older than the last: ignored */
  assert_int_equal(n, 1);
  assert_int_equal(pts[0].cpu_usec, 2);
}

static void
the_stored_form_round_trips_and_bad_blobs_are_refused(void **state) {
  (void)state;
  struct series_point pts[3] = {at(1), at(2), at(3)}, back[SERIES_MAX];
  unsigned char blob[3 * SERIES_POINT_BYTES];
  series_encode(pts, 3, blob);
  size_t n;
  assert_int_equal(series_decode(blob, sizeof(blob), back, &n), 0);
  assert_int_equal(n, 3);
  assert_memory_equal(pts, back, sizeof(pts));
  assert_int_equal(series_decode(blob, sizeof(blob) - 1, back, &n), -EBADMSG);
  static unsigned char big[(SERIES_MAX + 1) * SERIES_POINT_BYTES];
  assert_int_equal(series_decode(big, sizeof(big), back, &n), -EBADMSG);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_short_run_keeps_every_sample),
      cmocka_unit_test(a_long_run_stays_bounded_and_spread),
      cmocka_unit_test(a_bucket_keeps_its_newest_and_old_samples_are_dropped),
      cmocka_unit_test(the_stored_form_round_trips_and_bad_blobs_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
