/* tool_common.c - messages, input loading and stdout handling for the tools.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tool_common.h"

/* The one piece of process-wide state: set once in main(), before any
 * message can be printed. */
static const char *prog_name = "hollow";

void tool_set_prog(const char *name) {
  const char *slash = name != NULL ? strrchr(name, '/') : NULL;
  if (name != NULL && *name != '\0')
    prog_name = slash != NULL ? slash + 1 : name;
}

const char *tool_prog(void) {
  return prog_name;
}

const char *tool_name(const char *path) {
  return (path == NULL || strcmp(path, "-") == 0) ? "<stdin>" : path;
}

static void vmsg(const char *file, const char *suffix, const char *fmt,
                 va_list ap) {
  /* One fprintf per piece would interleave with other writers on a shared
   * stderr; format the whole line first. */
  char line[1024];
  int n = snprintf(line, sizeof line, "%s: ", prog_name);
  size_t used = n > 0 ? (size_t)n : 0;
  if (file != NULL && used < sizeof line) {
    n = snprintf(line + used, sizeof line - used, "%s: ", file);
    used += n > 0 ? (size_t)n : 0;
  }
  if (used < sizeof line) {
    n = vsnprintf(line + used, sizeof line - used, fmt, ap);
    used += n > 0 ? (size_t)n : 0;
  }
  if (suffix != NULL && used < sizeof line) {
    n = snprintf(line + used, sizeof line - used, ": %s", suffix);
    used += n > 0 ? (size_t)n : 0;
  }
  if (used >= sizeof line)
    used = sizeof line - 1;
  line[used] = '\n';
  fwrite(line, 1, used + 1, stderr);
}

void tool_msg(const char *file, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmsg(file, NULL, fmt, ap);
  va_end(ap);
}

void tool_msg_errno(const char *file, const char *fmt, ...) {
  const char *why = strerror(errno);
  va_list ap;
  va_start(ap, fmt);
  vmsg(file, why, fmt, ap);
  va_end(ap);
}

void tool_msg_hf(const char *file, int rc, const hf_error *err) {
  const char *msg = hf_strerror(rc);
  const char *why = NULL;
  char where[64] = "";
  int saved = errno;

  if (err != NULL && err->code == rc && err->msg[0] != '\0')
    msg = err->msg;
  if (rc == HF_E_IO && saved != 0 && strstr(msg, strerror(saved)) == NULL)
    why = strerror(saved);
  if (err != NULL && err->code == rc && err->line > 0) {
    /* Messages may already open with "line L, column C: " (SCHEMA.md §0.4);
     * the tool prints the position as file:L:C, so drop the prose form. */
    const char *colon = strstr(msg, ": ");
    if (strncmp(msg, "line ", 5) == 0 && colon != NULL)
      msg = colon + 2;
    if (err->column > 0)
      snprintf(where, sizeof where, ":%llu:%lu", (unsigned long long)err->line,
               (unsigned long)err->column);
    else
      snprintf(where, sizeof where, ":%llu", (unsigned long long)err->line);
  }
  if (why != NULL)
    tool_msg(NULL, "%s%s: %s: %s", file != NULL ? file : "", where, msg, why);
  else
    tool_msg(NULL, "%s%s: %s", file != NULL ? file : "", where, msg);
}

/* Reads fd to the end into a growing heap buffer (pipes, terminals). */
static int read_all(int fd, const char *name, tool_input *in) {
  size_t cap = (size_t)1 << 20, len = 0;
  char *buf = malloc(cap);
  if (buf == NULL) {
    tool_msg(name, "out of memory");
    return -1;
  }
  for (;;) {
    ssize_t n;
    if (len == cap) {
      char *grown;
      if (cap > SIZE_MAX / 2) {
        free(buf);
        tool_msg(name, "input too large");
        return -1;
      }
      grown = realloc(buf, cap * 2);
      if (grown == NULL) {
        free(buf);
        tool_msg(name, "out of memory");
        return -1;
      }
      buf = grown;
      cap *= 2;
    }
    n = read(fd, buf + len, cap - len);
    if (n == 0)
      break;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      tool_msg_errno(name, "read error");
      free(buf);
      return -1;
    }
    len += (size_t)n;
  }
  in->data = buf;
  in->len = len;
  in->owned = buf;
  return 0;
}

int tool_input_fd(const char *path) {
  const char *name = tool_name(path);
  struct stat st;
  int fd;

  if (path == NULL || strcmp(path, "-") == 0)
    return STDIN_FILENO;
  fd = open(path, O_RDONLY);
  if (fd < 0) {
    tool_msg_errno(name, "cannot open");
    return -1;
  }
  if (fstat(fd, &st) != 0) {
    tool_msg_errno(name, "cannot stat");
    close(fd);
    return -1;
  }
  if (S_ISDIR(st.st_mode)) {
    tool_msg(name, "is a directory");
    close(fd);
    return -1;
  }
  return fd;
}

int tool_input_load(const char *path, tool_input *in) {
  struct stat st;
  int fd, rc;

  memset(in, 0, sizeof *in);
  if ((fd = tool_input_fd(path)) < 0)
    return -1;
  /* mmap of an empty file fails; an empty regular file is simply empty. */
  if (fd != STDIN_FILENO && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      st.st_size > 0 && (uint64_t)st.st_size <= (uint64_t)SIZE_MAX) {
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      close(fd);
      in->map = p;
      in->data = p;
      in->len = (size_t)st.st_size;
      return 0;
    }
  }
  rc = read_all(fd, tool_name(path), in);
  if (fd != STDIN_FILENO)
    close(fd);
  return rc;
}

void tool_input_free(tool_input *in) {
  if (in == NULL)
    return;
  if (in->map != NULL)
    munmap(in->map, in->len);
  free(in->owned);
  memset(in, 0, sizeof *in);
}

void tool_stdout_buffered(void) {
  setvbuf(stdout, NULL, _IOFBF, (size_t)1 << 16);
}

int tool_stdout_write(void *ctx, const void *p, size_t len) {
  (void)ctx;
  if (len == 0)
    return 0;
  return fwrite(p, 1, len, stdout) == len ? 0 : -1;
}

int tool_close_stdout(int status) {
  int bad = ferror(stdout);
  if (fflush(stdout) != 0)
    bad = 1;
  if (fclose(stdout) != 0)
    bad = 1;
  if (bad) {
    tool_msg_errno("<stdout>", "write error");
    return TOOL_EXIT_TROUBLE;
  }
  return status;
}

void tool_init(int argc, char **argv, const char *fallback) {
  if (argc > 0 && strrchr(argv[0], '/') != NULL)
    argv[0] = strrchr(argv[0], '/') + 1;
  tool_set_prog(argc > 0 ? argv[0] : fallback);
}

int tool_usage_error(void) {
  fprintf(stderr, "Try '%s --help' for more information.\n", prog_name);
  return TOOL_EXIT_TROUBLE;
}

void tool_print_version(void) {
  printf("%s %s (libhformat %s, format %d.%d)\n", prog_name, HF_VERSION_STRING,
         hf_version_string(), HF_FORMAT_MAJOR, HF_FORMAT_MINOR);
}

int tool_version(void) {
  tool_print_version();
  return tool_close_stdout(TOOL_EXIT_OK);
}

int tool_option(int c, tool_opts *o, void (*usage)(FILE *)) {
  switch (c) {
  case 'h':
    usage(stdout);
    return tool_close_stdout(TOOL_EXIT_OK);
  case 'V':
    return tool_version();
  case 'f':
  case 'q':
  case 'v':
    if (o == NULL)
      break;
    if (c == 'f')
      o->force = 1;
    else
      o->verbosity = c == 'q' ? 0 : 2;
    return TOOL_CONTINUE;
  default:
    break;
  }
  return tool_usage_error();
}

int tool_is_std(const char *path) {
  return path == NULL || strcmp(path, "-") == 0;
}

int tool_refuse_tty(const char *out_path, int force) {
  if (!tool_is_std(out_path) || force || !isatty(STDOUT_FILENO))
    return 0;
  tool_msg(NULL, "refusing to write binary output to a terminal "
                 "(use -o FILE, a pipe, or -f)");
  return -1;
}

int tool_open_blob(const char *path, int verify, hf_reader **out) {
  hf_error err;
  int rc = tool_is_std(path) ? hf_reader_open_fd(STDIN_FILENO, NULL, out, &err)
                             : hf_reader_open(path, NULL, out, &err);
  if (rc == HF_OK && verify)
    rc = hf_reader_verify(*out, &err);
  if (rc != HF_OK) {
    tool_msg_hf(tool_name(path), rc, &err);
    hf_reader_close(*out);
    *out = NULL;
    return -1;
  }
  return 0;
}

hf_reader *tool_reopen_output(const char *path) {
  hf_reader *r = NULL;
  if (tool_is_std(path) || hf_reader_open(path, NULL, &r, NULL) != HF_OK)
    return NULL;
  return r;
}

int tool_type_referenced(const hf_schema *s, uint32_t t) {
  uint32_t u, f, n = hf_schema_type_count(s);
  for (u = 0; u < n; u++) {
    hf_type_info ti;
    if (u == t || hf_schema_type(s, u, &ti) != HF_OK)
      continue;
    if (ti.kind != HF_KIND_OBJECT) {
      if (ti.elem_type == t || ti.value_type == t)
        return 1;
      continue;
    }
    for (f = 0; f < ti.field_count; f++) {
      hf_field_info fi;
      if (hf_schema_field(s, u, f, &fi) == HF_OK && fi.type == HF_FT_REF &&
          fi.ref_type == t)
        return 1;
    }
  }
  return 0;
}

int tool_key_parts(const char *const *keys, size_t nkeys, uint32_t want,
                   char *buf, const char **parts, size_t *n) {
  char *p;
  if (nkeys == want) {
    memcpy(parts, keys, nkeys * sizeof *parts);
    *n = nkeys;
    return 0;
  }
  if (nkeys != 1)
    return -1;
  *n = 0;
  for (p = buf;;) {
    char *comma = strchr(p, ',');
    if (*n == TOOL_MAX_KEY_ARGS)
      return -1;
    parts[(*n)++] = p;
    if (comma == NULL)
      break;
    *comma = '\0';
    p = comma + 1;
  }
  return *n == want ? 0 : -1;
}

int tool_worst(int a, int b) {
  return a > b ? a : b;
}

int tool_parse_u64(const char *s, uint64_t *out) {
  uint64_t v = 0;
  if (s == NULL || *s == '\0')
    return -1;
  for (; *s != '\0'; s++) {
    unsigned d;
    if (*s < '0' || *s > '9')
      return -1;
    d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

double tool_now(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    return 0.0;
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
