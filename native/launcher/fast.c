/*
 * The launcher's fast paths: start, state, kill and delete need no policy,
 * only state.json, /proc and cgroupfs, yet a Node start costs 30-40 ms per
 * verb (docs/runtime.md, "Speed"). These mirror src/runtime/verbs/ exactly
 * on the common path; anything else returns FALLBACK before touching
 * anything (an unknown flag, --debug, a missing or unexpected state, hooks
 * to run, a held lock, a paused container, a cgroup v2 write, any error the
 * Node verb would word), and the Node runtime then does the whole verb.
 * Only failures after the verb has acted (the fifo opened, signals sent)
 * are reported here, in the Node CLI's words and --log format.
 * Disabled by DRAY_FROM_SOURCE=1 or DRAY_RUNC_NO_FAST=1.
 */
#include "fast.h"
#include "json.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define FALLBACK (-1)
#define MAX_CG 16
#define MAX_STATE (4 << 20)

static const char *g_log;
static char *g_buf; /* state.json's text, freed once the verb is done */
static int g_log_json;

/* ---- small helpers ---- */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms) {
  struct timespec ts = {(time_t)(ms / 1e3), (long)((ms - (double)(time_t)(ms / 1e3) * 1e3) * 1e6)};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/* The file's content with trailing whitespace trimmed; -1 if unreadable. */
static int read_small(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n, total = 0;
  while ((n = read(fd, buf + total, cap - 1 - (size_t)total)) > 0) total += n;
  close(fd);
  if (n < 0) return -1;
  while (total > 0 && (buf[total - 1] == '\n' || buf[total - 1] == ' ' || buf[total - 1] == '\t')) total--;
  buf[total] = '\0';
  return 0;
}

static int write_value(const char *path, const char *value, char *err, size_t errcap) {
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) { snprintf(err, errcap, "cannot open %s: %s", path, strerror(errno)); return -1; }
  ssize_t n = write(fd, value, strlen(value));
  int e = errno;
  close(fd);
  if (n != (ssize_t)strlen(value)) { snprintf(err, errcap, "writing \"%s\" to %s: %s", value, path, strerror(e)); return -1; }
  return 0;
}

static int path_join(char *out, const char *a, const char *b) {
  return snprintf(out, PATH_MAX, "%s/%s", a, b) < PATH_MAX ? 0 : -1;
}

/* The Node CLI's failure report: --log (text or json), then one line on stderr. */
static int fail(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (g_log && *g_log) {
    char esc[2100], when[96];
    size_t k = 0;
    for (const char *c = msg; *c && k < sizeof esc - 8; c++) {
      unsigned char u = (unsigned char)*c;
      if (u == '"' || u == '\\') { esc[k++] = '\\'; esc[k++] = (char)u; }
      else if (u < 0x20) k += (size_t)snprintf(esc + k, 7, "\\u%04x", u);
      else esc[k++] = (char)u;
    }
    esc[k] = '\0';
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000000) % 1000);
    FILE *f = fopen(g_log, "ae");
    if (f) {
      if (g_log_json) fprintf(f, "{\"level\":\"error\",\"msg\":\"%s\",\"time\":\"%s\"}\n", esc, when);
      else fprintf(f, "time=\"%s\" level=error msg=\"%s\"\n", when, esc);
      fclose(f);
    }
  }
  dprintf(2, "dray-runc: %s\n", msg);
  return 1;
}

/* ---- processes ---- */

/* /proc/PID/stat's state and start time (field 22); -1 if gone. */
static int proc_info(int pid, char *state, char *start, size_t cap) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  if (read_small(path, buf, sizeof buf) < 0) return -1;
  char *p = strrchr(buf, ')');
  if (!p || p[1] != ' ') return -1;
  p += 2;
  *state = *p;
  for (int field = 0; field < 19; field++) {
    p = strchr(p, ' ');
    if (!p) return -1;
    p++;
  }
  size_t n = strcspn(p, " ");
  if (n >= cap) return -1;
  memcpy(start, p, n);
  start[n] = '\0';
  return 0;
}

static int same_process(int pid, const char *start) {
  char st, s[32];
  if (pid <= 0 || proc_info(pid, &st, s, sizeof s) < 0) return 0;
  return strcmp(s, start) == 0 && st != 'Z' && st != 'X';
}

/* ---- the container's record ---- */

enum { CG_NONE, CG_V1, CG_HYBRID, CG_V2 };

struct rec {
  char *buf;
  jspan top, config;
  char id[1025];
  int pid;
  char start[32];
  char dir[PATH_MAX];
  int cg_mode, cg_n;
  char cg_key[MAX_CG][64];
  char cg_dir[MAX_CG][PATH_MAX];
  char cg_mp[MAX_CG][PATH_MAX];
};

static int valid_id(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n > 1024 || !strcmp(id, ".") || !strcmp(id, "..")) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' || c == '.')) return 0;
  }
  return 1;
}

/* An absolute path already in posix.normalize's form (stricter: no trailing slash). */
static int normal_abs(const char *p) {
  if (p[0] != '/' || p[1] == '\0') return p[0] == '/';
  for (const char *s = p; *s; s++) {
    if (*s != '/') continue;
    const char *seg = s + 1;
    size_t n = strcspn(seg, "/");
    if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) return 0;
  }
  return 1;
}

/* What reopenCgroup() accepts, else -1 (the Node verb then reports it). */
static int read_cgroup(struct rec *r) {
  jspan cg, mode, paths, mps, k, v, mp;
  int got = json_get(r->top, "cgroup", &cg);
  if (got < 0) return -1;
  if (got == 0 || (cg.n == 4 && !memcmp(cg.p, "null", 4))) { r->cg_mode = CG_NONE; return 0; }
  char m[16];
  if (json_get(cg, "mode", &mode) != 1 || json_str(mode, m, sizeof m) < 0) return -1;
  if (!strcmp(m, "v1")) r->cg_mode = CG_V1;
  else if (!strcmp(m, "hybrid")) r->cg_mode = CG_HYBRID;
  else if (!strcmp(m, "v2")) r->cg_mode = CG_V2;
  else return -1;
  if (json_get(cg, "paths", &paths) != 1 || json_get(cg, "mountpoints", &mps) != 1) return -1;
  size_t pos = 0;
  int rc;
  r->cg_n = 0;
  while ((rc = json_next(paths, &pos, &k, &v)) == 1) {
    if (r->cg_n == MAX_CG) return -1;
    int i = r->cg_n++;
    if (json_str(k, r->cg_key[i], sizeof r->cg_key[i]) < 0 || json_str(v, r->cg_dir[i], PATH_MAX) < 0) return -1;
    for (int j = 0; j < i; j++) if (!strcmp(r->cg_key[j], r->cg_key[i])) return -1;
    if (json_get(mps, r->cg_key[i], &mp) != 1 || json_str(mp, r->cg_mp[i], PATH_MAX) < 0) return -1;
    size_t ml = strlen(r->cg_mp[i]);
    if (!normal_abs(r->cg_dir[i]) || r->cg_mp[i][0] != '/' || strncmp(r->cg_dir[i], r->cg_mp[i], ml) || r->cg_dir[i][ml] != '/') return -1;
  }
  if (rc < 0 || r->cg_n == 0) return -1;
  if (r->cg_mode == CG_V2 && (r->cg_n != 1 || r->cg_key[0][0])) return -1;
  return 0;
}

static const char *cg_path(const struct rec *r, const char *key) {
  for (int i = 0; i < r->cg_n; i++) if (!strcmp(r->cg_key[i], key)) return r->cg_dir[i];
  return NULL;
}

static int read_rec(struct rec *r, const char *root, const char *id) {
  char path[PATH_MAX];
  if (!valid_id(id) || strlen(id) >= sizeof r->id) return -1;
  strcpy(r->id, id);
  if (path_join(r->dir, root, id) < 0 || path_join(path, r->dir, "state.json") < 0) return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > MAX_STATE) { close(fd); return -1; }
  r->buf = g_buf = malloc((size_t)st.st_size);
  ssize_t n = r->buf ? read(fd, r->buf, (size_t)st.st_size) : -1;
  close(fd);
  if (n != st.st_size || !json_valid(r->buf, (size_t)n)) return -1;
  r->top = (jspan){r->buf, (size_t)n};
  jspan v;
  if (json_get(r->top, "pid", &v) != 1 || json_int(v, &r->pid) < 0) return -1;
  if (json_get(r->top, "initStartTime", &v) != 1 || json_str(v, r->start, sizeof r->start) < 0) return -1;
  if (json_get(r->top, "config", &r->config) != 1 || r->config.p[0] != '{') return -1;
  return read_cgroup(r);
}

/* Whether config.hooks.<name> has hooks to run (-1: unexpected shape). */
static int has_hooks(const struct rec *r, const char *name) {
  jspan hooks, list;
  int got = json_get(r->config, "hooks", &hooks);
  if (got <= 0) return got;
  if (hooks.n == 4 && !memcmp(hooks.p, "null", 4)) return 0;
  got = json_get(hooks, name, &list);
  if (got <= 0) return got;
  return json_nonempty_array(&list);
}

enum { ST_STOPPED, ST_CREATED, ST_PAUSED, ST_RUNNING };
static const char *const STATUS[] = {"stopped", "created", "paused", "running"};

static int fifo_path(const struct rec *r, char *out) { return path_join(out, r->dir, "exec.fifo"); }

/* liveStatus(): never stored, always derived. */
static int live_status(const struct rec *r) {
  char p[PATH_MAX], buf[64];
  if (!r->pid || !same_process(r->pid, r->start)) return ST_STOPPED;
  if (fifo_path(r, p) == 0 && access(p, F_OK) == 0) return ST_CREATED;
  const char *d = r->cg_mode == CG_V2 ? cg_path(r, "") : r->cg_mode != CG_NONE ? cg_path(r, "freezer") : NULL;
  if (d && path_join(p, d, r->cg_mode == CG_V2 ? "cgroup.freeze" : "freezer.state") == 0 && read_small(p, buf, sizeof buf) == 0 &&
      !strcmp(buf, r->cg_mode == CG_V2 ? "1" : "FROZEN")) return ST_PAUSED;
  return ST_RUNNING;
}

/* store.lock() without waiting: a held lock (or anything odd) is the Node verb's to handle. */
static int lock(const struct rec *r, char *lockpath) {
  char st, start[32], text[64];
  if (path_join(lockpath, r->dir, "lock") < 0 || proc_info(getpid(), &st, start, sizeof start) < 0) return -1;
  int fd = open(lockpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  int n = snprintf(text, sizeof text, "%d %s", getpid(), start);
  if (write(fd, text, (size_t)n) != n) { close(fd); unlink(lockpath); return -1; }
  close(fd);
  return 0;
}

/* ---- cgroups (v1 writes only: v2 writes go to the Node verb) ---- */

static int on_cgroupfs(const char *path) {
  struct statfs s;
  return statfs(path, &s) == 0 && (s.f_type == 0x27e0eb || s.f_type == 0x63677270);
}

/* Every directory of the subtree, deepest first (subtreeDeepestFirst). */
static int subtree(const char *dir, int depth, int (*fn)(const char *, void *), void *arg) {
  if (depth > 64) return -1;
  DIR *d = opendir(dir);
  if (!d) return errno == ENOENT ? 0 : -1;
  struct dirent *e;
  int rc = 0;
  while (rc == 0 && (e = readdir(d))) {
    if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char sub[PATH_MAX];
    rc = path_join(sub, dir, e->d_name) < 0 ? -1 : subtree(sub, depth + 1, fn, arg);
  }
  closedir(d);
  return rc ? rc : fn(dir, arg);
}

struct pidset { int n; int pids[4096]; };

static int collect(const char *dir, void *arg) {
  struct pidset *s = arg;
  char p[PATH_MAX];
  if (path_join(p, dir, "cgroup.procs") < 0) return -1;
  FILE *f = fopen(p, "re");
  if (!f) return errno == ENOENT ? 0 : -1;
  int pid;
  while (fscanf(f, "%d", &pid) == 1) {
    int dup = 0;
    for (int i = 0; i < s->n; i++) dup |= s->pids[i] == pid;
    if (!dup) {
      if (s->n == (int)(sizeof s->pids / sizeof *s->pids)) { fclose(f); return -1; }
      s->pids[s->n++] = pid;
    }
  }
  fclose(f);
  return 0;
}

/* V1Cgroup.primary(): where its processes are read. */
static const char *primary(const struct rec *r) {
  static const char *const order[] = {"pids", "freezer", "memory", "cpu", "devices"};
  for (size_t i = 0; i < sizeof order / sizeof *order; i++) if (cg_path(r, order[i])) return cg_path(r, order[i]);
  return NULL;
}

/* -1: unreadable, else the number of processes. */
static int count_pids(const struct rec *r, struct pidset *s) {
  s->n = 0;
  return subtree(primary(r), 0, collect, s) < 0 ? -1 : s->n;
}

/* waitFor(): polls at 1 ms growing to delay, within attempts x delay. */
static int wait_for(int (*done)(const void *), const void *arg, int attempts, int delay, const char *refreeze) {
  double deadline = now_ms() + attempts * delay;
  for (int i = 0; now_ms() < deadline; i++) {
    if (done(arg)) return 1;
    if (refreeze && i % 20 == 19) { char e[PATH_MAX + 64]; write_value(refreeze, "FROZEN", e, sizeof e); }
    sleep_ms(delay < 1 + (i >> 2) ? delay : 1 + (i >> 2));
  }
  return done(arg);
}

struct want { const char *file, *value; };
static int file_is(const void *arg) {
  const struct want *w = arg;
  char buf[64];
  return read_small(w->file, buf, sizeof buf) == 0 && !strcmp(buf, w->value);
}
static int cg_empty(const void *arg) {
  static struct pidset s;
  return count_pids(arg, &s) == 0;
}

/* V1Cgroup.killAll(): freeze, signal every process, thaw, and after SIGKILL wait until empty. */
static int kill_all_v1(const struct rec *r, int sig) {
  char file[PATH_MAX], err[PATH_MAX + 64], now[64];
  static struct pidset s;
  const char *fz = cg_path(r, "freezer");
  struct stat st;
  int freeze = fz && stat(fz, &st) == 0 && S_ISDIR(st.st_mode);
  if (freeze) {
    if (path_join(file, fz, "freezer.state") < 0) return fail("path too long");
    if (write_value(file, "FROZEN", err, sizeof err) < 0) return fail("%s", err);
    struct want w = {file, "FROZEN"};
    if (!wait_for(file_is, &w, 400, 5, file)) {
      write_value(file, "THAWED", err, sizeof err);
      if (read_small(file, now, sizeof now) < 0) strcpy(now, "undefined");
      return fail("cgroup %s did not freeze (state %s)", fz, now);
    }
  }
  int rc = count_pids(r, &s) < 0 ? fail("cannot read the processes of cgroup %s", primary(r)) : 0;
  for (int i = 0; rc == 0 && i < s.n; i++)
    if (kill(s.pids[i], sig) < 0 && errno != ESRCH) rc = fail("kill %d: %s", s.pids[i], strerror(errno));
  if (freeze) {
    struct want w = {file, "THAWED"};
    if (write_value(file, "THAWED", err, sizeof err) < 0) return rc ? rc : fail("%s", err);
    if (!wait_for(file_is, &w, 400, 5, NULL)) return rc ? rc : fail("cgroup %s did not thaw", fz);
  }
  if (rc) return rc;
  if (sig == SIGKILL) wait_for(cg_empty, r, 200, 10, NULL);
  return 0;
}

static int rmdir_retry(const char *dir, void *arg) {
  for (int attempt = 0;; attempt++) {
    if (rmdir(dir) == 0 || errno == ENOENT) return 0;
    if (errno != EBUSY || attempt >= 4) return -1;
    sleep_ms(10 << attempt);
  }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* ---- verbs ---- */

struct args {
  const char *root;
  int all, force;
  const char *pos[3];
  int npos;
};

static int verb_state(const struct args *a) {
  struct rec r = {0};
  jspan f[7];
  static const char *const names[] = {"ociVersion", "id", "bundle", "rootfs", "created", "owner", "annotations"};
  if (a->npos != 1 || read_rec(&r, a->root, a->pos[0]) < 0) return FALLBACK;
  for (int i = 0; i < 7; i++) if (json_get(r.top, names[i], &f[i]) != 1) return FALLBACK;
  int status = live_status(&r);
  char *out = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&out, &len);
  if (!m) return FALLBACK;
  fputs("{\n  \"ociVersion\": ", m);
  json_pretty(m, f[0], 1);
  fputs(",\n  \"id\": ", m);
  json_pretty(m, f[1], 1);
  fprintf(m, ",\n  \"pid\": %d,\n  \"status\": \"%s\"", status == ST_STOPPED ? 0 : r.pid, STATUS[status]);
  for (int i = 2; i < 7; i++) {
    fprintf(m, ",\n  \"%s\": ", names[i]);
    json_pretty(m, f[i], 1);
  }
  fputs("\n}\n", m);
  fclose(m);
  int rc = 0;
  for (size_t off = 0; rc == 0 && off < len;) {
    ssize_t n = write(1, out + off, len - off);
    if (n <= 0) rc = fail("write: %s", strerror(errno));
    else off += (size_t)n;
  }
  free(out);
  return rc;
}

static int verb_start(const struct args *a) {
  struct rec r = {0};
  char lk[PATH_MAX], fifo[PATH_MAX];
  if (a->npos != 1 || read_rec(&r, a->root, a->pos[0]) < 0 || has_hooks(&r, "poststart") != 0 || fifo_path(&r, fifo) < 0) return FALLBACK;
  if (lock(&r, lk) < 0) return FALLBACK;
  int fd = -1;
  if (live_status(&r) != ST_CREATED || (fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) { unlink(lk); return FALLBACK; }
  /* From here the init may run: failures are ours to report. */
  int rc = 0;
  double deadline = now_ms() + 30000;
  for (int i = 0;; i++) {
    char b;
    ssize_t n = read(fd, &b, 1);
    if (n == 1) break;
    if (n < 0 && errno != EAGAIN && errno != EINTR) { rc = fail("read exec fifo: %s", strerror(errno)); break; }
    if (!same_process(r.pid, r.start)) {
      /* It may have opened the fifo, written and run to its end since the read above: then its byte is there. */
      if (read(fd, &b, 1) == 1) break;
      rc = fail("container init exited before start");
      break;
    }
    if (now_ms() > deadline) { rc = fail("timed out waiting for the container init to start"); break; }
    sleep_ms(i < 20 ? 0.05 : (10 < 1 + (i >> 3) ? 10 : 1 + (i >> 3)));
  }
  close(fd);
  if (rc == 0 && unlink(fifo) < 0) rc = fail("unlink %s: %s", fifo, strerror(errno));
  unlink(lk);
  return rc;
}

static const struct { const char *name; int num; } SIGNALS[] = {
  {"HUP", 1}, {"INT", 2}, {"QUIT", 3}, {"ILL", 4}, {"TRAP", 5}, {"ABRT", 6}, {"IOT", 6}, {"BUS", 7}, {"FPE", 8},
  {"KILL", 9}, {"USR1", 10}, {"SEGV", 11}, {"USR2", 12}, {"PIPE", 13}, {"ALRM", 14}, {"TERM", 15}, {"STKFLT", 16},
  {"CHLD", 17}, {"CONT", 18}, {"STOP", 19}, {"TSTP", 20}, {"TTIN", 21}, {"TTOU", 22}, {"URG", 23}, {"XCPU", 24},
  {"XFSZ", 25}, {"VTALRM", 26}, {"PROF", 27}, {"WINCH", 28}, {"IO", 29}, {"POLL", 29}, {"PWR", 30}, {"SYS", 31},
};

/* parseSignal() for plain names and numbers; -1 for anything else (RTMIN+n, odd input). */
static int parse_signal(const char *s) {
  char up[16];
  size_t n = strlen(s);
  if (n == 0 || n >= sizeof up) return -1;
  if (strspn(s, "0123456789") == n) {
    int v = atoi(s);
    return n <= 3 && v >= 1 && v <= 64 ? v : -1;
  }
  for (size_t i = 0; i <= n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x80) return -1;
    up[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
  }
  const char *name = strncmp(up, "SIG", 3) ? up : up + 3;
  for (size_t i = 0; i < sizeof SIGNALS / sizeof *SIGNALS; i++) if (!strcmp(name, SIGNALS[i].name)) return SIGNALS[i].num;
  return -1;
}

static int verb_kill(const struct args *a) {
  struct rec r = {0};
  if (a->npos < 1 || a->npos > 2) return FALLBACK;
  int sig = parse_signal(a->npos == 2 ? a->pos[1] : "SIGTERM");
  if (sig < 0 || read_rec(&r, a->root, a->pos[0]) < 0) return FALLBACK;
  int status = live_status(&r);
  if (a->all) {
    if (r.cg_mode != CG_V1 && r.cg_mode != CG_HYBRID) return FALLBACK;
    if (!primary(&r) || !on_cgroupfs(r.cg_mp[0])) return FALLBACK;
    return kill_all_v1(&r, sig);
  }
  if (status == ST_STOPPED || kill(r.pid, sig) < 0) return FALLBACK;
  return 0;
}

static int verb_delete(const struct args *a) {
  struct rec r = {0};
  char lk[PATH_MAX];
  if (a->npos != 1 || read_rec(&r, a->root, a->pos[0]) < 0 || has_hooks(&r, "poststop") != 0) return FALLBACK;
  /* Fake trees are the Node verb's; so are v2 kills (a stopped v2 container only needs rmdirs). */
  if (r.cg_mode != CG_NONE && !on_cgroupfs(r.cg_mp[0])) return FALLBACK;
  if ((r.cg_mode == CG_V1 || r.cg_mode == CG_HYBRID) && !primary(&r)) return FALLBACK;
  if (lock(&r, lk) < 0) return FALLBACK;
  int status = live_status(&r);
  if (status == ST_PAUSED || ((status == ST_RUNNING) && !a->force)) { unlink(lk); return FALLBACK; }
  if (status != ST_STOPPED) {
    if (r.cg_mode == CG_NONE || r.cg_mode == CG_V2) { unlink(lk); return FALLBACK; }
    int rc = kill_all_v1(&r, SIGKILL);
    if (rc) { unlink(lk); return rc; }
    kill(r.pid, SIGKILL);
    double deadline = now_ms() + 10000;
    for (int i = 0; same_process(r.pid, r.start) && now_ms() < deadline; i++) sleep_ms(i < 20 ? 0.1 : 5);
  }
  if (r.cg_mode != CG_NONE) {
    /* removeCgroup(): a killed init not yet reaped keeps the cgroup busy. */
    static struct pidset s;
    const char *pd = r.cg_mode == CG_V2 ? r.cg_dir[0] : primary(&r);
    for (int i = 0; i < 100; i++) {
      s.n = 0;
      if (subtree(pd, 0, collect, &s) < 0 || s.n == 0) break;
      sleep_ms(50 < 1 + i * 2 ? 50 : 1 + i * 2);
    }
    for (int i = 0; i < r.cg_n; i++) {
      int seen = 0;
      for (int j = 0; j < i; j++) seen |= !strcmp(r.cg_dir[j], r.cg_dir[i]);
      /* A directory that stays busy: the Node verb retries longer and words the error. */
      if (!seen && subtree(r.cg_dir[i], 0, rmdir_retry, NULL) < 0) { unlink(lk); return FALLBACK; }
    }
  }
  if (nftw(r.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) return fail("remove %s: %s", r.dir, strerror(errno));
  return 0;
}

/* Go-style flags (parseGoFlags): "-x"/"--x", "=v" or the next word; stops at the first positional. */
static int flag(char **argv, int argc, int *i, const char **name, size_t *nlen, const char **val) {
  const char *arg = argv[*i];
  const char *body = arg + (arg[1] == '-' ? 2 : 1);
  const char *eq = strchr(body, '=');
  *name = body;
  *nlen = eq ? (size_t)(eq - body) : strlen(body);
  *val = eq ? eq + 1 : NULL;
  return 0;
}

static int is(const char *name, size_t n, const char *want) { return strlen(want) == n && !strncmp(name, want, n); }

int parse_globals(int argc, char **argv, struct globals *g) {
  *g = (struct globals){.root = "/run/dray-runc"};
  int i = 1;
  for (; i < argc; i++) {
    const char *name, *val;
    size_t n;
    if (argv[i][0] != '-' || !argv[i][1]) break;
    if (!strcmp(argv[i], "--")) return -1;
    flag(argv, argc, &i, &name, &n, &val);
    const char **dst = is(name, n, "root") ? &g->root : is(name, n, "log") ? &g->log : is(name, n, "log-format") ? &g->logfmt : NULL;
    if (!dst && !is(name, n, "rootless")) return -1;
    if (!val) {
      if (i + 1 >= argc) return -1;
      val = argv[++i];
    }
    if (dst) *dst = val;
  }
  if (!*g->root || strstr(g->root, "..") || strstr(g->root, "//") || strstr(g->root, "/./")) return -1;
  if (g->logfmt && strcmp(g->logfmt, "text") && strcmp(g->logfmt, "json")) return -1;
  if (i >= argc) return -1;
  g->verb = i;
  return 0;
}

int fast_path(int argc, char **argv) {
  const char *off = getenv("DRAY_RUNC_NO_FAST"), *src = getenv("DRAY_FROM_SOURCE");
  if ((off && *off && strcmp(off, "0")) || (src && *src && strcmp(src, "0"))) return FALLBACK;
  struct globals g;
  if (parse_globals(argc, argv, &g) < 0) return FALLBACK;
  struct args a = {.root = g.root};
  g_log = g.log;
  g_log_json = g.logfmt && !strcmp(g.logfmt, "json");
  int i = g.verb;
  const char *verb = argv[i++];
  int (*fn)(const struct args *) = !strcmp(verb, "start") ? verb_start : !strcmp(verb, "state") ? verb_state
                                   : !strcmp(verb, "kill") ? verb_kill : !strcmp(verb, "delete") ? verb_delete : NULL;
  if (!fn) return FALLBACK;
  for (; i < argc; i++) {
    const char *name, *val;
    size_t n;
    if (argv[i][0] != '-' || !argv[i][1]) break;
    if (!strcmp(argv[i], "--")) return FALLBACK;
    flag(argv, argc, &i, &name, &n, &val);
    int *dst = fn == verb_kill && (is(name, n, "all") || is(name, n, "a")) ? &a.all
             : fn == verb_delete && (is(name, n, "force") || is(name, n, "f")) ? &a.force : NULL;
    if (!dst) return FALLBACK;
    if (!val || !strcmp(val, "true")) *dst = 1;
    else if (!strcmp(val, "false")) *dst = 0;
    else return FALLBACK;
  }
  for (; i < argc; i++) {
    if (a.npos == 3) return FALLBACK;
    a.pos[a.npos++] = argv[i];
  }
  int rc = fn(&a);
  free(g_buf);
  g_buf = NULL;
  return rc;
}
