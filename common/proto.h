/* SPDX-License-Identifier: MIT */
/* The boxq wire format, spoken on both unix sockets (client <-> boxqd and
 * boxqd <-> boxq-worker) and used for the worker's spool files.
 *
 * A frame is a 12-byte header {u32 magic, u16 version, u16 type, u32 len}
 * followed by len bytes of payload. The payload is a sequence of fields
 * {u16 tag, u32 len, bytes}; a tag may repeat (lists) and a field may hold a
 * nested payload (a job record). Integers are host order: both ends are on
 * the same machine. Strings carry their terminating NUL and no other.
 *
 * Bump BOXQ_PROTOCOL_VERSION if any of these change. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOXQ_PROTOCOL_VERSION 1
#define PROTO_MAGIC           0x51584f42u /* "BOXQ" */
/* The release, one for all programs (CMake's project version). */
#define BOXQ_VERSION "0.1.0"

#define PROTO_HDR_SIZE       12u
#define PROTO_FIELD_HDR_SIZE 6u
/* Largest payload a peer may send: scripts are capped well below this. */
#define PROTO_MAX_PAYLOAD (16u << 20)

enum proto_type {
  /* 100: replies */
  MSG_REPLY = 100,
  /* 200: client requests to boxqd */
  MSG_SUBMIT = 200,
  MSG_STAT = 201,
  MSG_DELETE = 202,
  MSG_HOLD = 203,
  MSG_RELEASE = 204,
  MSG_SERVER_INFO = 206,
  MSG_SIGNAL_JOB = 207, /* qsig: T_SIGNAL and T_JOBIDs */
  MSG_EVENTS = 208,     /* tracejob: a job's event log */
  MSG_ALTER = 209,      /* qalter: T_JOB with the new values, T_FLAGS which (ALTER_*) */
  MSG_RERUN = 210,      /* qrerun: finished jobs run again */
  MSG_QUEUE_INFO = 211, /* qstat -Q: T_INFO queue names (none: all) -> T_QUEUE each */
  MSG_ACCT = 212,       /* qacct: filters (A_*) -> T_JOB rows or T_GROUP summaries */
  MSG_NODE_INFO = 213,  /* pbsnodes: -> T_INFO "key=value" lines, a "job=" line each */
  MSG_NODE_SET = 214,   /* pbsnodes -o/-c/-N: T_FLAGS (NODE_*), T_MESSAGE the note */
  MSG_WAIT = 215,       /* qwait: T_JOBREFs -> T_JOB each, once all have finished */
  MSG_RUN = 217,        /* qrun: T_JOBREFs start now, past the policy, if they fit */
  MSG_SUSPEND = 218,    /* qsig -s suspend|resume: T_FLAGS 1 resume, T_JOBREFs */
  MSG_ADMIN = 216,      /* qstart/qstop/qenable/qdisable, qmgr: T_FLAGS (ADMIN_*), T_INFO queues */
  MSG_CRON = 219,       /* boxq cron: T_FLAGS (CRON_*); set: T_TEXT, T_CRON entries */
  MSG_SERIES = 220,     /* boxq-web: a T_JOBREF -> T_JOBID, T_SERIES its usage series */
  /* 300: boxqd <-> boxq-worker */
  MSG_WORKER_HELLO = 300, /* worker -> sched: jobs it still runs */
  MSG_DISPATCH = 301,     /* sched -> worker: run this job */
  MSG_STARTED = 302,      /* worker -> sched: the job runs */
  MSG_ENDED = 303,        /* worker -> sched: final result */
  MSG_ENDED_ACK = 304,    /* sched -> worker: result stored, forget it */
  MSG_SIGNAL = 305,       /* sched -> worker: signal or cancel a job */
  MSG_USAGE = 306,        /* worker -> sched: a running job's usage so far */
  MSG_RETURNED = 307,     /* worker -> sched: a ready job given back, never started */
  MSG_TAKE_BACK = 308,    /* sched -> worker: give this ready job back unless it started */
};

enum proto_tag {
  /* generic */
  T_STATUS = 1,    /* i64: 0 or -errno */
  T_MESSAGE = 2,   /* str: error text for a person */
  T_JOBID = 3,     /* i64, may repeat */
  T_JOB = 4,       /* nested job record, may repeat */
  T_FLAGS = 5,     /* i64 request flags */
  T_SIGNAL = 6,    /* i64 signal number */
  T_HOLD = 7,      /* str hold types, e.g. "u" */
  T_ERROR = 8,     /* str: per-id error in multi-id replies, may repeat */
  T_INFO = 9,      /* str key=value lines of server info */
  T_SERVER = 10,   /* str: the server name used in job ids */
  T_EVENT = 11,    /* nested event: EV_* fields, may repeat */
  T_JOBREF = 12,   /* str: a job as users name it, "123", "123[]", "123[7]"; may repeat */
  T_QUEUE = 13,    /* str: "key=value" lines of one queue, may repeat */
  T_GROUP = 14,    /* nested qacct summary row: G_* fields, may repeat */
  T_READY = 15,    /* i64 (MSG_DISPATCH): not now; into the worker's ready set */
  T_INSTEAD = 16,  /* i64 (MSG_STARTED, and after a T_JOBID in a hello): started from the
                    * ready set in the place of this job */
  T_CRON = 17,     /* nested schedule entry: C_* fields (and its T_JOB when set), may repeat */
  T_TEXT = 18,     /* str: a crontab as written */
  T_CRON_RUN = 19, /* nested: what one due time of a schedule did (C_* fields), may repeat */
  T_SERIES = 24,   /* bytes: a job's usage series, as stored (common/series.h) */
  /* qacct filters (MSG_ACCT) */
  A_USER = 30, /* str, may repeat */
  A_QUEUE,     /* str, may repeat */
  A_SINCE,     /* i64 unix seconds: ended at or after */
  A_UNTIL,     /* i64 unix seconds: ended before */
  A_REASONS,   /* i64 bit mask of 1 << enum job_end */
  A_GROUP_BY,  /* str: "user", "queue" or "day"; absent: one row per job */
  A_LIMIT,     /* i64: most job rows (newest first is not implied: by end time) */
  A_ACCOUNT,   /* str, may repeat */
  A_PROJECT,   /* str, may repeat */
  A_RECOUNT,   /* i64 1: summaries summed from the jobs themselves (qacct --recount) */
  /* qacct summary row fields (inside T_GROUP) */
  G_KEY = 40,
  G_JOBS,
  G_COMPLETED,
  G_FAILED,
  G_TIMEOUTS,
  G_OOM_KILLS,
  G_CANCELLED,
  G_CPU_USEC,
  G_WALL_USEC,
  G_CPU_ALLOC_USEC, /* ncpus x wall: what the jobs held */
  G_MEM_PEAK,
  G_GPU_USEC,     /* GPUs held x wall */
  G_WAITED,       /* jobs that started */
  G_WAIT_SEC,     /* their waits in the queue summed (start less queue time) */
  G_WAIT_MAX_SEC, /* the longest */
  EV_JOBID = 20,
  EV_TIME,
  EV_NAME,
  EV_DETAIL,

  /* schedule entries and runs (inside T_CRON, T_CRON_RUN) */
  C_LINE = 70, /* i64: its line in the crontab */
  C_SPEC,      /* str: "30 2 * * *" or "@daily" */
  C_COMMAND,   /* str: what it runs */
  C_NEXT,      /* i64 unix seconds: next due */
  C_LAST,      /* i64: last due (0: never) */
  C_LAST_JOB,  /* i64: the job it last submitted (0: none) */
  C_OUTCOME,   /* str: what its last due time did */
  C_JOB_STATE, /* i64: that job's state letter */
  C_EXIT,      /* i64: that job's exit status, once it has one */
  C_DUE,       /* i64 (T_CRON_RUN): the due time */
  C_AT,        /* i64 (T_CRON_RUN): when it was handled */

  /* 60-66: shepherd settings of the spool's spec file, gone since the
   * worker forks its shepherds; not to be reused. */

  /* job record fields (inside T_JOB) */
  J_ID = 100,
  J_UID,
  J_GID,
  J_OWNER,
  J_NAME,
  J_QUEUE,
  J_STATE,
  J_END_REASON,
  J_PRIORITY,
  J_WORKDIR,
  J_OUT_PATH,
  J_ERR_PATH,
  J_JOIN,
  J_NCPUS,
  J_MEM,
  J_WALLTIME,
  J_CTIME,
  J_QTIME,
  J_STIME,
  J_ETIME,
  J_MTIME,
  J_EXIT_STATUS,
  J_COMMENT,
  J_EXEC_HOST,
  J_CGROUP,
  J_ENV,    /* str "K=V", may repeat */
  J_SCRIPT, /* bytes */
  J_HOLD_TYPES,
  J_SUBMIT_HOST,
  J_GROUPS, /* i64 supplementary gid, may repeat (filled by boxqd) */
  J_PIDS,   /* i64 pids.max */
  J_RERUNNABLE,
  J_RUN_COUNT,
  J_NET = 150,      /* str "" or "none" */
  J_CPUS,           /* str pinned CPU list */
  J_ARRAY_SPEC,     /* str: an array job's index range, "1-100:2" */
  J_DEPEND,         /* str: "afterok:12:13,afterany:14" */
  J_SCHED_INFO,     /* str: the scheduler's view of a queued job (stat replies) */
  J_ARRAY_COUNTS,   /* str: an array's tasks by state (stat replies) */
  J_ARRAY_ID = 170, /* i64: a task's array; 0 for other jobs */
  J_ARRAY_INDEX,    /* i64: a task's index */
  J_ARRAY_LIMIT,    /* i64: tasks of the array running at once (%N); 0 = any */
  J_EXEC_TIME,      /* i64: qsub -a, not before this time */
  J_PRUNED,         /* i64: 1 if the job's history has expired (accounting only) */
  J_NODES = 180,    /* i64: nodes or chunks asked (nodes=, select=, ...); 0: none */
  J_RESOURCES,      /* str: other resources as written, "name=value,..." */
  J_SHELL,          /* str: qsub -S, the script's interpreter; "": its #! line or sh */
  J_UMASK,          /* str: qsub -W umask=, octal; "": 022 */
  J_ACCOUNT,        /* str: qsub -A, the account charged; "" none */
  J_PROJECT,        /* str: qsub -P, the project; "" none */
  J_GROUP_LIST,     /* str: qsub -W group_list=, the group the job runs with; "" primary */
  J_CPUT,           /* i64: -l cput, CPU seconds the job may use in all; 0: no limit */
  J_MAIL_POINTS,    /* str: qsub -m, a b e or n; "": a (PBS's default) */
  J_MAIL_USERS,     /* str: qsub -M, addresses; "": the owner */
  J_SUSPENDED_AT,   /* i64: when the running job was suspended; 0: it runs */
  J_SUSPENDED_SEC,  /* i64: seconds it spent suspended before (or in all, once ended) */
  J_INTERACTIVE,    /* i64: 1: qsub -I, the job runs on a terminal its client attaches to */
  J_DIALECT,        /* str: the language it was submitted in ("sge": Grid Engine's variables) */
  J_WARN_AFTER,     /* i64: run seconds after which warn_signal is sent (qsub -l s_rt); 0 none */
  J_WARN_SIGNAL,    /* i64: the signal sent at warn_after */
  J_NOTIFY,         /* i64: 1: qsub -notify, SIGUSR1/SIGUSR2 before suspending/killing */
  J_DEVREQ,         /* str: devices asked of each class, "gpu=2" (boxqd derives it) */
  J_NGPUS,          /* i64: of which class gpu, for the accounting summaries */
  J_DEVICES,        /* str: the devices held while it runs, "gpu:0,1" */
  /* usage (inside T_JOB) */
  U_CPU_USEC = 200,
  U_USER_USEC,
  U_SYS_USEC,
  U_MEM_PEAK,
  U_MEM_PEAK_SRC,
  U_OOM_KILLS,
  U_NR_THROTTLED,
  U_THROTTLED_USEC,
  U_PIDS_PEAK,
  U_IO_RBYTES,
  U_IO_WBYTES,
  U_WALL_USEC,
  U_RU_UTIME_USEC,
  U_RU_STIME_USEC,
  U_RU_MAXRSS_KB,
  U_CG_BACKEND,
  U_SIGNAL,
  U_OOM_EVENTS,
  U_MEM_MAX_EVENTS,
  U_SWAP_PEAK,
  U_FINAL,
  U_GPU_SAMPLES,  /* NVML samples taken; 0: nothing is claimed */
  U_GPU_UTIL,     /* the GPUs' utilisation, percent, averaged over the samples */
  U_GPU_MEM_PEAK, /* the most GPU memory in use at a sample, bytes */
  U_MEM_NOW,      /* memory in use at the sample (memory.current), bytes; -1 unknown */
};

/* T_FLAGS of MSG_STAT. */
enum stat_flags {
  STAT_FINISHED = 1 << 0,   /* finished jobs too */
  STAT_FULL = 1 << 1,       /* environment (to its owner) */
  STAT_TASKS = 1 << 2,      /* an array's tasks, not only the array job */
  STAT_ACCOUNTING = 1 << 3, /* jobs whose history expired too (qacct -j) */
  STAT_COMPLETED = 1 << 4,  /* jobs finished within keep_completed too (Torque's C) */
  STAT_BRIEF = 1 << 5,      /* only what qstat's default table shows (job_rec_encode_brief) */
};

/* T_FLAGS of MSG_WAIT. */
enum {
  /* Answer once each job has started (or finished without starting), not
   * only once it has finished: qsub -I waits so for its terminal. */
  WAIT_STARTED = 1 << 0,
  /* The jobs are the client's to attach to: if its connection goes while
   * they wait, nobody will, and boxqd deletes them. */
  WAIT_WITHDRAW = 1 << 1,
  /* Answer once any of the jobs has finished (drmaa_wait's SESSION_ANY). */
  WAIT_ANY = 1 << 2,
};

/* T_FLAGS of MSG_EVENTS. */
enum {
  EVENTS_PUBLIC = 1 << 0, /* anyone's jobs; details only of the caller's own */
};

/* T_FLAGS of MSG_CRON. */
enum {
  CRON_SET = 1 << 0,     /* replace the caller's crontab (none given: remove it) */
  CRON_HISTORY = 1 << 1, /* with the reply: the latest runs (T_CRON_RUN) */
};

/* T_FLAGS of MSG_ADMIN. */
enum {
  ADMIN_QUEUE_ENABLE = 1 << 0, /* the queues accept new jobs */
  ADMIN_QUEUE_DISABLE = 1 << 1,
  ADMIN_QUEUE_START = 1 << 2, /* their jobs may start */
  ADMIN_QUEUE_STOP = 1 << 3,
  ADMIN_SCHEDULING_ON = 1 << 4, /* the server starts jobs */
  ADMIN_SCHEDULING_OFF = 1 << 5,
};

/* T_FLAGS of MSG_NODE_SET. */
enum {
  NODE_OFFLINE = 1 << 0, /* no job starts until cleared */
  NODE_CLEAR = 1 << 1,
};

/* T_FLAGS of MSG_ALTER: which fields of the T_JOB to apply. */
enum alter_flags {
  ALTER_NAME = 1 << 0,
  ALTER_PRIORITY = 1 << 1,
  ALTER_NCPUS = 1 << 2,
  ALTER_MEM = 1 << 3,
  ALTER_WALLTIME = 1 << 4,
  ALTER_PIDS = 1 << 5,
  ALTER_DEPEND = 1 << 6,
  ALTER_EXEC_TIME = 1 << 7,
  ALTER_RERUNNABLE = 1 << 8,
  ALTER_OUT_PATH = 1 << 9,
  ALTER_ERR_PATH = 1 << 10,
  ALTER_JOIN = 1 << 11,
  ALTER_ARRAY_LIMIT = 1 << 12,
  ALTER_QUEUE = 1 << 13,     /* qmove */
  ALTER_RESOURCES = 1 << 14, /* the site's forms and device counts, merged */
};

/* A growable buffer that frames and encodes one or more messages. */
struct pbuf {
  uint8_t *data;
  size_t len, cap;
  size_t frame_start; /* offset of the open frame's header */
};

void pbuf_free(struct pbuf *b);
void pbuf_reset(struct pbuf *b);
void pb_frames(struct pbuf *b, const struct pbuf *frames); /* appends whole frames */
void pb_begin(struct pbuf *b, uint16_t type);              /* opens a frame */
void pb_end(struct pbuf *b);                               /* closes it: fills in len */
void pb_bytes(struct pbuf *b, uint16_t tag, const void *data, size_t len);
void pb_str(struct pbuf *b, uint16_t tag, const char *s); /* NULL: omitted */
void pb_i64(struct pbuf *b, uint16_t tag, int64_t v);
size_t pb_nest_begin(struct pbuf *b, uint16_t tag);
void pb_nest_end(struct pbuf *b, size_t mark);

/* A read-only view of one payload. Only obtained through pmsg_init or
 * pmsg_sub, both of which validate the field framing first. */
struct pmsg {
  uint16_t type;
  const uint8_t *p;
  size_t len;
};

struct pfield {
  uint16_t tag;
  uint32_t len;
  const uint8_t *data;
};

int pmsg_init(struct pmsg *m, uint16_t type, const uint8_t *p, size_t len); /* -EBADMSG */
bool pmsg_next(const struct pmsg *m, size_t *off, struct pfield *f);
bool pmsg_find(const struct pmsg *m, uint16_t tag, struct pfield *f);
/* NULL if absent or not a well-formed string (missing NUL, embedded NUL). */
const char *pfield_str(const struct pfield *f);
const char *pmsg_str(const struct pmsg *m, uint16_t tag);
int pfield_i64(const struct pfield *f, int64_t *ret);
int pmsg_i64(const struct pmsg *m, uint16_t tag, int64_t *ret); /* -ENOENT, -EBADMSG */
int64_t pmsg_i64_or(const struct pmsg *m, uint16_t tag, int64_t dflt);
int pmsg_sub(const struct pfield *f, struct pmsg *ret);

/* Reassembles frames from a byte stream. */
struct pframer {
  uint8_t *buf;
  size_t len, cap;
};

void pframer_free(struct pframer *fr);
/* Appends received bytes; -E2BIG when a peer sends more than a frame can hold. */
int pframer_feed(struct pframer *fr, const void *data, size_t len);
/* 1 and a message when a whole frame is buffered, 0 when more bytes are
 * needed, -EBADMSG/-EPROTO/-E2BIG for a malformed stream. The message points
 * into the framer until pframer_consume. */
int pframer_next(struct pframer *fr, struct pmsg *ret, size_t *ret_frame_len);
void pframer_consume(struct pframer *fr, size_t n);

/* Blocking helpers for the CLI and the shepherd. */
int proto_send(int fd, const struct pbuf *b);
int proto_recv(int fd, struct pframer *fr, struct pmsg *ret, size_t *ret_frame_len);
/* Parses one whole frame held in memory (a spool file). */
int proto_parse_frame(const uint8_t *data, size_t len, struct pmsg *ret);
