/* SPDX-License-Identifier: MIT */
#include "usercache.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GROUPS 1024

static void
info_free(struct user_info *u) {
  free(u->name);
  free(u->dir);
  free(u->shell);
  free(u->groups);
  free(u);
}

static int
lookup(uid_t uid, gid_t gid, const char *owner, struct user_info **ret, struct berr *err) {
  struct passwd pw, *res = NULL;
  char buf[16384];
  if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
    return berr_set(err, -ENOENT, "user id %lld has no account on this machine", (long long)uid);
  if (!streq(pw.pw_name, owner))
    return berr_set(err, -EPERM, "user id %lld is now '%s', not the submitter '%s'", (long long)uid,
                    pw.pw_name, owner);
  gid_t groups[MAX_GROUPS];
  int n = MAX_GROUPS;
  if (getgrouplist(pw.pw_name, gid, groups, &n) < 0)
    return berr_set(err, -E2BIG, "user %s is in more than %d groups", pw.pw_name, MAX_GROUPS);
  struct user_info *u = xcalloc(1, sizeof(*u));
  u->uid = uid;
  u->gid = gid;
  u->name = xstrdup(pw.pw_name);
  u->dir = xstrdup(pw.pw_dir ? pw.pw_dir : "/");
  u->shell = xstrdup(pw.pw_shell ? pw.pw_shell : "");
  u->groups = xmalloc((size_t)(n ? n : 1) * sizeof(gid_t));
  memcpy(u->groups, groups, (size_t)n * sizeof(gid_t));
  u->ngroups = n;
  u->fetched = now_mono_usec();
  *ret = u;
  return 0;
}

int
usercache_get(struct usercache *c, uid_t uid, gid_t gid, const char *owner,
              const struct user_info **ret, struct berr *err) {
  int64_t now = now_mono_usec();
  for (struct user_info **pp = &c->list; *pp;) {
    struct user_info *u = *pp;
    if (now - u->fetched >= USERCACHE_TTL_USEC) {
      *pp = u->next; /* stale: forget it */
      info_free(u);
      continue;
    }
    if (u->uid == uid && u->gid == gid && streq(u->name, owner)) {
      *ret = u;
      return 0;
    }
    pp = &u->next;
  }
  struct user_info *u;
  int r = lookup(uid, gid, owner, &u, err);
  if (r < 0)
    return r;
  u->next = c->list;
  c->list = u;
  *ret = u;
  return 0;
}

struct passwd
usercache_passwd(const struct user_info *info) {
  return (struct passwd){.pw_name = info->name,
                         .pw_passwd = (char *)"x",
                         .pw_uid = info->uid,
                         .pw_gid = info->gid,
                         .pw_gecos = (char *)"",
                         .pw_dir = info->dir,
                         .pw_shell = info->shell};
}

void
usercache_free(struct usercache *c) {
  while (c->list) {
    struct user_info *u = c->list;
    c->list = u->next;
    info_free(u);
  }
}
