/* Installs a seccomp BPF filter compiled by src/runtime/seccomp/ (see seccomp.h). */
#include "seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

/* The kernel's BPF_MAXINSNS. Static storage: the caller's bytes may be
 * unaligned, and between clone and execve we avoid malloc. */
#define DRAY_BPF_MAXINSNS 4096
static struct sock_filter filter_copy[DRAY_BPF_MAXINSNS];

int dray_seccomp_load(const void *prog, size_t len, unsigned int flags, int *listener_fd) {
  if (listener_fd) *listener_fd = -1;
  if (!prog || len == 0 || len % sizeof(struct sock_filter) != 0 ||
      len / sizeof(struct sock_filter) > DRAY_BPF_MAXINSNS ||
      ((flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) && !listener_fd)) {
    errno = EINVAL;
    return -1;
  }
  memcpy(filter_copy, prog, len);
  struct sock_fprog fprog = {
      .len = (unsigned short)(len / sizeof(struct sock_filter)),
      .filter = filter_copy,
  };
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (rc < 0 && errno == ENOSYS && flags == 0) {
    /* Kernels before 3.17: the prctl interface, without flags. */
    rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
  }
  if (rc < 0) return -1;
  if ((flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) && listener_fd) *listener_fd = (int)rc;
  return 0;
}
