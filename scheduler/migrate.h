/* SPDX-License-Identifier: MIT */
/* Versioned schema migrations, embedded from schema/NNN-name.sql. The
 * database's PRAGMA user_version is the number of the last one applied. */
#pragma once

#include "util.h"

#include <sqlite3.h>

struct migration {
  int version;
  const char *name;
  const char *sql;
};

extern const struct migration boxq_migrations[];
extern const unsigned boxq_migration_count;

/* Applies every migration newer than the database, all in one transaction.
 * Refuses a database newer than this program. */
int mig_apply(sqlite3 *db, struct berr *err);
