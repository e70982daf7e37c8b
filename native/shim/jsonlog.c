/* Docker's json-file log driver, written by the shim itself so nothing is
 * lost while no daemon runs. One entry per line of output:
 *   {"log":"hello\n","stream":"stdout","time":"2024-01-01T00:00:00.123Z"}
 * A line longer than 16K is split as Docker splits it (the pieces carry no
 * trailing \n). Size cap and rotation as Docker's: log, log.1 ... log.N-1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

#define LINE_MAX_BYTES (16 * 1024)

static int log_fd = -1;
static const char *log_path;
static long long max_size, cur_size;
static int max_file = 1;
static struct buf partial[2];

int jsonlog_open(const char *path, long long cap, int files) {
  log_path = path;
  max_size = cap;
  max_file = files < 1 ? 1 : files;
  log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0) return -1;
  struct stat st;
  cur_size = fstat(log_fd, &st) == 0 ? st.st_size : 0;
  return 0;
}

static void rotate(void) {
  char from[4200], to[4200];
  if (max_file > 1) {
    snprintf(to, sizeof to, "%s.%d", log_path, max_file - 1);
    unlink(to);
    for (int i = max_file - 2; i >= 1; i--) {
      snprintf(from, sizeof from, "%s.%d", log_path, i);
      snprintf(to, sizeof to, "%s.%d", log_path, i + 1);
      rename(from, to); /* ENOENT for files not made yet is fine */
    }
    snprintf(to, sizeof to, "%s.1", log_path);
    if (rename(log_path, to) < 0) slog("log rotate: rename: %s", strerror(errno));
    close(log_fd);
    log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  } else if (ftruncate(log_fd, 0) < 0) {
    slog("log rotate: truncate: %s", strerror(errno));
  }
  cur_size = 0;
}

static void emit(int stream, const char *d, size_t n) {
  if (log_fd < 0) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char t[48];
  fmt_time(&ts, t);
  struct buf e = {0};
  int rc = buf_puts(&e, "{\"log\":");
  if (!rc) rc = buf_json_str(&e, d, n);
  if (!rc) rc = buf_puts(&e, stream ? ",\"stream\":\"stderr\",\"time\":\"" : ",\"stream\":\"stdout\",\"time\":\"");
  if (!rc) rc = buf_puts(&e, t);
  if (!rc) rc = buf_puts(&e, "\"}\n");
  if (rc) {
    slog("log: out of memory, entry dropped");
    buf_free(&e);
    return;
  }
  if (max_size > 0 && cur_size > 0 && cur_size + (long long)e.len > max_size) rotate();
  size_t off = 0;
  while (off < e.len && log_fd >= 0) {
    ssize_t w = write(log_fd, e.p + off, e.len - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      slog("log: write: %s", strerror(errno));
      break;
    }
    off += (size_t)w;
  }
  cur_size += (long long)off;
  buf_free(&e);
}

void jsonlog_write(int stream, const char *d, size_t n) {
  struct buf *pb = &partial[stream];
  while (n > 0) {
    const char *nl = memchr(d, '\n', n);
    size_t take = nl ? (size_t)(nl - d) + 1 : n;
    if (pb->len + take > LINE_MAX_BYTES) take = LINE_MAX_BYTES - pb->len;
    bool complete = (nl && take == (size_t)(nl - d) + 1) || pb->len + take == LINE_MAX_BYTES;
    if (complete && pb->len == 0) {
      emit(stream, d, take); /* the common case: a whole line, no copy */
    } else {
      if (buf_append(pb, d, take) < 0) {
        slog("log: out of memory");
        return;
      }
      if (complete) {
        emit(stream, pb->p, pb->len);
        buf_free(pb);
      }
    }
    d += take;
    n -= take;
  }
}

void jsonlog_flush(int stream) {
  struct buf *pb = &partial[stream];
  if (pb->len) emit(stream, pb->p, pb->len);
  buf_free(pb);
}

void jsonlog_close(void) {
  jsonlog_flush(0);
  jsonlog_flush(1);
  if (log_fd >= 0) close(log_fd);
  log_fd = -1;
}
