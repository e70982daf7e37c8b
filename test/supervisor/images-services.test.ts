// The content, images and snapshots services: thin adapters over the images
// library, driven through the real client against a real dray-containerd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Metadata, status } from '@grpc/grpc-js';
import { hasCode, withDrayContainerd } from '../support/dray-containerd.ts';
import type { Envelope } from '../../src/supervisor/client/index.ts';
import { needsRoot } from '../support/root.ts';

const sha = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

const withDaemon = withDrayContainerd;

test('content: write in chunks, info, read (ranges), labels, list, delete', async (t) => {
  const d = await withDaemon(t);
  const c = d.client();
  const blob = randomBytes((2 << 20) + 12345);
  const digest = sha(blob);
  assert.equal(await c.content.write('ref-1', blob, digest, { 'dray.io/origin': 'test' }), digest);
  const info = await c.content.info(digest);
  assert.equal(info.size, blob.length);
  assert.deepEqual(info.labels, { 'dray.io/origin': 'test' });
  assert.ok((await c.content.readAll(digest)).equals(blob));
  const parts: Buffer[] = [];
  for await (const p of c.content.read(digest, 1000, 5000)) parts.push(p);
  assert.ok(Buffer.concat(parts).equals(blob.subarray(1000, 6000)));
  await assert.rejects(c.content.readAll('sha256:' + '0'.repeat(64)), hasCode(status.NOT_FOUND));
  await assert.rejects(c.content.info('sha256:../../etc/passwd'), hasCode(status.INVALID_ARGUMENT));
  await assert.rejects(c.content.info('md5:abc'), hasCode(status.INVALID_ARGUMENT));

  assert.deepEqual((await c.content.update(digest, { extra: 'x' }, ['labels.extra'])).labels, { 'dray.io/origin': 'test', extra: 'x' });
  await assert.rejects(c.content.update(digest, {}, ['size']), hasCode(status.INVALID_ARGUMENT));
  const small = Buffer.from('hello');
  await c.content.write('ref-2', small, sha(small));
  assert.deepEqual((await c.content.list()).map((i) => i.digest).sort(), [digest, sha(small)].sort());
  assert.deepEqual((await c.content.list('labels.extra==x')).map((i) => i.digest), [digest]);
  await assert.rejects(c.content.write('ref-3', small, sha(small)), hasCode(status.ALREADY_EXISTS));
  await assert.rejects(c.content.write('ref-4', Buffer.from('other'), sha(Buffer.from('not other'))), (e: unknown) => hasCode(status.FAILED_PRECONDITION)(e) && /unexpected digest/.test((e as Error).message));
  assert.equal((await c.content.list()).length, 2, 'a failed commit published nothing');

  const sub = c.events.subscribe('topic==/content/delete');
  await sub.ready;
  await c.content.delete(sha(small));
  await assert.rejects(c.content.info(sha(small)), hasCode(status.NOT_FOUND));
  await assert.rejects(c.content.delete(sha(small)), hasCode(status.NOT_FOUND));
  for await (const e of sub) { assert.equal((e.event as Record<string, unknown>)['digest'], sha(small)); break; }
  sub.cancel();
});

test('content: an unfinished ingest shows in status, resumes, and aborts', async (t) => {
  const d = await withDaemon(t);
  const c = d.client();
  const blob = randomBytes(300_000);
  const raw = c.raw('content') as unknown as { write(md: Metadata): import('@grpc/grpc-js').ClientDuplexStream<object, { offset: number }> };
  const md = new Metadata();
  md.set('dray-namespace', 'default');
  const call = raw.write(md);
  const first = new Promise<{ offset: number }>((resolve, reject) => { call.once('data', resolve); call.once('error', reject); });
  call.write({ action: 'WRITE', ref: 'partial', total: blob.length, expected: sha(blob), offset: 0, data: blob.subarray(0, 100_000) });
  assert.equal((await first).offset, 100_000);
  call.end();
  await new Promise((r) => call.once('end', r).once('error', r).resume());
  const st = await c.content.status('partial');
  assert.equal(st.offset, 100_000);
  assert.equal(st.total, blob.length);
  assert.deepEqual((await c.content.listStatuses()).map((s) => s.ref), ['partial']);
  // The client resumes from the server's offset.
  assert.equal(await c.content.write('partial', blob, sha(blob)), sha(blob));
  await assert.rejects(c.content.status('partial'), hasCode(status.NOT_FOUND));
  // And an abandoned one can be aborted.
  const call2 = raw.write(md);
  const got = new Promise((resolve, reject) => { call2.once('data', resolve); call2.once('error', reject); });
  call2.write({ action: 'WRITE', ref: 'doomed', offset: 0, data: Buffer.from('abc') });
  await got;
  call2.end();
  await new Promise((r) => call2.once('end', r).once('error', r).resume());
  await c.content.abort('doomed');
  await assert.rejects(c.content.status('doomed'), hasCode(status.NOT_FOUND));
});

test('images: records per namespace, masks, events, and delete with GC', async (t) => {
  const d = await withDaemon(t);
  const c = d.client();
  await c.namespaces.create('other');
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: 'sha256:' + 'e'.repeat(64), size: 2 }, layers: [] }));
  const md = sha(manifest);
  await c.content.write('m', manifest, md);
  const target = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: md, size: manifest.length };
  const sub = c.events.subscribe('topic~=^/images/');
  await sub.ready;
  const img = await c.images.create({ name: 'docker.io/library/test:1', target, labels: { a: '1' } });
  assert.equal(img.target!.digest, md);
  await assert.rejects(c.images.create({ name: 'docker.io/library/test:1', target }), hasCode(status.ALREADY_EXISTS));
  await assert.rejects(c.images.create({ name: 'bad name', target }), hasCode(status.INVALID_ARGUMENT));
  await assert.rejects(c.images.create({ name: 'x', target: { ...target, digest: 'sha256:nope' } }), hasCode(status.INVALID_ARGUMENT));
  await assert.rejects(c.withNamespace('other').images.get('docker.io/library/test:1'), hasCode(status.NOT_FOUND));
  assert.deepEqual(await c.withNamespace('other').images.list(), []);
  assert.deepEqual((await c.images.update({ name: 'docker.io/library/test:1', labels: { b: '2' } }, ['labels.b'])).labels, { a: '1', b: '2' });
  await assert.rejects(c.images.update({ name: 'docker.io/library/test:1' }, ['name']), hasCode(status.INVALID_ARGUMENT));
  assert.deepEqual((await c.images.list('labels.b==2')).map((i) => i.name), ['docker.io/library/test:1']);
  await assert.rejects(c.namespaces.delete('default'), (e: unknown) => hasCode(status.FAILED_PRECONDITION)(e) && /image/.test((e as Error).message));

  await c.images.delete('docker.io/library/test:1', true);
  await assert.rejects(c.images.delete('docker.io/library/test:1'), hasCode(status.NOT_FOUND));
  await assert.rejects(c.content.info(md), hasCode(status.NOT_FOUND), 'the sync delete collected the unreferenced manifest');
  const topics: string[] = [];
  for await (const e of sub as AsyncIterable<Envelope>) { topics.push(e.topic); if (topics.length === 3) break; }
  sub.cancel();
  assert.deepEqual(topics, ['/images/create', '/images/update', '/images/delete']);

});

for (const snapshotter of ['naive', 'overlayfs']) {
  test(`snapshots (${snapshotter}): prepare, commit, views, namespaced keys, removal order`, snapshotter === 'overlayfs' ? needsRoot : {}, async (t) => {
    const d = await withDaemon(t);
    const c = d.client();
    await c.namespaces.create('b');
    const b = c.withNamespace('b');
    const mounts = await c.snapshots.prepare(snapshotter, 'layer-1');
    assert.equal(mounts.length, 1);
    assert.ok(mounts[0]!.source.startsWith(d.dataRoot), 'the snapshot lives under the data root');
    await c.snapshots.commit(snapshotter, 'base', 'layer-1', { 'dray.io/layer': '1' });
    const top = await c.snapshots.prepare(snapshotter, 'rw', 'base');
    assert.ok(top.length >= 1);
    assert.deepEqual(await c.snapshots.mounts(snapshotter, 'rw'), top);
    const st = await c.snapshots.stat(snapshotter, 'rw');
    assert.equal(st.kind, 'ACTIVE');
    assert.equal(st.parent, 'base', 'names come back without the namespace prefix');
    assert.equal((await c.snapshots.stat(snapshotter, 'base')).kind, 'COMMITTED');
    assert.deepEqual((await c.snapshots.list(snapshotter)).map((i) => i.name).sort(), ['base', 'rw']);
    assert.deepEqual((await c.snapshots.list(snapshotter, 'kind==COMMITTED')).map((i) => i.name), ['base']);
    assert.ok((await c.snapshots.usage(snapshotter, 'base')).inodes >= 1);
    assert.deepEqual((await c.snapshots.update(snapshotter, 'base', { extra: 'y' }, ['labels.extra'])).labels, { 'dray.io/layer': '1', extra: 'y' });
    await assert.rejects(c.snapshots.update(snapshotter, 'base', {}, ['parent']), hasCode(status.INVALID_ARGUMENT));

    // Namespace b sees none of it, and may use the same keys.
    await assert.rejects(b.snapshots.stat(snapshotter, 'base'), hasCode(status.NOT_FOUND));
    await assert.rejects(b.snapshots.prepare(snapshotter, 'x', 'base'), hasCode(status.NOT_FOUND));
    await b.snapshots.prepare(snapshotter, 'rw');
    assert.deepEqual((await b.snapshots.list(snapshotter)).map((i) => i.name), ['rw']);

    await assert.rejects(c.snapshots.prepare(snapshotter, 'rw'), hasCode(status.ALREADY_EXISTS));
    await assert.rejects(c.snapshots.remove(snapshotter, 'base'), hasCode(status.FAILED_PRECONDITION));
    await assert.rejects(c.snapshots.prepare('zfs', 'k'), hasCode(status.INVALID_ARGUMENT));
    await assert.rejects(c.snapshots.prepare(snapshotter, ''), hasCode(status.INVALID_ARGUMENT));
    await assert.rejects(c.namespaces.delete('b'), (e: unknown) => hasCode(status.FAILED_PRECONDITION)(e) && /snapshot/.test((e as Error).message));
    await c.snapshots.remove(snapshotter, 'rw');
    await c.snapshots.remove(snapshotter, 'base');
    await b.snapshots.remove(snapshotter, 'rw');
    await c.namespaces.delete('b');
    assert.deepEqual(await c.snapshots.list(snapshotter), []);
  });
}
