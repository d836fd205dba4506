/*
 * hf_jtape.h - a recording of builder calls, so that JSON Lines can be
 * parsed on one thread and built on another (hf_jsonl.c).
 *
 * A worker parses a batch of lines with the same walk as
 * hf_builder_add_json() (hf_json.c), but records each builder call on a
 * tape instead of making it; the builder's thread replays the tapes in input
 * order.  A line the walk refuses is recorded as "direct": replay hands its
 * text to hf_builder_add_json(), which refuses it again with the message a
 * sequential run would give.  A line whose replay fails is discarded and
 * handed over the same way.  So the records built and the first error are
 * those of adding the lines one by one, by construction.
 *
 * References between records of one line are tape-local: the n-th record
 * closed on a line has ref id n; replay maps them to the builder's refs.
 * Leaf records (hf_builder_internal.h) are rendered and hashed here, one op
 * each, so the building thread only looks them up, with prefetches issued
 * some ops ahead.  Other objects whose key is their own fields' are
 * rendered here too, references as tape-local ids and the key hashed: the
 * building thread opens them, builds what they refer to, and closes them
 * with the blob.
 * Strings are views of the batch text when they have no escape, else copies
 * in the tape's arena.  Not installed.
 */
#ifndef HF_JTAPE_H
#define HF_JTAPE_H

#include "hf_builder_internal.h"

typedef struct hf_jop hf_jop;

typedef struct hf_jtape {
  const hf_schema *s;
  unsigned char *how;     /* per type: taped, leaf or rendered (hf_jtape.c) */
  hf_bframe *frames;      /* per open record: the frame it is rendered in, */
  unsigned char *open;    /* and how it is recorded */
  size_t depth, open_cap; /* records open on the current line */
  hf_jop *ops;
  size_t nops, ops_cap;
  char *arena; /* unescaped strings, decoded bytes */
  size_t arena_len, arena_cap;
  const char *text; /* the batch text the lines are views of */
  size_t text_len;
  uint64_t first_line; /* line numbers are recorded relative to it */
  uint32_t nends;      /* records closed on the current line */
  size_t line_op;      /* index of the current line's LINE op */
  size_t line_arena;   /* arena length when the current line began */
} hf_jtape;

/* Empties t for a batch of schema s whose lines lie in text[0..len), the
 * first of them (blank or not) being input line `first_line`.  HF_OK or
 * HF_E_NOMEM. */
int hf_jtape_reset(hf_jtape *t, const hf_schema *s, const char *text,
                   size_t len, uint64_t first_line);
void hf_jtape_free(hf_jtape *t);

/* Line `line` (number in the input) is p[0..len), a view of the text. */
int hf_jtape_line(hf_jtape *t, uint64_t line, const char *p, size_t len);
/* The current line is to be added directly: its calls are dropped. */
int hf_jtape_direct(hf_jtape *t);

/* The recorded twins of the builder calls hf_json.c makes.  Each returns
 * HF_OK or HF_E_NOMEM; hf_jtape_end() gives the tape-local ref. */
int hf_jtape_begin(hf_jtape *t, uint32_t type);
int hf_jtape_end(hf_jtape *t, uint32_t type, hf_ref *out);
int hf_jtape_scalar(hf_jtape *t, hf_ftype ft, uint32_t field, uint64_t bits);
int hf_jtape_data(hf_jtape *t, hf_ftype ft, uint32_t field, const char *p,
                  size_t len);
int hf_jtape_ref(hf_jtape *t, uint32_t field, hf_ref ref);
int hf_jtape_add(hf_jtape *t, hf_ref elem);
int hf_jtape_put(hf_jtape *t, hf_ref key, hf_ref value);

/* hf_json.c: records line `line`, json[0..len) (a view of t's text), as a
 * root record of `type`, or as a direct line if the walk refuses it.
 * HF_OK, or an error if not even that could be recorded. */
int hf_json_tape_line(const hf_schema *s, uint32_t flags, uint32_t type,
                      const char *json, size_t len, uint64_t line, hf_jtape *t);

/* Makes the builder call a scalar op stands for: ft's setter with the value
 * whose bits (int: low 32, float: IEEE bits in the low 32) are `bits`. */
int hf_jtape_set_scalar(hf_builder *b, hf_ftype ft, uint32_t field,
                        uint64_t bits, hf_error *err);

/* Replays t into b with root type `type`; *records counts the lines added.
 * The first failure is returned as hf_builder_add_json() reports it. */
int hf_jtape_replay(const hf_jtape *t, hf_builder *b, uint32_t type,
                    uint64_t *records, hf_error *err);

#endif /* HF_JTAPE_H */
