/* SPDX-License-Identifier: MIT */
/* Grid Engine's qsub language: its options (whole words: -cwd, -pe smp 4,
 * -l h_vmem=2G,h_rt=1:00:00) and its #$ directives, read into the same
 * struct qsub_opts as PBS's, so that one submission path serves both.
 * Pure but for qsub_sge_finish's $HOME. */
#pragma once

#include "qsub_opts.h"

/* Whether a script's directives are Grid Engine's: it has #$ lines and
 * no #PBS ones (read so whatever the dialect). */
bool qsub_sge_script(const char *script, size_t len);

/* As qsub_parse_args, for Grid Engine's options; sets o->sge. */
int qsub_sge_parse_args(struct qsub_opts *o, int argc, char *const *argv, bool allow_operands,
                        int *ret_index, struct berr *err);

/* Grid Engine reads directives anywhere in the script: every line that
 * begins with prefix ("#$"), up to a '#' that starts a comment. Errors are
 * "NAME:LINE: ...". */
int qsub_sge_parse_directives(struct qsub_opts *o, const char *script, size_t len, const char *name,
                              const char *prefix, struct berr *err);

/* After the merge, what Grid Engine's options mean together: the job runs
 * in $HOME unless -cwd or -wd, memory per slot times the slots, -tc as
 * the array's limit, -sync y, $HOME/$USER/$HOSTNAME in -o/-e. */
int qsub_sge_finish(struct qsub_opts *o, struct berr *err);

/* Grid Engine's sizes: a number with K, M, G or T (powers of 1024) or k,
 * m, g, t (powers of 1000); plain bytes otherwise. */
int qsub_sge_parse_size(const char *s, int64_t *ret, struct berr *err);
