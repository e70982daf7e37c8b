/* Just enough JSON for the launcher's fast paths: state.json is our own
 * format (written by JSON.stringify), so this reads only the fields a verb
 * needs, and any surprise (malformed input, an escape in a path, a
 * duplicate key) makes the caller fall back to the Node runtime. */
#ifndef DRAY_LAUNCHER_JSON_H
#define DRAY_LAUNCHER_JSON_H
#include <stddef.h>
#include <stdio.h>

typedef struct {
  const char *p; /* first byte of the value (or key, with its quotes) */
  size_t n;
} jspan;

/* Whether the whole buffer is one well-formed JSON value (depth <= 64). */
int json_valid(const char *p, size_t n);
/* Member `key` of object `obj`: 1 found, 0 absent, -1 not an object or key repeated. */
int json_get(jspan obj, const char *key, jspan *out);
/* Iterates an object's members: *pos starts at 0; returns 1 with key/value, 0 at the end, -1 not an object. */
int json_next(jspan obj, size_t *pos, jspan *key, jspan *val);
/* A string without escapes or NUL, copied into buf: 0, else -1. */
int json_str(jspan v, char *buf, size_t cap);
/* A non-negative integer below 2^31: 0, else -1. */
int json_int(jspan v, int *out);
/* An empty array, null, absent: 0; a non-empty array: 1; anything else -1. */
int json_nonempty_array(const jspan *v);
/* Writes v as JSON.stringify(JSON.parse(v), null, '  ') would at indent depth. */
void json_pretty(FILE *f, jspan v, int depth);
#endif
