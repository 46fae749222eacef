/* SPDX-License-Identifier: MIT */
/* A DRMAA 1.0 program built against another implementation's drmaa.h
 * (Debian's gridengine-drmaa-dev) and linked with boxq's libdrmaa: the
 * standard's names, types and values must be the same for it to work.
 * Each check prints "ok - ..." or "not ok - ..."; the exit status is the
 * number that failed. Run against real daemons (tests/integration/drmaa.sh). */
#include <drmaa.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failed;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    bool ok_ = (cond);                                                                             \
    printf("%s - ", ok_ ? "ok" : "not ok");                                                        \
    printf(__VA_ARGS__);                                                                           \
    printf("\n");                                                                                  \
    failed += !ok_;                                                                                \
  } while (0)

/* Calls through the types of the header the program was built with (the
 * library's own definitions are compiled against that header too, by
 * drmaa_header_check in tests/CMakeLists.txt). */
static int (*const p_init)(const char *, char *, size_t) = drmaa_init;
static int (*const p_run)(char *, size_t, const drmaa_job_template_t *, char *,
                          size_t) = drmaa_run_job;
static int (*const p_wait)(const char *, char *, size_t, int *, signed long, drmaa_attr_values_t **,
                           char *, size_t) = drmaa_wait;
static int (*const p_bulk)(drmaa_job_ids_t **, const drmaa_job_template_t *, unsigned, unsigned,
                           int, char *, size_t) = drmaa_run_bulk_jobs;
static int (*const p_sync)(const char **, signed long, int, char *, size_t) = drmaa_synchronize;

int
main(void) {
  char err[DRMAA_ERROR_STRING_BUFFER] = "";
  char id[DRMAA_JOBNAME_BUFFER], out[DRMAA_JOBNAME_BUFFER];
  CHECK(DRMAA_ERRNO_INVALID_JOB == 18 && DRMAA_ERRNO_NO_MORE_ELEMENTS == 25 &&
            DRMAA_PS_DONE == 0x30 && DRMAA_PS_FAILED == 0x40 && DRMAA_CONTROL_TERMINATE == 4,
        "the header's constants are the standard's");
  CHECK(drmaa_exit(err, sizeof(err)) == DRMAA_ERRNO_NO_ACTIVE_SESSION,
        "drmaa_exit without a session: NO_ACTIVE_SESSION (%s)", err);
  CHECK(p_init("elsewhere:1234", err, sizeof(err)) == DRMAA_ERRNO_INVALID_CONTACT_STRING,
        "a foreign contact string is refused (%s)", err);
  int r = p_init(NULL, err, sizeof(err));
  CHECK(r == DRMAA_ERRNO_SUCCESS, "drmaa_init (%s)", r ? err : "ok");
  if (r)
    return 1;
  CHECK(drmaa_init(NULL, err, sizeof(err)) == DRMAA_ERRNO_ALREADY_ACTIVE_SESSION,
        "a second drmaa_init: ALREADY_ACTIVE_SESSION");
  char sys[DRMAA_DRM_SYSTEM_BUFFER];
  unsigned major = 0, minor = 9;
  drmaa_get_DRM_system(sys, sizeof(sys), err, sizeof(err));
  drmaa_version(&major, &minor, err, sizeof(err));
  CHECK(strncmp(sys, "boxq", 4) == 0 && major == 1 && minor == 0, "%s, DRMAA %u.%u", sys, major,
        minor);

  drmaa_attr_names_t *names;
  drmaa_get_attribute_names(&names, err, sizeof(err));
  char name[DRMAA_ATTR_BUFFER];
  bool has_cmd = false;
  size_t n = 0;
  while (drmaa_get_next_attr_name(names, name, sizeof(name)) == DRMAA_ERRNO_SUCCESS)
    has_cmd |= !strcmp(name, DRMAA_REMOTE_COMMAND), n++;
  int counted = 0;
  drmaa_get_num_attr_names(names, &counted);
  drmaa_release_attr_names(names);
  CHECK(has_cmd && n == (size_t)counted, "the attribute names list %zu names", n);

  drmaa_job_template_t *jt;
  drmaa_allocate_job_template(&jt, err, sizeof(err));
  drmaa_set_attribute(jt, DRMAA_REMOTE_COMMAND, "/bin/sh", err, sizeof(err));
  const char *args[] = {"-c", "exit 3", NULL};
  drmaa_set_vector_attribute(jt, DRMAA_V_ARGV, args, err, sizeof(err));
  drmaa_set_attribute(jt, DRMAA_OUTPUT_PATH, ":/dev/null", err, sizeof(err));
  drmaa_set_attribute(jt, DRMAA_JOIN_FILES, "y", err, sizeof(err));
  CHECK(drmaa_set_attribute(jt, DRMAA_JS_STATE, "sideways", err, sizeof(err)) ==
            DRMAA_ERRNO_INVALID_ATTRIBUTE_VALUE,
        "a bad submission state is refused (%s)", err);
  CHECK(drmaa_set_attribute(jt, DRMAA_DEADLINE_TIME, "12:00", err, sizeof(err)) ==
            DRMAA_ERRNO_INVALID_ARGUMENT,
        "an unsupported attribute is refused, not ignored (%s)", err);
  r = p_run(id, sizeof(id), jt, err, sizeof(err));
  CHECK(r == DRMAA_ERRNO_SUCCESS, "drmaa_run_job: job %s (%s)", id, r ? err : "ok");
  int stat = 0;
  drmaa_attr_values_t *rusage = NULL;
  r = p_wait(id, out, sizeof(out), &stat, DRMAA_TIMEOUT_WAIT_FOREVER, &rusage, err, sizeof(err));
  int exited = 0, code = -1, signaled = 1, aborted = 1;
  drmaa_wifexited(&exited, stat, err, sizeof(err));
  drmaa_wexitstatus(&code, stat, err, sizeof(err));
  drmaa_wifsignaled(&signaled, stat, err, sizeof(err));
  drmaa_wifaborted(&aborted, stat, err, sizeof(err));
  CHECK(r == 0 && !strcmp(out, id) && exited && code == 3 && !signaled && !aborted,
        "drmaa_wait: job %s exited with 3", out);
  char value[DRMAA_ATTR_BUFFER];
  bool wall = false;
  while (rusage && drmaa_get_next_attr_value(rusage, value, sizeof(value)) == 0)
    wall |= !strncmp(value, "ru_wallclock=", 13);
  drmaa_release_attr_values(rusage);
  CHECK(wall, "with its resource usage (ru_wallclock)");
  int ps = 0;
  drmaa_job_ps(id, &ps, err, sizeof(err));
  CHECK(ps == DRMAA_PS_FAILED, "drmaa_job_ps of a finished job that exited 3: FAILED");
  CHECK(p_wait(id, out, sizeof(out), &stat, 0, NULL, err, sizeof(err)) == DRMAA_ERRNO_INVALID_JOB,
        "waiting again for a reaped job: INVALID_JOB");

  args[1] = "sleep 100";
  drmaa_set_vector_attribute(jt, DRMAA_V_ARGV, args, err, sizeof(err));
  drmaa_job_ids_t *ids = NULL;
  r = p_bulk(&ids, jt, 1, 5, 2, err, sizeof(err));
  const char *bulk[4] = {NULL};
  char bulk_ids[3][64];
  for (int i = 0; i < 3 && drmaa_get_next_job_id(ids, bulk_ids[i], 64) == 0; i++)
    bulk[i] = bulk_ids[i];
  drmaa_release_job_ids(ids);
  CHECK(r == 0 && bulk[2] && strstr(bulk[2], "[5]"), "drmaa_run_bulk_jobs 1-5:2: %s %s %s", bulk[0],
        bulk[1], bulk[2]);
  CHECK(p_sync(bulk, 1, 0, err, sizeof(err)) == DRMAA_ERRNO_EXIT_TIMEOUT,
        "drmaa_synchronize times out while they run (%s)", err);
  CHECK(drmaa_control(DRMAA_JOB_IDS_SESSION_ALL, DRMAA_CONTROL_TERMINATE, err, sizeof(err)) == 0,
        "drmaa_control TERMINATE of the session's jobs");
  CHECK(p_sync(bulk, 30, 1, err, sizeof(err)) == 0, "drmaa_synchronize then returns");
  drmaa_job_ps(bulk[0], &ps, err, sizeof(err));
  CHECK(ps == DRMAA_PS_FAILED, "a terminated job: FAILED");
  CHECK(drmaa_job_ps("999999", &ps, err, sizeof(err)) == DRMAA_ERRNO_INVALID_JOB,
        "an unknown job: INVALID_JOB (%s)", err);
  CHECK(strlen(drmaa_strerror(DRMAA_ERRNO_INVALID_JOB)) > 0, "drmaa_strerror: %s",
        drmaa_strerror(DRMAA_ERRNO_INVALID_JOB));
  drmaa_delete_job_template(jt, err, sizeof(err));
  CHECK(drmaa_exit(err, sizeof(err)) == 0, "drmaa_exit");
  return failed;
}
