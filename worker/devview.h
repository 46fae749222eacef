/* SPDX-License-Identifier: MIT */
/* A job's view of the box's devices.
 *
 * jobdev_deny (the shepherd): the character devices a job may not open:
 * every device of every class but those it holds, and the common nodes
 * of the classes it holds none of. Its cgroup refuses them (cgroup.h).
 *
 * devview_build (the job's first process, in its own mount namespace):
 * a private /dev, a tmpfs holding a copy of the host's /dev without those
 * devices: the other entries as they are (nodes made again with their
 * owner and mode, symlinks, directories), the file systems mounted below
 * /dev (pts, shm, mqueue, ...) bound in. It allocates nothing: it runs
 * in the shepherd's memory before the job's exec. */
#pragma once

#include "devices.h"

#include <stddef.h>
#include <sys/types.h>

/* The devices to deny (allocated; *ret NULL when there are none). */
size_t jobdev_deny(const struct dev_table *t, const struct dev_set *held, dev_t **ret);

/* Builds the private /dev; 0, or -errno with *what naming the step. */
int devview_build(const dev_t *hide, size_t nhide, const char **what);
