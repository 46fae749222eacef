/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cpuset.h"

static void
parse_and_format(void **state) {
  (void)state;
  struct cpuset s;
  char buf[256];
  assert_int_equal(cpuset_parse("0-3,8,10-11\n", &s), 0);
  assert_int_equal(cpuset_count(&s), 7);
  assert_true(cpuset_has(&s, 8));
  assert_false(cpuset_has(&s, 9));
  cpuset_format(&s, buf, sizeof(buf));
  assert_string_equal(buf, "0-3,8,10-11");
  assert_int_equal(cpuset_parse("", &s), 0);
  assert_int_equal(cpuset_count(&s), 0);
  cpuset_format(&s, buf, sizeof(buf));
  assert_string_equal(buf, "");
  assert_int_equal(cpuset_parse("5-2", &s), -EINVAL);
  assert_int_equal(cpuset_parse("a", &s), -EINVAL);
  assert_int_equal(cpuset_parse("1,,2", &s), -EINVAL);
  assert_int_equal(cpuset_parse("99999", &s), -ERANGE);
}

static void
pick_lowest_free(void **state) {
  (void)state;
  struct cpuset avail, busy, got;
  char buf[64];
  cpuset_parse("0-7", &avail);
  cpuset_parse("0,2-3", &busy);
  assert_int_equal(cpuset_pick(&avail, &busy, 3, &got), 0);
  cpuset_format(&got, buf, sizeof(buf));
  assert_string_equal(buf, "1,4-5");
  assert_int_equal(cpuset_pick(&avail, &busy, 6, &got), -ENOSPC);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_and_format),
      cmocka_unit_test(pick_lowest_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
