// images.Pull through dray-containerd: from a real registry (distribution
// 2.8) holding the busybox test image, with progress, the image record,
// events and an unpack into a namespaced snapshotter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { startDrayContainerd } from '../support/dray-containerd.ts';
import { startRegistry, skopeo } from '../images-registry/support/registry.ts';
import { testImage } from '../images/index.ts';
import { chainIds } from '../../src/images/unpack.ts';
import { SupervisorError, type PullProgress } from '../../src/supervisor/client/index.ts';

test('pull busybox from a local registry, unpacked into a namespaced snapshotter', async (t) => {
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

  // The rootfs of a container: an active snapshot on top of the image.
  const mounts = await e.snapshots.prepare('naive', 'ctr-1', top);
  assert.equal(mounts.length, 1);

  // A second pull finds everything in place.
  const again: PullProgress[] = [];
  for await (const p of e.images.pull(ref)) again.push(p);
  assert.ok(again.some((p) => p.status === 'Already exists'));

  // Bad references and unreachable registries are errors, not hangs.
  await assert.rejects(async () => { for await (const _ of e.images.pull('not a reference!')) { /* drain */ } }, (err: unknown) => (err as SupervisorError).code === status.INVALID_ARGUMENT);
  await assert.rejects(async () => { for await (const _ of e.images.pull(`${reg.host}/library/nothere:1`)) { /* drain */ } }, (err: unknown) => err instanceof SupervisorError && err.code !== status.OK);
});
