/* The container's filesystem, inside its new mount namespace: the rootfs
 * bind, the ordered mount list, device nodes and links, pivot_root, then
 * sysctls, masked and read-only paths. Every destination is resolved with
 * openat2(RESOLVE_IN_ROOT) against the rootfs, so no symlink in the image
 * can point a mount outside it; mounts go onto /proc/self/fd/N of that fd. */
#include "executor.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int g_rootfd = -1;

static int openat2_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  while (*path == '/') path++;
  if (*path == 0) path = ".";
  int fd;
  do fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how); while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return fd;
}

static int mkdir_all_depth(int rootfd, const char *path, int depth);

/* A component that is a dangling symlink: make its target (inside the root). */
static int mkdir_link_target(int rootfd, int parentfd, const char *prefix, const char *name, int depth) {
  struct stat st;
  if (fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode)) return -1;
  char link[4096], target[8192];
  ssize_t n = readlinkat(parentfd, name, link, sizeof link - 1);
  if (n < 0) return -1;
  link[n] = 0;
  if (link[0] == '/') snprintf(target, sizeof target, "%s", link);
  else {
    int plen = (int)(strlen(prefix) - strlen(name));
    snprintf(target, sizeof target, "%.*s%s", plen, prefix, link);
  }
  int fd = mkdir_all_depth(rootfd, target, depth + 1);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

/* Makes every directory of `path` inside the root (mode 0755), resolving
 * each prefix in the root; returns an O_PATH fd of the last directory. */
static int mkdir_all_in_root(int rootfd, const char *path) { return mkdir_all_depth(rootfd, path, 0); }

static int mkdir_all_depth(int rootfd, const char *path, int depth) {
  if (depth > 40) { errno = ELOOP; return -1; }
  char buf[4096];
  if (strlen(path) >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
  strcpy(buf, path);
  int cur = openat2_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
  if (cur < 0) return -1;
  char *p = buf;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    char *end = strchr(p, '/');
    char save = 0;
    if (end) { save = *end; *end = 0; }
    int next = openat2_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
    if (next < 0 && errno == ENOENT) {
      const char *last = strrchr(buf, '/');
      last = last ? last + 1 : buf;
      if (mkdirat(cur, last, 0755) < 0) {
        if (errno != EEXIST || mkdir_link_target(rootfd, cur, buf, last, depth) < 0) { int e = errno; close(cur); errno = e; return -1; }
      }
      next = openat2_in_root(rootfd, buf, O_PATH | O_DIRECTORY);
    }
    if (next < 0) { int e = errno; close(cur); errno = e; return -1; }
    close(cur);
    cur = next;
    if (!end) break;
    *end = save;
    p = end + 1;
  }
  return cur;
}

int open_in_root(int rootfd, const char *path, int create_kind) {
  if (create_kind == 'd') return mkdir_all_in_root(rootfd, path);
  int fd = openat2_in_root(rootfd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT || create_kind != 'f') return fd;
  char parent[4096];
  if (strlen(path) >= sizeof parent) { errno = ENAMETOOLONG; return -1; }
  strcpy(parent, path);
  char *slash = strrchr(parent, '/');
  const char *name = path;
  if (slash) { *slash = 0; name = path + (slash - parent) + 1; } else parent[0] = 0;
  int dfd = mkdir_all_in_root(rootfd, parent);
  if (dfd < 0) return -1;
  int f = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (f < 0 && errno != EEXIST) { int e = errno; close(dfd); errno = e; return -1; }
  if (f >= 0) close(f);
  close(dfd);
  return openat2_in_root(rootfd, path, O_PATH);
}

static void fdpath(char *buf, size_t n, int fd) { snprintf(buf, n, "/proc/self/fd/%d", fd); }

/* Flags a bind remount must keep because the kernel locks them on mounts
 * inherited from a more privileged mount namespace. */
static unsigned long locked_flags(const char *path) {
  struct statvfs s;
  if (statvfs(path, &s) < 0) return 0;
  unsigned long f = 0;
  if (s.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (s.f_flag & ST_NODEV) f |= MS_NODEV;
  if (s.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (s.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (s.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (s.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static int bind_remount(const char *target, unsigned long flags) {
  if (mount(NULL, target, NULL, flags | MS_BIND | MS_REMOUNT, NULL) == 0) return 0;
  if (errno != EPERM) return -1;
  return mount(NULL, target, NULL, flags | MS_BIND | MS_REMOUNT | locked_flags(target), NULL);
}

/* mount SRC DST FSTYPE FLAGS PROPFLAGS DATA ATTR_SET ATTR_CLR RECURSIVE_ATTR */
static void do_mount(const struct rec *r) {
  if (r->n < 10) die("bad mount record");
  const char *src = r->f[1], *dst = r->f[2], *fstype = r->f[3], *data = r->f[6];
  unsigned long flags = parse_u64(r->f[4]), prop = parse_u64(r->f[5]);
  uint64_t attr_set = parse_u64(r->f[7]), attr_clr = parse_u64(r->f[8]);
  int attr_rec = r->f[9][0] == '1';
  int bind = (flags & MS_BIND) != 0;
  int kind = 'd';
  if ((flags & MS_REMOUNT) && !bind) {
    /* Remount of a mount made earlier in the list (the cgroup tmpfs, made read-only after its binds). */
    int rfd = open_in_root(g_rootfd, dst, 0);
    if (rfd < 0) die_errno("remount %s: resolve", dst);
    char t[64];
    fdpath(t, sizeof t, rfd);
    if (mount(NULL, t, NULL, flags, data[0] ? data : NULL) < 0) die_errno("remount %s", dst);
    close(rfd);
    return;
  }
  if (bind) {
    struct stat st;
    if (stat(src, &st) < 0) die_errno("mount %s: source %s", dst, src);
    if (!S_ISDIR(st.st_mode)) kind = 'f';
  }
  int fd = open_in_root(g_rootfd, dst, kind);
  if (fd < 0) die_errno("mount %s: resolve destination in rootfs", dst);
  char target[64];
  fdpath(target, sizeof target, fd);
  if (bind) {
    if (mount(src, target, NULL, flags & (MS_BIND | MS_REC), NULL) < 0) die_errno("bind mount %s on %s", src, dst);
  } else {
    if (mount(src, target, fstype, flags & ~(unsigned long)MS_REMOUNT, data[0] ? data : NULL) < 0) die_errno("mount %s (%s) on %s", src, fstype, dst);
  }
  close(fd);
  unsigned long extra = flags & ~(unsigned long)(MS_BIND | MS_REC | MS_REMOUNT);
  if ((bind && extra) || prop || attr_set || attr_clr) {
    /* Reopen: the new fd is on the mount we just made, not the one beneath it. */
    fd = open_in_root(g_rootfd, dst, 0);
    if (fd < 0) die_errno("mount %s: reopen", dst);
    fdpath(target, sizeof target, fd);
    if (bind && extra && bind_remount(target, extra) < 0) die_errno("remount %s with its options", dst);
    if (prop && mount(NULL, target, NULL, prop, NULL) < 0) die_errno("set propagation of %s", dst);
    if (attr_set || attr_clr) {
      struct mount_attr a = { .attr_set = attr_set, .attr_clr = attr_clr };
      if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (attr_rec ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
        die_errno("mount_setattr %s (recursive read-only needs Linux 5.12)", dst);
    }
    close(fd);
  }
}

/* dev PATH TYPE MAJOR MINOR MODE UID GID BIND */
static void do_device(const struct rec *r) {
  if (r->n < 9) die("bad dev record");
  const char *path = r->f[1];
  char type = r->f[2][0];
  unsigned maj = (unsigned)parse_u64(r->f[3]), min = (unsigned)parse_u64(r->f[4]);
  mode_t mode = (mode_t)parse_u64(r->f[5]);
  uid_t uid = (uid_t)parse_u64(r->f[6]);
  gid_t gid = (gid_t)parse_u64(r->f[7]);
  if (r->f[8][0] == '1') {
    /* In a user namespace mknod is refused: bind the host's node instead. */
    int fd = open_in_root(g_rootfd, path, 'f');
    if (fd < 0) die_errno("device %s: create mount point", path);
    char target[64];
    fdpath(target, sizeof target, fd);
    if (mount(path, target, NULL, MS_BIND, NULL) < 0) die_errno("bind device %s", path);
    close(fd);
    return;
  }
  char parent[4096];
  snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  if (!slash) die("device path %s is not absolute", path);
  *slash = 0;
  const char *name = slash + 1;
  int dfd = open_in_root(g_rootfd, parent, 'd');
  if (dfd < 0) die_errno("device %s: parent directory", path);
  /* mknodat needs a real directory fd, not O_PATH. */
  char dpath[64];
  fdpath(dpath, sizeof dpath, dfd);
  int realdir = open(dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (realdir < 0) die_errno("device %s: open parent", path);
  close(dfd);
  mode_t t = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
  unlinkat(realdir, name, 0);
  if (mknodat(realdir, name, t | (mode & 07777), makedev(maj, min)) < 0) die_errno("mknod %s", path);
  if (fchmodat(realdir, name, mode & 07777, 0) < 0) die_errno("chmod %s", path);
  if (fchownat(realdir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) die_errno("chown %s", path);
  close(realdir);
}

/* symlink TARGET LINKPATH */
static void do_symlink(const struct rec *r) {
  if (r->n < 3) die("bad symlink record");
  char parent[4096];
  snprintf(parent, sizeof parent, "%s", r->f[2]);
  char *slash = strrchr(parent, '/');
  if (!slash) die("link path %s is not absolute", r->f[2]);
  *slash = 0;
  int dfd = open_in_root(g_rootfd, parent, 'd');
  if (dfd < 0) die_errno("link %s: parent directory", r->f[2]);
  if (symlinkat(r->f[1], dfd, slash + 1) < 0 && errno != EEXIST) die_errno("symlink %s", r->f[2]);
  close(dfd);
}

void rootfs_prepare(void) {
  const char *rootfs = plan_str("rootfs", NULL);
  if (!rootfs) die("plan has no rootfs");
  unsigned long prop = parse_u64(plan_str("rootfs_propagation", "0"));
  if (!prop) prop = MS_SLAVE | MS_REC;
  if (mount(NULL, "/", NULL, prop, NULL) < 0) die_errno("set propagation of /");
  /* pivot_root refuses a shared parent: make the rootfs its own private-parented mount. */
  if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) die_errno("bind rootfs %s", rootfs);
  if (prop & MS_SHARED) {
    if (mount(NULL, rootfs, NULL, MS_PRIVATE, NULL) < 0) die_errno("make rootfs private");
    if (mount(NULL, rootfs, NULL, MS_SHARED, NULL) < 0) die_errno("make rootfs shared");
  }
  g_rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_rootfd < 0) die_errno("open rootfs %s", rootfs);
  for (size_t i = 0; i < g_plan.n; i++) {
    const struct rec *r = &g_plan.r[i];
    if (strcmp(r->f[0], "mount") == 0) do_mount(r);
    else if (strcmp(r->f[0], "dev") == 0) do_device(r);
    else if (strcmp(r->f[0], "symlink") == 0) do_symlink(r);
  }
}

void rootfs_pivot(void) {
  const char *rootfs = plan_str("rootfs", NULL);
  if (plan_has("no_pivot")) {
    if (chdir(rootfs) < 0) die_errno("chdir %s", rootfs);
    if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0) die_errno("move rootfs to /");
    if (chroot(".") < 0) die_errno("chroot");
  } else {
    int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0) die_errno("open /");
    if (chdir(rootfs) < 0) die_errno("chdir %s", rootfs);
    if (syscall(SYS_pivot_root, ".", ".") < 0) die_errno("pivot_root %s", rootfs);
    if (fchdir(oldroot) < 0) die_errno("fchdir old root");
    /* The old root is stacked under the new one: detach it without propagating the unmount to the host. */
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) die_errno("make old root slave");
    if (umount2(".", MNT_DETACH) < 0) die_errno("detach old root");
    close(oldroot);
  }
  if (chdir("/") < 0) die_errno("chdir /");
  close(g_rootfd);
  g_rootfd = -1;
}

void rootfs_finalize(void) {
  PLAN_FOR(r, "sysctl") {
    char path[4096];
    snprintf(path, sizeof path, "/proc/sys/%s", r->f[1]);
    if (write_file(path, r->f[2], r->len[2]) < 0) die_errno("sysctl %s", r->f[1]);
  }
  PLAN_FOR(r, "masked") {
    struct stat st;
    if (stat(r->f[1], &st) < 0) {
      if (errno == ENOENT) continue;
      die_errno("masked path %s", r->f[1]);
    }
    if (S_ISDIR(st.st_mode)) {
      if (mount("tmpfs", r->f[1], "tmpfs", MS_RDONLY, NULL) < 0) die_errno("mask %s", r->f[1]);
    } else if (mount("/dev/null", r->f[1], NULL, MS_BIND, NULL) < 0) die_errno("mask %s", r->f[1]);
  }
  PLAN_FOR(r, "readonly_path") {
    if (mount(r->f[1], r->f[1], NULL, MS_BIND | MS_REC, NULL) < 0) {
      if (errno == ENOENT) continue;
      die_errno("bind readonly path %s", r->f[1]);
    }
    if (bind_remount(r->f[1], MS_RDONLY | MS_REC) < 0) die_errno("make %s read-only", r->f[1]);
  }
  if (plan_has("rootfs_readonly") && bind_remount("/", MS_RDONLY) < 0) die_errno("make / read-only");
}
