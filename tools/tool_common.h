/*
 * tool_common.h - helpers shared by the hollow-* tools: messages, exit
 * codes, input loading (mmap or read), buffered stdout.  Tools include only
 * hformat.h and this header; nothing here is part of libhformat.
 */
#ifndef TOOL_COMMON_H
#define TOOL_COMMON_H

#include <stddef.h>
#include <stdio.h>
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
/* Opens `path` ("-" or NULL = stdin) for reading as a stream.  Prints the
 * error and returns -1 on failure, else the descriptor. */
int tool_input_fd(const char *path);

/* Sets a large buffer on stdout; call before the first write. */
void tool_stdout_buffered(void);

/* hf_write_fn writing to stdout; nonzero on error. */
int tool_stdout_write(void *ctx, const void *p, size_t len);

/* Flushes and closes stdout; reports a failure (full disk, closed pipe) and
 * returns TOOL_EXIT_TROUBLE, else `status`. */
int tool_close_stdout(int status);

/* ---- command line ------------------------------------------------------ */

/* What parse_args() returns when main() should go on; any other value is
 * the exit status to return at once. */
#define TOOL_CONTINUE (-1)

/* Most primary keys given with --key; more is a usage error. */
#define TOOL_MAX_KEY_ARGS 64

/* The options every writing tool spells alike: -f, -q, -v. */
typedef struct tool_opts {
  int force;     /* -f: binary output to a terminal is allowed */
  int verbosity; /* 0 -q, 1 normal (the default), 2 -v */
} tool_opts;

/* Long forms of the options tool_option() handles, for a tool's
 * `struct option` table (<getopt.h>).  Keep each tool's order: getopt_long
 * names an ambiguous abbreviation's candidates in table order. */
/* clang-format off */
#define TOOL_LONGS_FQV                                                         \
  {"force", no_argument, NULL, 'f'},                                           \
  {"quiet", no_argument, NULL, 'q'},                                           \
  {"verbose", no_argument, NULL, 'v'}
#define TOOL_LONGS_HV                                                          \
  {"help", no_argument, NULL, 'h'},                                            \
  {"version", no_argument, NULL, 'V'}
/* clang-format on */

/* Strips the directory from argv[0] (getopt's own messages use argv[0]) and
 * sets the message name from it, or `fallback` when argc is 0. */
void tool_init(int argc, char **argv, const char *fallback);

/* After getopt has said what is wrong: points at --help on stderr, like
 * coreutils.  @return : TOOL_EXIT_TROUBLE. */
int tool_usage_error(void);

/* Prints "prog VERSION (libhformat V, format M.N)" on stdout. */
void tool_print_version(void);

/* -V: prints the version line and closes stdout.  @return : exit status. */
int tool_version(void);

/* Handles an option letter the tool's own switch left over: 'h' (usage(),
 * then exit), 'V' (version), and, when `o` is not NULL, 'f', 'q', 'v'.
 * Only letters in the tool's optstring reach it.  @return : TOOL_CONTINUE,
 * or the exit status (an unknown option gets tool_usage_error()). */
int tool_option(int c, tool_opts *o, void (*usage)(FILE *));

/* 1 when `path` names stdout or stdin: NULL or "-". */
int tool_is_std(const char *path);

/* Refuses to write binary output to a terminal, before any work (lz4, zstd):
 * prints why and returns nonzero when `out_path` is stdout, stdout is a
 * terminal and `force` is 0. */
int tool_refuse_tty(const char *out_path, int force);

/* ---- blobs ------------------------------------------------------------- */

/* Opens a snapshot or delta ("-" = stdin), runs hf_reader_verify() on it
 * when `verify` is set, and reports a failure against the file's name.
 * @return : 0, or -1 with *out NULL.  The caller closes *out. */
int tool_open_blob(const char *path, int verify, hf_reader **out);

/* Reopens a file just published at `path` for its size and counts.
 * @return : the reader (caller closes it), or NULL for stdout or when it
 * cannot be read back (nothing is printed). */
hf_reader *tool_reopen_output(const char *path);

/* ---- schemas and keys -------------------------------------------------- */

/* 1 if some type other than `t` itself references `t`: root types are the
 * ones nothing references. */
int tool_type_referenced(const hf_schema *s, uint32_t t);

/* Splits --key arguments into the `want` parts of a primary key: taken as
 * they are when their number matches, else a single argument (copied into
 * the writable `buf`) is split at commas.  `parts` holds TOOL_MAX_KEY_ARGS.
 * @return : 0 with *n parts, or -1 when the count does not match. */
int tool_key_parts(const char *const *keys, size_t nkeys, uint32_t want,
                   char *buf, const char **parts, size_t *n);

/* Combines exit statuses: trouble beats a negative answer beats success. */
int tool_worst(int a, int b);

/* Parses a decimal unsigned integer that fills `s` entirely; 0 on success. */
int tool_parse_u64(const char *s, uint64_t *out);

/* Seconds since an arbitrary fixed point, for elapsed-time reports. */
double tool_now(void);

#endif /* TOOL_COMMON_H */
