/* SPDX-License-Identifier: MIT */
#include "series.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

int64_t
series_width_usec(int64_t t_usec) {
  int64_t w = 1000000;
  while (t_usec >= 0 && t_usec / w >= SERIES_MAX)
    w *= 2;
  return w;
}

size_t
series_add(struct series_point *pts, size_t n, const struct series_point *p) {
  if (n > SERIES_MAX)
    n = SERIES_MAX;
  if (p->t_usec < 0 || (n > 0 && p->t_usec < pts[n - 1].t_usec))
    return n;
  int64_t w = series_width_usec(p->t_usec);
  /* Each bucket keeps its latest point: walk back to front. */
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    bool last_of_bucket = i + 1 == n || pts[i + 1].t_usec / w != pts[i].t_usec / w;
    if (last_of_bucket)
      pts[kept++] = pts[i];
  }
  if (kept > 0 && pts[kept - 1].t_usec / w == p->t_usec / w)
    kept--; /* the new point replaces its bucket's */
  pts[kept++] = *p;
  return kept;
}

int
series_decode(const void *blob, size_t len, struct series_point *pts, size_t *ret_n) {
  if (len % SERIES_POINT_BYTES != 0 || len / SERIES_POINT_BYTES > SERIES_MAX)
    return -EBADMSG;
  size_t n = len / SERIES_POINT_BYTES;
  const unsigned char *b = blob;
  for (size_t i = 0; i < n; i++) {
    int64_t v[4];
    memcpy(v, b + i * SERIES_POINT_BYTES, sizeof(v));
    pts[i] = (struct series_point){v[0], v[1], v[2], v[3]};
  }
  *ret_n = n;
  return 0;
}

void
pb_series(struct pbuf *b, const struct series_point *pts, size_t n) {
  unsigned char blob[SERIES_MAX * SERIES_POINT_BYTES];
  if (n > SERIES_MAX)
    n = SERIES_MAX;
  series_encode(pts, n, blob);
  pb_bytes(b, T_SERIES, blob, n * SERIES_POINT_BYTES);
}

int
pmsg_series(const struct pmsg *m, struct series_point *pts, size_t *ret_n) {
  *ret_n = 0;
  struct pfield f;
  if (!pmsg_find(m, T_SERIES, &f))
    return 0;
  int r = series_decode(f.data, f.len, pts, ret_n);
  return r < 0 ? r : 1;
}

void
series_encode(const struct series_point *pts, size_t n, void *buf) {
  unsigned char *b = buf;
  for (size_t i = 0; i < n; i++) {
    int64_t v[4] = {pts[i].t_usec, pts[i].cpu_usec, pts[i].mem, pts[i].mem_peak};
    memcpy(b + i * SERIES_POINT_BYTES, v, sizeof(v));
  }
}
