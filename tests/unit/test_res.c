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
  assert_int_equal(res_parse_list("ncpus=2,mem=1gb,walltime=01:00:00", &r, NULL, &err), 0);
  assert_int_equal(r.ncpus, 2);
  assert_int_equal(r.mem, 1LL << 30);
  assert_int_equal(r.walltime, 3600);
  /* Later lists keep what they do not name. */
  assert_int_equal(res_parse_list("mem=2gb", &r, NULL, &err), 0);
  assert_int_equal(r.ncpus, 2);
  assert_int_equal(r.mem, 2LL << 30);
  /* Device counts are whole numbers, recorded as written (devices.c
   * turns them into a class's count). */
  assert_int_equal(res_parse_list("gpus=1", &r, NULL, &err), 0);
  assert_true(res_parse_list("ngpus=lots", &r, NULL, &err) < 0);
  assert_non_null(strstr(err.msg, "ngpus"));
  assert_int_equal(res_parse_list("nodes=2:ppn=2:gpus=3", &r, NULL, &err), 0);
  assert_int_equal(r.node_gpus, 6);
  assert_int_equal(res_parse_list("select=2:ncpus=1:ngpus=2+1:ncpus=1", &r, NULL, &err), 0);
  assert_int_equal(r.node_gpus, 4);
  assert_true(res_parse_list("mem=lots", &r, NULL, &err) < 0);
  assert_non_null(strstr(err.msg, "mem"));
  assert_true(res_parse_list("ncpus=0", &r, NULL, &err) < 0);
  assert_true(res_parse_list("ncpus=-1", &r, NULL, &err) < 0);
  assert_true(res_parse_list("ncpus", &r, NULL, &err) < 0);
  assert_true(res_parse_list("mem=0", &r, NULL, &err) < 0);
  /* pids and net (a value that once left the result uninitialized). */
  assert_int_equal(res_parse_list("pids=64,net=none", &r, NULL, &err), 0);
  assert_int_equal(r.pids, 64);
  assert_int_equal(r.net, 2);
  assert_int_equal(res_parse_list("net=host", &r, NULL, &err), 0);
  assert_int_equal(r.net, 1);
  assert_true(res_parse_list("net=wifi", &r, NULL, &err) < 0);
  assert_true(res_parse_list("pids=0", &r, NULL, &err) < 0);
  assert_true(res_parse_list("pids=99999999", &r, NULL, &err) < 0);
  assert_true(res_parse_list("", &r, NULL, &err) < 0);
  res_request_free(&r);
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

/* Scripts written for Torque, PBS Pro and Cray: their forms summed into
 * what boxq enforces on one box, kept as written for Resource_List. */
static void
other_systems_forms(void **state) {
  (void)state;
  struct berr err = {{0}};
  struct res_policy warn = {.unknown = RES_UNKNOWN_WARN};
  static const struct {
    const char *list;
    int64_t ncpus, mem, nodes;
  } ok[] = {
      {"nodes=1", 1, 0, 1},
      {"nodes=2:ppn=4", 8, 0, 2},
      {"nodes=1:ppn=16:gpus=2:ib", 16, 0, 1},
      {"nodes=node07:ppn=4", 4, 0, 1},
      {"nodes=1:ppn=2+2:ppn=1", 4, 0, 3},
      {"select=2:ncpus=4:mem=2gb:mpiprocs=4", 8, 4LL << 30, 2},
      {"select=1:ncpus=8:mem=16gb:ompthreads=8:ngpus=1", 8, 16LL << 30, 1},
      {"select=ncpus=2", 2, 0, 1},
      {"select=1:ncpus=2:mem=1gb+2:ncpus=1:mem=512mb", 4, 2LL << 30, 3},
      {"procs=12", 12, 0, 1},
      {"mppwidth=24,mppnppn=24", 24, 0, 1},
      {"nodes=1:ppn=4,vmem=8gb", 4, 8LL << 30, 1},
      {"nodes=1:ppn=4,pmem=1gb", 4, 4LL << 30, 1},
      {"nodes=1:ppn=4,pvmem=512mb,mem=1gb", 4, 1LL << 30, 1},
      {"nodes=2:ppn=4,ncpus=8", 8, 0, 2},
  };
  for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
    struct res_request r = {0};
    if (res_parse_list(ok[i].list, &r, &warn, &err) < 0)
      fail_msg("%s: %s", ok[i].list, err.msg);
    res_finish(&r);
    if (r.ncpus != ok[i].ncpus || r.mem != ok[i].mem || r.nodes != ok[i].nodes)
      fail_msg("%s: ncpus %lld mem %lld nodes %lld", ok[i].list, (long long)r.ncpus,
               (long long)r.mem, (long long)r.nodes);
    assert_int_equal(r.nunknown, 0);
    res_request_free(&r);
  }
  /* Kept as written; a later one of a name replaces the earlier. */
  struct res_request r = {0};
  assert_int_equal(res_parse_list("nodes=1:ppn=2,feature=ib,place=scatter", &r, &warn, &err), 0);
  assert_int_equal(res_parse_list("feature=bigmem,walltime=10", &r, &warn, &err), 0);
  char *site = res_site_string(&r);
  assert_string_equal(site, "nodes=1:ppn=2,feature=bigmem,place=scatter");
  free(site);
  res_request_free(&r);
  /* Bad forms name themselves. */
  static const char *const bad[] = {"nodes=0",
                                    "nodes=1:ppn=0",
                                    "nodes=1:ppn=-1",
                                    "nodes=1:bogus=2",
                                    "select=x",
                                    "select=1:ncpus=0",
                                    "select=2:ncpus=4:mem=lots",
                                    "procs=0",
                                    "mppwidth=many",
                                    "vmem=1zb",
                                    "nodes=99999:ppn=99"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    err.msg[0] = '\0';
    r = (struct res_request){0};
    if (res_parse_list(bad[i], &r, &warn, &err) == 0)
      fail_msg("'%s' accepted", bad[i]);
    assert_true(err.msg[0] != '\0');
    res_request_free(&r);
  }
  /* An admin may refuse several nodes instead of summing them. */
  struct res_policy one = {.refuse_multinode = true};
  r = (struct res_request){0};
  assert_int_equal(res_parse_list("nodes=1:ppn=4", &r, &one, &err), 0);
  assert_true(res_parse_list("nodes=2:ppn=4", &r, &one, &err) < 0);
  assert_non_null(strstr(err.msg, "multinode = refuse"));
  res_request_free(&r);
}

/* A site's own resources: warned about (listed), ignored, or refused. */
static void
unknown_resources_as_the_site_says(void **state) {
  (void)state;
  struct berr err = {{0}};
  struct res_request r = {0};
  struct res_policy pol = {.unknown = RES_UNKNOWN_WARN};
  assert_int_equal(res_parse_list("jobfs=10gb,ncpus=2,storage=gdata/ab12", &r, &pol, &err), 0);
  assert_int_equal(r.nunknown, 2);
  assert_string_equal(r.unknown[0], "jobfs");
  char *site = res_site_string(&r);
  assert_string_equal(site, "jobfs=10gb,storage=gdata/ab12");
  free(site);
  res_request_free(&r);
  /* cput is boxq's own: enforced, not a site's. */
  assert_int_equal(res_parse_list("cput=1:00:00", &r, &pol, &err), 0);
  assert_int_equal(r.cput, 3600);
  assert_int_equal(r.nunknown, 0);
  assert_true(res_parse_list("cput=0", &r, &pol, &err) < 0);
  assert_non_null(strstr(err.msg, "cput must be longer than 0"));
  res_request_free(&r);
  pol.unknown = RES_UNKNOWN_IGNORE;
  assert_int_equal(res_parse_list("jobfs=10gb", &r, &pol, &err), 0);
  assert_int_equal(r.nunknown, 0);
  assert_int_equal(r.nsite, 1);
  res_request_free(&r);
  pol.unknown = RES_UNKNOWN_REFUSE;
  assert_true(res_parse_list("jobfs=10gb", &r, &pol, &err) < 0);
  assert_non_null(strstr(err.msg, "unknown resource 'jobfs'"));
  pol.unknown = RES_UNKNOWN_WARN;
  assert_true(res_parse_list("9lives=1", &r, &pol, &err) < 0);
  assert_true(res_parse_list("jobfs=", &r, &pol, &err) < 0);
  res_request_free(&r);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(other_systems_forms),
      cmocka_unit_test(unknown_resources_as_the_site_says),
      cmocka_unit_test(sizes),
      cmocka_unit_test(bad_sizes),
      cmocka_unit_test(durations),
      cmocka_unit_test(lists),
      cmocka_unit_test(formatting),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
