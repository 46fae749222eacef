/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "qsub_sge.h"

static int
parse(struct qsub_opts *o, char **argv, int argc, int *idx, struct berr *err) {
  qsub_opts_init(o);
  o->respol = (struct res_policy){.unknown = RES_UNKNOWN_WARN};
  return qsub_sge_parse_args(o, argc, argv, true, idx, err);
}

static void
sizes(void **state) {
  (void)state;
  struct berr err = {{0}};
  int64_t v;
  assert_int_equal(qsub_sge_parse_size("2G", &v, &err), 0);
  assert_int_equal(v, 2LL << 30);
  assert_int_equal(qsub_sge_parse_size("2g", &v, &err), 0);
  assert_int_equal(v, 2000000000LL);
  assert_int_equal(qsub_sge_parse_size("512M", &v, &err), 0);
  assert_int_equal(v, 512LL << 20);
  assert_int_equal(qsub_sge_parse_size("1.5K", &v, &err), 0);
  assert_int_equal(v, 1536);
  assert_int_equal(qsub_sge_parse_size("4096", &v, &err), 0);
  assert_int_equal(v, 4096);
  assert_true(qsub_sge_parse_size("lots", &v, &err) < 0);
  assert_non_null(strstr(err.msg, "'lots'"));
  assert_true(qsub_sge_parse_size("2GB", &v, &err) < 0);
  assert_true(qsub_sge_parse_size("-1G", &v, &err) < 0);
  assert_true(qsub_sge_parse_size("99999999T", &v, &err) < 0);
}

/* The options Toil's grid_engine batch system sends, and the rest of a
 * typical command line. */
static void
command_line(void **state) {
  (void)state;
  char *argv[] = {"-V",
                  "-b",
                  "y",
                  "-terse",
                  "-j",
                  "y",
                  "-cwd",
                  "-N",
                  "toil_job_1",
                  "-v",
                  "A='x,y'",
                  "-hard",
                  "-l",
                  "vf=1024K,h_vmem=2048K",
                  "-pe",
                  "smp",
                  "4",
                  "-o",
                  "/w/out.$JOB_ID",
                  "-p",
                  "1024",
                  "-q",
                  "all.q@node1",
                  "cmd",
                  "arg"};
  struct qsub_opts o;
  struct berr err = {{0}};
  int idx;
  assert_int_equal(parse(&o, argv, ARRAY_SIZE(argv), &idx, &err), 0);
  assert_int_equal(idx, 23);
  assert_true(o.sge && o.export_all && o.terse && o.cwd);
  assert_int_equal(o.binary, 1);
  assert_int_equal(o.join, JOIN_OE);
  assert_string_equal(o.vars[0], "A=x,y");
  assert_string_equal(o.pe_name, "smp");
  assert_int_equal(o.pe_slots, 4);
  assert_int_equal(o.slot_mem, 2048 * 1024);
  assert_int_equal(o.priority, 1023);
  assert_string_equal(o.queue, "all.q");
  assert_string_equal(o.out_path, "/w/out.$JOB_ID");
  assert_int_equal(qsub_sge_finish(&o, &err), 0);
  assert_int_equal(o.res.ncpus, 4);
  assert_int_equal(o.res.mem, 4 * 2048 * 1024); /* per slot */
  assert_null(o.workdir);                       /* -cwd: where qsub runs */
  qsub_opts_free(&o);
}

static void
home_tasks_and_times(void **state) {
  (void)state;
  char *argv[] = {"-t",          "1-10:3",    "-tc",
                  "2",           "-l",        "h_rt=1:00:00,s_rt=3000,h_cpu=600",
                  "-m",          "bes",       "-sync",
                  "y",           "-hold_jid", "a,b",
                  "-hold_jid",   "7",         "-soft",
                  "-l",          "h_vmem=9G", "-q",
                  "other.q",     "-hard",     "-l",
                  "mem_free=1G", "-o",        "$HOME/logs/$USER.$TASK_ID"};
  struct qsub_opts o;
  struct berr err = {{0}};
  setenv("HOME", "/home/u", 1);
  setenv("USER", "u", 1);
  assert_int_equal(parse(&o, argv, ARRAY_SIZE(argv), NULL, &err), 0);
  assert_int_equal(qsub_sge_finish(&o, &err), 0);
  assert_string_equal(o.workdir, "/home/u"); /* no -cwd: $HOME */
  assert_string_equal(o.array_spec, "1-10:3%2");
  assert_int_equal(o.res.walltime, 3600);
  assert_int_equal(o.soft_walltime, 3000);
  assert_int_equal(o.res.cput, 600);
  assert_string_equal(o.mail_points, "be");
  assert_true(o.block);
  assert_string_equal(o.hold_jid, "a,b,7");
  assert_null(o.queue);                   /* -soft -q: a wish */
  assert_int_equal(o.res.mem, 1LL << 30); /* -soft's 9G is not a limit */
  assert_string_equal(o.out_path, "/home/u/logs/u.$TASK_ID");
  qsub_opts_free(&o);
}

static void
bad_options(void **state) {
  (void)state;
  static const char *const cases[][4] = {
      {"-pe", "smp", "", "-pe smp '': give the slots"},
      {"-pe", "smp", "0", "give the slots"},
      {"-l", "h_vmem=lots", "", "-l h_vmem: 'lots'"},
      {"-l", "h_rt=soon", "", "-l h_rt=soon"},
      {"-j", "maybe", "", "-j 'maybe': use y or n"},
      {"-p", "2000", "", "from -1023 to 1024"},
      {"-now", "y", "", "-now y (start now or not at all) is not supported"},
      {"-ckpt", "x", "", "Grid Engine's -ckpt is not supported"},
      {"-tc", "0", "", "-tc '0'"},
      {"-frobnicate", "1", "", "unknown option -frobnicate"},
      {"-m", "x", "", "-m 'x'"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    char *argv[3] = {(char *)cases[i][0], (char *)cases[i][1], (char *)cases[i][2]};
    int argc = cases[i][2][0] || !strcmp(cases[i][0], "-pe") ? 3 : 2;
    struct qsub_opts o;
    struct berr err = {{0}};
    int r = parse(&o, argv, argc, NULL, &err);
    if (r == 0)
      fail_msg("case %zu (%s %s) was accepted", i, cases[i][0], cases[i][1]);
    if (!strstr(err.msg, cases[i][3]))
      fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, cases[i][3]);
    qsub_opts_free(&o);
  }
  struct qsub_opts o;
  struct berr err = {{0}};
  char *tc[] = {"-tc", "3"};
  assert_int_equal(parse(&o, tc, 2, NULL, &err), 0);
  assert_true(qsub_sge_finish(&o, &err) < 0);
  assert_non_null(strstr(err.msg, "give -t too"));
  qsub_opts_free(&o);
}

static void
directives(void **state) {
  (void)state;
  const char *script = "#!/bin/sh\n"
                       "#$ -N named # a comment\n"
                       "#$ -cwd -l h_rt=600\n"
                       "echo start\n"
                       "  #$ -N indented_is_no_directive\n"
                       "#$ -pe mpi 2\n"
                       "#PBS-looking but not a directive\n";
  struct qsub_opts o;
  struct berr err = {{0}};
  qsub_opts_init(&o);
  assert_int_equal(qsub_sge_parse_directives(&o, script, strlen(script), "s.sh", "#$", &err), 0);
  assert_string_equal(o.name, "named");
  assert_true(o.cwd);
  assert_int_equal(o.res.walltime, 600);
  assert_int_equal(o.pe_slots, 2); /* after the first command: Grid Engine reads it */
  qsub_opts_free(&o);

  const char *bad = "#!/bin/sh\n#$ -cwd\n#$ -l h_vmem=x\n";
  qsub_opts_init(&o);
  assert_true(qsub_sge_parse_directives(&o, bad, strlen(bad), "bad.sh", "#$", &err) < 0);
  assert_non_null(strstr(err.msg, "bad.sh:3: '#$ -l h_vmem=x'"));
  qsub_opts_free(&o);

  assert_true(qsub_sge_script(script, strlen(script)));
  const char *both = "#!/bin/sh\n#$ -cwd\n#PBS -N x\n";
  assert_false(qsub_sge_script(both, strlen(both))); /* #PBS lines: PBS's */
  const char *none = "#!/bin/sh\necho '#$ -cwd'\n";
  assert_false(qsub_sge_script(none, strlen(none)));
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sizes),
      cmocka_unit_test(command_line),
      cmocka_unit_test(home_tasks_and_times),
      cmocka_unit_test(bad_options),
      cmocka_unit_test(directives),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
