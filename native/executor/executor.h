/* dray-executor: carries out a flat plan computed by the TypeScript runtime
 * (src/runtime/plan/) between clone() and execve(). No policy lives here:
 * every record was validated and resolved in TypeScript. See docs/runtime.md. */
#ifndef DRAY_EXECUTOR_H
#define DRAY_EXECUTOR_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One plan record: an op name (f[0]) and its fields, each NUL-terminated
 * (len[] keeps the byte length, for binary fields like the seccomp program). */
struct rec {
  uint32_t n;
  char **f;
  uint32_t *len;
};

struct plan {
  struct rec *r;
  size_t n;
};

extern int g_sync;          /* socket to the TypeScript side: "pid N", "hooks", "ready", "error MSG" lines */
extern struct plan g_plan;

/* util.c */
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void die_errno(const char *fmt, ...);
void sync_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);
int write_file(const char *path, const char *data, size_t len);
uint64_t parse_u64(const char *s);
long long parse_i64(const char *s);

/* plan.c */
int plan_read(int fd, struct plan *p);
const struct rec *plan_get(const char *op);            /* first record with that op, or NULL */
const char *plan_str(const char *op, const char *dflt); /* field 1 of the first record */
int plan_has(const char *op);
#define PLAN_FOR(it, op) for (const struct rec *it = g_plan.r; it < g_plan.r + g_plan.n; it++) if (strcmp(it->f[0], op) == 0)

/* rootfs.c: everything that happens in the new mount namespace */
void rootfs_prepare(void);      /* propagation, rootfs bind, mounts, devices, links */
void rootfs_pivot(void);        /* pivot_root or, with no_pivot, MS_MOVE + chroot */
void rootfs_finalize(void);     /* sysctls, masked + readonly paths, readonly root */
int open_in_root(int rootfd, const char *path, int create_kind); /* O_PATH fd inside root; create_kind: 0 none, 'd' dir, 'f' file */

/* init.c: the container's process */
__attribute__((noreturn)) void init_main(int mode_exec);
void run_hooks(const char *stage, const char *state_json);

#endif
