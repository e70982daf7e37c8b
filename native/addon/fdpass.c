/* File descriptor passing over unix sockets (SCM_RIGHTS): the console
 * socket protocol runc defined, where the runtime hands over a pty master. */
#include "addon.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 16

/* sendFds(socketFd, fds: number[], data: Buffer) */
static napi_value js_send_fds(napi_env env, napi_callback_info info) {
  napi_value a[3];
  long long sock;
  uint32_t n;
  void *data; size_t len;
  if (dray_get_args(env, info, 3, a)) return NULL;
  if (dray_get_int64(env, a[0], &sock)) return NULL;
  if (napi_get_array_length(env, a[1], &n) != napi_ok || n == 0 || n > MAX_FDS) { napi_throw_type_error(env, NULL, "fds must be an array of 1 to 16 numbers"); return NULL; }
  if (napi_get_buffer_info(env, a[2], &data, &len) != napi_ok || len == 0) { napi_throw_type_error(env, NULL, "data must be a non-empty Buffer"); return NULL; }
  int fds[MAX_FDS];
  for (uint32_t i = 0; i < n; i++) {
    napi_value v; long long fd;
    napi_get_element(env, a[1], i, &v);
    if (dray_get_int64(env, v, &fd)) return NULL;
    fds[i] = (int)fd;
  }
  char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = { .iov_base = data, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = CMSG_SPACE(sizeof(int) * n) };
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * n);
  memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
  ssize_t r;
  do r = sendmsg((int)sock, &msg, MSG_NOSIGNAL); while (r < 0 && errno == EINTR);
  if (r < 0) return dray_throw_errno(env, errno, "sendmsg", NULL);
  return dray_undefined(env);
}

/* recvFds(socketFd, maxData) -> { data: Buffer, fds: number[] }; received fds are close-on-exec. */
static napi_value js_recv_fds(napi_env env, napi_callback_info info) {
  napi_value a[2];
  long long sock, max;
  if (dray_get_args(env, info, 2, a)) return NULL;
  if (dray_get_int64(env, a[0], &sock) || dray_get_int64(env, a[1], &max)) return NULL;
  if (max <= 0 || max > 65536) { napi_throw_range_error(env, NULL, "maxData out of range"); return NULL; }
  char *buf = malloc((size_t)max);
  if (!buf) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
  struct iovec iov = { .iov_base = buf, .iov_len = (size_t)max };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  ssize_t r;
  do r = recvmsg((int)sock, &msg, MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
  if (r < 0) { int e = errno; free(buf); return dray_throw_errno(env, e, "recvmsg", NULL); }
  napi_value out, d, arr;
  napi_create_object(env, &out);
  napi_create_buffer_copy(env, (size_t)r, buf, NULL, &d);
  free(buf);
  napi_create_array(env, &arr);
  uint32_t k = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int fds[MAX_FDS];
    if (nfd > MAX_FDS) nfd = MAX_FDS;
    memcpy(fds, CMSG_DATA(c), nfd * sizeof(int));
    for (size_t i = 0; i < nfd; i++) {
      napi_value v;
      napi_create_int32(env, fds[i], &v);
      napi_set_element(env, arr, k++, v);
    }
  }
  napi_set_named_property(env, out, "data", d);
  napi_set_named_property(env, out, "fds", arr);
  return out;
}

/* peerCred(socketFd) -> { pid, uid, gid } of a connected unix socket's peer (SO_PEERCRED). */
static napi_value js_peer_cred(napi_env env, napi_callback_info info) {
  napi_value a[1];
  long long sock;
  if (dray_get_args(env, info, 1, a) || dray_get_int64(env, a[0], &sock)) return NULL;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt((int)sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return dray_throw_errno(env, errno, "getsockopt", NULL);
  napi_value out, v;
  napi_create_object(env, &out);
  napi_create_int64(env, cred.pid, &v);
  napi_set_named_property(env, out, "pid", v);
  napi_create_int64(env, cred.uid, &v);
  napi_set_named_property(env, out, "uid", v);
  napi_create_int64(env, cred.gid, &v);
  napi_set_named_property(env, out, "gid", v);
  return out;
}

void dray_register_fdpass(napi_env env, napi_value exports) {
  dray_export(env, exports, "peerCred", js_peer_cred);
  dray_export(env, exports, "sendFds", js_send_fds);
  dray_export(env, exports, "recvFds", js_recv_fds);
}
