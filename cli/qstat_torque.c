/* SPDX-License-Identifier: MIT */
/* qstat's output as Torque prints it (dialect = torque): the summary
 * table, the alternate table (-a, -n, -1, -s, -R), the full display (-f)
 * and the XML of -x, for the tools written against Torque. Values come
 * from jobfields.c's torque_fields; column widths are Torque's. */
#include "qstat_torque.h"

#include <string.h>

static char *
tcol(const struct job_rec *j, const char *server, const char *key) {
  return fields_text(&torque_fields, key, j, server);
}

/* Torque keeps a long name's tail: "..." and its last 13 characters, from
 * a '/' in them if there is one. */
static void
short_name(const char *name, char *buf, size_t len) {
  size_t n = fmt_text_chars(name);
  if (n <= 16) {
    snprintf(buf, len, "%s", name);
    return;
  }
  const char *tail = fmt_text_skip(name, n - 13), *slash = strchr(tail, '/');
  snprintf(buf, len, "...%s", slash ? slash : tail);
}

void
torque_print_table(const char *server, const struct joblist *l) {
  if (l->n == 0)
    return;
  printf("Job ID                    Name             User            Time Use S Queue\n");
  printf("------------------------- ---------------- --------------- -------- - -----\n");
  for (size_t i = 0; i < l->n; i++) {
    const struct job_rec *j = &l->jobs[i];
    _cleanup_free_ char *id = job_display_id(j, server);
    _cleanup_free_ char *name = tcol(j, server, "Job_Name"),
                        *user = xstrdup(j->owner ? j->owner : "?");
    _cleanup_free_ char *cput = tcol(j, server, "resources_used.cput");
    _cleanup_free_ char *state = tcol(j, server, "job_state"), *queue = tcol(j, server, "queue");
    char shown[128];
    short_name(name, shown, sizeof(shown));
    printf("%-25s ", id);
    fmt_put_text(shown, 16, true);
    putchar(' ');
    fmt_put_text(user, 15, true);
    printf(" %8.8s %1.1s ", *cput ? cput : "0", state);
    fmt_put_text(queue, 15, true);
    putchar('\n');
  }
}

/* exec_host as Torque's -n prints it: each host's domain left out. */
static void
print_nodes(const char *hosts) {
  if (!*hosts)
    return;
  fputs("   ", stdout);
  for (const char *p = hosts; *p;) {
    if (*p == '.') {
      p += strcspn(p, "+");
      continue;
    }
    putchar(*p++);
  }
  putchar('\n');
}

void
torque_print_alternate(const char *server, const struct joblist *l, const struct torque_alt *o) {
  static const char blank[] = " -- ";
  if (l->n == 0)
    return;
  printf("\n%s: ", server);
  if (o->srfs) {
    printf(
        "\n                                                          Req'd     Req'd       Elap");
    printf("\nJob ID                  Username    Queue    NDS   TSK    Memory    Time      S Time "
           "      BIG  FAST   PFS");
    printf("\n----   ---------------- ----------- -------- ----- ------ --------- --------- - "
           "--------- ----- ----- -----\n");
  } else {
    printf("\n                                                                                  "
           "Req'd       Req'd       Elap");
    printf("\nJob ID                  Username    Queue    Jobname          SessID  NDS   TSK   "
           "Memory      Time    S   Time");
    printf("\n----------------------- ----------- -------- ---------------- ------ ----- ------ "
           "--------- --------- - ---------\n");
  }
  for (size_t i = 0; i < l->n; i++) {
    const struct job_rec *j = &l->jobs[i];
    _cleanup_free_ char *id = job_display_id(j, server);
    _cleanup_free_ char *user = xstrdup(j->owner ? j->owner : "?"),
                        *queue = tcol(j, server, "queue");
    _cleanup_free_ char *name = tcol(j, server, "Job_Name");
    _cleanup_free_ char *nodect = tcol(j, server, "Resource_List.nodect");
    _cleanup_free_ char *tasks = tcol(j, server, "Resource_List.ncpus");
    _cleanup_free_ char *mem = tcol(j, server, "Resource_List.mem");
    _cleanup_free_ char *wall = tcol(j, server, "Resource_List.walltime");
    _cleanup_free_ char *state = tcol(j, server, "job_state");
    _cleanup_free_ char *elap = tcol(j, server, "resources_used.walltime");
    _cleanup_free_ char *hosts = tcol(j, server, "exec_host");
    _cleanup_free_ char *comment = tcol(j, server, "comment");
    /* Torque shows elapsed time only for jobs that have started and not
     * completed. */
    bool ran = !strchr("QCHW", state[0]);
    printf("%-23s ", id);
    fmt_put_text(user, 11, true);
    putchar(' ');
    fmt_put_text(queue, 8, true);
    putchar(' ');
    if (o->srfs)
      printf("%5.5s %6.6s %9.9s %9.9s %1.1s %9.9s %5.5s %5.5s %5.5s", *nodect ? nodect : "1", tasks,
             *mem ? mem : blank, *wall ? wall : blank, state, ran && *elap ? elap : blank, blank,
             blank, blank);
    else {
      fmt_put_text(name, 16, true);
      printf(" %6.6s %5.5s %6.6s %9.9s %9.9s %1.1s %9.9s", blank, *nodect ? nodect : "1", tasks,
             *mem ? mem : blank, *wall ? wall : blank, state, ran && *elap ? elap : blank);
    }
    if (!o->one_line)
      putchar('\n');
    if (o->nodes)
      print_nodes(hosts);
    if (o->comments && *comment)
      printf("   %s\n", comment);
    /* Torque runs the next job onto a line without a host; boxq ends it. */
    if (o->one_line && !(o->nodes && *hosts) && !(o->comments && *comment))
      putchar('\n');
  }
}

void
torque_print_full(const char *server, const struct joblist *l) {
  for (size_t i = 0; i < l->n; i++) {
    _cleanup_free_ char *id = job_display_id(&l->jobs[i], server);
    printf("Job Id: %s\n", id);
    fields_print_kv(&torque_fields, &l->jobs[i], server);
    putchar('\n');
  }
}

void
torque_print_xml(const char *server, const struct joblist *l) {
  fputs("<?xml version=\"1.0\"?>\n<Data>", stdout);
  for (size_t i = 0; i < l->n; i++)
    fields_xml(&torque_fields, &l->jobs[i], server, stdout);
  fputs("</Data>\n", stdout);
}
