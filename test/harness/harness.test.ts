// The harness itself: each peer starts on its own folders and socket, does
// real work, and leaves nothing behind when stopped, even after a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { needsRoot } from '../support/root.ts';
import { testImage } from '../images/index.ts';
import { crunPath, execChecked, execCommand, freePort, getStatus, runcPath, runningPeers, startContainerd, startDockerd, startRegistry } from './index.ts';
import { alive, cgroupDirs, mountsUnder, processesMentioning } from './cleanup.ts';
import { dumpTable, mentions, ruleArgs, TABLES } from './iptables.ts';

test('freePort gives a port nothing listens on, and we can bind it', async () => {
  const port = await freePort();
  assert.ok(port > 0 && port < 65536);
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
});

test('runc and crun are found and run', () => {
  assert.match(execFileSync(runcPath(), ['--version'], { encoding: 'utf8' }), /runc version/);
  assert.match(execFileSync(crunPath(), ['--version'], { encoding: 'utf8' }), /crun version/);
});

test('ruleArgs splits iptables-save lines, quoted comments included', () => {
  assert.deepEqual(ruleArgs('-A DOCKER -m comment --comment "a \\"b\\" c" -j RETURN'),
    ['-A', 'DOCKER', '-m', 'comment', '--comment', 'a "b" c', '-j', 'RETURN']);
  assert.equal(mentions('-A FORWARD -o drayt3 -j DOCKER', ['drayt3']), true);
  assert.equal(mentions('-A FORWARD -o drayt30 -j DOCKER', ['drayt3']), false);
  assert.equal(mentions('-A DOCKER -d 10.213.3.2/32 -j ACCEPT', ['10.213.3.']), true);
  assert.equal(mentions('-A DOCKER -j DNAT --to-destination 10.213.3.2:80', ['10.213.3.']), true);
  assert.equal(mentions('-A DOCKER -d 10.213.30.2/32 -j ACCEPT', ['10.213.3.']), false);
});

test('containerd: own sockets and folders, ctr imports and runs the busybox image, stop cleans up', needsRoot, async (t) => {
  const busybox = await testImage('busybox');
  const c = await startContainerd();
  t.after(() => c.stop());
  assert.ok(c.address.startsWith(c.dir));
  assert.match(await c.ctr(['version']), /Server:/);
  const plugins = await c.ctr(['plugins', 'ls']);
  assert.doesNotMatch(plugins, /io\.containerd\.grpc\.v1\s+cri\s+.*ok/);
  await c.ctr(['images', 'import', busybox.dockerArchive], { namespace: 'dray-test' });
  assert.match(await c.ctr(['images', 'ls', '-q'], { namespace: 'dray-test' }), /docker\.io\/library\/busybox:latest/);
  const out = await c.ctr(['run', '--rm', 'docker.io/library/busybox:latest', 'dray-harness-echo', 'echo', 'hi from containerd'], { namespace: 'dray-test' });
  assert.equal(out.trim(), 'hi from containerd');
  // A container still running when containerd dies (SIGKILL) is ended by stop() too.
  await c.ctr(['run', '-d', 'docker.io/library/busybox:latest', 'dray-harness-sleep', 'sleep', '600'], { namespace: 'dray-test' });
  const initPid = Number(readFileSync(`${c.state}/io.containerd.runtime.v2.task/dray-test/dray-harness-sleep/init.pid`, 'utf8'));
  assert.ok(alive(initPid));
  process.kill(c.pid, 'SIGKILL');
  c.stop();
  assert.equal(alive(initPid), false);
  assert.deepEqual(cgroupDirs('/dray-test/dray-harness-sleep'), []);
  assert.equal(alive(c.pid), false);
  assert.deepEqual(processesMentioning([c.dir]), []);
  assert.deepEqual(mountsUnder(c.dir), []);
  assert.equal(existsSync(c.dir), false);
  assert.equal(runningPeers().includes(c), false);
});

test('registry: plain, basic auth (bcrypt htpasswd) and TLS from our own CA', needsRoot, async (t) => {
  const plain = await startRegistry();
  t.after(() => plain.stop());
  assert.equal(await getStatus(`${plain.url}/v2/`), 200);

  const creds = { username: 'dray', password: 's3cret pass' };
  const secured = await startRegistry({ auth: creds, tls: true });
  t.after(() => secured.stop());
  assert.ok(secured.caFile && secured.certDir);
  assert.match(secured.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const ca = readFileSync(secured.caFile);
  const basic = { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` };
  const wrong = { authorization: `Basic ${Buffer.from(`${creds.username}:nope`).toString('base64')}` };
  assert.equal(await getStatus(`${secured.url}/v2/`, ca), 401);
  assert.equal(await getStatus(`${secured.url}/v2/`, ca, wrong), 401);
  assert.equal(await getStatus(`${secured.url}/v2/`, ca, basic), 200);
  // Without our CA the certificate is not trusted: no answer.
  assert.equal(await getStatus(`${secured.url}/v2/`, undefined, basic), 0);
  // openssl agrees: the server certificate chains to the CA and names 127.0.0.1.
  const verify = await execCommand('openssl', ['s_client', '-connect', secured.host, '-CAfile', secured.caFile, '-verify_ip', '127.0.0.1', '-verify_return_error', '-brief'], { input: '', timeoutMs: 10_000 });
  assert.match(verify.stderr + verify.stdout, /Verification: OK/);

  // A real client through both: skopeo pushes with the CA folder and the credentials.
  const busybox = await testImage('busybox');
  const dest = `docker://${secured.host}/dray/busybox:1`;
  await execChecked('skopeo', ['copy', '--quiet', '--dest-cert-dir', secured.certDir, '--dest-creds', `${creds.username}:${creds.password}`, `oci:${busybox.ociLayout}:latest`, dest]);
  const info = JSON.parse(await execChecked('skopeo', ['inspect', '--cert-dir', secured.certDir, '--creds', `${creds.username}:${creds.password}`, dest]));
  assert.equal(info.Digest, busybox.manifestDigest);
  const denied = await execCommand('skopeo', ['inspect', '--cert-dir', secured.certDir, dest]);
  assert.notEqual(denied.code, 0);

  for (const r of [plain, secured]) {
    r.stop();
    assert.equal(alive(r.pid), false);
    assert.equal(existsSync(r.dir), false);
    assert.equal(await getStatus(`http://127.0.0.1:${r.port}/v2/`), 0);
  }
});

test('dockerd with an added default runtime, killed with SIGKILL mid-work: stop() still removes shims, proxies, mounts, bridge and rules', needsRoot, async (t) => {
  const busybox = await testImage('busybox');
  // (crun refuses this machine's hybrid cgroup layout, so the extra runtime is runc under another name.)
  const d = await startDockerd({ runtimes: { 'runc-alt': runcPath() }, defaultRuntime: 'runc-alt' });
  t.after(() => d.stop());
  await d.docker(['load', '-i', busybox.dockerArchive]);
  // A second runtime registered through --add-runtime is usable.
  assert.match(await d.docker(['info', '--format', '{{json .Runtimes}}']), /"runc-alt"/);
  assert.equal((await d.docker(['info', '--format', '{{.DefaultRuntime}}'])).trim(), 'runc-alt');
  assert.equal(await d.docker(['run', '--rm', '--runtime', 'runc-alt', 'busybox', 'echo', 'alt here']), 'alt here\n');
  const port = await freePort();
  const id = (await d.docker(['run', '-d', '-p', `127.0.0.1:${port}:8080`, 'busybox', 'sleep', '600'])).trim();
  const shimAddress = readFileSync(`${d.execRoot}/containerd/daemon/io.containerd.runtime.v2.task/moby/${id}/address`, 'utf8').replace(/^unix:\/\//, '');
  assert.ok(existsSync(shimAddress));
  assert.ok(readdirSync('/sys/fs/cgroup').some((h) => existsSync(`/sys/fs/cgroup/${h}/${d.bridge}`)), 'containers live under our cgroup parent');
  assert.ok(processesMentioning([d.dir]).length > 1, 'containerd and a shim run on our folders');
  assert.ok(mountsUnder(d.dir).length > 0, 'the container rootfs is mounted under our folders');
  process.kill(d.pid, 'SIGKILL');
  d.stop();
  const subnetPrefix = d.subnet.replace(/0\/24$/, '');
  assert.deepEqual(processesMentioning([d.dir, `-container-ip ${subnetPrefix}`]), []);
  assert.deepEqual(mountsUnder(d.dir), []);
  assert.equal(existsSync(d.dir), false);
  assert.equal(existsSync(shimAddress), false, 'the shim socket in /run/containerd/s is gone');
  assert.equal(existsSync(`/sys/class/net/${d.bridge}`), false);
  for (const table of TABLES) assert.deepEqual(dumpTable(table).rules.filter((r) => mentions(r, [d.bridge, subnetPrefix])), []);
  // The container cgroups under dockerd's --cgroup-parent (/<bridge>) are gone too.
  const hierarchies = readdirSync('/sys/fs/cgroup').map((h) => `/sys/fs/cgroup/${h}/${d.bridge}`);
  assert.deepEqual(hierarchies.filter((p) => existsSync(p)), []);
});

test('a peer that fails to start: the error carries its log tail, and nothing is left', needsRoot, async () => {
  const peersBefore = runningPeers().length;
  const bridgesBefore = new Set(readdirSync('/sys/class/net'));
  await assert.rejects(startDockerd({ extraArgs: ['--no-such-flag'] }), (err: Error) => {
    assert.match(err.message, /dockerd exited/);
    assert.match(err.message, /--- dockerd log \(last lines\) ---[\s\S]*no-such-flag/);
    return true;
  });
  assert.equal(runningPeers().length, peersBefore);
  const added = [...readdirSync('/sys/class/net')].filter((b) => !bridgesBefore.has(b) && b.startsWith('drayt'));
  assert.deepEqual(added, []);
});
