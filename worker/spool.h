/* SPDX-License-Identifier: MIT */
/* A job's spool directory, JOBS_DIR/<id>/ (root-only), shared by the worker
 * and the job's shepherd so that either can restart without losing it:
 *   script        the job script (mode 0755: executed through a descriptor)
 *   shepherd.pid  "PID STARTTIME" of the job's shepherd, written by the worker
 *                 before it hands the job over
 *   usage         the usage so far (MSG_USAGE), rewritten while the job runs
 *   result        the final record, written atomically by the shepherd
 *                 (or by the worker for a job whose shepherd vanished) */
#pragma once

#include "job.h"
#include "series.h"

#define SPOOL_SCRIPT "script"
#define SPOOL_PID    "shepherd.pid"
#define SPOOL_RESULT "result"
#define SPOOL_USAGE  "usage"

/* Writes the result frame (MSG_ENDED, one T_JOB) atomically. */
/* The job's result (a MSG_ENDED frame), with its usage series when it has
 * one (n > 0: a T_SERIES field beside the T_JOB). */
int spool_write_result(const char *jobdir, const struct job_rec *end,
                       const struct series_point *series, size_t n);
/* Reads a whole frame file into *ret_data; parse with proto_parse_frame. */
int spool_read(const char *jobdir, const char *name, uint8_t **ret_data, size_t *ret_len);
/* Writes JOBDIR/shepherd.pid naming process pid, which started start
 * clock ticks after boot (field 22 of /proc/PID/stat: with the pid, it
 * names one process for good, never a recycled pid). */
int spool_write_pid(const char *jobdir, pid_t pid, uint64_t start);
/* The pid of JOBDIR's shepherd if it still runs (the pid file's pid with
 * the same start time: not a recycled pid), else 0. */
pid_t spool_find_shepherd(const char *jobdir);
/* Removes the spool directory and its files. */
int spool_remove(const char *jobdir);
