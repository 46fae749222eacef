/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

int
berr_set(struct berr *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
  }
  return code;
}

int
berr_prefix(struct berr *err, int code, const char *fmt, ...) {
  if (err) {
    char prefix[256], old[sizeof(err->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    /* Truncation is fine here: the message is for a person. */
    size_t n = strnlen(prefix, sizeof(prefix));
    size_t room = sizeof(err->msg) - 1;
    if (n > room)
      n = room;
    memcpy(err->msg, prefix, n);
    size_t k = n;
    if (k + 2 <= room) {
      err->msg[k++] = ':';
      err->msg[k++] = ' ';
    }
    size_t rest = strnlen(old, sizeof(old));
    if (rest > room - k)
      rest = room - k;
    memcpy(err->msg + k, old, rest);
    err->msg[k + rest] = '\0';
  }
  return code;
}

static __attribute__((noreturn)) void
oom(void) {
  static const char msg[] = "boxq: out of memory\n";
  ssize_t r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
  (void)r;
  abort();
}

void *
xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    oom();
  return p;
}

void *
xcalloc(size_t n, size_t m) {
  void *p = calloc(n ? n : 1, m ? m : 1);
  if (!p)
    oom();
  return p;
}

void *
xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p)
    oom();
  return p;
}

void *
xgrow(void *p, size_t n, size_t *cap, size_t elem, size_t first) {
  if (n < *cap)
    return p;
  size_t want = *cap ? 2 * *cap : first, bytes;
  if (want < *cap || __builtin_mul_overflow(want, elem, &bytes))
    oom();
  *cap = want;
  return xrealloc(p, bytes);
}

char *
xstrdup(const char *s) {
  char *p = strdup(s ? s : "");
  if (!p)
    oom();
  return p;
}

char *
xstrndup(const char *s, size_t n) {
  char *p = strndup(s, n);
  if (!p)
    oom();
  return p;
}

char *
xasprintf(const char *fmt, ...) {
  char *p;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&p, fmt, ap);
  va_end(ap);
  if (r < 0)
    oom();
  return p;
}

void
kv_list_set(char ***list, size_t *n, const char *key, size_t klen, const char *value) {
  char *entry = xasprintf("%.*s=%s", (int)klen, key, value);
  for (size_t i = 0; i < *n; i++)
    if (strncmp((*list)[i], key, klen) == 0 && (*list)[i][klen] == '=') {
      free((*list)[i]);
      (*list)[i] = entry;
      return;
    }
  *list = xrealloc(*list, (*n + 2) * sizeof(char *));
  (*list)[(*n)++] = entry;
  (*list)[*n] = NULL;
}

int
parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret) {
  if (!s || !*s)
    return -EINVAL;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end == s || *end != '\0')
    return -EINVAL;
  if (errno == ERANGE || v < min || v > max)
    return -ERANGE;
  *ret = v;
  return 0;
}

/* positional: pread from offset 0, and a short read is the whole text
 * (kernfs files: each read from 0 generates the text afresh, whole when
 * it fits). */
static int
read_all(int fd, bool positional, size_t max, char **ret, size_t *ret_len) {
  size_t cap = 4096, len = 0;
  _cleanup_free_ char *buf = xmalloc(cap + 1);
  for (;;) {
    if (len == cap) {
      if (cap >= max)
        return -EFBIG;
      cap = cap * 2 > max ? max : cap * 2;
      buf = xrealloc(buf, cap + 1);
    }
    ssize_t n =
        positional ? pread(fd, buf + len, cap - len, (off_t)len) : read(fd, buf + len, cap - len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    if (n == 0)
      break;
    len += (size_t)n;
    if (positional && len < cap)
      break;
  }
  buf[len] = '\0';
  if (ret_len)
    *ret_len = len;
  *ret = TAKE_PTR(buf);
  return 0;
}

int
read_fd_all(int fd, size_t max, char **ret, size_t *ret_len) {
  return read_all(fd, false, max, ret, ret_len);
}

int
read_kernfs_fd(int fd, size_t max, char **ret) {
  return read_all(fd, true, max, ret, NULL);
}

int
read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len) {
  _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return -errno;
  return read_fd_all(fd, max, ret, ret_len);
}

int
write_file_at(int dirfd, const char *path, const char *data, size_t len) {
  _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return -errno;
  /* Control files take one write(); a short write is an error there. */
  ssize_t n = write(fd, data, len);
  if (n < 0)
    return -errno;
  if ((size_t)n != len)
    return -EIO;
  return 0;
}

/* Creates (or truncates) path with data, with exactly mode; on failure
 * nothing is left. */
static int
write_new(const char *path, const void *data, size_t len, int mode, bool durable) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return -errno;
  /* The daemons' umask (077) takes the bits of a mode meant for others
   * (a job script, read again through /dev/fd as its user). */
  if ((mode & 077) && fchmod(fd, (mode_t)mode) < 0) {
    int r = -errno;
    close(fd);
    unlink(path);
    return r;
  }
  if (write_full(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
    int r = -errno;
    close(fd);
    unlink(path);
    return r;
  }
  if (close(fd) < 0) {
    int r = -errno;
    unlink(path);
    return r;
  }
  return 0;
}

int
write_file_direct(const char *path, const void *data, size_t len, int mode) {
  return write_new(path, data, len, mode, false);
}

int
write_file_atomic(const char *path, const void *data, size_t len, int mode, bool durable) {
  _cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
  int r = write_new(tmp, data, len, mode, durable);
  if (r == 0 && rename(tmp, path) < 0) {
    r = -errno;
    unlink(tmp);
  }
  return r;
}

int
mkdirat_mode(int dirfd, const char *path, int mode) {
  if (mkdirat(dirfd, path, (mode_t)mode) < 0)
    return -errno;
  /* The umask may have taken bits the directory needs (a daemon's is
   * 077): give it exactly the mode asked for. */
  if (fchmodat(dirfd, path, (mode_t)mode, 0) < 0)
    return -errno;
  return 0;
}

int
mkdir_p(const char *path, int mode) {
  _cleanup_free_ char *p = xstrdup(path);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    int r = mkdirat_mode(AT_FDCWD, p, mode);
    if (r < 0 && r != -EEXIST)
      return r;
    *s = '/';
  }
  int r = mkdirat_mode(AT_FDCWD, p, mode);
  return r == -EEXIST ? 0 : r;
}

int
lock_dir_at(int dirfd, const char *path) {
  int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
    int r = -errno;
    close(fd);
    return r;
  }
  return fd;
}

int
make_state_dir(const char *path) {
  int r = mkdir_p(path, 0711);
  struct stat st;
  if (r < 0 || stat(path, &st) < 0)
    return r < 0 ? r : -errno;
  if (!S_ISDIR(st.st_mode))
    return -ENOTDIR;
  if (st.st_uid == geteuid() && (st.st_mode & 066) && chmod(path, st.st_mode & ~(mode_t)066) < 0)
    return -errno;
  return 0;
}

static int64_t
clock_usec(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
now_mono_usec(void) {
  return clock_usec(CLOCK_MONOTONIC);
}

int64_t
now_wall_usec(void) {
  return clock_usec(CLOCK_REALTIME);
}

ssize_t
read_full(int fd, void *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = read(fd, (char *)buf + done, len - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    if (n == 0)
      break;
    done += (size_t)n;
  }
  return (ssize_t)done;
}

ssize_t
write_full(int fd, const void *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, (const char *)buf + done, len - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    done += (size_t)n;
  }
  return (ssize_t)done;
}

int
proc_stat_fields(pid_t pid, int first, int n, uint64_t *vals) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  _cleanup_free_ char *text = NULL;
  int r = read_file_at(AT_FDCWD, path, 4096, &text, NULL);
  if (r < 0)
    return r;
  /* The command name may hold spaces and parentheses: count from the last
   * ')', which ends field 2. */
  char *p = strrchr(text, ')');
  for (int field = 2; p && field < first; field++)
    p = strchr(p + 1, ' '); /* the space before field + 1 */
  for (int i = 0; i < n; i++) {
    if (!p)
      return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p + 1, &end, 10);
    if (errno || end == p + 1)
      return -EINVAL;
    vals[i] = v;
    p = strchr(end, ' ');
    if (!p && i + 1 < n)
      return -EINVAL;
  }
  return 0;
}

bool
name_in_list(const char *list, const char *name) {
  size_t len = strlen(name ? name : "");
  for (const char *p = list ? list : ""; *p;) {
    size_t n = strcspn(p, ","), item = strcspn(p, ",@");
    if (item > n)
      item = n;
    if (item == len && strncmp(p, name, len) == 0)
      return true;
    p += n + (p[n] == ',');
  }
  return false;
}

int
i64_cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

int
u32_cmp(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}
