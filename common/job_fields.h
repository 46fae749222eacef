/* SPDX-License-Identifier: MIT */
/* One description of a job record's fields. Every place that maps a job
 * record expands these lists instead of naming each field again: the
 * struct (job.h), the wire encoder and decoder (job.c), and boxqd's
 * database reader and usage writer (scheduler/db.c). A field added here
 * is carried everywhere at once; only its presentation (cli/jobfields.c)
 * and the columns a change writes are chosen by hand.
 *
 * JOB_FIELDS(X): X(member, kind, tag, column, wire)
 *   kind   I64 (int64_t), INT (int), BOOL (bool), STATE (int: a PBS state
 *          letter, one character in the database), STR (char *; NULL and
 *          "" kept apart), STRN (char *; "" in the database reads as NULL)
 *   column its expression in the job row's SELECT ("j." the jobs table)
 *   wire   ALWAYS, or NONZERO: sent only when not 0 (absent reads as 0)
 * JOB_STAT_FIELDS(X): the same, for fields no table stores (computed by
 *   boxqd for its replies); their column is unused.
 * JOB_USAGE_FIELDS(X): X(member, kind, tag) of struct job_usage; each is
 *   stored in the job_usage column of its member's name.
 *
 * By hand, beside the lists: the environment and the script (their own
 * encodings, read only by the full queries), the supplementary groups (a
 * list), the exit status (present or not: has_exit), the usage's presence
 * (has_usage) and its cgroup backend (a fixed array). */
#pragma once

#define JOB_FIELDS(X)                                                                              \
  X(id, I64, J_ID, "j.id", ALWAYS)                                                                 \
  X(uid, I64, J_UID, "j.owner_uid", ALWAYS)                                                        \
  X(gid, I64, J_GID, "j.owner_gid", ALWAYS)                                                        \
  X(owner, STR, J_OWNER, "j.owner", ALWAYS)                                                        \
  X(name, STR, J_NAME, "j.name", ALWAYS)                                                           \
  X(queue, STR, J_QUEUE, "j.queue", ALWAYS)                                                        \
  X(submit_host, STR, J_SUBMIT_HOST, "j.submit_host", ALWAYS)                                      \
  X(state, STATE, J_STATE, "j.state", ALWAYS)                                                      \
  X(end_reason, INT, J_END_REASON, "j.end_reason", ALWAYS)                                         \
  X(priority, I64, J_PRIORITY, "j.priority", ALWAYS)                                               \
  X(workdir, STR, J_WORKDIR, "j.workdir", ALWAYS)                                                  \
  X(out_path, STR, J_OUT_PATH, "j.out_path", ALWAYS)                                               \
  X(err_path, STR, J_ERR_PATH, "j.err_path", ALWAYS)                                               \
  X(join, INT, J_JOIN, "j.join_oe", ALWAYS)                                                        \
  X(ncpus, I64, J_NCPUS, "j.ncpus", ALWAYS)                                                        \
  X(mem, I64, J_MEM, "j.mem", ALWAYS)                                                              \
  X(walltime, I64, J_WALLTIME, "j.walltime", ALWAYS)                                               \
  X(pids, I64, J_PIDS, "j.pids", ALWAYS)                                                           \
  X(net, STR, J_NET, "j.net", ALWAYS)                                                              \
  X(cpus, STR, J_CPUS, "j.cpus", ALWAYS)                                                           \
  X(rerunnable, BOOL, J_RERUNNABLE, "j.rerunnable", ALWAYS)                                        \
  X(array_id, I64, J_ARRAY_ID, "j.array_id", NONZERO)                                              \
  X(array_index, I64, J_ARRAY_INDEX, "j.array_index", NONZERO)                                     \
  X(array_spec, STRN, J_ARRAY_SPEC, "j.array_spec", ALWAYS)                                        \
  X(array_limit, I64, J_ARRAY_LIMIT, "j.array_limit", NONZERO)                                     \
  X(depend, STRN, J_DEPEND, "j.depend", ALWAYS)                                                    \
  X(exec_time, I64, J_EXEC_TIME, "j.exec_time", NONZERO)                                           \
  X(pruned, BOOL, J_PRUNED, "j.pruned", NONZERO)                                                   \
  X(run_count, I64, J_RUN_COUNT, "j.run_count", ALWAYS)                                            \
  X(ctime, I64, J_CTIME, "j.ctime", ALWAYS)                                                        \
  X(qtime, I64, J_QTIME, "j.qtime", ALWAYS)                                                        \
  X(stime, I64, J_STIME, "j.stime", ALWAYS)                                                        \
  X(etime, I64, J_ETIME, "j.etime", ALWAYS)                                                        \
  X(mtime, I64, J_MTIME, "j.mtime", ALWAYS)                                                        \
  X(comment, STR, J_COMMENT, "j.comment", ALWAYS)                                                  \
  X(exec_host, STR, J_EXEC_HOST, "j.exec_host", ALWAYS)                                            \
  X(cgroup, STR, J_CGROUP, "j.cgroup", ALWAYS)                                                     \
  X(hold_types, STR, J_HOLD_TYPES, "j.hold_types", ALWAYS)

#define JOB_STAT_FIELDS(X)                                                                         \
  X(sched_info, STR, J_SCHED_INFO, "", ALWAYS)                                                     \
  X(array_counts, STR, J_ARRAY_COUNTS, "", ALWAYS)

#define JOB_USAGE_FIELDS(X)                                                                        \
  X(cpu_usec, I64, U_CPU_USEC)                                                                     \
  X(user_usec, I64, U_USER_USEC)                                                                   \
  X(sys_usec, I64, U_SYS_USEC)                                                                     \
  X(mem_peak, I64, U_MEM_PEAK)                                                                     \
  X(mem_peak_src, I64, U_MEM_PEAK_SRC)                                                             \
  X(oom_kills, I64, U_OOM_KILLS)                                                                   \
  X(nr_throttled, I64, U_NR_THROTTLED)                                                             \
  X(throttled_usec, I64, U_THROTTLED_USEC)                                                         \
  X(pids_peak, I64, U_PIDS_PEAK)                                                                   \
  X(io_rbytes, I64, U_IO_RBYTES)                                                                   \
  X(io_wbytes, I64, U_IO_WBYTES)                                                                   \
  X(wall_usec, I64, U_WALL_USEC)                                                                   \
  X(ru_utime_usec, I64, U_RU_UTIME_USEC)                                                           \
  X(ru_stime_usec, I64, U_RU_STIME_USEC)                                                           \
  X(ru_maxrss_kb, I64, U_RU_MAXRSS_KB)                                                             \
  X(oom_events, I64, U_OOM_EVENTS)                                                                 \
  X(mem_max_events, I64, U_MEM_MAX_EVENTS)                                                         \
  X(swap_peak, I64, U_SWAP_PEAK)                                                                   \
  X(final, BOOL, U_FINAL)

/* The C type of each kind. */
#define JOB_CTYPE_I64   int64_t
#define JOB_CTYPE_INT   int
#define JOB_CTYPE_BOOL  bool
#define JOB_CTYPE_STATE int
#define JOB_CTYPE_STR   char *
#define JOB_CTYPE_STRN  char *

/* A job row's columns, in the order the lists give them. */
#define JOB_FIELD_COLUMN_(member, kind, tag, column, wire) column ", "
#define JOB_USAGE_COLUMN_(member, kind, tag)               "u." #member ", "
