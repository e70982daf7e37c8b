/* Filesystem syscalls Node lacks: mknod and the l*xattr family (layer
 * extraction keeps device nodes and security.capability / user xattrs). */
#include "addon.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

/* mknod(path, mode, major, minor) */
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  napi_value a[4];
  long long mode, maj, min;
  if (dray_get_args(env, info, 4, a)) return NULL;
  char *path = dray_get_string(env, a[0]);
  if (!path) return NULL;
  if (dray_get_int64(env, a[1], &mode) || dray_get_int64(env, a[2], &maj) || dray_get_int64(env, a[3], &min)) { free(path); return NULL; }
  if (mknod(path, (mode_t)mode, makedev((unsigned)maj, (unsigned)min)) != 0) {
    int e = errno; napi_value r = dray_throw_errno(env, e, "mknod", path); free(path); return r;
  }
  free(path);
  return dray_undefined(env);
}

/* lsetxattr(path, name, value: Buffer, flags) */
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  napi_value a[4];
  long long flags;
  void *data; size_t len;
  if (dray_get_args(env, info, 4, a)) return NULL;
  if (napi_get_buffer_info(env, a[2], &data, &len) != napi_ok) { napi_throw_type_error(env, NULL, "value must be a Buffer"); return NULL; }
  if (dray_get_int64(env, a[3], &flags)) return NULL;
  char *path = dray_get_string(env, a[0]);
  if (!path) return NULL;
  char *name = dray_get_string(env, a[1]);
  if (!name) { free(path); return NULL; }
  napi_value r = NULL;
  if (lsetxattr(path, name, data, len, (int)flags) != 0) r = dray_throw_errno(env, errno, "lsetxattr", path);
  else r = dray_undefined(env);
  free(path); free(name);
  return r;
}

/* lgetxattr(path, name) -> Buffer | null (null when the attribute is absent) */
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  napi_value a[2], r = NULL;
  if (dray_get_args(env, info, 2, a)) return NULL;
  char *path = dray_get_string(env, a[0]);
  if (!path) return NULL;
  char *name = dray_get_string(env, a[1]);
  if (!name) { free(path); return NULL; }
  for (int tries = 0; tries < 4 && !r; tries++) {
    ssize_t n = lgetxattr(path, name, NULL, 0);
    if (n < 0) {
      if (errno == ENODATA) napi_get_null(env, &r);
      else r = dray_throw_errno(env, errno, "lgetxattr", path);
      break;
    }
    void *out;
    napi_value buf;
    if (napi_create_buffer(env, (size_t)n, &out, &buf) != napi_ok) break;
    ssize_t m = n ? lgetxattr(path, name, out, (size_t)n) : 0;
    if (m >= 0) {
      if (m != n) napi_create_buffer_copy(env, (size_t)m, out, NULL, &buf);
      r = buf;
    } else if (errno != ERANGE) { r = dray_throw_errno(env, errno, "lgetxattr", path); break; }
    /* ERANGE: the value grew between the two calls; try again. */
  }
  free(path); free(name);
  return r;
}

/* llistxattr(path) -> string[] */
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  napi_value a[1], arr;
  if (dray_get_args(env, info, 1, a)) return NULL;
  char *path = dray_get_string(env, a[0]);
  if (!path) return NULL;
  ssize_t n = llistxattr(path, NULL, 0);
  char *list = NULL;
  if (n > 0) {
    list = malloc((size_t)n);
    if (!list) { free(path); napi_throw_error(env, NULL, "out of memory"); return NULL; }
    n = llistxattr(path, list, (size_t)n);
  }
  if (n < 0) {
    napi_value r = (errno == ENOTSUP) ? NULL : dray_throw_errno(env, errno, "llistxattr", path);
    free(list); free(path);
    if (r == NULL) { napi_create_array(env, &arr); return arr; } /* no xattr support: an empty list */
    return r;
  }
  napi_create_array(env, &arr);
  uint32_t i = 0;
  for (ssize_t off = 0; off < n;) {
    size_t l = strnlen(list + off, (size_t)(n - off));
    napi_value s;
    napi_create_string_utf8(env, list + off, l, &s);
    napi_set_element(env, arr, i++, s);
    off += (ssize_t)l + 1;
  }
  free(list); free(path);
  return arr;
}

void dray_register_fs(napi_env env, napi_value exports) {
  dray_export(env, exports, "mknod", js_mknod);
  dray_export(env, exports, "lsetxattr", js_lsetxattr);
  dray_export(env, exports, "lgetxattr", js_lgetxattr);
  dray_export(env, exports, "llistxattr", js_llistxattr);
}
