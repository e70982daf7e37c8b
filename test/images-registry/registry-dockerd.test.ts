// The real dockerd (20.10) and Dray through one registry, both ways: an
// image Dray pushed is pulled and run by dockerd; an image dockerd pushed is
// pulled by Dray with the same digests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsRoot } from '../support/root.ts';
import { startDockerd, type DockerdPeer } from '../harness/index.ts';
import { testImage } from '../images/index.ts';
import { startRegistry, skopeo, type Registry } from './support/registry.ts';
import { testStores } from './support/stores.ts';
import { RegistryClient } from '../../src/images/registry/client.ts';
import { closeIdleConnections } from '../../src/images/registry/transport.ts';
import { pull } from '../../src/images/pull.ts';
import { push } from '../../src/images/push.ts';

let reg: Registry;
let dockerd: DockerdPeer;
const tmp = mkdtempSync(join(tmpdir(), 'dray-dockerd-reg-'));
const client = (): RegistryClient => new RegistryClient({ credentials: () => undefined });

before(async () => {
  if (needsRoot.skip) return;
  reg = await startRegistry();
  dockerd = await startDockerd();
});
after(() => {
  closeIdleConnections();
  dockerd?.stop();
  reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});


test('an image Dray pushed is pulled and run by the real dockerd', needsRoot, async (t) => {
  const busybox = await testImage('busybox');
  skopeo(['copy', `oci:${busybox.ociLayout}:latest`, `docker://${reg.host}/seed/busybox:latest`], ['--dest-tls-verify=false']);
  const s = testStores(tmp, t);
  await pull(s, client(), `${reg.host}/seed/busybox:latest`);
  await push(s, client(), `${reg.host}/from-dray/busybox:1`, { source: `${reg.host}/seed/busybox:latest`, chunkSize: 256 * 1024 });
  const ref = `${reg.host}/from-dray/busybox:1`;
  await dockerd.docker(['pull', ref]);
  assert.equal((await dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', ref])).trim(), busybox.configDigest);
  assert.match(await dockerd.docker(['image', 'inspect', '--format', '{{index .RepoDigests 0}}', ref]), new RegExp(`@${busybox.manifestDigest}`));
  assert.equal(await dockerd.docker(['run', '--rm', '--network', 'none', ref, 'echo', 'pushed by dray']), 'pushed by dray\n');
});

test('an image the real dockerd pushed is pulled by Dray with the same layers and config', needsRoot, async (t) => {
  const nginx = await testImage('nginx');
  await dockerd.docker(['load', '-i', nginx.dockerArchive]);
  const ref = `${reg.host}/from-docker/nginx:1`;
  await dockerd.docker(['tag', nginx.ref, ref]);
  await dockerd.docker(['push', ref]);
  const s = testStores(tmp, t);
  const res = await pull(s, client(), ref);
  // dockerd pushes a Docker schema2 manifest, gzip layers of the same tars.
  assert.equal(res.configDesc.digest, nginx.configDigest);
  assert.deepEqual(res.layers.map((l) => l.diffId), nginx.layers.map((l) => l.diffId));
  assert.equal(res.manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
});
