/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <time.h>

void
fmt_time_as(int64_t t, const char *format, char *buf, size_t len) {
  if (t <= 0) {
    snprintf(buf, len, "-");
    return;
  }
  time_t tt = (time_t)t;
  struct tm tm;
  localtime_r(&tt, &tm);
  strftime(buf, len, format, &tm);
}

void
fmt_time(int64_t t, char *buf, size_t len) {
  fmt_time_as(t, "%a %b %e %H:%M:%S %Y", buf, len);
}

void
fmt_hms_usec(int64_t usec, char *buf, size_t len) {
  int64_t s = usec / 1000000;
  if (s < 0)
    s = 0;
  snprintf(buf, len, "%02lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
           (long long)(s % 60));
}

const char *
fmt_mem_src(int64_t src) {
  switch (src) {
    case MEM_PEAK_KERNEL:
      return "kernel";
    case MEM_PEAK_SAMPLED:
      return "sampled";
    case MEM_PEAK_RUSAGE:
      return "rusage";
    default:
      return "none";
  }
}

/* Characters (not bytes) in s: UTF-8 continuation bytes do not count. */
size_t
fmt_text_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xc0) != 0x80;
  return n;
}

/* s after its first n characters. */
const char *
fmt_text_skip(const char *s, size_t n) {
  while (*s && n > 0) {
    s++;
    while (((unsigned char)*s & 0xc0) == 0x80)
      s++;
    n--;
  }
  return s;
}

/* printf's %-W.Ws (or %W.Ws) counted in characters, so that a name with
 * non-ASCII letters neither loses half a letter nor shifts the columns. */
void
fmt_put_text(const char *s, int width, bool left) {
  const char *end = fmt_text_skip(s, (size_t)width);
  int shown = (int)fmt_text_chars(s) < width ? (int)fmt_text_chars(s) : width;
  if (!left)
    printf("%*s", width - shown, "");
  fwrite(s, 1, (size_t)(end - s), stdout);
  if (left)
    printf("%*s", width - shown, "");
}
