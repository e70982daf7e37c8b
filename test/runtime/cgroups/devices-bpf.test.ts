// The v2 device filter in the kernel: on a v2 host the root hierarchy, on a
// hybrid host (like this machine) the controller-less unified hierarchy,
// where BPF device programs apply just the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { detectCgroupMode, openCgroup, type CgroupManager } from '../../../src/runtime/cgroups/index.ts';
import { attachedDevicePrograms } from '../../../src/runtime/cgroups/bpf.ts';
import { native } from '../../../src/common/native.ts';
import { needsRoot } from '../../support/root.ts';

const mode = (() => {
  try {
    return detectCgroupMode();
  } catch {
    return undefined;
  }
})();
const fsRoot = mode === 'v2' ? '/sys/fs/cgroup' : mode === 'hybrid' ? '/sys/fs/cgroup/unified' : undefined;
const opts = { skip: needsRoot.skip || (fsRoot ? false : 'needs a cgroup v2 hierarchy') };

/** Runs sh -c script inside cg (paused on a read until it has joined); resolves with its stdout. */
function runIn(cg: CgroupManager, script: string): Promise<string> {
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'ignore'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  // 'close', not 'exit': 'exit' can come before the last stdout data is read.
  const done = new Promise<string>((resolve) => child.on('close', () => resolve(out)));
  cg.apply(child.pid as number);
  child.stdin?.end('go\n');
  return done;
}

test('the eBPF device filter allows and refuses as the rules say, and an update replaces it', opts, async (t) => {
  const name = `dray-test-${process.pid}-bpf`;
  const cg = openCgroup({ path: `/${name}`, id: name, fsRoot, mode: 'v2' });
  t.after(async () => {
    for (const pid of cg.exists() ? cg.pids() : []) process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && cg.exists() && cg.pids().length; i++) await new Promise((r) => setTimeout(r, 20));
    await cg.destroy();
  });
  cg.create();
  const dir = cg.paths[''] as string;
  cg.set({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 5, access: 'r' }] });
  assert.equal(attachedDevicePrograms(dir).length, 1);
  // No /dev/null redirections: c 1:3 is denied too.
  const script = 'head -c 3 /dev/zero | wc -c; echo x > /dev/zero || echo "write refused"; head -c 2 /dev/full | wc -c';
  assert.equal(await runIn(cg, script), '3\nwrite refused\n0\n');
  cg.set({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, access: 'rw' }] });
  assert.equal(attachedDevicePrograms(dir).length, 1, 'the old program is detached');
  assert.equal(await runIn(cg, script), '3\n2\n');
});

test('a program the verifier refuses is an error carrying the verifier\'s reason', opts, () => {
  const load = (native() as unknown as { bpfProgLoad(t: number, i: Buffer, l: string): number }).bpfProgLoad;
  // "r0 = 1" with no exit.
  const insn = Buffer.from([0xb7, 0, 0, 0, 1, 0, 0, 0]);
  assert.throws(() => load(15, insn, 'Apache'), (e: Error & { code?: string }) => e.code === 'EINVAL' && /verifier/.test(e.message));
  assert.throws(() => load(15, Buffer.alloc(3), 'Apache'), /8-byte instructions/);
});
