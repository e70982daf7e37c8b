/* dray-executor entry: the parent half ("A") of the executor.
 *
 * usage: dray-executor PLAN_FD SYNC_FD
 *
 * A re-executes itself from a sealed memfd copy (so no container process can
 * ever reach the on-disk binary through /proc/<pid>/exe: the CVE-2019-5736
 * class), reads the plan, joins the namespaces given by path, creates the new
 * ones with one clone(), writes the child's uid/gid maps and oom_score_adj
 * from outside, reports the child's pid, then either exits (create, exec
 * --detach) or stays as a monitor that forwards signals and exits with the
 * child's status (foreground run/exec). The child ("B") is init_main(). */
#include "executor.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

extern char **environ;
int g_console = -1, g_fifo_dir = -1, g_listener = -1;

static void reexec_sealed(char **argv) {
  char link[256];
  ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
  if (n > 0) {
    link[n] = 0;
    if (strncmp(link, "/memfd:dray-executor", 20) == 0) return;
  }
  int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0) die_errno("open /proc/self/exe");
  struct stat st;
  if (fstat(src, &st) < 0) die_errno("fstat /proc/self/exe");
  int mfd = memfd_create("dray-executor", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) die_errno("memfd_create");
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t w = sendfile(mfd, src, NULL, (size_t)left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) die_errno("copy executor to memfd");
    left -= w;
  }
  close(src);
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) die_errno("seal memfd");
  fexecve(mfd, argv, environ);
  die_errno("fexecve sealed executor");
}

static int ns_flag(const char *type) {
  static const struct { const char *name; int flag; } t[] = {
    {"user", CLONE_NEWUSER}, {"mount", CLONE_NEWNS}, {"pid", CLONE_NEWPID}, {"network", CLONE_NEWNET},
    {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) if (strcmp(t[i].name, type) == 0) return t[i].flag;
  die("unknown namespace type %s", type);
}

/* Joins every namespace given by path: all are opened first (a later setns
 * into a mount namespace would change what the paths mean), the user
 * namespace is joined first so the others are joined with its privileges. */
static void join_namespaces(void) {
  int fds[16], flags[16], n = 0;
  const char *names[16];
  PLAN_FOR(r, "ns") {
    if (r->n < 3 || r->f[2][0] == 0) continue;
    if (n == 16) die("too many namespaces to join");
    fds[n] = open(r->f[2], O_RDONLY | O_CLOEXEC);
    if (fds[n] < 0) die_errno("open namespace %s", r->f[2]);
    flags[n] = ns_flag(r->f[1]);
    names[n] = r->f[2];
    n++;
  }
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < n; i++) {
      if ((pass == 0) != (flags[i] == CLONE_NEWUSER)) continue;
      if (setns(fds[i], flags[i]) < 0) die_errno("setns %s", names[i]);
      close(fds[i]);
    }
}

/* A unix socket named in the plan, connected while the host's paths are still ours. */
static int connect_plan_socket(const char *op, const char *what) {
  const char *path = plan_str(op, NULL);
  if (!path) return -1;
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof sa.sun_path) die("%s path too long: %s", what, path);
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die_errno("socket");
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die_errno("connect %s %s", what, path);
  return fd;
}

static void connect_console(void) {
  g_console = connect_plan_socket("console_socket", "console socket");
  g_listener = connect_plan_socket("seccomp_listener", "seccomp listener");
}

/* The host's /proc, opened before joining a mount namespace (exec) whose
 * /proc shows another pid namespace. */
int g_proc = -1;

static void write_child_file(pid_t pid, const char *name, const char *data) {
  char path[64];
  snprintf(path, sizeof path, "%d/%s", pid, name);
  int fd = openat(g_proc, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die_errno("open /proc/%s", path);
  ssize_t n = write(fd, data, strlen(data));
  int e = errno;
  close(fd);
  errno = e;
  if (n != (ssize_t)strlen(data)) die_errno("write /proc/%s", path);
}

static volatile pid_t g_child;
static void forward(int sig) { if (g_child > 0) kill(g_child, sig); }

__attribute__((noreturn)) static void monitor(pid_t child) {
  g_child = child;
  static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGPIPE, SIGALRM};
  struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART };
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  int st;
  for (;;) {
    pid_t r = waitpid(child, &st, 0);
    if (r == child) break;
    if (r < 0 && errno != EINTR) _exit(255);
  }
  if (WIFEXITED(st)) _exit(WEXITSTATUS(st));
  if (WIFSIGNALED(st)) _exit(128 + WTERMSIG(st));
  _exit(255);
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: dray-executor PLAN_FD SYNC_FD (started by dray-runc)\n"); return 2; }
  int planfd = atoi(argv[1]);
  g_sync = atoi(argv[2]);
  reexec_sealed(argv); /* before marking our fds close-on-exec: the sealed copy needs them */
  if (fcntl(g_sync, F_SETFD, FD_CLOEXEC) < 0 || fcntl(planfd, F_SETFD, FD_CLOEXEC) < 0) { g_sync = -1; die_errno("plan/sync fds"); }
  /* Not dumpable: the container cannot ptrace us or open our /proc files while we set it up. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (plan_read(planfd, &g_plan) < 0) die_errno("read plan");
  close(planfd);
  int exec_mode = strcmp(plan_str("mode", "create"), "exec") == 0;

  g_proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_proc < 0) die_errno("open /proc");
  connect_console();
  const char *fifo = plan_str("exec_fifo", NULL);
  if (fifo) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", fifo);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) die("exec fifo path %s is not absolute", fifo);
    *slash = 0;
    g_fifo_dir = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (g_fifo_dir < 0) die_errno("open exec fifo directory %s", dir);
  }
  join_namespaces();

  int flags = 0, newuser = 0;
  PLAN_FOR(r, "ns") {
    if (r->n >= 3 && r->f[2][0] != 0) continue;
    int f = ns_flag(r->f[1]);
    if (f == CLONE_NEWCGROUP) continue; /* unshared by the child once it is in its cgroup */
    if (f == CLONE_NEWTIME) {
      if (unshare(CLONE_NEWTIME) < 0) die_errno("unshare time namespace");
      PLAN_FOR(o, "timens_offset") {
        char line[128];
        snprintf(line, sizeof line, "%s %s %s", o->f[1], o->f[2], o->f[3]);
        if (write_file("/proc/self/timens_offsets", line, strlen(line)) < 0) die_errno("write timens_offsets");
      }
      continue;
    }
    if (f == CLONE_NEWUSER) newuser = 1;
    flags |= f;
  }

  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) die_errno("clone");
  if (pid == 0) {
    close(g_proc); /* the host's /proc: the container process never needs it */
    g_proc = -1;
    init_main(exec_mode);
  }

  if (newuser) {
    const char *sg = plan_str("setgroups", NULL);
    if (sg) write_child_file(pid, "setgroups", sg);
    const char *um = plan_str("uid_map", NULL), *gm = plan_str("gid_map", NULL);
    if (um) write_child_file(pid, "uid_map", um);
    if (gm) write_child_file(pid, "gid_map", gm);
  }
  const char *oom = plan_str("oom_score_adj", NULL);
  if (oom) write_child_file(pid, "oom_score_adj", oom);
  sync_send("pid %d", pid);
  if (plan_has("monitor")) {
    close(g_sync);
    g_sync = -1;
    if (g_console >= 0) close(g_console);
    monitor(pid);
  }
  return 0;
}
