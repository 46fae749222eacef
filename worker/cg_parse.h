/* SPDX-License-Identifier: MIT */
/* Pure parsers for cgroup and /proc files: they take the file's text, so
 * tests run them over recorded v1 and v2 files without root. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Finds "key value" in a flat-keyed file (cpu.stat, memory.events,
 * cpuacct.stat, memory.oom_control, pids.events). -ENOENT if absent. */
int cg_parse_keyed(const char *text, const char *key, int64_t *ret);
/* A file holding one number, or "max" (ret = -1 then). */
int cg_parse_single(const char *text, int64_t *ret);
/* Sums rbytes= and wbytes= over all devices of a v2 io.stat. */
int cg_parse_io_stat(const char *text, int64_t *ret_rbytes, int64_t *ret_wbytes);
/* From /proc/PID/cgroup text: the v2 path (the "0::" line) into buf, or the
 * path of a v1 controller when controller is non-NULL. -ENOENT if absent. */
int cg_parse_proc_cgroup(const char *text, const char *controller, char *buf, size_t len);
/* True if a whitespace-separated list (cgroup.controllers) holds name. */
bool cg_list_has(const char *list, const char *name);
/* "populated 0|1" of cgroup.events. */
int cg_parse_populated(const char *text, bool *ret);
