// The supervisor's stores on a real node:sqlite database (in a temp dir).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { migrate, openDatabase, transaction } from '../../src/common/sqlite.ts';
import { openMetadata, metadataOn } from '../../src/supervisor/metadata/metadata.ts';
import { parseFilters } from '../../src/supervisor/filters.ts';
import type { ContainerInput } from '../../src/supervisor/metadata/containers.ts';
import { ImageStore } from '../../src/images/metadata/images.ts';

const code = (c: status) => (err: unknown): boolean => (err as { code?: number }).code === c;

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'dray-meta-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const input = (id: string, extra: Partial<ContainerInput> = {}): ContainerInput => ({
  id, labels: {}, image: 'busybox', runtime: { name: 'dray', options: Buffer.alloc(0) }, spec: Buffer.from('{"ociVersion":"1.2.0"}'),
  snapshotter: '', snapshotKey: '', sandbox: '', extensions: {}, ...extra,
});

test('metadata: the database is WAL, owner-only, versioned per component', (t) => {
  const dir = tempDir(t);
  const m = openMetadata(dir);
  t.after(() => m.close());
  assert.equal((m.db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
  assert.equal(statSync(join(dir, 'metadata.db')).mode & 0o777, 0o600);
  const versions = m.db.prepare('SELECT component, version FROM schema_versions ORDER BY component').all() as { component: string; version: number }[];
  assert.deepEqual(versions.map((v) => v.component), ['images', 'supervisor'], 'one file, both components migrated');
  assert.equal((m.db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous, 2, 'FULL');
  assert.deepEqual(m.namespaces.list().map((n) => n.name), ['default']);
});

test('metadata: migrate runs each step once, resumes, and refuses a newer schema', (t) => {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  let runs = 0;
  const steps = [(d: typeof db) => { runs++; d.exec('CREATE TABLE x_a (k)'); }, (d: typeof db) => { runs++; d.exec('CREATE TABLE x_b (k)'); }];
  migrate(db, 'x', steps.slice(0, 1));
  migrate(db, 'x', steps);
  migrate(db, 'x', steps);
  assert.equal(runs, 2);
  assert.throws(() => migrate(db, 'x', steps.slice(0, 1)), /newer/);
  // A failing step commits nothing of itself.
  assert.throws(() => migrate(db, 'y', [(d) => { d.exec('CREATE TABLE y_a (k)'); throw new Error('boom'); }]), /boom/);
  assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'y_a'").get(), undefined);
});

test('metadata: transactions nest and roll back', (t) => {
  const db = openDatabase(':memory:');
  t.after(() => db.close());
  db.exec('CREATE TABLE t (v)');
  transaction(db, () => {
    db.exec('INSERT INTO t VALUES (1)');
    assert.throws(() => transaction(db, () => { db.exec('INSERT INTO t VALUES (2)'); throw new Error('inner'); }));
  });
  assert.deepEqual(db.prepare('SELECT v FROM t').all().map((r) => (r as { v: number }).v), [1]);
});

test('containers: create, duplicate, get, list with filters, isolation by namespace', (t) => {
  const m = metadataOn(openDatabase(':memory:'));
  t.after(() => m.close());
  m.namespaces.create('other', {});
  const c = m.containers.create('default', input('web', { labels: { app: 'web' } }));
  assert.equal(c.id, 'web');
  assert.throws(() => m.containers.create('default', input('web')), code(status.ALREADY_EXISTS));
  m.containers.create('other', input('web'));
  m.containers.create('default', input('db', { image: 'postgres', labels: { app: 'db' } }));
  assert.deepEqual(m.containers.list('default').map((x) => x.id), ['db', 'web']);
  assert.deepEqual(m.containers.list('default', parseFilters(['labels.app==web'])).map((x) => x.id), ['web']);
  assert.deepEqual(m.containers.list('default', parseFilters(['image~=^post', 'id==web'])).map((x) => x.id), ['db', 'web']);
  assert.deepEqual(m.containers.list('default', parseFilters(['runtime.name==runc'])), []);
  m.containers.delete('other', 'web');
  assert.equal(m.containers.get('default', 'web').id, 'web');
  assert.throws(() => m.containers.get('other', 'web'), code(status.NOT_FOUND));
  assert.throws(() => m.containers.delete('other', 'web'), code(status.NOT_FOUND));
});

test('containers: validation is INVALID_ARGUMENT and stores nothing', (t) => {
  const m = metadataOn(openDatabase(':memory:'));
  t.after(() => m.close());
  const bad: ContainerInput[] = [
    input(''), input('../etc'), input('a/b'), input('.hidden'), input('x'.repeat(77)), input('a--'),
    input('ok1', { runtime: { name: '', options: Buffer.alloc(0) } }),
    input('ok2', { spec: Buffer.alloc(0) }),
    input('ok3', { spec: Buffer.from('not json') }),
    input('ok4', { spec: Buffer.from('[1]') }),
    input('ok5', { snapshotKey: 'k' }),
    input('ok6', { labels: { '': 'x' } }),
    input('ok7', { labels: { k: 'v'.repeat(5000) } }),
    input('ok8', { runtime: { name: 'dray', options: Buffer.from('{') } }),
  ];
  for (const b of bad) assert.throws(() => m.containers.create('default', b), code(status.INVALID_ARGUMENT), JSON.stringify(b.id));
  assert.equal(m.containers.count('default'), 0);
  assert.equal(m.containers.create('default', input('a.b_c-9')).id, 'a.b_c-9');
});

test('containers: update by field mask; immutable fields refused', (t) => {
  const m = metadataOn(openDatabase(':memory:'));
  t.after(() => m.close());
  m.containers.create('default', input('c', { labels: { a: '1', b: '2' }, snapshotter: 'overlayfs', snapshotKey: 'k1' }));
  let c = m.containers.update('default', input('c', { labels: { b: '3', c: '4' }, image: 'ignored', snapshotter: 'overlayfs' }), ['labels.b', 'labels.a']);
  assert.deepEqual(c.labels, { b: '3' }, 'labels.a was absent: removed; labels.c not in the mask: not added');
  assert.equal(c.image, 'busybox');
  c = m.containers.update('default', input('c', { image: 'alpine', snapshotter: 'overlayfs', snapshotKey: 'k2' }), ['image', 'snapshot_key']);
  assert.equal(c.image, 'alpine');
  assert.equal(c.snapshotKey, 'k2');
  assert.throws(() => m.containers.update('default', input('c'), ['id']), code(status.INVALID_ARGUMENT));
  assert.throws(() => m.containers.update('default', input('c', { snapshotter: 'native' }), ['image']), code(status.INVALID_ARGUMENT));
  assert.throws(() => m.containers.update('default', input('c', { runtime: { name: 'runc', options: Buffer.alloc(0) } }), ['image']), code(status.INVALID_ARGUMENT));
  assert.throws(() => m.containers.update('default', input('c', { spec: Buffer.from('x') }), ['spec']), code(status.INVALID_ARGUMENT));
  assert.throws(() => m.containers.update('default', input('nope'), ['image']), code(status.NOT_FOUND));
  assert.equal(m.containers.get('default', 'c').image, 'alpine', 'failed updates changed nothing');
  assert.ok(c.updatedAt.getTime() >= c.createdAt.getTime());
});

test('namespaces: create, labels by mask, delete refused while not empty', (t) => {
  const m = metadataOn(openDatabase(':memory:'));
  t.after(() => m.close());
  m.namespaces.create('k8s.io', { a: '1' });
  assert.throws(() => m.namespaces.create('k8s.io', {}), code(status.ALREADY_EXISTS));
  assert.throws(() => m.namespaces.create('bad/name', {}), code(status.INVALID_ARGUMENT));
  assert.deepEqual(m.namespaces.updateLabels('k8s.io', { b: '2' }, ['labels.b']).labels, { a: '1', b: '2' });
  assert.deepEqual(m.namespaces.updateLabels('k8s.io', { c: '3' }, undefined).labels, { c: '3' });
  assert.throws(() => m.namespaces.updateLabels('k8s.io', {}, ['name']), code(status.INVALID_ARGUMENT));
  m.containers.create('k8s.io', input('c'));
  m.leases.create('k8s.io', 'l', {});
  assert.throws(() => m.namespaces.delete('k8s.io'), (e: unknown) => code(status.FAILED_PRECONDITION)(e) && /1 container/.test((e as Error).message));
  m.containers.delete('k8s.io', 'c');
  assert.throws(() => m.namespaces.delete('k8s.io'), /1 lease/);
  m.leases.delete('k8s.io', 'l');
  m.namespaces.delete('k8s.io');
  assert.throws(() => m.namespaces.get('k8s.io'), code(status.NOT_FOUND));
  assert.throws(() => m.namespaces.delete('k8s.io'), code(status.NOT_FOUND));
});

test('leases: resources, validation, expiry, cascade on delete', (t) => {
  const m = metadataOn(openDatabase(':memory:'));
  t.after(() => m.close());
  const l = m.leases.create('default', '', {});
  assert.match(l.id, /^[0-9]+-[0-9a-f]{12}$/);
  m.leases.addResource('default', l.id, { type: 'content', id: 'sha256:' + 'a'.repeat(64) });
  m.leases.addResource('default', l.id, { type: 'content', id: 'sha256:' + 'a'.repeat(64) });
  m.leases.addResource('default', l.id, { type: 'snapshots/overlayfs', id: 'layer1' });
  assert.equal(m.leases.listResources('default', l.id).length, 2);
  assert.deepEqual([...m.leases.resourcesHeld('default', 'snapshots/overlayfs')], ['layer1']);
  assert.throws(() => m.leases.addResource('default', l.id, { type: 'bogus', id: 'x' }), code(status.INVALID_ARGUMENT));
  assert.throws(() => m.leases.addResource('default', 'nope', { type: 'content', id: 'x' }), code(status.NOT_FOUND));
  assert.throws(() => m.leases.create('default', l.id, {}), code(status.ALREADY_EXISTS));
  assert.throws(() => m.leases.create('default', 'e', { 'dray.io/gc.expire': 'tomorrow' }), code(status.INVALID_ARGUMENT));
  m.leases.create('default', 'old', { 'dray.io/gc.expire': '2000-01-01T00:00:00Z' });
  m.leases.create('default', 'young', { 'dray.io/gc.expire': '2999-01-01T00:00:00Z' });
  assert.equal(m.leases.expire(), 1);
  assert.deepEqual(m.leases.list('default', parseFilters(['id==young'])).map((x) => x.id), ['young']);
  m.leases.delete('default', l.id);
  assert.equal(m.leases.resourcesHeld('default', 'content').size, 0, 'resources go with their lease');
});

test('namespaces: images of the images library keep a namespace busy', (t) => {
  const m = metadataOn(openDatabase(':memory:'));
  t.after(() => m.close());
  m.namespaces.create('img', {});
  new ImageStore(m.db, 'img').put('docker.io/library/busybox:latest', { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + 'c'.repeat(64), size: 10 });
  assert.throws(() => m.namespaces.delete('img'), /1 image/);
  new ImageStore(m.db, 'img').delete('docker.io/library/busybox:latest');
  m.namespaces.delete('img');
});
