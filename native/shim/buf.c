/* Growable byte buffers, the JSON string encoder and the time format.
 * The shim never parses JSON; it only writes it, so the encoder is the one
 * piece that must be exact: it escapes what Docker's jsonlog escapes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

int slog_fd = -1;

int buf_append(struct buf *b, const void *d, size_t n) {
  if (n == 0) return 0;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, d, n);
  b->len += n;
  return 0;
}

int buf_putc(struct buf *b, char c) { return buf_append(b, &c, 1); }
int buf_puts(struct buf *b, const char *s) { return buf_append(b, s, strlen(s)); }

int buf_putnum(struct buf *b, long long v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%lld", v);
  return buf_append(b, tmp, (size_t)n);
}

/* Drops n bytes from the front; frees the storage once empty so an idle
 * shim holds no buffers (the 2 MB budget). */
void buf_consume(struct buf *b, size_t n) {
  if (n >= b->len) {
    buf_free(b);
    return;
  }
  memmove(b->p, b->p + n, b->len - n);
  b->len -= n;
}

void buf_free(struct buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len;
  unsigned min;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) { len = 2; min = 0x80; c &= 0x1f; }
  else if ((c & 0xf0) == 0xe0) { len = 3; min = 0x800; c &= 0x0f; }
  else if ((c & 0xf8) == 0xf0) { len = 4; min = 0x10000; c &= 0x07; }
  else return 0;
  if (len > n) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    c = (c << 6) | (s[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
  return len;
}

int buf_json_str(struct buf *b, const char *str, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)str;
  int rc = buf_putc(b, '"');
  size_t i = 0;
  while (i < n && rc == 0) {
    unsigned char c = s[i];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
      size_t j = i; /* copy a run of plain bytes at once */
      while (j < n && s[j] >= 0x20 && s[j] < 0x80 && s[j] != '"' && s[j] != '\\' && s[j] != '<' && s[j] != '>' && s[j] != '&') j++;
      rc = buf_append(b, s + i, j - i);
      i = j;
      continue;
    }
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      rc = buf_append(b, e, 2);
    } else if (c == '\n') rc = buf_append(b, "\\n", 2);
    else if (c == '\r') rc = buf_append(b, "\\r", 2);
    else if (c == '\t') rc = buf_append(b, "\\t", 2);
    else if (c < 0x80) { /* other control chars and <, >, & */
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      rc = buf_append(b, e, 6);
    } else {
      size_t l = utf8_len(s + i, n - i);
      if (l == 0) {
        rc = buf_append(b, "\\ufffd", 6);
        i++;
        continue;
      }
      if (l == 3 && s[i] == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
        rc = buf_append(b, s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
      else
        rc = buf_append(b, s + i, l);
      i += l;
      continue;
    }
    i++;
  }
  if (rc == 0) rc = buf_putc(b, '"');
  return rc;
}

void fmt_time(const struct timespec *ts, char out[48]) {
  struct tm tm;
  gmtime_r(&ts->tv_sec, &tm);
  size_t n = strftime(out, 48, "%Y-%m-%dT%H:%M:%S", &tm);
  long ns = ts->tv_nsec % 1000000000L;
  if (ns > 0) {
    char frac[24];
    snprintf(frac, sizeof frac, ".%09ld", ns);
    int end = 9;
    while (end > 1 && frac[end] == '0') end--;
    frac[end + 1] = 0;
    memcpy(out + n, frac, (size_t)end + 2);
    n += (size_t)end + 1;
  }
  out[n] = 'Z';
  out[n + 1] = 0;
}

/* The shim's own diagnostics: one line to <state>/shim.log (no stdio). */
void slog(const char *fmt, ...) {
  if (slog_fd < 0) return;
  char line[512];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  fmt_time(&ts, line);
  size_t n = strlen(line);
  line[n++] = ' ';
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
  va_end(ap);
  if (m < 0) return;
  n += (size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2;
  line[n++] = '\n';
  int saved = errno;
  if (write(slog_fd, line, n) < 0) { /* nowhere left to report it */ }
  errno = saved;
}
