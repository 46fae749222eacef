/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "boxq";
static enum log_level log_max = LOG_LVL_INFO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void
log_init(const char *program, enum log_level level) {
  log_program = program;
  log_max = level;
}

enum log_level
log_get_level(void) {
  return log_max;
}

int
log_level_from_string(const char *s) {
  for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
    if (strcmp(s, level_names[i]) == 0)
      return i;
  return -EINVAL;
}

void
log_msg(enum log_level level, const char *fmt, ...) {
  if (level > log_max)
    return;
  int saved = errno;
  char line[2048];
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  localtime_r(&ts.tv_sec, &tm);
  int n = snprintf(line, sizeof(line),
                   "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s[%d] %s: ", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   ts.tv_nsec / 1000000, log_program, (int)getpid(), level_names[level]);
  va_list ap;
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof(line))
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
  va_end(ap);
  size_t len = strnlen(line, sizeof(line) - 2);
  line[len++] = '\n';
  /* One write per line so concurrent writers do not interleave. */
  ssize_t r = write(STDERR_FILENO, line, len);
  (void)r;
  errno = saved;
}

void
log_set_level(enum log_level level) {
  if ((int)level >= LOG_LVL_ERROR && level <= LOG_LVL_DEBUG)
    log_max = level;
}
