/* SPDX-License-Identifier: MIT */
/* The cgroup parsers over files recorded from real kernels (tests/data/
 * cgroup/<layout>-<kernel>/): v1 and hybrid from this project's 6.18
 * machine, v2-6.1 from the cgroup2 VM, and files in the layout of older
 * kernels (v2 on 5.4, v1 on 4.19) that lack newer keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <string.h>

#include "cg_parse.h"
#include "util.h"

static char *
recorded(const char *rel) {
  const char *dir = getenv("BOXQ_TEST_DATA");
  assert_non_null(dir);
  char path[4096];
  snprintf(path, sizeof(path), "%s/cgroup/%s", dir, rel);
  char *text = NULL;
  if (read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL) < 0)
    fail_msg("cannot read %s", path);
  return text;
}

static int64_t
keyed(const char *rel, const char *key) {
  _cleanup_free_ char *t = recorded(rel);
  int64_t v = -12345;
  if (cg_parse_keyed(t, key, &v) < 0)
    fail_msg("%s: no key %s", rel, key);
  return v;
}

static void
v1_files(void **state) {
  (void)state;
  assert_int_equal(keyed("v1-6.18/cpu.stat", "nr_throttled"), 6);
  assert_int_equal(keyed("v1-6.18/cpu.stat", "throttled_time"), 299395587);
  assert_int_equal(keyed("v1-6.18/cpuacct.stat", "user"), 23);
  assert_int_equal(keyed("v1-6.18/cpuacct.stat", "system"), 15);
  assert_int_equal(keyed("v1-6.18/memory.oom_control", "oom_kill"), 1);
  assert_int_equal(keyed("v1-6.18/memory.oom_control", "under_oom"), 0);
  assert_int_equal(keyed("v1-6.18/pids.events", "max"), 0);
  _cleanup_free_ char *usage = recorded("v1-6.18/cpuacct.usage");
  int64_t v;
  assert_int_equal(cg_parse_single(usage, &v), 0);
  assert_int_equal(v, 395206728);
  _cleanup_free_ char *peak = recorded("v1-6.18/memory.max_usage_in_bytes");
  assert_int_equal(cg_parse_single(peak, &v), 0);
  assert_int_equal(v, 33554432);
  _cleanup_free_ char *pmax = recorded("v1-6.18/pids.max");
  assert_int_equal(cg_parse_single(pmax, &v), 0);
  assert_int_equal(v, -1); /* "max" */
  /* Kernel 4.19 has cpuacct.stat but no usage_user/usage_sys files. */
  assert_int_equal(keyed("v1-4.19/cpuacct.stat", "user"), 212);
}

static void
v2_files(void **state) {
  (void)state;
  assert_int_equal(keyed("v2-5.4/cpu.stat", "usage_usec"), 2004119);
  assert_int_equal(keyed("v2-5.4/cpu.stat", "user_usec"), 1990000);
  assert_int_equal(keyed("v2-5.4/cpu.stat", "nr_throttled"), 40);
  assert_int_equal(keyed("v2-5.4/memory.events", "oom_kill"), 2);
  assert_int_equal(keyed("v2-5.4/memory.events", "oom"), 3);
  /* 5.4 has no oom_group_kill: absent, not misread. */
  _cleanup_free_ char *ev = recorded("v2-5.4/memory.events");
  int64_t v;
  assert_int_equal(cg_parse_keyed(ev, "oom_group_kill", &v), -ENOENT);
  /* "oom" must not match "oom_kill" and the reverse. */
  assert_int_equal(cg_parse_keyed("oom_kill 5\noom 2\n", "oom", &v), 0);
  assert_int_equal(v, 2);
  _cleanup_free_ char *io = recorded("v2-5.4/io.stat");
  int64_t r, w;
  assert_int_equal(cg_parse_io_stat(io, &r, &w), 0);
  assert_int_equal(r, 1459200 + 90430464);
  assert_int_equal(w, 314773504 + 299008000);
}

/* Recorded in the cgroup2 VM (Debian 6.1) by tests/cgroup2/cg2_sandbox_test. */
static void
v2_recorded_in_vm(void **state) {
  (void)state;
  assert_int_equal(keyed("v2-6.1/cpu.stat", "usage_usec"), 2077522);
  assert_int_equal(keyed("v2-6.1/cpu.stat", "user_usec"), 2033490);
  assert_int_equal(keyed("v2-6.1/cpu.stat", "system_usec"), 44032);
  assert_int_equal(keyed("v2-6.1/cpu.stat", "nr_throttled"), 20);
  assert_int_equal(keyed("v2-6.1/cpu.stat", "throttled_usec"), 1989438);
  assert_int_equal(keyed("v2-6.1/memory.events", "oom_kill"), 1);
  assert_int_equal(keyed("v2-6.1/memory.events", "oom_group_kill"), 0);
  assert_int_equal(keyed("v2-6.1/pids.events", "max"), 15);
  _cleanup_free_ char *peak = recorded("v2-6.1/memory.peak");
  int64_t v;
  assert_int_equal(cg_parse_single(peak, &v), 0);
  assert_int_equal(v, 33554432);
  _cleanup_free_ char *pids = recorded("v2-6.1/pids.peak");
  assert_int_equal(cg_parse_single(pids, &v), 0);
  assert_int_equal(v, 8);
}

static void
proc_cgroup(void **state) {
  (void)state;
  char buf[256];
  _cleanup_free_ char *hy = recorded("hybrid-6.18/proc_self_cgroup");
  assert_int_equal(cg_parse_proc_cgroup(hy, NULL, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "/");
  assert_int_equal(cg_parse_proc_cgroup(hy, "memory", buf, sizeof(buf)), 0);
  assert_true(strncmp(buf, "/", 1) == 0);
  _cleanup_free_ char *v2 = recorded("v2-5.4/proc_self_cgroup");
  assert_int_equal(cg_parse_proc_cgroup(v2, NULL, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "/system.slice/boxq-worker.service");
  assert_int_equal(cg_parse_proc_cgroup(v2, "memory", buf, sizeof(buf)), -ENOENT);
  _cleanup_free_ char *v1 = recorded("v1-4.19/proc_self_cgroup");
  assert_int_equal(cg_parse_proc_cgroup(v1, "cpuacct", buf, sizeof(buf)), 0);
  assert_string_equal(buf, "/boxq/job-3");
  assert_int_equal(cg_parse_proc_cgroup(v1, NULL, buf, sizeof(buf)), -ENOENT);
  assert_int_equal(cg_parse_proc_cgroup(v1, "cpu", buf, 4), -ENAMETOOLONG);
}

static void
small_files(void **state) {
  (void)state;
  int64_t v;
  assert_int_equal(cg_parse_single("max\n", &v), 0);
  assert_int_equal(v, -1);
  assert_int_equal(cg_parse_single("  42\n", &v), 0);
  assert_int_equal(v, 42);
  assert_int_equal(cg_parse_single("42 43\n", &v), -EINVAL);
  assert_int_equal(cg_parse_single("", &v), -EINVAL);
  bool pop;
  assert_int_equal(cg_parse_populated("populated 1\nfrozen 0\n", &pop), 0);
  assert_true(pop);
  assert_int_equal(cg_parse_populated("populated 0\nfrozen 0\n", &pop), 0);
  assert_false(pop);
  assert_true(cg_list_has("cpuset cpu io memory pids", "cpu"));
  assert_true(cg_list_has("cpuset cpu io memory pids\n", "pids"));
  assert_false(cg_list_has("cpuset io", "cpu"));
  assert_false(cg_list_has("", "cpu"));
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(v1_files),          cmocka_unit_test(v2_files),
      cmocka_unit_test(v2_recorded_in_vm), cmocka_unit_test(proc_cgroup),
      cmocka_unit_test(small_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
