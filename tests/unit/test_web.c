/* SPDX-License-Identifier: MIT */
/* boxq-web's building blocks: what reaches a page is escaped (HTML, and
 * Prometheus label values), sizes and spans read as people write them,
 * server info lines are found by key, and the plots draw what they are
 * given (every point, the limit line). The pages against real daemons
 * and a real browser: tests/integration/web.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "web.h"

#include <string.h>

static void
html_and_labels_are_escaped(void **state) {
  (void)state;
  struct sb b = {0};
  sb_html(&b, "<script>alert('x' & \"y\")</script>\x01");
  assert_string_equal(b.s, "&lt;script&gt;alert(&#39;x&#39; &amp; &quot;y&quot;)&lt;/script&gt;"
                           "\xef\xbf\xbd");
  sb_free(&b);
  sb_label(&b, "a\"b\\c\nd");
  assert_string_equal(b.s, "a\\\"b\\\\c\\nd");
  sb_free(&b);
  sb_html(&b, NULL); /* nothing, no crash */
  assert_null(b.s);
}

static void
a_long_text_grows_the_buffer(void **state) {
  (void)state;
  struct sb b = {0};
  for (int i = 0; i < 10000; i++)
    sb_printf(&b, "%d,", i);
  assert_int_equal(b.len, strlen(b.s));
  assert_true(strncmp(b.s, "0,1,2,", 6) == 0);
  assert_non_null(strstr(b.s, ",9999,"));
  sb_free(&b);
}

static void
sizes_and_spans_read_as_written(void **state) {
  (void)state;
  char buf[32];
  fmt_bytes(80 << 20, buf, sizeof(buf));
  assert_string_equal(buf, "80 MiB");
  fmt_bytes(1073741824, buf, sizeof(buf));
  assert_string_equal(buf, "1 GiB");
  fmt_bytes(1536 << 10, buf, sizeof(buf));
  assert_string_equal(buf, "1.50 MiB");
  fmt_bytes(-1, buf, sizeof(buf));
  assert_string_equal(buf, "-");
  fmt_span(3725, buf, sizeof(buf));
  assert_string_equal(buf, "1h 02m");
  fmt_span(185, buf, sizeof(buf));
  assert_string_equal(buf, "3m 05s");
  fmt_span(2 * 86400 + 7200, buf, sizeof(buf));
  assert_string_equal(buf, "2d 02h");
}

static void
info_lines_are_found_by_key(void **state) {
  (void)state;
  const char *info = "ncpus=4\nmem=1073741824\nncpus_x=9\nworker=connected\n"
                     "sched_full_pass_buckets_us=100:1 inf:2\n";
  char buf[64];
  assert_int_equal(info_i64(info, "ncpus", -1), 4);
  assert_int_equal(info_i64(info, "mem", -1), 1073741824);
  assert_int_equal(info_i64(info, "nothere", -1), -1);
  assert_int_equal(info_i64(info, "worker", -1), -1); /* not a number */
  assert_string_equal(info_get(info, "worker", buf, sizeof(buf)), "connected");
  assert_string_equal(info_get(info, "sched_full_pass_buckets_us", buf, sizeof(buf)),
                      "100:1 inf:2");
  assert_null(info_get(info, "ncpu", buf, sizeof(buf))); /* a prefix is not a key */
}

static size_t
count(const char *s, const char *what) {
  size_t n = 0;
  for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
    n++;
  return n;
}

static void
a_plot_draws_every_point_and_its_limit(void **state) {
  (void)state;
  double x[5] = {1, 2, 3, 4, 5}, y[5] = {10e6, 20e6, 40e6, 60e6, 80e6};
  struct line l = {"in use <b>", "#123456", x, y, 5, false};
  struct sb b = {0};
  svg_lines(&b, "Memory", "bytes", &l, 1, 80e6, "limit 80 MB");
  assert_non_null(strstr(b.s, "<svg"));
  assert_int_equal(count(b.s, "<polyline"), 1);
  const char *pts = strstr(b.s, "points=\"");
  assert_non_null(pts);
  pts += 8;
  char attr[512];
  size_t len = strcspn(pts, "\"");
  assert_true(len < sizeof(attr));
  memcpy(attr, pts, len);
  attr[len] = '\0';
  assert_int_equal(count(attr, ","), 5);                    /* five x,y pairs */
  assert_non_null(strstr(b.s, "stroke-dasharray=\"6 4\"")); /* the limit line */
  assert_non_null(strstr(b.s, "limit 80 MB"));
  assert_non_null(strstr(b.s, "in use &lt;b&gt;")); /* the legend escaped */
  assert_null(strstr(b.s, "<b>"));
  sb_free(&b);
}

static void
day_bars_stack_each_series(void **state) {
  (void)state;
  char *days[3] = {"2026-12-05", "2026-12-06", "2026-12-07"};
  char *series[2] = {"alice", "bob"};
  const char *colors[2] = {"#111111", "#222222"};
  double v[6] = {1, 0, 2, /* alice */ 3, 4, 0 /* bob */};
  struct sb b = {0};
  svg_day_bars(&b, "CPU-hours", "h", days, 3, series, colors, 2, v);
  /* One bar per non-zero value, each titled with its day and series. */
  assert_int_equal(count(b.s, "<title>"), 4);
  assert_non_null(strstr(b.s, "2026-12-06 bob: 4 h"));
  assert_null(strstr(b.s, "2026-12-06 alice"));
  assert_non_null(strstr(b.s, "<i style=\"background:#222222\"></i>bob"));
  sb_free(&b);
}

int
main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(html_and_labels_are_escaped),
      cmocka_unit_test(a_long_text_grows_the_buffer),
      cmocka_unit_test(sizes_and_spans_read_as_written),
      cmocka_unit_test(info_lines_are_found_by_key),
      cmocka_unit_test(a_plot_draws_every_point_and_its_limit),
      cmocka_unit_test(day_bars_stack_each_series),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
