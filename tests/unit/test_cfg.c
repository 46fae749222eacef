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
  /* The spool is in memory, one per state directory; /tmp is a tmpfs. */
  assert_true(streq(c.spool_dir, "/run/boxq/var-lib-boxq") ||
              streq(c.spool_dir, "/dev/shm/boxq/var-lib-boxq"));
  assert_string_equal(c.job_tmp, "memory");
  cfg_free(&c);
}

static void
spool_dir_per_state_dir(void **state) {
  (void)state;
  char *a = cfg_default_spool_dir("/var/tmp/boxq-it.Ab3");
  char *b = cfg_default_spool_dir("/var/tmp/boxq/it.Ab3");
  char *c = cfg_default_spool_dir("/srv/a b%");
  char *d = cfg_default_spool_dir("/");
  /* Where /run is not a tmpfs (some containers and VMs): /dev/shm. */
  const char *base = strncmp(a, "/run/boxq/", 10) == 0 ? "/run/boxq/" : "/dev/shm/boxq/";
  size_t n = strlen(base);
  assert_int_equal(strncmp(a, base, n), 0);
  assert_string_equal(a + n, "var-tmp-boxq%2Dit.Ab3");
  assert_string_equal(b + n, "var-tmp-boxq-it.Ab3");
  assert_string_equal(c + n, "srv-a%20b%25");
  assert_string_equal(d + n, "root");
  free(a);
  free(b);
  free(c);
  free(d);
  struct boxq_config cfg;
  struct berr err = {{0}};
  unsetenv("BOXQ_STATE_DIR");
  assert_int_equal(
      cfg_load_string("[worker]\nspool_dir = /dev/shm/q\njob_tmp = disk\n", "t.ini", &cfg, &err),
      0);
  assert_string_equal(cfg.spool_dir, "/dev/shm/q");
  assert_string_equal(cfg.job_tmp, "disk");
  cfg_free(&cfg);
}

/* Each state directory its own cgroup below cgroup_parent: readable, and
 * different for two directories of the same last name. */
static void
cgroup_instance_per_state_dir(void **state) {
  (void)state;
  char *a = cfg_default_cgroup_instance("/var/lib/boxq");
  char *b = cfg_default_cgroup_instance("/srv/test/boxq/");
  char *c = cfg_default_cgroup_instance("/");
  assert_int_equal(strncmp(a, "boxq-", 5), 0);
  assert_int_equal(strlen(a), 13);
  assert_int_equal(strncmp(b, "boxq-", 5), 0);
  assert_string_not_equal(a, b);
  assert_int_equal(strncmp(c, "boxq-", 5), 0);
  free(a);
  free(b);
  free(c);
  struct boxq_config cfg;
  struct berr err = {{0}};
  unsetenv("BOXQ_STATE_DIR");
  /* The systemd unit's delegated form is accepted. */
  assert_int_equal(cfg_load_string("[boxq]\nstate_dir = /var/lib/boxq\n[worker]\ncgroup_parent = "
                                   "./jobs\n",
                                   "t.ini", &cfg, &err),
                   0);
  assert_string_equal(cfg.cgroup_parent, "./jobs");
  char *want = cfg_default_cgroup_instance("/var/lib/boxq");
  assert_string_equal(cfg.cgroup_instance, want);
  free(want);
  cfg_free(&cfg);
  assert_int_equal(cfg_load_string("[worker]\ncgroup_instance = prod\n", "t.ini", &cfg, &err), 0);
  assert_string_equal(cfg.cgroup_instance, "prod");
  cfg_free(&cfg);
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
      {"[worker]\nspool_dir = run/q\n", "bad.ini", "spool_dir"},
      {"[worker]\njob_tmp = ramdisk\n", "bad.ini:2", "job_tmp"},
      {"[queue fast]\nmax_ncpus = 2\nmax_cpus = 4\n", "bad.ini:3", "max_cpus"},
      {"[queue fast]\npriority = high\n", "bad.ini:2", "[queue fast] priority"},
      {"[queue 9lives]\npriority = 1\n", "bad.ini:2", "start with a letter"},
      {"[queue a.b]\npriority = 1\n", "bad.ini:2", "only letters"},
      {"[queue waytoolongqueuename]\npriority = 1\n", "bad.ini:2", "1-15"},
      {"[queue fast]\nmax_mem = 1zb\n", "bad.ini:2", "max_mem"},
      {"[queue fast]\nenabled = true\n", "bad.ini", "default_queue 'batch'"},
      {"[queue batch]\nmax_ncpus = 2\ndefault_ncpus = 4\n", "bad.ini", "default_ncpus"},
      {"[queue batch]\nmax_walltime = 1:00:00\n", "bad.ini", "max_walltime"},
      {"[scheduler]\nmax_array_size = 0\n", "bad.ini:2", "max_array_size"},
      {"[worker]\ncgroup_parent = a/../b\n", "bad.ini", "cgroup_parent"},
      {"[worker]\ncgroup_parent = /abs\n", "bad.ini", "cgroup_parent"},
      {"[worker]\ncgroup_instance = a/b\n", "bad.ini", "cgroup_instance"},
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

/* [queue NAME] sections: in file order, defaults inherited from
 * [scheduler] unless set. */
static void
queues(void **state) {
  (void)state;
  struct boxq_config c;
  struct berr err = {{0}};
  assert_int_equal(cfg_load_string("[scheduler]\ndefault_queue = batch\ndefault_mem = 2gb\n"
                                   "[queue batch]\nmax_user_ncpus = 4\ndefault_walltime = 1:00:00\n"
                                   "max_walltime = 2:00:00\n"
                                   "[queue fast]\npriority = 100\nstarted = false\n"
                                   "acl_groups = staff, ops\ndefault_mem = 256mb\n",
                                   "q.ini", &c, &err),
                   0);
  assert_int_equal(c.nqueues, 2);
  const struct boxq_queue *b = cfg_queue(&c, "batch"), *f = cfg_queue(&c, "fast");
  assert_non_null(b);
  assert_non_null(f);
  assert_ptr_equal(b, &c.queues[0]);
  assert_int_equal(b->max_user_ncpus, 4);
  assert_int_equal(b->default_walltime, 3600);
  assert_int_equal(b->default_mem, INT64_C(2) << 30); /* inherited */
  assert_int_equal(b->default_ncpus, 1);
  assert_true(b->enabled && b->started);
  assert_int_equal(f->priority, 100);
  assert_false(f->started);
  assert_int_equal(f->default_mem, 256 << 20);
  assert_string_equal(f->acl_groups, "staff, ops");
  assert_int_equal(f->max_job_priority, 1023);
  assert_null(cfg_queue(&c, "nosuch"));
  cfg_free(&c);
  /* Without sections: one queue named default_queue. */
  assert_int_equal(cfg_load_string("[scheduler]\ndefault_queue = work\n", "q.ini", &c, &err), 0);
  assert_int_equal(c.nqueues, 1);
  assert_string_equal(c.queues[0].name, "work");
  assert_true(c.backfill);
  assert_int_equal(c.fairshare_half_life, 7 * 86400);
  cfg_free(&c);
}

/* Other clusters' queue names: aliases, the default queue, or refused;
 * aliases to no queue of ours refused at load. */
static void
queue_routes(void **state) {
  (void)state;
  struct boxq_config c;
  struct berr err = {{0}};
  const char *ini = "[scheduler]\ndefault_queue = batch\nqueue_aliases = route=fast,short=fast\n"
                    "[queue batch]\nenabled = true\n[queue fast]\nenabled = true\n";
  assert_int_equal(cfg_load_string(ini, "r.ini", &c, &err), 0);
  const char *to = NULL;
  assert_int_equal(cfg_route_queue(&c, "batch", &to), QUEUE_AS_ASKED);
  assert_int_equal(cfg_route_queue(&c, "short", &to), QUEUE_ALIAS);
  assert_string_equal(to, "fast");
  assert_int_equal(cfg_route_queue(&c, "shor", &to), -ENOENT); /* refuse, the default */
  assert_int_equal(cfg_route_queue(&c, "workq", &to), -ENOENT);
  cfg_free(&c);
  assert_int_equal(cfg_load_string("[scheduler]\nunknown_queue = default\n", "r.ini", &c, &err), 0);
  assert_int_equal(cfg_route_queue(&c, "workq", &to), QUEUE_DEFAULTED);
  assert_string_equal(to, "batch");
  cfg_free(&c);
  assert_true(cfg_load_string("[scheduler]\nqueue_aliases = route=nosuch\n", "r.ini", &c, &err) <
              0);
  assert_non_null(strstr(err.msg, "route=nosuch names no queue"));
  assert_true(cfg_load_string("[scheduler]\nqueue_aliases = route\n", "r.ini", &c, &err) < 0);
  assert_non_null(strstr(err.msg, "'route' is not NAME=QUEUE"));
  assert_true(cfg_load_string("[scheduler]\nunknown_queue = maybe\n", "r.ini", &c, &err) < 0);
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
      cmocka_unit_test(defaults_without_file),
      cmocka_unit_test(values_and_env),
      cmocka_unit_test(spool_dir_per_state_dir),
      cmocka_unit_test(cgroup_instance_per_state_dir),
      cmocka_unit_test(errors_name_file_line_and_key),
      cmocka_unit_test(missing_file),
      cmocka_unit_test(example_config_loads),
      cmocka_unit_test(queues),
      cmocka_unit_test(queue_routes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
