/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Appending through xgrow keeps every element, starts at the first room
 * asked for, and doubles only when full. */
static void
xgrow_appends_and_doubles(void **state) {
  (void)state;
  int64_t *v = NULL;
  size_t n = 0, cap = 0;
  for (int64_t i = 0; i < 1000; i++) {
    v = xgrow(v, n, &cap, sizeof(*v), 16);
    assert_true(cap > n);
    v[n++] = i;
    if (n == 1)
      assert_int_equal(cap, 16);
  }
  assert_int_equal(cap, 1024);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(v[i], (int64_t)i);
  int64_t *same = xgrow(v, 10, &cap, sizeof(*v), 16);
  assert_ptr_equal(same, v); /* room left: nothing moves */
  assert_int_equal(cap, 1024);
  free(v);
}

/* The two file writers: whole content in place, replacing what was
 * there; the atomic one leaves no .tmp behind; neither leaves anything
 * when it cannot write. */
static void
file_writers_replace_whole_and_clean_up(void **state) {
  (void)state;
  char dir[] = "/tmp/boxq-test-util.XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[64], tmp[80], missing[96];
  snprintf(path, sizeof(path), "%s/f", dir);
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  snprintf(missing, sizeof(missing), "%s/no/such/f", dir);
  char *text = NULL;
  size_t len = 0;

  assert_int_equal(write_file_direct(path, "a longer first text\n", 20, 0600), 0);
  assert_int_equal(write_file_direct(path, "short\n", 6, 0600), 0);
  assert_int_equal(read_file_at(AT_FDCWD, path, 4096, &text, &len), 0);
  assert_int_equal(len, 6);
  assert_string_equal(text, "short\n");
  free(text);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);

  assert_int_equal(write_file_atomic(path, "atomic\n", 7, 0600, true), 0);
  assert_int_equal(read_file_at(AT_FDCWD, path, 4096, &text, &len), 0);
  assert_string_equal(text, "atomic\n");
  free(text);
  assert_int_equal(access(tmp, F_OK), -1);

  assert_int_equal(write_file_direct(missing, "x", 1, 0600), -ENOENT);
  assert_int_equal(write_file_atomic(missing, "x", 1, 0600, false), -ENOENT);

  assert_int_equal(unlink(path), 0);
  assert_int_equal(rmdir(dir), 0);
}

/* closep marks what it closed: a second call cannot close a descriptor
 * that has taken the number since (the worker's connection once did). */
static void
closep_closes_once(void **state) {
  (void)state;
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  int copy = fd;
  closep(&fd);
  assert_int_equal(fd, -1);
  int reused = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_int_equal(reused, copy); /* the lowest number: the one just freed */
  closep(&fd);
  assert_int_equal(fcntl(reused, F_GETFD), FD_CLOEXEC);
  close(reused);
}

static void
kv_list_replaces_by_key_and_stays_terminated(void **state) {
  (void)state;
  char **list = NULL;
  size_t n = 0;
  kv_list_set(&list, &n, "A", 1, "1");
  kv_list_set(&list, &n, "AB=ignored", 2, "2"); /* the key is the first klen bytes */
  kv_list_set(&list, &n, "A", 1, "3");
  assert_int_equal(n, 2);
  assert_string_equal(list[0], "A=3");
  assert_string_equal(list[1], "AB=2");
  assert_null(list[2]);
  for (size_t i = 0; i < n; i++)
    free(list[i]);
  free(list);
}

/* qstat -u, qselect -u, qwait -q: comma lists, "@host" not compared. */
static void
name_in_list_matches_whole_items(void **state) {
  (void)state;
  assert_true(name_in_list("alice,bob", "bob"));
  assert_true(name_in_list("alice@box,bob", "alice"));
  assert_true(name_in_list("batch@server", "batch"));
  assert_false(name_in_list("alice,bob", "al"));
  assert_false(name_in_list("alice,bob", "alicex"));
  assert_false(name_in_list("", "alice"));
  assert_false(name_in_list("alice", NULL));
  assert_true(name_in_list("a,,b", "b"));
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(xgrow_appends_and_doubles),
      cmocka_unit_test(file_writers_replace_whole_and_clean_up),
      cmocka_unit_test(closep_closes_once),
      cmocka_unit_test(kv_list_replaces_by_key_and_stays_terminated),
      cmocka_unit_test(name_in_list_matches_whole_items),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
