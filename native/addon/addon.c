/* Module registration and the small shared helpers of the addon. */
#include "addon.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *errno_code(int err) {
  switch (err) {
  case EPERM: return "EPERM"; case ENOENT: return "ENOENT"; case EACCES: return "EACCES";
  case EEXIST: return "EEXIST"; case EINVAL: return "EINVAL"; case EBUSY: return "EBUSY";
  case ENOTDIR: return "ENOTDIR"; case EISDIR: return "EISDIR"; case ENOSPC: return "ENOSPC";
  case ENODATA: return "ENODATA"; case ENOTSUP: return "ENOTSUP"; case ERANGE: return "ERANGE";
  case EBADF: return "EBADF"; case EAGAIN: return "EAGAIN"; case ENOMEM: return "ENOMEM";
  case ELOOP: return "ELOOP"; case ENAMETOOLONG: return "ENAMETOOLONG"; case EROFS: return "EROFS";
  case ENODEV: return "ENODEV"; case EXDEV: return "EXDEV"; case ESRCH: return "ESRCH";
  case ETIMEDOUT: return "ETIMEDOUT"; case ENETUNREACH: return "ENETUNREACH"; case EADDRINUSE: return "EADDRINUSE";
  case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
  default: return "EUNKNOWN";
  }
}

napi_value dray_throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  char msg[512];
  if (path) snprintf(msg, sizeof msg, "%s: %s, %s '%s'", errno_code(err), strerror(err), syscall, path);
  else snprintf(msg, sizeof msg, "%s: %s, %s", errno_code(err), strerror(err), syscall);
  napi_value m, e, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  napi_create_string_utf8(env, errno_code(err), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "code", v);
  napi_create_int32(env, -err, &v);
  napi_set_named_property(env, e, "errno", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "syscall", v);
  if (path) {
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, e, "path", v);
  }
  napi_throw(env, e);
  return NULL;
}

char *dray_get_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a string");
    return NULL;
  }
  char *s = malloc(len + 1);
  if (!s) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) { /* an embedded NUL would silently truncate a path */
    free(s);
    napi_throw_type_error(env, NULL, "string contains a NUL byte");
    return NULL;
  }
  return s;
}

int dray_get_int64(napi_env env, napi_value v, long long *out) {
  int64_t x;
  if (napi_get_value_int64(env, v, &x) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a number");
    return -1;
  }
  *out = (long long)x;
  return 0;
}

int dray_get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want) {
    napi_throw_type_error(env, NULL, "too few arguments");
    return -1;
  }
  return 0;
}

napi_value dray_undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

void dray_export(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}

static napi_value init(napi_env env, napi_value exports) {
  dray_register_fs(env, exports);
  dray_register_mount(env, exports);
  dray_register_fdpass(env, exports);
  dray_register_bpf(env, exports);
  dray_register_netlink(env, exports);
  dray_register_openat2(env, exports);
  dray_register_memory(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
