/* openat2(2): path resolution scoped by the kernel (RESOLVE_IN_ROOT,
 * RESOLVE_BENEATH, ...), so `docker cp` cannot be raced out of a rootfs by
 * a container swapping a path component for a symlink (CVE-2018-15664). */
#include "addon.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* openat2(dirfd, path, flags, mode, resolve) -> fd */
static napi_value js_openat2(napi_env env, napi_callback_info info) {
  napi_value a[5];
  long long dirfd, flags, mode, resolve;
  if (dray_get_args(env, info, 5, a)) return NULL;
  if (dray_get_int64(env, a[0], &dirfd) || dray_get_int64(env, a[2], &flags) ||
      dray_get_int64(env, a[3], &mode) || dray_get_int64(env, a[4], &resolve)) return NULL;
  char *path = dray_get_string(env, a[1]);
  if (!path) return NULL;
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (unsigned long long)flags | O_CLOEXEC;
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? (unsigned long long)mode : 0;
  how.resolve = (unsigned long long)resolve;
  long fd;
  /* EAGAIN: a concurrent rename made the scoped walk unsafe; retry, bounded so a busy container cannot spin us */
  int tries = 0;
  do fd = syscall(SYS_openat2, (int)dirfd, path, &how, sizeof how);
  while (fd < 0 && (errno == EINTR || errno == EAGAIN) && ++tries < 128);
  if (fd < 0) { int e = errno; napi_value r = dray_throw_errno(env, e, "openat2", path); free(path); return r; }
  free(path);
  napi_value r;
  napi_create_int32(env, (int)fd, &r);
  return r;
}

void dray_register_openat2(napi_env env, napi_value exports) {
  dray_export(env, exports, "openat2", js_openat2);
}
