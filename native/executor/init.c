/* The child half ("B"): becomes the container's process. It waits for the
 * TypeScript side's go (sent once its cgroup is set), builds the rootfs
 * (create) or is already inside the container's namespaces (exec), then
 * drops to the process's identity and capabilities, closes every fd it must
 * not leak, waits on the exec fifo (create) and execs. */
#include "executor.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#ifdef DRAY_SECCOMP_LOADER /* set by native/Makefile once executor/seccomp.c exists */
#include "seccomp.h"
#endif

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern int g_console, g_fifo_dir, g_listener;
static char *g_listener_payload;
static void send_listener(int fd);

/* One fd over a unix socket (SCM_RIGHTS) with a non-empty message. */
static int send_fd(int sock, int fd, const char *data, size_t len) {
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t r;
  do r = sendmsg(sock, &msg, MSG_NOSIGNAL); while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : 0;
}

static char **collect(const char *op) {
  size_t n = 0;
  PLAN_FOR(r, op) n++;
  char **v = calloc(n + 1, sizeof *v);
  if (!v) die("out of memory");
  n = 0;
  PLAN_FOR(r, op) v[n++] = r->f[1];
  return v;
}

/* hook STAGE PATH TIMEOUT_S ARGC ARGS... ENV... ; the state JSON goes on stdin. */
void run_hooks(const char *stage, const char *state_json) {
  int idx = 0;
  PLAN_FOR(r, "hook") {
    if (r->n < 5 || strcmp(r->f[1], stage) != 0) continue;
    idx++;
    const char *path = r->f[2];
    long timeout = (long)parse_i64(r->f[3]);
    uint32_t argc = (uint32_t)parse_u64(r->f[4]);
    if (5 + argc > r->n) die("bad hook record");
    char **args = calloc(argc + 1, sizeof *args), **env = calloc(r->n - 5 - argc + 1, sizeof *env);
    if (!args || !env) die("out of memory");
    for (uint32_t i = 0; i < argc; i++) args[i] = r->f[5 + i];
    for (uint32_t i = 5 + argc, j = 0; i < r->n; i++, j++) env[j] = r->f[i];
    if (argc == 0) { args[0] = (char *)path; }
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) die_errno("pipe");
    pid_t pid = fork();
    if (pid < 0) die_errno("fork hook");
    if (pid == 0) {
      dup2(p[0], 0);
      execve(path, args, env);
      dprintf(2, "dray-executor: exec %s hook %s: %s\n", stage, path, strerror(errno));
      _exit(127);
    }
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    write_full(p[1], state_json, strlen(state_json));
    close(p[1]);
    struct timespec start, now, nap = {0, 2000000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    int st;
    for (;;) {
      pid_t w = waitpid(pid, &st, timeout > 0 ? WNOHANG : 0);
      if (w == pid) break;
      if (w < 0 && errno != EINTR) die_errno("wait for %s hook", stage);
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (timeout > 0 && now.tv_sec - start.tv_sec >= timeout) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        die("%s hook #%d (%s) timed out after %lds", stage, idx, path, timeout);
      }
      nanosleep(&nap, NULL);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      die("%s hook #%d (%s) failed: %s %d", stage, idx, path, WIFEXITED(st) ? "exit status" : "signal",
          WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    free(args); free(env);
  }
}

/* /dev/console: the pty's slave bound over an empty file, as runc does (create only). */
static void bind_console(int master) {
  int n = 0;
  if (ioctl(master, TIOCGPTN, &n) < 0) die_errno("TIOCGPTN");
  char pts[64];
  snprintf(pts, sizeof pts, "/dev/pts/%d", n);
  int fd = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EROFS) return; /* a read-only /dev: no console node */
    die_errno("create /dev/console");
  }
  close(fd);
  if (mount(pts, "/dev/console", NULL, MS_BIND, NULL) < 0) die_errno("bind %s to /dev/console", pts);
}

static void setup_console(int exec_mode) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) die_errno("open /dev/ptmx");
  if (unlockpt(master) < 0) die_errno("unlockpt");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) die_errno("open pty peer");
  if (!exec_mode) bind_console(master);
  const struct rec *sz = plan_get("console_size");
  if (sz && sz->n >= 3) {
    struct winsize ws = { .ws_row = (unsigned short)parse_u64(sz->f[1]), .ws_col = (unsigned short)parse_u64(sz->f[2]) };
    if (ioctl(master, TIOCSWINSZ, &ws) < 0) die_errno("set console size");
  }
  if (g_console >= 0) {
    char name[64];
    int n = 0;
    if (ioctl(master, TIOCGPTN, &n) < 0) die_errno("TIOCGPTN");
    snprintf(name, sizeof name, "/dev/pts/%d", n);
    if (send_fd(g_console, master, name, strlen(name)) < 0) die_errno("send pty master over the console socket");
    close(g_console);
    g_console = -1;
  }
  close(master);
  if (ioctl(slave, TIOCSCTTY, 0) < 0) die_errno("set controlling terminal");
  for (int fd = 0; fd < 3; fd++) if (dup2(slave, fd) < 0) die_errno("dup2 pty");
  if (slave > 2) close(slave);
}

static void set_identity(void) {
  const struct rec *caps = plan_get("caps");
  uint64_t bounding = 0, eff = 0, perm = 0, inh = 0, amb = 0;
  if (caps) {
    if (caps->n < 6) die("bad caps record");
    bounding = parse_u64(caps->f[1]); eff = parse_u64(caps->f[2]); perm = parse_u64(caps->f[3]);
    inh = parse_u64(caps->f[4]); amb = parse_u64(caps->f[5]);
    for (int c = 0; c < 64; c++) {
      if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0) break;
      if (!(bounding >> c & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) die_errno("drop capability %d from the bounding set", c);
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) die_errno("keep capabilities");
  }
  const struct rec *u = plan_get("user");
  if (u) {
    if (u->n < 4) die("bad user record");
    uid_t uid = (uid_t)parse_u64(u->f[1]);
    gid_t gid = (gid_t)parse_u64(u->f[2]);
    size_t ng = u->n - 4;
    gid_t *gids = calloc(ng + 1, sizeof *gids);
    if (!gids) die("out of memory");
    for (size_t i = 0; i < ng; i++) gids[i] = (gid_t)parse_u64(u->f[4 + i]);
    /* A user namespace with setgroups denied refuses even an empty list. */
    if (setgroups(ng, gids) < 0 && !(errno == EPERM && ng == 0)) die_errno("setgroups");
    if (setresgid(gid, gid, gid) < 0) die_errno("setgid %u", gid);
    if (setresuid(uid, uid, uid) < 0) die_errno("setuid %u", uid);
    if (u->f[3][0]) umask((mode_t)parse_u64(u->f[3]));
    free(gids);
  }
  if (caps) {
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) die_errno("clear keep capabilities");
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct d[2] = {
      { .effective = (uint32_t)eff, .permitted = (uint32_t)perm, .inheritable = (uint32_t)inh },
      { .effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(perm >> 32), .inheritable = (uint32_t)(inh >> 32) },
    };
    if (syscall(SYS_capset, &hdr, d) < 0) die_errno("capset");
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    /* The kernel allows only ambient caps also permitted and inheritable; like runc, the rest are skipped. */
    amb &= perm & inh;
    for (int c = 0; c < 64; c++)
      if ((amb >> c & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) die_errno("raise ambient capability %d", c);
  }
}

/* PATH lookup with the container's own PATH, as execvpe would with envp. */
static char *find_executable(const char *file, char **env) {
  if (strchr(file, '/')) {
    if (access(file, X_OK) < 0) die_errno("exec %s", file);
    return strdup(file);
  }
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char **e = env; *e; e++) if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  char buf[4096];
  const char *p = path;
  while (1) {
    const char *end = strchr(p, ':');
    size_t dl = end ? (size_t)(end - p) : strlen(p);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)dl, p, dl ? "/" : "", file);
    struct stat st;
    if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) return strdup(buf);
    if (!end) break;
    p = end + 1;
  }
  die("exec: \"%s\": executable file not found in $PATH", file);
}

static void load_seccomp(void) {
  const struct rec *s = plan_get("seccomp");
  if (!s) return;
#ifdef DRAY_SECCOMP_LOADER
  unsigned flags = s->n > 2 ? (unsigned)parse_u64(s->f[2]) : 0;
  int listener = -1;
  if (dray_seccomp_load(s->f[1], s->len[1], flags, &listener) < 0) die_errno("load seccomp filter");
  if (listener >= 0) send_listener(listener);
#else
  die("seccomp is not supported by this executor build");
#endif
}

/* A u32 length and that many bytes from the TS side; EOF aborts quietly. */
static char *read_blob(void) {
  uint32_t len;
  if (read_full(g_sync, &len, 4) < 0 || len > (16u << 20)) _exit(1);
  char *b = malloc((size_t)len + 1);
  if (!b || (len && read_full(g_sync, b, len) < 0)) _exit(1);
  b[len] = 0;
  return b;
}

/* SCMP_ACT_NOTIFY: the listener fd and the container process state go to linux.seccomp.listenerPath. */
static void send_listener(int fd) {
  if (g_listener < 0) { close(fd); return; }
  if (send_fd(g_listener, fd, g_listener_payload, strlen(g_listener_payload)) < 0) die_errno("send the seccomp listener fd");
  close(fd);
  close(g_listener);
  g_listener = -1;
}

void init_main(int exec_mode) {
  /* Go: the state JSON for the in-container hooks, then the seccomp listener's payload. EOF = abort. */
  char *state = read_blob();
  g_listener_payload = read_blob();

  int newuser = 0, newcgroup = 0;
  PLAN_FOR(r, "ns") {
    if (r->n >= 3 && r->f[2][0]) continue;
    if (strcmp(r->f[1], "user") == 0) newuser = 1;
    if (strcmp(r->f[1], "cgroup") == 0) newcgroup = 1;
  }
  if (newuser) {
    /* Become the namespace's root (the maps are written by now). */
    if (setresgid(0, 0, 0) < 0) die_errno("setgid 0 in the user namespace");
    if (setresuid(0, 0, 0) < 0) die_errno("setuid 0 in the user namespace");
  }
  if (newcgroup && unshare(CLONE_NEWCGROUP) < 0) die_errno("unshare cgroup namespace");
  /* A session keyring of its own, unless --no-new-keyring (as runc): keys are not namespaced. */
  const char *ring = plan_str("session_keyring", NULL);
  if (ring && syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, ring) < 0 && errno != ENOSYS && errno != EPERM && errno != EACCES)
    die_errno("join a new session keyring");

  /* The fifo is reopened by name relative to its directory, an O_PATH fd the
   * parent opened as host root (see main.c): /proc/self/fd would be closed to
   * us once non-dumpable and not root, and the path may be out of a user
   * namespace's reach. */
  const char *fifo_path = plan_str("exec_fifo", NULL);
  const char *fifo_name = fifo_path ? strrchr(fifo_path, '/') + 1 : NULL;
  if (!exec_mode) {
    const char *h = plan_str("hostname", NULL), *d = plan_str("domainname", NULL);
    if (h && sethostname(h, strlen(h)) < 0) die_errno("sethostname");
    if (d && setdomainname(d, strlen(d)) < 0) die_errno("setdomainname");
    rootfs_prepare();
    if (plan_has("hooks_sync")) {
      char ok;
      sync_send("hooks");
      if (read_full(g_sync, &ok, 1) < 0) _exit(1);
    }
    run_hooks("createContainer", state);
    rootfs_pivot();
    rootfs_finalize();
  }
  if ((!exec_mode || plan_has("terminal")) && setsid() < 0) die_errno("setsid");
  if (plan_has("terminal")) setup_console(exec_mode);
  const char *pers = plan_str("personality", NULL);
  if (pers && personality((unsigned long)parse_u64(pers)) < 0) die_errno("personality");
  const char *ioprio = plan_str("ioprio", NULL);
  if (ioprio && syscall(SYS_ioprio_set, 1, 0, (int)parse_i64(ioprio)) < 0) die_errno("ioprio_set");
  PLAN_FOR(r, "rlimit") {
    struct rlimit rl = { .rlim_cur = parse_u64(r->f[2]), .rlim_max = parse_u64(r->f[3]) };
    if (setrlimit((int)parse_i64(r->f[1]), &rl) < 0) die_errno("setrlimit %s", r->f[1]);
  }
  int nnp = plan_has("no_new_privs");
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die_errno("set no_new_privs");
  /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load before dropping it. */
  if (!nnp) load_seccomp();
  set_identity();
  const char *cwd = plan_str("cwd", "/");
  /* Resolved only now, after pivot_root and with every inherited fd about to be closed. */
  if (chdir(cwd) < 0) die_errno("chdir to cwd (\"%s\") set in config.json", cwd);
  char real[4096];
  if (!getcwd(real, sizeof real) || real[0] != '/') die("cwd %s is outside the container's root", cwd);

  char **args = collect("arg"), **env = collect("env");
  if (!args[0]) die("no process args");
  char *exe = find_executable(args[0], env);
  unsigned preserve = (unsigned)parse_u64(plan_str("preserve_fds", "0"));
  if (syscall(SYS_close_range, 3 + preserve, ~0U, CLOSE_RANGE_CLOEXEC) < 0) die_errno("close_range");
  if (!exec_mode) {
    sync_send("ready");
    close(g_sync);
    g_sync = -1;
    int w;
    do w = openat(g_fifo_dir, fifo_name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW); while (w < 0 && errno == EINTR);
    if (w < 0) die_errno("open exec fifo");
    if (write(w, "0", 1) != 1) die_errno("write exec fifo");
    close(w);
    close(g_fifo_dir);
  }
  run_hooks("startContainer", state);
  if (nnp) load_seccomp();
  execve(exe, args, env);
  die_errno("exec %s", exe);
}
