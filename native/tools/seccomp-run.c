/* dray-seccomp-run: a test tool (only for test/runtime/seccomp/). Loads a
 * compiled seccomp program from a file and execs a command under it:
 *   dray-seccomp-run [--flags N] [--close-listener] PROGRAM -- CMD [ARGS...]
 * Sets no_new_privs first. With --close-listener (for NOTIFY filters) it
 * checks that a listener fd came back, reports it on stderr and closes it:
 * with no listener left, notified syscalls then fail with ENOSYS. */
#include "../executor/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *what) {
  fprintf(stderr, "dray-seccomp-run: %s: %s\n", what, strerror(errno));
  return 125;
}

int main(int argc, char **argv) {
  unsigned int flags = 0;
  int close_listener = 0, i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2]; i++) {
    if (strcmp(argv[i], "--flags") == 0 && i + 1 < argc) flags = (unsigned int)strtoul(argv[++i], NULL, 0);
    else if (strcmp(argv[i], "--close-listener") == 0) close_listener = 1;
    else {
      fprintf(stderr, "dray-seccomp-run: unknown option %s\n", argv[i]);
      return 125;
    }
  }
  if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0) {
    fprintf(stderr, "usage: dray-seccomp-run [--flags N] [--close-listener] PROGRAM -- CMD [ARGS...]\n");
    return 125;
  }
  static unsigned char prog[4096 * 8 + 1];
  int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("open program");
  ssize_t n = read(fd, prog, sizeof prog);
  close(fd);
  if (n < 0) return fail("read program");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return fail("no_new_privs");
  int listener = -1;
  if (dray_seccomp_load(prog, (size_t)n, flags, &listener) < 0) return fail("load filter");
  if (close_listener) {
    if (listener < 0 || fcntl(listener, F_GETFD) < 0) {
      fprintf(stderr, "dray-seccomp-run: no listener fd\n");
      return 125;
    }
    fprintf(stderr, "dray-seccomp-run: listener fd %d\n", listener);
    close(listener);
  }
  execvp(argv[i + 2], argv + i + 2);
  return fail("exec");
}
