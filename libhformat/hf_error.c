/* hf_error.c - error codes, their texts, and filling hf_error. */
#include <stdarg.h>
#include <stdio.h>

#include "hf_internal.h"

const char *hf_strerror(int code) {
  switch (code) {
#define HF_ERROR_CASE_(name, value, text)                                      \
  case value:                                                                  \
    return text;
    HF_ERRORS(HF_ERROR_CASE_)
#undef HF_ERROR_CASE_
  default:
    return "unknown error";
  }
}

const char *hf_version_string(void) {
  return HF_VERSION_STRING;
}

void hf_error_clear(hf_error *err) {
  if (err == NULL)
    return;
  err->code = HF_OK;
  err->offset = UINT64_MAX;
  err->line = 0;
  err->column = 0;
  err->msg[0] = '\0';
}

static void fill(hf_error *err, int code, const char *fmt, va_list ap) {
  err->code = code;
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  if (err->msg[0] == '\0')
    snprintf(err->msg, sizeof err->msg, "%s", hf_strerror(code));
}

int hf_fail(hf_error *err, int code, uint64_t offset, const char *fmt, ...) {
  va_list ap;
  if (err == NULL)
    return code;
  hf_error_clear(err);
  err->offset = offset;
  va_start(ap, fmt);
  fill(err, code, fmt, ap);
  va_end(ap);
  return code;
}

int hf_fail_at(hf_error *err, int code, uint64_t line, uint32_t column,
               const char *fmt, ...) {
  va_list ap;
  if (err == NULL)
    return code;
  hf_error_clear(err);
  err->line = line;
  err->column = column;
  va_start(ap, fmt);
  fill(err, code, fmt, ap);
  va_end(ap);
  return code;
}
