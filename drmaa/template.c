/* SPDX-License-Identifier: MIT */
/* Job templates: the attributes boxq takes, checked as they are set so
 * that a bad value is refused where it was given. Optional attributes
 * boxq cannot honour (soft limits, deadlines, file transfer) are not
 * listed and are refused if set, rather than silently ignored. */
#include "internal.h"

#include <string.h>

const char *const dattr_names[DA_NSCALAR] = {
    [DA_REMOTE_COMMAND] = DRMAA_REMOTE_COMMAND,
    [DA_JS_STATE] = DRMAA_JS_STATE,
    [DA_WD] = DRMAA_WD,
    [DA_JOB_CATEGORY] = DRMAA_JOB_CATEGORY,
    [DA_NATIVE_SPECIFICATION] = DRMAA_NATIVE_SPECIFICATION,
    [DA_BLOCK_EMAIL] = DRMAA_BLOCK_EMAIL,
    [DA_START_TIME] = DRMAA_START_TIME,
    [DA_JOB_NAME] = DRMAA_JOB_NAME,
    [DA_INPUT_PATH] = DRMAA_INPUT_PATH,
    [DA_OUTPUT_PATH] = DRMAA_OUTPUT_PATH,
    [DA_ERROR_PATH] = DRMAA_ERROR_PATH,
    [DA_JOIN_FILES] = DRMAA_JOIN_FILES,
    [DA_WCT_HLIMIT] = DRMAA_WCT_HLIMIT,
    [DA_DURATION_HLIMIT] = DRMAA_DURATION_HLIMIT,
};

const char *const dvattr_names[DV_NVECTOR] = {
    [DV_ARGV] = DRMAA_V_ARGV,
    [DV_ENV] = DRMAA_V_ENV,
    [DV_EMAIL] = DRMAA_V_EMAIL,
};

static const char *const unsupported[] = {DRMAA_TRANSFER_FILES, DRMAA_DEADLINE_TIME,
                                          DRMAA_WCT_SLIMIT, DRMAA_DURATION_SLIMIT};

static int
scalar_index(const char *name) {
  for (int i = 0; i < DA_NSCALAR; i++)
    if (!strcmp(name, dattr_names[i]))
      return i;
  return -1;
}

static int
vector_index(const char *name) {
  for (int i = 0; i < DV_NVECTOR; i++)
    if (!strcmp(name, dvattr_names[i]))
      return i;
  return -1;
}

/* Finds NAME among the scalar (want_vector false) or vector attributes;
 * on a miss, *err is the DRMAA error naming why: the other kind, an
 * optional attribute boxq leaves out, or no such attribute. */
static int
attr_index(const char *name, bool want_vector, char *diag, size_t len, int *err) {
  int idx = want_vector ? vector_index(name) : scalar_index(name);
  if (idx >= 0)
    return idx;
  if ((want_vector ? scalar_index(name) : vector_index(name)) >= 0)
    *err = derr(diag, len, DRMAA_ERRNO_INVALID_ARGUMENT, "%s is a %s attribute (drmaa_%s)", name,
                want_vector ? "scalar" : "vector",
                want_vector ? "set_attribute" : "set_vector_attribute");
  else {
    bool optional = false;
    for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
      optional |= !strcmp(name, unsupported[i]);
    *err = derr(diag, len, DRMAA_ERRNO_INVALID_ARGUMENT,
                optional ? "%s is an optional attribute boxq does not support"
                         : "unknown attribute '%s'",
                name);
  }
  return -1;
}

int
drmaa_allocate_job_template(drmaa_job_template_t **jt, char *error_diagnosis,
                            size_t error_diag_len) {
  if (!jt)
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT, "jt is NULL");
  pthread_mutex_lock(&dsess.lock);
  int r = dsession_check(error_diagnosis, error_diag_len);
  pthread_mutex_unlock(&dsess.lock);
  if (r)
    return r;
  *jt = xcalloc(1, sizeof(**jt));
  return DRMAA_ERRNO_SUCCESS;
}

static void
free_vector(char **v) {
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

int
drmaa_delete_job_template(drmaa_job_template_t *jt, char *error_diagnosis, size_t error_diag_len) {
  if (!jt)
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT, "jt is NULL");
  for (int i = 0; i < DA_NSCALAR; i++)
    free(jt->scalar[i]);
  for (int i = 0; i < DV_NVECTOR; i++)
    free_vector(jt->vector[i]);
  free(jt);
  return DRMAA_ERRNO_SUCCESS;
}

/* Values checked as they are set: the format errors the standard names. */
static int
check_value(int idx, const char *value, char *diag, size_t len) {
  switch (idx) {
    case DA_JS_STATE:
      if (strcmp(value, DRMAA_SUBMISSION_STATE_ACTIVE) &&
          strcmp(value, DRMAA_SUBMISSION_STATE_HOLD))
        return derr(diag, len, DRMAA_ERRNO_INVALID_ATTRIBUTE_VALUE,
                    DRMAA_JS_STATE " is " DRMAA_SUBMISSION_STATE_ACTIVE
                                   " or " DRMAA_SUBMISSION_STATE_HOLD ", not '%s'",
                    value);
      break;
    case DA_JOIN_FILES:
    case DA_BLOCK_EMAIL:
      if (strcmp(value, "y") && strcmp(value, "n") && strcmp(value, "1") && strcmp(value, "0"))
        return derr(diag, len, DRMAA_ERRNO_INVALID_ATTRIBUTE_VALUE, "%s is y or n, not '%s'",
                    dattr_names[idx], value);
      break;
    case DA_WCT_HLIMIT:
    case DA_DURATION_HLIMIT: {
      int64_t sec;
      struct berr err = {{0}};
      if (res_parse_duration(value, &sec, &err) < 0)
        return derr(diag, len, DRMAA_ERRNO_INVALID_ATTRIBUTE_FORMAT,
                    "%s '%s': [[hours:]minutes:]seconds", dattr_names[idx], value);
      break;
    }
    default:
      break;
  }
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_set_attribute(drmaa_job_template_t *jt, const char *name, const char *value,
                    char *error_diagnosis, size_t error_diag_len) {
  if (!jt || !name)
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT,
                "no template or no attribute name");
  int err, idx = attr_index(name, false, error_diagnosis, error_diag_len, &err);
  if (idx < 0)
    return err;
  int r = value ? check_value(idx, value, error_diagnosis, error_diag_len) : 0;
  if (r)
    return r;
  free(jt->scalar[idx]);
  jt->scalar[idx] = value ? xstrdup(value) : NULL;
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_get_attribute(drmaa_job_template_t *jt, const char *name, char *value, size_t value_len,
                    char *error_diagnosis, size_t error_diag_len) {
  if (!jt || !name)
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT,
                "no template or no attribute name");
  int err, idx = attr_index(name, false, error_diagnosis, error_diag_len, &err);
  if (idx < 0)
    return err;
  if (!jt->scalar[idx])
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT, "%s is not set",
                name);
  if (value && value_len)
    snprintf(value, value_len, "%s", jt->scalar[idx]);
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_set_vector_attribute(drmaa_job_template_t *jt, const char *name, const char *value[],
                           char *error_diagnosis, size_t error_diag_len) {
  if (!jt || !name)
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT,
                "no template or no attribute name");
  int err, idx = attr_index(name, true, error_diagnosis, error_diag_len, &err);
  if (idx < 0)
    return err;
  size_t n = 0;
  while (value && value[n])
    n++;
  for (size_t i = 0; idx == DV_ENV && i < n; i++)
    if (!strchr(value[i], '=') || value[i][0] == '=')
      return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ATTRIBUTE_FORMAT,
                  DRMAA_V_ENV " entries are NAME=value, not '%s'", value[i]);
  char **v = xcalloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++)
    v[i] = xstrdup(value[i]);
  free_vector(jt->vector[idx]);
  jt->vector[idx] = v;
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_get_vector_attribute(drmaa_job_template_t *jt, const char *name, drmaa_attr_values_t **values,
                           char *error_diagnosis, size_t error_diag_len) {
  if (!jt || !name || !values)
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT,
                "no template, name or result");
  int err, idx = attr_index(name, true, error_diagnosis, error_diag_len, &err);
  if (idx < 0)
    return err;
  if (!jt->vector[idx])
    return derr(error_diagnosis, error_diag_len, DRMAA_ERRNO_INVALID_ARGUMENT, "%s is not set",
                name);
  *values = xcalloc(1, sizeof(**values));
  for (size_t i = 0; jt->vector[idx][i]; i++)
    dlist_add(&(*values)->l, jt->vector[idx][i]);
  return DRMAA_ERRNO_SUCCESS;
}

/* A names list of n names. */
static int
names_list(drmaa_attr_names_t **values, const char *const *names, int n, char *diag, size_t len) {
  if (!values)
    return derr(diag, len, DRMAA_ERRNO_INVALID_ARGUMENT, "values is NULL");
  *values = xcalloc(1, sizeof(**values));
  for (int i = 0; i < n; i++)
    dlist_add(&(*values)->l, names[i]);
  return DRMAA_ERRNO_SUCCESS;
}

int
drmaa_get_attribute_names(drmaa_attr_names_t **values, char *error_diagnosis,
                          size_t error_diag_len) {
  return names_list(values, dattr_names, DA_NSCALAR, error_diagnosis, error_diag_len);
}

int
drmaa_get_vector_attribute_names(drmaa_attr_names_t **values, char *error_diagnosis,
                                 size_t error_diag_len) {
  return names_list(values, dvattr_names, DV_NVECTOR, error_diagnosis, error_diag_len);
}
