/* bench_json_jsonc.c - the json-c part of bench_json.c (json-c and jansson
 * headers clash in one translation unit). */
#include <stdint.h>
#include <string.h>

#include <json-c/json.h>

extern uint64_t sum;
void take_string(const char *p, size_t len);
void take_key(const char *p, size_t len);
int run_jsonc(const char *p, size_t len);
void jsonc_init(void);
void jsonc_done(void);

static struct json_tokener *jct;

void jsonc_init(void) {
  jct = json_tokener_new();
}

void jsonc_done(void) {
  json_tokener_free(jct);
}

/* ---- json-c: tree per line, one reused tokener ------------------------ */

static struct json_tokener *jct;

static void walk_jsonc(struct json_object *v) {
  switch (json_object_get_type(v)) {
  case json_type_object: {
    sum += 3;
    json_object_object_foreach(v, k, x) {
      take_key(k, strlen(k));
      walk_jsonc(x);
    }
    break;
  }
  case json_type_array: {
    size_t i, n = json_object_array_length(v);
    sum += 3;
    for (i = 0; i < n; i++)
      walk_jsonc(json_object_array_get_idx(v, i));
    break;
  }
  case json_type_string:
    take_string(json_object_get_string(v),
                (size_t)json_object_get_string_len(v));
    break;
  case json_type_int:
    sum += (uint64_t)json_object_get_int64(v);
    break;
  case json_type_double:
    sum += (uint64_t)(json_object_get_double(v) * 10.0);
    break;
  case json_type_boolean:
    sum += json_object_get_boolean(v) ? 3u : 2u;
    break;
  case json_type_null:
    sum += 1;
    break;
  }
}

int run_jsonc(const char *p, size_t len) {
  struct json_object *v;
  json_tokener_reset(jct);
  v = json_tokener_parse_ex(jct, p, (int)len);
  if (v == NULL)
    return 0;
  walk_jsonc(v);
  json_object_put(v);
  return 1;
}
