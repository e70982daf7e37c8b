/* The plan wire format: a stream of records until EOF. A record is a
 * little-endian u32 field count, then per field a u32 length and the bytes.
 * Field 0 names the op. Lengths are bounded so a bad stream cannot exhaust memory. */
#include "executor.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct plan g_plan;

#define MAX_PLAN (64u << 20)
#define MAX_FIELDS 65536u

static int slurp(int fd, char **out, size_t *outlen) {
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  if (!buf) return -1;
  for (;;) {
    if (len == cap) {
      if (cap >= MAX_PLAN) { free(buf); errno = EFBIG; return -1; }
      cap *= 2;
      char *nb = realloc(buf, cap);
      if (!nb) { free(buf); return -1; }
      buf = nb;
    }
    ssize_t r = read(fd, buf + len, cap - len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { free(buf); return -1; }
    if (r == 0) break;
    len += (size_t)r;
  }
  *out = buf; *outlen = len;
  return 0;
}

static int get_u32(const char *buf, size_t len, size_t *off, uint32_t *v) {
  if (len - *off < 4) return -1;
  memcpy(v, buf + *off, 4);
  *off += 4;
  return 0;
}

int plan_read(int fd, struct plan *p) {
  char *buf; size_t len;
  if (slurp(fd, &buf, &len) < 0) return -1;
  size_t off = 0, cap = 64;
  p->r = calloc(cap, sizeof *p->r);
  p->n = 0;
  if (!p->r) return -1;
  while (off < len) {
    uint32_t nf;
    if (get_u32(buf, len, &off, &nf) < 0 || nf == 0 || nf > MAX_FIELDS) { errno = EINVAL; return -1; }
    if (p->n == cap) {
      cap *= 2;
      struct rec *nr = realloc(p->r, cap * sizeof *nr);
      if (!nr) return -1;
      p->r = nr;
    }
    struct rec *r = &p->r[p->n++];
    r->n = nf;
    r->f = calloc(nf + 1, sizeof(char *));
    r->len = calloc(nf, sizeof(uint32_t));
    if (!r->f || !r->len) return -1;
    for (uint32_t i = 0; i < nf; i++) {
      uint32_t fl;
      if (get_u32(buf, len, &off, &fl) < 0 || len - off < fl) { errno = EINVAL; return -1; }
      r->f[i] = malloc((size_t)fl + 1);
      if (!r->f[i]) return -1;
      memcpy(r->f[i], buf + off, fl);
      r->f[i][fl] = 0;
      r->len[i] = fl;
      off += fl;
    }
  }
  free(buf);
  return 0;
}

const struct rec *plan_get(const char *op) {
  for (size_t i = 0; i < g_plan.n; i++) if (strcmp(g_plan.r[i].f[0], op) == 0) return &g_plan.r[i];
  return NULL;
}

const char *plan_str(const char *op, const char *dflt) {
  const struct rec *r = plan_get(op);
  return r && r->n > 1 ? r->f[1] : dflt;
}

int plan_has(const char *op) { return plan_get(op) != NULL; }
