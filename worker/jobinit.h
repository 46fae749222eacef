/* SPDX-License-Identifier: MIT */
/* What the launch (launch.c) hands boxq-init (init.c), the PID 1 of every
 * job, when it execs it: the job's main process id as argv[1] (decimal),
 * the status pipe's write end as descriptor JOBINIT_STATUS_FD, SIGCHLD and
 * the forwarded signals blocked (a PID 1 drops the signals it neither
 * handles nor blocks), and a parent-death signal of SIGKILL. */
#pragma once

#include <signal.h>

#define JOBINIT_STATUS_FD 3

/* Signals init passes on to every process of the job (qsig, qdel's
 * SIGTERM, walltime's SIGTERM). */
#define JOBINIT_FORWARDED_SIGNALS SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT, SIGALRM
