/*
 * peer_cdb.c - tinycdb behind bench/peer.h.  The file maps the decimal id
 * to the record's JSON line (built with `cdb -c`); the "string field" is
 * the raw title found in that line by peer_json_title().  Each cursor has
 * its own struct cdb (cdb_find keeps the found position in it), each
 * mapping the same file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cdb.h>

#include "peer.h"

const char peer_name[] = "peer_cdb";
const char peer_reads[] =
    "title: raw text scanned out of the JSON line stored under the id";

struct peer_db {
  int fd;
};

struct peer_cur {
  struct cdb c;
};

int peer_open(const char *path, peer_db **out, char *msg, size_t cap) {
  peer_db *db = malloc(sizeof *db);
  if (!db) {
    snprintf(msg, cap, "out of memory");
    return -1;
  }
  db->fd = open(path, O_RDONLY);
  if (db->fd < 0) {
    snprintf(msg, cap, "%s", strerror(errno));
    free(db);
    return -1;
  }
  *out = db;
  return 0;
}

int peer_cur_open(peer_db *db, peer_cur **out, char *msg, size_t cap) {
  peer_cur *c = malloc(sizeof *c);
  if (!c || cdb_init(&c->c, db->fd) != 0) {
    snprintf(msg, cap, "cdb_init: %s", c ? strerror(errno) : "out of memory");
    free(c);
    return -1;
  }
  *out = c;
  return 0;
}

int peer_get(peer_cur *cur, int64_t key, const char **s, size_t *len, char *msg,
             size_t cap) {
  char k[24];
  const int klen = snprintf(k, sizeof k, "%lld", (long long)key);
  const char *val;
  int rc = cdb_find(&cur->c, k, (unsigned)klen);

  if (rc < 0) {
    snprintf(msg, cap, "cdb_find %s: %s", k, strerror(errno));
    return -1;
  }
  if (rc == 0)
    return 0;
  val = cdb_getdata(&cur->c);
  if (!val || !peer_json_title(val, cdb_datalen(&cur->c), s, len)) {
    snprintf(msg, cap, "key %s: no title in the value", k);
    return -1;
  }
  return 1;
}

void peer_cur_close(peer_cur *cur) {
  cdb_free(&cur->c);
  free(cur);
}

void peer_close(peer_db *db) {
  close(db->fd);
  free(db);
}
