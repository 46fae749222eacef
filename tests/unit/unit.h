/* SPDX-License-Identifier: MIT */
/* What the unit tests share beyond cmocka: a skip that CTest reports as
 * skipped. cmocka counts a skip() as a pass, so a program whose every test
 * skipped would exit 0 and show as Passed; UNIT_RUN exits 77 then, which
 * CTest's SKIP_RETURN_CODE (tests/CMakeLists.txt) shows as skipped, with
 * the reason printed. Include after <cmocka.h>. */
#pragma once

#include <stdio.h>

static int unit_skipped;

/* Skips the calling test, saying why. */
#define UNIT_SKIP(why)                                                                             \
  do {                                                                                             \
    printf("SKIP: %s\n", (why));                                                                   \
    unit_skipped++;                                                                                \
    skip();                                                                                        \
  } while (0)

/* cmocka_run_group_tests, but 77 when every test skipped. */
#define UNIT_RUN(tests, setup, teardown)                                                           \
  __extension__({                                                                                  \
    int unit_failed_ = cmocka_run_group_tests(tests, setup, teardown);                             \
    unit_failed_                                                ? unit_failed_                     \
    : unit_skipped == (int)(sizeof(tests) / sizeof((tests)[0])) ? 77                               \
                                                                : 0;                               \
  })
