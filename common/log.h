/* SPDX-License-Identifier: MIT */
/* Logging to stderr, one line per event, as systemd expects of a foreground
 * daemon. Library-style modules log at debug level only. */
#pragma once

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_init(const char *program, enum log_level level);
enum log_level log_get_level(void);
void log_set_level(enum log_level level); /* a reloaded configuration's */
int log_level_from_string(const char *s); /* -EINVAL if unknown */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
