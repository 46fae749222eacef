/* SPDX-License-Identifier: MIT */
/* Text building and the frame every page shares. */
#include "web.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void
sb_reserve(struct sb *b, size_t more) {
  if (b->len + more + 1 <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->len + more + 1)
    cap *= 2;
  b->s = xrealloc(b->s, cap);
  b->cap = cap;
}

void
sb_puts(struct sb *b, const char *s) {
  size_t n = strlen(s);
  sb_reserve(b, n);
  memcpy(b->s + b->len, s, n + 1);
  b->len += n;
}

void
sb_printf(struct sb *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n <= 0)
    return;
  sb_reserve(b, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void
sb_html(struct sb *b, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
      case '&':
        sb_puts(b, "&amp;");
        break;
      case '<':
        sb_puts(b, "&lt;");
        break;
      case '>':
        sb_puts(b, "&gt;");
        break;
      case '"':
        sb_puts(b, "&quot;");
        break;
      case '\'':
        sb_puts(b, "&#39;");
        break;
      default: {
        char c[2] = {*s, 0};
        /* Control characters (a job name cannot hold them; a comment
         * might): shown as a replacement, never raw. */
        sb_puts(b, (unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' ? "\xef\xbf\xbd" : c);
      }
    }
  }
}

void
sb_free(struct sb *b) {
  free(b->s);
  *b = (struct sb){0};
}

static const char style[] =
    ":root{--fg:#1d2330;--mute:#6b7385;--line:#e3e6ee;--bg:#f6f7fb;--card:#fff;--accent:#3558d6;"
    "--bad:#c0392b;--warn:#c77c02;--ok:#1e8e4e}"
    "*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',"
    "Roboto,sans-serif;color:var(--fg);background:var(--bg)}"
    "header{display:flex;align-items:center;gap:18px;padding:10px 24px;background:#1d2330;"
    "color:#fff}header a{color:#cdd5f3;text-decoration:none}header a.on{color:#fff;"
    "font-weight:600}header .brand{font-weight:700;font-size:16px;color:#fff}"
    "header form{margin-left:auto}header input{width:9em;padding:3px 6px;border-radius:4px;"
    "border:0}#stamp{font-size:12px;color:#9aa4c1}#stamp.stale{color:#ffb4a8}"
    "main{padding:18px 24px;max-width:1400px}h1{font-size:20px;margin:4px 0 12px}"
    "h2{font-size:15px;margin:22px 0 8px;color:#38415a}"
    ".cards{display:flex;gap:14px;flex-wrap:wrap}.card{background:var(--card);border:1px solid "
    "var(--line);border-radius:8px;padding:12px 14px;flex:1 1 420px;min-width:320px}"
    ".kpi{display:flex;gap:26px;flex-wrap:wrap;margin:0 0 6px}.kpi div{font-size:12px;"
    "color:var(--mute)}.kpi b{display:block;font-size:20px;color:var(--fg)}"
    "table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid "
    "var(--line);border-radius:8px;overflow:hidden}th,td{text-align:left;padding:5px 9px;"
    "border-bottom:1px solid var(--line);vertical-align:middle}th{font-size:12px;"
    "color:var(--mute);font-weight:600;background:#fafbfe}td.n{text-align:right;"
    "font-variant-numeric:tabular-nums}tr:last-child td{border-bottom:0}"
    ".why{color:#4a5266;max-width:520px}.mute{color:var(--mute)}.badge{display:inline-block;"
    "padding:1px 7px;border-radius:9px;font-size:12px;background:#e8ebf5}"
    ".s-R{background:#dff3e6;color:#17693b}.s-Q{background:#e6ecff;color:#2c48a8}"
    ".s-H,.s-W{background:#fff1d6;color:#8a5a00}.s-F{background:#eceef3;color:#4a5266}"
    ".e-out-of-memory,.e-failed,.e-timeout,.e-lost,.e-launch-failed,.e-cput-exceeded{background:#"
    "fde2de;color:#a1281b}"
    ".e-completed{background:#dff3e6;color:#17693b}a{color:var(--accent)}"
    ".legend span{display:inline-block;margin-right:12px;font-size:12px}.legend i{display:"
    "inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}"
    "svg text{font:11px system-ui,sans-serif;fill:#4a5266}dl{display:grid;grid-template-columns:"
    "max-content 1fr;gap:3px 14px;margin:0}dt{color:var(--mute)}dd{margin:0}"
    ".err{background:#fde2de;border:1px solid #f3b5ab;padding:10px 14px;border-radius:8px}";

void
html_head(struct sb *b, const char *title, const char *nav) {
  char host[256] = "";
  gethostname(host, sizeof(host) - 1);
  sb_puts(b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>");
  sb_html(b, title);
  sb_puts(b, " \xc2\xb7 boxq</title><style>");
  sb_puts(b, style);
  sb_puts(b, "</style></head><body><header><span class=\"brand\">boxq</span><span>");
  sb_html(b, host);
  sb_puts(b, "</span>");
  static const char *const links[][2] = {
      {"/", "Box now"}, {"/history", "History"}, {"/metrics", "Metrics"}};
  for (size_t i = 0; i < ARRAY_SIZE(links); i++)
    sb_printf(b, "<a href=\"%s\"%s>%s</a>", links[i][0],
              nav && strcmp(nav, links[i][0]) == 0 ? " class=\"on\"" : "", links[i][1]);
  sb_puts(b, "<span id=\"stamp\"></span><form action=\"/job\" method=\"get\">"
             "<input name=\"id\" placeholder=\"job id\" aria-label=\"job id\"></form>"
             "</header><main id=\"live\">");
}

void
html_tail(struct sb *b, int refresh_ms) {
  /* Short polling: the live part is fetched again and swapped in place;
   * boxqUpdates counts the swaps (the browser test reads it). */
  sb_printf(
      b,
      "</main><script>(function(){var m=document.getElementById('live'),"
      "s=document.getElementById('stamp');window.boxqUpdates=0;function tick(){"
      "fetch(location.pathname+'?fragment=1'+(location.search?'&'+location.search.slice(1):''),"
      "{cache:'no-store'}).then(function(r){if(!r.ok)throw new Error('HTTP '+r.status);"
      "return r.text()}).then(function(t){m.innerHTML=t;window.boxqUpdates++;"
      "s.className='';s.textContent='updated '+new Date().toLocaleTimeString()})"
      ".catch(function(e){s.className='stale';s.textContent='not updated: '+e.message})"
      ".finally(function(){setTimeout(tick,%d)})}setTimeout(tick,%d)})();</script>"
      "</body></html>\n",
      refresh_ms, refresh_ms);
}

void
fmt_bytes(int64_t v, char *buf, size_t len) {
  static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (v < 0) {
    snprintf(buf, len, "-");
    return;
  }
  double x = (double)v;
  size_t u = 0;
  while (x >= 1024 && u + 1 < ARRAY_SIZE(unit))
    x /= 1024, u++;
  /* Whole numbers as such ("80 MiB"), others to three digits. */
  snprintf(buf, len,
           u == 0 || x == (double)(int64_t)x ? "%.0f %s"
           : x < 10                          ? "%.2f %s"
           : x < 100                         ? "%.1f %s"
                                             : "%.0f %s",
           x, unit[u]);
}

void
fmt_span(int64_t sec, char *buf, size_t len) {
  if (sec < 0)
    sec = 0;
  if (sec >= 86400)
    snprintf(buf, len, "%lldd %02lldh", (long long)(sec / 86400), (long long)(sec % 86400 / 3600));
  else if (sec >= 3600)
    snprintf(buf, len, "%lldh %02lldm", (long long)(sec / 3600), (long long)(sec % 3600 / 60));
  else if (sec >= 60)
    snprintf(buf, len, "%lldm %02llds", (long long)(sec / 60), (long long)(sec % 60));
  else
    snprintf(buf, len, "%llds", (long long)sec);
}

void
fmt_when(int64_t t, char *buf, size_t len) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (t <= 0 || !localtime_r(&tt, &tm) || strftime(buf, len, "%m-%d %H:%M:%S", &tm) == 0)
    snprintf(buf, len, "-");
}

const char *
name_color(const char *name) {
  static const char *const palette[] = {"#3558d6", "#e07b1f", "#2a9d8f", "#c2417a", "#7a5cd6",
                                        "#4f9d2f", "#d4a017", "#1f8fc9", "#a8552c", "#5f6b85"};
  uint32_t h = 2166136261u;
  for (const char *p = name ? name : ""; *p; p++)
    h = (h ^ (unsigned char)*p) * 16777619u;
  return palette[h % ARRAY_SIZE(palette)];
}

const char *
state_word(int state) {
  switch (state) {
    case JOB_QUEUED:
      return "queued";
    case JOB_HELD:
      return "held";
    case JOB_WAITING:
      return "waiting";
    case JOB_RUNNING:
      return "running";
    case JOB_EXITING:
      return "exiting";
    case JOB_FINISHED:
      return "finished";
    default:
      return "unknown";
  }
}
