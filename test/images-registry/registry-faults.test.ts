// Faults between Dray and the registry (a proxy that corrupts, fails, drops
// and truncates), a disk that fills during a pull, and schema1: each ends in
// a retry that succeeds or a clear error, never a corrupt blob or image.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync, readdirSync, existsSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, type Registry } from './support/registry.ts';
import { testStores, seedRegistry } from './support/stores.ts';
import type { ImageStores } from '../../src/images/metadata/open.ts';
import { startFaultProxy, type Fault, type FaultProxy } from './support/fault-proxy.ts';
import { OverlaySnapshotter } from '../../src/images/snapshots/overlay.ts';
import type { Snapshotter } from '../../src/images/snapshots/types.ts';
import { chainIds } from '../../src/images/unpack.ts';
import { makeImage, randomLayer, sha256, type SynthImage } from './support/synth.ts';
import { RegistryClient } from '../../src/images/registry/client.ts';
import { closeIdleConnections } from '../../src/images/registry/transport.ts';
import { pull } from '../../src/images/pull.ts';
import { MEDIA_TYPE } from '../../src/images/manifest/media-types.ts';
import { SCHEMA1_UNSUPPORTED } from '../../src/images/manifest/manifest.ts';
import { needsRoot } from '../support/root.ts';

let reg: Registry;
let proxy: FaultProxy;
let img: SynthImage;
const tmp = mkdtempSync(join(tmpdir(), 'dray-faults-'));
const client = (attempts = 4): RegistryClient => new RegistryClient({ credentials: () => undefined, retry: { attempts, backoffMs: 10 } });
const LAYER = 400_000;

before(async () => {
  reg = await startRegistry();
  proxy = await startFaultProxy(reg);
  img = makeImage([await randomLayer(LAYER), await randomLayer(30_000)]);
  await seedRegistry(tmp, client(), img, `${reg.host}/f/img:1`);
});
after(async () => {
  closeIdleConnections();
  await proxy?.close();
  reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});


const bigLayer = (): string => img.layers[0]!.desc.digest;
const blobPath = (d: string): RegExp => new RegExp(`/blobs/${d}$`);

function reset(): void {
  proxy.rules.length = 0;
  proxy.log.length = 0;
}

async function assertIntact(s: ImageStores): Promise<void> {
  for (const [d, b] of img.blobs) assert.deepEqual(await s.content.readBlob({ digest: d }), b, d);
  assert.equal((await s.content.listStatuses()).length, 0);
}

test('a registry answering 500 then 200 is retried', async (t) => {
  reset();
  proxy.rules.push({ method: 'GET', path: blobPath(bigLayer()), faults: [{ kind: 'status', status: 500 }, { kind: 'status', status: 503 }] });
  const s = testStores(tmp, t);
  await pull(s, client(), `${proxy.host}/f/img:1`);
  await assertIntact(s);
  assert.equal(proxy.log.filter((l) => l.fault === 'status').length, 2);
});

test('a connection dropped mid-blob resumes with Range from what was kept', async (t) => {
  reset();
  proxy.rules.push({ method: 'GET', path: blobPath(bigLayer()), faults: [{ kind: 'drop', after: 150_000 }] });
  const s = testStores(tmp, t);
  await pull(s, client(), `${proxy.host}/f/img:1`);
  await assertIntact(s);
  const ranged = proxy.log.filter((l) => l.path.endsWith(bigLayer()) && l.range);
  assert.equal(ranged.length, 1);
  assert.match(ranged[0]!.range!, /^bytes=\d+-$/);
  assert.ok(Number(/=(\d+)-/.exec(ranged[0]!.range!)![1]) > 0);
});

test('a cleanly truncated body is detected and completed', async (t) => {
  reset();
  proxy.rules.push({ method: 'GET', path: blobPath(bigLayer()), faults: [{ kind: 'truncate', after: 100_000 }, { kind: 'truncate', after: 100_000 }] });
  const s = testStores(tmp, t);
  await pull(s, client(), `${proxy.host}/f/img:1`);
  await assertIntact(s);
});

test('a corrupted byte fails the digest check; a retry from zero succeeds', async (t) => {
  reset();
  proxy.rules.push({ method: 'GET', path: blobPath(bigLayer()), faults: [{ kind: 'corrupt', at: 12345 }] });
  const s = testStores(tmp, t);
  await pull(s, client(), `${proxy.host}/f/img:1`);
  await assertIntact(s);
});

test('a blob that is always corrupt: a clear error, no blob, no ingest, no image', async (t) => {
  reset();
  proxy.rules.push({ method: 'GET', path: blobPath(bigLayer()), faults: [{ kind: 'corrupt', at: 5 }], always: true });
  const s = testStores(tmp, t);
  await assert.rejects(pull(s, client(3), `${proxy.host}/f/img:1`), new RegExp(`blob ${bigLayer()}: digest mismatch: got sha256:[a-f0-9]{64}, expected ${bigLayer()} \\(after 3 attempts\\)`));
  assert.equal(await s.content.exists(bigLayer()), false);
  assert.equal((await s.content.listStatuses()).length, 0);
  assert.equal(s.images.list().length, 0);
  assert.equal(s.leases.list().length, 0);
});

test('a blob that is always truncated: a clear error, and the next pull resumes the ingest', async (t) => {
  reset();
  proxy.rules.push({ method: 'GET', path: blobPath(bigLayer()), faults: [{ kind: 'drop', after: 50_000 }], always: true });
  const s = testStores(tmp, t);
  await assert.rejects(pull(s, client(2), `${proxy.host}/f/img:1`), /truncated|aborted|socket hang up|ECONNRESET/);
  assert.equal(await s.content.exists(bigLayer()), false);
  const partial = (await s.content.listStatuses()).find((x) => x.expected === bigLayer());
  assert.ok(partial && partial.offset > 0 && partial.offset < LAYER);
  reset();
  await pull(s, client(), `${proxy.host}/f/img:1`);
  await assertIntact(s);
  const ranged = proxy.log.find((l) => l.path.endsWith(bigLayer()));
  assert.equal(ranged?.range, `bytes=${partial.offset}-`);
});

test('a manifest whose digest does not match is refused', async (t) => {
  reset();
  proxy.rules.push({ method: 'GET', path: /\/manifests\//, faults: [{ kind: 'corrupt', at: 20 }], always: true });
  const s = testStores(tmp, t);
  await assert.rejects(pull(s, client(2), `${proxy.host}/f/img@${img.manifestDesc.digest}`), /digest mismatch: got sha256:[a-f0-9]{64}, expected sha256:/);
  assert.equal(await s.content.exists(img.manifestDesc.digest), false);
  assert.equal(s.images.list().length, 0);
});

test('a blob longer than its descriptor is cut off and refused', async (t) => {
  reset();
  const wrong = makeImage([{ ...img.layers[1]!, desc: { ...img.layers[1]!.desc, size: 1000 } }]);
  // Serve the bogus manifest for one tag; the blob itself is the real one (30000 bytes).
  proxy.rules.push({ path: new RegExp(`/manifests/(bogus|${wrong.manifestDesc.digest})$`), faults: [{ kind: 'serve', status: 200, headers: { 'content-type': MEDIA_TYPE.ociManifest, 'docker-content-digest': wrong.manifestDesc.digest }, body: wrong.manifest }], always: true });
  const cfgPath = new RegExp(`/blobs/${wrong.configDesc.digest}$`);
  proxy.rules.unshift({ method: 'GET', path: cfgPath, faults: [{ kind: 'serve', status: 200, headers: { 'content-type': 'application/octet-stream' }, body: wrong.config }], always: true });
  const s = testStores(tmp, t);
  await assert.rejects(pull(s, client(2), `${proxy.host}/f/img:bogus`), /more data than the 1000 bytes expected/);
  assert.equal(await s.content.exists(img.layers[1]!.desc.digest), false);
  assert.equal(s.images.list().length, 0);
});

test('a schema1 manifest from the registry gets the clear unsupported error', async (t) => {
  reset();
  const body = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'f/img', tag: 'old', architecture: 'amd64', fsLayers: [], history: [], signatures: [] }));
  proxy.rules.push({ path: new RegExp(`/manifests/(old|${sha256(body)})$`), faults: [{ kind: 'serve', status: 200, headers: { 'content-type': MEDIA_TYPE.dockerSchema1Signed, 'docker-content-digest': sha256(body) }, body }], always: true });
  const s = testStores(tmp, t);
  await assert.rejects(pull(s, client(), `${proxy.host}/f/img:old`), { message: SCHEMA1_UNSUPPORTED });
});

test('a disk that fills during a pull: a clear error, nothing half-written visible', needsRoot, async (t) => {
  reset();
  const mnt = join(tmp, 'small');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
  t.after(() => execFileSync('umount', [mnt]));
  const s = testStores(tmp, t, { contentRoot: join(mnt, 'content') });
  await assert.rejects(pull(s, client(), `${reg.host}/f/img:1`), /no space left on device while writing ingest pull-sha256:/);
  assert.equal(existsSync(join(mnt, 'content/blobs/sha256', bigLayer().slice(7))), false);
  for (const f of existsSync(join(mnt, 'content/blobs/sha256')) ? readdirSync(join(mnt, 'content/blobs/sha256')) : []) {
    assert.ok(img.blobs.has(`sha256:${f}`), `only complete blobs: ${f}`);
  }
  assert.equal((await s.content.listStatuses()).length, 0, 'the partial ingest is dropped to free the space');
  assert.equal(s.images.list().length, 0);
});

test('a manifest served as application/json is recognized and recorded with its real media type', async (t) => {
  reset();
  proxy.rules.push({ path: new RegExp(`/manifests/(generic|${img.manifestDesc.digest})$`), faults: [{ kind: 'serve', status: 200, headers: { 'content-type': 'application/json', 'docker-content-digest': img.manifestDesc.digest }, body: img.manifest }], always: true });
  const s = testStores(tmp, t);
  const res = await pull(s, client(), `${proxy.host}/f/img:generic`);
  assert.equal(res.target.mediaType, MEDIA_TYPE.ociManifest);
  assert.equal(s.images.get(`${proxy.host}/f/img:generic`)?.target.mediaType, MEDIA_TYPE.ociManifest);
  await assertIntact(s);
});

// Unpacking while downloading (unpackTo): the same faults, and the snapshots
// are committed only from bytes whose digest verified; a failure leaves none.
function snapshotsAfter(t: { after: (fn: () => void) => void }): { sn: Snapshotter; list: () => string[] } {
  const root = mkdtempSync(join(tmp, 'sn-'));
  const sn = new OverlaySnapshotter(root);
  t.after(() => { sn.close(); rmSync(root, { recursive: true, force: true }); });
  return { sn, list: () => { const out: string[] = []; sn.walk((i) => out.push(`${i.kind} ${i.key}`)); return out; } };
}

const streamFaults: [string, Fault[]][] = [
  ['a dropped connection (resumed)', [{ kind: 'drop', after: 150_000 }]],
  ['a truncated body', [{ kind: 'truncate', after: 100_000 }]],
  ['a corrupted byte (the download starts over: applied again from the verified blob)', [{ kind: 'corrupt', at: 200_000 }]],
];
for (const [name, faults] of streamFaults) {
  test(`unpack while pulling survives ${name}`, needsRoot, async (t) => {
    reset();
    proxy.rules.push({ method: 'GET', path: blobPath(bigLayer()), faults });
    const s = testStores(tmp, t);
    const { sn, list } = snapshotsAfter(t);
    const r = await pull(s, client(), `${proxy.host}/f/img:1`, { unpackTo: { snapshotter: sn } });
    await assertIntact(s);
    const ids = chainIds(img.layers.map((l) => l.diffId));
    assert.equal(r.chainId, ids[1]);
    assert.deepEqual(list(), ids.map((id) => `committed ${id}`));
    assert.equal(statSync(join(sn.dir(ids[0]!), 'data.bin')).size, LAYER);
  });
}

test('unpack while pulling a blob that is always corrupt: an error and no snapshot at all', needsRoot, async (t) => {
  reset();
  proxy.rules.push({ method: 'GET', path: blobPath(bigLayer()), faults: [{ kind: 'corrupt', at: 300_000 }], always: true });
  const s = testStores(tmp, t);
  const { sn, list } = snapshotsAfter(t);
  await assert.rejects(pull(s, client(2), `${proxy.host}/f/img:1`, { unpackTo: { snapshotter: sn } }), /digest mismatch/);
  assert.deepEqual(list(), []);
  assert.equal(s.images.list().length, 0);
});
