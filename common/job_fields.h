/* SPDX-License-Identifier: MIT */
/* One description of a job record's fields. Every place that maps a job
 * record expands these lists instead of naming each field again: the
 * struct (job.h), the wire encoder and decoder (job.c), and boxqd's
 * database reader, submission INSERT and usage writer (scheduler/db.c). A
 * field added here is carried everywhere at once. Its presentation is a
 * table of its own (cli/jobfields.c: PBS names and formats); the columns a
 * later change writes are chosen by each statement.
 *
 * JOB_FIELDS(X): X(member, kind, tag, column, wire, stored)
 *   kind   I64 (int64_t), INT (int), BOOL (bool), STATE (int: a PBS state
 *          letter, one character in the database), STR (char *; NULL and
 *          "" kept apart), STRN (char *; "" in the database reads as NULL)
 *   column its column in the jobs table
 *   wire   ALWAYS, or NONZERO: sent only when not 0 (absent reads as 0)
 *   stored SUBMIT: written by the submission's INSERT (NULL strings as "");
 *          LATER: set as the job goes on (or, the id, by the database)
 * JOB_STAT_FIELDS(X): the same, for fields no table stores (computed by
 *   boxqd for its replies); their column is unused, stored NONE.
 * JOB_USAGE_FIELDS(X): X(member, kind, tag) of struct job_usage; each is
 *   stored in the job_usage column of its member's name.
 *
 * By hand, beside the lists: the environment and the script (their own
 * encodings, read only by the full queries), the supplementary groups (a
 * list), the exit status (present or not: has_exit), the usage's presence
 * (has_usage) and its cgroup backend (a fixed array). */
#pragma once

#define JOB_FIELDS(X)                                                                              \
  X(id, I64, J_ID, "id", ALWAYS, LATER)                                                            \
  X(uid, I64, J_UID, "owner_uid", ALWAYS, SUBMIT)                                                  \
  X(gid, I64, J_GID, "owner_gid", ALWAYS, SUBMIT)                                                  \
  X(owner, STR, J_OWNER, "owner", ALWAYS, SUBMIT)                                                  \
  X(name, STR, J_NAME, "name", ALWAYS, SUBMIT)                                                     \
  X(queue, STR, J_QUEUE, "queue", ALWAYS, SUBMIT)                                                  \
  X(submit_host, STR, J_SUBMIT_HOST, "submit_host", ALWAYS, SUBMIT)                                \
  X(state, STATE, J_STATE, "state", ALWAYS, SUBMIT)                                                \
  X(end_reason, INT, J_END_REASON, "end_reason", ALWAYS, LATER)                                    \
  X(priority, I64, J_PRIORITY, "priority", ALWAYS, SUBMIT)                                         \
  X(workdir, STR, J_WORKDIR, "workdir", ALWAYS, SUBMIT)                                            \
  X(out_path, STR, J_OUT_PATH, "out_path", ALWAYS, SUBMIT)                                         \
  X(err_path, STR, J_ERR_PATH, "err_path", ALWAYS, SUBMIT)                                         \
  X(join, INT, J_JOIN, "join_oe", ALWAYS, SUBMIT)                                                  \
  X(ncpus, I64, J_NCPUS, "ncpus", ALWAYS, SUBMIT)                                                  \
  X(mem, I64, J_MEM, "mem", ALWAYS, SUBMIT)                                                        \
  X(walltime, I64, J_WALLTIME, "walltime", ALWAYS, SUBMIT)                                         \
  X(pids, I64, J_PIDS, "pids", ALWAYS, SUBMIT)                                                     \
  X(net, STR, J_NET, "net", ALWAYS, SUBMIT)                                                        \
  X(cpus, STR, J_CPUS, "cpus", ALWAYS, LATER)                                                      \
  X(rerunnable, BOOL, J_RERUNNABLE, "rerunnable", ALWAYS, SUBMIT)                                  \
  X(array_id, I64, J_ARRAY_ID, "array_id", NONZERO, LATER)                                         \
  X(array_index, I64, J_ARRAY_INDEX, "array_index", NONZERO, LATER)                                \
  X(array_spec, STRN, J_ARRAY_SPEC, "array_spec", ALWAYS, SUBMIT)                                  \
  X(array_limit, I64, J_ARRAY_LIMIT, "array_limit", NONZERO, SUBMIT)                               \
  X(depend, STRN, J_DEPEND, "depend", ALWAYS, SUBMIT)                                              \
  X(exec_time, I64, J_EXEC_TIME, "exec_time", NONZERO, SUBMIT)                                     \
  X(nodes, I64, J_NODES, "nodes", NONZERO, SUBMIT)                                                 \
  X(resources, STR, J_RESOURCES, "resources", ALWAYS, SUBMIT)                                      \
  X(shell, STR, J_SHELL, "shell", ALWAYS, SUBMIT)                                                  \
  X(umask, STR, J_UMASK, "umask", ALWAYS, SUBMIT)                                                  \
  X(account, STR, J_ACCOUNT, "account", ALWAYS, SUBMIT)                                            \
  X(project, STR, J_PROJECT, "project", ALWAYS, SUBMIT)                                            \
  X(group_list, STR, J_GROUP_LIST, "group_list", ALWAYS, SUBMIT)                                   \
  X(cput, I64, J_CPUT, "cput", NONZERO, SUBMIT)                                                    \
  X(mail_points, STR, J_MAIL_POINTS, "mail_points", ALWAYS, SUBMIT)                                \
  X(mail_users, STR, J_MAIL_USERS, "mail_users", ALWAYS, SUBMIT)                                   \
  X(suspended_at, I64, J_SUSPENDED_AT, "suspended_at", NONZERO, LATER)                             \
  X(suspended_sec, I64, J_SUSPENDED_SEC, "suspended_sec", NONZERO, LATER)                          \
  X(interactive, BOOL, J_INTERACTIVE, "interactive", NONZERO, SUBMIT)                              \
  X(dialect, STR, J_DIALECT, "dialect", ALWAYS, SUBMIT)                                            \
  X(warn_after, I64, J_WARN_AFTER, "warn_after", NONZERO, SUBMIT)                                  \
  X(warn_signal, I64, J_WARN_SIGNAL, "warn_signal", NONZERO, SUBMIT)                               \
  X(notify, BOOL, J_NOTIFY, "notify", NONZERO, SUBMIT)                                             \
  X(devreq, STR, J_DEVREQ, "devreq", ALWAYS, SUBMIT)                                               \
  X(ngpus, I64, J_NGPUS, "ngpus", NONZERO, SUBMIT)                                                 \
  X(devices, STR, J_DEVICES, "devices", ALWAYS, LATER)                                             \
  X(pruned, BOOL, J_PRUNED, "pruned", NONZERO, LATER)                                              \
  X(run_count, I64, J_RUN_COUNT, "run_count", ALWAYS, LATER)                                       \
  X(ctime, I64, J_CTIME, "ctime", ALWAYS, SUBMIT)                                                  \
  X(qtime, I64, J_QTIME, "qtime", ALWAYS, SUBMIT)                                                  \
  X(stime, I64, J_STIME, "stime", ALWAYS, LATER)                                                   \
  X(etime, I64, J_ETIME, "etime", ALWAYS, LATER)                                                   \
  X(mtime, I64, J_MTIME, "mtime", ALWAYS, SUBMIT)                                                  \
  X(comment, STR, J_COMMENT, "comment", ALWAYS, LATER)                                             \
  X(exec_host, STR, J_EXEC_HOST, "exec_host", ALWAYS, LATER)                                       \
  X(cgroup, STR, J_CGROUP, "cgroup", ALWAYS, LATER)                                                \
  X(hold_types, STR, J_HOLD_TYPES, "hold_types", ALWAYS, SUBMIT)

#define JOB_STAT_FIELDS(X)                                                                         \
  X(sched_info, STR, J_SCHED_INFO, "", ALWAYS, NONE)                                               \
  X(array_counts, STR, J_ARRAY_COUNTS, "", ALWAYS, NONE)

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
  X(gpu_samples, I64, U_GPU_SAMPLES)                                                               \
  X(gpu_util, I64, U_GPU_UTIL)                                                                     \
  X(gpu_mem_peak, I64, U_GPU_MEM_PEAK)                                                             \
  X(mem_now, I64, U_MEM_NOW)                                                                       \
  X(final, BOOL, U_FINAL)

/* The C type of each kind. */
#define JOB_CTYPE_I64   int64_t
#define JOB_CTYPE_INT   int
#define JOB_CTYPE_BOOL  bool
#define JOB_CTYPE_STATE int
#define JOB_CTYPE_STR   char *
#define JOB_CTYPE_STRN  char *

/* A job row's columns, in the order the lists give them. */
#define JOB_FIELD_COLUMN_(member, kind, tag, column, wire, stored) "j." column ", "
#define JOB_USAGE_COLUMN_(member, kind, tag)                       "u." #member ", "
