/*
 * hf_write.c - writing a finished snapshot to a descriptor, and publishing
 * it atomically under a path: temporary file in the same directory, fsync,
 * rename, fsync of the directory (STYLE.md §7, FORMAT.md §12).  A reader's
 * existing mapping keeps the old inode, so it never sees a partial file.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h> /* rename */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hf_assemble.h"
#include "hf_builder_internal.h"

/* Writes all of p[0..len), resuming after signals and short writes. */
int hf_write_all(int fd, const unsigned char *p, size_t len, hf_error *err) {
  size_t done = 0;
  while (done < len) {
    size_t chunk = len - done;
    ssize_t w;
    if (chunk > ((size_t)1 << 30))
      chunk = (size_t)1 << 30; /* some systems reject larger single writes */
    w = write(fd, p + done, chunk);
    if (w < 0) {
      int e = errno;
      if (e == EINTR)
        continue;
      hf_fail(err, HF_E_IO, done, "write failed after %zu of %zu bytes", done,
              len);
      errno = e;
      return HF_E_IO;
    }
    if (w == 0) {
      hf_fail(err, HF_E_IO, done, "write made no progress at byte %zu", done);
      errno = EIO;
      return HF_E_IO;
    }
    done += (size_t)w;
  }
  return HF_OK;
}

int hf_builder_write_fd(hf_builder *b, int fd, uint64_t *state_out,
                        hf_error *err) {
  int rc;
  if (b == NULL || fd < 0)
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "no builder or descriptor");
  rc = hf_builder_finish(b, err);
  if (rc != HF_OK)
    return rc;
  rc = hf_write_all(fd, b->out, b->out_len, err);
  if (rc == HF_OK && state_out != NULL)
    *state_out = b->out_state;
  return rc;
}

/* Directory part of path ("." when it has none), in a new string. */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
  char *d = malloc(n + 1);
  if (d == NULL)
    return NULL;
  if (slash == NULL)
    d[0] = '.';
  else
    memcpy(d, path, n);
  d[n] = '\0';
  return d;
}

/* Makes the rename durable.  Filesystems that cannot sync a directory say
 * EINVAL; that is not a failure of the write. */
static int sync_dir(const char *path, hf_error *err) {
  char *dir = dir_of(path);
  int fd, rc = HF_OK;
  if (dir == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL)) {
    int e = errno;
    rc = hf_fail(err, HF_E_IO, UINT64_MAX,
                 "published, but syncing its directory failed");
    errno = e;
  }
  if (fd >= 0)
    close(fd);
  free(dir);
  return rc;
}

/* Creates the temporary file for `path`: same directory, mode 0644. */
static int make_temp(const char *path, char **tmp, int *fd, hf_error *err) {
  static const char suffix[] = ".tmp.XXXXXX";
  size_t plen;
  int e;
  *tmp = NULL;
  *fd = -1;
  if (path == NULL || path[0] == '\0')
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "no path");
  plen = strlen(path);
  if ((*tmp = malloc(plen + sizeof suffix)) == NULL)
    return hf_fail(err, HF_E_NOMEM, UINT64_MAX, "out of memory");
  memcpy(*tmp, path, plen);
  memcpy(*tmp + plen, suffix, sizeof suffix);
  if ((*fd = mkstemp(*tmp)) < 0) {
    e = errno;
    free(*tmp);
    *tmp = NULL;
    hf_fail(err, HF_E_IO, UINT64_MAX, "cannot create a temporary file");
    errno = e;
    return HF_E_IO;
  }
  /* mkstemp makes the file private; a snapshot is for other readers. */
  if (fchmod(*fd, 0644) != 0) {
    e = errno;
    close(*fd);
    unlink(*tmp);
    free(*tmp);
    *tmp = NULL;
    *fd = -1;
    hf_fail(err, HF_E_IO, UINT64_MAX, "cannot set file mode");
    errno = e;
    return HF_E_IO;
  }
  return HF_OK;
}

/* Syncs, closes and renames the written temporary into place; on failure
 * removes it.  Frees tmp either way. */
static int commit_temp(char *tmp, int fd, const char *path, int rc,
                       hf_error *err) {
  int e = errno;
  if (rc == HF_OK && fsync(fd) != 0) {
    e = errno;
    rc = hf_fail(err, HF_E_IO, UINT64_MAX, "fsync of the new file failed");
  }
  /* close() can report a deferred write error (NFS, quotas): check it. */
  if (close(fd) != 0 && rc == HF_OK) {
    e = errno;
    rc = hf_fail(err, HF_E_IO, UINT64_MAX, "close of the new file failed");
  }
  if (rc == HF_OK && rename(tmp, path) != 0) {
    e = errno;
    rc = hf_fail(err, HF_E_IO, UINT64_MAX, "cannot rename into place");
  }
  if (rc != HF_OK) {
    unlink(tmp);
    free(tmp);
    errno = e;
    return rc;
  }
  free(tmp);
  return sync_dir(path, err);
}

int hf_publish(const char *path, const unsigned char *p, size_t len,
               hf_error *err) {
  char *tmp;
  int fd, rc = make_temp(path, &tmp, &fd, err);
  if (rc != HF_OK)
    return rc;
  return commit_temp(tmp, fd, path, hf_write_all(fd, p, len, err), err);
}

/* ---- Rendering straight into the output file ---------------------------- */

/* The kernel zeroes each page of the new file as it is first touched, and
 * for a renderer on one thread (hf_apply.c) that was most of its time.  A
 * second thread has the pages faulted in (hf_populate: no byte changes)
 * from the front, a chunk at a time, as the renderer also goes: the
 * zeroing moves to another CPU, and a page that the renderer reaches first
 * is simply skipped by the kernel. */
#define PF_CHUNK ((size_t)2 << 20)

struct hf_outpf {
  pthread_t tid;
  pthread_mutex_t mu;
  int stop;
  unsigned char *p;
  size_t n;
};

static void *prefault_main(void *arg) {
  struct hf_outpf *pf = arg;
  size_t at;
  for (at = 0; at < pf->n; at += PF_CHUNK) {
    int stop;
    pthread_mutex_lock(&pf->mu);
    stop = pf->stop;
    pthread_mutex_unlock(&pf->mu);
    if (stop || hf_populate(pf->p + at,
                            pf->n - at < PF_CHUNK ? pf->n - at : PF_CHUNK) != 0)
      break;
  }
  return NULL;
}

static void prefault_start(hf_outfile *o) {
  struct hf_outpf *pf = calloc(1, sizeof *pf);
  if (pf == NULL)
    return;
  pf->p = o->out;
  pf->n = (size_t)o->size;
  if (pthread_mutex_init(&pf->mu, NULL) != 0) {
    free(pf);
    return;
  }
  if (pthread_create(&pf->tid, NULL, prefault_main, pf) != 0) {
    pthread_mutex_destroy(&pf->mu);
    free(pf);
    return;
  }
  o->pf = pf;
}

/* Before the mapping is synced or unmapped. */
static void prefault_stop(hf_outfile *o) {
  struct hf_outpf *pf = o->pf;
  if (pf == NULL)
    return;
  pthread_mutex_lock(&pf->mu);
  pf->stop = 1;
  pthread_mutex_unlock(&pf->mu);
  pthread_join(pf->tid, NULL);
  pthread_mutex_destroy(&pf->mu);
  free(pf);
  o->pf = NULL;
}

static unsigned char *outfile_get(void *ctx, uint64_t size) {
  hf_outfile *o = ctx;
  o->size = size;
  if (size > (uint64_t)SIZE_MAX)
    return NULL;
  /* Blocks are reserved before the file is mapped: a store into a mapped
   * hole on a full disk would be a SIGBUS, never an error value.  Where
   * that cannot be done, the blob is rendered in memory and written. */
  if (size <= (uint64_t)INT64_MAX &&
      posix_fallocate(o->fd, 0, (off_t)size) == 0) {
    void *m =
        mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
    if (m != MAP_FAILED) {
      o->out = m;
      o->mapped = 1;
      if (o->prefault)
        prefault_start(o);
      return o->out;
    }
  }
  o->out = calloc(1, (size_t)size);
  o->mapped = 0;
  return o->out;
}

int hf_outfile_open(hf_outfile *o, const char *path, hf_error *err) {
  memset(o, 0, sizeof *o);
  o->mem.get = outfile_get;
  o->mem.ctx = o;
  return make_temp(path, &o->tmp, &o->fd, err);
}

int hf_outfile_publish(hf_outfile *o, const char *path, hf_error *err) {
  int rc = HF_OK;
  prefault_stop(o);
  if (o->mapped) {
    if (msync(o->out, (size_t)o->size, MS_SYNC) != 0) {
      const int e = errno;
      rc = hf_fail(err, HF_E_IO, UINT64_MAX, "writing the new file failed");
      errno = e;
    }
  } else {
    /* the file may hold the reserved size already: write it all over */
    rc = hf_write_all(o->fd, o->out, (size_t)o->size, err);
  }
  rc = commit_temp(o->tmp, o->fd, path, rc, err);
  o->tmp = NULL;
  o->fd = -1;
  return rc;
}

void hf_outfile_drop(hf_outfile *o) {
  prefault_stop(o);
  if (o->tmp != NULL) {
    unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
  }
  if (o->fd >= 0)
    close(o->fd);
  o->fd = -1;
  hf_outfile_free(o->out, o->size, o->mapped);
  o->out = NULL;
}

void hf_outfile_free(unsigned char *out, uint64_t size, int mapped) {
  if (mapped)
    munmap(out, (size_t)size);
  else
    free(out);
}

int hf_builder_write_path(hf_builder *b, const char *path, uint64_t *state_out,
                          hf_error *err) {
  int rc;
  if (b == NULL || path == NULL || path[0] == '\0')
    return hf_fail(err, HF_E_ARG, UINT64_MAX, "no builder or path");
  if (b->out != NULL) { /* written before: the same bytes again */
    rc = hf_publish(path, b->out, b->out_len, err);
  } else {
    hf_outfile o;
    if ((rc = hf_outfile_open(&o, path, err)) != HF_OK)
      return rc;
    b->out_mem = &o.mem;
    rc = hf_builder_finish(b, err);
    b->out_mem = NULL;
    if (rc == HF_OK) {
      /* b->out is o.out now, the builder's to keep (and free) */
      b->out_mapped = o.mapped;
      rc = hf_outfile_publish(&o, path, err);
      o.out = NULL;
    }
    hf_outfile_drop(&o);
  }
  if (rc == HF_OK && state_out != NULL)
    *state_out = b->out_state;
  return rc;
}
