import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeccompError, validateSeccomp } from '../../../src/runtime/seccomp/index.ts';
import { FILTER_FLAG, RET } from '../../../src/runtime/seccomp/constants.ts';

const ok = { defaultAction: 'SCMP_ACT_ERRNO' };
function fails(spec: unknown, re: RegExp) {
  assert.throws(() => validateSeccomp(spec), (e: unknown) => e instanceof SeccompError && re.test(e.message), String(re));
}

test('a minimal spec: default action with EPERM', () => {
  const p = validateSeccomp(ok);
  assert.equal(p.defaultAction, RET.ERRNO | 1);
  assert.deepEqual(p.rules, []);
  assert.equal(p.flags, 0);
  assert.equal(p.notify, false);
});

test('unknown actions, operators, architectures and flags are named in the error', () => {
  fails({ defaultAction: 'SCMP_ACT_NOPE' }, /linux\.seccomp\.defaultAction: unknown action "SCMP_ACT_NOPE"/);
  fails({ ...ok, syscalls: [{ names: ['read'], action: 'ALLOW' }] }, /syscalls\[0\]\.action: unknown action "ALLOW"/);
  fails(
    { ...ok, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_XX' }] }] },
    /syscalls\[0\]\.args\[0\]\.op: unknown operator "SCMP_CMP_XX"/,
  );
  fails({ ...ok, architectures: ['SCMP_ARCH_X86_64', 'x86_64'] }, /architectures\[1\]: unknown architecture "x86_64"/);
  fails({ ...ok, flags: ['SECCOMP_FILTER_FLAG_BOGUS'] }, /flags\[0\]: unknown flag/);
  fails({ ...ok, flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] }, /flags\[0\]: unknown flag/);
});

test('malformed fields', () => {
  fails(null, /linux\.seccomp: must be an object/);
  fails({}, /defaultAction: required/);
  fails({ ...ok, bogus: 1 }, /unknown field "bogus"/);
  fails({ ...ok, syscalls: {} }, /syscalls: must be an array/);
  fails({ ...ok, syscalls: [{ action: 'SCMP_ACT_ALLOW' }] }, /syscalls\[0\]\.names: required/);
  fails({ ...ok, syscalls: [{ names: [], action: 'SCMP_ACT_ALLOW' }] }, /at least one syscall/);
  fails({ ...ok, syscalls: [{ names: ['read'] }] }, /syscalls\[0\]\.action: required/);
  fails({ ...ok, syscalls: [{ names: ['Read!'], action: 'SCMP_ACT_ALLOW' }] }, /names\[0\]: "Read!" is not a syscall name/);
  fails({ ...ok, syscalls: [{ names: [''], action: 'SCMP_ACT_ALLOW' }] }, /is not a syscall name/);
  const arg = (a: object) => ({ ...ok, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [a] }] });
  fails(arg({ index: 6, value: 0, op: 'SCMP_CMP_EQ' }), /args\[0\]\.index: 6 is not an argument index/);
  fails(arg({ value: 0, op: 'SCMP_CMP_EQ' }), /args\[0\]\.index: required/);
  fails(arg({ index: 0, op: 'SCMP_CMP_EQ' }), /args\[0\]\.value: required/);
  fails(arg({ index: 0, value: -1, op: 'SCMP_CMP_EQ' }), /value: .* outside 0\.\.2\^64-1/);
  fails(arg({ index: 0, value: 1n << 64n, op: 'SCMP_CMP_EQ' }), /outside/);
  fails(arg({ index: 0, value: 1.5, op: 'SCMP_CMP_EQ' }), /unsigned 64-bit integer/);
  fails(arg({ index: 0, value: '1', op: 'SCMP_CMP_EQ' }), /unsigned 64-bit integer/);
  fails(arg({ index: 0, value: 1, valueTwo: -2, op: 'SCMP_CMP_MASKED_EQ' }), /valueTwo/);
  const p = validateSeccomp(arg({ index: 5, value: (1n << 64n) - 1n, valueTwo: 3, op: 'SCMP_CMP_MASKED_EQ' }));
  assert.deepEqual(p.rules[0]!.args[0], { index: 5, op: 'SCMP_CMP_MASKED_EQ', value: (1n << 64n) - 1n, valueTwo: 3n });
});

test('errnoRet: only with ERRNO and TRACE, within the kernel limit', () => {
  fails({ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 }, /defaultErrnoRet: SCMP_ACT_ALLOW takes no errno/);
  fails({ ...ok, syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] }, /syscalls\[0\]\.errnoRet: SCMP_ACT_KILL takes no errno/);
  fails({ ...ok, defaultErrnoRet: 4096 }, /above the kernel's maximum 4095/);
  fails({ ...ok, defaultErrnoRet: -1 }, /defaultErrnoRet: must be an integer/);
  assert.equal(validateSeccomp({ ...ok, defaultErrnoRet: 0 }).defaultAction, RET.ERRNO);
  const t = validateSeccomp({ ...ok, syscalls: [{ names: ['ptrace'], action: 'SCMP_ACT_TRACE', errnoRet: 1234 }] });
  assert.equal(t.rules[0]!.action, RET.TRACE | 1234);
});

test('SCMP_ACT_NOTIFY: needs listenerPath, never the default, never on write', () => {
  fails({ defaultAction: 'SCMP_ACT_NOTIFY' }, /cannot be the default action/);
  fails({ ...ok, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, /listenerPath: required/);
  fails({ ...ok, listenerPath: '/a', syscalls: [{ names: ['write', 'mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, /cannot be used for write/);
  fails({ ...ok, listenerMetadata: 'x' }, /listenerMetadata: set without listenerPath/);
  fails({ ...ok, listenerPath: '' }, /listenerPath: must be a non-empty string/);
  const p = validateSeccomp({ ...ok, listenerPath: '/a', listenerMetadata: 'm', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] });
  assert.equal(p.notify, true);
  assert.equal(p.flags, FILTER_FLAG.NEW_LISTENER);
  assert.equal(p.listenerMetadata, 'm');
});

test('syscall names no table knows are kept as warnings, not errors (as runc/libseccomp)', () => {
  const p = validateSeccomp({ ...ok, syscalls: [{ names: ['read', 'no_such_call', 's390_runtime_instr'], action: 'SCMP_ACT_ALLOW' }] });
  assert.match(p.warnings.join('\n'), /unknown syscalls ignored: no_such_call, s390_runtime_instr/);
  assert.doesNotMatch(p.warnings.join('\n'), /\bread\b/);
});

test('null stands for an absent optional field (as Go encoders write it)', () => {
  const p = validateSeccomp({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: null,
    architectures: null,
    flags: null,
    syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: null, args: [{ index: 0, value: 1, valueTwo: null, op: 'SCMP_CMP_EQ' }] }],
  });
  assert.equal(p.defaultAction, RET.ERRNO | 1);
  assert.equal(p.rules[0]!.args[0]!.valueTwo, 0n);
  fails({ defaultAction: null }, /defaultAction: required/);
  fails({ ...ok, syscalls: [null] }, /syscalls\[0\]: must be an object/);
});
