// drayd against dockerd for the filesystem verbs (diff, cp both ways and
// symlink escapes, export, commit, import), stats/update, --init,
// healthchecks, events, info, and the image verbs (inspect, images, tag,
// rmi with its conflicts, history, save/load).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsRoot } from '../support/root.ts';
import { waitUntil, type DockerdPeer } from '../harness/index.ts';
import type { Drayd } from './support/drayd.ts';
import { startDaemonPair, type DaemonPair } from './support/pair.ts';

let dray: Drayd;
let real: DockerdPeer;
let pair: DaemonPair | undefined;
let work: string;

before(async () => {
  if (needsRoot.skip) return;
  pair = await startDaemonPair();
  ({ dray, real } = pair);
  work = mkdtempSync(join(tmpdir(), 'drayd-fs-'));
});

after(async () => {
  await pair?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

type R = { code: number | null; stdout: string; stderr: string };
async function both(args: string[], input?: string): Promise<[R, R]> {
  const o = input !== undefined ? { input } : {};
  const [a, b] = await Promise.all([dray.dockerResult(args, o), real.dockerResult(args, { ...o, cli: 'v28' })]);
  return [a, b];
}

const SETUP = 'mkdir /tmp/d; echo a > /tmp/d/a; ln -s /etc/passwd /tmp/d/l; ln -s / /tmp/up; rm /bin/vi; sleep 100';

test('diff, cp out and in (symlinks stay inside), export, commit, import', needsRoot, async () => {
  await both(['run', '-d', '--name', 'fs', 'busybox', 'sh', '-c', SETUP]);
  try {
    await waitUntil('setup ran', async () => (await dray.dockerResult(['exec', 'fs', 'test', '-e', '/tmp/up'])).code === 0, 5000);
    await waitUntil('setup ran (dockerd)', async () => (await real.dockerResult(['exec', 'fs', 'test', '-e', '/tmp/up'])).code === 0, 5000);
    const [dd, rd] = await both(['diff', 'fs']);
    const sorted = (s: string) => s.split('\n').filter(Boolean).sort();
    assert.deepEqual(sorted(dd.stdout), sorted(rd.stdout)); // dockerd's order is its directory walk's
    // cp out: a directory with a symlink in it (the link is copied as a link)
    for (const [side, s] of [['d', dray], ['r', real]] as const) {
      await s.docker(['cp', 'fs:/tmp/d', join(work, `out-${side}`)], { cli: 'v28' });
      assert.equal(readFileSync(join(work, `out-${side}`, 'a'), 'utf8'), 'a\n');
      assert.equal(readlinkSync(join(work, `out-${side}`, 'l')), '/etc/passwd');
    }
    // cp in, through a symlink to / inside the container: lands in the container's root, never the host's
    writeFileSync(join(work, 'in.txt'), 'into the container\n');
    const [dc, rc] = await both(['cp', join(work, 'in.txt'), 'fs:/tmp/up/tmp/']);
    assert.equal(dc.code, rc.code);
    assert.equal(await dray.docker(['exec', 'fs', 'cat', '/tmp/in.txt']), 'into the container\n');
    assert.ok(!existsSync('/tmp/in.txt') || readFileSync('/tmp/in.txt', 'utf8') !== 'into the container\n');
    const [dm, rm] = await both(['cp', 'fs:/nonexistent', join(work, 'x')]);
    assert.equal(dm.code, rm.code);
    assert.equal(dm.stderr.replace(/fs/, ''), rm.stderr.replace(/fs/, ''));
    // export
    const tarList = await dray.dockerResult(['export', 'fs']);
    assert.equal(tarList.code, 0);
    assert.ok(tarList.stdout.includes('tmp/d/a'));
    // commit, then run the new image
    const id = (await dray.docker(['commit', 'fs', 'committed:v1'])).trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await dray.docker(['run', '--rm', 'committed:v1', 'cat', '/tmp/d/a']), 'a\n');
    assert.equal((await dray.dockerResult(['run', '--rm', 'committed:v1', 'test', '-e', '/bin/vi'])).code, 1);
    const hist = (await dray.docker(['history', '-q', 'committed:v1'])).split('\n').filter(Boolean);
    assert.equal(hist[0], id.slice(7, 19));
    // export | import
    const exported = join(work, 'fs.tar');
    await dray.docker(['export', '-o', exported, 'fs']);
    const imp = (await dray.docker(['import', exported, 'imported:v1'])).trim();
    assert.match(imp, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await dray.docker(['run', '--rm', 'imported:v1', 'cat', '/tmp/d/a']), 'a\n');
  } finally {
    await both(['rm', '-f', 'fs']);
    await dray.dockerResult(['rmi', 'committed:v1', 'imported:v1']);
  }
});

test('stats --no-stream, update, --init, healthchecks and their events', needsRoot, async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await dray.docker(['run', '-d', '--name', 'st', '--init', '--health-cmd', 'test -f /tmp/ok', '--health-interval', '1s', '--health-retries', '1',
    'busybox', 'sh', '-c', 'sleep 1.5; touch /tmp/ok; sleep 100']);
  try {
    const fmt = '{{.Name}} {{.PIDs}}';
    const st = await dray.docker(['stats', '--no-stream', '--format', fmt, 'st']);
    assert.match(st, /^st [1-9]\d*\n$/);
    await dray.docker(['update', '--memory', '64m', '--memory-swap', '128m', 'st']);
    assert.equal((await dray.docker(['inspect', '--format', '{{.HostConfig.Memory}}', 'st'])).trim(), String(64 << 20));
    const ps = await dray.docker(['exec', 'st', 'ps', '-o', 'pid,args']);
    assert.match(ps, /\n\s*1 \/sbin\/docker-init -- sh -c/);
    await waitUntil('healthy', async () => (await dray.docker(['inspect', '--format', '{{.State.Health.Status}}', 'st'])).trim() === 'healthy', 15_000);
    const ev = await dray.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'container=st', '--format', '{{.Action}}']);
    const actions = ev.split('\n').filter(Boolean);
    assert.deepEqual(actions.slice(0, 2), ['create', 'start']);
    assert.ok(actions.includes('health_status: unhealthy'), ev);
    assert.ok(actions.includes('health_status: healthy'), ev);
    assert.ok(actions.includes('update'), ev);
  } finally {
    await dray.dockerResult(['rm', '-f', 'st']);
  }
  const [di, ri] = await both(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'exit 6']);
  assert.equal(di.code, 6);
  assert.equal(di.code, ri.code);
});

test('images: inspect, images, tag, rmi and its conflicts, history, save/load; info; version', needsRoot, async () => {
  const [di, ri] = await both(['inspect', '--format', '{{.Id}} {{.RepoTags}} {{.Architecture}} {{.Os}} {{json .RootFS.Layers}} {{json .Config.Cmd}}', 'busybox']);
  assert.equal(di.stdout, ri.stdout);
  const [dl, rl] = await both(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
  assert.equal(dl.stdout, rl.stdout);
  const [dh, rh] = await both(['history', '--format', '{{.CreatedBy}} {{.Size}}', 'busybox']);
  assert.equal(dh.stdout, rh.stdout);
  await both(['tag', 'busybox', 'mine/box:1']);
  const [dt, rt] = await both(['images', '--format', '{{.Repository}}:{{.Tag}}', 'mine/box']);
  assert.equal(dt.stdout, 'mine/box:1\n');
  assert.equal(dt.stdout, rt.stdout);
  await both(['create', '--name', 'user', 'mine/box:1', 'true']);
  try {
    const [dc, rc] = await both(['rmi', 'busybox']);
    assert.equal(dc.stdout, rc.stdout); // untag only: another tag remains
    await both(['tag', 'mine/box:1', 'busybox:latest']);
    const id = (await dray.docker(['inspect', '--format', '{{.Id}}', 'busybox'])).trim().slice(7, 19);
    const [dx, rx] = await both(['rmi', id]);
    assert.equal(dx.code, rx.code);
    const norm = (s: string) => s.replace(/[0-9a-f]{12}/g, 'ID');
    assert.equal(norm(dx.stderr), norm(rx.stderr));
  } finally {
    await both(['rm', 'user']);
  }
  const [du, ru] = await both(['rmi', 'mine/box:1']);
  assert.equal(du.stdout, ru.stdout);
  // save and load again
  const tarPath = join(work, 'save.tar');
  await dray.docker(['save', '-o', tarPath, 'busybox']);
  await dray.docker(['rmi', 'busybox']);
  assert.equal((await dray.docker(['load', '-i', tarPath])).trim(), 'Loaded image: busybox:latest');
  assert.equal(await dray.docker(['run', '--rm', 'busybox', 'echo', 'ok']), 'ok\n');
  const [dn, rn] = await both(['inspect', 'nosuchimage:1']);
  assert.equal(dn.code, rn.code);
  const [dr, rr] = await both(['rmi', 'nosuchimage:1']);
  assert.equal(dr.stderr, rr.stderr);
  // info and version
  const info = await dray.docker(['info', '--format', '{{.Containers}} {{.Images}} {{.Driver}} {{.CgroupDriver}} {{.OSType}} {{.DockerRootDir}}']);
  assert.equal(info, `0 1 overlayfs cgroupfs linux ${dray.dataRoot}\n`);
  assert.match(await dray.docker(['version', '--format', '{{.Server.APIVersion}}']), /^1\.50\n$/);
  const [dd, rd] = await both(['system', 'df', '--format', '{{.Type}}']);
  assert.equal(dd.stdout, rd.stdout);
});
