/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "job.h"

static void
default_output_paths(void **state) {
  (void)state;
  struct job_rec j = {.id = 7, .name = (char *)"hello", .workdir = (char *)"/home/a"};
  char *o = job_out_path(&j), *e = job_err_path(&j);
  assert_string_equal(o, "/home/a/hello.o7");
  assert_string_equal(e, "/home/a/hello.e7");
  free(o);
  free(e);
  j.out_path = (char *)"/logs/";
  j.err_path = (char *)"/x/err.txt";
  o = job_out_path(&j);
  e = job_err_path(&j);
  assert_string_equal(o, "/logs/hello.o7");
  assert_string_equal(e, "/x/err.txt");
  free(o);
  free(e);
}

static void
names(void **state) {
  (void)state;
  struct berr err;
  assert_int_equal(job_name_check("hello", &err), 0);
  assert_int_equal(job_name_check("naïve-job.1", &err), 0);
  assert_true(job_name_check("", &err) < 0);
  assert_true(job_name_check("a b", &err) < 0);
  assert_true(job_name_check("a/b", &err) < 0);
  assert_true(job_name_check("a\nb", &err) < 0);
  char long_name[300];
  memset(long_name, 'x', sizeof(long_name) - 1);
  long_name[sizeof(long_name) - 1] = '\0';
  assert_true(job_name_check(long_name, &err) < 0);
}

static void
end_reasons(void **state) {
  (void)state;
  for (int i = 0; i < END_MAX; i++)
    assert_int_equal(job_end_from_string(job_end_to_string(i)), i);
  assert_string_equal(job_end_to_string(END_OOM), "out-of-memory");
  assert_int_equal(job_end_from_string("bogus"), -EINVAL);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_output_paths),
      cmocka_unit_test(names),
      cmocka_unit_test(end_reasons),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
