/* SPDX-License-Identifier: MIT */
/* Slurm's sbatch language: its options (-J name, --cpus-per-task=4,
 * --mem=8G, -t 1-12:00:00) and #SBATCH lines, read into the same struct
 * qsub_opts as PBS's and Grid Engine's, so that one submission path
 * serves all. Pure but for the clock (--begin) and the environment
 * (--export). */
#pragma once

#include "qsub_opts.h"

/* Whether a script has #SBATCH lines (read as Slurm's then, whatever the
 * command, unless it has #PBS ones and the command is qsub). */
bool slurm_script(const char *script, size_t len);

/* As qsub_parse_args, for sbatch's options; sets o->slurm. */
int slurm_parse_args(struct qsub_opts *o, int argc, char *const *argv, bool allow_operands,
                     int *ret_index, struct berr *err);

/* sbatch reads #SBATCH lines up to the first command, as Slurm does.
 * Errors are "NAME:LINE: ...". */
int slurm_parse_directives(struct qsub_opts *o, const char *script, size_t len, const char *name,
                           struct berr *err);

/* After the merge: CPUs (tasks times CPUs per task), memory per CPU
 * times the CPUs, Slurm's default output (slurm-%j.out, stderr joined),
 * --wait, --signal against the walltime. */
int slurm_finish(struct qsub_opts *o, struct berr *err);

/* Slurm's times: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS;
 * "0", "infinite" and "unlimited" are no limit (0). */
int slurm_parse_time(const char *s, int64_t *ret_seconds, struct berr *err);
/* Slurm's sizes: a number with K, M, G or T (1024s); plain is megabytes. */
int slurm_parse_mem(const char *s, int64_t *ret_bytes, struct berr *err);
/* --begin: now[{+|-}N[seconds|minutes|hours|days|weeks]], HH:MM[:SS],
 * YYYY-MM-DD[THH:MM[:SS]], midnight, noon, teatime, today, tomorrow. */
int slurm_parse_begin(const char *s, int64_t now, int64_t *ret, struct berr *err);
