// images.Pull through dray-containerd: from a real registry (distribution
// 2.8) holding the busybox test image, with progress, the image record,
// events and an unpack into a namespaced snapshotter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDrayContainerd } from '../support/dray-containerd.ts';
import { startRegistry, skopeo } from '../images-registry/support/registry.ts';
import { testImage } from '../images/index.ts';
import { chainIds } from '../../src/images/unpack.ts';
import { needsRoot } from '../support/root.ts';
import { SupervisorError, type PullProgress } from '../../src/supervisor/client/index.ts';

test('pull busybox from a local registry, unpacked into a namespaced snapshotter, and run as a task', needsRoot, async (t) => {
  const img = await testImage('busybox');
  const reg = await startRegistry();
  t.after(() => reg.stop());
  skopeo(['copy', `oci:${img.ociLayout}:latest`, `docker://${reg.host}/library/busybox:1`], ['--dest-tls-verify=false']);
  const d = await startDrayContainerd();
  t.after(() => d.cleanup());
  const c = d.client();
  await c.namespaces.create('engine');
  const e = c.withNamespace('engine');
  const sub = c.events.subscribe('topic==/images/create');
  await sub.ready;

  const ref = `${reg.host}/library/busybox:1`;
  const seen: PullProgress[] = [];
  for await (const p of e.images.pull(ref, { snapshotter: 'naive' })) seen.push(p);
  const done = seen.at(-1)!;
  assert.equal(done.kind, 'done');
  assert.equal(done.image!.name, ref);
  assert.ok(seen.some((p) => p.kind === 'progress' && p.status === 'Download complete'), seen.map((p) => p.status).join(','));
  assert.ok(seen.some((p) => p.kind === 'unpack' && p.status === 'done'));

  assert.equal((await e.images.get(ref)).target!.digest, done.image!.target!.digest);
  await assert.rejects(c.images.get(ref), (err: unknown) => (err as SupervisorError).code === status.NOT_FOUND, 'pulled into "engine" only');
  const top = chainIds(img.layers.map((l) => l.diffId)).at(-1)!;
  assert.equal((await e.snapshots.stat('naive', top)).kind, 'COMMITTED', 'the unpacked chain is in the namespace');
  await assert.rejects(c.snapshots.stat('naive', top), (err: unknown) => (err as SupervisorError).code === status.NOT_FOUND);
  for await (const ev of sub) { assert.equal(ev.namespace, 'engine'); assert.equal((ev.event as Record<string, unknown>)['name'], ref); break; }
  sub.cancel();

  // The rootfs of a container: an active snapshot on top of the image, mounted for its task.
  const mounts = await e.snapshots.prepare('naive', 'ctr-1', top);
  assert.equal(mounts.length, 1);
  const bundle = mkdtempSync(join(tmpdir(), 'dray-sup-pull-spec-'));
  t.after(() => rmSync(bundle, { recursive: true, force: true }));
  execFileSync('runc', ['spec', '--bundle', bundle]);
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[]; terminal: boolean } };
  spec.process = { ...spec.process, args: ['sh', '-c', 'test -x /bin/busybox && exit 9'], terminal: false };
  await e.containers.create({ id: 'from-image', image: ref, runtime: { name: 'runc' }, spec, snapshotter: 'naive', snapshotKey: 'ctr-1' });
  await e.tasks.create('from-image');
  await e.tasks.start('from-image');
  assert.equal((await e.tasks.wait('from-image')).exitStatus, 9, 'the task ran in the image\'s rootfs');
  await e.tasks.delete('from-image');
  assert.deepEqual(readdirSync(join(d.execRoot, 'bundles', 'engine')), [], 'the rootfs was unmounted and the bundle removed');
  await e.containers.delete('from-image');

  // A second pull finds everything in place.
  const again: PullProgress[] = [];
  for await (const p of e.images.pull(ref)) again.push(p);
  assert.ok(again.some((p) => p.status === 'Already exists'));

  // Bad references and unreachable registries are errors, not hangs.
  await assert.rejects(async () => { for await (const _ of e.images.pull('not a reference!')) { /* drain */ } }, (err: unknown) => (err as SupervisorError).code === status.INVALID_ARGUMENT);
  await assert.rejects(async () => { for await (const _ of e.images.pull(`${reg.host}/library/nothere:1`)) { /* drain */ } }, (err: unknown) => err instanceof SupervisorError && err.code !== status.OK);
});
