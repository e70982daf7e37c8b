// Differential test against the real peer: libseccomp's program and ours,
// both run through the BPF interpreter, must agree on every syscall of
// every architecture and on argument boundaries (runc's ENOSYS stub and the
// bad-arch action aside, which libseccomp does not do the same way).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { compileSeccomp, describeAction, dockerDefaultProfile, dockerProfileToOci, DOCKER_DEFAULT_CAPS, runFilter } from '../../../src/runtime/seccomp/index.ts';
import { AUDIT_ARCH, RET, SYSCALLS, type Arch } from '../../../src/runtime/seccomp/constants.ts';
import type { LinuxSeccomp } from '../../../src/runtime/seccomp/validate.ts';
import { libseccompBuild, libseccompHeader } from './libseccomp.ts';

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
