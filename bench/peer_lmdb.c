/*
 * peer_lmdb.c - LMDB behind bench/peer.h.  The environment is one file
 * (mdb_load -n, opened MDB_NOSUBDIR | MDB_RDONLY) mapping the decimal id to
 * the record's JSON line; the "string field" is the raw title found in that
 * line by peer_json_title().  Threads share the environment; each cursor is
 * a read-only transaction kept open for its whole life (MDB_NOTLS, so more
 * than one per thread is allowed), mdb_get returns a pointer into the map.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "peer.h"

const char peer_name[] = "peer_lmdb";
const char peer_reads[] =
    "title: raw text scanned out of the JSON line stored under the id";

struct peer_db {
  MDB_env *env;
  MDB_dbi dbi;
};

struct peer_cur {
  MDB_txn *txn;
  MDB_dbi dbi;
};

int peer_open(const char *path, peer_db **out, char *msg, size_t cap) {
  peer_db *db = malloc(sizeof *db);
  MDB_txn *txn;
  int rc;

  if (!db) {
    snprintf(msg, cap, "out of memory");
    return -1;
  }
  rc = mdb_env_create(&db->env);
  if (rc == 0)
    rc = mdb_env_set_maxreaders(db->env, 126);
  if (rc == 0)
    rc = mdb_env_open(db->env, path,
                      MDB_NOSUBDIR | MDB_RDONLY | MDB_NOTLS | MDB_NOLOCK, 0644);
  if (rc == 0)
    rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
  if (rc == 0) {
    rc = mdb_dbi_open(txn, NULL, 0, &db->dbi);
    mdb_txn_abort(txn);
  }
  if (rc != 0) {
    snprintf(msg, cap, "%s", mdb_strerror(rc));
    mdb_env_close(db->env);
    free(db);
    return -1;
  }
  *out = db;
  return 0;
}

int peer_cur_open(peer_db *db, peer_cur **out, char *msg, size_t cap) {
  peer_cur *c = malloc(sizeof *c);
  int rc = c ? mdb_txn_begin(db->env, NULL, MDB_RDONLY, &c->txn) : ENOMEM;
  if (rc != 0) {
    snprintf(msg, cap, "mdb_txn_begin: %s", mdb_strerror(rc));
    free(c);
    return -1;
  }
  c->dbi = db->dbi;
  *out = c;
  return 0;
}

int peer_get(peer_cur *cur, int64_t key, const char **s, size_t *len, char *msg,
             size_t cap) {
  char k[24];
  MDB_val kv, dv;
  int rc;

  kv.mv_size = (size_t)snprintf(k, sizeof k, "%lld", (long long)key);
  kv.mv_data = k;
  rc = mdb_get(cur->txn, cur->dbi, &kv, &dv);
  if (rc == MDB_NOTFOUND)
    return 0;
  if (rc != 0) {
    snprintf(msg, cap, "mdb_get %s: %s", k, mdb_strerror(rc));
    return -1;
  }
  if (!peer_json_title(dv.mv_data, dv.mv_size, s, len)) {
    snprintf(msg, cap, "key %s: no title in the value", k);
    return -1;
  }
  return 1;
}

void peer_cur_close(peer_cur *cur) {
  mdb_txn_abort(cur->txn);
  free(cur);
}

void peer_close(peer_db *db) {
  mdb_env_close(db->env);
  free(db);
}
