/* SPDX-License-Identifier: MIT */
/* boxqd's copy of the worker's chains (scheduler/successors.c): after
 * each report, the links must be the worker's, or boxqd counts a held job
 * as running (a CPU left idle) or a running one as held (a CPU given
 * twice). The trades are the worker's (worker/successors.c
 * earliest_alike): the job started takes the place of the one planned
 * there, which waits in its place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "boxqd.h"

#include <stdlib.h>
#include <string.h>

static int
cmp_link(const void *a, const void *b) {
  const struct succ_link *x = a, *y = b;
  return x->succ < y->succ ? -1 : x->succ > y->succ;
}

/* The links as "pred>succ ..." sorted by successor. */
static char *
links(struct boxqd *d) {
  qsort(d->succ, d->nsucc, sizeof(*d->succ), cmp_link);
  static char buf[256];
  buf[0] = '\0';
  for (size_t i = 0; i < d->nsucc; i++) {
    char one[48];
    snprintf(one, sizeof(one), "%s%lld>%lld", i ? " " : "", (long long)d->succ[i].pred,
             (long long)d->succ[i].succ);
    strcat(buf, one);
  }
  return buf;
}

static void
free_links(struct boxqd *d) {
  free(d->succ);
  free(d->no_follow);
}

/* A successor starts in its own place: its link goes, the rest stay. */
static void
test_start_in_place(void **state) {
  (void)state;
  struct boxqd d = {0};
  succ_planned(&d, 1, 2, 0);
  succ_planned(&d, 2, 3, 0);
  succ_planned(&d, 4, 5, 0);
  succ_ended(&d, 1);
  succ_started(&d, 2, 0, 0, 0);
  assert_string_equal(links(&d), "2>3 4>5");
  free_links(&d);
}

/* Running 10 and 20; held 11 behind 10 with 12 behind it, 21 behind 20
 * with 22 behind it. 10 ends; 21 (handed over first) starts in 11's
 * place; 11 waits behind 20. The worker names who was behind each. */
static void
test_trade(void **state) {
  (void)state;
  struct boxqd d = {0};
  succ_planned(&d, 20, 21, 0);
  succ_planned(&d, 21, 22, 0);
  succ_planned(&d, 10, 11, 0);
  succ_planned(&d, 11, 12, 0);
  succ_ended(&d, 10);
  succ_started(&d, 21, 11, 12, 22);
  /* Worker: 21 runs with 12 behind it; 20 -> 11 -> 22. */
  assert_string_equal(links(&d), "20>11 21>12 11>22");
  assert_true(succ_waiting(&d, 11));
  assert_false(succ_waiting(&d, 21));
  assert_int_equal(succ_depth(&d, 22), 2); /* behind 11, behind 20 */
  free_links(&d);
}

/* boxqd planned 13 behind 11 before it heard of the trade (nothing was
 * behind 11 then); the worker received it after the trade and put it
 * behind 11, which now waits behind 20. That link is the worker's as
 * sent: it must not move with the trade (it did: 13 was then thought to
 * follow 21, and when 21 ended boxqd counted 13, still held, as running). */
static void
test_link_planned_during_a_trade(void **state) {
  (void)state;
  struct boxqd d = {0};
  succ_planned(&d, 20, 21, 0);
  succ_planned(&d, 10, 11, 0);
  succ_planned(&d, 11, 13, 0); /* sent before boxqd heard of the trade */
  succ_ended(&d, 10);
  succ_started(&d, 21, 11, 0, 0); /* nothing was behind either */
  assert_string_equal(links(&d), "20>11 11>13");
  /* 20 ends: 11 starts in its place; 13 still waits behind it. */
  succ_ended(&d, 20);
  succ_started(&d, 11, 0, 0, 0);
  assert_string_equal(links(&d), "11>13");
  assert_true(succ_waiting(&d, 13));
  free_links(&d);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_start_in_place),
      cmocka_unit_test(test_trade),
      cmocka_unit_test(test_link_planned_during_a_trade),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
