/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "job.h"
#include "jobref.h"

static void
default_output_paths(void **state) {
  (void)state;
  struct job_rec j = {.id = 7, .name = (char *)"hello", .workdir = (char *)"/home/a"};
  char *o = job_out_path(&j, "srv"), *e = job_err_path(&j, "srv");
  assert_string_equal(o, "/home/a/hello.o7");
  assert_string_equal(e, "/home/a/hello.e7");
  free(o);
  free(e);
  j.out_path = (char *)"/logs/";
  j.err_path = (char *)"/x/err.txt";
  o = job_out_path(&j, "srv");
  e = job_err_path(&j, "srv");
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

static void
job_refs(void **state) {
  (void)state;
  struct job_ref r;
  char buf[48];
  const char *good[][2] = {{"123", "123"},       {"123.host", "123"},  {"123[]", "123[]"},
                           {"123[].h", "123[]"}, {"123[7]", "123[7]"}, {"9[0].a.b", "9[0]"}};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    assert_int_equal(job_ref_parse(good[i][0], &r, NULL), 0);
    job_ref_format(&r, buf, sizeof(buf));
    assert_string_equal(buf, good[i][1]);
  }
  const char *bad[] = {"",           "x",   "0",  "12[",  "12[x]",
                       "12[]x",      "12.", "-1", "12[7", "1234567890123456789",
                       "12[1000000]"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct berr err = {{0}};
    assert_int_equal(job_ref_parse(bad[i], &r, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "illegally formed"));
  }
}

static void
array_ranges(void **state) {
  (void)state;
  struct job_array_range a;
  char buf[64];
  assert_int_equal(job_array_parse("1-100:2%5", &a, NULL), 0);
  assert_int_equal(job_array_count(&a), 50);
  assert_int_equal(a.limit, 5);
  job_array_format(&a, buf, sizeof(buf));
  assert_string_equal(buf, "1-100:2");
  assert_int_equal(job_array_parse("0-9", &a, NULL), 0);
  assert_int_equal(job_array_count(&a), 10);
  assert_int_equal(job_array_parse("7", &a, NULL), 0);
  assert_int_equal(job_array_count(&a), 1);
  assert_int_equal(job_array_parse("1-10:3", &a, NULL), 0);
  assert_int_equal(job_array_count(&a), 4); /* 1 4 7 10 */
  assert_int_equal(job_array_parse("0-999999", &a, NULL), 0);
  assert_int_equal(job_array_count(&a), JOB_ARRAY_MAX);
  const char *bad[] = {"",      "a",      "1-",        "5-1",  "1-10:", "1-10:0",
                       "1-10%", "1-10%0", "1-1000000", "1--2", "1-2x"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_true(job_array_parse(bad[i], &a, NULL) < 0);
  /* Torque's lists (-t). */
  struct job_array_range *l;
  size_t n;
  int64_t count;
  struct berr err = {{0}};
  assert_int_equal(job_array_parse_list("1,3,5-7,10-20:5%2", &l, &n, &count, &err), 0);
  assert_int_equal(n, 4);
  assert_int_equal(count, 1 + 1 + 3 + 3);
  assert_int_equal(l[3].step, 5);
  assert_int_equal(l[0].limit, 2);
  char *norm = job_array_format_list(l, n);
  assert_string_equal(norm, "1,3,5-7,10-20:5");
  free(norm);
  free(l);
  assert_int_equal(job_array_parse_list("4-9", &l, &n, &count, &err), 0);
  assert_int_equal(count, 6);
  free(l);
  const char *bad_lists[] = {"3,1", "1-5,5", "1,,2", "1,2%", "1%2,3", "1,x", ","};
  for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++)
    assert_true(job_array_parse_list(bad_lists[i], &l, &n, &count, &err) < 0);
  assert_int_equal(job_array_parse_list("3,1", &l, &n, &count, &err), -EINVAL);
  assert_non_null(strstr(err.msg, "ascending order"));
}

static void
depend_lists(void **state) {
  (void)state;
  struct job_dep *d;
  size_t n;
  assert_int_equal(job_depend_parse("afterany:3,afterok:1:2[]", &d, &n, NULL), 0);
  assert_int_equal(n, 3);
  assert_int_equal(d[0].kind, DEP_AFTERANY);
  assert_int_equal(d[2].ref.kind, REF_ARRAY);
  char *s = job_depend_format(d, n);
  assert_string_equal(s, "afterok:1:2[],afterany:3"); /* grouped by kind */
  free(s);
  free(d);
  struct berr err = {{0}};
  /* Snakemake's {dependencies}: blank-separated ids, or none at all. */
  assert_int_equal(job_depend_parse("afterok:4.box 5.box", &d, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_int_equal(d[1].ref.id, 5);
  free(d);
  assert_int_equal(job_depend_parse("afterok:", &d, &n, &err), 0);
  assert_int_equal(n, 0);
  assert_null(d);
  assert_int_equal(job_depend_parse("afterok: ", &d, &n, &err), -EINVAL);
  assert_true(job_depend_parse("synccount:2", &d, &n, &err) < 0);
  assert_non_null(strstr(err.msg, "synccount"));
  assert_true(job_depend_parse("", &d, &n, &err) < 0);
  /* Empty ids and entries are errors, never skipped. */
  assert_int_equal(job_depend_parse("afterok::14", &d, &n, &err), -EINVAL);
  assert_non_null(strstr(err.msg, "empty job id in 'afterok::14'"));
  assert_int_equal(job_depend_parse("afterok:14:", &d, &n, &err), -EINVAL);
  assert_int_equal(job_depend_parse("afterok:1,,afterany:2", &d, &n, &err), -EINVAL);
  assert_non_null(strstr(err.msg, "empty entry"));
  assert_int_equal(job_depend_parse("afterok:1,", &d, &n, &err), -EINVAL);
  char many[4096] = "afterok";
  for (int i = 0; i < JOB_DEPS_MAX + 1; i++)
    snprintf(many + strlen(many), sizeof(many) - strlen(many), ":%d", i + 1);
  assert_int_equal(job_depend_parse(many, &d, &n, &err), -E2BIG);
}

static void
task_names_and_paths(void **state) {
  (void)state;
  struct job_rec j = {.id = 150, .array_id = 123, .array_index = 7, .name = "sim", .workdir = "/w"};
  char *s = job_display_id(&j, "srv");
  assert_string_equal(s, "123[7].srv");
  free(s);
  s = job_out_path(&j, "srv");
  assert_string_equal(s, "/w/sim.o123.7");
  free(s);
  j.err_path = "/logs/run-^array_index^.err";
  s = job_err_path(&j, "srv");
  assert_string_equal(s, "/logs/run-7.err");
  free(s);
  /* As Torque's users write them; unknown names and a lone $ kept. */
  j.out_path = "/logs/${PBS_JOBID}-$PBS_JOBNAME.$PBS_ARRAYID.$HOME.${X}$";
  s = job_out_path(&j, "srv");
  assert_string_equal(s, "/logs/123[7].srv-sim.7.$HOME.${X}$");
  free(s);
  struct job_rec parent = {.id = 123, .array_spec = "1-10"};
  s = job_display_id(&parent, "srv");
  assert_string_equal(s, "123[].srv");
  free(s);
}

/* Every listed field (common/job_fields.h) crosses the wire whole: each is
 * given a value of its own, and each comes back, a field added to the list
 * included. */
#define SET_I64(p, n)   *(p) = 1000 + (n)
#define SET_INT(p, n)   *(p) = 100 + (n)
#define SET_BOOL(p, n)  *(p) = true
#define SET_STATE(p, n) *(p) = JOB_RUNNING
#define SET_STR(p, n)   *(p) = xasprintf("s%d", (n))
#define SET_STRN(p, n)  *(p) = xasprintf("n%d", (n))
#define CMP_I64(a, b)   assert_int_equal(a, b)
#define CMP_INT(a, b)   assert_int_equal(a, b)
#define CMP_BOOL(a, b)  assert_int_equal(a, b)
#define CMP_STATE(a, b) assert_int_equal(a, b)
#define CMP_STR(a, b)   assert_string_equal(a, b)
#define CMP_STRN(a, b)  assert_string_equal(a, b)

static void
every_listed_field_round_trips(void **state) {
  (void)state;
  struct job_rec j = {0};
  int n = 0;
#define SET_FIELD_(member, kind, tag, column, wire, stored) SET_##kind(&j.member, n++);
  JOB_FIELDS(SET_FIELD_)
  JOB_STAT_FIELDS(SET_FIELD_)
#undef SET_FIELD_
#define SET_USAGE_(member, kind, tag) SET_##kind(&j.usage.member, n++);
  JOB_USAGE_FIELDS(SET_USAGE_)
#undef SET_USAGE_
  j.has_usage = true;
  snprintf(j.usage.cg_backend, sizeof(j.usage.cg_backend), "v2");
  j.has_exit = true;
  j.exit_status = 0; /* present though 0 */
  struct pbuf b = {0};
  job_rec_encode(&b, &j);
  struct pmsg m;
  pmsg_init(&m, 0, b.data, b.len);
  struct job_rec got;
  assert_int_equal(job_rec_decode(&m, &got), 0);
#define CMP_FIELD_(member, kind, tag, column, wire, stored) CMP_##kind(got.member, j.member);
  JOB_FIELDS(CMP_FIELD_)
  JOB_STAT_FIELDS(CMP_FIELD_)
#undef CMP_FIELD_
#define CMP_USAGE_(member, kind, tag) CMP_##kind(got.usage.member, j.usage.member);
  JOB_USAGE_FIELDS(CMP_USAGE_)
#undef CMP_USAGE_
  assert_true(got.has_usage);
  assert_string_equal(got.usage.cg_backend, "v2");
  assert_true(got.has_exit);
  assert_int_equal(got.exit_status, 0);
  job_rec_free(&got);
  job_rec_free(&j);
  pbuf_free(&b);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_listed_field_round_trips),
      cmocka_unit_test(job_refs),
      cmocka_unit_test(array_ranges),
      cmocka_unit_test(depend_lists),
      cmocka_unit_test(task_names_and_paths),
      cmocka_unit_test(default_output_paths),
      cmocka_unit_test(names),
      cmocka_unit_test(end_reasons),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
