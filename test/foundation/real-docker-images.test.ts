// Acceptance 2 of the foundation: the test images are real images. The real
// dockerd loads their `docker save` archives and runs them (busybox echoes,
// nginx answers HTTP on a port published on 127.0.0.1); skopeo pushes their
// OCI layouts to the real registry; and the harness leaves nothing behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { needsRoot } from '../support/root.ts';
import { testImage, type TestImage } from '../images/index.ts';
import { startDockerd, startRegistry, freePort, execChecked, type DockerdPeer, type RegistryPeer } from '../harness/index.ts';
import { processesMentioning, mountsUnder } from '../harness/cleanup.ts';
import { dumpTable, mentions, TABLES } from '../harness/iptables.ts';

let dockerd: DockerdPeer | undefined;
let registry: RegistryPeer | undefined;
let busybox: TestImage;
let nginx: TestImage;

function d(): DockerdPeer {
  assert.ok(dockerd, 'dockerd started');
  return dockerd;
}

before(async () => {
  if (needsRoot.skip) return;
  busybox = await testImage('busybox');
  nginx = await testImage('nginx');
  dockerd = await startDockerd();
  registry = await startRegistry();
});

after(() => {
  dockerd?.stop();
  registry?.stop();
});

/** GET http://127.0.0.1:port/ with bounded retries (nginx needs a moment after `docker run -d`). */
async function httpGet(port: number): Promise<{ status: number; body: string }> {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      return await new Promise((resolve, reject) => {
        const req = get({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => { body += c; });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      });
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`no HTTP answer on 127.0.0.1:${port}: ${String(last)}`);
}

test('docker load takes both archives; the image IDs are our config digests', needsRoot, async () => {
  for (const image of [busybox, nginx]) {
    const out = await d().docker(['load', '-i', image.dockerArchive]);
    assert.match(out, new RegExp(`Loaded image: ${image.ref}`));
    const id = (await d().docker(['image', 'inspect', '--format', '{{.Id}}', image.ref])).trim();
    assert.equal(id, image.configDigest);
    const diffIds = JSON.parse(await d().docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', image.ref]));
    assert.deepEqual(diffIds, image.layers.map((l) => l.diffId));
  }
});

test('docker inspect shows the config: Cmd, ExposedPorts, StopSignal', needsRoot, async () => {
  const bb = JSON.parse(await d().docker(['image', 'inspect', busybox.ref]))[0];
  assert.deepEqual(bb.Config.Cmd, ['sh']);
  assert.equal(bb.Architecture, 'amd64');
  assert.equal(bb.Os, 'linux');
  const ng = JSON.parse(await d().docker(['image', 'inspect', nginx.ref]))[0];
  assert.deepEqual(ng.Config.Cmd, ['nginx', '-g', 'daemon off;']);
  assert.deepEqual(Object.keys(ng.Config.ExposedPorts), ['80/tcp']);
  assert.equal(ng.Config.StopSignal, 'SIGQUIT');
  const history = await d().docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', nginx.ref]);
  assert.match(history, /debootstrap --variant=minbase --include=nginx/);
});

test('docker run --rm busybox echo hello prints hello (docker CLI 20.10 and 28)', needsRoot, async () => {
  assert.equal(await d().docker(['run', '--rm', 'busybox', 'echo', 'hello']), 'hello\n');
  assert.equal(await d().docker(['run', '--rm', 'busybox', 'echo', 'hello'], { cli: 'v28' }), 'hello\n');
  // Cmd ["sh"] is the default command: a script on stdin runs in it.
  assert.equal(await d().docker(['run', '--rm', '-i', 'busybox'], { input: 'echo from-sh; id -u\n' }), 'from-sh\n0\n');
});

test('nginx answers HTTP on a port published on 127.0.0.1 and logs to stdout', needsRoot, async (t) => {
  const port = await freePort();
  const id = (await d().docker(['run', '-d', '-p', `127.0.0.1:${port}:80`, nginx.ref])).trim();
  t.after(() => d().dockerResult(['rm', '-f', id]));
  const res = await httpGet(port);
  assert.equal(res.status, 200);
  assert.match(res.body, /Welcome to nginx!/);
  const ports = await d().docker(['port', id, '80/tcp']);
  assert.match(ports, new RegExp(`127\\.0\\.0\\.1:${port}`));
  // access.log -> /dev/stdout: the request shows in `docker logs`.
  let logs = '';
  for (let i = 0; i < 20 && !/GET \/ HTTP/.test(logs); i++) {
    logs = await d().docker(['logs', id]);
    if (!/GET \/ HTTP/.test(logs)) await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(logs, /"GET \/ HTTP\/1\.1" 200/);
  // StopSignal SIGQUIT: nginx shuts down gracefully, exit code 0.
  await d().docker(['stop', '-t', '20', id]);
  assert.equal((await d().docker(['inspect', '--format', '{{.State.ExitCode}}', id])).trim(), '0');
});

test('skopeo pushes the OCI layouts to the real registry; skopeo inspect agrees with our digests', needsRoot, async () => {
  assert.ok(registry);
  for (const image of [busybox, nginx]) {
    const dest = `docker://${registry.host}/${image.name}:latest`;
    await execChecked('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${image.ociLayout}:latest`, dest], { timeoutMs: 120_000 });
    const info = JSON.parse(await execChecked('skopeo', ['inspect', '--tls-verify=false', dest]));
    assert.equal(info.Digest, image.manifestDigest);
    assert.deepEqual(info.Layers, image.layers.map((l) => l.digest));
    const config = JSON.parse(await execChecked('skopeo', ['inspect', '--config', '--tls-verify=false', dest]));
    assert.deepEqual(config.rootfs.diff_ids, image.layers.map((l) => l.diffId));
  }
});

test('the harness dockerd leaves nothing behind: processes, mounts, bridge, iptables rules, folders', needsRoot, async () => {
  const peer = d();
  // Leave work for the clean-up: a running container with a published port.
  const port = await freePort();
  await peer.docker(['run', '-d', '-p', `127.0.0.1:${port}:80`, nginx.ref]);
  await httpGet(port);
  await peer.docker(['network', 'create', 'dray-test-net']);
  const netBridge = `br-${(await peer.docker(['network', 'inspect', '--format', '{{.Id}}', 'dray-test-net'])).trim().slice(0, 12)}`;
  assert.ok(existsSync(`/sys/class/net/${netBridge}`));
  const rulesBefore = TABLES.flatMap((t) => dumpTable(t).rules).filter((r) => mentions(r, [peer.bridge]));
  assert.ok(rulesBefore.length > 0, 'dockerd added rules for its bridge');
  peer.stop();
  assert.equal(existsSync(`/proc/${peer.pid}`) && !/State:\s+Z/.test(readFileSync(`/proc/${peer.pid}/status`, 'utf8')), false, 'dockerd is gone');
  assert.deepEqual(processesMentioning([peer.dir, `-container-ip ${peer.subnet.replace(/0\/24$/, '')}`]), []);
  assert.deepEqual(mountsUnder(peer.dir), []);
  assert.equal(existsSync(peer.dir), false);
  assert.equal(existsSync(`/sys/class/net/${peer.bridge}`), false);
  assert.equal(existsSync(`/sys/class/net/${netBridge}`), false);
  const tokens = [peer.bridge, netBridge, peer.subnet.replace(/0\/24$/, ''), peer.addressPool.replace(/0\/24$/, '')];
  for (const t of TABLES) assert.deepEqual(dumpTable(t).rules.filter((r) => mentions(r, tokens)), [], `no ${t} rule left`);
  dockerd = undefined;
});
