/* SPDX-License-Identifier: MIT */
/* Who a job runs as: the submitter's account and groups, looked up by the
 * worker before it forks the job's shepherd, and remembered for a few
 * seconds (as nscd does, for longer): a user's thousand jobs need one
 * lookup, not a thousand, and the shepherd never loads NSS modules. */
#pragma once

#include "util.h"

#include <pwd.h>
#include <stdint.h>
#include <sys/types.h>

#define USERCACHE_TTL_USEC (5 * 1000000LL)

struct user_info {
  uid_t uid;
  gid_t gid; /* the job's primary group, as submitted */
  char *name, *dir, *shell;
  gid_t *groups; /* supplementary groups, gid included */
  int ngroups;
  int64_t fetched; /* monotonic usec */
  struct user_info *next;
};

struct usercache {
  struct user_info *list;
};

/* The account of uid with primary group gid, which must still be named
 * owner (a uid reused by someone else is refused). 0 and *ret (owned by
 * the cache, valid until the next call), or -errno with err. */
int usercache_get(struct usercache *c, uid_t uid, gid_t gid, const char *owner,
                  const struct user_info **ret, struct berr *err);
/* A struct passwd that points into info (for jobenv_build). */
struct passwd usercache_passwd(const struct user_info *info);
void usercache_free(struct usercache *c);
