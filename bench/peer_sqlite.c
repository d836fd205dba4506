/*
 * peer_sqlite.c - SQLite behind bench/peer.h.  Table m(id INTEGER PRIMARY
 * KEY, doc TEXT) holds each record's JSON line under its id (the rowid, so a
 * lookup is one b-tree search); the "string field" is the raw title found in
 * doc by peer_json_title().  Each cursor is its own read-only connection
 * (SQLITE_OPEN_NOMUTEX) with "PRAGMA mmap_size" set to 2 GiB, SQLite's
 * fastest read configuration, one read transaction (BEGIN) held for the
 * cursor's life as LMDB's is, so a lookup does not take and drop the file
 * lock, and one prepared statement reused with sqlite3_reset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "peer.h"

const char peer_name[] = "peer_sqlite";
const char peer_reads[] = "title: raw text scanned out of the doc column "
                          "(the JSON line) of the row with rowid = id";

struct peer_db {
  char *path;
};

struct peer_cur {
  sqlite3 *conn;
  sqlite3_stmt *get;
};

int peer_open(const char *path, peer_db **out, char *msg, size_t cap) {
  peer_db *db = malloc(sizeof *db);
  const size_t n = strlen(path) + 1;
  if (!db || !(db->path = malloc(n))) {
    snprintf(msg, cap, "out of memory");
    free(db);
    return -1;
  }
  memcpy(db->path, path, n);
  *out = db;
  return 0;
}

int peer_cur_open(peer_db *db, peer_cur **out, char *msg, size_t cap) {
  peer_cur *c = calloc(1, sizeof *c);
  int rc;

  if (!c) {
    snprintf(msg, cap, "out of memory");
    return -1;
  }
  rc = sqlite3_open_v2(db->path, &c->conn,
                       SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(c->conn, "PRAGMA mmap_size=2147483648; BEGIN", NULL, NULL,
                      NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(c->conn, "SELECT doc FROM m WHERE id = ?", -1,
                            &c->get, NULL);
  if (rc != SQLITE_OK) {
    snprintf(msg, cap, "%s",
             c->conn ? sqlite3_errmsg(c->conn) : sqlite3_errstr(rc));
    sqlite3_close(c->conn);
    free(c);
    return -1;
  }
  *out = c;
  return 0;
}

int peer_get(peer_cur *cur, int64_t key, const char **s, size_t *len, char *msg,
             size_t cap) {
  int rc, found = 0;

  sqlite3_reset(cur->get);
  sqlite3_bind_int64(cur->get, 1, key);
  rc = sqlite3_step(cur->get);
  if (rc == SQLITE_ROW) {
    /* The text stays valid until the next step or reset of the statement:
     * the caller reads it before its next lookup. */
    const char *doc = (const char *)sqlite3_column_text(cur->get, 0);
    const int n = sqlite3_column_bytes(cur->get, 0);
    found = doc && peer_json_title(doc, (size_t)n, s, len);
    if (!found) {
      snprintf(msg, cap, "key %lld: no title in doc", (long long)key);
      return -1;
    }
    return 1;
  }
  if (rc == SQLITE_DONE)
    return 0;
  snprintf(msg, cap, "key %lld: %s", (long long)key, sqlite3_errmsg(cur->conn));
  return -1;
}

void peer_cur_close(peer_cur *cur) {
  sqlite3_finalize(cur->get);
  sqlite3_close(cur->conn);
  free(cur);
}

void peer_close(peer_db *db) {
  free(db->path);
  free(db);
}
