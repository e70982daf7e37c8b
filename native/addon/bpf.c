/* bpf(2) commands for the cgroup v2 device filter: load a program, attach,
 * detach, list what is attached, get a program fd by id. The program itself
 * is assembled in TypeScript (src/runtime/cgroups/devices-bpf.ts). */
#include "addon.h"
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_QUERY 64
#define LOG_SIZE (64 * 1024)

static long sys_bpf(int cmd, union bpf_attr *attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  long long x;
  if (dray_get_int64(env, v, &x)) return -1;
  if (x < 0 || x > UINT32_MAX) { napi_throw_range_error(env, NULL, "value out of range"); return -1; }
  *out = (uint32_t)x;
  return 0;
}

static napi_value fd_value(napi_env env, long fd) {
  napi_value v;
  napi_create_int64(env, fd, &v);
  return v;
}

/* bpfProgLoad(progType, insns: Buffer, license) -> fd; the verifier log goes into the error. */
static napi_value js_prog_load(napi_env env, napi_callback_info info) {
  napi_value a[3];
  uint32_t type;
  void *insns; size_t len;
  if (dray_get_args(env, info, 3, a) || get_u32(env, a[0], &type)) return NULL;
  if (napi_get_buffer_info(env, a[1], &insns, &len) != napi_ok || len == 0 || len % 8 || len > 8 * 4096) {
    napi_throw_type_error(env, NULL, "insns must be a Buffer of 1 to 4096 8-byte instructions");
    return NULL;
  }
  char *license = dray_get_string(env, a[2]);
  if (!license) return NULL;
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = type;
  attr.insn_cnt = (uint32_t)(len / 8);
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.license = (uint64_t)(uintptr_t)license;
  long fd = sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0 && (errno == EACCES || errno == EINVAL)) {
    /* The verifier refused it: load again with a log to say why. */
    char *log = calloc(1, LOG_SIZE);
    if (log) {
      attr.log_level = 1;
      attr.log_size = LOG_SIZE;
      attr.log_buf = (uint64_t)(uintptr_t)log;
      fd = sys_bpf(BPF_PROG_LOAD, &attr);
      if (fd < 0) {
        int e = errno;
        char msg[600];
        snprintf(msg, sizeof msg, "BPF_PROG_LOAD verifier: %.500s", log);
        free(log);
        free(license);
        return dray_throw_errno(env, e, msg, NULL);
      }
      free(log);
    }
  }
  int e = errno;
  free(license);
  if (fd < 0) return dray_throw_errno(env, e, "BPF_PROG_LOAD", NULL);
  return fd_value(env, fd);
}

/* BPF_PROG_ATTACH (target, prog, type, flags) and BPF_PROG_DETACH (target, prog, type). */
static napi_value attach_cmd(napi_env env, napi_callback_info info, int cmd) {
  size_t n = cmd == BPF_PROG_ATTACH ? 4 : 3;
  napi_value a[4];
  uint32_t v[4] = { 0, 0, 0, 0 };
  if (dray_get_args(env, info, n, a)) return NULL;
  for (size_t i = 0; i < n; i++) if (get_u32(env, a[i], &v[i])) return NULL;
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = v[0];
  attr.attach_bpf_fd = v[1];
  attr.attach_type = v[2];
  attr.attach_flags = v[3];
  if (sys_bpf(cmd, &attr) < 0) return dray_throw_errno(env, errno, cmd == BPF_PROG_ATTACH ? "BPF_PROG_ATTACH" : "BPF_PROG_DETACH", NULL);
  return dray_undefined(env);
}

static napi_value js_prog_attach(napi_env env, napi_callback_info info) { return attach_cmd(env, info, BPF_PROG_ATTACH); }
static napi_value js_prog_detach(napi_env env, napi_callback_info info) { return attach_cmd(env, info, BPF_PROG_DETACH); }

/* bpfProgQuery(targetFd, attachType) -> ids of programs attached directly there */
static napi_value js_prog_query(napi_env env, napi_callback_info info) {
  napi_value a[2];
  uint32_t target, type;
  if (dray_get_args(env, info, 2, a) || get_u32(env, a[0], &target) || get_u32(env, a[1], &type)) return NULL;
  uint32_t ids[MAX_QUERY];
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.query.target_fd = target;
  attr.query.attach_type = type;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = MAX_QUERY;
  if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) return dray_throw_errno(env, errno, "BPF_PROG_QUERY", NULL);
  napi_value arr;
  napi_create_array(env, &arr);
  for (uint32_t i = 0; i < attr.query.prog_cnt && i < MAX_QUERY; i++) {
    napi_value v;
    napi_create_uint32(env, ids[i], &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}

/* bpfProgGetFdById(id) -> fd */
static napi_value js_prog_get_fd_by_id(napi_env env, napi_callback_info info) {
  napi_value a[1];
  uint32_t id;
  if (dray_get_args(env, info, 1, a) || get_u32(env, a[0], &id)) return NULL;
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_id = id;
  long fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
  if (fd < 0) return dray_throw_errno(env, errno, "BPF_PROG_GET_FD_BY_ID", NULL);
  return fd_value(env, fd);
}

void dray_register_bpf(napi_env env, napi_value exports) {
  dray_export(env, exports, "bpfProgLoad", js_prog_load);
  dray_export(env, exports, "bpfProgAttach", js_prog_attach);
  dray_export(env, exports, "bpfProgDetach", js_prog_detach);
  dray_export(env, exports, "bpfProgQuery", js_prog_query);
  dray_export(env, exports, "bpfProgGetFdById", js_prog_get_fd_by_id);
}
