// The same linux.resources given to the real runc (Debian's) and to our
// manager must leave the same values in the kernel's cgroup files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectCgroupMode, openCgroup } from '../../../src/runtime/cgroups/index.ts';
import { buildBusyboxRootfs } from '../../images/busybox-rootfs.ts';
import { runcPath } from '../../harness/runtimes.ts';
import { needsRoot } from '../../support/root.ts';

const runc = (() => {
  try {
    return runcPath();
  } catch {
    return undefined;
  }
})();
const mode = (() => {
  try {
    return detectCgroupMode();
  } catch {
    return undefined;
  }
})();
const skip = needsRoot.skip || (!runc ? 'runc not installed' : mode === 'v1' || mode === 'hybrid' ? false : 'compares v1 files');

const rw = (type: string, major: number, minor?: number, access = 'rwm') => ({ allow: true, type, major, ...(minor === undefined ? {} : { minor }), access });
const resources = {
  // Docker's list (which already holds runc's own defaults), plus one rule of ours.
  devices: [
    { allow: false, access: 'rwm' },
    rw('c', 1, 3), rw('c', 1, 5), rw('c', 1, 7), rw('c', 1, 8), rw('c', 1, 9), rw('c', 5, 0), rw('c', 5, 2), rw('c', 10, 200), rw('c', 136),
    { allow: true, type: 'c', access: 'm' }, { allow: true, type: 'b', access: 'm' },
    { allow: true, type: 'c', major: 4, minor: 1, access: 'r' },
  ],
  memory: { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20, swappiness: 10 },
  cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
  pids: { limit: 50 },
};
const FILES = [
  'memory/memory.limit_in_bytes', 'memory/memory.memsw.limit_in_bytes', 'memory/memory.soft_limit_in_bytes', 'memory/memory.swappiness',
  'cpu/cpu.shares', 'cpu/cpu.cfs_quota_us', 'cpu/cpu.cfs_period_us', 'cpuset/cpuset.cpus', 'cpuset/cpuset.mems', 'pids/pids.max', 'devices/devices.list',
];

function snapshot(name: string): Record<string, string> {
  // Which hierarchies the cgroup was made in (runc joins name=systemd and, on hybrid hosts, unified too).
  const out: Record<string, string> = { hierarchies: readdirSync('/sys/fs/cgroup').filter((h) => existsSync(join('/sys/fs/cgroup', h, name))).join(' ') };
  for (const f of FILES) {
    const [ctrl, file] = f.split('/') as [string, string];
    const v = readFileSync(join('/sys/fs/cgroup', ctrl, name, file), 'utf8').trim();
    out[f] = file === 'devices.list' ? v.split('\n').sort().join('\n') : v;
  }
  return out;
}

test('runc and the cgroup manager write the same values for the same resources', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dray-cg-parity-'));
  const id = `dray-test-${process.pid}-runc`;
  const root = join(dir, 'state');
  t.after(() => {
    try {
      execFileSync(runc as string, ['--root', root, 'delete', '--force', id], { stdio: 'ignore' });
    } catch {
      /* never created */
    }
    rmSync(dir, { recursive: true, force: true });
  });
  mkdirSync(join(dir, 'rootfs'));
  buildBusyboxRootfs(join(dir, 'rootfs'));
  execFileSync(runc as string, ['spec'], { cwd: dir });
  const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  spec.process.args = ['sleep', '60'];
  spec.process.terminal = false;
  spec.linux.cgroupsPath = `/${id}`;
  spec.linux.resources = resources;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
  execFileSync(runc as string, ['--root', root, 'create', '--bundle', dir, id], { stdio: 'ignore' });
  const theirs = snapshot(id);

  const name = `dray-test-${process.pid}-ours`;
  const cg = openCgroup({ path: `/${name}`, id: name });
  t.after(() => cg.destroy());
  cg.create();
  cg.set(resources);
  assert.deepEqual(snapshot(name), theirs);
});
