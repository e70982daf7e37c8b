import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openDatabase } from '../../src/common/sqlite.ts';
import { ANONYMOUS_LABEL } from '../../src/volumes/names.ts';
import { VolumeStore } from '../../src/volumes/store.ts';
import { volumeSize } from '../../src/volumes/usage.ts';
import { errorOf, tempDir, tempStore } from './support.ts';

test('create and inspect: Docker\'s Volume JSON, labels and options kept as sent (null vs {})', (t) => {
  const { store, root } = tempStore(t);
  const a = store.create({ Name: 'foo', Labels: {}, DriverOpts: {} });
  assert.deepEqual(Object.keys(a), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
  assert.equal(a.Name, 'foo');
  assert.equal(a.Driver, 'local');
  assert.equal(a.Scope, 'local');
  assert.deepEqual(a.Labels, {});
  assert.deepEqual(a.Options, {});
  assert.equal(a.Mountpoint, join(root, 'volumes', 'foo', '_data'));
  assert.match(a.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(existsSync(a.Mountpoint));
  const b = store.create({ Name: 'bar', Labels: { x: 'y' } });
  assert.equal(b.Labels?.x, 'y');
  assert.equal(b.Options, null);
  assert.equal(store.create({ Name: 'baz' }).Labels, null);
  assert.deepEqual(store.inspect('bar'), b);
  assert.deepEqual(errorOf(() => store.inspect('nope')), { status: 404, message: 'get nope: no such volume' });
  assert.deepEqual(errorOf(() => store.inspect('../etc')), { status: 404, message: 'get ../etc: no such volume' });
});

test('anonymous volumes: 64-hex names and Docker\'s anonymous label', (t) => {
  const { store } = tempStore(t);
  const v = store.create({ Labels: { a: 'b' } });
  assert.match(v.Name, /^[0-9a-f]{64}$/);
  assert.deepEqual(v.Labels, { a: 'b', [ANONYMOUS_LABEL]: '' });
  assert.equal(store.isAnonymous(v.Name), true);
  assert.equal(store.isAnonymous(store.create({ Name: 'named' }).Name), false);
});

test('create is idempotent; other options answer the existing volume, or 409 when asked to refuse', (t) => {
  const { store } = tempStore(t);
  const a = store.create({ Name: 'foo', Labels: { a: 'b' } });
  writeFileSync(join(a.Mountpoint, 'keep'), 'x');
  assert.deepEqual(store.create({ Name: 'foo', Labels: { a: 'b' } }), a);
  assert.deepEqual(store.create({ Name: 'foo', Labels: { a: 'b' } }, { onConflict: 'error' }), a);
  // Docker (checked against dockerd 20.10) returns the existing volume unchanged.
  assert.deepEqual(store.create({ Name: 'foo', Labels: { other: '1' } }), a);
  const e = errorOf(() => store.create({ Name: 'foo', DriverOpts: { type: 'tmpfs', device: 'tmpfs' } }, { onConflict: 'error' }));
  assert.equal(e.status, 409);
  assert.match(e.message, /^create foo: volume name must be unique/);
  assert.equal(readFileSync(join(a.Mountpoint, 'keep'), 'utf8'), 'x');
});

test('invalid names and options: Docker\'s 400 errors, and nothing made on disk', (t) => {
  const { store, root } = tempStore(t);
  const cases: [Parameters<VolumeStore['create']>[0], number, string][] = [
    [{ Name: '../x' }, 400, 'create ../x: "../x" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'],
    [{ Name: 'a' }, 400, 'create a: volume name is too short, names should be at least two alphanumeric characters'],
    [{ Name: 'x/y' }, 400, 'create x/y: "x/y" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'],
    [{ Name: '.hidden' }, 400, 'create .hidden: ".hidden" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'],
    [{ Name: 'x'.repeat(256) }, 400, `create ${'x'.repeat(32)}…: volume name is longer than 255 characters`],
    [{ Name: '..' }, 400, 'create ..: ".." includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'],
    [{ Name: 'x1', DriverOpts: { foo: 'bar' } }, 400, 'create x1: invalid option: "foo"'],
    [{ Name: 'x2', DriverOpts: { type: 'tmpfs' } }, 400, 'create x2: missing required option: "device"'],
    [{ Name: 'x3', DriverOpts: { o: 'bind' } }, 400, 'create x3: missing required option: "device"'],
    [{ Name: 'x4', DriverOpts: { size: '10m' } }, 400, 'create x4: quota size requested but no quota support'],
    [{ Name: 'x5', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,bogus=2' } }, 400, 'create x5: invalid tmpfs option "bogus=2"'],
    [{ Name: 'x6', DriverOpts: { type: 'none', device: 'rel/dir', o: 'bind' } }, 400, 'create x6: bind device must be an absolute path: "rel/dir"'],
    [{ Name: 'x7', DriverOpts: { type: 'none', device: '/tmp/../etc', o: 'bind' } }, 400, 'create x7: bind device must not contain \'..\': "/tmp/../etc"'],
    [{ Name: 'x8', DriverOpts: { type: 'none', device: '/nonexistent-dray-dir', o: 'bind' } }, 400, 'create x8: bind device path does not exist: /nonexistent-dray-dir'],
    [{ Name: 'x9', Driver: 'nfs-plugin' }, 404, 'create x9: error looking up volume plugin nfs-plugin: plugin "nfs-plugin" not found'],
  ];
  for (const [req, status, message] of cases) assert.deepEqual(errorOf(() => store.create(req)), { status, message }, JSON.stringify(req));
  // A bind device inside the data root (another volume, the database) is refused.
  const e = errorOf(() => store.create({ Name: 'inroot', DriverOpts: { type: 'none', device: join(root, 'db'), o: 'bind' } }));
  assert.match(e.message, /must not be inside the data root/);
  assert.deepEqual(readdirSync(join(root, 'volumes')), []);
  assert.deepEqual(store.list(), []);
});

test('list filters: dangling, name (regexp), label key and key=value, driver; Docker\'s filter errors', (t) => {
  const { store } = tempStore(t);
  store.create({ Name: 'foo', Labels: { env: 'prod', tier: 'db' } });
  store.create({ Name: 'food', Labels: { env: 'dev' } });
  store.create({ Name: 'bar' });
  store.acquire('foo', 'c1');
  const names = (f: Record<string, string[]>) => store.list(f).map((v) => v.Name);
  assert.deepEqual(names({}), ['bar', 'foo', 'food']);
  assert.deepEqual(names({ dangling: ['true'] }), ['bar', 'food']);
  assert.deepEqual(names({ dangling: ['1'] }), ['bar', 'food']);
  assert.deepEqual(names({ dangling: ['false'] }), ['foo']);
  assert.deepEqual(names({ name: ['oo'] }), ['foo', 'food']);
  assert.deepEqual(names({ name: ['^fo+$'] }), ['foo']);
  assert.deepEqual(names({ label: ['env'] }), ['foo', 'food']);
  assert.deepEqual(names({ label: ['env=prod'] }), ['foo']);
  assert.deepEqual(names({ label: ['env=prod', 'tier=db'] }), ['foo']);
  assert.deepEqual(names({ label: ['env=prod', 'tier=web'] }), []);
  assert.deepEqual(names({ driver: ['local'] }), ['bar', 'foo', 'food']);
  assert.deepEqual(names({ driver: ['nfs'] }), []);
  assert.deepEqual(errorOf(() => store.list({ bogus: ['1'] })), { status: 400, message: "Invalid filter 'bogus'" });
  assert.deepEqual(errorOf(() => store.list({ dangling: ['maybe'] })), { status: 400, message: "Invalid filter 'dangling=[maybe]'" });
  assert.deepEqual(errorOf(() => store.list({ dangling: ['true', 'false'] })), { status: 400, message: "Invalid filter 'dangling=[true false]'" });
});

test('references: a volume in use refuses rm (force too) with Docker\'s 409; released, it goes', (t) => {
  const { store } = tempStore(t);
  const v = store.create({ Name: 'foo' });
  writeFileSync(join(v.Mountpoint, 'f'), 'data');
  store.acquire('foo', 'bbb');
  store.acquire('foo', 'aaa');
  store.acquire('foo', 'aaa');
  assert.deepEqual(store.refs('foo'), ['aaa', 'bbb']);
  assert.deepEqual(errorOf(() => store.remove('foo')), { status: 409, message: 'remove foo: volume is in use - [aaa, bbb]' });
  assert.deepEqual(errorOf(() => store.remove('foo', { force: true })), { status: 409, message: 'remove foo: volume is in use - [aaa, bbb]' });
  assert.ok(existsSync(join(v.Mountpoint, 'f')));
  store.release('foo', 'aaa');
  store.release('foo', 'nobody');
  assert.deepEqual(errorOf(() => store.remove('foo')).status, 409);
  store.release('foo', 'bbb');
  store.remove('foo');
  assert.equal(store.get('foo'), undefined);
  assert.equal(existsSync(join(store.volumesDir, 'foo')), false);
  assert.deepEqual(errorOf(() => store.remove('foo')), { status: 404, message: 'get foo: no such volume' });
  store.remove('foo', { force: true });
  assert.deepEqual(errorOf(() => store.acquire('foo', 'c')), { status: 404, message: 'get foo: no such volume' });
});

test('releaseContainer: rm -v removes the container\'s anonymous volumes only, and only when unused', (t) => {
  const { store } = tempStore(t);
  const anon = store.create({}, { reference: 'c1' }).Name;
  const shared = store.create({}, { reference: 'c1' }).Name;
  store.acquire(shared, 'c2');
  store.create({ Name: 'named' }, { reference: 'c1' });
  assert.deepEqual(store.releaseContainer('c1', true), [anon]);
  assert.equal(store.get(anon), undefined);
  assert.ok(store.get(shared));
  assert.ok(store.get('named'));
  assert.deepEqual(store.refs('named'), []);
  assert.deepEqual(store.releaseContainer('c2', false), []);
  assert.ok(store.get(shared));
});

test('prune: API >= 1.42 anonymous only unless all=true; older APIs every unused volume; label filters', async (t) => {
  const { store } = tempStore(t);
  const setup = () => {
    for (const v of store.list()) {
      for (const r of store.refs(v.Name)) store.release(v.Name, r);
      store.remove(v.Name);
    }
    const anon = store.create({}).Name;
    writeFileSync(join(store.mountpoint(anon), 'blob'), Buffer.alloc(64 * 1024, 1));
    store.create({ Name: 'named', Labels: { keep: 'no' } });
    store.create({ Name: 'kept', Labels: { keep: 'yes' } });
    store.create({ Name: 'used' }, { reference: 'c1' });
    const usedAnon = store.create({}, { reference: 'c1' }).Name;
    return { anon, usedAnon };
  };
  let s = setup();
  let r = await store.prune({}, '1.50');
  assert.deepEqual(r.VolumesDeleted, [s.anon]);
  assert.ok(r.SpaceReclaimed >= 64 * 1024, `reclaimed ${r.SpaceReclaimed}`);
  assert.deepEqual(store.list().map((v) => v.Name).sort(), ['kept', 'named', 'used', s.usedAnon].sort());

  s = setup();
  r = await store.prune({ all: ['true'] }, '1.50');
  assert.deepEqual(r.VolumesDeleted.sort(), [s.anon, 'kept', 'named'].sort());

  s = setup();
  r = await store.prune({}, '1.41');
  assert.deepEqual(r.VolumesDeleted.sort(), [s.anon, 'kept', 'named'].sort());

  s = setup();
  r = await store.prune({ all: ['1'], label: ['keep=no'] }, '1.50');
  assert.deepEqual(r.VolumesDeleted, ['named']);
  s = setup();
  r = await store.prune({ all: ['true'], 'label!': ['keep'] }, '1.50');
  assert.deepEqual(r.VolumesDeleted, [s.anon]);
  await assert.rejects(store.prune({ dangling: ['true'] }), { status: 400, message: "Invalid filter 'dangling'" });
  await assert.rejects(store.prune({ all: ['perhaps'] }), { status: 400, message: "Invalid filter 'all=[perhaps]'" });
});

test('usage: sizes (each inode once) and reference counts for system df', async (t) => {
  const { store } = tempStore(t);
  const v = store.create({ Name: 'big' });
  writeFileSync(join(v.Mountpoint, 'a'), Buffer.alloc(256 * 1024, 7));
  store.create({ Name: 'empty' }, { reference: 'c9' });
  const u = await store.usage();
  const big = u.find((x) => x.Name === 'big');
  const empty = u.find((x) => x.Name === 'empty');
  assert.equal(big?.UsageData?.Size, 256 * 1024);
  assert.equal(big?.UsageData?.RefCount, 0);
  assert.equal(empty?.UsageData?.RefCount, 1);
  assert.equal(empty?.UsageData?.Size, 0, 'Docker counts file sizes, not directory blocks');
  linkSync(join(v.Mountpoint, 'a'), join(v.Mountpoint, 'hardlink'));
  assert.deepEqual(await store.usageOf('big'), { Size: 256 * 1024, RefCount: 0 }, 'a hardlink counts once');
  mkdirSync(join(v.Mountpoint, 'many'));
  for (let i = 0; i < 20; i++) writeFileSync(join(v.Mountpoint, 'many', String(i)), 'x');
  assert.equal(await volumeSize(v.Mountpoint, 10), -1, 'past the bound the size is unknown');
  assert.equal(await volumeSize(v.Mountpoint), 256 * 1024 + 20);
  await assert.rejects(store.usageOf('nope'), { status: 404 });
});

test('the store reopens from its file (or an open shared database) with volumes, data and references', (t) => {
  const { store, root, dbPath } = tempStore(t);
  const v = store.create({ Name: 'persist', Labels: { a: 'b' } });
  writeFileSync(join(v.Mountpoint, 'f'), 'kept');
  store.acquire('persist', 'c1');
  store.close();
  const db = openDatabase(dbPath);
  t.after(() => db.close());
  const again = new VolumeStore({ root, db });
  assert.deepEqual(again.inspect('persist'), v);
  assert.deepEqual(again.refs('persist'), ['c1']);
  assert.equal(readFileSync(join(v.Mountpoint, 'f'), 'utf8'), 'kept');
  const row = db.prepare("SELECT version FROM schema_versions WHERE component = 'volumes'").get() as { version: number };
  assert.equal(row.version, 1);
  assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
});

test('recovery on open: uncommitted creates vanish when empty, interrupted removes are finished or undone', (t) => {
  const root = tempDir(t);
  const dbPath = join(root, 'dray.db');
  let store = new VolumeStore({ root, db: dbPath });
  const vols = join(root, 'volumes');
  store.create({ Name: 'alive' });
  writeFileSync(join(store.mountpoint('alive'), 'f'), 'alive');
  store.create({ Name: 'gone' });
  store.close();
  // A create that never committed (empty), and an unknown directory with data (kept: never delete data).
  mkdirSync(join(vols, 'halfmade', '_data'), { recursive: true });
  mkdirSync(join(vols, 'stranger', '_data'), { recursive: true });
  writeFileSync(join(vols, 'stranger', '_data', 'x'), 'x');
  // A remove cut before its commit: renamed to trash, record still there -> put back.
  renameSync(join(vols, 'alive'), join(vols, '.trash-alive-0123456789ab'));
  // A remove cut after its commit: trash without record -> deleted.
  const db = new DatabaseSync(dbPath);
  db.prepare("DELETE FROM volumes WHERE name = 'gone'").run();
  db.close();
  renameSync(join(vols, 'gone'), join(vols, '.trash-gone-ba9876543210'));
  store = new VolumeStore({ root, db: dbPath });
  t.after(() => store.close());
  assert.deepEqual(readdirSync(vols).sort(), ['alive', 'stranger']);
  assert.equal(readFileSync(join(store.mountpoint('alive'), 'f'), 'utf8'), 'alive');
  assert.deepEqual(store.list().map((v) => v.Name), ['alive']);
});

test('a volume directory or _data replaced by a symlink is never handed out', (t) => {
  const { store } = tempStore(t);
  const v = store.create({ Name: 'victim' });
  rmdirSync(v.Mountpoint);
  symlinkSync('/etc', v.Mountpoint);
  assert.deepEqual(errorOf(() => store.acquire('victim', 'c1')), { status: 500, message: `volume victim: ${v.Mountpoint} is not a directory in the volumes folder` });
  assert.deepEqual(store.refs('victim'), []);
  const w = store.create({ Name: 'victim2' });
  const dir = join(store.volumesDir, 'victim2');
  rmSync(dir, { recursive: true });
  symlinkSync(tempDir(t), dir);
  assert.equal(errorOf(() => store.acquire('victim2', 'c1')).status, 500);
  assert.ok(w);
});
