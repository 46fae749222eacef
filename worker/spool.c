/* SPDX-License-Identifier: MIT */
#include "spool.h"
#include "rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int
spool_write_result(const char *jobdir, const struct job_rec *end, const struct series_point *series,
                   size_t n) {
  struct pbuf b = {0};
  pb_begin(&b, MSG_ENDED);
  size_t mark = pb_nest_begin(&b, T_JOB);
  job_rec_encode(&b, end);
  pb_nest_end(&b, mark);
  if (n > 0)
    pb_series(&b, series, n);
  pb_end(&b);
  _cleanup_free_ char *path = xasprintf("%s/%s", jobdir, SPOOL_RESULT);
  /* The result is the job's record until boxqd has stored it: durable. */
  int r = write_file_atomic(path, b.data, b.len, 0600, true);
  pbuf_free(&b);
  return r;
}

int
spool_write_pid(const char *jobdir, pid_t pid, uint64_t start) {
  char text[64];
  int n = snprintf(text, sizeof(text), "%d %llu\n", (int)pid, (unsigned long long)start);
  _cleanup_free_ char *path = xasprintf("%s/%s", jobdir, SPOOL_PID);
  /* One small write: a worker killed meanwhile leaves all or nothing. */
  return write_file_direct(path, text, (size_t)n, 0600);
}

pid_t
spool_find_shepherd(const char *jobdir) {
  _cleanup_free_ char *path = xasprintf("%s/%s", jobdir, SPOOL_PID), *text = NULL;
  if (read_file_at(AT_FDCWD, path, 64, &text, NULL) < 0)
    return 0;
  int pid = 0;
  unsigned long long start = 0;
  uint64_t now_start = 0;
  if (sscanf(text, "%d %llu", &pid, &start) != 2 || pid <= 0)
    return 0;
  if (proc_stat_fields(pid, 22, 1, &now_start) < 0 || now_start != start)
    return 0;
  return pid;
}

int
spool_read(const char *jobdir, const char *name, uint8_t **ret_data, size_t *ret_len) {
  _cleanup_free_ char *path = xasprintf("%s/%s", jobdir, name);
  char *data;
  int r = read_file_at(AT_FDCWD, path, PROTO_HDR_SIZE + PROTO_MAX_PAYLOAD, &data, ret_len);
  if (r == 0)
    *ret_data = (uint8_t *)data;
  return r;
}

int
spool_remove(const char *jobdir) {
  /* Whatever is there: the files above, a .tmp left by a crash mid-write,
   * or what an older worker wrote. */
  return rmtree_at(AT_FDCWD, jobdir);
}
