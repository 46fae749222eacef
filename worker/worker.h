/* SPDX-License-Identifier: MIT */
/* boxq-worker: runs as root, receives jobs from boxqd, starts one shepherd
 * per job and relays each job's result back until boxqd has stored it. */
#pragma once

#include "cfg.h"
#include "devices.h"
#include "cgroup.h"
#include "conn.h"
#include "idmap.h"
#include "ready.h"
#include "shepherd.h"
#include "usercache.h"

#include <uv.h>

/* A shepherd process: forked by this worker and serving its jobs one at a
 * time (chan open), or found running a job after a restart (chan -1: it
 * ends with that job). */
struct wshep {
  pid_t pid;
  uint64_t start;      /* its start time (ticks since boot): shepherd.pid names it */
  int pidfd;           /* its exit */
  uv_poll_t exit_poll; /* on pidfd */
  int chan;            /* jobs go out, "result written" notes (a job id) come in */
  uv_poll_t chan_poll;
  uint8_t note[8]; /* a note read in part */
  size_t note_len;
  uint32_t seq;     /* jobs handed over so far: requests name the current one */
  struct wjob *job; /* NULL: idle */
  int64_t last_job; /* the last job whose result it noted (its cleanup may follow) */
  int handles;      /* open uv handles: freed when the last one has closed, after its exit */
  bool exit_watched, chan_watched; /* the polls were set up */
  bool idle;                       /* waiting for a job */
  uint64_t idle_since;             /* uv_hrtime() when it became idle */
  bool exited;
  struct worker *w;
  struct wshep *next;
};

struct wjob {
  int64_t id;
  char *dir;
  struct wshep *shep; /* running it; NULL once its result is in (ended) */
  bool ended;
  struct pbuf result;  /* the ENDED frame, once ended */
  int64_t usage_mtime; /* of the last usage snapshot relayed */
  struct wplace place; /* what it holds, for a ready job to take over (ready.h) */
  int64_t instead_of;  /* started from the ready set in this job's place */
  int64_t run;         /* which run of the job this is (its run_count then + 1); 0: unknown */
  bool followed;       /* ended, and a ready job started in its place */
  struct worker *w;
  struct wjob *prev, *next;
};

struct worker {
  struct boxq_config cfg;
  struct dev_table devs; /* device classes, read at start (devices.h) */
  uv_loop_t *loop;
  struct cg_system sys;
  int init_fd;                   /* boxq-init, every job's PID 1 (launch_open_init) */
  int cg_lock_fd, spool_lock_fd; /* held for the worker's life (flock) */
  const char *server_name;
  uv_pipe_t server;
  uv_signal_t sig_term, sig_int;
  struct conn *sched;
  struct wjob *jobs;
  struct idmap jobs_by_id; /* the same, by id */
  struct wready ready;     /* jobs handed ahead, not started (ready.h) */
  struct wshep *sheps;
  struct wdrain *drains; /* dead jobs' cgroups being emptied (drain.c) */
  int max_idle_sheps;
  uv_timer_t sample_timer;
  /* Jobs' 'started' reports wait here a few milliseconds and go out with
   * the next message: a short job's start and end reach boxqd together,
   * one transaction there instead of two. */
  struct pbuf outbox;
  uv_timer_t outbox_timer;
  uid_t sched_uid;        /* scheduler_user's uid */
  struct usercache users; /* jobs' accounts, looked up before each fork */
  struct arg_area args;   /* its command line's place, which shepherds rename; 0s: unknown */
};

/* jobs.c */
/* Sends b to the scheduler after whatever waits in the outbox. */
void worker_send(struct worker *w, const struct pbuf *b);
void worker_flush(struct worker *w);
struct wjob *wjob_find(struct worker *w, int64_t id);
void wjob_recover_all(struct worker *w);
int wjob_dispatch(struct worker *w, const struct pmsg *m);
void wjob_ack(struct worker *w, int64_t id);
void wjob_signal(struct worker *w, int64_t id, int sig, bool cancel);
void wjob_send_hello(struct worker *w);
/* Relays running jobs' new usage snapshots to the scheduler. */
void wjob_relay_usage(struct worker *w);
/* Loads the job's result from its spool (writing a lost one first if
 * there is none) and sends it to the scheduler. */
void wjob_finish(struct worker *w, struct wjob *j);
/* Removes what a shepherd removes after noting a result (the job's
 * emptied cgroup, its /tmp on disk), for one that died in between. */
void wjob_remove_leftovers(struct worker *w, int64_t id);
/* Starts a job now: its spool, a shepherd, the 'started' report. On
 * failure the job ends at once with a launch error (and -errno). */
int wjob_launch(struct worker *w, struct wjob *j, struct job_rec *job);
/* Writes a result the job's shepherd did not (it never had the job). */
void wjob_end_unstarted(struct worker *w, struct wjob *j, const struct job_rec *end);
void wjob_free(struct worker *w, struct wjob *j);

/* Job j's place is free (it ended): the first ready job that fits it
 * starts there. */
void wjob_fill_place(struct worker *w, struct wjob *j);
/* boxqd asks for ready job id back: it is given back (MSG_RETURNED)
 * unless it has started. */
void wjob_take_back(struct worker *w, int64_t id);

/* sheps.c */
/* Hands the job to an idle shepherd, or to a new one. */
int shep_start_job(struct worker *w, struct wjob *j, const struct job_rec *job);
/* Watches a shepherd found running job j after a restart. */
int shep_adopt(struct worker *w, pid_t pid, struct wjob *j);
/* Lets shepherds idle for longer than shepherd_idle go. */
void shep_retire_idle(struct worker *w);
/* At shutdown: no more jobs for any shepherd (idle ones exit, busy ones
 * after their job); the worker's handles on them close. */
void shep_close_all(struct worker *w);
