import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSeccomp, describeAction, dockerDefaultProfile, dockerProfileToOci, DOCKER_DEFAULT_CAPS, runFilter } from '../../../src/runtime/seccomp/index.ts';
import { AUDIT_ARCH, SYSCALLS, type Arch } from '../../../src/runtime/seccomp/constants.ts';
import { checkProgram, expected } from './model.ts';

const profile = dockerDefaultProfile();
const oci = (arch: Arch, caps = DOCKER_DEFAULT_CAPS) => dockerProfileToOci(profile, { arch, capabilities: caps, kernelRelease: '6.1.0' });

test('conversion: the native arch with its sub-arches, rules filtered by arch and capability', () => {
  const x = oci('x86_64');
  assert.deepEqual(x.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(oci('aarch64').architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  const names = (s: typeof x) => new Set(s.syscalls!.flatMap((c) => c.names));
  assert.ok(names(x).has('arch_prctl'));
  assert.ok(!names(oci('aarch64')).has('arch_prctl'));
  assert.ok(!names(x).has('mount')); // needs CAP_SYS_ADMIN
  assert.ok(names(oci('x86_64', [...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN'])).has('mount'));
  assert.ok(names(x).has('chroot')); // CAP_SYS_CHROOT is a default capability
  // clone3 gets ENOSYS without CAP_SYS_ADMIN so that libc falls back to clone
  assert.deepEqual(x.syscalls!.find((c) => c.names.includes('clone3')), { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
  // an old kernel loses the minKernel 4.8 rule for ptrace
  const old = dockerProfileToOci(profile, { arch: 'x86_64', capabilities: DOCKER_DEFAULT_CAPS, kernelRelease: '4.4.0' });
  assert.ok(!names(old).has('ptrace'));
});

for (const native of ['x86_64', 'aarch64'] as const) {
  test(`Docker's default profile on ${native}: every syscall of every compiled arch gives its action`, () => {
    const spec = oci(native);
    const c = compileSeccomp(spec, { arch: native });
    checkProgram(c.program);
    let n = 0;
    for (const arch of c.arches) {
      for (const [name, nr] of Object.entries(SYSCALLS[arch])) {
        const got = runFilter(c.program, { nr, arch: AUDIT_ARCH[arch] });
        assert.equal(describeAction(got), describeAction(expected(spec, arch, nr)), `${arch} ${name}`);
        n++;
      }
    }
    assert.ok(n > 300);
  });
}

test("Docker's default profile on x86_64: known verdicts and argument conditions", () => {
  const spec = oci('x86_64');
  const c = compileSeccomp(spec, { arch: 'x86_64' });
  assert.deepEqual(c.arches, ['x86_64', 'i386', 'x32']);
  const X = SYSCALLS.x86_64;
  const v = (name: string, args: bigint[] = [], arch: Arch = 'x86_64') =>
    describeAction(runFilter(c.program, { nr: SYSCALLS[arch][name]!, arch: AUDIT_ARCH[arch], args }));
  for (const s of ['read', 'write', 'openat', 'execve', 'mkdir', 'chmod', 'exit_group', 'futex', 'chroot', 'ptrace']) {
    assert.equal(v(s), 'ALLOW', s);
  }
  for (const s of ['mount', 'umount2', 'unshare', 'setns', 'reboot', 'init_module', 'kexec_load', 'bpf', 'pivot_root', 'open_by_handle_at']) {
    assert.equal(v(s), 'ERRNO(1)', s);
  }
  assert.equal(v('clone3'), 'ERRNO(38)');
  // personality: only 0, 8, 0x20000, 0x20008, 0xffffffff
  for (const [a, w] of [[0n, 'ALLOW'], [8n, 'ALLOW'], [0x20000n, 'ALLOW'], [0x20008n, 'ALLOW'], [0xffffffffn, 'ALLOW'], [1n, 'ERRNO(1)'], [0x400000n, 'ERRNO(1)'], [0x1ffffffffn, 'ERRNO(1)']] as const) {
    assert.equal(v('personality', [a]), w, `personality ${a}`);
  }
  // socket: every family but 38 and 40 (AF_VSOCK)
  for (const [f, w] of [[1n, 'ALLOW'], [2n, 'ALLOW'], [37n, 'ALLOW'], [38n, 'ERRNO(1)'], [39n, 'ALLOW'], [40n, 'ERRNO(1)'], [41n, 'ALLOW']] as const) {
    assert.equal(v('socket', [f]), w, `socket ${f}`);
  }
  // clone: no namespace flags without CAP_SYS_ADMIN
  assert.equal(v('clone', [0x01200011n]), 'ALLOW'); // fork-like flags
  for (const ns of [0x00020000n, 0x02000000n, 0x04000000n, 0x08000000n, 0x10000000n, 0x20000000n, 0x40000000n]) {
    assert.equal(v('clone', [ns | 0x11n]), 'ERRNO(1)', `clone ${ns}`);
  }
  // i386 and x32 have their own numbers; aarch64 is foreign here
  assert.equal(v('socketcall', [], 'i386'), 'ALLOW');
  assert.equal(v('mount', [], 'i386'), 'ERRNO(1)');
  assert.equal(v('read', [], 'x32'), 'ALLOW');
  assert.equal(describeAction(runFilter(c.program, { nr: 56, arch: AUDIT_ARCH.aarch64 })), 'KILL_PROCESS');
  // unknown numbers: holes get the default, numbers past the table ENOSYS
  assert.equal(describeAction(runFilter(c.program, { nr: 1000, arch: AUDIT_ARCH.x86_64 })), 'ERRNO(38)');
  assert.ok(X.read !== undefined);
});

test("Docker's default profile with CAP_SYS_ADMIN: namespaces and mount allowed", () => {
  const c = compileSeccomp(oci('x86_64', [...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN']), { arch: 'x86_64' });
  const v = (name: string, args: bigint[] = []) =>
    describeAction(runFilter(c.program, { nr: SYSCALLS.x86_64[name]!, arch: AUDIT_ARCH.x86_64, args }));
  assert.equal(v('mount'), 'ALLOW');
  assert.equal(v('unshare'), 'ALLOW');
  assert.equal(v('clone', [0x20000000n]), 'ALLOW');
  assert.equal(v('clone3'), 'ALLOW');
});
