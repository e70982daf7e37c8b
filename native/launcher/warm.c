/*
 * The launcher's side of the warm runtime server (protocol and trust in
 * src/runtime/warm/server.ts). The server does create's policy work; this
 * process forks the executor itself, so the container's init descends from
 * the caller as with runc (a shim's subreaper reaps it), and runs with the
 * caller's stdio, environment, cwd, credentials and cgroup.
 * Disabled by DRAY_RUNC_NO_WARM=1 (and by DRAY_FROM_SOURCE, DRAY_EXECUTOR).
 */
#include "warm.h"
#include "fast.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define REQ_MAX 65000

static volatile sig_atomic_t g_target;

static void forward(int sig) {
  if (g_target > 0) kill((pid_t)g_target, sig);
}

static const int FORWARDED[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

/* Starts the server for the next call: detached (double fork, own session), stdio on /dev/null. */
static void start_server(const char *node, const char *script, const char *sock) {
  char cache[PATH_MAX];
  snprintf(cache, sizeof cache, "NODE_COMPILE_CACHE=%s", getenv("NODE_COMPILE_CACHE") ? getenv("NODE_COMPILE_CACHE") : "");
  pid_t p = fork();
  if (p < 0) return;
  if (p == 0) {
    setsid();
    if (fork() != 0) _exit(0);
    int null = open("/dev/null", O_RDWR);
    if (null < 0 || chdir("/") < 0) _exit(1);
    dup2(null, 0), dup2(null, 1), dup2(null, 2);
    if (null > 2) close(null);
    for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++) signal(FORWARDED[i], SIG_DFL);
    char *argv[] = {(char *)node, (char *)script, "__warm-server", (char *)sock, NULL};
    char *envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", cache, NULL};
    execve(node, argv, envp);
    _exit(127);
  }
  while (waitpid(p, NULL, 0) < 0 && errno == EINTR) {}
}

static int put(char *buf, size_t *len, const char *s) {
  size_t n = strlen(s) + 1;
  if (*len + n > REQ_MAX) return -1;
  memcpy(buf + *len, s, n);
  *len += n;
  return 0;
}

/* One line to the server: "WORD VALUE\n" (the value a number, or text when given). */
static int send_line(int sock, const char *word, long v, const char *text) {
  char line[512];
  int n = text ? snprintf(line, sizeof line, "%s %s\n", word, text) : snprintf(line, sizeof line, "%s %ld\n", word, v);
  if (n <= 0 || (size_t)n >= sizeof line) return -1;
  return send(sock, line, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

/* The executor, forked here: fds 0-2 ours, 3 the plan, 4 the sync socket. */
static pid_t spawn_executor(const char *exe, int plan, int sync) {
  pid_t p = fork();
  if (p != 0) return p;
  int a = fcntl(plan, F_DUPFD_CLOEXEC, 10), b = fcntl(sync, F_DUPFD_CLOEXEC, 10);
  if (a < 0 || b < 0 || dup2(a, 3) < 0 || dup2(b, 4) < 0) _exit(127);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  char *argv[] = {(char *)exe, "3", "4", NULL};
  execv(exe, argv);
  _exit(127);
}

int warm_path(int argc, char **argv, const char *repo, const char *node, const char *script) {
  const char *off = getenv("DRAY_RUNC_NO_WARM");
  if ((off && *off && strcmp(off, "0")) || getenv("DRAY_EXECUTOR")) return -1;
  struct globals g;
  if (parse_globals(argc, argv, &g) < 0 || g.root[0] != '/') return -1;
  const char *verb = argv[g.verb];
  if (strcmp(verb, "create") && strcmp(verb, "run") && strcmp(verb, "exec")) return -1;
  for (int i = g.verb + 1; i < argc; i++) if (strstr(argv[i], "preserve-fds")) return -1;
  for (int fd = 0; fd < 3; fd++) if (fcntl(fd, F_GETFD) < 0) return -1;

  struct stat st;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  char exe[PATH_MAX];
  if (stat(script, &st) < 0 || snprintf(exe, sizeof exe, "%s/bin/dray-executor", repo) >= (int)sizeof exe) return -1;
  int n = snprintf(addr.sun_path, sizeof addr.sun_path, "%s/dray-runc@warm-%lld.%09ld.sock", g.root,
                   (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  if (n <= 0 || (size_t)n >= sizeof addr.sun_path) return -1;
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -1;
  if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int e = errno;
    close(sock);
    if (e == ENOENT || e == ECONNREFUSED) start_server(node, script, addr.sun_path);
    return -1;
  }

  /* The request. */
  static char req[REQ_MAX + 4];
  char cwd[PATH_MAX], mask[16];
  size_t len = 4;
  mode_t um = umask(0);
  umask(um);
  snprintf(mask, sizeof mask, "%o", (unsigned)um);
  int bad = !getcwd(cwd, sizeof cwd) || put(req, &len, "DRAYWARM2") || put(req, &len, mask) || put(req, &len, cwd) ||
            put(req, &len, g.root) || put(req, &len, g.log ? g.log : "") || put(req, &len, g.logfmt ? g.logfmt : "");
  for (int i = g.verb; !bad && i < argc; i++) bad = put(req, &len, argv[i]);
  int plan[2], sync[2];
  if (bad || pipe2(plan, O_CLOEXEC) < 0) { close(sock); return -1; }
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0) { close(sock), close(plan[0]), close(plan[1]); return -1; }
  uint32_t body = (uint32_t)(len - 4 - 1); /* without the last NUL: the server splits on NUL */
  memcpy(req, &body, 4);
  struct iovec iov = {req, len - 1};
  char cbuf[CMSG_SPACE(4 * sizeof(int))] = {0};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(4 * sizeof(int));
  int theirs[4] = {plan[1], sync[1], 1, 2}; /* stdout, stderr: for the hooks */
  memcpy(CMSG_DATA(c), theirs, sizeof theirs);
  ssize_t sent;
  do sent = sendmsg(sock, &msg, MSG_NOSIGNAL); while (sent < 0 && errno == EINTR);
  close(plan[1]);
  close(sync[1]);
  if (sent != (ssize_t)(len - 1)) { close(sock), close(plan[0]), close(sync[0]); return -1; }

  /* The conversation. */
  static char in[70000];
  size_t have = 0;
  pid_t child = 0;
  int pidfd = -1, code = -1, spawned = 0;
  for (;;) {
    if (code >= 0 && (!spawned || child == 0)) break;
    struct pollfd pf[2] = {{sock, POLLIN, 0}, {pidfd, POLLIN, 0}};
    int r = poll(pf, pidfd >= 0 ? 2 : 1, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pidfd >= 0 && (pf[1].revents & POLLIN)) {
      int status = 0;
      while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
      close(pidfd);
      pidfd = -1;
      child = 0;
      send_line(sock, "exited", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), NULL);
      continue;
    }
    if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    ssize_t got = read(sock, in + have, sizeof in - 1 - have);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    have += (size_t)got;
    for (;;) {
      char *nl = memchr(in, '\n', have);
      if (!nl) break;
      *nl = '\0';
      size_t used = (size_t)(nl - in) + 1;
      if (!strcmp(in, "fallback") && !spawned) {
        close(sock), close(plan[0]), close(sync[0]);
        return -1;
      } else if (!strcmp(in, "spawn") && !spawned) {
        spawned = 1;
        child = spawn_executor(exe, plan[0], sync[0]);
        close(plan[0]), close(sync[0]);
        if (child < 0) {
          child = 0;
          send_line(sock, "spawnerr", 0, strerror(errno));
        } else {
          send_line(sock, "spawned", (long)child, NULL);
          pidfd = (int)syscall(SYS_pidfd_open, child, 0);
          if (pidfd < 0) { /* no pidfd (Linux < 5.3): wait for the executor blocking, then report */
            int status = 0;
            while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
            child = 0;
            send_line(sock, "exited", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), NULL);
          }
        }
      } else if (!strncmp(in, "pid ", 4)) {
        g_target = atoi(in + 4);
        struct sigaction sa = {.sa_handler = forward, .sa_flags = SA_RESTART};
        for (size_t i = 0; i < sizeof FORWARDED / sizeof *FORWARDED; i++) sigaction(FORWARDED[i], &sa, NULL);
      } else if (!strcmp(in, "kill")) {
        if (child > 0) kill(child, SIGKILL);
      } else if (!strncmp(in, "stderr ", 7)) {
        size_t want = (size_t)strtoul(in + 7, NULL, 10);
        if (want > sizeof in - 600) { code = 1; break; }
        while (have - used < want) { /* the bytes that follow the line */
          ssize_t m = read(sock, in + have, sizeof in - 1 - have);
          if (m < 0 && errno == EINTR) continue;
          if (m <= 0) { want = have - used; break; }
          have += (size_t)m;
        }
        for (size_t done = 0; done < want;) {
          ssize_t w = write(2, in + used + done, want - done);
          if (w <= 0) break;
          done += (size_t)w;
        }
        used += want;
      } else if (!strncmp(in, "exit ", 5)) {
        code = atoi(in + 5) & 0xff;
      }
      memmove(in, in + used, have - used);
      have -= used;
    }
  }
  if (!spawned) {
    close(plan[0]), close(sync[0]);
    if (code < 0) { close(sock); return -1; } /* the server went away before doing anything */
  }
  if (code < 0) {
    if (child > 0) {
      kill(child, SIGKILL);
      while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    }
    fprintf(stderr, "dray-runc: lost the runtime server\n");
    code = 1;
  }
  close(sock);
  return code;
}
