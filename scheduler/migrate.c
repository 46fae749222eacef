/* SPDX-License-Identifier: MIT */
#include "migrate.h"

static int
user_version(sqlite3 *db, int *ret) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
    return -EIO;
  int r = sqlite3_step(st) == SQLITE_ROW ? 0 : -EIO;
  if (r == 0)
    *ret = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return r;
}

int
mig_apply(sqlite3 *db, struct berr *err) {
  char *msg = NULL;
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
    int r = berr_set(err, -EIO, "cannot start migration: %s", msg ? msg : "?");
    sqlite3_free(msg);
    return r;
  }
  int have = 0, r = 0;
  if (user_version(db, &have) < 0) {
    r = berr_set(err, -EIO, "cannot read schema version: %s", sqlite3_errmsg(db));
    goto out;
  }
  int newest = boxq_migrations[boxq_migration_count - 1].version;
  if (have > newest) {
    r = berr_set(err, -EPROTO,
                 "database schema version %d is newer than this boxq (%d); upgrade boxq", have,
                 newest);
    goto out;
  }
  for (unsigned i = 0; i < boxq_migration_count; i++) {
    const struct migration *m = &boxq_migrations[i];
    if (m->version <= have)
      continue;
    if (sqlite3_exec(db, m->sql, NULL, NULL, &msg) != SQLITE_OK) {
      r = berr_set(err, -EIO, "schema migration %s failed: %s", m->name, msg ? msg : "?");
      sqlite3_free(msg);
      goto out;
    }
    char pragma[64];
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", m->version);
    if (sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
      r = berr_set(err, -EIO, "cannot record schema version: %s", sqlite3_errmsg(db));
      goto out;
    }
  }
out:
  if (sqlite3_exec(db, r == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK && r == 0)
    r = berr_set(err, -EIO, "cannot commit migration: %s", sqlite3_errmsg(db));
  return r;
}
