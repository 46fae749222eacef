/* SPDX-License-Identifier: MIT */
/* qstat's forms under the torque dialect (qstat_torque.c). */
#pragma once

#include "jobfields.h"
#include "jobs_fetch.h"

struct torque_alt {
  bool nodes;    /* -n: the execution host below each job */
  bool one_line; /* -1: on the job's line */
  bool comments; /* -s: the job's comment below it */
  bool srfs;     /* -R: NDS/TSK/memory columns with Torque's SRFS ones */
};

void torque_print_table(const char *server, const struct joblist *l);
void torque_print_alternate(const char *server, const struct joblist *l,
                            const struct torque_alt *o);
void torque_print_full(const char *server, const struct joblist *l);
void torque_print_xml(const char *server, const struct joblist *l);
