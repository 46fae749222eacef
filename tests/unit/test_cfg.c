/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cfg.h"

static void
defaults_without_file(void **state) {
  (void)state;
  unsetenv("BOXQ_STATE_DIR");
  struct boxq_config c;
  struct berr err = {{0}};
  assert_int_equal(cfg_load_string("", "empty", &c, &err), 0);
  assert_string_equal(c.state_dir, BOXQ_DEFAULT_STATE_DIR);
  assert_string_equal(c.sched_socket, BOXQ_DEFAULT_STATE_DIR "/boxqd.sock");
  assert_int_equal(c.default_ncpus, 1);
  assert_int_equal(c.default_mem, 1LL << 30);
  assert_false(c.allow_root_jobs);
  assert_int_equal(c.kill_grace, 10);
  cfg_free(&c);
}

static void
values_and_env(void **state) {
  (void)state;
  struct boxq_config c;
  struct berr err = {{0}};
  const char *ini = "[boxq]\nstate_dir = /srv/q\n[scheduler]\nmem = 8gb\nallow_root_jobs = yes\n"
                    "default_walltime = 01:00:00\n[worker]\nkill_grace = 30\n";
  unsetenv("BOXQ_STATE_DIR");
  assert_int_equal(cfg_load_string(ini, "t.ini", &c, &err), 0);
  assert_string_equal(c.state_dir, "/srv/q");
  assert_string_equal(c.db_path, "/srv/q/boxq.db");
  assert_int_equal(c.mem, 8LL << 30);
  assert_true(c.allow_root_jobs);
  assert_int_equal(c.default_walltime, 3600);
  assert_int_equal(c.kill_grace, 30);
  cfg_free(&c);
  /* The environment puts everything under another directory. */
  setenv("BOXQ_STATE_DIR", "/run/other", 1);
  assert_int_equal(cfg_load_string(ini, "t.ini", &c, &err), 0);
  assert_string_equal(c.state_dir, "/run/other");
  assert_string_equal(c.worker_socket, "/run/other/worker.sock");
  cfg_free(&c);
  unsetenv("BOXQ_STATE_DIR");
}

/* Each bad file is refused with NAME:LINE and the key or section. */
static void
errors_name_file_line_and_key(void **state) {
  (void)state;
  static const struct {
    const char *ini, *expect1, *expect2;
  } cases[] = {
      {"[boxq]\nstate_dir = /x\n\n[scheduler]\nmem = lots\n", "bad.ini:5", "mem"},
      {"[scheduler]\nncpuz = 4\n", "bad.ini:2", "ncpuz"},
      {"[nosuch]\nkey = 1\n", "bad.ini:2", "nosuch"},
      {"[scheduler]\nallow_root_jobs = maybe\n", "bad.ini:2", "allow_root_jobs"},
      {"[worker]\ncgroup_mode = v3\n", "bad.ini:2", "cgroup_mode"},
      {"[worker]\nkill_grace = 2:00:00\n", "bad.ini:2", "kill_grace"},
      {"[scheduler]\nncpus = -1\n", "bad.ini:2", "ncpus"},
      {"[boxq]\nthis is not ini\n", "bad.ini:2", "syntax"},
      {"[boxq]\nstate_dir = relative/path\n", "bad.ini", "absolute"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    struct boxq_config c;
    struct berr err = {{0}};
    if (cfg_load_string(cases[i].ini, "bad.ini", &c, &err) == 0)
      fail_msg("case %zu accepted", i);
    if (!strstr(err.msg, cases[i].expect1) || !strstr(err.msg, cases[i].expect2))
      fail_msg("case %zu: message '%s' lacks '%s' or '%s'", i, err.msg, cases[i].expect1,
               cases[i].expect2);
  }
}

static void
missing_file(void **state) {
  (void)state;
  struct boxq_config c;
  struct berr err = {{0}};
  assert_true(cfg_load("/nonexistent/boxq.ini", &c, &err) < 0);
  assert_non_null(strstr(err.msg, "/nonexistent/boxq.ini"));
}

/* The shipped example configuration must load. */
static void
example_config_loads(void **state) {
  (void)state;
  const char *data = getenv("BOXQ_TEST_DATA");
  assert_non_null(data);
  char path[4096];
  snprintf(path, sizeof(path), "%s/../../etc/boxq.ini", data);
  struct boxq_config c;
  struct berr err = {{0}};
  if (cfg_load(path, &c, &err) < 0)
    fail_msg("%s", err.msg);
  cfg_free(&c);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults_without_file),         cmocka_unit_test(values_and_env),
      cmocka_unit_test(errors_name_file_line_and_key), cmocka_unit_test(missing_file),
      cmocka_unit_test(example_config_loads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
