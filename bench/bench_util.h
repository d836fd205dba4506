/*
 * bench_util.h - timing, statistics, seeded randomness and key handling
 * shared by the snapshot benches (bench_lookup, bench_open).  Uses only the
 * public API of libhformat, like the tools.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "hformat.h"

#define HB_MAX_KEYS 16 /* FORMAT.md §10: key paths per @PrimaryKey */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t hb_now_ns(void);

typedef struct hb_stats {
  double median, min, max;
  size_t n;
} hb_stats;

/* Sorts v[0..n) in place and summarises it; n > 0. */
hb_stats hb_stats_of(double *v, size_t n);

/* splitmix64: a fixed seed gives the same sequence on every machine. */
uint64_t hb_rand(uint64_t *state);
/* Uniform in [0, n), n > 0 (rejection sampling, no modulo bias). */
uint64_t hb_rand_below(uint64_t *state, uint64_t n);
/* Fisher-Yates shuffle of v[0..n). */
void hb_shuffle_u32(uint32_t *v, size_t n, uint64_t *state);

/* What a bench queries: a keyed object type, its key, one string field. */
typedef struct hb_target {
  uint32_t type;
  uint32_t nkeys;
  hf_ftype leaf[HB_MAX_KEYS];
  uint32_t str_field; /* HF_NO_TYPE when the type has no string field */
} hb_target;

/* Resolves `type_name` (NULL: the keyed object type with the most records)
 * and `field_name` (NULL: the first string field not used as the key, else
 * the first string field).  HF_OK, or an error with err->msg set. */
int hb_target_pick(const hf_reader *r, const char *type_name,
                   const char *field_name, hb_target *t, hf_error *err);

/* Key values of record `ordinal`, following dotted key paths through
 * references.  Views point into the reader's mapping. */
int hb_key_values(const hf_reader *r, const hb_target *t, uint32_t ordinal,
                  hf_value *vals, hf_error *err);

/* Writes value `v` as text hf_reader_find_text() accepts back (strings
 * raw; bytes are not supported).  Returns the length, or 0 if it does not
 * fit in cap (NUL included). */
size_t hb_value_text(const hf_value *v, char *buf, size_t cap);

#endif /* BENCH_UTIL_H */
