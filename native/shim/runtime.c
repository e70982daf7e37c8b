/* Invoking the OCI runtime (runc, crun, dray-runc) the way
 * containerd-shim-runc-v2 does: `<runtime> --root R --log L --log-format json
 * <verb> ...`, one synchronous call per verb. On failure the error message is
 * the runtime's own, taken from the json log lines it appended. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

#define LOG_TAIL (64 * 1024)

/* Finds "key": "<string>" in one json log line and decodes the string
 * (enough of JSON for runc's and crun's log lines; never trusted further). */
static bool json_field(const char *line, const char *end, const char *key, struct buf *out) {
  size_t kl = strlen(key);
  for (const char *p = line; p + kl + 2 < end; p++) {
    if (*p != '"' || memcmp(p + 1, key, kl) != 0 || p[kl + 1] != '"') continue;
    const char *q = p + kl + 2;
    while (q < end && (*q == ' ' || *q == '\t')) q++;
    if (q >= end || *q != ':') continue;
    q++;
    while (q < end && (*q == ' ' || *q == '\t')) q++;
    if (q >= end || *q != '"') continue;
    for (q++; q < end && *q != '"'; q++) {
      char c = *q;
      if (c == '\\' && q + 1 < end) {
        c = *++q;
        if (c == 'n') c = '\n';
        else if (c == 't') c = '\t';
        else if (c == 'r') c = '\r';
        else if (c == 'u') { /* keep ASCII, replace the rest */
          unsigned v = 0;
          int i;
          for (i = 0; i < 4 && q + 1 < end; i++) {
            char h = *++q;
            v = v * 16 + (unsigned)(h >= 'a' ? h - 'a' + 10 : h >= 'A' ? h - 'A' + 10 : h - '0');
          }
          c = v >= 0x20 && v < 0x7f ? (char)v : '?';
        }
      }
      if (buf_putc(out, c) < 0) return false;
    }
    return true;
  }
  return false;
}

/* The last error-level message the runtime logged after offset `from`. */
static char *runtime_error(off_t from) {
  int fd = open(cfg.runtime_log, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size <= from) {
    close(fd);
    return NULL;
  }
  if (st.st_size - from > LOG_TAIL) from = st.st_size - LOG_TAIL;
  size_t len = (size_t)(st.st_size - from);
  char *text = malloc(len + 1);
  ssize_t n = text ? pread(fd, text, len, from) : -1;
  close(fd);
  if (n <= 0) {
    free(text);
    return NULL;
  }
  text[n] = 0;
  struct buf best = {0}, any = {0};
  for (char *line = text; line < text + n;) {
    char *end = memchr(line, '\n', (size_t)(text + n - line));
    if (!end) end = text + n;
    struct buf lvl = {0}, msg = {0};
    if (json_field(line, end, "msg", &msg) && msg.len) {
      json_field(line, end, "level", &lvl);
      bool err = lvl.len >= 5 && (!memcmp(lvl.p, "error", 5) || !memcmp(lvl.p, "fatal", 5));
      struct buf *dst = err ? &best : &any;
      buf_free(dst);
      *dst = msg;
      msg = (struct buf){0};
    }
    buf_free(&lvl);
    buf_free(&msg);
    line = end + 1;
  }
  free(text);
  struct buf *r = best.len ? &best : &any;
  buf_putc(r, 0);
  char *s = r->p;
  if (r == &best) buf_free(&any);
  else buf_free(&best);
  return s;
}

/* Built-in runtime: start is the exec fifo handshake (the waiting init
 * goes on once it has written its byte and we have read it). */
static int builtin_start(char **errmsg) {
  struct proc *init = proc_find("");
  const char *why = NULL;
  int fd = open(cfg.exec_fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) why = "the exec fifo is gone: the container was started already";
  for (int tick = 0; !why; tick++) {
    char b;
    ssize_t n = read(fd, &b, 1);
    if (n == 1) break;
    if (n < 0 && errno != EAGAIN && errno != EINTR) why = "cannot read the exec fifo";
    siginfo_t si = {0};
    if (!why && init && waitid(P_PID, (id_t)init->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == init->pid) why = "container init exited before start";
    if (!why && tick > cfg.runtime_timeout_s * 1000) why = "timed out waiting for the container init to start";
    if (!why) usleep(1000); /* 0: init not at its open yet; EAGAIN: opened, not yet written */
  }
  if (fd >= 0) close(fd);
  if (why) {
    if (errmsg) {
      struct buf b = {0};
      buf_puts(&b, why);
      buf_putc(&b, 0);
      *errmsg = b.p;
    }
    return 1;
  }
  unlink(cfg.exec_fifo);
  return 0;
}

int runtime_run(const char *const *args, int in, int out, int err, char **errmsg, int console_fd, int *master) {
  const char *argv[40];
  int n = 0;
  if (errmsg) *errmsg = NULL;
  bool exe = cfg.executor && !strcmp(args[0], "create");
  if (cfg.executor && !strcmp(args[0], "start")) return builtin_start(errmsg);
  /* the supervisor deletes a built-in container's state in-process */
  if (cfg.executor && !strcmp(args[0], "delete")) return 0;
  if (cfg.executor && !strcmp(args[0], "kill") && strcmp(args[1], "--all") != 0) {
    struct proc *init = proc_find("");
    int sig = atoi(args[2]);
    if (init && init->pid > 0 && kill(init->pid, sig) == 0) return 0;
    if (errmsg) {
      struct buf b = {0};
      buf_puts(&b, strerror(errno));
      buf_putc(&b, 0);
      *errmsg = b.p;
    }
    return 1;
  }
  argv[n++] = cfg.runtime;
  argv[n++] = "--root";
  argv[n++] = cfg.runtime_root;
  argv[n++] = "--log";
  argv[n++] = cfg.runtime_log;
  argv[n++] = "--log-format";
  argv[n++] = "json";
  for (int i = 0; i < cfg.n_runtime_args; i++) argv[n++] = cfg.runtime_args[i];
  for (int i = 0; args[i] && n < 39; i++) argv[n++] = args[i];
  argv[n] = NULL;
  if (exe) {
    n = 0;
    argv[n++] = cfg.executor;
    argv[n++] = "3";
    argv[n++] = "4";
    argv[n] = NULL;
  }

  struct stat st;
  off_t log_from = stat(cfg.runtime_log, &st) == 0 ? st.st_size : 0;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    int null = open("/dev/null", O_RDWR);
    dup2(in >= 0 ? in : null, 0);
    dup2(out >= 0 ? out : null, 1);
    dup2(err >= 0 ? err : null, 2);
    if (null > 2) close(null);
    if (exe && (dup2(5, 3) != 3 || dup2(6, 4) != 4)) _exit(126);
    if (chdir(cfg.bundle) < 0) _exit(126);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
  }
  int status = 0;
  bool reaped = false;
  if (console_fd >= 0 && master) *master = console_recv_master(console_fd, pid, &status, &reaped);
  bool timed_out = false;
  if (!reaped) {
    /* bounded: a runtime that hangs must not freeze the shim for good */
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd >= 0) {
      struct pollfd w = {.fd = pfd, .events = POLLIN};
      int r;
      do r = poll(&w, 1, cfg.runtime_timeout_s * 1000);
      while (r < 0 && errno == EINTR);
      close(pfd);
      if (r == 0) {
        kill(pid, SIGKILL);
        timed_out = true;
      }
    }
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) return -1;
    }
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (exe && code == 0) {
    /* the executor leaves once the init is cloned; the caller writes the pid
     * file and, when the init is ready (or has failed), closes its sync end */
    struct pollfd h = {.fd = 6, .events = 0};
    int r;
    do r = poll(&h, 1, cfg.runtime_timeout_s * 1000);
    while (r < 0 && errno == EINTR);
    if (r <= 0) timed_out = true;
  }
  if (timed_out) {
    slog("the runtime's %s ran past %d s: killed", args[0], cfg.runtime_timeout_s);
    if (errmsg) {
      struct buf b = {0};
      buf_puts(&b, "the runtime's ");
      buf_puts(&b, args[0]);
      buf_puts(&b, " did not finish in time and was killed");
      buf_putc(&b, 0);
      *errmsg = b.p;
    }
    return code ? code : 1;
  }
  if (code == 0 && console_fd >= 0 && master && *master < 0) code = 1; /* never sent the pty */
  if (code != 0 && errmsg) {
    *errmsg = runtime_error(log_from);
    if (!*errmsg || !**errmsg) {
      free(*errmsg);
      struct buf b = {0};
      buf_puts(&b, code == 127 ? "cannot execute the runtime " : "the runtime failed: ");
      buf_puts(&b, code == 127 ? cfg.runtime : args[0]);
      buf_puts(&b, code == 127 ? "" : " exited with status ");
      if (code != 127) buf_putnum(&b, code);
      buf_putc(&b, 0);
      *errmsg = b.p;
    }
  }
  return code;
}

/* A runtime verb that starts a process (create, exec --detach), with the
 * process's stdio: pipes, or for a terminal the pty master the runtime sends
 * over the console socket. Sets p's fds (non-blocking) and returns the pid
 * from pid_file, or -1 with *errmsg (the runtime's message, malloc'd). */
pid_t runtime_spawn(struct proc *p, const char *const *args, bool want_stdin, const char *pid_file, char **errmsg) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, con = -1, master = -1;
  *errmsg = NULL;
  unlink(pid_file);
  int rc = -1;
  if (p->terminal ? (con = console_listen(cfg.console_path)) >= 0
                  : pipe2(out, O_CLOEXEC) == 0 && pipe2(err, O_CLOEXEC) == 0 && (!want_stdin || pipe2(in, O_CLOEXEC) == 0))
    rc = runtime_run(args, in[0], out[1], err[1], errmsg, con, &master);
  if (con >= 0) {
    close(con);
    unlink(cfg.console_path);
  }
  if (in[0] >= 0) close(in[0]);
  if (out[1] >= 0) close(out[1]);
  if (err[1] >= 0) close(err[1]);
  if (p->terminal) {
    p->out_fd = master;
    p->in_fd = master >= 0 && want_stdin ? fcntl(master, F_DUPFD_CLOEXEC, 3) : -1;
  } else {
    p->in_fd = in[1];
    p->out_fd = out[0];
    p->err_fd = err[0];
  }
  if (p->in_fd >= 0) set_nonblock(p->in_fd);
  if (p->out_fd >= 0) set_nonblock(p->out_fd);
  if (p->err_fd >= 0) set_nonblock(p->err_fd);
  pid_t pid = rc == 0 ? read_pid_file(pid_file) : -1;
  if (pid <= 0 && !*errmsg) {
    struct buf b = {0};
    buf_puts(&b, rc == 0 ? "the runtime wrote no pid file" : "cannot set up the process's stdio or run the runtime");
    buf_putc(&b, 0);
    *errmsg = b.p;
  }
  return pid > 0 ? pid : -1;
}

pid_t read_pid_file(const char *path) {
  char s[32];
  if (read_small_file(path, s, sizeof s) <= 0) return -1;
  char *end;
  long v = strtol(s, &end, 10);
  if (v <= 0 || v > 0x7fffffff) return -1;
  return (pid_t)v;
}
