/* SPDX-License-Identifier: MIT */
#include "cg_parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
parse_num(const char *p, const char **end, int64_t *ret) {
  if (!isdigit((unsigned char)*p) && *p != '-')
    return -EINVAL;
  char *e;
  errno = 0;
  long long v = strtoll(p, &e, 10);
  if (e == p || errno)
    return -EINVAL;
  *ret = v;
  if (end)
    *end = e;
  return 0;
}

int
cg_parse_keyed(const char *text, const char *key, int64_t *ret) {
  size_t klen = strlen(key);
  for (const char *line = text; line && *line;) {
    const char *nl = strchr(line, '\n');
    if (strncmp(line, key, klen) == 0 && (line[klen] == ' ' || line[klen] == '\t'))
      return parse_num(line + klen + 1, NULL, ret);
    line = nl ? nl + 1 : NULL;
  }
  return -ENOENT;
}

int
cg_parse_single(const char *text, int64_t *ret) {
  while (isspace((unsigned char)*text))
    text++;
  if (strncmp(text, "max", 3) == 0) {
    *ret = -1;
    return 0;
  }
  const char *end;
  int r = parse_num(text, &end, ret);
  if (r < 0)
    return r;
  while (isspace((unsigned char)*end))
    end++;
  return *end ? -EINVAL : 0;
}

int
cg_parse_io_stat(const char *text, int64_t *ret_rbytes, int64_t *ret_wbytes) {
  int64_t rb = 0, wb = 0;
  for (const char *p = text; (p = strpbrk(p, "rw"));) {
    bool word_start = p == text || p[-1] == ' ';
    int64_t v;
    if (word_start && strncmp(p, "rbytes=", 7) == 0 && parse_num(p + 7, NULL, &v) == 0)
      rb += v;
    else if (word_start && strncmp(p, "wbytes=", 7) == 0 && parse_num(p + 7, NULL, &v) == 0)
      wb += v;
    p++;
  }
  *ret_rbytes = rb;
  *ret_wbytes = wb;
  return 0;
}

int
cg_parse_proc_cgroup(const char *text, const char *controller, char *buf, size_t len) {
  for (const char *line = text; line && *line;) {
    const char *nl = strchr(line, '\n');
    size_t llen = nl ? (size_t)(nl - line) : strlen(line);
    const char *c1 = memchr(line, ':', llen);
    const char *c2 = c1 ? memchr(c1 + 1, ':', llen - (size_t)(c1 + 1 - line)) : NULL;
    if (c2) {
      const char *ctrls = c1 + 1;
      size_t clen = (size_t)(c2 - ctrls);
      bool match = false;
      if (!controller)
        match = strncmp(line, "0:", 2) == 0 && clen == 0;
      else {
        /* "4:cpu,cpuacct:/path": controller lists are comma-separated. */
        size_t nlen = strlen(controller);
        for (const char *p = ctrls; p < c2;) {
          const char *comma = memchr(p, ',', (size_t)(c2 - p));
          const char *e = comma ? comma : c2;
          if ((size_t)(e - p) == nlen && strncmp(p, controller, nlen) == 0)
            match = true;
          p = e + 1;
        }
      }
      if (match) {
        size_t plen = llen - (size_t)(c2 + 1 - line);
        if (plen + 1 > len)
          return -ENAMETOOLONG;
        memcpy(buf, c2 + 1, plen);
        buf[plen] = '\0';
        return 0;
      }
    }
    line = nl ? nl + 1 : NULL;
  }
  return -ENOENT;
}

bool
cg_list_has(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; *p;) {
    while (isspace((unsigned char)*p))
      p++;
    const char *e = p;
    while (*e && !isspace((unsigned char)*e))
      e++;
    if ((size_t)(e - p) == n && strncmp(p, name, n) == 0)
      return true;
    p = e;
  }
  return false;
}

int
cg_parse_populated(const char *text, bool *ret) {
  int64_t v;
  int r = cg_parse_keyed(text, "populated", &v);
  if (r == 0)
    *ret = v != 0;
  return r;
}
