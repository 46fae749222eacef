/* SPDX-License-Identifier: MIT */
/* Cron schedules. The search walks the local calendar as a clock on the
 * wall reads it (broken-down fields, stepped with timegm/gmtime, which
 * know nothing of time zones), skipping whole months, days and hours that
 * cannot match; only a match is turned into real time, with mktime. */
#include "cronexpr.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct field {
  const char *name;
  int min, max;
  const char *const *names; /* names[i] is min + i; NULL: numbers only */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static const struct field fields[5] = {
    {"minute", 0, 59, NULL},          {"hour", 0, 23, NULL},
    {"day of month", 1, 31, NULL},    {"month", 1, 12, month_names},
    {"day of week", 0, 7, day_names},
};

/* A number or a name of the field: its value, or -1. */
static int
field_value(const struct field *f, const char *s, size_t len) {
  if (len == 0)
    return -1;
  if (isdigit((unsigned char)s[0])) {
    int v = 0;
    for (size_t i = 0; i < len; i++) {
      if (!isdigit((unsigned char)s[i]) || v > 1000)
        return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  }
  if (f->names && len == 3)
    for (int i = 0; i <= f->max - f->min; i++)
      if (strncasecmp(s, f->names[i], 3) == 0)
        return f->min + i;
  return -1;
}

/* One field's text into a bit set of values (bit v). */
static int
parse_field(const struct field *f, const char *text, size_t len, uint64_t *bits, bool *any,
            struct berr *err) {
  *bits = 0;
  *any = false;
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *comma = memchr(p, ',', (size_t)(end - p));
    const char *item_end = comma ? comma : end;
    const char *slash = memchr(p, '/', (size_t)(item_end - p));
    const char *range_end = slash ? slash : item_end;
    int lo, hi, step = 1;
    bool star = range_end - p == 1 && *p == '*';
    if (star) {
      lo = f->min;
      hi = f->max == 7 ? 6 : f->max;
    } else {
      const char *dash = memchr(p, '-', (size_t)(range_end - p));
      lo = field_value(f, p, (size_t)((dash ? dash : range_end) - p));
      hi = dash ? field_value(f, dash + 1, (size_t)(range_end - dash - 1)) : lo;
      if (lo < 0 || hi < 0)
        return berr_set(err, -EINVAL, "%s field '%.*s': not a value, range or list", f->name,
                        (int)len, text);
      if (lo < f->min || hi > f->max || lo > hi)
        return berr_set(err, -ERANGE, "%s field '%.*s': out of range %d-%d%s", f->name, (int)len,
                        text, f->min, f->max, lo > hi ? " (or backwards)" : "");
      if (slash && !dash)
        hi = f->max == 7 ? 6 : f->max; /* "5/10": from 5 to the end, as cron reads it */
    }
    if (slash) {
      step =
          field_value(&(struct field){"", 0, 0, NULL}, slash + 1, (size_t)(item_end - slash - 1));
      if (step < 1 || step > f->max)
        return berr_set(err, -EINVAL, "%s field '%.*s': bad step", f->name, (int)len, text);
    }
    if (star && step == 1 && len == 1)
      *any = true;
    for (int v = lo; v <= hi; v += step)
      *bits |= 1ull << (f->max == 7 && v == 7 ? 0 : v); /* 7 is Sunday too */
    p = comma ? comma + 1 : end;
    if (comma && p == end)
      return berr_set(err, -EINVAL, "%s field '%.*s': ends with a comma", f->name, (int)len, text);
  }
  if (!*bits)
    return berr_set(err, -EINVAL, "%s field is empty", f->name);
  return 0;
}

static const struct {
  const char *name, *spec;
} keywords[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

static const char *
skip_blanks(const char *p) {
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

static const char *
word_end(const char *p) {
  while (*p && *p != ' ' && *p != '\t' && *p != '\n')
    p++;
  return p;
}

static const int month_days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

int
cron_parse(const char *text, struct cron_spec *ret, struct berr *err) {
  const char *p = skip_blanks(text);
  if (*p == '@') {
    const char *e = word_end(p);
    for (size_t i = 0; i < ARRAY_SIZE(keywords); i++)
      if ((size_t)(e - p) == strlen(keywords[i].name) &&
          strncasecmp(p, keywords[i].name, (size_t)(e - p)) == 0) {
        if (*skip_blanks(e))
          return berr_set(err, -EINVAL, "'%s' is followed by more fields", keywords[i].name);
        return cron_parse(keywords[i].spec, ret, err);
      }
    return berr_set(err, -EINVAL,
                    "unknown schedule '%.*s' (@yearly, @monthly, @weekly, @daily, @hourly)",
                    (int)(e - p), p);
  }
  uint64_t bits[5];
  bool any[5];
  for (int i = 0; i < 5; i++) {
    p = skip_blanks(p);
    const char *e = word_end(p);
    if (e == p)
      return berr_set(err, -EINVAL,
                      "a schedule has five fields (minute hour day-of-month month day-of-week); "
                      "the %s is missing",
                      fields[i].name);
    int r = parse_field(&fields[i], p, (size_t)(e - p), &bits[i], &any[i], err);
    if (r < 0)
      return r;
    p = e;
  }
  if (*skip_blanks(p))
    return berr_set(err, -EINVAL, "more than five fields in the schedule ('%s')", skip_blanks(p));
  *ret = (struct cron_spec){.minutes = bits[0],
                            .hours = (uint32_t)bits[1],
                            .mdays = (uint32_t)bits[2],
                            .months = (uint16_t)bits[3],
                            .wdays = (uint8_t)bits[4],
                            .mday_any = any[2],
                            .wday_any = any[4]};
  /* 30 February: accepted by cron, never run; refused here. */
  if (!ret->mday_any && ret->wday_any) {
    bool possible = false;
    for (int m = 0; m < 12 && !possible; m++)
      if (ret->months & (1u << (m + 1)))
        for (int d = 1; d <= month_days[m] && !possible; d++)
          possible = ret->mdays & (1u << d);
    if (!possible)
      return berr_set(err, -EINVAL, "the schedule names no day that exists: it would never run");
  }
  return 0;
}

int
cron_spec_words(const char *line) {
  const char *p = skip_blanks(line);
  if (*p == '@')
    return 1;
  for (int i = 0; i < 5; i++) {
    p = skip_blanks(p);
    const char *e = word_end(p);
    if (e == p)
      return 0;
    for (const char *c = p; c < e; c++)
      if (!isalnum((unsigned char)*c) && !strchr("*,-/", *c))
        return 0;
    p = e;
  }
  return 5;
}

static bool
day_matches(const struct cron_spec *s, const struct tm *f) {
  bool md = s->mdays & (1u << f->tm_mday), wd = s->wdays & (1u << f->tm_wday);
  if (s->mday_any && s->wday_any)
    return true;
  if (s->mday_any)
    return wd;
  if (s->wday_any)
    return md;
  return md || wd;
}

/* The real time of wall-clock time f, the earliest after `after` if the
 * autumn change makes it happen twice, an hour on if spring skips it. */
static int64_t
local_to_real(const struct tm *f, int64_t after) {
  int64_t best = 0;
  for (int dst = 0; dst <= 1; dst++) {
    struct tm t = *f;
    t.tm_isdst = dst;
    time_t r = mktime(&t);
    if (r == (time_t)-1)
      continue;
    struct tm back;
    localtime_r(&r, &back);
    if (back.tm_hour != f->tm_hour || back.tm_min != f->tm_min || back.tm_mday != f->tm_mday)
      continue; /* not this wall time in that half of the year */
    if (r > after && (best == 0 || r < best))
      best = r;
  }
  if (best)
    return best;
  /* In the spring gap: read with the offset before the change, which is
   * the wall time an hour on. */
  struct tm t = *f;
  t.tm_isdst = 0;
  time_t r = mktime(&t);
  return r == (time_t)-1 ? 0 : (int64_t)r;
}

int64_t
cron_next(const struct cron_spec *s, int64_t after) {
  time_t a = (time_t)after;
  struct tm lt;
  if (!localtime_r(&a, &lt))
    return 0;
  int start_year = lt.tm_year;
  lt.tm_sec = 0;
  lt.tm_isdst = 0;
  time_t wall = timegm(&lt) + 60; /* the wall clock's next minute */
  for (;;) {
    struct tm f;
    gmtime_r(&wall, &f);
    if (f.tm_year > start_year + 10)
      return 0;
    if (!(s->months & (1u << (f.tm_mon + 1)))) {
      f.tm_mon++;
      f.tm_mday = 1;
      f.tm_hour = f.tm_min = 0;
    } else if (!day_matches(s, &f)) {
      f.tm_mday++;
      f.tm_hour = f.tm_min = 0;
    } else if (!(s->hours & (1u << f.tm_hour))) {
      f.tm_hour++;
      f.tm_min = 0;
    } else if (!(s->minutes & (1ull << f.tm_min))) {
      f.tm_min++;
    } else {
      int64_t real = local_to_real(&f, after);
      if (real > after)
        return real;
      f.tm_min++; /* that wall time is past in real time (the repeated hour) */
    }
    wall = timegm(&f);
  }
}
