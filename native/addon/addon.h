/* Shared helpers for the N-API addon: argument fetching and errno errors.
 * The addon exists only for syscalls Node lacks; all policy stays in TS. */
#ifndef DRAY_ADDON_H
#define DRAY_ADDON_H
#include <node_api.h>
#include <stddef.h>

#define DRAY_MAX_ARGS 8

/* Throws an Error with .code (e.g. "ENOENT"), .errno and .syscall set, like node:fs does. */
napi_value dray_throw_errno(napi_env env, int err, const char *syscall, const char *path);
/* Copies a JS string argument into a malloc'd C string; NULL (and a pending exception) on failure. */
char *dray_get_string(napi_env env, napi_value v);
int dray_get_int64(napi_env env, napi_value v, long long *out);
int dray_get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
napi_value dray_undefined(napi_env env);

void dray_register_fs(napi_env env, napi_value exports);
void dray_register_mount(napi_env env, napi_value exports);
void dray_register_fdpass(napi_env env, napi_value exports);
void dray_register_bpf(napi_env env, napi_value exports);
void dray_register_netlink(napi_env env, napi_value exports);
void dray_register_openat2(napi_env env, napi_value exports);
void dray_register_memory(napi_env env, napi_value exports);

void dray_export(napi_env env, napi_value exports, const char *name, napi_callback fn);
#endif
