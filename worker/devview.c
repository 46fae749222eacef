/* SPDX-License-Identifier: MIT */
#include "devview.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

size_t
jobdev_deny(const struct dev_table *t, const struct dev_set *held, dev_t **ret) {
  size_t n = 0;
  for (size_t c = 0; c < t->ncls; c++)
    n += t->cls[c].ndev + t->cls[c].ncommon;
  dev_t *v = n ? xcalloc(n, sizeof(dev_t)) : NULL;
  n = 0;
  for (size_t c = 0; c < t->ncls; c++) {
    const struct dev_class *cls = &t->cls[c];
    for (size_t i = 0; i < cls->ndev; i++)
      if (!dev_set_has(held, c, i))
        v[n++] = cls->dev[i].rdev;
    if (dev_set_count(held, c) == 0)
      for (size_t i = 0; i < cls->ncommon; i++)
        v[n++] = cls->common[i].rdev;
  }
  if (!n) {
    free(v);
    v = NULL;
  }
  *ret = v;
  return n;
}

/* Child side: no allocation, no sanitizer's shadow (see launch.c). */
#define CHILD_SIDE __attribute__((no_sanitize_address))

#define DEVVIEW_DEPTH 8

struct view {
  const dev_t *hide;
  size_t nhide;
  char path[4096]; /* "/dev/..." of the directory being copied */
  size_t len;
};

static CHILD_SIDE bool
hidden(const struct view *v, dev_t rdev) {
  for (size_t i = 0; i < v->nhide; i++)
    if (v->hide[i] == rdev)
      return true;
  return false;
}

/* path += "/" name; false if it does not fit. */
static CHILD_SIDE bool
push(struct view *v, const char *name) {
  size_t n = strlen(name);
  if (v->len + 1 + n + 1 > sizeof(v->path))
    return false;
  v->path[v->len] = '/';
  memcpy(v->path + v->len + 1, name, n + 1);
  v->len += 1 + n;
  return true;
}

static CHILD_SIDE void
pop(struct view *v, size_t len) {
  v->len = len;
  v->path[len] = '\0';
}

/* Binds the host's entry (through the descriptor of its directory, the
 * host's /dev being covered by now) onto v->path. */
static CHILD_SIDE int
bind_in(int from_dir, const char *name, const char *to, bool recursive) {
  char src[64 + 256];
  snprintf(src, sizeof(src), "/proc/self/fd/%d/%s", from_dir, name);
  if (mount(src, to, NULL, MS_BIND | (recursive ? MS_REC : 0), NULL) < 0)
    return -errno;
  return 0;
}

static CHILD_SIDE int copy_dir(struct view *v, int from, int to, dev_t dir_dev, int depth);

static CHILD_SIDE int
copy_entry(struct view *v, int from, int to, dev_t dir_dev, const char *name, int depth) {
  struct stat st;
  if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0; /* gone meanwhile */
  size_t keep = v->len;
  if (!push(v, name))
    return 0;
  int r = 0;
  mode_t perm = st.st_mode & 07777;
  bool made = false; /* ours, to give the host's owner and mode */
  if (S_ISDIR(st.st_mode)) {
    if (mkdirat(to, name, 0700) < 0 && errno != EEXIST)
      r = -errno;
    else if (st.st_dev != dir_dev)
      r = bind_in(from, name, v->path, true); /* a file system mounted here */
    else {
      made = true;
      int f = depth < DEVVIEW_DEPTH
                  ? openat(from, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
                  : -1;
      int t = f >= 0 ? openat(to, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) : -1;
      if (f >= 0 && t >= 0)
        r = copy_dir(v, f, t, st.st_dev, depth + 1);
      if (f >= 0)
        close(f);
      if (t >= 0)
        close(t);
    }
  } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    if (S_ISCHR(st.st_mode) && hidden(v, st.st_rdev))
      ;
    else if (mknodat(to, name, (st.st_mode & S_IFMT) | 0600, st.st_rdev) == 0)
      made = true;
    else if (errno != EEXIST && errno != EPERM)
      r = -errno; /* EPERM: a device the cgroup refuses: left out */
  } else if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = readlinkat(from, name, target, sizeof(target) - 1);
    if (n >= 0) {
      target[n] = '\0';
      if (symlinkat(target, to, name) == 0)
        fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
      else if (errno != EEXIST)
        r = -errno;
    }
  } else {
    /* A file, socket or fifo: the host's own, bound onto a placeholder. */
    int fd = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      close(fd);
      r = bind_in(from, name, v->path, false);
    }
  }
  if (r == 0 && made) {
    fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
    fchmodat(to, name, perm, 0);
  }
  pop(v, keep);
  return r;
}

struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static CHILD_SIDE int
copy_dir(struct view *v, int from, int to, dev_t dir_dev, int depth) {
  char buf[2048] __attribute__((aligned(8)));
  for (;;) {
    long n = syscall(SYS_getdents64, from, buf, sizeof(buf));
    if (n < 0)
      return -errno;
    if (n == 0)
      return 0;
    for (long off = 0; off < n;) {
      struct linux_dirent64 *e = (struct linux_dirent64 *)(buf + off);
      off += e->d_reclen;
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
        continue;
      int r = copy_entry(v, from, to, dir_dev, e->d_name, depth);
      if (r < 0)
        return r;
    }
  }
}

CHILD_SIDE int
devview_build(const dev_t *hide, size_t nhide, const char **what) {
  static struct view v; /* the shepherd's memory: one launch at a time */
  v.hide = hide;
  v.nhide = nhide;
  strcpy(v.path, "/dev");
  v.len = 4;
  struct stat st;
  *what = "cannot open the host's /dev";
  int host = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (host < 0 || fstat(host, &st) < 0)
    return -errno;
  *what = "cannot mount the job's /dev (tmpfs)";
  if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=755,size=4m") < 0) {
    int r = -errno;
    close(host);
    return r;
  }
  int mine = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  *what = "cannot copy the host's /dev";
  int r = mine < 0 ? -errno : copy_dir(&v, host, mine, st.st_dev, 0);
  if (mine >= 0) {
    fchmod(mine, st.st_mode & 07777);
    close(mine);
  }
  close(host);
  return r;
}
