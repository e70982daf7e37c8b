// The same scenarios through an SDK: dockerode (npm) against drayd; plus
// push/pull with the CLI through a registry with basic auth (docker login).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { needsRoot } from '../support/root.ts';
import { startRegistry, type RegistryPeer } from '../harness/index.ts';
import { testImage } from '../images/index.ts';
import { startDrayd, type Drayd } from './support/drayd.ts';

let dray: Drayd;
let docker: Docker;
let registry: RegistryPeer;

before(async () => {
  if (needsRoot.skip) return;
  dray = await startDrayd();
  registry = await startRegistry({ auth: { username: 'u', password: 'p' } });
  docker = new Docker({ socketPath: dray.socket });
  await dray.docker(['load', '-i', (await testImage('busybox')).dockerArchive]);
});

after(async () => {
  await dray?.stop();
  registry?.stop();
});

function demux(stream: NodeJS.ReadableStream): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (b: Buffer) => { o += b.toString(); });
  err.on('data', (b: Buffer) => { e += b.toString(); });
  docker.modem.demuxStream(stream, out, err);
  return new Promise((resolve) => stream.on('end', () => resolve({ stdout: o, stderr: e })));
}

test('dockerode: create, attach, start, wait, logs, inspect, remove', needsRoot, async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 2'], name: 'sdk1', Labels: { sdk: 'yes' } });
  try {
    const stream = await c.attach({ stream: true, stdout: true, stderr: true, hijack: true });
    const collected = demux(stream);
    const waited = c.wait({ condition: 'next-exit' });
    await c.start();
    const [w, out] = await Promise.all([waited, collected]);
    assert.equal((w as { StatusCode: number }).StatusCode, 2);
    assert.deepEqual(out, { stdout: 'out\n', stderr: 'err\n' });
    const logs = await c.logs({ stdout: true, stderr: true, timestamps: false });
    assert.ok(Buffer.isBuffer(logs));
    assert.ok(logs.toString().includes('out\n'));
    const info = await c.inspect();
    assert.equal(info.State.Status, 'exited');
    assert.equal(info.State.ExitCode, 2);
    assert.equal(info.Name, '/sdk1');
    assert.equal(info.Config.Labels['sdk'], 'yes');
    const list = await docker.listContainers({ all: true, filters: { label: ['sdk=yes'] } });
    assert.deepEqual(list.map((x) => x.Names[0]), ['/sdk1']);
  } finally {
    await c.remove({ force: true });
  }
  await assert.rejects(docker.getContainer('sdk1').inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
});

test('dockerode: exec with stdin through a hijacked stream, stop, restart, pause, rename, top, stats', needsRoot, async () => {
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '300'], name: 'sdk2', StopTimeout: 1 });
  try {
    await c.start();
    const ex = await c.exec({ Cmd: ['sh', '-c', 'read x; echo got $x; exit 3'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const s = await ex.start({ hijack: true, stdin: true });
    const collected = demux(s);
    s.write('hello\n');
    const out = await collected;
    assert.equal(out.stdout, 'got hello\n');
    assert.equal((await ex.inspect()).ExitCode, 3);
    const top = await c.top();
    assert.ok(top.Processes.some((p: string[]) => p.join(' ').includes('sleep 300')));
    const stats = await c.stats({ stream: false });
    assert.ok(stats.memory_stats !== undefined && (stats.pids_stats?.current ?? 0) >= 1);
    await c.pause();
    assert.equal((await c.inspect()).State.Status, 'paused');
    await c.unpause();
    await c.rename({ name: 'sdk2b' });
    assert.equal((await docker.getContainer('sdk2b').inspect()).Name, '/sdk2b');
    await c.restart({ t: 1 });
    assert.equal((await c.inspect()).State.Running, true);
    await c.stop({ t: 1 });
    assert.equal((await c.inspect()).State.ExitCode, 137);
  } finally {
    await c.remove({ force: true });
  }
});

test('dockerode: images, tag, version, info, events', needsRoot, async () => {
  const imgs = await docker.listImages();
  assert.ok(imgs.some((i) => i.RepoTags?.includes('busybox:latest')));
  await docker.getImage('busybox').tag({ repo: 'sdk/tagged', tag: 'x' });
  const ins = await docker.getImage('sdk/tagged:x').inspect();
  assert.ok(ins.RepoTags.includes('sdk/tagged:x'));
  const del = await docker.getImage('sdk/tagged:x').remove();
  assert.deepEqual(del, [{ Untagged: 'sdk/tagged:x' }]);
  assert.equal((await docker.version()).ApiVersion, '1.50');
  assert.equal((await docker.info()).Driver, 'overlayfs');
  const since = Math.floor(Date.now() / 1000) - 1;
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['true'] });
  await c.remove();
  const ev = await docker.getEvents({ since, until: Math.ceil(Date.now() / 1000) + 1, filters: { container: [c.id] } });
  const text = await new Promise<string>((resolve) => { let t = ''; ev.on('data', (b: Buffer) => { t += b.toString(); }); ev.on('end', () => resolve(t)); });
  const actions = text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { Action: string }).Action);
  assert.deepEqual(actions, ['create', 'destroy']);
});

test('push and pull through a registry with auth (docker login), then run the pulled image', needsRoot, async () => {
  const ref = `${registry.host}/sdk/busybox:v1`;
  const bad = await dray.dockerResult(['login', '-u', 'u', '-p', 'wrong', registry.host]);
  assert.notEqual(bad.code, 0);
  await dray.docker(['login', '-u', 'u', '-p', 'p', registry.host]);
  await dray.docker(['tag', 'busybox', ref]);
  const pushed = await dray.docker(['push', ref]);
  assert.match(pushed, /v1: digest: sha256:[0-9a-f]{64} size: \d+/);
  await dray.docker(['rmi', ref]);
  const pulled = await dray.docker(['pull', ref]);
  assert.match(pulled, /Status: Downloaded newer image for /);
  assert.match(await dray.docker(['pull', ref]), /Status: Image is up to date for /);
  assert.equal(await dray.docker(['run', '--rm', ref, 'echo', 'pulled']), 'pulled\n');
  const digests = await dray.docker(['inspect', '--format', '{{json .RepoDigests}}', ref]);
  assert.match(digests, new RegExp(`${registry.host}/sdk/busybox@sha256:`));
  const missing = await dray.dockerResult(['pull', `${registry.host}/sdk/nosuch:v1`]);
  assert.notEqual(missing.code, 0);
});
