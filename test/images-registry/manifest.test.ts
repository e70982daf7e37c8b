// Formats: OCI and Docker manifests and indexes, schema1 refusal, strict
// validation, platform normalization and selection, image config parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest, selectManifest, children, SCHEMA1_UNSUPPORTED } from '../../src/images/manifest/manifest.ts';
import { parseImageConfig } from '../../src/images/manifest/config.ts';
import { MEDIA_TYPE, layerType } from '../../src/images/manifest/media-types.ts';
import { normalizePlatform, parsePlatform, platformMatches, hostPlatform, formatPlatform } from '../../src/images/manifest/platform.ts';
import { makeImage, makeIndex, makeLayer } from './support/synth.ts';

const D = `sha256:${'a'.repeat(64)}`;

test('OCI and Docker manifests and indexes parse, with their children', async () => {
  const layer = await makeLayer([{ name: 'f', content: 'x' }]);
  const oci = makeImage([layer]);
  const p = parseManifest(oci.manifest, MEDIA_TYPE.ociManifest);
  assert.equal(p.kind, 'manifest');
  assert.deepEqual(children(p).map((c) => c.digest), [oci.configDesc.digest, layer.desc.digest]);
  const docker = makeImage([layer], { format: 'docker' });
  const pd = parseManifest(docker.manifest, 'application/vnd.docker.distribution.manifest.v2+json; charset=utf-8');
  assert.equal(pd.mediaType, MEDIA_TYPE.dockerManifest);
  const idx = makeIndex([{ image: oci, platform: { os: 'linux', architecture: 'amd64' } }]);
  const pi = parseManifest(idx.index, MEDIA_TYPE.ociIndex);
  assert.equal(pi.kind, 'index');
  const list = makeIndex([{ image: docker, platform: { os: 'linux', architecture: 'amd64' } }], 'docker');
  assert.equal(parseManifest(list.index, 'application/json').mediaType, MEDIA_TYPE.dockerManifestList);
  // No mediaType anywhere: sniffed from the shape.
  assert.equal(parseManifest(JSON.stringify({ schemaVersion: 2, manifests: [] })).mediaType, MEDIA_TYPE.ociIndex);
});

test('schema1 is refused with a clear message', () => {
  assert.throws(() => parseManifest(JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] })), { message: SCHEMA1_UNSUPPORTED });
  assert.throws(() => parseManifest('{}', MEDIA_TYPE.dockerSchema1Signed), /schema 1 is not supported/);
});

test('invalid manifests are refused', () => {
  const cfg = { mediaType: MEDIA_TYPE.ociConfig, digest: D, size: 2 };
  const m = (o: object): string => JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config: cfg, layers: [], ...o });
  const cases: [string, string, RegExp][] = [
    ['not json', '', /not valid JSON/],
    ['[]', '', /not a JSON object/],
    [m({ schemaVersion: 3 }), '', /schemaVersion 3/],
    [m({}), MEDIA_TYPE.dockerManifest, /does not match the content type/],
    [m({ config: { ...cfg, digest: 'sha256:xyz' } }), '', /config: invalid digest/],
    [m({ config: { ...cfg, size: -1 } }), '', /invalid size -1/],
    [m({ config: { ...cfg, size: 1.5 } }), '', /invalid size 1.5/],
    [m({ config: { ...cfg, size: '2' } }), '', /invalid size "2"/],
    [m({ layers: [{ mediaType: 'bad type', digest: D, size: 1 }] }), '', /layers\[0\]: invalid mediaType/],
    [m({ layers: [{ ...cfg, urls: ['file:///etc/passwd'] }] }), '', /urls must be http/],
    [m({ layers: 'x' }), '', /layers must be an array/],
    [m({ manifests: [] }), '', /both manifests and config/],
    [JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.dockerManifest, config: cfg, layers: [] }), '', /config must be application\/vnd.docker.container.image.v1\+json/],
    [JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.dockerManifestList, manifests: [{ mediaType: MEDIA_TYPE.dockerManifest, digest: D, size: 1 }] }), '', /has no platform/],
    [JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.example+json' }), '', /unsupported manifest media type/],
    [JSON.stringify({ schemaVersion: 2 }), '', /neither an image manifest nor an index/],
  ];
  for (const [body, ct, re] of cases) assert.throws(() => parseManifest(body, ct), re, body);
  assert.throws(() => parseManifest(Buffer.alloc(5 << 20, 0x20)), /over the 4194304-byte limit/);
});

test('platforms normalize as containerd does', () => {
  const cases: [object, string][] = [
    [{ os: 'Linux', architecture: 'x86_64' }, 'linux/amd64'],
    [{ os: 'linux', architecture: 'x86-64' }, 'linux/amd64'],
    [{ os: 'linux', architecture: 'aarch64' }, 'linux/arm64'],
    [{ os: 'linux', architecture: 'arm64', variant: 'v8' }, 'linux/arm64'],
    [{ os: 'linux', architecture: 'arm64', variant: '8' }, 'linux/arm64'],
    [{ os: 'linux', architecture: 'arm' }, 'linux/arm/v7'],
    [{ os: 'linux', architecture: 'arm', variant: '6' }, 'linux/arm/v6'],
    [{ os: 'linux', architecture: 'armhf' }, 'linux/arm/v7'],
    [{ os: 'linux', architecture: 'armel' }, 'linux/arm/v6'],
    [{ os: 'linux', architecture: 'i386' }, 'linux/386'],
    [{ os: 'macos', architecture: 'arm64' }, 'darwin/arm64'],
  ];
  for (const [p, want] of cases) assert.equal(formatPlatform(normalizePlatform(p as never)), want, JSON.stringify(p));
  assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.equal(parsePlatform('linux').os, 'linux');
  assert.equal(parsePlatform('arm64').architecture, 'arm64');
  assert.throws(() => parsePlatform('linux/amd64/v1/x'), /invalid platform/);
  assert.throws(() => parsePlatform('linux//amd64'), /invalid platform/);
  assert.equal(hostPlatform().os, 'linux');
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v6' }));
  assert.ok(!platformMatches({ os: 'linux', architecture: 'arm', variant: 'v6' }, { os: 'linux', architecture: 'arm', variant: 'v7' }));
  assert.ok(!platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }));
});

test('manifest selection prefers the exact platform, then compatible variants', () => {
  const mk = (architecture: string, variant?: string, extra: object = {}): object => ({
    mediaType: MEDIA_TYPE.ociManifest, digest: `sha256:${(architecture + (variant ?? '')).padEnd(64, '0').replace(/[^a-f0-9]/g, 'b')}`, size: 1,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) }, ...extra,
  });
  const idx = parseManifest(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: [
    mk('unknown', undefined, { annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } }),
    mk('arm', 'v5'), mk('arm', 'v6'), mk('x86_64'), mk('aarch64'), mk('arm', 'v7'),
  ] }));
  assert.equal(idx.kind, 'index');
  if (idx.kind !== 'index') return;
  assert.equal(selectManifest(idx.index, { os: 'linux', architecture: 'amd64' })?.platform?.architecture, 'x86_64');
  assert.equal(selectManifest(idx.index, { os: 'linux', architecture: 'arm64', variant: 'v8' })?.platform?.architecture, 'aarch64');
  assert.equal(selectManifest(idx.index, { os: 'linux', architecture: 'arm', variant: 'v7' })?.platform?.variant, 'v7');
  assert.equal(selectManifest(idx.index, { os: 'linux', architecture: 'arm', variant: 'v6' })?.platform?.variant, 'v6');
  assert.equal(selectManifest(idx.index, { os: 'linux', architecture: 's390x' }), undefined);
  assert.equal(selectManifest(idx.index, { os: 'windows', architecture: 'amd64' }), undefined);
});

test('image configs are validated', () => {
  const ok = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [D] }, history: [{ created_by: 'x' }], config: { Env: ['A=1'], Cmd: ['sh'], Labels: { a: 'b' } } };
  assert.equal(parseImageConfig(JSON.stringify(ok)).rootfs.diff_ids[0], D);
  const bad: [object, RegExp][] = [
    [{ ...ok, architecture: '' }, /architecture missing/],
    [{ ...ok, os: 1 }, /os missing/],
    [{ ...ok, rootfs: { type: 'x', diff_ids: [] } }, /rootfs must be/],
    [{ ...ok, rootfs: { type: 'layers', diff_ids: ['nope'] } }, /diff_ids\[0\] is not a digest/],
    [{ ...ok, history: {} }, /history must be an array/],
    [{ ...ok, history: [{ empty_layer: 'yes' }] }, /empty_layer must be a boolean/],
    [{ ...ok, config: { Env: 'A=1' } }, /config.Env must be an array of strings/],
    [{ ...ok, config: { Labels: { a: 1 } } }, /config.Labels values must be strings/],
    [{ ...ok, created: 'yesterday' }, /created is not an RFC 3339 time/],
  ];
  for (const [c, re] of bad) assert.throws(() => parseImageConfig(JSON.stringify(c)), re);
  assert.throws(() => parseImageConfig('{'), /not valid JSON/);
});

test('layer media types: compression and foreign layers', () => {
  assert.deepEqual(layerType(MEDIA_TYPE.dockerForeignLayerGzip), { compression: 'gzip', foreign: true });
  assert.deepEqual(layerType(MEDIA_TYPE.ociLayerNondistZstd), { compression: 'zstd', foreign: true });
  assert.deepEqual(layerType(MEDIA_TYPE.ociLayer), { compression: 'none', foreign: false });
  assert.equal(layerType(MEDIA_TYPE.ociConfig), undefined);
});
