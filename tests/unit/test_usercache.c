/* SPDX-License-Identifier: MIT */
/* The worker's cache of job accounts: looked up once, reused within its
 * lifetime, never handed out under another name. */
#include "usercache.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static void
looks_up_once_and_reuses(void **state) {
  (void)state;
  struct usercache c = {0};
  struct berr err = {{0}};
  const struct user_info *a = NULL, *b = NULL;
  assert_int_equal(usercache_get(&c, 0, 0, "root", &a, &err), 0);
  assert_string_equal(a->name, "root");
  assert_true(a->ngroups >= 1);
  bool has_primary = false;
  for (int i = 0; i < a->ngroups; i++)
    has_primary |= a->groups[i] == 0;
  assert_true(has_primary);
  assert_int_equal(usercache_get(&c, 0, 0, "root", &b, &err), 0);
  assert_ptr_equal(a, b); /* from the cache */
  struct passwd pw = usercache_passwd(a);
  assert_string_equal(pw.pw_name, "root");
  assert_int_equal(pw.pw_uid, 0);
  assert_non_null(pw.pw_dir);
  usercache_free(&c);
  assert_null(c.list);
}

static void
refuses_a_renamed_or_missing_account(void **state) {
  (void)state;
  struct usercache c = {0};
  struct berr err = {{0}};
  const struct user_info *u = NULL;
  /* uid 0 submitted as "alice": the uid belongs to someone else now. */
  assert_int_equal(usercache_get(&c, 0, 0, "alice", &u, &err), -EPERM);
  assert_non_null(strstr(err.msg, "not the submitter 'alice'"));
  /* A cached root entry is not handed out under another name either. */
  assert_int_equal(usercache_get(&c, 0, 0, "root", &u, &err), 0);
  assert_int_equal(usercache_get(&c, 0, 0, "alice", &u, &err), -EPERM);
  assert_int_equal(usercache_get(&c, 3999999, 3999999, "ghost", &u, &err), -ENOENT);
  assert_non_null(strstr(err.msg, "no account"));
  usercache_free(&c);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(looks_up_once_and_reuses),
      cmocka_unit_test(refuses_a_renamed_or_missing_account),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
