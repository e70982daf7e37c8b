/* TTY processes: the runtime creates the pty inside the container and sends
 * its master over the console socket (SCM_RIGHTS), as runc's
 * --console-socket defines. The shim keeps the master: it is both the
 * process's stdin and its (merged) output, and the handle for resizes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

int console_listen(const char *path) { return unix_listen(path, 0, 1); }

static int recv_fd(int conn) {
  char data[256];
  char ctl[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  ssize_t n;
  do n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
      int fd;
      memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return fd;
    }
  }
  errno = EBADMSG;
  return -1;
}

/* Waits for the runtime to connect and send the master, or to exit first
 * (then *reaped is set and *status holds its wait status). Bounded: a runtime silent for
 * --runtime-timeout is killed. */
int console_recv_master(int lfd, pid_t rt, int *status, bool *reaped) {
  *reaped = false;
  for (int tick = 0; tick < cfg.runtime_timeout_s * 10; tick++) {
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    int r = poll(&pfd, 1, 100);
    if (r > 0) {
      int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
      if (conn < 0) return -1;
      int fd = recv_fd(conn);
      close(conn);
      return fd;
    }
    pid_t w = waitpid(rt, status, WNOHANG);
    if (w == rt) {
      *reaped = true;
      /* it may have sent the fd just before exiting */
      pfd.revents = 0;
      if (poll(&pfd, 1, 0) > 0) {
        int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (conn >= 0) {
          int fd = recv_fd(conn);
          close(conn);
          if (fd >= 0) return fd;
        }
      }
      errno = EPIPE;
      return -1;
    }
  }
  kill(rt, SIGKILL);
  errno = ETIMEDOUT;
  return -1;
}

int pty_resize(int fd, unsigned rows, unsigned cols) {
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  return ioctl(fd, TIOCSWINSZ, &ws);
}
