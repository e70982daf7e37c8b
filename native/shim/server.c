/* The shim's unix socket: many clients at once, the framed protocol
 * (docs/shim.md). Every frame: u32 big-endian length of what follows,
 * u8 type, u32 big-endian tag, payload. Requests carry fixed binary fields
 * (nothing to parse but lengths); replies and events carry JSON that this
 * file writes and never reads. No client can block the shim: sockets are
 * non-blocking and a client further behind than CLIENT_OUT_MAX is dropped. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim.h"

enum {
  REQ_STATE = 1, REQ_START, REQ_KILL, REQ_EXEC, REQ_RESIZE, REQ_STDIN,
  REQ_CLOSE_STDIN, REQ_ATTACH, REQ_WAIT, REQ_DELETE, REQ_SHUTDOWN,
};
enum { RSP_OK = 0x80, RSP_ERROR, RSP_STDOUT, RSP_STDERR, RSP_EOF, RSP_EVENT };

struct client {
  struct client *next;
  int fd;
  bool dead;
  struct buf in, out;
};

/* An attach (output subscription) or a wait, answered later. */
struct pending {
  struct pending *next;
  struct client *c;
  struct proc *p;
  uint32_t tag;
  uint8_t mask; /* attach: 1 stdout, 2 stderr; 0: a wait; STDIN_ACK */
};

#define STDIN_ACK 0x80 /* a STDIN request answered once its data is in the pipe */

int listen_fd = -1;
struct client *clients;
static struct pending *pendings;

int client_fd(struct client *c) { return c->fd; }
bool client_wants_write(struct client *c) { return c->out.len > 0; }
struct client *client_next(struct client *c) { return c->next; }

int server_listen(const char *path) {
  if (unix_answers(path)) { /* a live shim already answering here must not be displaced */
    errno = EADDRINUSE;
    return -1;
  }
  listen_fd = unix_listen(path, SOCK_NONBLOCK, 16);
  return listen_fd;
}

void server_close(void) {
  if (listen_fd >= 0) {
    close(listen_fd);
    unlink(cfg.sock_path);
  }
  listen_fd = -1;
  while (clients) {
    struct client *c = clients;
    clients = c->next;
    close(c->fd);
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
  }
  while (pendings) {
    struct pending *q = pendings;
    pendings = q->next;
    free(q);
  }
}

void server_accept(void) {
  for (int i = 0; i < 16; i++) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int n = 0;
    for (struct client *c = clients; c; c = c->next) n++;
    struct client *c = n < MAX_CLIENTS ? calloc(1, sizeof *c) : NULL;
    if (!c) {
      close(fd);
      continue;
    }
    c->fd = fd;
    c->next = clients;
    clients = c;
  }
}

void client_on_writable(struct client *c) {
  while (c->out.len && !c->dead) {
    ssize_t w = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    if (w < 0) {
      c->dead = true;
      return;
    }
    buf_consume(&c->out, (size_t)w);
  }
}

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}
static uint32_t get32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static unsigned get16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }

static void send_frame(struct client *c, int type, uint32_t tag, const void *d, size_t n) {
  if (c->dead) return;
  unsigned char h[9];
  put32(h, (uint32_t)(n + 5));
  h[4] = (unsigned char)type;
  put32(h + 5, tag);
  if (c->out.len + n + 9 > CLIENT_OUT_MAX || buf_append(&c->out, h, 9) < 0 || buf_append(&c->out, d, n) < 0) {
    slog("dropping a client that does not read");
    c->dead = true;
    return;
  }
  client_on_writable(c);
}

static void send_json(struct client *c, int type, uint32_t tag, struct buf *b) {
  if (!b->p) {
    c->dead = true; /* out of memory building it */
    return;
  }
  send_frame(c, type, tag, b->p, b->len);
  buf_free(b);
}

static void send_error(struct client *c, uint32_t tag, const char *msg) {
  struct buf b = {0};
  buf_puts(&b, "{\"error\":");
  buf_json_str(&b, msg, strlen(msg));
  buf_putc(&b, '}');
  send_json(c, RSP_ERROR, tag, &b);
}

static const char *state_name(const struct proc *p) {
  if (p->state == P_STOPPED) return "stopped";
  return p->state == P_RUNNING ? "running" : "created";
}

static void proc_json(struct buf *b, const struct proc *p) {
  buf_puts(b, "{\"id\":");
  buf_json_str(b, p->id[0] ? p->id : cfg.id, strlen(p->id[0] ? p->id : cfg.id));
  buf_puts(b, ",\"pid\":");
  buf_putnum(b, p->pid);
  buf_puts(b, ",\"status\":\"");
  buf_puts(b, state_name(p));
  buf_putc(b, '"');
  if (p->state == P_STOPPED) {
    char t[48];
    fmt_time(&p->exited_at, t);
    buf_puts(b, ",\"exitStatus\":");
    buf_putnum(b, p->exit_status);
    buf_puts(b, ",\"exitedAt\":\"");
    buf_puts(b, t);
    buf_puts(b, p->oom_killed ? "\",\"oomKilled\":true" : "\",\"oomKilled\":false");
  }
}

static void state_json(struct buf *b, const struct proc *p) {
  proc_json(b, p);
  if (p->id[0] == 0) {
    buf_puts(b, ",\"bundle\":");
    buf_json_str(b, cfg.bundle, strlen(cfg.bundle));
    buf_puts(b, ",\"terminal\":");
    buf_puts(b, cfg.terminal ? "true" : "false");
    if (cfg.log_path) {
      buf_puts(b, ",\"logPath\":");
      buf_json_str(b, cfg.log_path, strlen(cfg.log_path));
    }
    buf_puts(b, ",\"shimPid\":");
    buf_putnum(b, getpid());
    buf_puts(b, ",\"shimVersion\":\"" DRAY_VERSION "\",\"protocol\":");
    buf_putnum(b, PROTOCOL_VERSION);
    buf_puts(b, ",\"execs\":[");
    bool first = true;
    for (struct proc *e = procs; e; e = e->next) {
      if (!e->id[0]) continue;
      if (!first) buf_putc(b, ',');
      first = false;
      proc_json(b, e);
      buf_putc(b, '}');
    }
    buf_putc(b, ']');
  }
  buf_putc(b, '}');
}

static void add_pending(struct client *c, struct proc *p, uint32_t tag, uint8_t mask) {
  struct pending *q = calloc(1, sizeof *q);
  if (!q) {
    c->dead = true;
    return;
  }
  *q = (struct pending){.next = pendings, .c = c, .p = p, .tag = tag, .mask = mask};
  pendings = q;
}

void publish_output(struct proc *p, int stream, const char *d, size_t n) {
  for (struct pending *q = pendings; q; q = q->next)
    if (q->p == p && (q->mask & (1 << stream))) send_frame(q->c, stream ? RSP_STDERR : RSP_STDOUT, q->tag, d, n);
}

/* Drops the pendings of a process that matches `match` (attach or wait). */
static void drop_pendings(struct proc *p, bool attaches, bool waits, const struct buf *answer) {
  for (struct pending **qq = &pendings; *qq;) {
    struct pending *q = *qq;
    if (q->p == p && (((q->mask & 3) && attaches) || (!q->mask && waits))) {
      if (q->mask) send_frame(q->c, RSP_EOF, q->tag, NULL, 0);
      else if (answer) send_frame(q->c, RSP_OK, q->tag, answer->p, answer->len);
      else send_error(q->c, q->tag, "the process was deleted");
      *qq = q->next;
      free(q);
    } else {
      qq = &q->next;
    }
  }
}

/* The stdin queue of p drained (err NULL) or failed: answer the writers.
 * Delaying their replies until then is the flow control a big stdin needs. */
void stdin_settled(struct proc *p, const char *err) {
  for (struct pending **qq = &pendings; *qq;) {
    struct pending *q = *qq;
    if (q->p == p && q->mask == STDIN_ACK) {
      if (err) send_error(q->c, q->tag, err);
      else send_frame(q->c, RSP_OK, q->tag, "{}", 2);
      *qq = q->next;
      free(q);
    } else {
      qq = &q->next;
    }
  }
}

void publish_eof(struct proc *p) { drop_pendings(p, true, false, NULL); }

void publish_exit(struct proc *p) {
  struct buf b = {0};
  proc_json(&b, p);
  buf_putc(&b, '}');
  if (!b.p) return;
  struct buf ev = {0};
  buf_puts(&ev, "{\"type\":\"exit\",\"process\":");
  buf_append(&ev, b.p, b.len);
  buf_putc(&ev, '}');
  if (ev.p)
    for (struct client *c = clients; c; c = c->next) send_frame(c, RSP_EVENT, 0, ev.p, ev.len);
  buf_free(&ev);
  /* waiters after the event, so a client hears the event before its wait returns */
  drop_pendings(p, false, true, &b);
  buf_free(&b);
}

void publish_oom(void) {
  struct buf ev = {0};
  buf_puts(&ev, "{\"type\":\"oom\",\"id\":");
  buf_json_str(&ev, cfg.id, strlen(cfg.id));
  buf_putc(&ev, '}');
  slog("OOM kill in the container's cgroup");
  if (ev.p)
    for (struct client *c = clients; c; c = c->next) send_frame(c, RSP_EVENT, 0, ev.p, ev.len);
  buf_free(&ev);
}

void clients_reap_dead(void) {
  for (struct client **cc = &clients; *cc;) {
    struct client *c = *cc;
    if (!c->dead) {
      cc = &c->next;
      continue;
    }
    for (struct pending **qq = &pendings; *qq;) {
      struct pending *q = *qq;
      if (q->c == c) {
        *qq = q->next;
        free(q);
      } else {
        qq = &q->next;
      }
    }
    *cc = c->next;
    close(c->fd);
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
  }
}

bool clients_flushed(void) {
  for (struct client *c = clients; c; c = c->next)
    if (c->out.len && !c->dead) return false;
  return true;
}

/* An id from a request: "" (the container) or an exec id. */
static bool take_id(const unsigned char *d, size_t n, char id[ID_MAX + 1]) {
  if (n > ID_MAX) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = d[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
      return false;
  }
  memcpy(id, d, n);
  id[n] = 0;
  return true;
}

static void reply_ok(struct client *c, uint32_t tag, const char *json) {
  send_frame(c, RSP_OK, tag, json, strlen(json));
}

static void reply_runtime_error(struct client *c, uint32_t tag, char *msg) {
  send_error(c, tag, msg ? msg : "the runtime failed");
  free(msg);
}

static void do_start(struct client *c, uint32_t tag) {
  struct proc *init = proc_find("");
  if (init->state != P_CREATED || init->exited_unpublished) {
    send_error(c, tag, init->state == P_RUNNING ? "the container is already started" : "the container is stopped");
    return;
  }
  char *err;
  const char *args[] = {"start", cfg.id, NULL};
  if (runtime_run(args, -1, -1, -1, &err, -1, NULL) != 0) {
    reply_runtime_error(c, tag, err);
    return;
  }
  if (init->state == P_CREATED) init->state = P_RUNNING;
  reply_ok(c, tag, "{}");
}

static void do_kill(struct client *c, uint32_t tag, const unsigned char *d, size_t n) {
  char id[ID_MAX + 1];
  if (n < 5 || !take_id(d + 5, n - 5, id)) {
    send_error(c, tag, "bad kill request");
    return;
  }
  uint32_t sig = get32(d);
  struct proc *p = proc_find(id);
  if (!p) {
    send_error(c, tag, "no such process");
    return;
  }
  if (sig == 0 || sig > 64) {
    send_error(c, tag, "bad signal number");
    return;
  }
  if (p->state == P_STOPPED || p->exited_unpublished) {
    send_error(c, tag, "process already finished");
    return;
  }
  if (id[0]) {
    if (kill(p->pid, (int)sig) < 0) {
      send_error(c, tag, strerror(errno));
      return;
    }
  } else {
    char num[12], *err;
    snprintf(num, sizeof num, "%u", sig);
    const char *args_all[] = {"kill", "--all", cfg.id, num, NULL};
    const char *args_one[] = {"kill", cfg.id, num, NULL};
    if (runtime_run((d[4] & 1) ? args_all : args_one, -1, -1, -1, &err, -1, NULL) != 0) {
      reply_runtime_error(c, tag, err);
      return;
    }
  }
  reply_ok(c, tag, "{}");
}

/* exec: the runtime starts the process detached; it is re-parented to the
 * shim (a subreaper) and monitored like init, output to its attachers. */
static void do_exec(struct client *c, uint32_t tag, const unsigned char *d, size_t n) {
  char id[ID_MAX + 1], path[4096];
  if (n < 2 || (size_t)d[1] + 2 > n || !take_id(d + 2, d[1], id) || !id[0]) {
    send_error(c, tag, "bad exec request: the exec id must be 1-64 of [A-Za-z0-9_.-]");
    return;
  }
  size_t plen = n - 2 - d[1];
  if (plen == 0 || plen >= sizeof path || memchr(d + 2 + d[1], 0, plen)) {
    send_error(c, tag, "bad exec request: process path");
    return;
  }
  memcpy(path, d + 2 + d[1], plen);
  path[plen] = 0;
  bool terminal = d[0] & 1, want_stdin = d[0] & 2, attach = d[0] & 4;
  struct proc *init = proc_find("");
  if (init->state != P_RUNNING || init->exited_unpublished) {
    send_error(c, tag, init->state == P_STOPPED || init->exited_unpublished ? "cannot exec in a stopped container" : "cannot exec in a container that is not started");
    return;
  }
  if (proc_find(id)) {
    send_error(c, tag, "an exec process with this id exists already");
    return;
  }
  if (proc_count() >= MAX_PROCS) {
    send_error(c, tag, "too many exec processes");
    return;
  }
  struct proc *p = proc_new(id);
  if (!p) {
    send_error(c, tag, "out of memory");
    return;
  }
  p->terminal = terminal;
  char pidfile[4200];
  snprintf(pidfile, sizeof pidfile, "%s/exec.pid", cfg.state_dir);
  const char *args_tty[] = {"exec", "--process", path, "--detach", "--pid-file", pidfile, "--console-socket", cfg.console_path, cfg.id, NULL};
  const char *args_pipe[] = {"exec", "--process", path, "--detach", "--pid-file", pidfile, cfg.id, NULL};
  char *msg;
  pid_t pid = runtime_spawn(p, terminal ? args_tty : args_pipe, want_stdin, pidfile, &msg);
  unlink(pidfile);
  if (pid < 0) {
    proc_free(p);
    reply_runtime_error(c, tag, msg);
    return;
  }
  free(msg);
  p->state = P_RUNNING;
  proc_set_pid(p, pid);
  char json[48];
  snprintf(json, sizeof json, "{\"pid\":%d}", (int)pid);
  reply_ok(c, tag, json);
  if (attach) add_pending(c, p, tag, 3);
  if (p->exited_unpublished) reap_children(); /* publishes a vanished one */
}

static void do_resize(struct client *c, uint32_t tag, const unsigned char *d, size_t n) {
  char id[ID_MAX + 1];
  struct proc *p = n >= 4 && take_id(d + 4, n - 4, id) ? proc_find(id) : NULL;
  if (!p) {
    send_error(c, tag, "no such process");
    return;
  }
  int fd = p->out_fd >= 0 ? p->out_fd : p->in_fd;
  if (!p->terminal || fd < 0) {
    send_error(c, tag, p->terminal ? "the terminal is closed" : "the process has no terminal");
    return;
  }
  if (pty_resize(fd, get16(d), get16(d + 2)) < 0) send_error(c, tag, strerror(errno));
  else reply_ok(c, tag, "{}");
}

static void do_stdin(struct client *c, uint32_t tag, const unsigned char *d, size_t n) {
  char id[ID_MAX + 1];
  struct proc *p = n >= 1 && (size_t)d[0] + 1 <= n && take_id(d + 1, d[0], id) ? proc_find(id) : NULL;
  if (!p) {
    send_error(c, tag, "no such process");
    return;
  }
  if (proc_queue_stdin(p, (const char *)d + 1 + d[0], n - 1 - d[0]) < 0)
    send_error(c, tag, errno == ENOBUFS ? "the stdin buffer is full" : errno == EPIPE ? "stdin is closed" : strerror(errno));
  else if (p->in_fd < 0)
    send_error(c, tag, "stdin is closed");
  else if (p->stdin_q.len)
    add_pending(c, p, tag, STDIN_ACK);
  else
    reply_ok(c, tag, "{}");
}

static void do_delete(struct client *c, uint32_t tag, const unsigned char *d, size_t n, bool force) {
  char id[ID_MAX + 1];
  if (n < 1 || !take_id(d + 1, n - 1, id)) {
    send_error(c, tag, "bad delete request");
    return;
  }
  force = force || (d[0] & 1);
  struct proc *p = proc_find(id);
  if (!p) {
    send_error(c, tag, "no such process");
    return;
  }
  bool running = p->state == P_RUNNING && !p->exited_unpublished;
  if (running && !force) {
    send_error(c, tag, id[0] ? "the exec process is running" : "the container is running: kill it first, or force");
    return;
  }
  struct buf b = {0};
  state_json(&b, p);
  if (id[0]) {
    if (running) kill(p->pid, SIGKILL);
    drop_pendings(p, true, true, NULL);
    stdin_settled(p, "the process was deleted");
    proc_free(p);
    send_json(c, RSP_OK, tag, &b);
    return;
  }
  char *err;
  const char *args_force[] = {"delete", "--force", cfg.id, NULL};
  const char *args[] = {"delete", cfg.id, NULL};
  if (runtime_run(force ? args_force : args, -1, -1, -1, &err, -1, NULL) != 0 && !force) {
    buf_free(&b);
    reply_runtime_error(c, tag, err);
    return;
  }
  free(err);
  send_json(c, RSP_OK, tag, &b);
  slog("deleted; the shim exits");
  shim_exiting = true;
}

static void dispatch(struct client *c, int type, uint32_t tag, const unsigned char *d, size_t n) {
  char id[ID_MAX + 1];
  struct proc *p;
  if (shim_exiting) {
    send_error(c, tag, "the shim is shutting down");
    return;
  }
  switch (type) {
  case REQ_STATE:
    if (!take_id(d, n, id) || !(p = proc_find(id))) {
      send_error(c, tag, "no such process");
    } else {
      struct buf b = {0};
      state_json(&b, p);
      send_json(c, RSP_OK, tag, &b);
    }
    break;
  case REQ_START: do_start(c, tag); break;
  case REQ_KILL: do_kill(c, tag, d, n); break;
  case REQ_EXEC: do_exec(c, tag, d, n); break;
  case REQ_RESIZE: do_resize(c, tag, d, n); break;
  case REQ_STDIN: do_stdin(c, tag, d, n); break;
  case REQ_CLOSE_STDIN:
    if (!take_id(d, n, id) || !(p = proc_find(id))) {
      send_error(c, tag, "no such process");
    } else {
      proc_close_stdin(p);
      reply_ok(c, tag, "{}");
    }
    break;
  case REQ_ATTACH:
    if (n < 1 || !take_id(d + 1, n - 1, id) || !(p = proc_find(id)) || !(d[0] & 3)) {
      send_error(c, tag, "no such process");
    } else {
      reply_ok(c, tag, "{}");
      if (p->out_fd < 0 && p->err_fd < 0) send_frame(c, RSP_EOF, tag, NULL, 0);
      else add_pending(c, p, tag, d[0] & 3);
    }
    break;
  case REQ_WAIT:
    if (!take_id(d, n, id) || !(p = proc_find(id))) {
      send_error(c, tag, "no such process");
    } else if (p->state == P_STOPPED) {
      struct buf b = {0};
      proc_json(&b, p);
      buf_putc(&b, '}');
      send_json(c, RSP_OK, tag, &b);
    } else {
      add_pending(c, p, tag, 0);
    }
    break;
  case REQ_DELETE: do_delete(c, tag, d, n, false); break;
  case REQ_SHUTDOWN: do_delete(c, tag, (const unsigned char *)"\1", 1, true); break;
  default: send_error(c, tag, "unknown request type");
  }
}

void client_on_readable(struct client *c) {
  unsigned char chunk[16384];
  for (int i = 0; i < 8 && !c->dead; i++) {
    ssize_t r = recv(c->fd, chunk, sizeof chunk, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) break;
    if (r <= 0) { /* gone, mid-stream or not: forget its attaches and waits */
      c->dead = true;
      return;
    }
    if (buf_append(&c->in, chunk, (size_t)r) < 0) {
      c->dead = true;
      return;
    }
    while (c->in.len >= 4 && !c->dead) {
      const unsigned char *h = (const unsigned char *)c->in.p;
      uint32_t len = get32(h);
      if (len < 5 || len > FRAME_MAX) {
        slog("dropping a client that sent a bad frame (length %u)", len);
        c->dead = true;
        return;
      }
      if (c->in.len < 4 + (size_t)len) break;
      dispatch(c, h[4], get32(h + 5), h + 9, len - 5);
      buf_consume(&c->in, 4 + (size_t)len);
      if (shim_exiting) return;
    }
  }
}
