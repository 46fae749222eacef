/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "res.h"

static int64_t
size_ok(const char *s) {
  int64_t v = -1;
  struct berr err = {{0}};
  int r = res_parse_size(s, &v, &err);
  if (r != 0)
    fail_msg("'%s' rejected: %s", s, err.msg);
  return v;
}

static void
sizes(void **state) {
  (void)state;
  assert_int_equal(size_ok("100"), 100);
  assert_int_equal(size_ok("100b"), 100);
  assert_int_equal(size_ok("1kb"), 1024);
  assert_int_equal(size_ok("256mb"), 256LL << 20);
  assert_int_equal(size_ok("256MB"), 256LL << 20);
  assert_int_equal(size_ok("1gb"), 1LL << 30);
  assert_int_equal(size_ok("1.5gb"), 3LL << 29);
  assert_int_equal(size_ok("2tb"), 2LL << 40);
  assert_int_equal(size_ok("1w"), 8);
  assert_int_equal(size_ok("1mw"), 8LL << 20);
  assert_int_equal(size_ok("0.5kb"), 512);
  assert_int_equal(size_ok("1g"), 1LL << 30);
}

static void
bad_sizes(void **state) {
  (void)state;
  static const char *const bad[] = {
      "",          "lots",  "-5mb", "1.5.5gb", "10xb",
      "mb",        "1e9",   " 1mb", "1 mb",    "99999999999999999999999",
      "2000000pb", "1025pb"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    int64_t v = 0;
    struct berr err = {{0}};
    if (res_parse_size(bad[i], &v, &err) == 0)
      fail_msg("'%s' accepted as %lld", bad[i], (long long)v);
    assert_true(err.msg[0] != '\0');
  }
  /* The message names the value and the problem. */
  int64_t v;
  struct berr err = {{0}};
  res_parse_size("12parsecs", &v, &err);
  assert_non_null(strstr(err.msg, "12parsecs"));
  assert_non_null(strstr(err.msg, "unit"));
}

static int64_t
dur_ok(const char *s) {
  int64_t v = -1;
  struct berr err = {{0}};
  if (res_parse_duration(s, &v, &err) != 0)
    fail_msg("'%s' rejected: %s", s, err.msg);
  return v;
}

static void
durations(void **state) {
  (void)state;
  assert_int_equal(dur_ok("90"), 90);
  assert_int_equal(dur_ok("1:30"), 90);
  assert_int_equal(dur_ok("00:05:00"), 300);
  assert_int_equal(dur_ok("100:00:00"), 360000);
  assert_int_equal(dur_ok("1:00:00:00"), 86400);
  assert_int_equal(dur_ok("2:03:04:05"), 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
  static const char *const bad[] = {
      "",   "1:60", "1:2:3:4:5", "a",          "-1",
      "1:", ":1",   "1:00:60",   "1:24:00:00", "99999999999999999999"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    int64_t v;
    struct berr err = {{0}};
    if (res_parse_duration(bad[i], &v, &err) == 0)
      fail_msg("'%s' accepted as %lld", bad[i], (long long)v);
  }
}

static void
lists(void **state) {
  (void)state;
  struct res_request r = {0};
  struct berr err = {{0}};
  assert_int_equal(res_parse_list("ncpus=2,mem=1gb,walltime=01:00:00", &r, &err), 0);
  assert_int_equal(r.ncpus, 2);
  assert_int_equal(r.mem, 1LL << 30);
  assert_int_equal(r.walltime, 3600);
  /* Later lists keep what they do not name. */
  assert_int_equal(res_parse_list("mem=2gb", &r, &err), 0);
  assert_int_equal(r.ncpus, 2);
  assert_int_equal(r.mem, 2LL << 30);
  assert_true(res_parse_list("gpus=1", &r, &err) < 0);
  assert_non_null(strstr(err.msg, "gpus"));
  assert_true(res_parse_list("mem=lots", &r, &err) < 0);
  assert_non_null(strstr(err.msg, "mem"));
  assert_true(res_parse_list("ncpus=0", &r, &err) < 0);
  assert_true(res_parse_list("ncpus=-1", &r, &err) < 0);
  assert_true(res_parse_list("ncpus", &r, &err) < 0);
  assert_true(res_parse_list("mem=0", &r, &err) < 0);
  /* pids and net (a value that once left the result uninitialized). */
  assert_int_equal(res_parse_list("pids=64,net=none", &r, &err), 0);
  assert_int_equal(r.pids, 64);
  assert_int_equal(r.net, 2);
  assert_int_equal(res_parse_list("net=host", &r, &err), 0);
  assert_int_equal(r.net, 1);
  assert_true(res_parse_list("net=wifi", &r, &err) < 0);
  assert_true(res_parse_list("pids=0", &r, &err) < 0);
  assert_true(res_parse_list("pids=99999999", &r, &err) < 0);
  assert_true(res_parse_list("", &r, &err) < 0);
}

static void
formatting(void **state) {
  (void)state;
  char buf[32];
  res_format_size(256LL << 20, buf, sizeof(buf));
  assert_string_equal(buf, "256mb");
  res_format_size(1536 * 1024, buf, sizeof(buf));
  assert_string_equal(buf, "1536kb");
  res_format_size(1000, buf, sizeof(buf));
  assert_string_equal(buf, "1kb");
  res_format_size(0, buf, sizeof(buf));
  assert_string_equal(buf, "0kb");
  res_format_duration(3725, buf, sizeof(buf));
  assert_string_equal(buf, "01:02:05");
  res_format_duration(360000, buf, sizeof(buf));
  assert_string_equal(buf, "100:00:00");
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sizes), cmocka_unit_test(bad_sizes),  cmocka_unit_test(durations),
      cmocka_unit_test(lists), cmocka_unit_test(formatting),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
