/* SPDX-License-Identifier: MIT */
/* One description of what boxq shows of a job. Every form — qstat's
 * tables, qstat -f's "key = value", qacct -j, and their JSON — takes its
 * values from these fields, so the forms cannot disagree. */
#pragma once

#include "cli.h"
#include "json.h"

enum fval_type {
  FV_ABSENT, /* not shown */
  FV_STR,
  FV_INT,
  FV_NUM,
  FV_TIME,      /* a date: text as ctime(3) prints it, i the epoch seconds */
  FV_ENV,       /* Variable_List: a comma list in text, an object in JSON */
  FV_RESOURCES, /* other resources, "name=value,...": one KEY.name each */
};

/* A value: text for the PBS forms, typed for JSON. */
struct fval {
  enum fval_type type;
  char *text; /* allocated */
  int64_t i;
  double num;
};

struct job_field;

struct field_set {
  const struct job_field *fields;
  size_t n;
};

extern const struct field_set qstat_fields;  /* qstat -f, PBS attribute names */
extern const struct field_set acct_fields;   /* qacct -j */
extern const struct field_set torque_fields; /* qstat -f and -x under the torque dialect */

/* The text of one qstat -f field by key ("" if absent; allocated). Table
 * columns are read through this. */
char *job_field_text(const char *key, const struct job_rec *j, const char *server);
/* The same from another set of fields (torque_fields). */
char *fields_text(const struct field_set *fs, const char *key, const struct job_rec *j,
                  const char *server);

/* "    key = value" lines, as qstat -f. */
void fields_print_kv(const struct field_set *fs, const struct job_rec *j, const char *server);
/* "key             value" lines, as qacct -j. */
void fields_print_aligned(const struct field_set *fs, const struct job_rec *j, const char *server);
/* One <Job> element of Torque's qstat -x: "a.b" keys nest
 * (<Resource_List><mem>...), dates are epoch seconds, text is escaped. */
void fields_xml(const struct field_set *fs, const struct job_rec *j, const char *server, FILE *out);
/* The fields as members of the JSON object open in js; "a.b" keys nest
 * ("Resource_List": {"mem": ...}). */
void fields_json(const struct field_set *fs, const struct job_rec *j, const char *server,
                 struct json *js);
