/* SPDX-License-Identifier: MIT */
/* common/idmap.c against a plain array: random puts, gets and deletes
 * (deletion shifts entries back, the part easy to get wrong), ids dense
 * as job ids are and spread as uids are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "idmap.h"

#include <stdlib.h>

#define RANGE 3000

static void
matches_an_array_under_random_operations(void **state) {
  (void)state;
  static intptr_t ref[RANGE];
  struct idmap m = {0};
  srand(7);
  for (int round = 0; round < 200000; round++) {
    int64_t key = 1 + rand() % (RANGE - 1);
    int op = rand() % 3;
    if (op == 0) {
      intptr_t v = 1 + rand();
      idmap_put(&m, key, (void *)v);
      ref[key] = v;
    } else if (op == 1) {
      assert_int_equal((intptr_t)idmap_del(&m, key), ref[key]);
      ref[key] = 0;
    } else
      assert_int_equal((intptr_t)idmap_get(&m, key), ref[key]);
  }
  size_t n = 0;
  for (int64_t k = 1; k < RANGE; k++) {
    assert_int_equal((intptr_t)idmap_get(&m, k), ref[k]);
    n += ref[k] != 0;
  }
  assert_int_equal(m.n, n);
  idmap_free(&m);
}

static void
spread_keys_and_absent_ones(void **state) {
  (void)state;
  struct idmap m = {0};
  assert_null(idmap_get(&m, 5));
  assert_null(idmap_del(&m, 5));
  for (int64_t k = 1; k <= 1000; k++)
    idmap_put(&m, k * 65537 + (k << 40), (void *)(intptr_t)k);
  for (int64_t k = 1; k <= 1000; k++)
    assert_int_equal((intptr_t)idmap_get(&m, k * 65537 + (k << 40)), k);
  assert_null(idmap_get(&m, 3));
  for (int64_t k = 1; k <= 1000; k += 2)
    assert_int_equal((intptr_t)idmap_del(&m, k * 65537 + (k << 40)), k);
  for (int64_t k = 1; k <= 1000; k++)
    assert_int_equal((intptr_t)idmap_get(&m, k * 65537 + (k << 40)), k % 2 ? 0 : k);
  assert_int_equal(m.n, 500);
  idmap_free(&m);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(matches_an_array_under_random_operations),
      cmocka_unit_test(spread_keys_and_absent_ones),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
