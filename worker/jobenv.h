/* SPDX-License-Identifier: MIT */
/* The environment a job starts with: built, never inherited from the
 * daemons. Lowest to highest precedence: the user's basics from passwd
 * (HOME, USER, LOGNAME, SHELL, a default PATH), what the submitter sent
 * (qsub -v/-V and PBS_O_*), then PBS's job variables, which a submitter
 * cannot override. */
#pragma once

#include "devices.h"
#include "job.h"

#include <pwd.h>

/* devs: the box's device classes (NULL: none), for the job's devices'
 * variables (CUDA_VISIBLE_DEVICES and the like). */
char **jobenv_build(const struct job_rec *j, const struct passwd *pw, const char *server_name,
                    const struct dev_table *devs);
void jobenv_free(char **env);
/* PBS_NODEFILE's text: this host's name once per CPU of the job (all its
 * nodes merged here). Returns its length; *ret is allocated. */
size_t jobenv_nodefile(const struct job_rec *j, char **ret);
/* Grid Engine's PE_HOSTFILE: "host slots queue@host UNDEFINED". */
size_t jobenv_pe_hostfile(const struct job_rec *j, char **ret);
/* Torque's PBS_GPUFILE: "host-gpuN", one line per GPU the job holds. 0
 * when it holds none. */
size_t jobenv_gpufile(const struct job_rec *j, const struct dev_table *devs, char **ret);
