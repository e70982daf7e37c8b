/* mount(2) and umount2(2): overlay snapshots and volume mounts are done by
 * the supervisor itself, so it needs them without spawning mount(8). */
#include "addon.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/mount.h>

/* mount(source, target, fstype, flags, data); source/fstype/data may be null. */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  napi_value a[5];
  napi_valuetype t;
  char *s[5] = {0};
  long long flags;
  napi_value r = NULL;
  if (dray_get_args(env, info, 5, a)) return NULL;
  if (dray_get_int64(env, a[3], &flags)) return NULL;
  const int idx[4] = {0, 1, 2, 4};
  for (int k = 0; k < 4; k++) {
    int i = idx[k];
    napi_typeof(env, a[i], &t);
    if (t == napi_null || t == napi_undefined) continue;
    if (!(s[i] = dray_get_string(env, a[i]))) goto out;
  }
  if (!s[1]) { napi_throw_type_error(env, NULL, "target is required"); goto out; }
  if (mount(s[0], s[1], s[2], (unsigned long)flags, s[4]) != 0) r = dray_throw_errno(env, errno, "mount", s[1]);
  else r = dray_undefined(env);
out:
  for (int i = 0; i < 5; i++) free(s[i]);
  return r;
}

/* umount2(target, flags) */
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  napi_value a[2];
  long long flags;
  if (dray_get_args(env, info, 2, a)) return NULL;
  if (dray_get_int64(env, a[1], &flags)) return NULL;
  char *target = dray_get_string(env, a[0]);
  if (!target) return NULL;
  napi_value r = umount2(target, (int)flags) != 0 ? dray_throw_errno(env, errno, "umount2", target) : dray_undefined(env);
  free(target);
  return r;
}

void dray_register_mount(napi_env env, napi_value exports) {
  dray_export(env, exports, "mount", js_mount);
  dray_export(env, exports, "umount2", js_umount2);
}
