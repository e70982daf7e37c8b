/* dray-shim: shared declarations. One job per file:
 *   main.c     command line, daemonizing, the poll loop
 *   buf.c      growable byte buffers, the JSON string encoder, time format
 *   jsonlog.c  Docker json-file log writer with size cap and rotation
 *   oom.c      OOM notices from the container's memory cgroup
 *   process.c  the process table: stdio pumps, reaping, exit recording
 *   pty.c      console socket (pty master over SCM_RIGHTS), resize
 *   runtime.c  invoking the OCI runtime (runc, crun, dray-runc)
 *   server.c   the unix socket, clients and the framed protocol
 *   util.c     small fd and file helpers
 */
#ifndef DRAY_SHIM_H
#define DRAY_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifndef DRAY_VERSION
#define DRAY_VERSION "dev"
#endif
#define PROTOCOL_VERSION 1 /* in the container's state: bumped on incompatible changes */
#define ID_MAX 64          /* container and exec ids */
#define MAX_PROCS 48       /* init + execs */
#define MAX_CLIENTS 48
#define FRAME_MAX (256 * 1024)   /* largest frame a client may send */
#define CLIENT_OUT_MAX (4 * 1024 * 1024) /* a client further behind is dropped */
#define STDIN_QUEUE_MAX (1024 * 1024)

/* ---- buf.c ---- */
struct buf {
  char *p;
  size_t len, cap;
};
int buf_append(struct buf *b, const void *d, size_t n); /* 0, or -1 on ENOMEM */
int buf_putc(struct buf *b, char c);
int buf_puts(struct buf *b, const char *s);
int buf_putnum(struct buf *b, long long v);
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);
/* JSON string literal (with quotes), escaped as Docker's jsonlog does:
 * control chars, <, >, &, U+2028/2029 as \uXXXX, invalid UTF-8 as U+FFFD. */
int buf_json_str(struct buf *b, const char *s, size_t n);
/* RFC 3339 with nanoseconds, UTC, trailing zeros trimmed (Go's RFC3339Nano). */
void fmt_time(const struct timespec *ts, char out[48]);
void slog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int slog_fd;

/* ---- util.c ---- */
ssize_t read_small_file(const char *path, char *buf, size_t size); /* NUL-terminated */
int set_nonblock(int fd);
bool unix_answers(const char *path);
int unix_listen(const char *path, int sock_flags, int backlog);

/* ---- configuration (main.c) ---- */
struct config {
  const char *id, *bundle, *runtime, *runtime_root, *state_dir;
  const char *log_path;
  long long log_max_size; /* 0: no cap */
  int log_max_file;
  bool terminal, stdin_open, start;
  const char *runtime_args[8]; /* extra global runtime options, e.g. --systemd-cgroup */
  int n_runtime_args;
  int runtime_timeout_s; /* a runtime call running longer is killed */
  /* built-in runtime: the executor run in place of `<runtime> create`; fds 3 (plan) and 4 (sync) are its, driven by the caller */
  const char *executor, *exec_fifo;
  char sock_path[108], console_path[108];
  char runtime_log[4096], pid_file[4096], exit_file[4096];
};
extern struct config cfg;
extern bool shim_exiting;

/* ---- oom.c ---- */
extern int oom_fd;
long oom_count(const char *file);
void oom_watch(const char *file);
bool oom_check(void);
void oom_unwatch(void);

/* ---- jsonlog.c ---- */
int jsonlog_open(const char *path, long long max_size, int max_file);
/* stream 0 stdout, 1 stderr; buffers a partial line until \n, 16K or EOF */
void jsonlog_write(int stream, const char *data, size_t n);
void jsonlog_flush(int stream);
void jsonlog_close(void);

/* ---- process.c ---- */
enum { P_CREATED, P_RUNNING, P_STOPPED };
struct proc {
  struct proc *next;
  char id[ID_MAX + 1]; /* "" for the container's init */
  pid_t pid;
  int state;
  int exit_status;
  struct timespec exited_at;
  bool oom_killed;
  bool terminal;
  bool exited_unpublished; /* reaped, output not yet drained */
  int in_fd;               /* stdin pipe or pty master; -1 closed */
  int out_fd, err_fd;      /* -1 at EOF */
  struct buf stdin_q;
  bool close_stdin_pending;
  char *memcg; /* file whose oom_kill counter tells an OOM kill */
};
extern struct proc *procs;
struct proc *proc_find(const char *id);
struct proc *proc_new(const char *id);
void proc_free(struct proc *p);
int proc_count(void);
void proc_set_pid(struct proc *p, pid_t pid);
void proc_read(struct proc *p, int stream); /* a stdio fd is readable */
void proc_flush_stdin(struct proc *p);
int proc_queue_stdin(struct proc *p, const char *d, size_t n);
void proc_close_stdin(struct proc *p);
void reap_children(void);
void proc_note_memcg(struct proc *p);
int write_exit_file(struct proc *p);

/* ---- pty.c ---- */
int console_listen(const char *path);
int console_recv_master(int listen_fd, pid_t runtime_pid, int *status, bool *reaped);
int pty_resize(int fd, unsigned rows, unsigned cols);

/* ---- runtime.c ---- */
/* Runs `runtime --root R --log L --log-format json <args...>` with the given
 * stdio (-1: /dev/null) and waits. Returns its exit status (0 ok), -1 if it
 * could not run. On failure *err gets the runtime's error (malloc'd). When
 * console_fd >= 0 it accepts the pty master the runtime sends (*master). */
int runtime_run(const char *const *args, int in, int out, int err, char **errmsg, int console_fd, int *master);
pid_t read_pid_file(const char *path);
pid_t runtime_spawn(struct proc *p, const char *const *args, bool want_stdin, const char *pid_file, char **errmsg);

/* ---- server.c ---- */
int server_listen(const char *path);
extern int listen_fd;
struct client;
void server_accept(void);
void client_on_readable(struct client *c);
void client_on_writable(struct client *c);
int client_fd(struct client *c);
bool client_wants_write(struct client *c);
extern struct client *clients;
struct client *client_next(struct client *c);
void clients_reap_dead(void);
bool clients_flushed(void);
void publish_output(struct proc *p, int stream, const char *d, size_t n);
void publish_eof(struct proc *p);
void publish_exit(struct proc *p);
void publish_oom(void);
void stdin_settled(struct proc *p, const char *err);
void server_close(void);

#endif
