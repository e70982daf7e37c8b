// `--network container:<x>` and `--device`/`--device-cgroup-rule`, drayd side
// by side with the real dockerd 20.10 (the docker CLI 28 as the client of
// both): what the joiner sees and is refused, what happens when the joined
// container stops, the config.json device fields, and what the device cgroup
// lets a process do.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { needsRoot } from '../support/root.ts';
import type { DockerdPeer, DockerCli, ExecResult } from '../harness/index.ts';
import { native } from '../../src/common/native.ts';
import { ApiError } from '../../src/engine/api/errors.ts';
import { containerDevices, parseCgroupRule, parseDeviceMappings } from '../../src/engine/containers/devices.ts';
import type { Drayd } from './support/drayd.ts';
import { startDaemonPair, type DaemonPair } from './support/pair.ts';

let dray: Drayd;
let real: DockerdPeer;
let pair: DaemonPair | undefined;
let tmp = '';

/** The two daemons behind one interface: the same CLI (28) against each. */
interface Daemon {
  name: string;
  /** cli: v28 unless given */
  run(args: string[], cli?: DockerCli): Promise<ExecResult>;
  ok(args: string[]): Promise<string>;
  spec(id: string): Spec;
}
let daemons: Daemon[] = [];

interface Inspect {
  HostsPath: string; HostnamePath: string; ResolvConfPath: string;
  HostConfig: { NetworkMode: string };
  NetworkSettings: { Networks: Record<string, unknown>; SandboxKey: string; Ports: Record<string, unknown> | null };
  State: { Pid: number };
  Config: { Hostname: string };
}

type Spec = { linux: { devices?: unknown[]; namespaces: { type: string; path?: string }[]; resources?: { devices?: unknown[] }; sysctl?: Record<string, string> }; hostname: string };

// Major 120 is reserved for local/experimental use: no driver behind it, so an open the device
// cgroup allows fails with ENXIO and one it refuses fails with EPERM.
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

before(async () => {
  if (needsRoot.skip) return;
  tmp = mkdtempSync(join(tmpdir(), 'netns-devices-'));
  mkdirSync(join(tmp, 'devs', 'sub'), { recursive: true });
  native().mknod(join(tmp, 'devs', 'a'), S_IFCHR | 0o640, 120, 0);
  chownSync(join(tmp, 'devs', 'a'), 1000, 5);
  native().mknod(join(tmp, 'devs', 'sub', 'b'), S_IFBLK | 0o600, 120, 1);
  writeFileSync(join(tmp, 'devs', 'plain'), 'not a device');
  symlinkSync(join(tmp, 'devs', 'a'), join(tmp, 'link'));
  pair = await startDaemonPair();
  ({ dray, real } = pair);
  const wrap = (name: string, run: Daemon['run'], spec: Daemon['spec']): Daemon => ({
    name, run, spec,
    async ok(args) {
      const r = await run(args);
      if (r.code !== 0) throw new Error(`${name}: docker ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
  });
  daemons = [
    wrap('drayd', (a, cli) => dray.dockerResult(a, { cli: cli ?? 'v28' }), (id) => JSON.parse(readFileSync(join(dray.execRoot, 'containerd', 'bundles', 'moby', id, 'config.json'), 'utf8')) as Spec),
    wrap('dockerd', (a, cli) => real.dockerResult(a, { cli: cli ?? 'v28' }), (id) => JSON.parse(readFileSync(join(real.execRoot, 'containerd', 'daemon', 'io.containerd.runtime.v2.task', 'moby', id, 'config.json'), 'utf8')) as Spec),
  ];
});

after(async () => {
  try {
    await pair?.stop();
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
});

/** Removes the named containers on every daemon, whatever happened. */
async function cleanup(...names: string[]): Promise<void> {
  for (const d of daemons) await d.run(['rm', '-f', ...names]);
}

/** The daemon's message from the CLI's stderr, without the CLI's own framing. */
function daemonError(stderr: string): string {
  const m = /Error response from daemon: (.*)/.exec(stderr);
  return (m?.[1] ?? stderr.trim()).replace(/\.$/, '');
}

const uniq = (): string => randomBytes(3).toString('hex');

test('--network container:<x>: the same namespace, hostname and /etc files; no endpoint of its own', needsRoot, async () => {
  const owner = `owner-${uniq()}`;
  const joiner = `joiner-${uniq()}`;
  try {
    const seen: Record<string, unknown>[] = [];
    for (const d of daemons) {
      const ownerId = (await d.ok(['run', '-d', '--name', owner, '--hostname', 'ahost', '--dns', '192.0.2.53', '--add-host', 'foo:192.0.2.7', 'busybox', 'sleep', '300'])).trim();
      const joinerId = (await d.ok(['create', '--name', joiner, '--network', `container:${owner}`, 'busybox', 'sleep', '300'])).trim();
      const inspect = async (ref: string): Promise<Inspect> => (JSON.parse(await d.ok(['inspect', ref])) as Inspect[])[0]!;
      const created = await inspect(joinerId);
      assert.equal(created.HostConfig.NetworkMode, `container:${ownerId}`, `${d.name}: the name is recorded as the full id`);
      assert.equal(created.HostsPath, '', `${d.name}: no /etc files of its own before start`);
      await d.ok(['start', joinerId]);
      const o = await inspect(ownerId);
      const j = await inspect(joinerId);
      assert.deepEqual(j.NetworkSettings.Networks, {}, `${d.name}: no endpoint`);
      assert.equal(j.NetworkSettings.SandboxKey, '', d.name);
      assert.deepEqual(j.NetworkSettings.Ports ?? {}, {}, d.name);
      for (const k of ['HostsPath', 'HostnamePath', 'ResolvConfPath'] as const) assert.equal(j[k], o[k], `${d.name}: ${k} is the joined container's`);
      const sh = 'hostname; echo "$HOSTNAME"; cat /etc/hostname; grep foo /etc/hosts; grep nameserver /etc/resolv.conf; ip -o -4 addr show eth0 | awk \'{print $4}\'; readlink /proc/self/ns/net';
      const inJoiner = (await d.ok(['exec', joinerId, 'sh', '-c', sh])).trim().split('\n');
      const inOwner = (await d.ok(['exec', ownerId, 'sh', '-c', sh])).trim().split('\n');
      assert.deepEqual(inJoiner, inOwner, `${d.name}: the joiner sees what its owner sees`);
      // its own spec: the owner's namespace by path, the owner's hostname, no sysctls of a namespace of its own
      const spec = d.spec(joinerId);
      assert.deepEqual(spec.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: `/proc/${o.State.Pid}/ns/net` }, d.name);
      assert.equal(spec.hostname, 'ahost', d.name);
      seen.push({ hostname: j.Config.Hostname, lines: inJoiner.slice(0, 5), hasAddress: /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(inJoiner[5] ?? ''), sysctl: spec.linux.sysctl ?? {} });
    }
    assert.deepEqual(seen[0], seen[1], 'drayd and dockerd agree');
  } finally {
    await cleanup(joiner, owner);
  }
});

test('--network container:<x>: refused options, missing and stopped containers, with dockerd\'s errors', needsRoot, async () => {
  const owner = `owner-${uniq()}`;
  const stopped = `stopped-${uniq()}`;
  const self = `self-${uniq()}`;
  try {
    const results: string[][] = [];
    for (const d of daemons) {
      await d.ok(['run', '-d', '--name', owner, 'busybox', 'sleep', '300']);
      const stoppedId = (await d.ok(['create', '--name', stopped, 'busybox', 'true'])).trim();
      const out: string[] = [];
      for (const flags of [['-p', '8080:80'], ['-P'], ['--expose', '80'], ['--hostname', 'x'], ['--dns', '192.0.2.1'], ['--add-host', 'a:192.0.2.2'], ['--mac-address', '02:42:ac:11:00:09'], ['--link', `${owner}:x`]]) {
        // CLI 28 sends a MAC address in the endpoint settings from API 1.44 on, which dockerd 20.10 lacks: 20.10's CLI there
        const r = await d.run(['run', '--rm', '--network', `container:${owner}`, ...flags, 'busybox', 'true'], flags[0] === '--mac-address' ? 'v20' : 'v28');
        out.push(`${flags[0]}: ${r.code} ${daemonError(r.stderr)}`);
      }
      // accepted: dns search and options are not checked by dockerd
      const ok = await d.run(['run', '--rm', '--network', `container:${owner}`, '--dns-search', 'example.com', 'busybox', 'true']);
      out.push(`--dns-search: ${ok.code}`);
      const missing = await d.run(['run', '--rm', '--network', 'container:no-such-container', 'busybox', 'true']);
      out.push(`missing: ${missing.code} ${daemonError(missing.stderr)}`);
      const notRunning = await d.run(['run', '--rm', '--network', `container:${stopped}`, 'busybox', 'true']);
      out.push(`not running: ${notRunning.code} ${daemonError(notRunning.stderr).replace(stoppedId, '<id>')}`);
      const bad = await d.run(['run', '--rm', '--network', 'container:', 'busybox', 'true']);
      out.push(`empty: ${bad.code} ${daemonError(bad.stderr)}`);
      // unknown at create (kept as given), itself at start
      await d.ok(['create', '--name', self, '--network', `container:${self}`, 'busybox', 'true']);
      const own = await d.run(['start', self]);
      out.push(`own: ${own.code} ${daemonError(own.stderr)}`);
      // a joiner has no network of its own to connect to another
      const joiner = (await d.ok(['run', '-d', '--network', `container:${owner}`, 'busybox', 'sleep', '300'])).trim();
      const connect = await d.run(['network', 'connect', 'bridge', joiner]);
      out.push(`connect: ${connect.code} ${daemonError(connect.stderr)}`);
      await d.run(['rm', '-f', joiner]);
      results.push(out);
    }
    assert.match(results[0]!.join('\n'), /-p: 125 conflicting options: port publishing and the container type network mode/);
    assert.match(results[0]!.join('\n'), /not running: 125 cannot join network of a non running container: <id>/);
    assert.deepEqual(results[0], results[1]);
  } finally {
    await cleanup(owner, stopped, self);
  }
});

test('--network container:<x>: the joiner outlives its owner, keeping the namespace without the owner\'s interface', needsRoot, async () => {
  const owner = `owner-${uniq()}`;
  const joiner = `joiner-${uniq()}`;
  try {
    const seen: string[][] = [];
    for (const d of daemons) {
      await d.ok(['run', '-d', '--name', owner, 'busybox', 'sleep', '300']);
      await d.ok(['run', '-d', '--name', joiner, '--network', `container:${owner}`, 'busybox', 'sleep', '300']);
      const links = async (): Promise<string> => (await d.ok(['exec', joiner, 'sh', '-c', 'ip -o link | awk -F": " \'{print $2}\' | cut -d@ -f1 | sort | tr "\\n" " "'])).trim();
      const steps = [await links()];
      await d.ok(['stop', '-t', '0', owner]);
      steps.push((await d.ok(['inspect', '-f', '{{.State.Running}}', joiner])).trim(), await links());
      await d.ok(['start', owner]);
      steps.push(await links()); // still the old namespace
      await d.ok(['restart', '-t', '0', joiner]);
      steps.push(await links()); // the owner's new one
      seen.push(steps);
    }
    assert.deepEqual(seen[0], ['eth0 lo', 'true', 'lo', 'lo', 'eth0 lo']);
    assert.deepEqual(seen[1], seen[0]);
  } finally {
    await cleanup(joiner, owner);
  }
});

test('config.json: linux.devices and the device cgroup rules as dockerd writes them', needsRoot, async () => {
  const cases = [
    [],
    ['--device', '/dev/zero:/dev/myzero', '--device', '/dev/null'],
    ['--device-cgroup-rule', 'c 120:* rm', '--device-cgroup-rule', 'b 120:1 r', '--device-cgroup-rule', 'a *:* m'],
    ['--device', `${tmp}/devs/a:/dev/a:r`, '--device', `${tmp}/devs:/dev/d:rw`, '--device', `${tmp}/link:/dev/l`],
    ['--device', `${tmp}/devs/sub/b`],
  ];
  for (const flags of cases) {
    const ids: string[] = [];
    try {
      const specs: Spec[] = [];
      for (const d of daemons) {
        const id = (await d.ok(['run', '-d', ...flags, 'busybox', 'sleep', '300'])).trim();
        ids.push(id);
        specs.push(d.spec(id));
      }
      const [mine, theirs] = specs as [Spec, Spec];
      assert.deepEqual(mine.linux.devices ?? [], theirs.linux.devices ?? [], `${flags.join(' ') || '(defaults)'}: linux.devices`);
      assert.deepEqual(mine.linux.resources?.devices, theirs.linux.resources?.devices, `${flags.join(' ') || '(defaults)'}: resources.devices`);
    } finally {
      for (const [i, d] of daemons.entries()) if (ids[i]) await d.run(['rm', '-f', ids[i]!]);
    }
  }
  // the directory case walked the tree: both nodes, with their modes and owners
  const id = (await dray.docker(['run', '-d', '--device', `${tmp}/devs:/dev/d`, 'busybox', 'sleep', '300'])).trim();
  try {
    const listing = await dray.docker(['exec', id, 'sh', '-c', 'ls -ln /dev/d /dev/d/sub']);
    assert.match(listing, /crw-r-----\s+1 1000\s+5\s+120,\s+0 .* a/);
    assert.match(listing, /brw-------\s+1 0\s+0\s+120,\s+1 .* b/);
    assert.doesNotMatch(listing, /plain/);
  } finally {
    await dray.dockerResult(['rm', '-f', id]);
  }
});

test('--device: the node works inside; absent without it; bad host paths get dockerd\'s errors', needsRoot, async () => {
  const out: string[][] = [];
  for (const d of daemons) {
    const o: string[] = [];
    o.push(await d.ok(['run', '--rm', '--device', '/dev/zero:/dev/myzero', 'busybox', 'sh', '-c', 'head -c 4 /dev/myzero | od -An -tx1']));
    const absent = await d.run(['run', '--rm', 'busybox', 'ls', '/dev/myzero']);
    o.push(`absent: ${absent.code}`);
    for (const p of ['/nonexistent/device', `${tmp}/devs/plain`, `${tmp}/devs/sub/../../devs/plain`]) {
      const r = await d.run(['run', '--rm', '--device', p, 'busybox', 'true']);
      o.push(`${r.code} ${daemonError(r.stderr)}`);
    }
    out.push(o);
  }
  assert.equal(out[0]![0]!.trim(), '00 00 00 00');
  assert.notEqual(out[0]![1], 'absent: 0');
  assert.match(out[0]![2]!, /error gathering device information while adding custom device "\/nonexistent\/device": no such file or directory/);
  assert.deepEqual(out[0], out[1]);
});

const ACCESS = '{ echo x > /dev/x; } 2>&1; cat /dev/x 2>&1; true';

test('device cgroup: permissions and rules allow or refuse access as in dockerd (runc under drayd)', needsRoot, async () => {
  const out: string[][] = [];
  for (const d of daemons) {
    const rt = d.name === 'drayd' ? ['--runtime', 'runc'] : [];
    const o: string[] = [];
    for (const perms of ['r', 'rw', 'w']) o.push(await d.ok(['run', '--rm', ...rt, '--device', `${tmp}/devs/a:/dev/x:${perms}`, 'busybox', 'sh', '-c', ACCESS]));
    for (const rule of [[], ['--device-cgroup-rule', 'c 120:* rwm'], ['--device-cgroup-rule', 'c 120:0 r']]) {
      o.push(await d.ok(['run', '--rm', ...rt, ...rule, 'busybox', 'sh', '-c', `mknod /dev/x c 120 0 && ${ACCESS}`]));
    }
    out.push(o);
  }
  // a refused open is EPERM; an allowed one reaches the (absent) driver: ENXIO
  assert.match(out[0]![0]!, /can't create \/dev\/x: Operation not permitted[\s\S]*can't open '\/dev\/x': No such device or address/);
  assert.match(out[0]![1]!, /can't create \/dev\/x: No such device or address/);
  assert.match(out[0]![3]!, /can't create \/dev\/x: Operation not permitted[\s\S]*can't open '\/dev\/x': Operation not permitted/);
  assert.deepEqual(out[0], out[1]);
});

test('device cgroup: --device-cgroup-rule under drayd\'s built-in runtime', needsRoot, async () => {
  const r = await dray.docker(['run', '--rm', '--device-cgroup-rule', 'c 120:0 r', 'busybox', 'sh', '-c', `mknod /dev/x c 120 0 && ${ACCESS}`]);
  assert.match(r, /can't create \/dev\/x: Operation not permitted[\s\S]*can't open '\/dev\/x': No such device or address/);
});

test('device cgroup: --device PERMS under drayd\'s built-in runtime', needsRoot, async () => {
  const r = await dray.docker(['run', '--rm', '--device', `${tmp}/devs/a:/dev/x:r`, 'busybox', 'sh', '-c', ACCESS]);
  assert.match(r, /can't create \/dev\/x: Operation not permitted/);
});

test('--privileged: the host\'s devices in /dev', needsRoot, async () => {
  // dockerd cannot run --privileged on this host (spec-parity.test.ts says why): drayd alone, against the host's /dev
  const host = readdirSync('/dev').filter((n) => {
    if (n === 'console' || n === 'ptmx') return false;
    const st = lstatSync(join('/dev', n));
    return st.isCharacterDevice() || st.isBlockDevice();
  }).sort();
  const id = (await dray.docker(['run', '-d', '--privileged', '--device', '/dev/zero:/dev/zero2', 'busybox', 'sleep', '300'])).trim();
  try {
    const spec = JSON.parse(readFileSync(join(dray.execRoot, 'containerd', 'bundles', 'moby', id, 'config.json'), 'utf8')) as Spec;
    assert.deepEqual(spec.linux.resources?.devices, [{ allow: true, access: 'rwm' }]);
    const inside = (await dray.docker(['exec', id, 'ls', '-1', '/dev'])).trim().split('\n');
    for (const n of [...host, 'zero2']) assert.ok(inside.includes(n), `/dev/${n} in the privileged container`);
    assert.match(await dray.docker(['exec', id, 'ls', '-l', '/dev/ptmx']), /-> pts\/ptmx/);
  } finally {
    await dray.dockerResult(['rm', '-f', id]);
  }
});

test('device mappings and cgroup rules: the CLI\'s defaults, Docker\'s formats, bad input refused', () => {
  assert.deepEqual(parseDeviceMappings([{ PathOnHost: '/dev/zero' }]), [{ PathOnHost: '/dev/zero', PathInContainer: '/dev/zero', CgroupPermissions: 'rwm' }]);
  assert.deepEqual(parseCgroupRule('c 1:* rm'), { allow: true, type: 'c', major: 1, minor: -1, access: 'rm' });
  assert.deepEqual(parseCgroupRule('a *:* rwm'), { allow: true, type: 'a', major: -1, minor: -1, access: 'rwm' });
  const refused = (f: () => unknown, re: RegExp): void => assert.throws(f, (e: unknown) => e instanceof ApiError && e.status === 400 && re.test(e.message));
  refused(() => parseDeviceMappings([{ PathOnHost: '/dev/zero', PathInContainer: 'dev/z' }]), /^bad format for path: dev\/z$/);
  refused(() => parseDeviceMappings([{ PathOnHost: '/dev/zero', CgroupPermissions: 'rwx' }]), /^bad mode specified: rwx$/);
  refused(() => parseDeviceMappings([{ PathOnHost: '/dev/zero', CgroupPermissions: 'rr' }]), /^bad mode specified: rr$/);
  refused(() => parseDeviceMappings([{ PathInContainer: '/dev/z' }]), /PathOnHost is empty/);
  refused(() => parseDeviceMappings('/dev/zero'), /cannot unmarshal Devices/);
  for (const r of ['x 1:2 r', 'c 1:2 rwmx', 'c 1 r', 'c a:1 r', ' c 1:2 r']) refused(() => parseCgroupRule(r), /^invalid device cgroup rule format: /);
});

test('device mappings: a FIFO is refused before anything runs (runc has no cgroup rule for it)', needsRoot, () => {
  const dir = mkdtempSync(join(tmpdir(), 'netns-fifo-'));
  try {
    native().mknod(join(dir, 'p'), 0o010000 | 0o600, 0, 0);
    assert.throws(() => containerDevices({ Devices: [{ PathOnHost: dir, PathInContainer: '/dev/f', CgroupPermissions: 'rwm' }] }, false),
      (e: unknown) => e instanceof ApiError && e.status === 500 && /invalid cgroup device type "p"/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('create refuses bad device input with 400 and creates nothing', needsRoot, async () => {
  const before = (await dray.docker(['ps', '-aq'])).trim();
  const create = (hc: Record<string, unknown>): Promise<{ status: number; body: string }> =>
    apiPost(dray.socket, '/v1.41/containers/create', JSON.stringify({ Image: 'busybox', Cmd: ['true'], HostConfig: hc }));
  assert.deepEqual(await create({ Devices: [{ PathOnHost: '/dev/zero', PathInContainer: 'dev/z', CgroupPermissions: 'rwm' }] }), { status: 400, body: '{"message":"bad format for path: dev/z"}' });
  assert.deepEqual(await create({ Devices: [{ PathOnHost: '/dev/zero', PathInContainer: '/dev/z', CgroupPermissions: 'rwx' }] }), { status: 400, body: '{"message":"bad mode specified: rwx"}' });
  // dockerd 20.10's message, which it gives only at start (500)
  assert.deepEqual(await create({ DeviceCgroupRules: ['c 1:2 rwmx'] }), { status: 400, body: `{"message":"invalid device cgroup rule format: 'c 1:2 rwmx'"}` });
  assert.equal((await dray.docker(['ps', '-aq'])).trim(), before);
});

function apiPost(socket: string, path: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => { b += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b.trim() }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

test('--network container:<x> across a kill -9 of drayd: the joiner is re-adopted in its owner\'s namespace', needsRoot, async () => {
  const owner = `owner-${uniq()}`;
  const joiner = `joiner-${uniq()}`;
  try {
    await dray.docker(['run', '-d', '--name', owner, 'busybox', 'sleep', '300']);
    await dray.docker(['run', '-d', '--name', joiner, '--network', `container:${owner}`, 'busybox', 'sleep', '300']);
    await dray.kill9();
    await dray.restart();
    const ns = async (c: string): Promise<string> => (await dray.docker(['exec', c, 'readlink', '/proc/self/ns/net'])).trim();
    assert.equal(await ns(joiner), await ns(owner));
    const j = (JSON.parse(await dray.docker(['inspect', joiner])) as Inspect[])[0]!;
    assert.deepEqual([j.NetworkSettings.Networks, j.Config.Hostname], [{}, (await dray.docker(['inspect', '-f', '{{.Config.Hostname}}', owner])).trim()]);
    await dray.docker(['stop', '-t', '0', owner]);
    assert.equal((await dray.docker(['inspect', '-f', '{{.State.Running}}', joiner])).trim(), 'true');
  } finally {
    await dray.dockerResult(['rm', '-f', joiner, owner]);
  }
});
