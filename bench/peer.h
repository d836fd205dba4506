/*
 * peer.h - one interface over hollow and the stores a user would pick
 * instead (tinycdb, SQLite, LMDB), so bench/peer_main.c does the same work
 * against each: open, look a 64-bit key up, read one string field.
 *
 * Each bench/peer_<name>.c implements these functions; peer_main.c holds
 * the modes (once, spawn, warm) and links with exactly one of them.
 */
#ifndef PEER_H
#define PEER_H

#include <stddef.h>
#include <stdint.h>

typedef struct peer_db peer_db;   /* opened once, shared by threads */
typedef struct peer_cur peer_cur; /* per thread: statement, txn, state */

extern const char peer_name[];
/* What peer_get() returns as the "string field", for the report. */
extern const char peer_reads[];

/* 0, or -1 with msg[0..cap) set. */
int peer_open(const char *path, peer_db **db, char *msg, size_t cap);
int peer_cur_open(peer_db *db, peer_cur **cur, char *msg, size_t cap);
/* Looks `key` up and points *s and *len at the title of its record.
 * 1 found, 0 absent, -1 error (msg set). */
int peer_get(peer_cur *cur, int64_t key, const char **s, size_t *len, char *msg,
             size_t cap);
void peer_cur_close(peer_cur *cur);
void peer_close(peer_db *db);

/* For the JSON-valued peers: the raw text of the "title" string in a JSON
 * record (escapes left as they are), found by a scan for `"title":"`.
 * Cheaper than any JSON parser: it favours the peers.  1 found, 0 not. */
int peer_json_title(const char *json, size_t n, const char **s, size_t *len);

#endif /* PEER_H */
