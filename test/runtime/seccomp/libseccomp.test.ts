// Differential test against the real peer: libseccomp's program and ours,
// both run through the BPF interpreter, must agree on every syscall of
// every architecture and on argument boundaries (runc's ENOSYS stub and the
// bad-arch action aside, which libseccomp does not do the same way).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { type SeccompData, compileSeccomp, describeAction, dockerDefaultProfile, dockerProfileToOci, DOCKER_DEFAULT_CAPS, runFilter } from '../../../src/runtime/seccomp/index.ts';
import { AUDIT_ARCH, RET, SYSCALLS, type Arch } from '../../../src/runtime/seccomp/constants.ts';
import type { LinuxSeccomp, LinuxSyscall } from '../../../src/runtime/seccomp/validate.ts';
import { libseccompBuild, libseccompHeader } from './libseccomp.ts';
import { expected } from './model.ts';

const ARG_PROBES = [0n, 1n, 8n, 37n, 38n, 39n, 40n, 41n, 0x20000n, 0x20008n, 0x10000000n, 0x7e020000n, 0x11n, 0xffffffffn, 0x100000000n, 0x1ffffffffn, (1n << 64n) - 1n];

function agree(spec: LinuxSeccomp, native: Arch): number {
  assert.ok(existsSync(libseccompHeader), 'libseccomp-dev is installed by scripts/setup.sh');
  const peer = libseccompBuild(spec, native);
  const ours = compileSeccomp(spec, { arch: native, badArchAction: RET.KILL_THREAD, enosysAboveKnown: false });
  const names = new Set(validateNames(spec));
  let n = 0;
  for (const arch of ours.arches) {
    const known = peer.numbers.get(arch) ?? new Map<string, number>();
    for (const [name, nr] of Object.entries(SYSCALLS[arch])) {
      // a profile name libseccomp does not know (newer than 2.5.4) is ignored there, applied here
      if (names.has(name) && known.get(name) !== nr) continue;
      for (const a of ARG_PROBES) {
        const d = { nr, arch: AUDIT_ARCH[arch], args: [a, a, a, a, a, a] };
        assert.equal(describeAction(runFilter(ours.program, d)), describeAction(runFilter(peer.program, d)), `${arch} ${name}(${a})`);
        n++;
      }
    }
  }
  for (const arch of [AUDIT_ARCH.aarch64, 0x40000028, AUDIT_ARCH.i386]) {
    const d = { nr: 3, arch };
    assert.equal(describeAction(runFilter(ours.program, d)), describeAction(runFilter(peer.program, d)));
  }
  return n;
}

function validateNames(spec: LinuxSeccomp): string[] {
  return (spec.syscalls ?? []).flatMap((s) => s.names);
}

test("libseccomp agrees with us on Docker's default profile (x86_64 with x86 and x32)", () => {
  const spec = dockerProfileToOci(dockerDefaultProfile(), { arch: 'x86_64', capabilities: DOCKER_DEFAULT_CAPS, kernelRelease: '6.1.0' });
  assert.ok(agree(spec, 'x86_64') > 10_000);
});

test("libseccomp agrees with us on Docker's default profile for aarch64", () => {
  const spec = dockerProfileToOci(dockerDefaultProfile(), { arch: 'aarch64', capabilities: DOCKER_DEFAULT_CAPS, kernelRelease: '6.1.0' });
  assert.ok(agree(spec, 'aarch64') > 4000);
});

test("libseccomp agrees with us on Docker's default profile with CAP_SYS_ADMIN", () => {
  const spec = dockerProfileToOci(dockerDefaultProfile(), {
    arch: 'x86_64',
    capabilities: [...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE'],
    kernelRelease: '6.1.0',
  });
  assert.ok(agree(spec, 'x86_64') > 10_000);
});

test('libseccomp agrees with us on every operator, 64-bit values and an allow-default', () => {
  const ops = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT'];
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86'],
    syscalls: [
      ...ops.map((op, i) => ({ names: [['read', 'write', 'close', 'dup', 'kill', 'ioctl'][i]!], action: 'SCMP_ACT_ERRNO', errnoRet: 10 + i, args: [{ index: i, value: 0x100000008n, op }] })),
      { names: ['fcntl'], action: 'SCMP_ACT_TRAP', args: [{ index: 1, value: 0xff000000ffn, valueTwo: 0x11n, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['getpid'], action: 'SCMP_ACT_LOG' },
    ],
  };
  assert.ok(agree(spec, 'x86_64') > 1000);
});

// i386 multiplexes these through socketcall/ipc; libseccomp rewrites rules
// on them into rules on the multiplexer and refuses some combinations
// (EEXIST), which we do not imitate (docs/runtime-seccomp.md, limits).
const MULTIPLEXED = new Set(
  'socket bind connect listen accept accept4 getsockname getpeername socketpair send recv sendto recvfrom shutdown setsockopt getsockopt sendmsg recvmsg recvmmsg sendmmsg semop semget semctl semtimedop msgsnd msgrcv msgget msgctl shmat shmdt shmget shmctl'.split(' '),
);

test('random policies: libseccomp, the model and we give the same verdicts', () => {
  assert.ok(existsSync(libseccompHeader), 'libseccomp-dev is installed by scripts/setup.sh');
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed / 0x80000000);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const ops = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
  const M = (1n << 64n) - 1n;
  const vals = [0n, 1n, 2n, 7n, 0xffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x100000001n, 0x1ffffffffn, 0xffffffff00000000n, M];
  const acts: [string, number?][] = [['SCMP_ACT_ALLOW'], ['SCMP_ACT_ERRNO', 5], ['SCMP_ACT_ERRNO', 7], ['SCMP_ACT_TRAP'], ['SCMP_ACT_LOG'], ['SCMP_ACT_KILL_PROCESS'], ['SCMP_ACT_TRACE', 3]];
  const names = Object.keys(SYSCALLS.x86_64).filter((n) => !MULTIPLEXED.has(n));
  let compared = 0;
  for (let round = 0; round < 5; round++) {
    const [da, de] = pick(acts);
    const spec: LinuxSeccomp = { defaultAction: da, architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: [] };
    if (de !== undefined) spec.defaultErrnoRet = de;
    const used = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const n = pick(names);
      if (used.has(n)) continue;
      used.add(n);
      // a rule, maybe with conditions on distinct arguments, maybe followed by an unconditional one
      for (let r = 0; r < 1 + Math.floor(rnd() * 2); r++) {
        const [a, e] = pick(acts);
        const s: LinuxSyscall = { names: [n], action: a };
        if (e !== undefined) s.errnoRet = e;
        if (r === 0 && rnd() < 0.7) {
          const idx = [0, 1, 2, 3, 4, 5].sort(() => rnd() - 0.5).slice(0, 1 + Math.floor(rnd() * 3));
          s.args = idx.map((index) => ({ index, op: pick(ops), value: pick(vals), valueTwo: pick(vals) }));
        }
        spec.syscalls!.push(s);
      }
    }
    const peer = libseccompBuild(spec, 'x86_64');
    const ours = compileSeccomp(spec, { arch: 'x86_64', badArchAction: RET.KILL_THREAD, enosysAboveKnown: false });
    for (const arch of ['x86_64', 'i386', 'x32'] as const) {
      for (const n of used) {
        const nr = SYSCALLS[arch][n];
        if (nr === undefined || peer.numbers.get(arch)?.get(n) !== nr) continue;
        for (let k = 0; k < 30; k++) {
          const args: bigint[] = [0, 1, 2, 3, 4, 5].map(() => (pick(vals) + BigInt(Math.floor(rnd() * 3)) - 1n) & M);
          const d: SeccompData = { nr, arch: AUDIT_ARCH[arch], args };
          const want = describeAction(expected(spec, arch, nr, args));
          assert.equal(describeAction(runFilter(ours.program, d)), want, `${arch} ${n}(${args})`);
          assert.equal(describeAction(runFilter(peer.program, d)), want, `libseccomp: ${arch} ${n}(${args})`);
          compared++;
        }
      }
    }
  }
  assert.ok(compared > 5000, `${compared} compared`);
});
