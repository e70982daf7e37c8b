import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSeccomp, describeAction, runFilter } from '../../../src/runtime/seccomp/index.ts';
import { AUDIT_ARCH, FILTER_FLAG, RET, SYSCALLS, type Arch } from '../../../src/runtime/seccomp/constants.ts';
import type { LinuxSeccomp } from '../../../src/runtime/seccomp/validate.ts';
import { decode, OP } from '../../../src/runtime/seccomp/bpf.ts';
import { checkProgram, expected, x32 } from './model.ts';

const X = SYSCALLS.x86_64;
const nr = (name: string, arch: Arch = 'x86_64') => SYSCALLS[arch][name]!;

function run(spec: LinuxSeccomp, name: string, args: (bigint | number)[] = [], arch: Arch = 'x86_64', native: Arch = 'x86_64') {
  const c = compileSeccomp(spec, { arch: native });
  checkProgram(c.program);
  return describeAction(runFilter(c.program, { nr: nr(name, arch), arch: AUDIT_ARCH[arch], args: args.map(BigInt) }));
}

test('every action encodes as the kernel expects', () => {
  const cases: [string, number | undefined, string][] = [
    ['SCMP_ACT_KILL', undefined, 'KILL_THREAD'],
    ['SCMP_ACT_KILL_THREAD', undefined, 'KILL_THREAD'],
    ['SCMP_ACT_KILL_PROCESS', undefined, 'KILL_PROCESS'],
    ['SCMP_ACT_TRAP', undefined, 'TRAP'],
    ['SCMP_ACT_ERRNO', undefined, 'ERRNO(1)'],
    ['SCMP_ACT_ERRNO', 13, 'ERRNO(13)'],
    ['SCMP_ACT_TRACE', undefined, 'TRACE(1)'],
    ['SCMP_ACT_TRACE', 7, 'TRACE(7)'],
    ['SCMP_ACT_ALLOW', undefined, 'ALLOW'],
    ['SCMP_ACT_LOG', undefined, 'LOG'],
  ];
  for (const [action, errnoRet, want] of cases) {
    const spec: LinuxSeccomp = { defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: [{ names: ['getpid'], action }] };
    if (errnoRet !== undefined) spec.syscalls![0]!.errnoRet = errnoRet;
    const got = action === 'SCMP_ACT_KILL_PROCESS' ? 'KILL_PROCESS' : run(spec, 'getpid');
    assert.equal(got, want, action);
  }
  const n = compileSeccomp(
    { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] },
    { arch: 'x86_64' },
  );
  assert.equal(describeAction(runFilter(n.program, { nr: X.mkdir!, arch: AUDIT_ARCH.x86_64 })), 'NOTIFY');
  assert.equal(n.notify, true);
  assert.equal(n.flags & FILTER_FLAG.NEW_LISTENER, FILTER_FLAG.NEW_LISTENER);
  assert.equal(n.listenerPath, '/run/agent.sock');
});

test('the default action and its errno (EPERM unless defaultErrnoRet)', () => {
  assert.equal(run({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['write'], action: 'SCMP_ACT_ALLOW' }] }, 'read'), 'ERRNO(1)');
  assert.equal(
    run({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 95, syscalls: [{ names: ['write'], action: 'SCMP_ACT_ALLOW' }] }, 'read'),
    'ERRNO(95)',
  );
  assert.equal(run({ defaultAction: 'SCMP_ACT_ALLOW' }, 'write'), 'ALLOW');
  assert.equal(run({ defaultAction: 'SCMP_ACT_LOG', syscalls: [] }, 'mount'), 'LOG');
});

test('syscalls above the highest one named get ENOSYS when the default denies', () => {
  const spec: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['openat', 'read'], action: 'SCMP_ACT_ALLOW' }] };
  const c = compileSeccomp(spec, { arch: 'x86_64' });
  const at = (n: number) => describeAction(runFilter(c.program, { nr: n, arch: AUDIT_ARCH.x86_64 }));
  assert.equal(at(X.openat!), 'ALLOW');
  assert.equal(at(X.openat! - 1), 'ERRNO(1)');
  assert.equal(at(X.openat! + 1), 'ERRNO(38)');
  assert.equal(at(X.clone3!), 'ERRNO(38)');
  // An allowing default needs no such stub, nor does a disabled one.
  const allow = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }] }, { arch: 'x86_64' });
  assert.equal(describeAction(runFilter(allow.program, { nr: 400, arch: AUDIT_ARCH.x86_64 })), 'ALLOW');
  const off = compileSeccomp(spec, { arch: 'x86_64', enosysAboveKnown: false });
  assert.equal(describeAction(runFilter(off.program, { nr: X.clone3!, arch: AUDIT_ARCH.x86_64 })), 'ERRNO(1)');
});

const VALUES = [0n, 1n, 5n, 0x7fffffffn, 0xffffffffn, 0x100000000n, 0x100000005n, 0xffffffff00000000n, (1n << 64n) - 1n];
function around(v: bigint): bigint[] {
  const m = (1n << 64n) - 1n;
  return [v - 1n, v, v + 1n, v ^ 0x100000000n, v ^ 1n, v + 0x100000000n, v - 0x100000000n].map((x) => x & m);
}

test('each operator on 64-bit values (hi and lo halves) matches bigint arithmetic', () => {
  const ops = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT'];
  let checked = 0;
  for (const op of ops) {
    for (const value of VALUES) {
      for (const index of [0, 3, 5]) {
        const spec: LinuxSeccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index, value, op }] }],
        };
        const c = compileSeccomp(spec, { arch: 'x86_64' });
        checkProgram(c.program);
        for (const v of [...around(value), ...VALUES]) {
          const args = [0n, 0n, 0n, 0n, 0n, 0n];
          args[index] = v;
          const got = runFilter(c.program, { nr: X.ioctl!, arch: AUDIT_ARCH.x86_64, args });
          assert.equal(got, expected(spec, 'x86_64', X.ioctl!, args), `${op} ${value} arg${index}=${v}`);
          checked++;
        }
      }
    }
  }
  assert.ok(checked > 1000);
});

test('SCMP_CMP_MASKED_EQ: (arg & value) == (valueTwo & value) on both halves', () => {
  const cases: [bigint, bigint][] = [
    [0x7e020000n, 0n], // Docker's clone namespace flags
    [0xffn, 0x12n],
    [0xff00000000n, 0x1200000000n],
    [0xffffffff00000000n, 0n],
    [0n, 0n], // always true
    [0n, 1n], // also always true: valueTwo is masked too (libseccomp)
    [0xf0n, 0x1fn], // (arg & 0xf0) == 0x10
  ];
  for (const [value, valueTwo] of cases) {
    const spec: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, valueTwo, op: 'SCMP_CMP_MASKED_EQ' }] }],
    };
    const c = compileSeccomp(spec, { arch: 'x86_64' });
    for (const a of [0n, 0x12n, 0x112n, 0x1200000000n, 0x1200000012n, 0x10000000n, 0x20000n, 0x11n, 0x0fn, 0x10n, (1n << 64n) - 1n]) {
      const got = runFilter(c.program, { nr: X.clone!, arch: AUDIT_ARCH.x86_64, args: [a] });
      assert.equal(got, expected(spec, 'x86_64', X.clone!, [a]), `mask ${value} want ${valueTwo} arg ${a}`);
    }
  }
  // spelled out, not through the model
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['clone'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0xf0, valueTwo: 0x1f, op: 'SCMP_CMP_MASKED_EQ' }] }],
  };
  const c = compileSeccomp(spec, { arch: 'x86_64' });
  const v = (a: bigint) => describeAction(runFilter(c.program, { nr: X.clone!, arch: AUDIT_ARCH.x86_64, args: [a] }));
  assert.equal(v(0x10n), 'ERRNO(1)');
  assert.equal(v(0x1fn), 'ERRNO(1)');
  assert.equal(v(0x100000010n), 'ERRNO(1)');
  assert.equal(v(0x30n), 'ALLOW');
  assert.equal(v(0x0fn), 'ALLOW');
});

test('conditions of one rule are ANDed (ORed when they name one argument twice, as runc), rules of one syscall are ORed in order', () => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      {
        names: ['socket'],
        action: 'SCMP_ACT_ALLOW',
        args: [
          { index: 0, value: 2, op: 'SCMP_CMP_EQ' },
          { index: 1, value: 1, op: 'SCMP_CMP_EQ' },
        ],
      },
      { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 97, args: [{ index: 0, value: 10, op: 'SCMP_CMP_EQ' }] },
      // overlaps the first rule: the first one wins for (2, 1)
      { names: ['socket'], action: 'SCMP_ACT_LOG', args: [{ index: 0, value: 3, op: 'SCMP_CMP_LT' }] },
      // two conditions on the same argument: runc makes them separate rules (either holds)
      {
        names: ['socket'],
        action: 'SCMP_ACT_TRAP',
        args: [
          { index: 0, value: 16, op: 'SCMP_CMP_GE' },
          { index: 0, value: 20, op: 'SCMP_CMP_LE' },
        ],
      },
    ],
  };
  const want: [bigint[], string][] = [
    [[2n, 1n], 'ALLOW'],
    [[2n, 2n], 'LOG'],
    [[10n, 1n], 'ERRNO(97)'],
    [[1n, 5n], 'LOG'],
    [[15n], 'TRAP'],
    [[16n], 'TRAP'],
    [[20n], 'TRAP'],
    [[21n], 'TRAP'],
    [[0x100000010n], 'TRAP'],
  ];
  const c = compileSeccomp(spec, { arch: 'x86_64' });
  for (const [args, w] of want) {
    assert.equal(describeAction(runFilter(c.program, { nr: X.socket!, arch: AUDIT_ARCH.x86_64, args })), w, String(args));
    assert.equal(describeAction(expected(spec, 'x86_64', X.socket!, args)), w);
  }
});

test('precedence: an unconditional rule beats conditions; rules equal to the default are dropped', () => {
  const base = { defaultAction: 'SCMP_ACT_ERRNO' };
  // conditional first, unconditional later: the unconditional one decides (libseccomp)
  assert.equal(
    run({ ...base, syscalls: [
      { names: ['kill'], action: 'SCMP_ACT_TRAP', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
      { names: ['kill'], action: 'SCMP_ACT_ALLOW' },
    ] }, 'kill', [1, 9]),
    'ALLOW',
  );
  // two unconditional rules: the first is kept
  assert.equal(run({ ...base, syscalls: [
    { names: ['kill'], action: 'SCMP_ACT_LOG' },
    { names: ['kill'], action: 'SCMP_ACT_ALLOW' },
  ] }, 'kill'), 'LOG');
  // a rule with the default's action is dropped (runc), so the next one applies
  assert.equal(run({ ...base, syscalls: [
    { names: ['kill'], action: 'SCMP_ACT_ERRNO' },
    { names: ['kill'], action: 'SCMP_ACT_ALLOW' },
  ] }, 'kill'), 'ALLOW');
  // ...but an errno other than the default's is a different action
  assert.equal(run({ ...base, syscalls: [
    { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 3 },
    { names: ['kill'], action: 'SCMP_ACT_ALLOW' },
  ] }, 'kill'), 'ERRNO(3)');
});

test('architectures: per-arch syscall numbers, foreign arches get KILL_PROCESS', () => {
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    syscalls: [{ names: ['mkdir', 'socketcall', 'arch_prctl'], action: 'SCMP_ACT_ALLOW' }],
  };
  const c = compileSeccomp(spec, { arch: 'x86_64' });
  assert.deepEqual(c.arches, ['x86_64', 'i386']);
  const at = (n: number, arch: number) => describeAction(runFilter(c.program, { nr: n, arch }));
  assert.equal(at(nr('mkdir'), AUDIT_ARCH.x86_64), 'ALLOW');
  assert.equal(at(nr('mkdir', 'i386'), AUDIT_ARCH.i386), 'ALLOW');
  assert.notEqual(nr('mkdir'), nr('mkdir', 'i386'));
  // socketcall exists only on i386, arch_prctl only on x86_64
  assert.equal(at(nr('socketcall', 'i386'), AUDIT_ARCH.i386), 'ALLOW');
  assert.equal(at(nr('arch_prctl'), AUDIT_ARCH.x86_64), 'ALLOW');
  assert.equal(at(nr('mkdir'), AUDIT_ARCH.i386), expected(spec, 'i386', nr('mkdir')) === RET.ALLOW ? 'ALLOW' : describeAction(expected(spec, 'i386', nr('mkdir'))));
  assert.equal(at(nr('mkdir', 'aarch64') ?? 0, AUDIT_ARCH.aarch64), 'KILL_PROCESS');
  assert.equal(at(1, 0x40000028 /* arm */), 'KILL_PROCESS');
  // The native arch is always in the filter, even when not listed (runc adds it too).
  const arm = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'] }, { arch: 'aarch64' });
  assert.deepEqual(arm.arches, ['aarch64', 'x86_64']);
  assert.equal(describeAction(runFilter(arm.program, { nr: 56, arch: AUDIT_ARCH.aarch64 })), 'ALLOW');
  // SCMP_ARCH_ARM has no table here: accepted, warned about, and its syscalls are foreign.
  const a2 = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'] }, { arch: 'aarch64' });
  assert.match(a2.warnings.join('\n'), /SCMP_ARCH_ARM/);
  assert.equal(describeAction(runFilter(a2.program, { nr: 1, arch: 0x40000028 })), 'KILL_PROCESS');
});

test('x32: refused unless listed (nr -1 still gets the default), numbered with the x32 bit when listed', () => {
  const spec: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' }] };
  const c = compileSeccomp(spec, { arch: 'x86_64' });
  const at = (n: number) => describeAction(runFilter(c.program, { nr: n, arch: AUDIT_ARCH.x86_64 }));
  assert.equal(at(X.read!), 'ALLOW');
  assert.equal(at(x32(X.read!)), 'KILL_PROCESS');
  assert.equal(at(0x40000200), 'KILL_PROCESS');
  assert.equal(at(-1), 'ERRNO(1)');
  const both = compileSeccomp({ ...spec, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'] }, { arch: 'x86_64' });
  const at2 = (n: number) => describeAction(runFilter(both.program, { nr: n, arch: AUDIT_ARCH.x86_64 }));
  assert.equal(at2(SYSCALLS.x32.read!), 'ALLOW');
  assert.equal(SYSCALLS.x32.read, 0x40000000);
  assert.equal(at2(SYSCALLS.x32.mkdir!), 'ERRNO(38)'); // above the highest x32 syscall named
  assert.equal(at2(X.write!), 'ALLOW'); // x86_64 itself still there
  // x32's own numbers (512+) for compat syscalls
  const ioctl = compileSeccomp(
    { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X32'], syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ERRNO' }] },
    { arch: 'x86_64' },
  );
  assert.equal(SYSCALLS.x32.ioctl, 0x40000000 + 514);
  assert.equal(describeAction(runFilter(ioctl.program, { nr: 0x40000000 + 514, arch: AUDIT_ARCH.x86_64 })), 'ERRNO(1)');
  assert.equal(describeAction(runFilter(ioctl.program, { nr: X.ioctl!, arch: AUDIT_ARCH.x86_64 })), 'ERRNO(1)');
  assert.equal(describeAction(runFilter(ioctl.program, { nr: 16 | 0x40000000, arch: AUDIT_ARCH.x86_64 })), 'ALLOW');
});

test('long jumps: a program far larger than 255 instructions stays correct', () => {
  // Every syscall with three conditions: chains far from the tree and the returns.
  const names = Object.keys(X).slice(0, 200);
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: names.map((n, i) => ({
      names: [n],
      action: i % 2 ? 'SCMP_ACT_ALLOW' : 'SCMP_ACT_LOG',
      args: [
        { index: 0, value: i, op: 'SCMP_CMP_EQ' },
        { index: 1, value: 0xffn, valueTwo: 1, op: 'SCMP_CMP_MASKED_EQ' },
        { index: 2, value: 0x100000000 + i, op: 'SCMP_CMP_LT' },
      ],
    })),
  };
  const c = compileSeccomp(spec, { arch: 'x86_64' });
  assert.ok(c.length > 2000, `length ${c.length}`);
  checkProgram(c.program);
  // far targets were reached through `ja` trampolines
  assert.ok(decode(c.program).some((n) => n.code === OP.JA));
  names.forEach((n, i) => {
    for (const args of [[BigInt(i), 1n, 0n], [BigInt(i), 0x101n, 0x200000000n], [BigInt(i + 1), 1n, 0n]]) {
      assert.equal(runFilter(c.program, { nr: X[n]!, arch: AUDIT_ARCH.x86_64, args }), expected(spec, 'x86_64', X[n]!, args), `${n} ${args}`);
    }
  });
});

test('a filter over the kernel limit of 4096 instructions is refused', () => {
  const names = Object.keys(X).slice(0, 300);
  const cond = (i: number, j: number) => ({ index: j % 6, value: i * 7 + j, op: 'SCMP_CMP_NE' });
  const spec: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: names.map((n, i) => ({ names: [n], action: 'SCMP_ACT_ALLOW', args: [0, 1, 2, 3].map((j) => cond(i, j)) })),
  };
  assert.throws(() => compileSeccomp(spec, { arch: 'x86_64' }), /more than the kernel's 4096/);
});

test('flags map to SECCOMP_FILTER_FLAG_* bits', () => {
  const c = compileSeccomp(
    { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'] },
    { arch: 'x86_64' },
  );
  assert.equal(c.flags, FILTER_FLAG.LOG | FILTER_FLAG.SPEC_ALLOW | FILTER_FLAG.TSYNC);
  assert.equal(c.notify, false);
  const w = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, { arch: 'x86_64' });
  assert.equal(w.flags, 0);
  assert.match(w.warnings.join(), /WAIT_KILLABLE_RECV/);
  const n = compileSeccomp(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/x',
      flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', 'SECCOMP_FILTER_FLAG_TSYNC'],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
    },
    { arch: 'x86_64' },
  );
  assert.equal(n.flags, FILTER_FLAG.WAIT_KILLABLE_RECV | FILTER_FLAG.NEW_LISTENER | FILTER_FLAG.TSYNC | FILTER_FLAG.TSYNC_ESRCH);
});

test('aarch64 and i386 as native architectures', () => {
  const spec: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['openat', 'mkdir', 'mkdirat'], action: 'SCMP_ACT_ALLOW' }] };
  for (const arch of ['aarch64', 'i386'] as const) {
    const c = compileSeccomp(spec, { arch });
    checkProgram(c.program);
    for (const [name, n] of Object.entries(SYSCALLS[arch])) {
      assert.equal(runFilter(c.program, { nr: n, arch: AUDIT_ARCH[arch] }), expected(spec, arch, n), `${arch} ${name}`);
    }
    assert.equal(describeAction(runFilter(c.program, { nr: 5, arch: AUDIT_ARCH.x86_64 })), 'KILL_PROCESS');
  }
  assert.equal(SYSCALLS.aarch64.mkdir, undefined); // aarch64 has only mkdirat
  assert.equal(SYSCALLS.aarch64.openat, 56);
});
