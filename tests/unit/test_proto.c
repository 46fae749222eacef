/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "job.h"
#include "proto.h"

static void
roundtrip(void **state) {
  (void)state;
  struct pbuf b = {0};
  pb_begin(&b, MSG_STAT);
  pb_i64(&b, T_FLAGS, 3);
  pb_str(&b, T_MESSAGE, "hello");
  pb_i64(&b, T_JOBID, 7);
  pb_i64(&b, T_JOBID, 8);
  pb_end(&b);
  struct pmsg m;
  assert_int_equal(proto_parse_frame(b.data, b.len, &m), 0);
  assert_int_equal(m.type, MSG_STAT);
  assert_int_equal(pmsg_i64_or(&m, T_FLAGS, 0), 3);
  assert_string_equal(pmsg_str(&m, T_MESSAGE), "hello");
  size_t off = 0, n = 0;
  struct pfield f;
  while (pmsg_next(&m, &off, &f))
    n += f.tag == T_JOBID;
  assert_int_equal(n, 2);
  pbuf_free(&b);
}

static void
framer_in_pieces(void **state) {
  (void)state;
  struct pbuf b = {0};
  for (int i = 0; i < 3; i++) {
    pb_begin(&b, MSG_HOLD);
    pb_i64(&b, T_JOBID, i);
    pb_end(&b);
  }
  struct pframer fr = {0};
  int got = 0;
  /* One byte at a time: frames must come out whole and in order. */
  for (size_t i = 0; i < b.len; i++) {
    assert_int_equal(pframer_feed(&fr, b.data + i, 1), 0);
    struct pmsg m;
    size_t flen;
    int r;
    while ((r = pframer_next(&fr, &m, &flen)) == 1) {
      assert_int_equal(pmsg_i64_or(&m, T_JOBID, -1), got);
      got++;
      pframer_consume(&fr, flen);
    }
    assert_int_equal(r, 0);
  }
  assert_int_equal(got, 3);
  pframer_free(&fr);
  pbuf_free(&b);
}

static void
rejects_bad_frames(void **state) {
  (void)state;
  struct pframer fr = {0};
  struct pmsg m;
  size_t flen;
  /* Wrong magic. */
  uint8_t junk[PROTO_HDR_SIZE] = {1, 2, 3, 4, 1, 0, 0, 0, 0, 0, 0, 0};
  pframer_feed(&fr, junk, sizeof(junk));
  assert_true(pframer_next(&fr, &m, &flen) < 0);
  pframer_free(&fr);
  /* A length over the limit. */
  struct pbuf b = {0};
  pb_begin(&b, MSG_SUBMIT);
  pb_end(&b);
  uint32_t huge = PROTO_MAX_PAYLOAD + 1;
  memcpy(b.data + 8, &huge, 4);
  pframer_feed(&fr, b.data, b.len);
  assert_int_equal(pframer_next(&fr, &m, &flen), -E2BIG);
  pframer_free(&fr);
  pbuf_free(&b);
  /* Fields that overrun the payload. */
  uint8_t payload[6] = {3, 0, 100, 0, 0, 0};
  assert_int_equal(pmsg_init(&m, 0, payload, sizeof(payload)), -EBADMSG);
  /* Truncated field header. */
  assert_int_equal(pmsg_init(&m, 0, payload, 3), -EBADMSG);
  /* A stream that never ends a frame cannot grow without bound. */
  uint8_t chunk[65536] = {0};
  int r = 0;
  for (int i = 0; i < 1000 && r == 0; i++)
    r = pframer_feed(&fr, chunk, sizeof(chunk));
  assert_int_equal(r, -E2BIG);
  pframer_free(&fr);
}

static void
strings_must_be_terminated(void **state) {
  (void)state;
  struct pbuf b = {0};
  pb_begin(&b, MSG_SUBMIT);
  pb_bytes(&b, T_MESSAGE, "abc", 3); /* no NUL */
  pb_bytes(&b, T_SERVER, "a\0b", 4); /* embedded NUL */
  pb_bytes(&b, T_HOLD, "", 0);       /* empty: not even a NUL */
  pb_bytes(&b, T_FLAGS, "abc", 3);   /* not 8 bytes */
  pb_end(&b);
  struct pmsg m;
  assert_int_equal(proto_parse_frame(b.data, b.len, &m), 0);
  assert_null(pmsg_str(&m, T_MESSAGE));
  assert_null(pmsg_str(&m, T_SERVER));
  assert_null(pmsg_str(&m, T_HOLD));
  int64_t v;
  assert_int_equal(pmsg_i64(&m, T_FLAGS, &v), -EBADMSG);
  assert_int_equal(pmsg_i64(&m, T_JOBID, &v), -ENOENT);
  pbuf_free(&b);
}

static void
job_record_roundtrip(void **state) {
  (void)state;
  char *env[] = {(char *)"A=1", (char *)"B=x,y=z", NULL};
  struct job_rec j = {.id = 42,
                      .uid = 1000,
                      .gid = 100,
                      .owner = (char *)"alice",
                      .name = (char *)"naïve \"job\"",
                      .queue = (char *)"batch",
                      .state = JOB_RUNNING,
                      .workdir = (char *)"/home/alice",
                      .join = JOIN_OE,
                      .ncpus = 2,
                      .mem = 1 << 30,
                      .walltime = 60,
                      .has_exit = true,
                      .exit_status = 265,
                      .env = env,
                      .script = (char *)"#!/bin/sh\necho hi\n",
                      .script_len = 19,
                      .has_usage = true};
  j.usage.cpu_usec = 123456;
  j.usage.mem_peak = 999;
  j.usage.io_rbytes = -1;
  snprintf(j.usage.cg_backend, sizeof(j.usage.cg_backend), "v2");
  struct pbuf b = {0};
  pb_begin(&b, MSG_DISPATCH);
  size_t mark = pb_nest_begin(&b, T_JOB);
  job_rec_encode(&b, &j);
  pb_nest_end(&b, mark);
  pb_end(&b);
  struct pmsg m, sub;
  struct pfield f;
  assert_int_equal(proto_parse_frame(b.data, b.len, &m), 0);
  assert_true(pmsg_find(&m, T_JOB, &f));
  assert_int_equal(pmsg_sub(&f, &sub), 0);
  struct job_rec d;
  assert_int_equal(job_rec_decode(&sub, &d), 0);
  assert_int_equal(d.id, 42);
  assert_int_equal(d.uid, 1000);
  assert_string_equal(d.name, "naïve \"job\"");
  assert_int_equal(d.state, JOB_RUNNING);
  assert_int_equal(d.join, JOIN_OE);
  assert_int_equal(d.mem, 1 << 30);
  assert_true(d.has_exit);
  assert_int_equal(d.exit_status, 265);
  assert_string_equal(d.env[1], "B=x,y=z");
  assert_null(d.env[2]);
  assert_int_equal(d.script_len, 19);
  assert_memory_equal(d.script, j.script, 19);
  assert_true(d.has_usage);
  assert_int_equal(d.usage.cpu_usec, 123456);
  assert_int_equal(d.usage.io_rbytes, -1);
  assert_string_equal(d.usage.cg_backend, "v2");
  job_rec_free(&d);
  pbuf_free(&b);
}

static void
job_record_rejects_bad_env(void **state) {
  (void)state;
  struct pbuf b = {0};
  pb_begin(&b, MSG_SUBMIT);
  pb_str(&b, J_ENV, "NOEQUALS");
  pb_end(&b);
  struct pmsg m;
  assert_int_equal(proto_parse_frame(b.data, b.len, &m), 0);
  struct job_rec d;
  assert_int_equal(job_rec_decode(&m, &d), -EBADMSG);
  pbuf_free(&b);
}

static void
job_record_env_is_capped(void **state) {
  (void)state;
  struct pbuf b = {0};
  pb_begin(&b, MSG_SUBMIT);
  for (int i = 0; i < JOB_ENV_MAX + 1; i++)
    pb_str(&b, J_ENV, "A=");
  pb_end(&b);
  struct pmsg m;
  assert_int_equal(proto_parse_frame(b.data, b.len, &m), 0);
  struct job_rec d;
  assert_int_equal(job_rec_decode(&m, &d), -E2BIG);
  pbuf_free(&b);
  /* Just under the cap decodes, every variable kept in order. */
  pb_begin(&b, MSG_SUBMIT);
  char kv[32];
  for (int i = 0; i < 1000; i++) {
    snprintf(kv, sizeof(kv), "V%d=%d", i, i);
    pb_str(&b, J_ENV, kv);
  }
  pb_end(&b);
  assert_int_equal(proto_parse_frame(b.data, b.len, &m), 0);
  assert_int_equal(job_rec_decode(&m, &d), 0);
  assert_int_equal(job_env_count(d.env), 1000);
  assert_string_equal(d.env[999], "V999=999");
  job_rec_free(&d);
  pbuf_free(&b);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(roundtrip),
      cmocka_unit_test(framer_in_pieces),
      cmocka_unit_test(rejects_bad_frames),
      cmocka_unit_test(strings_must_be_terminated),
      cmocka_unit_test(job_record_roundtrip),
      cmocka_unit_test(job_record_rejects_bad_env),
      cmocka_unit_test(job_record_env_is_capped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
