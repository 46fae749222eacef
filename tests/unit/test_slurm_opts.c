/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job.h"
#include "slurm_opts.h"

static void
times(void **state) {
  (void)state;
  static const struct {
    const char *text;
    int64_t sec;
  } ok[] = {{"30", 1800},          {"5:30", 330},    {"1:00:00", 3600},
            {"2-0", 172800},       {"1-12", 129600}, {"1-2:30", 95400},
            {"1-00:00:01", 86401}, {"infinite", 0},  {"UNLIMITED", 0}};
  for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
    int64_t v = -1;
    struct berr err = {{0}};
    if (slurm_parse_time(ok[i].text, &v, &err) < 0 || v != ok[i].sec)
      fail_msg("'%s': %lld (%s)", ok[i].text, (long long)v, err.msg);
  }
  static const char *const bad[] = {"", "soon", "1:2:3:4", "-5", "1-", "1:", "1-2-3"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    int64_t v;
    struct berr err = {{0}};
    if (slurm_parse_time(bad[i], &v, &err) == 0)
      fail_msg("'%s' accepted", bad[i]);
    assert_non_null(strstr(err.msg, "time '"));
  }
}

static void
sizes_and_begin(void **state) {
  (void)state;
  struct berr err = {{0}};
  int64_t v;
  assert_int_equal(slurm_parse_mem("100", &v, &err), 0);
  assert_int_equal(v, 100LL << 20); /* megabytes by default */
  assert_int_equal(slurm_parse_mem("2G", &v, &err), 0);
  assert_int_equal(v, 2LL << 30);
  assert_int_equal(slurm_parse_mem("512k", &v, &err), 0);
  assert_int_equal(v, 512LL << 10);
  assert_int_equal(slurm_parse_mem("1GB", &v, &err), 0);
  assert_true(slurm_parse_mem("lots", &v, &err) < 0);
  assert_true(slurm_parse_mem("1X", &v, &err) < 0);
  int64_t now = 1800000000;
  assert_int_equal(slurm_parse_begin("now+1hour", now, &v, &err), 0);
  assert_int_equal(v, now + 3600);
  assert_int_equal(slurm_parse_begin("now+90", now, &v, &err), 0);
  assert_int_equal(v, now + 90);
  assert_int_equal(slurm_parse_begin("now-2days", now, &v, &err), 0);
  assert_int_equal(v, now - 172800);
  assert_int_equal(slurm_parse_begin("2030-01-02T03:04:05", now, &v, &err), 0);
  assert_true(v > now);
  assert_int_equal(slurm_parse_begin("23:59", now, &v, &err), 0);
  assert_true(v >= now && v < now + 86400);
  assert_true(slurm_parse_begin("whenever", now, &v, &err) < 0);
  assert_true(slurm_parse_begin("now+3fortnights", now, &v, &err) < 0);
}

static void
command_line(void **state) {
  (void)state;
  /* What Toil's slurm batch system sends, and the rest of a line. */
  char *argv[] = {"-J",
                  "toil_job_1",
                  "--export=ALL",
                  "--mem=2048",
                  "--cpus-per-task=3",
                  "-o",
                  "/w/%j.out",
                  "-e",
                  "/w/%j.err",
                  "-p",
                  "batch,gpu",
                  "-a",
                  "0-9%2",
                  "-d",
                  "afterok:12:13_2,singleton",
                  "--nice=10",
                  "-HW",
                  "--wrap=echo hi"};
  struct qsub_opts o;
  qsub_opts_init(&o);
  o.respol = (struct res_policy){.unknown = RES_UNKNOWN_WARN};
  struct berr err = {{0}};
  int idx;
  assert_int_equal(slurm_parse_args(&o, ARRAY_SIZE(argv), argv, true, &idx, &err), 0);
  assert_int_equal(idx, (int)ARRAY_SIZE(argv));
  assert_true(o.slurm && o.export_all && o.hold && o.block && o.singleton);
  assert_string_equal(o.name, "toil_job_1");
  assert_int_equal(o.res.mem, 2048LL << 20);
  assert_int_equal(o.cpus_per_task, 3);
  assert_string_equal(o.out_path, "/w/%j.out");
  assert_string_equal(o.queue, "batch");
  assert_string_equal(o.array_spec, "0-9%2");
  assert_string_equal(o.depend, "afterok:12:13[2]");
  assert_int_equal(o.priority, -10);
  assert_string_equal(o.wrap, "echo hi");
  assert_int_equal(slurm_finish(&o, &err), 0);
  assert_int_equal(o.res.ncpus, 3);
  qsub_opts_free(&o);

  char *per_cpu[] = {"-n", "2", "-c", "2", "--mem-per-cpu=1G", "-t", "10", "--signal=USR1@60"};
  qsub_opts_init(&o);
  assert_int_equal(slurm_parse_args(&o, ARRAY_SIZE(per_cpu), per_cpu, true, NULL, &err), 0);
  assert_int_equal(slurm_finish(&o, &err), 0);
  assert_int_equal(o.res.ncpus, 4);
  assert_int_equal(o.res.mem, 4LL << 30);
  assert_int_equal(o.soft_walltime, 540); /* 60 s before the 10 minutes */
  assert_string_equal(o.out_path, "slurm-%j.out");
  assert_int_equal(o.join, JOIN_OE);
  qsub_opts_free(&o);
}

static void
bad_forms(void **state) {
  (void)state;
  static const char *const cases[][3] = {
      {"--frob", "", "unknown option --frob"},
      {"-c", "0", "-c '0'"},
      {"--mem=0", "", "--mem=0"},
      {"-d", "afterok:1?afterany:2", "all required"},
      {"-d", "whenever:1", "-d 'whenever:1'"},
      {"--uid=0", "", "--uid is not supported"},
      {"--parsable=yes", "", "takes no value"},
      {"--signal=KILLALL", "", "--signal 'KILLALL'"},
      {"--mail-type=SOMETIMES", "", "--mail-type 'SOMETIMES'"},
      {"-t", "forever", "time 'forever'"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    char *argv[2] = {(char *)cases[i][0], (char *)cases[i][1]};
    struct qsub_opts o;
    qsub_opts_init(&o);
    struct berr err = {{0}};
    int r = slurm_parse_args(&o, cases[i][1][0] ? 2 : 1, argv, true, NULL, &err);
    if (r == 0)
      fail_msg("case %zu (%s) accepted", i, cases[i][0]);
    if (!strstr(err.msg, cases[i][2]))
      fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, cases[i][2]);
    qsub_opts_free(&o);
  }
}

static void
directives(void **state) {
  (void)state;
  const char *script = "#!/bin/bash\n"
                       "#SBATCH -J named # the name\n"
                       "#SBATCH --time=5\n"
                       "## a comment\n"
                       "echo start\n"
                       "#SBATCH -c 8\n";
  struct qsub_opts o;
  qsub_opts_init(&o);
  struct berr err = {{0}};
  assert_int_equal(slurm_parse_directives(&o, script, strlen(script), "s.sh", &err), 0);
  assert_string_equal(o.name, "named");
  assert_int_equal(o.res.walltime, 300);
  assert_int_equal(o.cpus_per_task, 0); /* after the first command: not read */
  qsub_opts_free(&o);
  assert_true(slurm_script(script, strlen(script)));
  const char *bad = "#!/bin/sh\n#SBATCH -J x\n#SBATCH --mem=lots\n";
  qsub_opts_init(&o);
  assert_true(slurm_parse_directives(&o, bad, strlen(bad), "bad.sh", &err) < 0);
  assert_non_null(strstr(err.msg, "bad.sh:3: '#SBATCH --mem=lots'"));
  qsub_opts_free(&o);
  const char *none = "#!/bin/sh\n#SBATCHED\necho '#SBATCH -J x'\n";
  assert_false(slurm_script(none, strlen(none)));
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(times),        cmocka_unit_test(sizes_and_begin),
      cmocka_unit_test(command_line), cmocka_unit_test(bad_forms),
      cmocka_unit_test(directives),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
