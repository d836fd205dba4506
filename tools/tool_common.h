/*
 * tool_common.h - helpers shared by the hollow-* tools: messages, exit
 * codes, input loading (mmap or read), buffered stdout.  Tools include only
 * hformat.h and this header; nothing here is part of libhformat.
 */
#ifndef TOOL_COMMON_H
#define TOOL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "hformat.h"

/* Exit status, STYLE.md §7 (diff(1)/grep(1) convention). */
#define TOOL_EXIT_OK 0
#define TOOL_EXIT_NO 1      /* a negative answer: key absent, inputs differ */
#define TOOL_EXIT_TROUBLE 2 /* usage error, rejected input, I/O error */

/* Name used as the first word of every message; set once from main(). */
void tool_set_prog(const char *name);
const char *tool_prog(void);

/* "prog: file: message\n" on stderr; `file` may be NULL. */
void tool_msg(const char *file, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* As tool_msg, appending ": strerror(errno)" (errno taken at entry). */
void tool_msg_errno(const char *file, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Reports a library failure about `file`: "prog: file:LINE[:COL]: msg" when
 * err carries a line, else "prog: file: msg"; I/O errors get strerror. */
void tool_msg_hf(const char *file, int rc, const hf_error *err);

/* Display name of a file argument: "-" reads as "<stdin>". */
const char *tool_name(const char *path);

/* A whole input file in memory: mapped when it is a regular file, else read
 * to the end in large blocks. */
typedef struct tool_input {
  const char *data;
  size_t len;
  void *map;   /* non-NULL when mapped */
  char *owned; /* non-NULL when read into the heap */
} tool_input;

/* Loads `path` ("-" or NULL = stdin).  Prints the error and returns -1 on
 * failure, 0 on success. */
int tool_input_load(const char *path, tool_input *in);
void tool_input_free(tool_input *in);

/* Sets a large buffer on stdout; call before the first write. */
void tool_stdout_buffered(void);

/* hf_write_fn writing to stdout; nonzero on error. */
int tool_stdout_write(void *ctx, const void *p, size_t len);

/* Flushes and closes stdout; reports a failure (full disk, closed pipe) and
 * returns TOOL_EXIT_TROUBLE, else `status`. */
int tool_close_stdout(int status);

/* Parses a decimal unsigned integer that fills `s` entirely; 0 on success. */
int tool_parse_u64(const char *s, uint64_t *out);

/* Seconds since an arbitrary fixed point, for elapsed-time reports. */
double tool_now(void);

#endif /* TOOL_COMMON_H */
