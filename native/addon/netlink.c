/* Sockets for the network library: raw netlink send/recv, and sockets
 * created inside another network namespace. setns(CLONE_NEWNET) affects only
 * the calling thread, so a short-lived dedicated thread enters the namespace,
 * creates (and binds) the socket, and exits; the socket stays bound to that
 * namespace for its whole life, and no Node or libuv thread ever moves. */
#include "addon.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct ns_socket_req {
  int nsfd;           /* -1: the current namespace */
  int family, type, protocol;
  int bind_inet;      /* bind an AF_INET socket to addr:port */
  struct in_addr addr;
  int port;
  int fd;             /* result */
  int err;            /* errno of the failed step */
  const char *step;
};

static void make_socket(struct ns_socket_req *r) {
  r->fd = socket(r->family, r->type | SOCK_CLOEXEC, r->protocol);
  if (r->fd < 0) { r->err = errno; r->step = "socket"; return; }
  if (r->bind_inet) {
    int one = 1;
    setsockopt(r->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)r->port), .sin_addr = r->addr };
    if (bind(r->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
      r->err = errno; r->step = "bind";
      close(r->fd); r->fd = -1;
    }
  }
}

static void *ns_thread(void *arg) {
  struct ns_socket_req *r = arg;
  if (setns(r->nsfd, CLONE_NEWNET) < 0) { r->err = errno; r->step = "setns"; r->fd = -1; return NULL; }
  make_socket(r);
  return NULL;
}

/* netnsSocket(nsPath: string|null, family, type, protocol, bindAddr: string|null, port): fd */
static napi_value js_netns_socket(napi_env env, napi_callback_info info) {
  napi_value a[6];
  if (dray_get_args(env, info, 6, a)) return NULL;
  struct ns_socket_req r = { .nsfd = -1, .fd = -1 };
  long long family, type, protocol, port;
  if (dray_get_int64(env, a[1], &family) || dray_get_int64(env, a[2], &type) ||
      dray_get_int64(env, a[3], &protocol) || dray_get_int64(env, a[5], &port)) return NULL;
  r.family = (int)family; r.type = (int)type; r.protocol = (int)protocol; r.port = (int)port;
  napi_valuetype t;
  napi_typeof(env, a[4], &t);
  if (t == napi_string) {
    char *addr = dray_get_string(env, a[4]);
    if (!addr) return NULL;
    int ok = inet_pton(AF_INET, addr, &r.addr);
    free(addr);
    if (ok != 1 || r.family != AF_INET || port < 0 || port > 65535) { napi_throw_type_error(env, NULL, "bind needs AF_INET, an IPv4 address and a port"); return NULL; }
    r.bind_inet = 1;
  }
  napi_typeof(env, a[0], &t);
  if (t != napi_string) {
    make_socket(&r);
    if (r.fd < 0) return dray_throw_errno(env, r.err, r.step, NULL);
  } else {
    char *path = dray_get_string(env, a[0]);
    if (!path) return NULL;
    r.nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (r.nsfd < 0) { int e = errno; napi_value x = dray_throw_errno(env, e, "open", path); free(path); return x; }
    pthread_t th;
    int e = pthread_create(&th, NULL, ns_thread, &r);
    if (e == 0) pthread_join(th, NULL);
    close(r.nsfd);
    if (e != 0) { napi_value x = dray_throw_errno(env, e, "pthread_create", path); free(path); return x; }
    if (r.fd < 0) { napi_value x = dray_throw_errno(env, r.err, r.step, path); free(path); return x; }
    free(path);
  }
  napi_value out;
  napi_create_int32(env, r.fd, &out);
  return out;
}

/* netlinkSend(fd, message: Buffer): sends one datagram to the kernel. */
static napi_value js_netlink_send(napi_env env, napi_callback_info info) {
  napi_value a[2];
  long long fd;
  void *data; size_t len;
  if (dray_get_args(env, info, 2, a) || dray_get_int64(env, a[0], &fd)) return NULL;
  if (napi_get_buffer_info(env, a[1], &data, &len) != napi_ok || len == 0) { napi_throw_type_error(env, NULL, "message must be a non-empty Buffer"); return NULL; }
  ssize_t n;
  do n = send((int)fd, data, len, 0); while (n < 0 && errno == EINTR);
  if (n < 0) return dray_throw_errno(env, errno, "send", NULL);
  return dray_undefined(env);
}

/* netlinkRecv(fd, timeoutMs): the next datagram (the kernel answers
 * synchronously, so the wait is short; the timeout bounds a lost reply). */
static napi_value js_netlink_recv(napi_env env, napi_callback_info info) {
  napi_value a[2];
  long long fd, timeout;
  if (dray_get_args(env, info, 2, a) || dray_get_int64(env, a[0], &fd) || dray_get_int64(env, a[1], &timeout)) return NULL;
  struct pollfd p = { .fd = (int)fd, .events = POLLIN };
  int pr;
  do pr = poll(&p, 1, (int)timeout); while (pr < 0 && errno == EINTR);
  if (pr < 0) return dray_throw_errno(env, errno, "poll", NULL);
  if (pr == 0) return dray_throw_errno(env, ETIMEDOUT, "recv", NULL);
  /* Size the datagram first so a big dump message is never truncated. */
  ssize_t size;
  char probe;
  do size = recv((int)fd, &probe, 1, MSG_PEEK | MSG_TRUNC); while (size < 0 && errno == EINTR);
  if (size < 0) return dray_throw_errno(env, errno, "recv", NULL);
  void *buf;
  napi_value out;
  if (napi_create_buffer(env, (size_t)size, &buf, &out) != napi_ok) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  ssize_t n;
  do n = recv((int)fd, buf, (size_t)size, 0); while (n < 0 && errno == EINTR);
  if (n < 0) return dray_throw_errno(env, errno, "recv", NULL);
  return out;
}

void dray_register_netlink(napi_env env, napi_value exports) {
  dray_export(env, exports, "netnsSocket", js_netns_socket);
  dray_export(env, exports, "netlinkSend", js_netlink_send);
  dray_export(env, exports, "netlinkRecv", js_netlink_recv);
}
