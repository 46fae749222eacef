/* SPDX-License-Identifier: MIT */
/* Slurm's commands over boxq's queue: squeue, sacct, scancel, scontrol,
 * sinfo (their files), and the words and forms they share (slurm_fmt.c):
 * Slurm's job ids, states, exit codes, times and sizes. */
#pragma once

#include "cli.h"
#include "jobs_fetch.h"

int cmd_squeue(struct cli_ctx *ctx, int argc, char **argv);
int cmd_sacct(struct cli_ctx *ctx, int argc, char **argv);
int cmd_scancel(struct cli_ctx *ctx, int argc, char **argv);
int cmd_scontrol(struct cli_ctx *ctx, int argc, char **argv);
int cmd_sinfo(struct cli_ctx *ctx, int argc, char **argv);
int cmd_srun(struct cli_ctx *ctx, int argc, char **argv);

/* "12", or "12_3" for an array's task. */
void slurm_job_id(const struct job_rec *j, char *buf, size_t len);
/* PENDING, RUNNING, SUSPENDED, COMPLETING, COMPLETED, FAILED, CANCELLED,
 * TIMEOUT, OUT_OF_MEMORY, NODE_FAIL; compact: PD R S CG CD F CA TO OOM NF. */
const char *slurm_state(const struct job_rec *j, bool compact);
/* Whether a state name or compact name (any case) is j's. */
bool slurm_state_is(const struct job_rec *j, const char *name);
/* A filter of -u, -p, --name: no list passes all; else s must be in it. */
bool slurm_listed(const char *list, const char *s);
/* Whether j's state is one of a comma-separated list of state names. */
bool slurm_states_match(const char *list, const struct job_rec *j);
/* A pending job's reason: Priority, Dependency, JobHeldUser, BeginTime. */
const char *slurm_reason(const struct job_rec *j);
/* ExitCode: "N:S", the exit status and the signal that ended it. */
void slurm_exit_code(const struct job_rec *j, char *buf, size_t len);
/* squeue's times: M:SS, H:MM:SS, D-HH:MM:SS. */
void slurm_secs(int64_t s, char *buf, size_t len);
/* sacct's: HH:MM:SS, D-HH:MM:SS; UNLIMITED for a limit of 0 if unlimited. */
void slurm_hms(int64_t s, char *buf, size_t len);
/* TotalCPU: MM:SS.mmm under an hour, else as slurm_hms. */
void slurm_cpu_time(int64_t usec, char *buf, size_t len);
/* "2026-12-07T10:53:35", or "Unknown" for no time. */
void slurm_date(int64_t t, char *buf, size_t len);
/* Sizes as Slurm prints them: K, M, G, T when exact ("4G", "51200K"). */
void slurm_size(int64_t bytes, char *buf, size_t len);
/* The seconds a job has run so far (suspended time not counted). */
int64_t slurm_elapsed(const struct job_rec *j);
/* Slurm's ids on the command line: "12", "12_3", "12_[1-3]" to boxq's
 * ("12", "12[3]", "12[]"); NULL and an error said when malformed. */
char *slurm_to_boxq_id(struct cli_ctx *ctx, const char *id);
