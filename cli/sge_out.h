/* SPDX-License-Identifier: MIT */
/* The commands under the sge dialect, in Grid Engine's own forms: qstat
 * (its table, -j, -xml; qstat_sge.c), qacct (-j records and usage sums;
 * qacct_sge.c), qdel/qhold/qrls/qmod (sge_ctl.c), for the people and
 * tools written against it. */
#pragma once

#include "cli.h"

int qstat_sge(struct cli_ctx *ctx, int argc, char **argv);
int qacct_sge(struct cli_ctx *ctx, int argc, char **argv);

enum sge_action { SGE_DELETE, SGE_HOLD, SGE_RELEASE, SGE_SUSPEND, SGE_RESUME };
/* qdel, qhold, qrls, qmod -sj/-usj over Grid Engine's job lists (argv[0]
 * the verb or option, then the words). */
int sge_job_control(struct cli_ctx *ctx, enum sge_action action, int argc, char **argv);

/* sge_submit.c: an array's first and last index and its step, as Grid
 * Engine gives them (SGE_TASK_FIRST, "ID.1-10:2"); untouched for no
 * array. */
void sge_array_bounds(const char *spec, int64_t *first, int64_t *last, int64_t *step);
/* Whether words hold an option only Grid Engine's qsub has (a hint under
 * another dialect). */
bool sge_words(int argc, char *const *argv);
struct qsub_opts;
/* "Your job 12 ("name") has been submitted", or the id alone (-terse). */
void sge_submitted(const struct qsub_opts *o, const struct job_rec *j, int64_t id);
/* qsub -sync y's last words; returns the exit status qsub gives. */
int sge_report_end(const struct job_rec *j, const char *idstr);

/* A "label value" line as Grid Engine prints its records: the label
 * left in width columns (width - 1 of it at most), the value left in
 * value_width. */
void sge_kv(const char *label, int width, int value_width, const char *value);
void sge_kv_i64(const char *label, int width, int value_width, int64_t v);
/* Grid Engine's memory figure: "1.500G", "12.000M", "512.000K", "100.000". */
void sge_fmt_mem(double bytes, char *buf, size_t len);
/* Grid Engine's durations: "HH:MM:SS", or "D:HH:MM:SS" past a day. */
void sge_fmt_duration(int64_t seconds, char *buf, size_t len);
/* The number Grid Engine knows a job by: an array's task, its array's. */
int64_t sge_job_number(const struct job_rec *j);
/* Whether a word names a job by number ("123", "123.server"), not by
 * name or pattern. */
bool sge_is_number(const char *s);
