/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <time.h>

void
fmt_time(int64_t t, char *buf, size_t len) {
  if (t <= 0) {
    snprintf(buf, len, "-");
    return;
  }
  time_t tt = (time_t)t;
  struct tm tm;
  localtime_r(&tt, &tm);
  strftime(buf, len, "%a %b %e %H:%M:%S %Y", &tm);
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
