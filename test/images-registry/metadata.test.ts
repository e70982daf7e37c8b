// The metadata database (migrations, image records, leases) and garbage
// collection from images, leases, labels and caller-supplied roots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openMetadataDb } from '../../src/images/metadata/db.ts';
import { migrate } from '../../src/common/sqlite.ts';
import { openImageStores } from '../../src/images/metadata/open.ts';
import { collectGarbage, GC_ROOT_LABEL } from '../../src/images/metadata/gc.ts';
import { makeImage, makeIndex, makeLayer, storeBlobs, randomLayer } from './support/synth.ts';

function version(db: DatabaseSync, sql: string): number | undefined {
  return (db.prepare(sql).get() as { version: number } | undefined)?.version;
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'dray-meta-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the database migrates once, in WAL mode, and adopts an open handle', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'm.db');
  const db = openMetadataDb(path);
  assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
  assert.equal(version(db, "SELECT version FROM schema_versions WHERE component = 'images'"), 1);
  db.close();
  const shared = new DatabaseSync(path);
  t.after(() => shared.close());
  openMetadataDb(shared); // a second opener (dray-containerd) migrates nothing
  assert.equal(version(shared, "SELECT version FROM schema_versions WHERE component = 'images'"), 1);
  // Another component's migrations live beside ours (as the supervisor's do); a failing one rolls back whole.
  migrate(shared, 'other', [(d) => d.exec('CREATE TABLE other_t (x)')]);
  assert.throws(() => migrate(shared, 'other', [(d) => d.exec('CREATE TABLE other_t (x)'), (d) => d.exec('CREATE TABLE y (a); SYNTAX ERROR')]));
  assert.equal(version(shared, "SELECT version FROM schema_versions WHERE component = 'other'"), 1);
  assert.equal(shared.prepare("SELECT name FROM sqlite_master WHERE name = 'y'").get(), undefined);
  assert.throws(() => migrate(shared, 'images', []), /newer than this program knows/);
});

test('image records: put, get, list, byDigest, delete; createdAt kept on update', async (t) => {
  const s = openImageStores(tempDir(t));
  t.after(() => s.close());
  const img = makeImage([await makeLayer([{ name: 'a', content: 'a' }])]);
  const r1 = s.images.put('docker.io/library/a:1', img.manifestDesc, { x: 'y' });
  await new Promise((r) => setTimeout(r, 5));
  const r2 = s.images.put('docker.io/library/a:1', img.manifestDesc);
  assert.equal(r2.createdAt.getTime(), r1.createdAt.getTime());
  assert.ok(r2.updatedAt.getTime() >= r1.updatedAt.getTime());
  s.images.put('docker.io/library/a:2', img.manifestDesc);
  assert.deepEqual(s.images.list().map((i) => i.name), ['docker.io/library/a:1', 'docker.io/library/a:2']);
  assert.equal(s.images.byDigest(img.manifestDesc.digest).length, 2);
  assert.deepEqual(s.images.get('docker.io/library/a:1')?.target, img.manifestDesc);
  assert.throws(() => s.images.put('x', { mediaType: 'a/b', digest: 'bad', size: 1 }), /invalid digest/);
  assert.equal(s.images.delete('docker.io/library/a:2'), true);
  assert.equal(s.images.delete('docker.io/library/a:2'), false);
});

test('gc keeps what images, leases, gc.root labels and caller roots reach, and sweeps the rest', async (t) => {
  const s = openImageStores(tempDir(t));
  t.after(() => s.close());
  const shared = await randomLayer(1000);
  const a = makeImage([shared, await randomLayer(1000)]);
  const armOnly = makeImage([await randomLayer(1000)], { architecture: 'arm64' });
  const idx = makeIndex([{ image: a, platform: { os: 'linux', architecture: 'amd64' } }, { image: armOnly, platform: { os: 'linux', architecture: 'arm64' } }]);
  // Only the amd64 image was pulled: the arm64 blobs are absent, as after a pull.
  const pulled = new Map([...a.blobs, [idx.indexDesc.digest, idx.index]]);
  await storeBlobs(s.content, pulled);
  const leased = makeImage([await randomLayer(500)]);
  await storeBlobs(s.content, leased.blobs);
  const labelled = await randomLayer(300);
  const callerRoot = await randomLayer(200);
  const garbage = makeImage([shared, await randomLayer(400)]);
  await storeBlobs(s.content, new Map([[labelled.desc.digest, labelled.blob], [callerRoot.desc.digest, callerRoot.blob], ...garbage.blobs]));
  await s.content.update({ digest: labelled.desc.digest, labels: { [GC_ROOT_LABEL]: 'x' } });
  s.images.put('docker.io/library/a:latest', idx.indexDesc);
  const lease = s.leases.create({ expiresInMs: 60_000 });
  s.leases.addResource(lease.id, { type: 'content', id: leased.manifestDesc.digest });
  const expired = s.leases.create({ expiresInMs: -1 });
  s.leases.addResource(expired.id, { type: 'content', id: garbage.manifestDesc.digest });

  const dry = await collectGarbage(s.db, s.content, { roots: [callerRoot.desc.digest], dryRun: true });
  const want = [garbage.manifestDesc.digest, garbage.configDesc.digest, garbage.layers[1]!.desc.digest].sort();
  assert.deepEqual(dry.removed.sort(), want);
  assert.equal(await s.content.exists(garbage.manifestDesc.digest), true);
  const res = await collectGarbage(s.db, s.content, { roots: [callerRoot.desc.digest] });
  assert.deepEqual(res.removed.sort(), want);
  assert.equal(res.expiredLeases, 0); // the dry run expired it already
  assert.deepEqual(s.leases.list().map((l) => l.id), [lease.id]);
  for (const d of [...pulled.keys(), ...leased.blobs.keys(), labelled.desc.digest, callerRoot.desc.digest]) {
    assert.equal(await s.content.exists(d), true, d);
  }
  // Dropping the image and lease lets the next collection take the rest.
  s.images.delete('docker.io/library/a:latest');
  s.leases.delete(lease.id);
  const res2 = await collectGarbage(s.db, s.content);
  assert.equal(res2.removed.length, pulled.size + leased.blobs.size + 1);
  assert.equal(await s.content.exists(labelled.desc.digest), true);
});

test('gc removes stale unleased ingests and keeps leased ones', async (t) => {
  const s = openImageStores(tempDir(t));
  t.after(() => s.close());
  for (const ref of ['stale', 'held']) {
    const w = await s.content.writer({ ref });
    await w.write(Buffer.from('partial'));
    await w.close();
  }
  const lease = s.leases.create();
  s.leases.addResource(lease.id, { type: 'ingests', id: 'held' });
  const res = await collectGarbage(s.db, s.content, { ingestMaxAgeMs: 0 });
  assert.deepEqual(res.removedIngests, ['stale']);
  assert.deepEqual((await s.content.listStatuses()).map((x) => x.ref), ['held']);
});

test('in a database shared with dray-containerd, its leases protect content from gc too', async (t) => {
  const dir = tempDir(t);
  const { metadataOn } = await import('../../src/supervisor/metadata/metadata.ts');
  const { openDatabase } = await import('../../src/common/sqlite.ts');
  const db = openDatabase(join(dir, 'metadata.db'));
  const sup = metadataOn(db);
  const s = openImageStores(dir, { db });
  t.after(() => db.close());
  const held = await randomLayer(100);
  const expired = await randomLayer(100);
  const loose = await randomLayer(100);
  await storeBlobs(s.content, new Map([held, expired, loose].map((l) => [l.desc.digest, l.blob])));
  sup.leases.create('default', 'build-1', {});
  sup.leases.addResource('default', 'build-1', { type: 'content', id: held.desc.digest });
  sup.leases.create('default', 'old', { 'dray.io/gc.expire': '2000-01-01T00:00:00Z' });
  sup.leases.addResource('default', 'old', { type: 'content', id: expired.desc.digest });
  const res = await collectGarbage(s.db, s.content);
  assert.deepEqual(res.removed.sort(), [expired.desc.digest, loose.desc.digest].sort());
  assert.equal(await s.content.exists(held.desc.digest), true);
});

test('gc spares what writers commit or lease while it runs', async (t) => {
  const s = openImageStores(tempDir(t));
  t.after(() => s.close());
  const old = await randomLayer(100);
  const leasedLate = await randomLayer(100);
  const committedLate = await randomLayer(100);
  await storeBlobs(s.content, new Map([[old.desc.digest, old.blob], [leasedLate.desc.digest, leasedLate.blob]]));
  await new Promise((r) => setTimeout(r, 20));
  const res = await collectGarbage(s.db, s.content, {
    onMarked: async () => {
      // Between mark and sweep: a pull leases one blob and commits another.
      const lease = s.leases.create();
      s.leases.addResource(lease.id, { type: 'content', id: leasedLate.desc.digest });
      await storeBlobs(s.content, new Map([[committedLate.desc.digest, committedLate.blob]]));
    },
  });
  assert.deepEqual(res.removed, [old.desc.digest]);
  assert.equal(await s.content.exists(leasedLate.desc.digest), true);
  assert.equal(await s.content.exists(committedLate.desc.digest), true);
});
