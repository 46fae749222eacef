/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util.h"

#include <stdlib.h>

/* Appending through xgrow keeps every element, starts at the first room
 * asked for, and doubles only when full. */
static void
xgrow_appends_and_doubles(void **state) {
  (void)state;
  int64_t *v = NULL;
  size_t n = 0, cap = 0;
  for (int64_t i = 0; i < 1000; i++) {
    v = xgrow(v, n, &cap, sizeof(*v), 16);
    assert_true(cap > n);
    v[n++] = i;
    if (n == 1)
      assert_int_equal(cap, 16);
  }
  assert_int_equal(cap, 1024);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(v[i], (int64_t)i);
  int64_t *same = xgrow(v, 10, &cap, sizeof(*v), 16);
  assert_ptr_equal(same, v); /* room left: nothing moves */
  assert_int_equal(cap, 1024);
  free(v);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(xgrow_appends_and_doubles),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
