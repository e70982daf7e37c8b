/* The process table: the container's init and its exec processes. The shim
 * is a child subreaper, so every process the runtime leaves behind is
 * re-parented here and reaped here; only pids in the table count. An exit
 * is published only after the process's pipes are drained, so a client
 * that waits for the exit has seen (and the log holds) all of its output. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

struct proc *procs;

struct proc *proc_find(const char *id) {
  for (struct proc *p = procs; p; p = p->next)
    if (!strcmp(p->id, id)) return p;
  return NULL;
}

int proc_count(void) {
  int n = 0;
  for (struct proc *p = procs; p; p = p->next) n++;
  return n;
}

struct proc *proc_new(const char *id) {
  struct proc *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  snprintf(p->id, sizeof p->id, "%s", id);
  p->in_fd = p->out_fd = p->err_fd = -1;
  p->state = P_CREATED;
  struct proc **tail = &procs;
  while (*tail) tail = &(*tail)->next;
  *tail = p;
  return p;
}

void proc_free(struct proc *p) {
  for (struct proc **pp = &procs; *pp; pp = &(*pp)->next) {
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  }
  if (p->in_fd >= 0) close(p->in_fd);
  if (p->out_fd >= 0) close(p->out_fd);
  if (p->err_fd >= 0) close(p->err_fd);
  buf_free(&p->stdin_q);
  free(p->memcg);
  free(p);
}

static void mark_exited(struct proc *p, int status, const struct timespec *at) {
  p->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  p->exited_at = *at;
  p->exited_unpublished = true;
}

/* No exit can be missed between the runtime starting a process and its pid
 * being known: runtime calls are synchronous and the loop is the only place
 * that reaps, so an early exit waits as a zombie until the pid is set. */
void proc_set_pid(struct proc *p, pid_t pid) {
  p->pid = pid;
  /* ...unless someone else reaped it (a runtime that waits for its
   * children): then its status is unknowable, 255 as containerd says. */
  if (kill(pid, 0) < 0 && errno == ESRCH) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    slog("process '%s' pid %d vanished before the shim could reap it", p->id, (int)pid);
    mark_exited(p, 255 << 8, &now);
  }
}

static bool is_init(const struct proc *p) { return p->id[0] == 0; }

static void on_eof(struct proc *p, int stream) {
  int *fd = stream ? &p->err_fd : &p->out_fd;
  close(*fd);
  *fd = -1;
  if (is_init(p)) jsonlog_flush(stream);
  if (p->out_fd < 0 && p->err_fd < 0) publish_eof(p);
}

/* Reads what is there now (a few chunks at most, so one chatty process
 * cannot starve the loop); `drain` reads until the pipe is empty. */
static void pump(struct proc *p, int stream, bool drain) {
  char chunk[16384];
  for (int i = 0; drain || i < 4; i++) {
    int fd = stream ? p->err_fd : p->out_fd;
    if (fd < 0) return;
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n > 0) {
      if (is_init(p)) jsonlog_write(stream, chunk, (size_t)n);
      publish_output(p, stream, chunk, (size_t)n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    on_eof(p, stream); /* 0, or EIO from a pty master whose slave closed */
    return;
  }
}

void proc_read(struct proc *p, int stream) { pump(p, stream, false); }


static void publish(struct proc *p) {
  p->exited_unpublished = false;
  p->state = P_STOPPED;
  pump(p, 0, true);
  pump(p, 1, true);
  p->oom_killed = p->memcg && oom_count(p->memcg) > 0;
  if (is_init(p)) {
    if (oom_check()) publish_oom(); /* the OOM notice comes before the exit */
    oom_unwatch();
    jsonlog_flush(0);
    jsonlog_flush(1);
    if (write_exit_file(p) < 0) slog("exit file: %s", strerror(errno));
  }
  slog("process '%s' pid %d exited with status %d", p->id, (int)p->pid, p->exit_status);
  publish_exit(p);
}

void reap_children(void) {
  for (int i = 0; i < 4096; i++) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct proc *p;
    for (p = procs; p; p = p->next)
      if (p->pid == pid && p->state != P_STOPPED && !p->exited_unpublished) break;
    if (p) mark_exited(p, status, &now); /* others: the runtime's leftovers */
  }
  for (struct proc *p = procs; p; p = p->next)
    if (p->exited_unpublished) publish(p);
}

int proc_queue_stdin(struct proc *p, const char *d, size_t n) {
  if (p->in_fd < 0 || p->close_stdin_pending) {
    errno = EPIPE;
    return -1;
  }
  if (p->stdin_q.len + n > STDIN_QUEUE_MAX) {
    errno = ENOBUFS;
    return -1;
  }
  if (buf_append(&p->stdin_q, d, n) < 0) return -1;
  proc_flush_stdin(p);
  return 0;
}

static void close_in(struct proc *p, const char *err) {
  if (p->in_fd >= 0) close(p->in_fd);
  p->in_fd = -1;
  p->close_stdin_pending = false;
  buf_free(&p->stdin_q);
  stdin_settled(p, err);
}

void proc_flush_stdin(struct proc *p) {
  while (p->in_fd >= 0 && p->stdin_q.len) {
    ssize_t w = write(p->in_fd, p->stdin_q.p, p->stdin_q.len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    if (w < 0) { /* EPIPE: the process closed its stdin */
      close_in(p, "stdin is closed");
      return;
    }
    buf_consume(&p->stdin_q, (size_t)w);
  }
  if (p->in_fd >= 0 && !p->stdin_q.len) stdin_settled(p, NULL);
  if (p->close_stdin_pending && !p->stdin_q.len) close_in(p, NULL);
}

/* A pipe is closed (EOF for the reader). A pty cannot be half-closed without
 * hanging up the terminal, so there the shim types the EOF character (^D),
 * which a reader in canonical mode sees as end of input. */
void proc_close_stdin(struct proc *p) {
  if (p->in_fd < 0) return;
  if (p->terminal) {
    buf_append(&p->stdin_q, "\x04", 1);
    proc_flush_stdin(p);
    return;
  }
  p->close_stdin_pending = true;
  proc_flush_stdin(p);
}

/* Remembers which file will tell whether the kernel OOM-killed the
 * container: memory.oom_control (cgroup v1) or memory.events (v2). */
void proc_note_memcg(struct proc *p) {
  char path[64], text[4096];
  snprintf(path, sizeof path, "/proc/%d/cgroup", (int)p->pid);
  if (read_small_file(path, text, sizeof text) <= 0) return;
  struct buf b = {0};
  char *v1 = strstr(text, ":memory:/");
  struct stat st;
  if (v1) {
    char *end = strchr(v1, '\n');
    if (end) *end = 0;
    buf_puts(&b, "/sys/fs/cgroup/memory");
    buf_puts(&b, v1 + 8);
    buf_puts(&b, "/memory.oom_control");
  } else if (!strncmp(text, "0::/", 4) && stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0) {
    char *end = strchr(text, '\n');
    if (end) *end = 0;
    buf_puts(&b, "/sys/fs/cgroup");
    buf_puts(&b, text + 3);
    buf_puts(&b, "/memory.events");
  }
  if (b.len && buf_putc(&b, 0) == 0) p->memcg = b.p;
  else buf_free(&b);
}

/* The exit status, durably: temp file, fsync, rename, fsync of the dir, so
 * a supervisor that comes back after a crash (or after the shim died) reads
 * either nothing or the whole record. */
int write_exit_file(struct proc *p) {
  char t[48];
  fmt_time(&p->exited_at, t);
  struct buf b = {0};
  buf_puts(&b, "{\"id\":");
  buf_json_str(&b, cfg.id, strlen(cfg.id));
  buf_puts(&b, ",\"pid\":");
  buf_putnum(&b, p->pid);
  buf_puts(&b, ",\"exitStatus\":");
  buf_putnum(&b, p->exit_status);
  buf_puts(&b, ",\"exitedAt\":\"");
  buf_puts(&b, t);
  buf_puts(&b, p->oom_killed ? "\",\"oomKilled\":true}\n" : "\",\"oomKilled\":false}\n");
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", cfg.exit_file);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int rc = -1;
  if (fd >= 0 && b.p) {
    rc = write(fd, b.p, b.len) == (ssize_t)b.len && fsync(fd) == 0 ? 0 : -1;
  }
  if (fd >= 0) close(fd);
  buf_free(&b);
  if (rc == 0) rc = rename(tmp, cfg.exit_file);
  int dfd = open(cfg.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return rc;
}
