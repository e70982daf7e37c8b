/* dray-shim: the per-container monitor (containerd-shim's role).
 *
 * Started by the supervisor once per container. The process the supervisor
 * started forks the monitor and exits as soon as the monitor reports (one
 * JSON line on stdout): so the supervisor never waits for it, and the
 * monitor (setsid, child subreaper) outlives the supervisor. The monitor
 * creates the container with the runtime, holds its stdio, writes its log,
 * records its exit durably and serves clients on <state>/shim.sock until it
 * is told to delete. Protocol and layout: docs/shim.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

struct config cfg = {.log_max_file = 1, .runtime_timeout_s = 120};
bool shim_exiting;

static const char usage[] =
    "Usage: dray-shim --id ID --bundle DIR --runtime PATH --runtime-root DIR --state-dir DIR\n"
    "                 [--log-path FILE [--log-max-size BYTES] [--log-max-file N]]\n"
    "                 [--terminal] [--stdin] [--start] [--runtime-arg OPT]... [--socket PATH]\n"
    "                 [--runtime-timeout SECONDS (120)] [--executor PATH --exec-fifo PATH]\n"
    "       dray-shim --version | --help\n\n"
    "Per-container monitor: creates the container with an OCI runtime (runc, crun,\n"
    "dray-runc), stays its parent (child subreaper), holds its stdio, writes its\n"
    "json-file log, records its exit in <state-dir>/exit.json and serves the\n"
    "supervisor on <state-dir>/shim.sock (or --socket). Prints one JSON line once the container\n"
    "is created: {\"ok\":true,\"pid\":N,\"shimPid\":N} or {\"ok\":false,\"error\":\"...\"}.\n";

static void put_str(int fd, const char *s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

static int report_fd = -1;

/* The launcher's answer: one JSON line through the pipe to the parent. */
static void report(bool ok, pid_t pid, const char *error) {
  if (report_fd < 0) return;
  struct buf b = {0};
  if (ok) {
    buf_puts(&b, "{\"ok\":true,\"pid\":");
    buf_putnum(&b, pid);
    buf_puts(&b, ",\"shimPid\":");
    buf_putnum(&b, getpid());
    buf_puts(&b, "}\n");
  } else {
    buf_puts(&b, "{\"ok\":false,\"error\":");
    buf_json_str(&b, error, strlen(error));
    buf_puts(&b, "}\n");
  }
  buf_putc(&b, 0);
  if (b.p) put_str(report_fd, b.p);
  buf_free(&b);
  close(report_fd);
  report_fd = -1;
}

static bool valid_id(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > ID_MAX) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

static const char *parse_args(int argc, char **argv) {
  static const struct option opts[] = {
      {"id", 1, 0, 'i'}, {"bundle", 1, 0, 'b'}, {"runtime", 1, 0, 'r'}, {"runtime-root", 1, 0, 'R'},
      {"state-dir", 1, 0, 's'}, {"log-path", 1, 0, 'l'}, {"log-max-size", 1, 0, 'm'}, {"log-max-file", 1, 0, 'f'},
      {"terminal", 0, 0, 't'}, {"stdin", 0, 0, 'I'}, {"start", 0, 0, 'S'}, {"runtime-arg", 1, 0, 'A'},
      {"socket", 1, 0, 'k'}, {"runtime-timeout", 1, 0, 'T'},
      {"executor", 1, 0, 'x'}, {"exec-fifo", 1, 0, 'F'}, {0, 0, 0, 0}};
  const char *socket_path = NULL;
  opterr = 0;
  int o;
  char *end;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'i': cfg.id = optarg; break;
    case 'b': cfg.bundle = optarg; break;
    case 'r': cfg.runtime = optarg; break;
    case 'R': cfg.runtime_root = optarg; break;
    case 's': cfg.state_dir = optarg; break;
    case 'l': cfg.log_path = optarg; break;
    case 'm':
      cfg.log_max_size = strtoll(optarg, &end, 10);
      if (*end || cfg.log_max_size < 0) return "--log-max-size: not a byte count";
      break;
    case 'f':
      cfg.log_max_file = (int)strtol(optarg, &end, 10);
      if (*end || cfg.log_max_file < 1 || cfg.log_max_file > 1000) return "--log-max-file: not a count from 1 to 1000";
      break;
    case 't': cfg.terminal = true; break;
    case 'I': cfg.stdin_open = true; break;
    case 'S': cfg.start = true; break;
    case 'k': socket_path = optarg; break;
    case 'x': cfg.executor = optarg; break;
    case 'F': cfg.exec_fifo = optarg; break;
    case 'T':
      cfg.runtime_timeout_s = (int)strtol(optarg, &end, 10);
      if (*end || cfg.runtime_timeout_s < 1 || cfg.runtime_timeout_s > 3600) return "--runtime-timeout: seconds from 1 to 3600";
      break;
    case 'A':
      if (cfg.n_runtime_args == 8 || optarg[0] != '-') return "--runtime-arg: at most 8, each an option (-...)";
      cfg.runtime_args[cfg.n_runtime_args++] = optarg;
      break;
    default: return "unknown option (see --help)";
    }
  }
  if (optind != argc) return "unexpected argument (see --help)";
  if (!cfg.id || !valid_id(cfg.id)) return "--id: 1-64 of [A-Za-z0-9_.-] required";
  if (!cfg.bundle || cfg.bundle[0] != '/') return "--bundle: an absolute path required";
  if (!cfg.runtime) return "--runtime required";
  if (!cfg.runtime_root || cfg.runtime_root[0] != '/') return "--runtime-root: an absolute path required";
  if (!cfg.state_dir || cfg.state_dir[0] != '/') return "--state-dir: an absolute path required";
  if (!cfg.executor != !cfg.exec_fifo || (cfg.executor && (cfg.executor[0] != '/' || cfg.exec_fifo[0] != '/')))
    return "--executor and --exec-fifo go together, both absolute paths";
  if (cfg.executor && (fcntl(3, F_GETFD) < 0 || fcntl(4, F_GETFD) < 0)) return "--executor: fds 3 (plan) and 4 (sync) must be open";
  if (cfg.log_path && cfg.log_path[0] != '/') return "--log-path: an absolute path required";
  if (socket_path && socket_path[0] != '/') return "--socket: an absolute path required";
  /* sockets live in the state dir unless --socket puts them on a shorter path */
  if ((size_t)snprintf(cfg.sock_path, sizeof cfg.sock_path, "%s%s", socket_path ? socket_path : cfg.state_dir, socket_path ? "" : "/shim.sock") >= sizeof cfg.sock_path ||
      (size_t)snprintf(cfg.console_path, sizeof cfg.console_path, "%s%s", socket_path ? socket_path : cfg.state_dir, socket_path ? ".console" : "/console.sock") >= sizeof cfg.console_path)
    return socket_path ? "--socket: too long for a unix socket path (108 bytes)" : "--state-dir: too long for a unix socket path (108 bytes): give a shorter --socket";
  snprintf(cfg.runtime_log, sizeof cfg.runtime_log, "%s/runtime.log", cfg.state_dir);
  snprintf(cfg.pid_file, sizeof cfg.pid_file, "%s/init.pid", cfg.state_dir);
  snprintf(cfg.exit_file, sizeof cfg.exit_file, "%s/exit.json", cfg.state_dir);
  return NULL;
}

static void free_all(void) {
  server_close();
  oom_unwatch();
  jsonlog_close();
  while (procs) proc_free(procs);
  if (slog_fd >= 0) close(slog_fd);
  slog_fd = -1;
}

/* Creates (and with --start starts) the container. On failure nothing is
 * left: the runtime is asked to delete whatever it made, and the caller
 * reports the runtime's message and exits. */
static const char *create_container(char **errmsg) {
  struct proc *init = proc_new("");
  if (!init) return "out of memory";
  init->terminal = cfg.terminal;
  const char *args_tty[] = {"create", "--bundle", cfg.bundle, "--pid-file", cfg.pid_file, "--console-socket", cfg.console_path, cfg.id, NULL};
  const char *args_pipe[] = {"create", "--bundle", cfg.bundle, "--pid-file", cfg.pid_file, cfg.id, NULL};
  pid_t pid = runtime_spawn(init, cfg.terminal ? args_tty : args_pipe, cfg.stdin_open, cfg.pid_file, errmsg);
  if (cfg.executor) { /* the executor has gone: its fds are the caller's alone now */
    close(5);
    close(6);
  }
  if (pid < 0) return "create failed";
  proc_set_pid(init, pid);
  proc_note_memcg(init);
  oom_watch(init->memcg);
  if (cfg.start) {
    const char *args[] = {"start", cfg.id, NULL};
    if (runtime_run(args, -1, -1, -1, errmsg, -1, NULL) != 0) return "start failed";
    init->state = P_RUNNING;
  }
  return NULL;
}

static void create_failed(const char *what, char *errmsg) {
  slog("%s: %s", what, errmsg ? errmsg : "");
  const char *args[] = {"delete", "--force", cfg.id, NULL};
  char *ignored = NULL;
  runtime_run(args, -1, -1, -1, &ignored, -1, NULL);
  free(ignored);
  /* reap what the runtime left re-parented to us before going */
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  free_all(); /* the socket is gone before the launcher hears of the failure */
  report(false, 0, errmsg && *errmsg ? errmsg : what);
  free(errmsg);
}

static void loop(int sigfd) {
  enum { K_SIG, K_LISTEN, K_OOM, K_OUT, K_ERR, K_IN, K_CLIENT };
  struct pollfd fds[3 + 3 * MAX_PROCS + MAX_CLIENTS];
  struct { int kind; void *obj; } what[3 + 3 * MAX_PROCS + MAX_CLIENTS];
  struct timespec deadline = {0};
  for (;;) {
    if (shim_exiting) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (!deadline.tv_sec) deadline.tv_sec = now.tv_sec + 2;
      if (clients_flushed() || now.tv_sec > deadline.tv_sec) return;
    }
    int n = 0;
#define ADD(fd_, ev_, kind_, obj_) \
  do { fds[n] = (struct pollfd){.fd = (fd_), .events = (ev_)}; what[n].kind = (kind_); what[n].obj = (obj_); n++; } while (0)
    ADD(sigfd, POLLIN, K_SIG, NULL);
    if (!shim_exiting) ADD(listen_fd, POLLIN, K_LISTEN, NULL);
    if (oom_fd >= 0) ADD(oom_fd, POLLIN, K_OOM, NULL);
    for (struct proc *p = procs; p; p = p->next) {
      if (p->out_fd >= 0) ADD(p->out_fd, POLLIN, K_OUT, p);
      if (p->err_fd >= 0) ADD(p->err_fd, POLLIN, K_ERR, p);
      if (p->in_fd >= 0 && p->stdin_q.len) ADD(p->in_fd, POLLOUT, K_IN, p);
    }
    for (struct client *c = clients; c && n < (int)(sizeof fds / sizeof fds[0]); c = client_next(c))
      ADD(client_fd(c), (short)(POLLIN | (client_wants_write(c) ? POLLOUT : 0)), K_CLIENT, c);
#undef ADD
    int r = poll(fds, (nfds_t)n, shim_exiting ? 100 : -1);
    if (r < 0 && errno != EINTR) {
      slog("poll: %s", strerror(errno));
      return;
    }
    for (int i = 0; i < n && r > 0; i++) {
      short ev = fds[i].revents;
      if (!ev) continue;
      switch (what[i].kind) {
      case K_SIG: {
        struct signalfd_siginfo si;
        while (read(sigfd, &si, sizeof si) == sizeof si) {
        }
        reap_children();
        break;
      }
      case K_LISTEN: server_accept(); break;
      case K_OOM:
        if (oom_check()) publish_oom();
        break;
      case K_OUT: proc_read(what[i].obj, 0); break;
      case K_ERR: proc_read(what[i].obj, 1); break;
      case K_IN: proc_flush_stdin(what[i].obj); break;
      case K_CLIENT:
        /* clients last: a request may free a process listed above */
        if (ev & POLLOUT) client_on_writable(what[i].obj);
        if (ev & (POLLIN | POLLHUP | POLLERR)) client_on_readable(what[i].obj);
        break;
      }
    }
    clients_reap_dead();
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))) {
    put_str(1, "dray-shim " DRAY_VERSION "\n");
    return 0;
  }
  if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    put_str(1, usage);
    return 0;
  }
  const char *bad = parse_args(argc, argv);
  if (bad) {
    put_str(2, "dray-shim: ");
    put_str(2, bad);
    put_str(2, "\n");
    return 2;
  }
  int exe_plan = -1, exe_sync = -1;
  if (cfg.executor) { /* out of the way of the fds below */
    exe_plan = fcntl(3, F_DUPFD_CLOEXEC, 64);
    exe_sync = fcntl(4, F_DUPFD_CLOEXEC, 64);
    if (exe_plan < 0 || exe_sync < 0) return 1;
    close(3);
    close(4);
  }
  int rp[2];
  if (pipe2(rp, O_CLOEXEC) < 0) return 1;
  pid_t child = fork();
  if (child < 0) return 1;
  if (child > 0) { /* the launcher's side: relay the report, then go */
    close(rp[1]);
    char line[8192];
    size_t len = 0;
    for (;;) {
      ssize_t n = read(rp[0], line + len, sizeof line - 1 - len);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      len += (size_t)n;
      if (len == sizeof line - 1) break;
    }
    line[len] = 0;
    if (len == 0) {
      put_str(1, "{\"ok\":false,\"error\":\"the shim died before reporting\"}\n");
      return 1;
    }
    put_str(1, line);
    return strncmp(line, "{\"ok\":true", 10) == 0 ? 0 : 1;
  }
  close(rp[0]);
  /* keep nothing the launcher's process happened to leak to us */
  report_fd = dup3(rp[1], 3, O_CLOEXEC) == 3 ? 3 : rp[1];
  if (report_fd == 3 && rp[1] != 3) close(rp[1]);
  if (cfg.executor) { /* the executor's plan and sync fds sit at 5 and 6 (back to 3 and 4 in its child) */
    if (dup3(exe_plan, 5, O_CLOEXEC) != 5 || dup3(exe_sync, 6, O_CLOEXEC) != 6) return 1;
  }
  if (report_fd == 3) close_range(cfg.executor ? 7 : 4, ~0U, 0);
  setsid();
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
  }
  if (chdir("/") < 0) { /* cwd is irrelevant; every path is absolute */ }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);

  char path[4200];
  mkdir(cfg.state_dir, 0700); /* the launcher usually made it already */
  snprintf(path, sizeof path, "%s/shim.log", cfg.state_dir);
  slog_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (sigfd < 0 || server_listen(cfg.sock_path) < 0) {
    report(false, 0, errno == EADDRINUSE ? "a shim is already serving this state dir" : "cannot listen on the shim socket");
    free_all();
    return 1;
  }
  if (cfg.log_path && jsonlog_open(cfg.log_path, cfg.log_max_size, cfg.log_max_file) < 0) {
    report(false, 0, "cannot open the log file");
    free_all();
    return 1;
  }
  char *errmsg = NULL;
  const char *what = create_container(&errmsg);
  if (what) {
    create_failed(what, errmsg);
    close(sigfd);
    return 1;
  }
  snprintf(path, sizeof path, "%s/shim.pid", cfg.state_dir);
  int pf = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (pf >= 0) {
    char num[16];
    snprintf(num, sizeof num, "%d", (int)getpid());
    put_str(pf, num);
    close(pf);
  }
  struct proc *init = proc_find("");
  slog("container %s created, pid %d", cfg.id, (int)init->pid);
  report(true, init->pid, NULL);
  reap_children(); /* a container that exited already */
  loop(sigfd);
  close(sigfd);
  free_all();
  return 0;
}
