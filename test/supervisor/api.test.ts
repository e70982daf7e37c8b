// dray-containerd driven as a real process through the real gRPC client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, status } from '@grpc/grpc-js';
import { hasCode, withDrayContainerd } from '../support/dray-containerd.ts';
import { SupervisorClient } from '../../src/supervisor/client/index.ts';

const spec = { ociVersion: '1.2.0', process: { args: ['true'], cwd: '/' }, root: { path: 'rootfs' } };

const withDaemon = withDrayContainerd;

test('version and health answer', async (t) => {
  const d = await withDaemon(t);
  const c = d.client();
  assert.equal((await c.version()).api, 'v1');
  assert.equal(await c.health(), 'SERVING');
  assert.equal(await c.health('dray.services.containers.v1.Containers'), 'SERVING');
  await assert.rejects(c.health('no.such.Service'), hasCode(status.NOT_FOUND));
});

test('namespaces isolate containers; unknown or missing namespace is refused', async (t) => {
  const d = await withDaemon(t);
  const def = d.client();
  await def.namespaces.create('tenant-a', { owner: 'a' });
  await def.namespaces.create('tenant-b');
  const a = def.withNamespace('tenant-a');
  const b = def.withNamespace('tenant-b');
  await a.containers.create({ id: 'shared-name', runtime: { name: 'dray' }, spec, labels: { who: 'a' } });
  await b.containers.create({ id: 'shared-name', runtime: { name: 'runc' }, spec, labels: { who: 'b' } });
  await a.containers.create({ id: 'only-a', runtime: { name: 'dray' }, spec });
  assert.deepEqual((await a.containers.list()).map((c) => c.id), ['only-a', 'shared-name']);
  assert.deepEqual((await b.containers.list()).map((c) => c.id), ['shared-name']);
  assert.equal((await b.containers.get('shared-name')).labels['who'], 'b');
  assert.deepEqual(await def.containers.list(), []);
  await assert.rejects(b.containers.get('only-a'), hasCode(status.NOT_FOUND));
  await assert.rejects(b.containers.delete('only-a'), hasCode(status.NOT_FOUND));
  assert.ok(await a.containers.get('only-a'), 'a failed delete from b removed nothing');

  const ghost = def.withNamespace('ghost');
  await assert.rejects(ghost.containers.list(), (e: unknown) => hasCode(status.FAILED_PRECONDITION)(e) && /ghost/.test((e as Error).message));
  await assert.rejects(ghost.containers.create({ id: 'x', runtime: { name: 'dray' }, spec }), hasCode(status.FAILED_PRECONDITION));
  await assert.rejects(def.withNamespace('bad/ns').containers.list(), hasCode(status.INVALID_ARGUMENT));
  // No namespace metadata at all.
  const raw = def.raw('containers') as unknown as { list(req: unknown, md: Metadata, cb: (e: { code: number } | null) => void): void };
  const code = await new Promise<number | undefined>((resolve) => raw.list({ filters: [] }, new Metadata(), (e) => resolve(e?.code)));
  assert.equal(code, status.INVALID_ARGUMENT);

  await assert.rejects(def.namespaces.delete('tenant-b'), hasCode(status.FAILED_PRECONDITION));
  await b.containers.delete('shared-name');
  await def.namespaces.delete('tenant-b');
  assert.deepEqual((await def.namespaces.list()).map((n) => n.name), ['default', 'tenant-a']);
  assert.deepEqual((await def.namespaces.get('tenant-a')).labels, { owner: 'a' });
});

test('container CRUD through gRPC, with the right status codes', async (t) => {
  const d = await withDaemon(t);
  const c = d.client();
  const created = await c.containers.create({ id: 'web', image: 'docker.io/library/busybox:latest', runtime: { name: 'dray', options: { systemdCgroup: false } }, spec, labels: { app: 'web' }, snapshotter: 'overlayfs', snapshotKey: 'web' });
  assert.equal(created.id, 'web');
  assert.deepEqual(JSON.parse(created.spec.toString()), spec);
  assert.deepEqual(JSON.parse(created.runtime!.options!.toString()), { systemdCgroup: false });
  assert.ok(created.createdAt && created.createdAt.seconds > 0);
  await assert.rejects(c.containers.create({ id: 'web', runtime: { name: 'dray' }, spec }), hasCode(status.ALREADY_EXISTS));
  const got = await c.containers.get('web');
  assert.equal(got.image, 'docker.io/library/busybox:latest');
  assert.equal(got.snapshotKey, 'web');
  const upd = await c.containers.update({ id: 'web', labels: { tier: 'front' } }, ['labels.tier']);
  assert.deepEqual(upd.labels, { app: 'web', tier: 'front' });
  await assert.rejects(c.containers.update({ id: 'web', snapshotter: 'native' }, ['image']), hasCode(status.INVALID_ARGUMENT));
  await assert.rejects(c.containers.update({ id: 'web' }, ['runtime']), hasCode(status.INVALID_ARGUMENT));
  await assert.rejects(c.containers.update({ id: 'nope', image: 'x' }, ['image']), hasCode(status.NOT_FOUND));
  assert.deepEqual((await c.containers.list('labels.tier==front')).map((x) => x.id), ['web']);
  await assert.rejects(c.containers.list('labels.tier=='), hasCode(status.INVALID_ARGUMENT));
  await c.containers.delete('web');
  await assert.rejects(c.containers.get('web'), hasCode(status.NOT_FOUND));
  await assert.rejects(c.containers.delete('web'), hasCode(status.NOT_FOUND));
});

test('bad requests are INVALID_ARGUMENT', async (t) => {
  const d = await withDaemon(t);
  const c = d.client();
  const bad: [string, () => Promise<unknown>][] = [
    ['empty id', () => c.containers.create({ id: '', runtime: { name: 'dray' }, spec })],
    ['path id', () => c.containers.create({ id: '../../etc', runtime: { name: 'dray' }, spec })],
    ['no runtime', () => c.containers.create({ id: 'a', runtime: { name: '' }, spec })],
    ['spec not JSON', () => c.containers.create({ id: 'a', runtime: { name: 'dray' }, spec: Buffer.from('{{') })],
    ['no spec', () => c.containers.create({ id: 'a', runtime: { name: 'dray' }, spec: Buffer.alloc(0) })],
    ['get empty id', () => c.containers.get('')],
    ['bad namespace name', () => c.namespaces.create('a b')],
    ['bad lease resource', async () => { const l = await c.leases.create(); await c.leases.addResource(l.id, { type: '../x', id: 'y' }); }],
    ['bad event topic', () => c.events.publish('no-slash', { type: 'ContainerDelete', payload: { id: 'x' } })],
    ['bad mask', () => c.namespaces.update('default', {}, ['name'])],
  ];
  for (const [what, fn] of bad) await assert.rejects(fn(), hasCode(status.INVALID_ARGUMENT), what);
  assert.deepEqual(await c.containers.list(), []);
});

test('two clients racing to create one id: exactly one wins each time', async (t) => {
  const d = await withDaemon(t);
  const c1 = d.client();
  const c2 = new SupervisorClient(d.address);
  t.after(() => c2.close());
  for (let i = 0; i < 20; i++) {
    const id = `race-${i}`;
    const results = await Promise.allSettled([
      c1.containers.create({ id, runtime: { name: 'dray' }, spec, labels: { by: 'c1' } }),
      c2.containers.create({ id, runtime: { name: 'dray' }, spec, labels: { by: 'c2' } }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1, id);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(hasCode(status.ALREADY_EXISTS)(lost.reason));
    const winner = (won[0] as PromiseFulfilledResult<{ labels: Record<string, string> }>).value.labels['by'];
    assert.equal((await c1.containers.get(id)).labels['by'], winner, 'the stored record is the winner\'s');
  }
  assert.equal((await c1.containers.list()).length, 20);
});

test('leases over gRPC', async (t) => {
  const d = await withDaemon(t);
  const c = d.client();
  const l = await c.leases.create('pull-1', { purpose: 'pull' });
  assert.equal(l.id, 'pull-1');
  await c.leases.addResource('pull-1', { type: 'content', id: 'sha256:' + '0'.repeat(64) });
  assert.deepEqual(await c.leases.listResources('pull-1'), [{ type: 'content', id: 'sha256:' + '0'.repeat(64) }]);
  await c.leases.deleteResource('pull-1', { type: 'content', id: 'sha256:' + '0'.repeat(64) });
  assert.deepEqual(await c.leases.listResources('pull-1'), []);
  assert.deepEqual((await c.leases.list()).map((x) => x.id), ['pull-1']);
  assert.deepEqual(await c.withNamespace('default').leases.list('labels.purpose==build'), []);
  await assert.rejects(c.leases.create('pull-1'), hasCode(status.ALREADY_EXISTS));
  await c.leases.delete('pull-1');
  await assert.rejects(c.leases.delete('pull-1'), hasCode(status.NOT_FOUND));
});
