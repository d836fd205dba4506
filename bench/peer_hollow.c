/*
 * peer_hollow.c - hollow behind bench/peer.h: hf_reader_open, the Movie
 * type and its title field resolved by name, hf_reader_find of the long
 * key, hf_record_string of the title (a typed string: no parsing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hformat.h"
#include "peer.h"

const char peer_name[] = "peer_hollow";
const char peer_reads[] = "title: typed string field (hf_record_string)";

struct peer_db {
  hf_reader *r;
  uint32_t type, title;
};

/* The reader is immutable once open: threads share it, no cursor state. */
struct peer_cur {
  const peer_db *db;
};

int peer_open(const char *path, peer_db **out, char *msg, size_t cap) {
  peer_db *db = malloc(sizeof *db);
  const hf_schema *s;
  hf_error err;

  if (!db) {
    snprintf(msg, cap, "out of memory");
    return -1;
  }
  if (hf_reader_open(path, NULL, &db->r, &err) != HF_OK) {
    snprintf(msg, cap, "%s", err.msg);
    free(db);
    return -1;
  }
  s = hf_reader_schema(db->r);
  if (hf_schema_type_find(s, "Movie", 5, &db->type) != HF_OK ||
      hf_schema_field_find(s, db->type, "title", 5, &db->title) != HF_OK) {
    snprintf(msg, cap, "no Movie.title in the schema");
    hf_reader_close(db->r);
    free(db);
    return -1;
  }
  *out = db;
  return 0;
}

int peer_cur_open(peer_db *db, peer_cur **out, char *msg, size_t cap) {
  peer_cur *c = malloc(sizeof *c);
  if (!c) {
    snprintf(msg, cap, "out of memory");
    return -1;
  }
  c->db = db;
  *out = c;
  return 0;
}

int peer_get(peer_cur *cur, int64_t key, const char **s, size_t *len, char *msg,
             size_t cap) {
  const peer_db *db = cur->db;
  hf_value k;
  hf_record rec;
  hf_view v;
  int rc;

  k.type = HF_FT_LONG;
  k.u.l = key;
  rc = hf_reader_find(db->r, db->type, &k, 1, &rec);
  if (rc == HF_NOTFOUND)
    return 0;
  if (rc == HF_OK)
    rc = hf_record_string(&rec, db->title, &v);
  if (rc != HF_OK) {
    snprintf(msg, cap, "key %lld: %s", (long long)key, hf_strerror(rc));
    return -1;
  }
  *s = v.ptr;
  *len = v.len;
  return 1;
}

void peer_cur_close(peer_cur *cur) {
  free(cur);
}

void peer_close(peer_db *db) {
  hf_reader_close(db->r);
  free(db);
}
