// The real peer for the compiler: builds the same policy with libseccomp
// (as runc does: one rule per syscall name, rules equal to the default
// skipped, binary-tree optimisation past 32 of those) in a small generated C
// program, and exports libseccomp's BPF. Used by libseccomp.test.ts and
// bench/runtime/seccomp-compile.ts. Needs libseccomp-dev (scripts/setup.sh).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateSeccomp } from '../../../src/runtime/seccomp/validate.ts';
import type { Arch } from '../../../src/runtime/seccomp/constants.ts';

const ARCH_TOKEN: Record<Arch, string> = {
  x86_64: 'SCMP_ARCH_X86_64',
  i386: 'SCMP_ARCH_X86',
  x32: 'SCMP_ARCH_X32',
  aarch64: 'SCMP_ARCH_AARCH64',
};
const OCI_TO_ARCH: Record<string, Arch> = {
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X86: 'i386',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_AARCH64: 'aarch64',
};

export const libseccompHeader = '/usr/include/seccomp.h';

export interface LibseccompResult {
  program: Buffer;
  /** Nanoseconds per build (init, rules, export), averaged over the iterations. */
  nsPerBuild: number;
  /** arch -> syscall name -> number, as libseccomp resolves the profile's names (absent: unknown). */
  numbers: Map<Arch, Map<string, number>>;
}

function cSource(spec: unknown, native: Arch): string {
  const p = validateSeccomp(spec);
  const arches = [native, ...p.architectures.map((a) => OCI_TO_ARCH[a]).filter((a): a is Arch => !!a && a !== native)];
  const names = [...new Set(p.rules.flatMap((r) => r.names))];
  const hex = (v: bigint) => `0x${v.toString(16)}ULL`;
  const rules: string[] = [];
  for (const r of p.rules) {
    if (r.action === p.defaultAction) continue;
    const conds = r.args.map((c) => `{${c.index}, ${c.op}, ${hex(c.value)}, ${hex(c.valueTwo)}}`);
    for (const n of r.names) {
      rules.push(`  rule(ctx, 0x${r.action.toString(16)}U, "${n}", ${conds.length}, (struct scmp_arg_cmp[]){${conds.join(', ') || '{0}'}});`);
    }
  }
  return `#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
static void rule(scmp_filter_ctx ctx, uint32_t act, const char *name, unsigned n, const struct scmp_arg_cmp *a) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return; /* runc: unknown syscalls are ignored */
  int rc = seccomp_rule_add_array(ctx, act, nr, n, a);
  if (rc < 0) { fprintf(stderr, "rule %s: %d\\n", name, rc); exit(2); }
}
static scmp_filter_ctx build(void) {
  scmp_filter_ctx ctx = seccomp_init(0x${p.defaultAction.toString(16)}U);
  if (!ctx) exit(2);
  /* the filter's native arch need not be this machine's */
  if (seccomp_arch_exist(ctx, ${ARCH_TOKEN[native]}) != 0) {
    if (seccomp_arch_add(ctx, ${ARCH_TOKEN[native]}) < 0) exit(3);
    if (seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE) < 0) exit(3);
  }
${arches.slice(1).map((a) => `  if (seccomp_arch_exist(ctx, ${ARCH_TOKEN[a]}) != 0 && seccomp_arch_add(ctx, ${ARCH_TOKEN[a]}) < 0) exit(3);`).join('\n')}
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  ${rules.length > 32 ? 'if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0) exit(6);' : ''}
${rules.join('\n')}
  return ctx;
}
int main(int argc, char **argv) {
  int iters = atoi(argv[1]);
  int null = open("/dev/null", O_WRONLY);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < iters; i++) {
    scmp_filter_ctx c = build();
    if (seccomp_export_bpf(c, null) < 0) exit(4);
    seccomp_release(c);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("ns %.0f\\n", ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / iters);
  int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
  scmp_filter_ctx c = build();
  if (out < 0 || seccomp_export_bpf(c, out) < 0) exit(5);
  static const char *names[] = {${names.map((n) => `"${n}"`).join(', ')}};
  static const struct { const char *name; uint32_t token; } arches[] = {${arches.map((a) => `{"${a}", ${ARCH_TOKEN[a]}}`).join(', ')}};
  for (unsigned a = 0; a < sizeof arches / sizeof arches[0]; a++)
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
      int nr = seccomp_syscall_resolve_name_arch(arches[a].token, names[i]);
      if (nr >= 0) printf("nr %s %s %d\\n", arches[a].name, names[i], nr);
    }
  return 0;
}
`;
}

/** Builds `spec` with libseccomp for `native` (plus its listed arches). */
export function libseccompBuild(spec: unknown, native: Arch, iterations = 1): LibseccompResult {
  const dir = mkdtempSync(join(tmpdir(), 'dray-libseccomp-'));
  try {
    writeFileSync(join(dir, 'peer.c'), cSource(spec, native));
    execFileSync('gcc', ['-O2', '-w', '-o', join(dir, 'peer'), join(dir, 'peer.c'), '-lseccomp']);
    const out = execFileSync(join(dir, 'peer'), [String(iterations), join(dir, 'filter.bpf')], { encoding: 'utf8' });
    const numbers = new Map<Arch, Map<string, number>>();
    let ns = 0;
    for (const line of out.split('\n')) {
      const f = line.split(' ');
      if (f[0] === 'ns') ns = Number(f[1]);
      if (f[0] === 'nr') {
        const a = f[1] as Arch;
        if (!numbers.has(a)) numbers.set(a, new Map());
        numbers.get(a)!.set(f[2]!, Number(f[3]));
      }
    }
    return { program: readFileSync(join(dir, 'filter.bpf')), nsPerBuild: ns, numbers };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
