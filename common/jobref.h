/* SPDX-License-Identifier: MIT */
/* How users name jobs and relations between them, as PBS writes them:
 * job ids ("123", "123.server", "123[]", "123[7]"), array ranges
 * ("1-100:2%5") and dependency lists ("afterok:12:13,afterany:14[]").
 * Pure parsing, shared by the CLI (early errors) and boxqd (the rule). */
#pragma once

#include "util.h"

#include <stdint.h>

enum job_ref_kind {
  REF_JOB,   /* "123": a job, or an array job as a whole */
  REF_ARRAY, /* "123[]": an array job as a whole */
  REF_TASK,  /* "123[7]": one task of an array */
};

struct job_ref {
  int64_t id;
  enum job_ref_kind kind;
  int64_t index; /* REF_TASK */
};

/* Accepts an optional ".server" suffix. */
int job_ref_parse(const char *s, struct job_ref *ret, struct berr *err);
/* "123", "123[]" or "123[7]". */
void job_ref_format(const struct job_ref *ref, char *buf, size_t len);

/* Largest number of tasks one array may have. */
#define JOB_ARRAY_MAX 1000000

struct job_array_range {
  int64_t first, last, step;
  int64_t limit; /* %N: tasks running at once; 0 = no cap */
};

/* "1-100", "1-100:2", "1-100%5", "1-100:2%5", "7". Indexes from 0 to
 * JOB_ARRAY_MAX - 1, first <= last, step >= 1. */
int job_array_parse(const char *spec, struct job_array_range *ret, struct berr *err);
int64_t job_array_count(const struct job_array_range *r);
/* Torque's lists (-t): "1,3,5-7", "0-8:2,20%4" (%MAX once, at the end):
 * ranges ascending and apart. *ret allocated, *ret_n ranges, each with
 * the limit; *ret_count the indexes in all. */
int job_array_parse_list(const char *spec, struct job_array_range **ret, size_t *ret_n,
                         int64_t *ret_count, struct berr *err);
/* The list in normalized form ("1,3,5-7"; the limit apart). Allocated. */
char *job_array_format_list(const struct job_array_range *r, size_t n);
/* "1-100:2" without the limit. */
void job_array_format(const struct job_array_range *r, char *buf, size_t len);

/* aftercorr (Slurm's) and aftercorr_any (Grid Engine's -hold_jid_ad):
 * each task of an array waits for the task of the same index of another
 * array, to complete (exit 0) or to end at all. */
enum dep_kind {
  DEP_AFTER,
  DEP_AFTEROK,
  DEP_AFTERNOTOK,
  DEP_AFTERANY,
  DEP_AFTERCORR,
  DEP_AFTERCORR_ANY,
  DEP_KIND_MAX
};
/* A task-by-task kind: its dependencies are stored on the tasks. */
static inline bool
dep_kind_per_task(enum dep_kind k) {
  return k == DEP_AFTERCORR || k == DEP_AFTERCORR_ANY;
}

const char *dep_kind_name(enum dep_kind k);

struct job_dep {
  enum dep_kind kind;
  struct job_ref ref;
};

/* Most jobs one job may depend on. */
#define JOB_DEPS_MAX 128

/* "afterok:12:13,afterany:14[]" into a list (allocated, *ret_n entries).
 * Ids may also be separated by blanks ("afterok:12 13", as Snakemake fills
 * in {dependencies}); "afterok:" names none: *ret_n may be 0 (*ret NULL). */
int job_depend_parse(const char *s, struct job_dep **ret, size_t *ret_n, struct berr *err);
/* The normalized text of a list: kinds grouped in the order given. */
char *job_depend_format(const struct job_dep *deps, size_t n);
