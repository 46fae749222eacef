/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every boxq program: cleanup attributes, error
 * messages that cross module boundaries, safe integer and string helpers. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Cleanup attributes (systemd/bubblewrap style). Destructors accept NULL. */
static inline void
freep(void *p) {
  free(*(void **)p);
}
/* Closes *fd if open and marks it closed (-1), so that a second call
 * cannot close a descriptor that has taken the number since. */
static inline void
closep(int *fd) {
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
    *fd = -1;
  }
}
static inline void
fclosep(FILE **f) {
  if (*f)
    fclose(*f);
}
#define _cleanup_(x)     __attribute__((cleanup(x)))
#define _cleanup_free_   _cleanup_(freep)
#define _cleanup_close_  _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Take ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                                                                \
  ({                                                                                               \
    __typeof__(p) _tp = (p);                                                                       \
    (p) = NULL;                                                                                    \
    _tp;                                                                                           \
  })
#define TAKE_FD(fd)                                                                                \
  ({                                                                                               \
    int _tf = (fd);                                                                                \
    (fd) = -1;                                                                                     \
    _tf;                                                                                           \
  })

/* An error message meant for a person, carried next to a -errno return. */
struct berr {
  char msg[512];
};

/* Formats into err (if non-NULL) and returns code (a negative errno), so
 * callers can write `return berr_set(err, -EINVAL, "...")`. */
int berr_set(struct berr *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message: "prefix: old message". */
int berr_prefix(struct berr *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Allocation that aborts: out of memory in boxq's small allocations is not
 * recoverable in a meaningful way (crun, tmux). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
/* For appending to an array p of n elements of size elem with room for
 * *cap: p itself while there is room, else moved to twice the room (first
 * when it had none). */
void *xgrow(void *p, size_t n, size_t *cap, size_t elem, size_t first);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sets KEY=value in a NULL-terminated list of "KEY=value" strings of n
 * entries (key: klen bytes), replacing an entry of the same key in place,
 * else appending one. */
void kv_list_set(char ***list, size_t *n, const char *key, size_t klen, const char *value);
/* Is name one of the comma-separated list's items? An item's "@host"
 * (user@host, queue@server: one machine here) is not compared. */
bool name_in_list(const char *list, const char *name);

/* qsort's comparison of int64_t values, ascending; and of uint32_t. */
int i64_cmp(const void *a, const void *b);
int u32_cmp(const void *a, const void *b);

/* Parses a whole decimal integer within [min, max]; -EINVAL or -ERANGE. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret);

/* Whole-file helpers: at most max bytes (-EFBIG beyond), NUL-terminated. */
int read_fd_all(int fd, size_t max, char **ret, size_t *ret_len);
/* A cgroup (kernfs) file's whole text through a descriptor kept open:
 * read from offset 0, afresh, in one pread when it fits. */
int read_kernfs_fd(int fd, size_t max, char **ret);
int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);
/* Fields first..first+n-1 of /proc/PID/stat (1-based, as in proc(5)),
 * for fields after the command name (first >= 3). 0, or -errno. */
int proc_stat_fields(pid_t pid, int first, int n, uint64_t *vals);
int write_file_at(int dirfd, const char *path, const char *data, size_t len);
/* Writes to path.tmp and renames, so a reader sees all or nothing, even
 * after the writer crashed. durable: fsync first, so that the file also
 * survives a crash of the machine. */
int write_file_atomic(const char *path, const void *data, size_t len, int mode, bool durable);
/* Creates (or truncates) path with data, in place: for files that no one
 * reads while they are written, and that a crash of the machine makes
 * moot (the worker's spool, in memory). On failure nothing is left. */
int write_file_direct(const char *path, const void *data, size_t len, int mode);
/* (Both writers give the file exactly mode, whatever the umask.) */

/* mkdir -p: the directories it creates get exactly mode, whatever the
 * umask; existing ones are left as they are. */
int mkdir_p(const char *path, int mode);
/* The state directory: created 0711, and closed up to that if it is ours
 * and others may read or write it. Clients need only to reach the socket
 * in it; nothing else there is theirs to list or read. */
int make_state_dir(const char *path);
/* Opens directory path (relative to dirfd) on a description of its own
 * and takes an exclusive flock on it: the descriptor to hold while the
 * lock is wanted, -EWOULDBLOCK when another holds it, or -errno. */
int lock_dir_at(int dirfd, const char *path);
/* mkdirat with exactly mode, whatever the umask; -EEXIST if it exists. */
int mkdirat_mode(int dirfd, const char *path, int mode);

/* Monotonic and wall clocks in microseconds. */
int64_t now_mono_usec(void);
int64_t now_wall_usec(void);

/* Full read/write that retries on EINTR and short counts. */
ssize_t read_full(int fd, void *buf, size_t len);
ssize_t write_full(int fd, const void *buf, size_t len);

static inline bool
streq(const char *a, const char *b) {
  return a && b && __builtin_strcmp(a, b) == 0;
}
