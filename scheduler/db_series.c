/* SPDX-License-Identifier: MIT */
/* A job's usage series (schema 021, common/series.h): one blob a job,
 * read, extended and written back as each sample arrives. */
#include "db_internal.h"

#include <string.h>

struct series_read {
  struct series_point *pts;
  size_t *n;
};

static int
series_row(sqlite3_stmt *s, void *ud) {
  struct series_read *sr = ud;
  const void *blob = sqlite3_column_blob(s, 0);
  size_t len = (size_t)sqlite3_column_bytes(s, 0);
  /* A damaged series is dropped, never a reason to refuse a sample. */
  if (!blob || series_decode(blob, len, sr->pts, sr->n) < 0)
    *sr->n = 0;
  return 1;
}

int
db_series_get(struct db *db, int64_t id, struct series_point *pts, size_t *ret_n) {
  *ret_n = 0;
  sqlite3_stmt *s = db__stmt(db, ST_SERIES_GET);
  sqlite3_bind_int64(s, 1, id);
  struct series_read sr = {pts, ret_n};
  return db__each_row(db, s, series_row, &sr);
}

int
db_series_add(struct db *db, int64_t id, const struct job_usage *u) {
  struct series_point pts[SERIES_MAX];
  size_t n;
  int r = db_series_get(db, id, pts, &n);
  if (r < 0)
    return r;
  struct series_point p = {u->wall_usec, u->cpu_usec, u->mem_now, u->mem_peak};
  n = series_add(pts, n, &p);
  return db_series_put(db, id, pts, n, false);
}

int
db_series_put(struct db *db, int64_t id, const struct series_point *pts, size_t n,
              bool only_if_newer) {
  if (n == 0 || n > SERIES_MAX)
    return -EINVAL;
  if (only_if_newer) {
    struct series_point cur[SERIES_MAX];
    size_t ncur;
    int r = db_series_get(db, id, cur, &ncur);
    if (r < 0 || (ncur > 0 && cur[ncur - 1].t_usec > pts[n - 1].t_usec))
      return r < 0 ? r : 0;
  }
  unsigned char blob[SERIES_MAX * SERIES_POINT_BYTES];
  series_encode(pts, n, blob);
  sqlite3_stmt *s = db__stmt(db, ST_SERIES_PUT);
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_blob(s, 2, blob, (int)(n * SERIES_POINT_BYTES), SQLITE_TRANSIENT);
  return db__step_done(db, s);
}

int
db_series_drop(struct db *db, int64_t id) {
  return db__step_with(db, ST_SERIES_DROP, id);
}
