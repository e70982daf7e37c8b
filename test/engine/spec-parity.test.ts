// The OCI spec drayd writes, compared field by field with the config.json the
// real dockerd gives runc for the same `docker run` flags (read from its
// containerd bundle directory).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsRoot } from '../support/root.ts';
import type { DockerdPeer } from '../harness/index.ts';
import type { Drayd } from './support/drayd.ts';
import { startDaemonPair, type DaemonPair } from './support/pair.ts';

let dray: Drayd;
let real: DockerdPeer;
let pair: DaemonPair | undefined;

before(async () => {
  if (needsRoot.skip) return;
  pair = await startDaemonPair();
  ({ dray, real } = pair);
});

after(async () => {
  await pair?.stop();
});

type Spec = {
  process: { user: { uid: number; gid: number; additionalGids?: number[] }; args: string[]; env: string[]; cwd: string; terminal?: boolean; noNewPrivileges?: boolean; capabilities: Record<string, string[] | undefined>; rlimits?: unknown[] };
  root: { readonly?: boolean };
  hostname: string;
  mounts: { destination: string; type: string; options?: string[] }[];
  linux: { namespaces: { type: string }[]; maskedPaths?: string[]; readonlyPaths?: string[]; sysctl?: Record<string, string>; resources?: Record<string, unknown>; seccomp?: { defaultAction: string; syscalls?: { names: string[]; action: string }[] } };
};

function readSpecs(dId: string, rId: string): [Spec, Spec] {
  const d = JSON.parse(readFileSync(join(dray.execRoot, 'containerd', 'bundles', 'moby', dId, 'config.json'), 'utf8')) as Spec;
  const path = join(real.execRoot, 'containerd', 'daemon', 'io.containerd.runtime.v2.task', 'moby', rId, 'config.json');
  assert.ok(existsSync(path), `dockerd's bundle at ${path}`);
  return [d, JSON.parse(readFileSync(path, 'utf8')) as Spec];
}

const DENIED = ['kexec_load', 'init_module', 'finit_module', 'reboot', 'mount', 'umount2', 'swapon', 'pivot_root', 'unshare', 'setns', 'bpf', 'ptrace', 'open_by_handle_at', 'keyctl', 'add_key'];

const sortU = (a: string[] | undefined): string[] => [...new Set(a ?? [])].sort();

/** The fields that must match: what the container can do and see. */
function comparable(s: Spec): Record<string, unknown> {
  const mem = (s.linux.resources?.['memory'] ?? {}) as Record<string, unknown>;
  const cpu = (s.linux.resources?.['cpu'] ?? {}) as Record<string, unknown>;
  const pids = (s.linux.resources?.['pids'] ?? {}) as Record<string, unknown>;
  return {
    user: [s.process.user.uid, s.process.user.gid],
    args: s.process.args,
    env: sortU(s.process.env.filter((e) => !e.startsWith('HOSTNAME='))),
    cwd: s.process.cwd,
    terminal: s.process.terminal === true,
    noNewPrivileges: s.process.noNewPrivileges === true,
    bounding: sortU(s.process.capabilities['bounding']),
    effective: sortU(s.process.capabilities['effective']),
    readonlyRoot: s.root.readonly === true,
    // /dev/shm is a tmpfs here, a bind of a host tmpfs in dockerd: compare destinations
    mounts: sortU(s.mounts.map((m) => m.destination)),
    procSysOpts: s.mounts.filter((m) => ['/proc', '/sys', '/dev/pts', '/dev/mqueue'].includes(m.destination)).map((m) => `${m.destination}:${m.type}:${sortU(m.options).join(',')}`).sort(),
    namespaces: sortU(s.linux.namespaces.map((n) => n.type)),
    masked: sortU(s.linux.maskedPaths),
    readonlyPaths: sortU(s.linux.readonlyPaths),
    sysctl: s.linux.sysctl ?? {},
    memory: [mem['limit'] ?? 0, mem['swap'] ?? 0, mem['reservation'] ?? 0],
    cpu: [cpu['shares'] ?? 0, cpu['quota'] ?? 0, cpu['period'] ?? 0, cpu['cpus'] ?? ''],
    pids: pids['limit'] ?? 0,
    seccompDefault: s.linux.seccomp?.defaultAction ?? 'none',
    // drayd ships moby's newer default profile (docker 28's): the allow lists differ by version, the
    // dangerous calls stay out of both
    seccompDenied: DENIED.filter((n) => (s.linux.seccomp?.syscalls ?? []).some((c) => c.action === 'SCMP_ACT_ALLOW' && c.names.includes(n))),
  };
}

const CASES: string[][] = [
  [],
  ['-u', 'nobody', '-w', '/tmp', '-e', 'A=1'],
  ['--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', '--cap-add', 'SYS_PTRACE'],
  ['--security-opt', 'no-new-privileges', '--read-only'],
  ['--memory', '64m', '--cpu-shares', '512', '--cpus', '0.5', '--pids-limit', '50', '--cpuset-cpus', '0'],
  ['--sysctl', 'net.ipv4.ip_forward=1', '--network', 'none'],
  ['--security-opt', 'seccomp=unconfined'],
];

test('config.json: drayd and dockerd agree for the same run flags', needsRoot, async () => {
  for (const flags of CASES) {
    const args = ['run', '-d', ...flags, 'busybox', 'sleep', '60'];
    const dId = (await dray.docker(args)).trim();
    const rId = (await real.docker(args, { cli: 'v28' })).trim();
    try {
      const [d, r] = readSpecs(dId, rId);
      const cd = comparable(d);
      const cr = comparable(r);
      for (const k of Object.keys(cr)) {
        assert.deepEqual(cd[k], cr[k], `${flags.join(' ') || '(defaults)'}: ${k}`);
      }
    } finally {
      await dray.dockerResult(['rm', '-f', dId]);
      await real.dockerResult(['rm', '-f', rId]);
    }
  }
});

// dockerd cannot run --privileged on this host (its "all" includes a capability the host's
// bounding set lacks); drayd's "all" is its own bounding set, as Docker means it
test('--privileged: every capability drayd holds, no seccomp, no masked paths', needsRoot, async () => {
  const id = (await dray.docker(['run', '-d', '--privileged', 'busybox', 'sleep', '60'])).trim();
  try {
    const s = JSON.parse(readFileSync(join(dray.execRoot, 'containerd', 'bundles', 'moby', id, 'config.json'), 'utf8')) as Spec;
    const own = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
    const status = await dray.docker(['exec', id, 'grep', '-E', '^CapBnd|^Seccomp:', '/proc/self/status']);
    assert.match(status, new RegExp(`CapBnd:\\s*${own}`));
    assert.match(status, /Seccomp:\s*0/);
    assert.equal(s.linux.maskedPaths, undefined);
  } finally {
    await dray.dockerResult(['rm', '-f', id]);
  }
});
