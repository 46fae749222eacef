/* SPDX-License-Identifier: MIT */
/* The scheduler daemon's state, passed to every part of it. */
#pragma once

#include "cfg.h"
#include "cpuset.h"
#include "conn.h"
#include "db.h"
#include "devices.h"
#include "idmap.h"
#include "jobref.h"
#include "policy.h"

#include <time.h>
#include <uv.h>

struct walsync;
struct pass_state;
struct ready_set;
struct worker_batch;

struct boxqd {
  struct boxq_config cfg;
  uv_loop_t *loop;
  struct db *db;
  const char *server_name;
  struct sched_capacity cap;
  struct cpuset pin_cpus; /* CPUs jobs are pinned to, with pin_cpus */
  struct dev_table devs;  /* device classes, read at start (devices.h) */

  uv_pipe_t server;
  uv_signal_t sig_term, sig_int, sig_hup;
  const char *config_arg; /* -c FILE (or NULL): read again on SIGHUP (reload.c) */

  /* The link to boxq-worker: connected, and ready once its hello arrived. */
  struct conn *worker;
  bool worker_ready;
  char worker_backend[16]; /* the worker's cgroup backend, from its hello */
  /* Worker messages that arrive together share one transaction (dispatch.c). */
  struct worker_batch *batch;
  /* Jobs handed to the worker ahead of time, and requests waiting on them
   * (ready.c). */
  struct ready_set *ready;
  /* Results and replies waiting for the log's sync (walsync.c). */
  struct walsync *walsync;
  uv_timer_t reconnect;
  uv_connect_t connect_req;

  /* What scheduling passes keep between them (pass.c). */
  struct pass_state *pass;
  bool stopping;
  /* Open client connections per uid (+ 1), to cap what one user can hold. */
  struct idmap conns_by_uid;

  /* Fair share: each user's accounted usage (workflow.c), and where in
   * it each uid (+ 1) is (its index + 1). */
  struct user_usage *usage;
  size_t nusage;
  struct idmap usage_index;
  /* Fires when the next deferred job (qsub -a) becomes eligible. */
  uv_timer_t deferred;
  /* Clients waiting for jobs to end (waiters.c). */
  struct waiter *waiters;
  /* The node offline (pbsnodes -o), or scheduling off (qmgr): no job
   * starts (node.c, admin.c). */
  bool offline;
  bool scheduling_off;
  char *node_note;      /* pbsnodes -N, or NULL */
  int64_t node_changed; /* when it last went offline or back */
  /* Retention rounds (retention.c). */
  uv_timer_t prune;
  /* Fires when the next schedule is due, or a minute on (cron.c). */
  uv_timer_t cron;
  int64_t pruned_this_round;
  /* For boxq-web's /metrics: when boxqd started, when the worker last
   * connected or went (unix seconds). */
  int64_t started_at;
  int64_t worker_since;
};

/* A job to send the worker: to start now, or into its ready set. */
struct planned_start {
  int64_t id;
  int64_t array_id;
  bool ready;
};

struct sched_note {
  int64_t id;
  int64_t array_id; /* an entry for an array's waiting tasks */
  double priority;
  float factor[SF_MAX];
  uint8_t reason; /* enum sched_reason */
};

struct user_usage {
  int64_t uid;
  double usage;    /* CPU-seconds allocated, decayed to updated */
  int64_t updated; /* unix seconds */
};

/* server.c: the client socket. */
int server_start(struct boxqd *d);

/* requests.c: one handler per client request; each sends one reply. */
void req_dispatch(struct boxqd *d, struct conn *c, const struct pmsg *m);
/* A job's resources in other systems' forms, checked against this
 * server's policy; sets its device request (devreq, ngpus) from them. */
int check_site_resources(struct boxqd *d, struct job_rec *j, struct berr *err);
/* Root, managers and operators may act on any job. */
bool may_act_on_any(struct boxqd *d, struct conn *c);

/* ready.c: jobs handed to the worker ahead of time (the ready set). */
void ready_start(struct boxqd *d);
void ready_stop(struct boxqd *d);
/* At exit, once the loop is closed. */
void ready_free(struct boxqd *d);
/* Sent to the worker's ready set. */
void ready_added(struct boxqd *d, int64_t id, int64_t array_id);
bool ready_has(const struct boxqd *d, int64_t id);
/* Job j is in the set, or j is an array with tasks in it: asks the
 * worker for them back (a request is to act on j) and returns true. */
bool ready_claim(struct boxqd *d, const struct job_rec *j);
/* A parked request acts on job id (of array array_id): not to be handed. */
bool ready_claimed(const struct boxqd *d, int64_t id, int64_t array_id);
size_t ready_count(const struct boxqd *d);
int64_t ready_id(const struct boxqd *d, size_t i);
/* Asks the worker for job id back (once; none while it is away). */
void ready_take_back(struct boxqd *d, int64_t id, const char *why);
/* Asks the worker for every job of the set back (no job is to start). */
void ready_take_back_all(struct boxqd *d, const char *why);
/* Job id left the set (returned, started, dispatched, ended): parked
 * requests run again. */
void ready_gone(struct boxqd *d, int64_t id);
/* The worker's connection closed: what it started is unknown until its
 * hello; then ready_forget_all. */
void ready_worker_lost(struct boxqd *d);
void ready_forget_all(struct boxqd *d);
/* Parks request m of client c when it touches the set (touches: the
 * caller looked), or when an earlier request of c is parked (replies go
 * in order); true if parked: it runs again once the set changes. */
bool ready_park(struct boxqd *d, struct conn *c, const struct pmsg *m, bool touches);
/* Client c is gone: its parked requests are dropped. */
void ready_forget_conn(struct boxqd *d, struct conn *c);

/* Seconds since the epoch: the unit of every time the database keeps. */
static inline int64_t
now_sec(void) {
  return (int64_t)time(NULL);
}

/* place.c: which CPUs (pin_cpus) and devices a started job gets. */
struct places {
  struct boxqd *d;
  struct cpuset cpus;  /* held by running jobs (pinned) */
  struct dev_set devs; /* held by running jobs */
  int64_t ncpus, mem;  /* held in all */
};
/* suspend_releases = cpus: a suspended job's CPUs are the policy's to
 * give and no longer its place's (its memory and devices stay held). */
bool sched_frees_cpus(const struct boxqd *d, bool suspended);
/* What the running (and dispatched) jobs hold. */
int places_held(struct boxqd *d, struct places *h);
/* Chooses job id's devices (dev: how many of each class) and, with
 * pin_cpus, its CPUs (near those devices first), records them, and adds
 * them to h. -ENOSPC if they are not free. */
int place_job(struct boxqd *d, struct places *h, int64_t id, int64_t ncpus, const int16_t *dev);
/* The devices as qstat -B and pbsnodes show them: "resources_available.
 * ngpus=N", "resources_assigned.ngpus=M", and one "device=CLASS INDEX PATH
 * JOB NEAR_CPUS" line per device (JOB "-" when free). */
char *places_status(struct boxqd *d);

/* pass.c: the scheduling pass. */
void sched_pass_init(struct boxqd *d);
void sched_pass_stop(struct boxqd *d);
/* At exit, once the loop is closed. */
void sched_pass_free(struct boxqd *d);
/* The queue changed other than by starts and ends: the next pass is full. */
void sched_queue_changed(struct boxqd *d);
/* The last full pass's ranking is not to be trusted (a batch was lost). */
void sched_forget_ranking(struct boxqd *d);
/* "sched_full_passes=N", "sched_full_pass_p50_ms=1.234", p99, max, and
 * the same for quick passes (over the last 1,024 of each): qstat -B -f. */
char *sched_pass_status(const struct boxqd *d);
/* The job the policy reserves CPUs for, and when it is expected to start. */
bool sched_reservation(const struct boxqd *d, int64_t *ret_id, int64_t *ret_time);
/* Asks for a full pass: something changed the queue (not only a start or
 * an end). Passes are coalesced and run from the loop. */
void sched_request_pass(struct boxqd *d);
/* A pass after jobs' starts and ends only: quick, if the cache allows. */
void sched_request_quick_pass(struct boxqd *d);
/* Runs a pass now, inside the caller's transaction, if one may run now
 * (passes are spaced); false if not. */
bool sched_pass_now(struct boxqd *d);

/* dispatch.c: the worker link. */
void worker_link_start(struct boxqd *d);
void worker_link_stop(struct boxqd *d);
/* Sends a recorded start, or a job for the ready set (ready.c). */
void worker_dispatch(struct boxqd *d, struct planned_start st);
/* Whether a batch of the worker's reports is open: a pass then records
 * its starts in a savepoint of the batch's transaction and hands them to
 * worker_batch_dispatch, which sends them once the batch commits. */
bool worker_batch_open(const struct boxqd *d);
void worker_batch_dispatch(struct boxqd *d, const struct planned_start *st, size_t n);
/* At exit, once the loop is closed. */
void worker_batch_free(struct boxqd *d);
/* Asks the worker to signal (or, with cancel, to end) a running job. */
int worker_signal_job(struct boxqd *d, int64_t id, int sig, bool cancel);

/* Tells the worker that a job's result is stored: it may forget it. */
void worker_ack_result(struct boxqd *d, int64_t id);

/* walsync.c: acknowledge a result once what is committed now is on disk;
 * start that sync (after each batch's commit); free at exit. */
void walsync_ack_later(struct boxqd *d, int64_t id);
/* Sends client c the reply b (taken over) once what is committed now is on
 * disk; starts that sync at once (a person waits). id: the job submitted,
 * or 0 for a change to existing jobs (the text of an error says which). */
void walsync_reply_later(struct boxqd *d, struct conn *c, struct pbuf *b, int64_t id);
/* Client c is gone: its waiting replies are dropped. */
void walsync_forget_conn(struct boxqd *d, struct conn *c);
void walsync_start(struct boxqd *d);
/* Results waiting for acknowledgement, and dropping those added after a
 * mark (a batch whose commit failed: none of them may be acknowledged). */
size_t walsync_acks_mark(struct boxqd *d);
void walsync_drop_acks(struct boxqd *d, size_t mark);
/* At exit, once the loop is closed. */
void walsync_free(struct boxqd *d);

/* pass.c: records job id (a task of array_id, or 0) dispatched now: R,
 * pinned to cpus (NULL: none given; "" for no pinning), its array begun,
 * a 'dispatched' event with detail. Inside the caller's transaction. */
/* qrun: records job j started now, past the policy, if it fits in what
 * running jobs leave (-EBUSY, saying so, if not); the caller dispatches
 * it once its transaction commits. */
int sched_start_now(struct boxqd *d, const struct job_rec *j, const char *detail, int64_t now,
                    struct berr *err);
int sched_record_dispatch(struct boxqd *d, int64_t id, int64_t array_id, const char *cpus,
                          const char *detail, int64_t now);
/* A queued job the worker started from the ready set: it leaves the
 * ranking that quick passes plan over. */
void sched_job_left_queue(struct boxqd *d, int64_t id, int64_t array_id);
/* pass.c: the last pass's verdict on a queued job, or NULL. */
const struct sched_note *sched_note_of(struct boxqd *d, int64_t id, int64_t array_id);

/* workflow.c: arrays, dependencies, fair share and deferred jobs. The
 * wf_job_* functions run inside the caller's transaction. */
int wf_start(struct boxqd *d, struct berr *err);
void wf_stop(struct boxqd *d);
/* Job j (as read before it ended) reached F: ends its array after the last
 * task, settles dependents. */
int wf_job_finished(struct boxqd *d, const struct job_rec *j, int64_t now);
/* An array job whose tasks may all have ended: ends it if so. */
int wf_array_check(struct boxqd *d, int64_t array_id, int64_t now);
/* Job j started: its array has begun; 'after' dependents may go. */
int wf_job_started(struct boxqd *d, const struct job_rec *j, int64_t now);
/* Applies job id's dependencies now (after submit or qalter). */
int wf_settle(struct boxqd *d, int64_t id, int64_t now);
/* Adds a finished run's allocated CPU-seconds to its owner's usage. */
int wf_charge(struct boxqd *d, int64_t uid, double cpu_seconds, int64_t now);
struct user_usage *wf_usage_of(struct boxqd *d, int64_t uid);
double wf_usage_now(struct boxqd *d, const struct user_usage *u, int64_t now);
/* Moves due deferred jobs to the queue and arms the timer for the next. */
void wf_deferred_check(struct boxqd *d);

/* retention.c: removing expired history, in small batches. */
void retention_start(struct boxqd *d);
void retention_stop(struct boxqd *d);

/* queues.c: admission of a job into a queue. */
/* Checks that the caller may use the job's queue (j->queue, or the default
 * one) and that its resources are within the queue's maxima, filling in
 * the queue's defaults for what the job left at 0 when fill_defaults. */
int queue_admit(struct boxqd *d, uid_t uid, gid_t gid, const char *user, struct job_rec *j,
                bool fill_defaults, struct berr *err);
/* Is user (with primary group gid) named in list ("alice,@admins")? */
bool principal_in_list(const char *list, const char *user, gid_t gid);

/* requests.c: helpers of every multi-job request. */
/* The job a T_JOBID or T_JOBREF field names: 1 if f is neither; 0 with
 * *ret; or -errno with the PBS-style message in err. */
int ref_field(struct boxqd *d, const struct pfield *f, int64_t *ret, struct berr *err);
/* The next job a request names, from *off on, loaded for a caller who
 * must own it (or be privileged): 0 with *id and *j (free it), -errno with
 * the PBS-style message in err, or 1 when the request names no more. */
int next_own_job(struct boxqd *d, struct conn *c, const struct pmsg *m, size_t *off, int64_t *id,
                 struct job_rec *j, struct berr *err);
/* requests.c: a submission as uid/gid's: checked, then stored in a
 * relaxed transaction of its own (own_tx; the caller waits for the sync
 * before saying so) or in the caller's. note: the "submitted" event's
 * detail, or NULL. 0 with j->id set; -errno with err's message when the
 * job is refused, with err empty when the database failed. */
int submit_store(struct boxqd *d, uid_t uid, gid_t gid, struct job_rec *j, bool own_tx,
                 const char *note, struct berr *err);
/* The checks alone (a schedule's job, when it is installed). */
int submit_check(struct boxqd *d, uid_t uid, gid_t gid, struct job_rec *j, struct berr *err);
/* cron.c: schedules (boxq cron, qsub --cron): MSG_CRON, and the timer
 * that submits their jobs when due. */
void req_cron(struct boxqd *d, struct conn *c, const struct pmsg *m);
void cron_start(struct boxqd *d);
void cron_stop(struct boxqd *d);
/* requests.c's checks that actions.c (qalter) applies too: a path
 * (missing or too long, control characters), -W depend's jobs (each must
 * exist), and storing those dependencies in the caller's transaction. */
int check_path(const char *what, const char *p, bool required, struct berr *err);
int resolve_depend(struct boxqd *d, const char *text, struct job_dep **ret_deps, int64_t **ret_ids,
                   size_t *ret_n, struct berr *err);
int store_depend(struct boxqd *d, int64_t id, const struct job_dep *deps, const int64_t *ids,
                 size_t n, int64_t now);
/* actions.c: the requests that act on existing jobs (qdel, qhold, qrls,
 * qsig, qalter/qmove, qrerun, qrun, suspend/resume). */
void req_act(struct boxqd *d, struct conn *c, const struct pmsg *m);

/* A per-id failure in a multi-id reply: the message goes to the client,
 * the first failure's code becomes the reply's status. */
void reply_add_error(struct pbuf *b, int *status, int r, const char *msg);
/* Closes a reply begun with pb_begin(MSG_REPLY), sends it and frees it. */
void reply_finish(struct boxqd *d, struct conn *c, struct pbuf *b, int status);

/* notify.c: qsub -m/-M mail on a job's start ('b') or end ('e'; 'a' when
 * the system ended it; end is its result), through sendmail, recorded
 * in its events either way. -errno if the event cannot be stored. */
int mail_job(struct boxqd *d, const struct job_rec *j, const struct job_rec *end, char point);
/* The site's on_job_end program for a job that ended (end: its result),
 * spawned, never waited for. -errno if its event cannot be stored. */
int hook_job_end(struct boxqd *d, const struct job_rec *j, const struct job_rec *end);

/* waiters.c: MSG_WAIT (qwait, qsub -W block=true, qsub -I), answered
 * once its jobs have finished (or started); waiters_check runs before and
 * after every pass. */
void req_wait(struct boxqd *d, struct conn *c, const struct pmsg *m);
void waiters_check(struct boxqd *d);
void waiters_forget_conn(struct boxqd *d, struct conn *c);
void waiters_free(struct boxqd *d);
/* actions.c: ends a job of uid's that has not started (its qsub -I has
 * gone), saying why. */
void act_withdraw(struct boxqd *d, int64_t id, uid_t uid, const char *why);

/* reload.c: SIGHUP reads the configuration again (a bad file is refused
 * whole); main.c's capacity computation applies it. */
void config_reload(struct boxqd *d);
void sched_capacity_update(struct boxqd *d);

/* admin.c: queues stopped/started, disabled/enabled, and the server's
 * scheduling, changed at run time and kept over the file's values. */
void admin_load(struct boxqd *d);
void req_admin(struct boxqd *d, struct conn *c, const struct pmsg *m);

/* node.c: the machine as pbsnodes shows it, and its offline state. */
void node_load(struct boxqd *d);
void node_free(struct boxqd *d);
void req_node_info(struct boxqd *d, struct conn *c);
void req_node_set(struct boxqd *d, struct conn *c, const struct pmsg *m);

/* inspect.c: the requests that only read. */
void req_stat(struct boxqd *d, struct conn *c, const struct pmsg *m);
void req_server_info(struct boxqd *d, struct conn *c);
void req_queue_info(struct boxqd *d, struct conn *c, const struct pmsg *m);
void req_events(struct boxqd *d, struct conn *c, const struct pmsg *m);
void req_acct(struct boxqd *d, struct conn *c, const struct pmsg *m);
void req_series(struct boxqd *d, struct conn *c, const struct pmsg *m);

/* Sends a reply with a status and an optional message. */
void reply_status(struct conn *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
