/* SPDX-License-Identifier: MIT */
/* A job's CPU and memory over its run, for plots: a bounded series of
 * usage samples (the shepherd's, sent with its snapshots and its result),
 * kept evenly spread however long the job runs. The run is cut into at
 * most SERIES_MAX buckets of equal width (a power of two seconds, doubled
 * as the run grows) and each bucket keeps its latest sample, so the last
 * point is always the newest (an OOM-killed job's series ends at its
 * kill). */
#pragma once

#include "proto.h"

#include <stddef.h>
#include <stdint.h>

#define SERIES_MAX 256

struct series_point {
  int64_t t_usec;   /* since the job started (its wall time then) */
  int64_t cpu_usec; /* CPU time used so far */
  int64_t mem;      /* memory in use then, bytes; -1: unknown */
  int64_t mem_peak; /* the most used so far, bytes */
};

/* Bytes one point takes in a stored series (four host-order int64). */
#define SERIES_POINT_BYTES 32

/* Adds p to the n points of pts (room for SERIES_MAX), thinning the older
 * ones to the bucket width p's time calls for. A point older than the
 * last is dropped. Returns the new count. */
size_t series_add(struct series_point *pts, size_t n, const struct series_point *p);
/* The bucket width, in microseconds, for a run t_usec long. */
int64_t series_width_usec(int64_t t_usec);
/* A stored series: len bytes into at most SERIES_MAX points. -EBADMSG if
 * len is not a whole number of points or holds too many. */
int series_decode(const void *blob, size_t len, struct series_point *pts, size_t *ret_n);
/* n points into buf (n * SERIES_POINT_BYTES bytes). */
void series_encode(const struct series_point *pts, size_t n, void *buf);
/* On the wire: n points as a T_SERIES field of b; and the T_SERIES of m
 * decoded (1; 0 with *ret_n 0 if m has none; -EBADMSG if malformed). */
void pb_series(struct pbuf *b, const struct series_point *pts, size_t n);
int pmsg_series(const struct pmsg *m, struct series_point *pts, size_t *ret_n);
