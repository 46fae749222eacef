/* SPDX-License-Identifier: MIT */
/* Resource values as PBS writes them: sizes ("256mb", "1.5gb"), durations
 * ("01:30:00", "90", "1:00:00:00") and resource lists ("ncpus=2,mem=1gb"). */
#pragma once

#include "util.h"

#include <stdint.h>

/* Largest size boxq accepts: 1 EiB keeps every product below INT64_MAX. */
#define RES_SIZE_MAX (INT64_C(1) << 60)
/* Largest duration: 100 years in seconds. */
#define RES_DURATION_MAX (INT64_C(100) * 366 * 24 * 3600)
#define RES_NCPUS_MAX    4096

/* PBS size: integer or decimal, optional unit b kb mb gb tb pb (powers of
 * 1024, case-insensitive, trailing "w" for words of 8 bytes). */
int res_parse_size(const char *s, int64_t *ret_bytes, struct berr *err);
/* [[[DD:]HH:]MM:]SS, each part a whole number; or plain seconds. */
int res_parse_duration(const char *s, int64_t *ret_seconds, struct berr *err);
int res_parse_ncpus(const char *s, int64_t *ret, struct berr *err);

/* "256mb", "1gb", "1536kb": the largest unit that divides exactly. */
void res_format_size(int64_t bytes, char *buf, size_t len);
/* "HH:MM:SS" (hours grow beyond 99 as needed). */
void res_format_duration(int64_t seconds, char *buf, size_t len);

/* The resources a job asks for; 0 means "not given". */
#define RES_PIDS_MAX 4194304

struct res_request {
  int64_t ncpus;
  int64_t mem;
  int64_t walltime;
  int64_t pids; /* pids.max */
  int net;      /* 0 unset, 1 host network, 2 none (loopback only) */
};

/* Parses "ncpus=2,mem=1gb,walltime=1:00:00" into req, keeping fields not
 * named. Unknown resources and bad values are errors naming the resource. */
int res_parse_list(const char *list, struct res_request *req, struct berr *err);
