/* The seccomp loader of the executor: installs a classic BPF program that
 * src/runtime/seccomp/ compiled (struct sock_filter[], 8 bytes each, host
 * byte order) with seccomp(2). No libseccomp: all policy is in TypeScript.
 *
 * When to call it: as the LAST step before execve(2) in the container
 * process, after every other syscall the executor itself needs (mounts,
 * pivot_root, setuid/setgid, capabilities, rlimits, closing fds), because
 * the filter applies to the executor too from that point on. The kernel
 * accepts a filter only from a task that either has no_new_privs set
 * (prctl(PR_SET_NO_NEW_PRIVS, 1)) or holds CAP_SYS_ADMIN in its user
 * namespace. So: when process.noNewPrivileges is true, set no_new_privs
 * first and load the filter after dropping capabilities (as runc does);
 * otherwise load it while CAP_SYS_ADMIN is still held, i.e. before the
 * final capset, and keep execve allowed by the profile.
 *
 * With SCMP_ACT_NOTIFY rules the runtime passes SECCOMP_FILTER_FLAG_NEW_LISTENER
 * in flags; the listener fd comes back in *listener_fd and must be sent to
 * the runtime (which hands it to linux.seccomp.listenerPath) before execve,
 * and closed in the container process. Do not use write(2) after loading a
 * filter that notifies on it (the validator forbids NOTIFY on write).
 */
#ifndef DRAY_SECCOMP_H
#define DRAY_SECCOMP_H

#include <stddef.h>

/* Loads the filter: prog/len is the program (len a multiple of 8, at most
 * 4096 instructions), flags the SECCOMP_FILTER_FLAG_* bits the compiler
 * returned. listener_fd may be NULL unless flags has NEW_LISTENER; it is set
 * to the listener fd, or -1. Falls back to prctl(PR_SET_SECCOMP) when flags
 * is 0 and the kernel lacks seccomp(2). Returns 0, or -1 with errno set. */
int dray_seccomp_load(const void *prog, size_t len, unsigned int flags, int *listener_fd);

#endif
