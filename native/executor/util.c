/* Error reporting to the TypeScript side and small I/O helpers. */
#include "executor.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int g_sync = -1;

static void send_line(const char *prefix, const char *msg) {
  char buf[4096];
  int n = snprintf(buf, sizeof buf, "%s%s\n", prefix, msg);
  if (n < 0) return;
  if ((size_t)n >= sizeof buf) { n = sizeof buf - 1; buf[n - 1] = '\n'; }
  /* Newlines inside a message would split it: flatten them. */
  for (int i = 0; i < n - 1; i++) if (buf[i] == '\n') buf[i] = ' ';
  if (g_sync < 0 || write_full(g_sync, buf, (size_t)n) < 0) {
    /* No TypeScript side listening (after start): stderr is all we have. */
    dprintf(2, "dray-executor: %s\n", msg);
  }
}

/* The message, with strerror(err) appended when err is set, to the TS side; then exit. */
__attribute__((noreturn)) static void vdie(int err, const char *fmt, va_list ap) {
  char msg[2800], full[3000];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (err) snprintf(full, sizeof full, "%s: %s", msg, strerror(err));
  else snprintf(full, sizeof full, "%s", msg);
  send_line("error ", full);
  _exit(1);
}

void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdie(0, fmt, ap);
}

void die_errno(const char *fmt, ...) {
  int e = errno;
  va_list ap;
  va_start(ap, fmt);
  vdie(e, fmt, ap);
}

void sync_send(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  send_line("", msg);
}

int read_full(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len > 0) {
    ssize_t r = read(fd, p, len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r; len -= (size_t)r;
  }
  return 0;
}

int write_full(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t r = send(fd, p, len, MSG_NOSIGNAL);
    if (r < 0 && errno == ENOTSOCK) r = write(fd, p, len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r; len -= (size_t)r;
  }
  return 0;
}

int write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
  if (fd < 0) return -1;
  ssize_t r;
  do r = write(fd, data, len); while (r < 0 && errno == EINTR);
  int e = errno;
  close(fd);
  if (r < 0 || (size_t)r != len) { errno = r < 0 ? e : EIO; return -1; }
  return 0;
}

uint64_t parse_u64(const char *s) { return strtoull(s, NULL, 10); }
long long parse_i64(const char *s) { return strtoll(s, NULL, 10); }
