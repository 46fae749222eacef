/* SPDX-License-Identifier: MIT */
/* The inside of libdrmaa: one session per process (the standard's), the
 * jobs it submitted and has not reaped, job templates, the lists handed
 * to the caller, and the diagnosis strings every call may fill. Requests
 * go to boxqd over the socket the CLI uses, through the CLI's client
 * (cli.h), its errors written to the diagnosis instead of stderr. */
#pragma once

#include "cli.h"

/* <drmaa.h>: this directory's, or (the header check in tests/) another
 * implementation's, which the definitions here must match. */
#include <drmaa.h>

#include <pthread.h>
#include <stdbool.h>

/* The lists returned to the caller (names, values, job ids). */
struct dlist {
  char **items;
  size_t n, next;
};
struct drmaa_attr_names_s {
  struct dlist l;
};
struct drmaa_attr_values_s {
  struct dlist l;
};
struct drmaa_job_ids_s {
  struct dlist l;
};
void dlist_add(struct dlist *l, const char *s);
void dlist_free(struct dlist *l);
int dlist_next(struct dlist *l, char *buf, size_t len);

/* The attributes a template takes: scalars and vectors, by index. */
enum dattr {
  DA_REMOTE_COMMAND,
  DA_JS_STATE,
  DA_WD,
  DA_JOB_CATEGORY,
  DA_NATIVE_SPECIFICATION,
  DA_BLOCK_EMAIL,
  DA_START_TIME,
  DA_JOB_NAME,
  DA_INPUT_PATH,
  DA_OUTPUT_PATH,
  DA_ERROR_PATH,
  DA_JOIN_FILES,
  DA_WCT_HLIMIT,
  DA_DURATION_HLIMIT,
  DA_NSCALAR
};
enum dvattr { DV_ARGV, DV_ENV, DV_EMAIL, DV_NVECTOR };
extern const char *const dattr_names[DA_NSCALAR];
extern const char *const dvattr_names[DV_NVECTOR];

struct drmaa_job_template_s {
  char *scalar[DA_NSCALAR];
  char **vector[DV_NVECTOR]; /* NULL-terminated */
};

/* The session. Every call but waiting holds its lock. */
struct dsession {
  pthread_mutex_t lock;
  bool active;
  struct cli_ctx ctx;  /* configuration loaded, connection kept */
  char err[1024];      /* the client's last error (ctx.errbuf) */
  struct dlist jobs;   /* submitted, not yet reaped */
  struct dlist reaped; /* reaped by drmaa_wait or drmaa_synchronize */
};
extern struct dsession dsess;

/* Fills the caller's diagnosis (may be NULL) and returns code. */
int derr(char *diag, size_t len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* NO_ACTIVE_SESSION unless a session is active; call with the lock. */
int dsession_check(char *diag, size_t len);
/* A request to boxqd: 0 with its reply (valid until the next request),
 * or a DRMAA error with the diagnosis filled. *status: the reply's. */
int dsession_call(struct pbuf *b, struct pmsg *reply, int64_t *status, char *diag, size_t len);
/* A job id of the session's: drops it from jobs, adds it to reaped. */
void dsession_reap(const char *id);
/* The DRMAA error for a boxqd failure status of a request about a job. */
int derr_of_status(int64_t status, int action);
