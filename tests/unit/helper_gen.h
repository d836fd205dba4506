/* helper_gen.h - seeded generator of records for round-trip tests. */
#ifndef HELPER_GEN_H
#define HELPER_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "hformat.h"

/* A schema using every field kind, one-field wrappers, lists, sets, maps in
 * both JSON forms, nested collections and a composite primary key. */
extern const char hf_gen_schema[];

/* Adds n root records of type "Root" to b, built through the stack API from
 * a PRNG seeded with `seed`: nulls, empty and non-ASCII strings, control
 * characters, NaN/Inf/-0, empty and large collections, shared records. */
int hf_gen_roots(hf_builder *b, const hf_schema *s, uint64_t seed, unsigned n,
                 hf_error *err);

/* Writes b's snapshot into a malloc'd buffer (*out, *len). */
int hf_gen_snapshot(hf_builder *b, unsigned char **out, size_t *len,
                    hf_error *err);

#endif
