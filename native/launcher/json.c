/* See json.h. Values are never decoded beyond what is asked: spans point
 * into the buffer, and json_pretty re-indents a span written by
 * JSON.stringify (whose escapes are already the ones it would print). */
#include "json.h"
#include <string.h>

static const char *ws(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

static const char *skip_string(const char *p, const char *e) {
  if (p >= e || *p != '"') return NULL;
  for (p++; p < e; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"') return p + 1;
    if (c < 0x20) return NULL;
    if (c == '\\') {
      if (++p >= e) return NULL;
      if (*p == 'u') {
        for (int i = 0; i < 4; i++) {
          if (++p >= e) return NULL;
          char h = *p;
          if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return NULL;
        }
      } else if (!strchr("\"\\/bfnrt", *p)) {
        return NULL;
      }
    }
  }
  return NULL;
}

static const char *skip_number(const char *p, const char *e) {
  const char *s = p;
  if (p < e && *p == '-') p++;
  if (p >= e || *p < '0' || *p > '9') return NULL;
  if (*p == '0') p++;
  else while (p < e && *p >= '0' && *p <= '9') p++;
  if (p < e && *p == '.') {
    p++;
    if (p >= e || *p < '0' || *p > '9') return NULL;
    while (p < e && *p >= '0' && *p <= '9') p++;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < e && (*p == '+' || *p == '-')) p++;
    if (p >= e || *p < '0' || *p > '9') return NULL;
    while (p < e && *p >= '0' && *p <= '9') p++;
  }
  return p > s ? p : NULL;
}

static const char *skip_value(const char *p, const char *e, int depth) {
  if (depth > 64) return NULL;
  p = ws(p, e);
  if (p >= e) return NULL;
  switch (*p) {
  case '"': return skip_string(p, e);
  case 't': return (size_t)(e - p) >= 4 && !memcmp(p, "true", 4) ? p + 4 : NULL;
  case 'f': return (size_t)(e - p) >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
  case 'n': return (size_t)(e - p) >= 4 && !memcmp(p, "null", 4) ? p + 4 : NULL;
  case '{':
  case '[': {
    char close = *p == '{' ? '}' : ']';
    int obj = *p == '{';
    p = ws(p + 1, e);
    if (p < e && *p == close) return p + 1;
    for (;;) {
      if (obj) {
        p = skip_string(ws(p, e), e);
        if (!p) return NULL;
        p = ws(p, e);
        if (p >= e || *p != ':') return NULL;
        p++;
      }
      p = skip_value(p, e, depth + 1);
      if (!p) return NULL;
      p = ws(p, e);
      if (p >= e) return NULL;
      if (*p == close) return p + 1;
      if (*p != ',') return NULL;
      p++;
    }
  }
  default: return skip_number(p, e);
  }
}

int json_valid(const char *p, size_t n) {
  const char *e = p + n;
  const char *end = skip_value(p, e, 0);
  return end && ws(end, e) == e;
}

int json_next(jspan obj, size_t *pos, jspan *key, jspan *val) {
  const char *b = obj.p, *e = obj.p + obj.n, *p;
  if (*pos == 0) {
    p = ws(b, e);
    if (p >= e || *p != '{') return -1;
    p = ws(p + 1, e);
    if (p < e && *p == '}') return 0;
  } else {
    p = ws(b + *pos, e);
    if (p >= e) return -1;
    if (*p == '}') return 0;
    if (*p != ',') return -1;
    p = ws(p + 1, e);
  }
  const char *k = p;
  p = skip_string(k, e);
  if (!p) return -1;
  key->p = k;
  key->n = (size_t)(p - k);
  p = ws(p, e);
  if (p >= e || *p != ':') return -1;
  const char *v = ws(p + 1, e);
  p = skip_value(v, e, 1);
  if (!p) return -1;
  val->p = v;
  val->n = (size_t)(p - v);
  *pos = (size_t)(p - b);
  return 1;
}

int json_get(jspan obj, const char *key, jspan *out) {
  size_t pos = 0, klen = strlen(key);
  jspan k, v;
  int found = 0, r;
  while ((r = json_next(obj, &pos, &k, &v)) == 1) {
    if (k.n == klen + 2 && !memcmp(k.p + 1, key, klen)) {
      if (found) return -1;
      found = 1;
      *out = v;
    }
  }
  return r < 0 ? -1 : found;
}

int json_str(jspan v, char *buf, size_t cap) {
  if (v.n < 2 || v.p[0] != '"' || v.n - 2 >= cap) return -1;
  for (size_t i = 1; i + 1 < v.n; i++) if (v.p[i] == '\\' || v.p[i] == '\0') return -1;
  memcpy(buf, v.p + 1, v.n - 2);
  buf[v.n - 2] = '\0';
  return 0;
}

int json_int(jspan v, int *out) {
  long n = 0;
  if (v.n == 0 || v.n > 10) return -1;
  for (size_t i = 0; i < v.n; i++) {
    if (v.p[i] < '0' || v.p[i] > '9') return -1;
    n = n * 10 + (v.p[i] - '0');
  }
  if (n > 0x7fffffff || (v.n > 1 && v.p[0] == '0')) return -1;
  *out = (int)n;
  return 0;
}

int json_nonempty_array(const jspan *v) {
  if (!v) return 0;
  if (v->n == 4 && !memcmp(v->p, "null", 4)) return 0;
  if (v->n < 2 || v->p[0] != '[') return -1;
  const char *e = v->p + v->n;
  return *ws(v->p + 1, e) == ']' ? 0 : 1;
}

static void indent(FILE *f, int depth) {
  for (int i = 0; i < depth; i++) fputs("  ", f);
}

void json_pretty(FILE *f, jspan v, int depth) {
  const char *e = v.p + v.n, *p = ws(v.p, e);
  if (p < e && (*p == '{' || *p == '[')) {
    int obj = *p == '{';
    char close = obj ? '}' : ']';
    p = ws(p + 1, e);
    if (p < e && *p == close) { fputc(obj ? '{' : '[', f); fputc(close, f); return; }
    fputs(obj ? "{\n" : "[\n", f);
    for (int first = 1;; first = 0) {
      p = ws(p, e);
      if (p >= e || *p == close) break;
      if (!first) { p = ws(p + 1, e); fputs(",\n", f); } /* the ',' */
      indent(f, depth + 1);
      if (obj) {
        const char *k = p;
        p = skip_string(k, e);
        if (!p) return;
        fwrite(k, 1, (size_t)(p - k), f);
        fputs(": ", f);
        p = ws(ws(p, e) + 1, e); /* the ':' */
      }
      const char *val = p;
      p = skip_value(val, e, 1);
      if (!p) return;
      json_pretty(f, (jspan){val, (size_t)(p - val)}, depth + 1);
    }
    fputc('\n', f);
    indent(f, depth);
    fputc(close, f);
    return;
  }
  const char *end = skip_value(p, e, 0);
  if (end) fwrite(p, 1, (size_t)(end - p), f);
}
