/* SPDX-License-Identifier: MIT */
/* Cron schedules (boxq cron, qsub --cron): the five fields of crontab(5)
 * (minute hour day-of-month month day-of-week: numbers, *, ranges, /steps,
 * lists, jan-dec and sun-sat names, 7 for Sunday) or one of @yearly,
 * @annually, @monthly, @weekly, @daily, @midnight, @hourly; and the next
 * time a schedule is due, in the box's local time zone. Pure: no I/O. */
#pragma once

#include "util.h"

#include <stdbool.h>
#include <stdint.h>

struct cron_spec {
  uint64_t minutes; /* bit N: minute N (0-59) */
  uint32_t hours;   /* 0-23 */
  uint32_t mdays;   /* 1-31 */
  uint16_t months;  /* 1-12 */
  uint8_t wdays;    /* 0-6, Sunday 0 */
  /* A restricted day of month and day of week: either matches (cron's
   * rule); with one of them '*', the other alone decides. */
  bool mday_any, wday_any;
};

/* Parses a schedule: five blank-separated fields or an @keyword, nothing
 * else. Errors name the field and the value. */
int cron_parse(const char *text, struct cron_spec *ret, struct berr *err);
/* How many leading words of a crontab line the schedule takes (5, or 1
 * for an @keyword); 0 if the line does not start like one. */
int cron_spec_words(const char *line);

/* The first time after `after` (unix seconds) the schedule is due, in
 * local time (TZ). Daylight saving: a local time the spring change skips
 * (02:30) is due once, when the clock first shows that minute's successor
 * an hour on (03:30); one the autumn change repeats is due once, at its
 * first occurrence. 0 if it is never due within 10 years. */
int64_t cron_next(const struct cron_spec *s, int64_t after);
