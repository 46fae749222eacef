/* SPDX-License-Identifier: MIT */
/* Cron schedules: parsing (errors name the field), and the next time due
 * in UTC and across New York's daylight-saving changes of 2026 (8 March:
 * 02:00 EST -> 03:00 EDT; 1 November: 02:00 EDT -> 01:00 EST). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "cronexpr.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t
next(const char *spec, int64_t after) {
  struct cron_spec s;
  struct berr err = {{0}};
  int r = cron_parse(spec, &s, &err);
  if (r < 0)
    fail_msg("'%s': %s", spec, err.msg);
  return cron_next(&s, after);
}

/* A UTC time as "YYYY-MM-DD HH:MM" in the current zone. */
static const char *
local(int64_t t) {
  static char buf[64];
  time_t tt = (time_t)t;
  struct tm tm;
  localtime_r(&tt, &tm);
  strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M %Z", &tm);
  return buf;
}

static void
use_tz(const char *tz) {
  setenv("TZ", tz, 1);
  tzset();
}

static void
parse_errors(void **state) {
  (void)state;
  struct cron_spec s;
  struct berr err = {{0}};
  assert_int_equal(cron_parse("61 * * * *", &s, &err), -ERANGE);
  assert_non_null(strstr(err.msg, "minute field '61'"));
  assert_int_equal(cron_parse("* 24 * * *", &s, &err), -ERANGE);
  assert_non_null(strstr(err.msg, "hour"));
  assert_int_equal(cron_parse("* * * *", &s, &err), -EINVAL);
  assert_non_null(strstr(err.msg, "day of week is missing"));
  assert_int_equal(cron_parse("* * * * * *", &s, &err), -EINVAL);
  assert_int_equal(cron_parse("0 0 30 feb *", &s, &err), -EINVAL);
  assert_non_null(strstr(err.msg, "never run"));
  assert_int_equal(cron_parse("*/0 * * * *", &s, &err), -EINVAL);
  assert_int_equal(cron_parse("5-1 * * * *", &s, &err), -ERANGE);
  assert_int_equal(cron_parse("1, * * * *", &s, &err), -EINVAL);
  assert_int_equal(cron_parse("@fortnightly", &s, &err), -EINVAL);
  assert_int_equal(cron_parse("* * * foo *", &s, &err), -EINVAL);
  assert_int_equal(cron_parse("0 0 29 feb *", &s, &err), 0); /* leap years */
  assert_int_equal(cron_parse("*/15 9-17 * jan-mar,DEC mon-fri", &s, &err), 0);
  assert_int_equal(s.minutes, 1ull | 1ull << 15 | 1ull << 30 | 1ull << 45);
  assert_int_equal(s.months, 1u << 1 | 1u << 2 | 1u << 3 | 1u << 12);
  assert_int_equal(s.wdays, 0x3e);
  assert_int_equal(cron_parse("0 0 * * 7", &s, &err), 0);
  assert_int_equal(s.wdays, 1); /* 7 is Sunday */
  assert_int_equal(cron_spec_words("30 2 * * * /bin/run x"), 5);
  assert_int_equal(cron_spec_words("@daily run"), 1);
  assert_int_equal(cron_spec_words("PATH=/bin"), 0);
}

static void
next_in_utc(void **state) {
  (void)state;
  use_tz("UTC");
  int64_t t = 1796601600; /* 2026-12-07 00:00 UTC, a Monday */
  assert_string_equal(local(next("30 2 * * *", t)), "2026-12-07 02:30 UTC");
  assert_string_equal(local(next("30 2 * * *", t + 2 * 3600 + 30 * 60)), "2026-12-08 02:30 UTC");
  assert_string_equal(local(next("*/15 * * * *", t + 59)), "2026-12-07 00:15 UTC");
  assert_string_equal(local(next("@monthly", t)), "2027-01-01 00:00 UTC");
  assert_string_equal(local(next("0 9 * * sat", t)), "2026-12-12 09:00 UTC");
  /* Day of month or day of week, when both are given (cron's rule). */
  assert_string_equal(local(next("0 0 15 * fri", t)), "2026-12-11 00:00 UTC");
  assert_string_equal(local(next("0 0 29 feb *", t)), "2028-02-29 00:00 UTC");
}

static void
next_across_dst(void **state) {
  (void)state;
  use_tz("America/New_York");
  if (strcmp(local(1772940000), "2026-03-07 22:20 EST") != 0)
    UNIT_SKIP("no tzdata for America/New_York");
  /* Spring: 02:30 does not exist on 8 March; due once, at 03:30 EDT. */
  int64_t sat = 1772928000; /* 2026-03-07 19:00 EST */
  int64_t t = next("30 2 * * *", sat);
  assert_string_equal(local(t), "2026-03-08 03:30 EDT");
  assert_string_equal(local(next("30 2 * * *", t)), "2026-03-09 02:30 EDT");
  /* A time after the change keeps its wall time. */
  assert_string_equal(local(next("0 9 * * *", sat)), "2026-03-08 09:00 EDT");
  /* Autumn: 01:30 happens twice on 1 November; due once, the first. */
  int64_t oct31 = 1793487600; /* 2026-10-31 19:00 EDT */
  t = next("30 1 * * *", oct31);
  assert_string_equal(local(t), "2026-11-01 01:30 EDT");
  int64_t t2 = next("30 1 * * *", t);
  assert_string_equal(local(t2), "2026-11-02 01:30 EST");
  assert_true(t2 - t == 25 * 3600);
  /* Hourly jobs: the repeated hour runs once. */
  t = next("0 * * * *", oct31 + 5 * 3600); /* after 00:00 EDT */
  assert_string_equal(local(t), "2026-11-01 01:00 EDT");
  assert_string_equal(local(next("0 * * * *", t)), "2026-11-01 02:00 EST");
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_errors),
      cmocka_unit_test(next_in_utc),
      cmocka_unit_test(next_across_dst),
  };
  return UNIT_RUN(tests, NULL, NULL);
}
