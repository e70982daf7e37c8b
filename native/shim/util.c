/* Small fd and file helpers shared by the other files. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim.h"

ssize_t read_small_file(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n;
  do n = read(fd, buf, size - 1);
  while (n < 0 && errno == EINTR);
  close(fd);
  buf[n > 0 ? n : 0] = 0;
  return n;
}

int set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int unix_addr(const char *path, struct sockaddr_un *sa) {
  *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa->sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(sa->sun_path, path);
  return 0;
}

/* True when something accepts connections at path (a live server). */
bool unix_answers(const char *path) {
  struct sockaddr_un sa;
  if (unix_addr(path, &sa) < 0) return false;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool yes = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 || errno == EAGAIN;
  close(fd);
  return yes;
}

/* A listening stream socket at path (replacing a stale one), mode 0600. */
int unix_listen(const char *path, int sock_flags, int backlog) {
  struct sockaddr_un sa;
  if (unix_addr(path, &sa) < 0) return -1;
  unlink(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | sock_flags, 0);
  if (fd < 0) return -1;
  mode_t old = umask(0177); /* for the supervisor (and the runtime) alone */
  int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
  umask(old);
  if (rc < 0 || listen(fd, backlog) < 0) {
    int e = errno;
    close(fd);
    unlink(path);
    errno = e;
    return -1;
  }
  return fd;
}
