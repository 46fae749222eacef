/* SPDX-License-Identifier: MIT */
/* Handing a job to a shepherd never waits on the worker's side, and any job
 * qsub accepts crosses whole: inline when it surely fits the socket's
 * buffer, in a memfd when it does not (a 1 MiB environment, or a socket
 * with the smallest buffer the kernel allows). */
#include "handover.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

/* A job with nvars variables of vlen bytes each. */
static void
make_job(struct job_rec *j, size_t nvars, size_t vlen) {
  *j = (struct job_rec){.id = 42, .uid = 1000, .gid = 1000};
  j->name = xstrdup("big");
  j->env = xcalloc(nvars + 1, sizeof(char *));
  for (size_t i = 0; i < nvars; i++) {
    j->env[i] = xmalloc(vlen + 16);
    int n = snprintf(j->env[i], 16, "V%zu=", i);
    memset(j->env[i] + n, 'x', vlen);
    j->env[i][n + vlen] = '\0';
  }
}

/* Sends job over a fresh pair (the worker's end non-blocking, its send
 * buffer sndbuf if not 0), receives it, and checks what came. */
static void
round_trip(size_t nvars, size_t vlen, int sndbuf, bool expect_large) {
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  if (sndbuf)
    assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
  struct job_rec job;
  make_job(&job, nvars, vlen);
  struct user_info user = {
      .name = (char *)"alice", .dir = (char *)"/home/alice", .shell = (char *)"/bin/sh"};
  gid_t groups[] = {1000, 27};
  user.groups = groups;
  user.ngroups = 2;
  struct pbuf b = {0};
  handover_encode(&b, 7, "/run/boxq/x/42", &job, &user, 0, NULL);
  assert_int_equal(handover_send(sv[0], &b), 0);

  struct pframer fr = {0};
  struct handover h;
  assert_int_equal(handover_recv(sv[1], &fr, &h), 1);
  assert_int_equal(h.seq, 7);
  assert_string_equal(h.jobdir, "/run/boxq/x/42");
  assert_int_equal(h.job.id, 42);
  assert_true(h.has_user);
  assert_string_equal(h.user.name, "alice");
  assert_int_equal(h.user.ngroups, 2);
  assert_int_equal(h.user.groups[1], 27);
  assert_int_equal(job_env_count(h.job.env), nvars);
  assert_string_equal(h.job.env[nvars - 1], job.env[nvars - 1]);
  assert_int_equal(h.large, expect_large);
  handover_free(&h);

  /* The channel goes on: EOF once the worker's end is closed. */
  close(sv[0]);
  assert_int_equal(handover_recv(sv[1], &fr, &h), 0);
  pframer_free(&fr);
  pbuf_free(&b);
  job_rec_free(&job);
  close(sv[1]);
}

static void
small_job_goes_inline(void **state) {
  (void)state;
  round_trip(20, 40, 0, false);
}

static void
environment_at_the_limit_goes_in_a_memfd(void **state) {
  (void)state;
  /* 4,000 variables, about 1 MiB: far past any socket buffer. */
  round_trip(4000, 248, 0, true);
}

static void
smallest_socket_buffer_still_works(void **state) {
  (void)state;
  /* The kernel's floor for SO_SNDBUF is about 4.5 KiB. */
  round_trip(50, 100, 1, true);
  round_trip(4, 10, 1, false);
}

static void
several_in_a_row(void **state) {
  (void)state;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  struct pframer fr = {0};
  for (int i = 0; i < 6; i++) {
    struct job_rec job;
    make_job(&job, i % 2 ? 4000 : 3, 248);
    struct pbuf b = {0};
    handover_encode(&b, (uint32_t)i + 1, "/d", &job, NULL, -ENOENT, "no such user");
    assert_int_equal(handover_send(sv[0], &b), 0);
    struct handover h;
    assert_int_equal(handover_recv(sv[1], &fr, &h), 1);
    assert_int_equal(h.seq, i + 1);
    assert_false(h.has_user);
    assert_string_equal(h.user_error, "no such user");
    assert_int_equal(job_env_count(h.job.env), i % 2 ? 4000 : 3);
    handover_free(&h);
    pbuf_free(&b);
    job_rec_free(&job);
  }
  pframer_free(&fr);
  close(sv[0]);
  close(sv[1]);
}

static void
announced_memfd_missing_is_refused(void **state) {
  (void)state;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  /* An announcement (tag 10, H_IN_MEMFD) with no descriptor beside it. */
  struct pbuf b = {0};
  pb_begin(&b, MSG_DISPATCH);
  pb_i64(&b, 10, 100000);
  pb_end(&b);
  assert_int_equal(write(sv[0], b.data, b.len), (ssize_t)b.len);
  struct pframer fr = {0};
  struct handover h;
  assert_int_equal(handover_recv(sv[1], &fr, &h), -EBADMSG);
  pframer_free(&fr);
  pbuf_free(&b);
  close(sv[0]);
  close(sv[1]);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(small_job_goes_inline),
      cmocka_unit_test(environment_at_the_limit_goes_in_a_memfd),
      cmocka_unit_test(smallest_socket_buffer_still_works),
      cmocka_unit_test(several_in_a_row),
      cmocka_unit_test(announced_memfd_missing_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
