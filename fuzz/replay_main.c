/*
 * replay_main.c - runs a fuzz target over files and directories without
 * libFuzzer, so that `make fuzz-replay` (part of `make check`) replays the
 * committed corpora and regression inputs with any compiler.
 *
 * Usage: fuzz_<target> FILE|DIR...   Exit 0 when every input ran; a failed
 * property aborts, naming the input on stderr first.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The input being run, named when it crashes: abort() from a failed
 * property, a signal, or a sanitizer report (ASan calls __asan_on_error). */
static const char *current;

static void name_current(void) {
  if (current != NULL) {
    (void)!write(2, "replay: failing input: ", 23);
    (void)!write(2, current, strlen(current));
    (void)!write(2, "\n", 1);
  }
}

static void on_signal(int sig) {
  name_current();
  signal(sig, SIG_DFL);
  raise(sig);
}

void __asan_on_error(void);
void __asan_on_error(void) {
  name_current();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf = NULL;
  size_t len = 0, cap = 0, n;

  if (f == NULL) {
    perror(path);
    return -1;
  }
  do {
    if (len == cap) {
      unsigned char *nb;
      cap = cap ? cap * 2 : 4096;
      if ((nb = realloc(buf, cap)) == NULL) {
        fprintf(stderr, "%s: out of memory\n", path);
        free(buf);
        fclose(f);
        return -1;
      }
      buf = nb;
    }
    n = fread(buf + len, 1, cap - len, f);
    len += n;
  } while (n > 0);
  if (ferror(f)) {
    perror(path);
    free(buf);
    fclose(f);
    return -1;
  }
  fclose(f);
  /* An exact-size copy, so that ASan/valgrind see reads past the end. */
  {
    unsigned char *exact = malloc(len ? len : 1);
    if (exact == NULL) {
      free(buf);
      return -1;
    }
    if (len > 0)
      memcpy(exact, buf, len);
    free(buf);
    current = path;
    LLVMFuzzerTestOneInput(exact, len);
    current = NULL;
    free(exact);
  }
  return 1;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path);

/* Entries in name order, so runs are reproducible. */
static int run_dir(const char *path) {
  DIR *d = opendir(path);
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, cap = 0, i;
  int total = 0;

  if (d == NULL) {
    perror(path);
    return -1;
  }
  while ((e = readdir(d)) != NULL) {
    size_t len;
    char *full;
    if (e->d_name[0] == '.')
      continue;
    len = strlen(path) + strlen(e->d_name) + 2;
    if (n == cap) {
      char **nn;
      cap = cap ? cap * 2 : 64;
      if ((nn = realloc(names, cap * sizeof *names)) == NULL)
        break;
      names = nn;
    }
    if ((full = malloc(len)) == NULL)
      break;
    snprintf(full, len, "%s/%s", path, e->d_name);
    names[n++] = full;
  }
  closedir(d);
  if (n > 0)
    qsort(names, n, sizeof *names, cmp_str);
  for (i = 0; i < n; i++) {
    int k = total >= 0 ? run_path(names[i]) : 0;
    total = k < 0 ? -1 : total + k;
    free(names[i]);
  }
  free(names);
  return total;
}

static int run_path(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    perror(path);
    return -1;
  }
  return S_ISDIR(st.st_mode) ? run_dir(path) : run_file(path);
}

int main(int argc, char **argv) {
  int i, total = 0;
  signal(SIGABRT, on_signal);
  signal(SIGSEGV, on_signal);
  signal(SIGBUS, on_signal);
  signal(SIGFPE, on_signal);
  for (i = 1; i < argc; i++) {
    int k = run_path(argv[i]);
    if (k < 0)
      return 2;
    total += k;
  }
  fprintf(stderr, "replay: %s: %d inputs ran\n", argv[0], total);
  return 0;
}
