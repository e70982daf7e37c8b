// Device rules: the v1 replay, and the v2 eBPF program run on a small
// interpreter of exactly the instructions the generator may emit, compared
// with the v1 kernel's matching rules over a grid of accesses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceAllowed, emulateDeviceRules, type DeviceState } from '../../../src/runtime/cgroups/devices.ts';
import { deviceProgram } from '../../../src/runtime/cgroups/devices-bpf.ts';
import { blkioWeightToIoWeight, sharesToWeight, swapToV2 } from '../../../src/runtime/cgroups/index.ts';
import type { LinuxDeviceCgroup } from '../../../src/runtime/cgroups/resources.ts';

/** Runs a cgroup device program on ctx {access_type, major, minor}; throws on an unknown opcode. */
function runProgram(prog: Buffer, type: number, access: number, major: number, minor: number): number {
  const ctx = [(access << 16) | type, major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; steps < 10000; steps++) {
    const at = pc * 8;
    if (at >= prog.length) throw new Error('fell off the end');
    const code = prog.readUInt8(at);
    const dst = prog.readUInt8(at + 1) & 0xf;
    const src = prog.readUInt8(at + 1) >> 4;
    const off = prog.readInt16LE(at + 2);
    const imm = prog.readInt32LE(at + 4);
    pc++;
    switch (code) {
      case 0x61: r[dst] = ctx[off / 4] ?? NaN; if (src !== 1) throw new Error('ldx from non-ctx'); break;
      case 0x54: r[dst] = ((r[dst] ?? 0) & imm) >>> 0; break;
      case 0x74: r[dst] = (r[dst] ?? 0) >>> imm; break;
      case 0xbc: r[dst] = (r[src] ?? 0) >>> 0; break;
      case 0xb7: r[dst] = imm; break;
      case 0x55: if (r[dst] !== imm >>> 0) pc += off; break;
      case 0x15: if (r[dst] === imm >>> 0) pc += off; break;
      case 0x95: return r[0] ?? NaN;
      default: throw new Error(`unexpected opcode 0x${code.toString(16)}`);
    }
  }
  throw new Error('no exit');
}

function agree(st: DeviceState): void {
  const prog = deviceProgram(st);
  for (const [t, tn] of [['c', 2], ['b', 1]] as const) {
    for (const major of [1, 5, 8, 136]) {
      for (const minor of [0, 1, 3, 7]) {
        for (let access = 1; access <= 7; access++) {
          const want = deviceAllowed(st, t, major, minor, access) ? 1 : 0;
          assert.equal(runProgram(prog, tn, access, major, minor), want, `${t} ${major}:${minor} access=${access} in ${JSON.stringify(st)}`);
        }
      }
    }
  }
}

const docker: LinuxDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'r' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rw' },
];

test('replay: "a" resets, later rules add or narrow exceptions like the v1 kernel', () => {
  const st = emulateDeviceRules([...docker, { allow: false, type: 'c', major: 5, minor: 1, access: 'w' }]);
  assert.equal(st.defaultAllow, false);
  assert.deepEqual(st.exceptions.find((e) => e.major === 5), { type: 'c', major: 5, minor: 1, access: 2 });
  assert.equal(deviceAllowed(st, 'c', 1, 3, 4), true);
  assert.equal(deviceAllowed(st, 'c', 1, 7, 4), false);
  assert.equal(deviceAllowed(st, 'c', 1, 7, 2), true);
  assert.equal(deviceAllowed(st, 'c', 8, 0, 1), true); // mknod of any char device
  assert.equal(deviceAllowed(st, 'b', 8, 0, 2), false);
  const reset = emulateDeviceRules([...docker, { allow: true, type: 'a', access: 'rwm' }]);
  assert.deepEqual(reset, { defaultAllow: true, exceptions: [] });
  // Removing the last access bit drops the exception.
  assert.deepEqual(emulateDeviceRules([{ allow: false, type: 'c', major: 1, minor: 3, access: 'rw' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }]).exceptions, []);
});

test('eBPF program agrees with the v1 rules: Docker\'s allow-list', () => agree(emulateDeviceRules(docker)));
test('eBPF program agrees with the v1 rules: a deny-list over allow-all', () =>
  agree(emulateDeviceRules([{ allow: false, type: 'b', major: 8, access: 'w' }, { allow: false, type: 'c', major: 1, minor: 7, access: 'rwm' }])));
test('eBPF program: deny-all and allow-all with no exceptions', () => {
  agree({ defaultAllow: false, exceptions: [] });
  agree({ defaultAllow: true, exceptions: [] });
  assert.equal(deviceProgram({ defaultAllow: true, exceptions: [] }).length, 8 * 8);
});

test('conversions: shares to weight, blkio weight to io.weight, memsw to v2 swap', () => {
  assert.deepEqual([2n, 1024n, 262144n, 0n].map(sharesToWeight), [1n, 39n, 10000n, 0n]);
  assert.deepEqual([10n, 500n, 1000n, 0n].map(blkioWeightToIoWeight), [1n, 4950n, 10000n, 0n]);
  assert.equal(swapToV2(300n, 100n), 200n);
  assert.equal(swapToV2(-1n, 100n), -1n);
  assert.equal(swapToV2(0n, -1n), -1n);
  assert.equal(swapToV2(0n, 100n), 0n);
  assert.throws(() => swapToV2(50n, 100n), />= memory limit/);
  assert.throws(() => swapToV2(50n, 0n), /without a memory limit/);
});
