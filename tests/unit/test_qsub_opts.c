/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "job.h"
#include "qsub_opts.h"

static void
command_line(void **state) {
  (void)state;
  char *argv[] = {"-N",  "job1", "-lncpus=2",   "-l", "mem=1gb", "-j",        "oe",
                  "-hV", "-o",   "host:/out/x", "-v", "A=1,B",   "script.sh", "arg"};
  struct qsub_opts o;
  qsub_opts_init(&o);
  int idx;
  struct berr err = {{0}};
  assert_int_equal(qsub_parse_args(&o, ARRAY_SIZE(argv), argv, true, &idx, &err), 0);
  assert_int_equal(idx, 12);
  assert_string_equal(o.name, "job1");
  assert_int_equal(o.res.ncpus, 2);
  assert_int_equal(o.res.mem, 1LL << 30);
  assert_int_equal(o.join, JOIN_OE);
  assert_true(o.hold);
  assert_true(o.export_all);
  assert_string_equal(o.out_path, "/out/x");
  assert_int_equal(o.nvars, 2);
  assert_string_equal(o.vars[0], "A=1");
  assert_string_equal(o.vars[1], "B");
  qsub_opts_free(&o);
}

static void
bad_options(void **state) {
  (void)state;
  static const char *const cases[][3] = {
      {"-l", "mem=lots", "mem"},
      {"-j", "xx", "-j"},
      {"-N", "a b", "name"},
      {"-p", "5000", "priority"},
      {"-v", "1BAD=x", "1BAD"},
      {"-Z", NULL, "-Z"},
      {"-l", NULL, "needs a value"},
      {"-W", "group_list=", "group name"},
      {"-W", "block=maybe", "true or false"},
      {"-W", "stagein=x", "depend="},
      {"-X", NULL, "not supported"},
      {"-W", "depend=beforeok:1", "unknown type 'beforeok'"},
      {"-W", "depend=afterok", "not TYPE:JOBID"},
      {"-W", "depend=afterok:x1", "x1"},
      {"-J", "5-1", "below the first"},
      {"-J", "1-10:0", "step"},
      {"-J", "1-2000000", "below"},
      {"-J", "1-10%0", "MAX"},
      {"-a", "25:00", "-a"},
      {"-a", "12", "hhmm"},
      {"-a", "202613011200", "no such date"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    char *argv[2] = {(char *)cases[i][0], (char *)cases[i][1]};
    struct qsub_opts o;
    qsub_opts_init(&o);
    struct berr err = {{0}};
    int idx;
    if (qsub_parse_args(&o, cases[i][1] ? 2 : 1, argv, true, &idx, &err) == 0)
      fail_msg("case %zu accepted", i);
    if (!strstr(err.msg, cases[i][2]))
      fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i][2]);
    qsub_opts_free(&o);
  }
}

static void
directives(void **state) {
  (void)state;
  const char *script = "#!/bin/bash\n"
                       "# a comment\n"
                       "\n"
                       "#PBS -N fromscript\n"
                       "#PBS -l ncpus=2,walltime=1:00:00\n"
                       "#PBS -l mem=512mb\n"
                       "#PBS -v \"MSG=hello world\"\n"
                       "echo start\n"
                       "#PBS -N ignored_after_first_command\n";
  struct qsub_opts o;
  qsub_opts_init(&o);
  struct berr err = {{0}};
  assert_int_equal(qsub_parse_directives(&o, script, strlen(script), "job.sh", "#PBS", &err), 0);
  assert_string_equal(o.name, "fromscript");
  assert_int_equal(o.res.ncpus, 2);
  assert_int_equal(o.res.walltime, 3600);
  assert_int_equal(o.res.mem, 512LL << 20);
  assert_int_equal(o.nvars, 1);
  assert_string_equal(o.vars[0], "MSG=hello world");

  /* The command line wins, field by field. */
  struct qsub_opts cmd;
  qsub_opts_init(&cmd);
  char *argv[] = {"-N", "cmdline", "-l", "mem=1gb"};
  int idx;
  assert_int_equal(qsub_parse_args(&cmd, 4, argv, true, &idx, &err), 0);
  qsub_opts_merge(&o, &cmd);
  assert_string_equal(o.name, "cmdline");
  assert_int_equal(o.res.mem, 1LL << 30);
  assert_int_equal(o.res.ncpus, 2);
  qsub_opts_free(&o);
  qsub_opts_free(&cmd);
}

static void
directive_errors_have_file_and_line(void **state) {
  (void)state;
  const char *script = "#!/bin/sh\n#PBS -N ok\n#PBS -l mem=lots\necho\n";
  struct qsub_opts o;
  qsub_opts_init(&o);
  struct berr err = {{0}};
  assert_true(qsub_parse_directives(&o, script, strlen(script), "job.sh", "#PBS", &err) < 0);
  assert_non_null(strstr(err.msg, "job.sh:3"));
  assert_non_null(strstr(err.msg, "lots"));
  qsub_opts_free(&o);
  const char *quote = "#PBS -N 'unterminated\n";
  qsub_opts_init(&o);
  assert_true(qsub_parse_directives(&o, quote, strlen(quote), "q.sh", "#PBS", &err) < 0);
  assert_non_null(strstr(err.msg, "q.sh:1"));
  qsub_opts_free(&o);
  const char *operand = "#PBS stray\n";
  qsub_opts_init(&o);
  assert_true(qsub_parse_directives(&o, operand, strlen(operand), "s.sh", "#PBS", &err) < 0);
  qsub_opts_free(&o);
}

/* -J, -W depend and -a as real scripts write them. */
static void
workflow_options(void **state) {
  (void)state;
  setenv("TZ", "UTC", 1);
  tzset();
  struct qsub_opts o;
  qsub_opts_init(&o);
  o.now = 1795939200; /* 2026-11-29 08:00:00 UTC */
  char *argv[] = {"-J", "1-100:2%5", "-W", "depend=afterok:12.srv:13[],afterany:14[7]",
                  "-a", "0930"};
  struct berr err = {{0}};
  int idx;
  assert_int_equal(qsub_parse_args(&o, 6, argv, true, &idx, &err), 0);
  assert_string_equal(o.array_spec, "1-100:2%5");
  assert_string_equal(o.depend, "afterok:12:13[],afterany:14[7]");
  assert_int_equal(o.exec_time, 1795939200 + 90 * 60); /* 09:30 today */
  int64_t t;
  /* 07:00 has passed today: tomorrow. */
  assert_int_equal(qsub_parse_datetime("0700", o.now, &t, &err), 0);
  assert_int_equal(t, 1795939200 - 3600 + 86400);
  assert_int_equal(qsub_parse_datetime("202612251200.30", o.now, &t, &err), 0);
  assert_int_equal(t, 1798200030);
  assert_int_equal(qsub_parse_datetime("2812000", o.now, &t, &err), -EINVAL);
  /* The 28th at noon has passed this month: next month. */
  assert_int_equal(qsub_parse_datetime("281200", o.now, &t, &err), 0);
  assert_int_equal(t, 1798459200); /* 2026-12-28 12:00 */
  qsub_opts_free(&o);
}

/* The options Torque's and PBS Pro's scripts and tools pass. */
static void
torque_and_pbspro_options(void **state) {
  (void)state;
  char *argv[] = {"-d",        "/data/run",  "-S",    "/bin/bash@hostA,/bin/sh@hostB",
                  "-u",        "alice@head", "-k",    "oe",
                  "-z",        "-t",         "1-5%2", "-W",
                  "umask=027", "-v",         "",      "-C",
                  "#MSUB",     "x.sh"};
  struct qsub_opts o;
  qsub_opts_init(&o);
  int idx;
  struct berr err = {{0}};
  assert_int_equal(qsub_parse_args(&o, ARRAY_SIZE(argv), argv, true, &idx, &err), 0);
  assert_int_equal(idx, (int)ARRAY_SIZE(argv) - 1);
  assert_string_equal(o.workdir, "/data/run");
  assert_string_equal(o.shell, "/bin/bash");
  assert_string_equal(o.user_list, "alice@head");
  assert_true(o.quiet);
  assert_string_equal(o.array_spec, "1-5%2");
  assert_string_equal(o.umask, "027");
  assert_int_equal(o.nvars, 0);
  assert_string_equal(qsub_directive_prefix(&o), "#MSUB");
  qsub_opts_free(&o);
  /* -w is Torque's -d too; -t N is one index (boxqd normalizes it). */
  char *more[] = {"-w", "rel/dir", "-t", "7"};
  qsub_opts_init(&o);
  assert_int_equal(qsub_parse_args(&o, ARRAY_SIZE(more), more, true, &idx, &err), 0);
  assert_string_equal(o.workdir, "rel/dir");
  assert_string_equal(o.array_spec, "7");
  qsub_opts_free(&o);
  static const char *const bad[][3] = {
      {"-S", "bash", "absolute path"}, {"-k", "x", "-k"},
      {"-t", "5,3", "ascending"},      {"-t", "5-1", "-t"},
      {"-W", "umask=999", "octal"},    {"-W", "umask=", "octal"},
      {"-d", "", "directory"},         {"-A", "two words", "printable"},
      {"-P", "", "printable"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    char *args[] = {(char *)bad[i][0], (char *)bad[i][1]};
    qsub_opts_init(&o);
    err.msg[0] = '\0';
    if (qsub_parse_args(&o, 2, args, false, NULL, &err) == 0)
      fail_msg("%s %s accepted", bad[i][0], bad[i][1]);
    if (!strstr(err.msg, bad[i][2]))
      fail_msg("%s %s: '%s' lacks '%s'", bad[i][0], bad[i][1], err.msg, bad[i][2]);
    qsub_opts_free(&o);
  }
}

/* Directives under another prefix (-C, PBS_DPREFIX); #PBS lines are then
 * comments. */
static void
directive_prefix(void **state) {
  (void)state;
  const char *script = "#!/bin/sh\n#PBS -N ignored\n#MSUB -N taken\n#MSUB -l ncpus=3\necho\n";
  struct qsub_opts o;
  qsub_opts_init(&o);
  struct berr err = {{0}};
  assert_int_equal(qsub_parse_directives(&o, script, strlen(script), "m.sh", "#MSUB", &err), 0);
  assert_string_equal(o.name, "taken");
  assert_int_equal(o.res.ncpus, 3);
  qsub_opts_free(&o);
  qsub_opts_init(&o);
  assert_int_equal(qsub_parse_directives(&o, script, strlen(script), "m.sh", "", &err), 0);
  assert_null(o.name);
  qsub_opts_free(&o);
  struct qsub_opts none;
  qsub_opts_init(&none);
  setenv("PBS_DPREFIX", "#XYZ", 1);
  assert_string_equal(qsub_directive_prefix(&none), "#XYZ");
  unsetenv("PBS_DPREFIX");
  assert_string_equal(qsub_directive_prefix(&none), "#PBS");
  qsub_opts_free(&none);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(command_line),
      cmocka_unit_test(bad_options),
      cmocka_unit_test(workflow_options),
      cmocka_unit_test(directives),
      cmocka_unit_test(directive_errors_have_file_and_line),
      cmocka_unit_test(torque_and_pbspro_options),
      cmocka_unit_test(directive_prefix),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
