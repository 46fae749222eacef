/* SPDX-License-Identifier: MIT */
/* Sessions, errors, the returned lists and the auxiliary calls. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct dsession dsess = {.lock = PTHREAD_MUTEX_INITIALIZER};

#define CONTACT "boxq"

static const char *const messages[] = {
    [DRMAA_ERRNO_SUCCESS] = "success",
    [DRMAA_ERRNO_INTERNAL_ERROR] = "internal error",
    [DRMAA_ERRNO_DRM_COMMUNICATION_FAILURE] = "cannot reach boxqd",
    [DRMAA_ERRNO_AUTH_FAILURE] = "not allowed",
    [DRMAA_ERRNO_INVALID_ARGUMENT] = "invalid argument",
    [DRMAA_ERRNO_NO_ACTIVE_SESSION] = "no active session",
    [DRMAA_ERRNO_NO_MEMORY] = "out of memory",
    [DRMAA_ERRNO_INVALID_CONTACT_STRING] = "invalid contact string",
    [DRMAA_ERRNO_DEFAULT_CONTACT_STRING_ERROR] = "cannot use the default contact string",
    [DRMAA_ERRNO_NO_DEFAULT_CONTACT_STRING_SELECTED] = "no default contact string selected",
    [DRMAA_ERRNO_DRMS_INIT_FAILED] = "cannot initialize the session with boxqd",
    [DRMAA_ERRNO_ALREADY_ACTIVE_SESSION] = "a session is already active",
    [DRMAA_ERRNO_DRMS_EXIT_ERROR] = "cannot end the session",
    [DRMAA_ERRNO_INVALID_ATTRIBUTE_FORMAT] = "invalid attribute format",
    [DRMAA_ERRNO_INVALID_ATTRIBUTE_VALUE] = "invalid attribute value",
    [DRMAA_ERRNO_CONFLICTING_ATTRIBUTE_VALUES] = "conflicting attribute values",
    [DRMAA_ERRNO_TRY_LATER] = "boxqd cannot take the job now; try later",
    [DRMAA_ERRNO_DENIED_BY_DRM] = "boxqd refused the job",
    [DRMAA_ERRNO_INVALID_JOB] = "no such job",
    [DRMAA_ERRNO_RESUME_INCONSISTENT_STATE] = "the job is not suspended",
    [DRMAA_ERRNO_SUSPEND_INCONSISTENT_STATE] = "the job is not running",
    [DRMAA_ERRNO_HOLD_INCONSISTENT_STATE] = "the job cannot be held",
    [DRMAA_ERRNO_RELEASE_INCONSISTENT_STATE] = "the job is not held",
    [DRMAA_ERRNO_EXIT_TIMEOUT] = "timed out",
    [DRMAA_ERRNO_NO_RUSAGE] = "no usage for the job",
    [DRMAA_ERRNO_NO_MORE_ELEMENTS] = "no more elements",
};

const char *
drmaa_strerror(int drmaa_errno) {
  if (drmaa_errno < 0 || drmaa_errno >= (int)ARRAY_SIZE(messages) || !messages[drmaa_errno])
    return "unknown DRMAA error";
  return messages[drmaa_errno];
}

int
derr(char *diag, size_t len, int code, const char *fmt, ...) {
  if (diag && len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(diag, len, fmt, ap);
    va_end(ap);
  }
  return code;
}

int
dsession_check(char *diag, size_t len) {
  if (!dsess.active)
    return derr(diag, len, DRMAA_ERRNO_NO_ACTIVE_SESSION, "no active session: call drmaa_init");
  return DRMAA_ERRNO_SUCCESS;
}

int
dsession_call(struct pbuf *b, struct pmsg *reply, int64_t *status, char *diag, size_t len) {
  dsess.err[0] = '\0';
  int r = cli_request(&dsess.ctx, b, reply, status);
  pbuf_free(b);
  if (r < 0) {
    cli_close_connection(&dsess.ctx); /* the next call connects again */
    return derr(diag, len, DRMAA_ERRNO_DRM_COMMUNICATION_FAILURE, "%s",
                dsess.err[0] ? dsess.err : "cannot reach boxqd");
  }
  return DRMAA_ERRNO_SUCCESS;
}

int
derr_of_status(int64_t status, int action) {
  switch (status) {
    case -ENOENT:
      return DRMAA_ERRNO_INVALID_JOB;
    case -EPERM:
    case -EACCES:
      return DRMAA_ERRNO_AUTH_FAILURE;
    case -EAGAIN:
      return DRMAA_ERRNO_TRY_LATER;
    case -EBUSY:
    case -EALREADY:
      switch (action) {
        case DRMAA_CONTROL_SUSPEND:
          return DRMAA_ERRNO_SUSPEND_INCONSISTENT_STATE;
        case DRMAA_CONTROL_RESUME:
          return DRMAA_ERRNO_RESUME_INCONSISTENT_STATE;
        case DRMAA_CONTROL_HOLD:
          return DRMAA_ERRNO_HOLD_INCONSISTENT_STATE;
        case DRMAA_CONTROL_RELEASE:
          return DRMAA_ERRNO_RELEASE_INCONSISTENT_STATE;
        default:
          return DRMAA_ERRNO_INVALID_JOB;
      }
    default:
      return DRMAA_ERRNO_INTERNAL_ERROR;
  }
}

/* ---- lists ---- */

void
dlist_add(struct dlist *l, const char *s) {
  l->items = xrealloc(l->items, (l->n + 1) * sizeof(char *));
  l->items[l->n++] = xstrdup(s);
}

void
dlist_free(struct dlist *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->items[i]);
  free(l->items);
  *l = (struct dlist){0};
}

int
dlist_next(struct dlist *l, char *buf, size_t len) {
  if (!l || l->next >= l->n)
    return DRMAA_ERRNO_NO_MORE_ELEMENTS;
  if (buf && len)
    snprintf(buf, len, "%s", l->items[l->next]);
  l->next++;
  return DRMAA_ERRNO_SUCCESS;
}

static bool
dlist_has(const struct dlist *l, const char *s) {
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->items[i], s))
      return true;
  return false;
}

void
dsession_reap(const char *id) {
  struct dlist *j = &dsess.jobs;
  for (size_t i = 0; i < j->n; i++)
    if (!strcmp(j->items[i], id)) {
      free(j->items[i]);
      memmove(&j->items[i], &j->items[i + 1], (j->n - i - 1) * sizeof(char *));
      j->n--;
      break;
    }
  if (!dlist_has(&dsess.reaped, id))
    dlist_add(&dsess.reaped, id);
}

int
drmaa_get_next_attr_name(drmaa_attr_names_t *values, char *value, size_t value_len) {
  return dlist_next(values ? &values->l : NULL, value, value_len);
}

int
drmaa_get_next_attr_value(drmaa_attr_values_t *values, char *value, size_t value_len) {
  return dlist_next(values ? &values->l : NULL, value, value_len);
}

int
drmaa_get_next_job_id(drmaa_job_ids_t *values, char *value, size_t value_len) {
  return dlist_next(values ? &values->l : NULL, value, value_len);
}

static int
dlist_count(const struct dlist *l, int *size) {
  if (!l || !size)
    return DRMAA_ERRNO_INVALID_ARGUMENT;
  *size = (int)l->n;
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_get_num_attr_names(drmaa_attr_names_t *values, int *size) {
  return dlist_count(values ? &values->l : NULL, size);
}

int
drmaa_get_num_attr_values(drmaa_attr_values_t *values, int *size) {
  return dlist_count(values ? &values->l : NULL, size);
}

int
drmaa_get_num_job_ids(drmaa_job_ids_t *values, int *size) {
  return dlist_count(values ? &values->l : NULL, size);
}

void
drmaa_release_attr_names(drmaa_attr_names_t *values) {
  if (values) {
    dlist_free(&values->l);
    free(values);
  }
}

void
drmaa_release_attr_values(drmaa_attr_values_t *values) {
  if (values) {
    dlist_free(&values->l);
    free(values);
  }
}

void
drmaa_release_job_ids(drmaa_job_ids_t *values) {
  if (values) {
    dlist_free(&values->l);
    free(values);
  }
}

/* ---- the session ---- */

int
drmaa_init(const char *contact, char *error_diagnosis, size_t error_diag_len) {
  pthread_mutex_lock(&dsess.lock);
  int r = DRMAA_ERRNO_SUCCESS;
  if (dsess.active)
    r = derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_ALREADY_ACTIVE_SESSION,
             "a DRMAA session is already active in this process");
  else if (contact && *contact && strcmp(contact, CONTACT) != 0)
    r = derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_CONTACT_STRING,
             "unknown contact string '%s' (boxq's is \"" CONTACT "\" or none)", contact);
  if (r) {
    pthread_mutex_unlock(&dsess.lock);
    return r;
  }
  dsess.ctx =
      (struct cli_ctx){.prog = "drmaa", .fd = -1, .errbuf = dsess.err, .errlen = sizeof(dsess.err)};
  dsess.err[0] = '\0';
  if (cli_load_config(&dsess.ctx) < 0) {
    r = derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_DRMS_INIT_FAILED, "%s", dsess.err);
    pthread_mutex_unlock(&dsess.lock);
    return r;
  }
  /* The server must answer now: a session that cannot submit is none. */
  struct pbuf b = {0};
  pb_begin(&b, MSG_SERVER_INFO);
  pb_end(&b);
  struct pmsg reply;
  int64_t status;
  if (dsession_call(&b, &reply, &status, error_diagnosis, error_diag_len) != 0) {
    r = DRMAA_ERRNO_DRMS_INIT_FAILED;
    cli_close(&dsess.ctx);
  } else
    dsess.active = true;
  pthread_mutex_unlock(&dsess.lock);
  return r;
}

int
drmaa_exit(char *error_diagnosis, size_t error_diag_len) {
  pthread_mutex_lock(&dsess.lock);
  int r = dsession_check(error_diagnosis, error_diag_len);
  if (r == DRMAA_ERRNO_SUCCESS) {
    /* The session's jobs go on; only this process forgets them. */
    cli_close(&dsess.ctx);
    dlist_free(&dsess.jobs);
    dlist_free(&dsess.reaped);
    dsess.active = false;
  }
  pthread_mutex_unlock(&dsess.lock);
  return r;
}

int
drmaa_get_contact(char *contact, size_t contact_len, char *error_diagnosis, size_t error_diag_len) {
  (void)error_diagnosis;
  (void)error_diag_len;
  if (contact && contact_len)
    snprintf(contact, contact_len, "%s", CONTACT);
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_version(unsigned int *major, unsigned int *minor, char *error_diagnosis,
              size_t error_diag_len) {
  (void)error_diagnosis;
  (void)error_diag_len;
  if (major)
    *major = 1;
  if (minor)
    *minor = 0;
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_get_DRM_system(char *drm_system, size_t drm_system_len, char *error_diagnosis,
                     size_t error_diag_len) {
  (void)error_diagnosis;
  (void)error_diag_len;
  if (drm_system && drm_system_len)
    snprintf(drm_system, drm_system_len, "boxq %s", BOXQ_VERSION);
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_get_DRMAA_implementation(char *drmaa_impl, size_t drmaa_impl_len, char *error_diagnosis,
                               size_t error_diag_len) {
  (void)error_diagnosis;
  (void)error_diag_len;
  if (drmaa_impl && drmaa_impl_len)
    snprintf(drmaa_impl, drmaa_impl_len, "boxq libdrmaa %s (DRMAA 1.0)", BOXQ_VERSION);
  return DRMAA_ERRNO_SUCCESS;
}
