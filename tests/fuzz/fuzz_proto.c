/* SPDX-License-Identifier: MIT */
/* The wire decoder: any byte stream, fed in pieces, must yield well-formed
 * messages or a clean error, and job records and usage series (a
 * T_SERIES field) must decode or be refused. */
#include "job.h"
#include "proto.h"
#include "series.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
walk(const struct pmsg *m, int depth) {
  size_t off = 0;
  struct pfield f;
  while (pmsg_next(m, &off, &f)) {
    int64_t v;
    (void)pfield_str(&f);
    (void)pfield_i64(&f, &v);
    struct series_point pts[SERIES_MAX];
    size_t n;
    (void)series_decode(f.data, f.len, pts, &n);
    struct pmsg sub;
    if (depth < 3 && pmsg_sub(&f, &sub) == 0) {
      struct job_rec j;
      if (job_rec_decode(&sub, &j) == 0)
        job_rec_free(&j);
      walk(&sub, depth + 1);
    }
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct pframer fr = {0};
  /* The first byte decides the chunking, like reads of varying sizes. */
  size_t step = size ? (size_t)data[0] % 64 + 1 : 1;
  for (size_t off = 0; off < size; off += step) {
    size_t n = size - off < step ? size - off : step;
    if (pframer_feed(&fr, data + off, n) < 0)
      break;
    struct pmsg m;
    size_t flen;
    int r;
    while ((r = pframer_next(&fr, &m, &flen)) == 1) {
      walk(&m, 0);
      struct job_rec j;
      if (job_rec_decode(&m, &j) == 0)
        job_rec_free(&j);
      pframer_consume(&fr, flen);
    }
    if (r < 0)
      break;
  }
  pframer_free(&fr);
  struct pmsg m;
  if (proto_parse_frame(data, size, &m) == 0)
    walk(&m, 0);
  return 0;
}
