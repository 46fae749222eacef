/* SPDX-License-Identifier: MIT */
#include "rmtree.h"

#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#define RMTREE_MAX_DEPTH 128

static int
rm_contents(int dfd, int depth) {
  if (depth > RMTREE_MAX_DEPTH)
    return -ELOOP;
  int dup_fd = dup(dfd);
  if (dup_fd < 0)
    return -errno;
  DIR *d = fdopendir(dup_fd);
  if (!d) {
    close(dup_fd);
    return -errno;
  }
  int r = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
      continue;
    bool is_dir = de->d_type == DT_DIR;
    if (de->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    int q = 0;
    if (is_dir) {
      int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) {
        q = rm_contents(sub, depth + 1);
        close(sub);
      }
      if (unlinkat(dfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        q = q ? q : -errno;
    } else if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT)
      q = -errno;
    if (q < 0 && r == 0)
      r = q;
  }
  closedir(d);
  return r;
}

int
rmtree_at(int parent_fd, const char *name) {
  int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : -errno;
  int r = rm_contents(fd, 0);
  close(fd);
  if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
    r = -errno;
  return r;
}
