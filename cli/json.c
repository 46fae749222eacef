/* SPDX-License-Identifier: MIT */
#include "json.h"
#include "proto.h"

#include <math.h>
#include <string.h>
#include <time.h>

void
json_init(struct json *j, FILE *out) {
  *j = (struct json){.out = out};
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static int
utf8_len(const unsigned char *s) {
  int n;
  uint32_t cp;
  if (s[0] < 0x80)
    return 1;
  if ((s[0] & 0xe0) == 0xc0) {
    n = 2;
    cp = s[0] & 0x1f;
  } else if ((s[0] & 0xf0) == 0xe0) {
    n = 3;
    cp = s[0] & 0x0f;
  } else if ((s[0] & 0xf8) == 0xf0) {
    n = 4;
    cp = s[0] & 0x07;
  } else
    return 0;
  for (int i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  /* No overlong forms, no surrogates, nothing past U+10FFFF. */
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
    return 0;
  return n;
}

void
json_write_string(FILE *out, const char *s) {
  putc('"', out);
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  while (*p) {
    unsigned char c = *p;
    switch (c) {
      case '"':
        fputs("\\\"", out);
        break;
      case '\\':
        fputs("\\\\", out);
        break;
      case '\n':
        fputs("\\n", out);
        break;
      case '\r':
        fputs("\\r", out);
        break;
      case '\t':
        fputs("\\t", out);
        break;
      case '\b':
        fputs("\\b", out);
        break;
      case '\f':
        fputs("\\f", out);
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          fprintf(out, "\\u%04x", c);
        } else if (c >= 0x80) {
          int n = utf8_len(p);
          if (n == 0) {
            fputs("\\ufffd", out); /* not UTF-8: replaced, the document stays valid */
            p++;
            continue;
          }
          fwrite(p, 1, (size_t)n, out);
          p += n;
          continue;
        } else
          putc(c, out);
    }
    p++;
  }
  putc('"', out);
}

/* Comma, newline and indentation before an item; then its key. */
static void
item(struct json *j, const char *key) {
  if (j->depth > 0) {
    if (j->has_items[j->depth])
      putc(',', j->out);
    putc('\n', j->out);
    for (int i = 0; i < j->depth; i++)
      fputs("    ", j->out);
    j->has_items[j->depth] = true;
  }
  if (key) {
    json_write_string(j->out, key);
    putc(':', j->out);
  }
}

void
json_open(struct json *j, const char *key, char bracket) {
  item(j, key);
  putc(bracket, j->out);
  if (j->depth + 1 < JSON_MAX_DEPTH)
    j->depth++;
  j->has_items[j->depth] = false;
}

void
json_close(struct json *j, char bracket) {
  bool had = j->has_items[j->depth];
  if (j->depth > 0)
    j->depth--;
  if (had) {
    putc('\n', j->out);
    for (int i = 0; i < j->depth; i++)
      fputs("    ", j->out);
  }
  putc(bracket, j->out);
}

void
json_str(struct json *j, const char *key, const char *value) {
  item(j, key);
  if (value)
    json_write_string(j->out, value);
  else
    fputs("null", j->out);
}

void
json_int(struct json *j, const char *key, int64_t value) {
  item(j, key);
  fprintf(j->out, "%lld", (long long)value);
}

void
json_num(struct json *j, const char *key, double value) {
  item(j, key);
  if (isfinite(value))
    fprintf(j->out, "%.6g", value);
  else
    fputs("null", j->out);
}

void
json_bool(struct json *j, const char *key, bool value) {
  item(j, key);
  fputs(value ? "true" : "false", j->out);
}

const char *
json_grouped_key(struct json *j, struct json_group *g, const char *key) {
  const char *dot = strchr(key, '.');
  size_t glen = dot ? (size_t)(dot - key) : 0;
  if (g->name[0] && (!dot || strncmp(g->name, key, glen) != 0 || g->name[glen] != '\0'))
    json_group_end(j, g);
  if (dot && !g->name[0]) {
    snprintf(g->name, sizeof(g->name), "%.*s", (int)glen, key);
    json_open(j, g->name, '{');
  }
  return dot ? dot + 1 : key;
}

void
json_group_end(struct json *j, struct json_group *g) {
  if (g->name[0])
    json_close(j, '}');
  g->name[0] = '\0';
}

void
json_end(struct json *j) {
  putc('\n', j->out);
}

/* XML text: the five characters XML reserves as entities; what XML 1.0
 * cannot hold (invalid UTF-8, control characters) as U+FFFD, so the
 * document stays well-formed. */
void
xml_write_text(FILE *out, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    switch (*p) {
      case '&':
        fputs("&amp;", out);
        break;
      case '<':
        fputs("&lt;", out);
        break;
      case '>':
        fputs("&gt;", out);
        break;
      case '"':
        fputs("&quot;", out);
        break;
      case '\'':
        fputs("&apos;", out);
        break;
      default:
        if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
          fputs("\xef\xbf\xbd", out);
        } else if (*p >= 0x80) {
          int n = utf8_len(p);
          if (n == 0) {
            fputs("\xef\xbf\xbd", out);
          } else {
            fwrite(p, 1, (size_t)n, out);
            p += n;
            continue;
          }
        } else
          fputc(*p, out);
    }
    p++;
  }
}

void
json_pbs_header(struct json *js, const char *server) {
  json_open(js, NULL, '{');
  json_int(js, "timestamp", (int64_t)time(NULL));
  json_str(js, "pbs_version", "boxq " BOXQ_VERSION);
  json_str(js, "pbs_server", server);
}
