// Issue 8's acceptance against drayd: nginx published on 127.0.0.1 and at its
// bridge address through bin/dray and the docker CLI 28; user networks
// (names resolve and connect, other networks cannot reach, connect and
// disconnect on running containers); docker-compose 1.29; and no stale
// rules, links, namespaces or addresses after rm and after kill -9 + restart.
// (network-volumes.test.ts covers -p with a random port, `port`, aliases, network rm in use.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsRoot } from '../support/root.ts';
import { execCommand, freePort, waitUntil } from '../harness/index.ts';
import { testImage } from '../images/index.ts';
import { startDrayd, type Drayd } from './support/drayd.ts';
import { CLIENTS, client } from './support/clis.ts';

let dray: Drayd;

before(async () => {
  if (needsRoot.skip) return;
  dray = await startDrayd();
  for (const img of ['busybox', 'nginx'] as const) await dray.docker(['load', '-i', (await testImage(img)).dockerArchive]);
});

after(async () => {
  await dray?.stop();
});

function httpGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, host);
    let out = '';
    c.setTimeout(3000, () => c.destroy(new Error('timeout')));
    c.on('connect', () => c.write('GET / HTTP/1.0\r\n\r\n'));
    c.on('data', (b) => { out += b.toString(); });
    c.on('end', () => resolve(out));
    c.on('error', reject);
  });
}

async function nginxPage(host: string, port: number): Promise<string> {
  let page = '';
  await waitUntil(`nginx answers on ${host}:${port}`, async () => {
    page = await httpGet(host, port).catch(() => '');
    return page.includes('Welcome to nginx');
  }, 15_000);
  return page;
}

for (const c of CLIENTS) {
  test(`${c}: run -d -p 127.0.0.1:<port>:80 nginx serves on loopback; --name my-container serves at its bridge address`, needsRoot, async () => {
    const port = await freePort();
    const names = [`pub-${c}`, 'my-container'];
    try {
      await client(dray, c, ['run', '-d', '--name', names[0]!, '-p', `127.0.0.1:${port}:80`, 'nginx']);
      assert.match(await nginxPage('127.0.0.1', port), /^HTTP\/1\.1 200 OK/);
      await client(dray, c, ['run', '-d', '--name', 'my-container', 'nginx']);
      const ip = (await client(dray, c, ['inspect', '--format', '{{.NetworkSettings.IPAddress}}', 'my-container'])).trim();
      assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
      assert.match(await nginxPage(ip, 80), /^HTTP\/1\.1 200 OK/);
    } finally {
      await dray.dockerResult(['rm', '-f', ...names]);
    }
    // the published port is gone with its container
    await assert.rejects(httpGet('127.0.0.1', port));
  });
}

/** busybox: what the embedded DNS answers for NAME (nslookup), then nc to NAME itself. */
const CALL = (name: string, port: number): string =>
  `ip=$(nslookup ${name} 127.0.0.11 2>/dev/null | awk '/^Address/ && !/127\\.0\\.0\\.11/ {a=$NF} END {print a}'); ` +
  `echo "ip=$ip"; echo ping | nc -w 2 ${name} ${port}`;

test('user networks: by-name reach inside one, none across, connect/disconnect on running containers', needsRoot, async () => {
  const nets = ['acc-front', 'acc-back'];
  const ctrs = ['srv', 'peer', 'outsider'];
  // one reply per connection, a bounded number of times
  const server = 'i=0; while [ $i -lt 200 ]; do echo pong | nc -l -p 7000; i=$((i+1)); done';
  try {
    for (const n of nets) await dray.docker(['network', 'create', n]);
    await dray.docker(['run', '-d', '--name', 'srv', '--network', 'acc-front', 'busybox', 'sh', '-c', server]);
    await dray.docker(['run', '-d', '--name', 'peer', '--network', 'acc-front', 'busybox', 'sleep', '120']);
    await dray.docker(['run', '-d', '--name', 'outsider', '--network', 'acc-back', 'busybox', 'sleep', '120']);
    const srvIp = (await dray.docker(['inspect', '--format', '{{(index .NetworkSettings.Networks "acc-front").IPAddress}}', 'srv'])).trim();
    let same = '';
    await waitUntil('peer reaches srv by name', async () => {
      same = (await dray.dockerResult(['exec', 'peer', 'sh', '-c', CALL('srv', 7000)])).stdout;
      return same.includes('pong');
    }, 10_000);
    assert.ok(same.includes(`ip=${srvIp}`), same);
    // the other network: the name does not resolve, and the address is not reachable
    const across = await dray.dockerResult(['exec', 'outsider', 'sh', '-c', `${CALL('srv', 7000)}; echo direct; echo ping | nc -w 2 ${srvIp} 7000`]);
    assert.ok(across.stdout.startsWith('ip=\n'), across.stdout);
    assert.doesNotMatch(across.stdout, /pong/);
    // connect the running outsider to acc-front: now it reaches srv by name
    await dray.docker(['network', 'connect', 'acc-front', 'outsider']);
    const inside = (await dray.docker(['exec', 'outsider', 'sh', '-c', `ip -o -4 addr show | grep -c eth; ${CALL('srv', 7000)}`]));
    assert.match(inside, /^2\n/);
    assert.ok(inside.includes('pong'), inside);
    // and srv resolves the newcomer
    const outsiderIp = (await dray.docker(['inspect', '--format', '{{(index .NetworkSettings.Networks "acc-front").IPAddress}}', 'outsider'])).trim();
    assert.match(await dray.docker(['exec', 'srv', 'nslookup', 'outsider', '127.0.0.11']), new RegExp(outsiderIp.replaceAll('.', '\\.')));
    // disconnect: gone again
    await dray.docker(['network', 'disconnect', 'acc-front', 'outsider']);
    const after = await dray.dockerResult(['exec', 'outsider', 'sh', '-c', `ip -o -4 addr show | grep -c eth; ${CALL('srv', 7000)}; echo ping | nc -w 2 ${srvIp} 7000`]);
    assert.match(after.stdout, /^1\nip=\n/);
    assert.doesNotMatch(after.stdout, /pong/);
    assert.equal((await dray.docker(['inspect', '--format', '{{len .NetworkSettings.Networks}}', 'outsider'])).trim(), '1');
  } finally {
    await dray.dockerResult(['rm', '-f', ...ctrs]);
    await dray.dockerResult(['network', 'rm', ...nets]);
  }
});

test('network connect/disconnect of a stopped container: recorded, connected at each start', needsRoot, async () => {
  const nets = ['acc-one', 'acc-two', 'acc-three'];
  try {
    for (const n of nets) await dray.docker(['network', 'create', n]);
    await dray.docker(['run', '-d', '--name', 'srv1', '--network', 'acc-two', '--network-alias', 'svc', 'busybox', 'sh', '-c',
      'i=0; while [ $i -lt 200 ]; do echo pong | nc -l -p 7000; i=$((i+1)); done']);
    await dray.docker(['create', '--name', 'late', '--network', 'acc-one', 'busybox', 'sleep', '120']);
    await dray.docker(['network', 'connect', '--alias', 'latecomer', 'acc-two', 'late']);
    await dray.docker(['network', 'connect', 'acc-three', 'late']);
    await dray.docker(['network', 'disconnect', 'acc-three', 'late']);
    assert.notEqual((await dray.dockerResult(['network', 'disconnect', 'acc-three', 'late'])).code, 0);
    assert.equal((await dray.docker(['inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'late'])).trim(), 'acc-two');
    for (let round = 0; round < 2; round++) {
      await dray.docker(['start', 'late']);
      const nets2 = (await dray.docker(['inspect', '--format', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'late'])).trim();
      assert.equal(nets2, 'acc-one acc-two', `start ${round}`);
      assert.match(await dray.docker(['exec', 'late', 'sh', '-c', CALL('svc', 7000)]), /pong/);
      const lateIp = (await dray.docker(['inspect', '--format', '{{(index .NetworkSettings.Networks "acc-two").IPAddress}}', 'late'])).trim();
      assert.match(lateIp, /^\d+\.\d+\.\d+\.\d+$/);
      assert.ok((await dray.docker(['exec', 'srv1', 'nslookup', 'latecomer', '127.0.0.11'])).includes(lateIp));
      await dray.docker(['stop', '-t', '1', 'late']);
    }
  } finally {
    await dray.dockerResult(['rm', '-f', 'srv1', 'late']);
    await dray.dockerResult(['network', 'rm', ...nets]);
  }
});

const COMPOSE_FILE = `version: "3.7"
services:
  web:
    image: nginx
  client:
    image: busybox
    depends_on: [web]
    command: ["sh", "-c", "i=0; while [ $$i -lt 100 ]; do if printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 web 80 | grep -q 'Welcome to nginx'; then echo reached web by name; fi; i=$$((i+1)); sleep 0.5; done"]
`;

test('docker-compose 1.29: up, ps, logs, down of two services calling each other by service name', needsRoot, async (t) => {
  if (!existsSync('/usr/bin/docker-compose')) return t.skip('docker-compose is not installed (scripts/setup.sh installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'dray-compose-'));
  const project = `acc${process.pid}`;
  const env = { ...dray.cliEnv, COMPOSE_PROJECT_NAME: project, COMPOSE_INTERACTIVE_NO_CLI: '1' };
  const compose = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    execCommand('/usr/bin/docker-compose', ['-f', join(dir, 'docker-compose.yml'), ...args], { env: { ...env, ...extraEnv }, timeoutMs: 120_000 });
  writeFileSync(join(dir, 'docker-compose.yml'), COMPOSE_FILE);
  try {
    const up = await compose(['up', '-d']);
    assert.equal(up.code, 0, `up: ${up.stderr}`);
    const ps = await compose(['ps']);
    assert.equal(ps.code, 0, `ps: ${ps.stderr}`);
    assert.match(ps.stdout, new RegExp(`${project}_web_1 .*Up`));
    assert.match(ps.stdout, new RegExp(`${project}_client_1 .*Up`));
    let logs = '';
    await waitUntil('the client reaches web by its service name', async () => {
      const r = await compose(['logs', '--no-color', 'client']);
      logs = r.stdout;
      return /reached web by name/.test(logs);
    }, 30_000);
    assert.match(logs, /client_1 +\| reached web by name/);
    // Recreating reads the image's ContainerConfig, which the API stopped sending at 1.44 (as dockerd 25+ does, where
    // compose 1.29 fails with KeyError 'ContainerConfig'): pinning the API version, as with dockerd, makes it work.
    const recreate = await compose(['up', '-d', '--force-recreate', 'web'], { COMPOSE_API_VERSION: '1.43' });
    assert.equal(recreate.code, 0, `recreate: ${recreate.stderr}`);
    assert.match(recreate.stderr, /Recreating .*web_1 .*done/);
    const down = await compose(['down']);
    assert.equal(down.code, 0, `down: ${down.stderr}`);
    assert.equal((await dray.docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`])).trim(), '');
    assert.doesNotMatch(await dray.docker(['network', 'ls', '--format', '{{.Name}}']), new RegExp(project));
  } finally {
    await compose(['down', '-t', '1']);
    const left = (await dray.dockerResult(['ps', '-aq', '--filter', `name=${project}_`])).stdout.split('\n').filter(Boolean);
    if (left.length) await dray.dockerResult(['rm', '-f', ...left]);
    await dray.dockerResult(['network', 'rm', `${project}_default`]);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The kernel state that belongs to this test's drayd, counted. */
interface KernelState { bridges: number; veths: number; addresses: number; rules: number; dnatRules: number; netns: number; nsfsMounts: number }
function kernelState(): KernelState {
  const { bridge, bridgePrefix, chainPrefix } = dray.net;
  const ours = (name: string) => name === bridge || name.startsWith(bridgePrefix);
  const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string; master?: string }[];
  const bridges = links.filter((l) => ours(l.ifname)).map((l) => l.ifname);
  const addrs = JSON.parse(execFileSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' })) as { ifname: string; addr_info: unknown[] }[];
  const rules = execFileSync('iptables-save', { encoding: 'utf8' }).split('\n').filter((l) => l.includes(chainPrefix) && l.startsWith('-A'));
  // network namespaces held by processes of this daemon's containers (their cgroups are under its parent)
  const netns = new Set<string>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`${dray.cgroupParent}/`)) continue;
      netns.add(readlinkSync(`/proc/${pid}/ns/net`));
    } catch { /* exited */ }
  }
  const nsfsMounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(' nsfs ') && l.includes(dray.dir)).length;
  return {
    bridges: bridges.length,
    veths: links.filter((l) => l.master !== undefined && bridges.includes(l.master)).length,
    addresses: addrs.filter((a) => ours(a.ifname)).reduce((n, a) => n + a.addr_info.length, 0),
    rules: rules.length,
    dnatRules: rules.filter((r) => r.includes('DNAT')).length,
    netns: netns.size,
    nsfsMounts,
  };
}

test('cleanup: nothing stale after stop + rm, and after kill -9 of drayd and a restart', needsRoot, async () => {
  const ctrs = ['c1', 'c2', 'c3'];
  const netName = 'acc-clean';
  try {
    // the baseline: the default bridge exists (it is made at the first endpoint)
    await dray.docker(['run', '--rm', 'busybox', 'true']);
    await dray.docker(['network', 'create', netName]);
    const base = kernelState();
    const port = await freePort();
    await dray.docker(['run', '-d', '--name', 'c1', '-p', `127.0.0.1:${port}:80`, 'nginx']);
    await dray.docker(['run', '-d', '--name', 'c2', '--network', netName, 'busybox', 'sleep', '120']);
    await dray.docker(['network', 'connect', 'bridge', 'c2']);
    const running = kernelState();
    assert.equal(running.veths, base.veths + 3, JSON.stringify(running));
    assert.ok(running.dnatRules > base.dnatRules, JSON.stringify(running));
    assert.equal(running.netns, base.netns + 2, JSON.stringify(running));
    await dray.docker(['stop', '-t', '1', 'c1', 'c2']);
    await dray.docker(['rm', 'c1', 'c2']);
    assert.deepEqual(kernelState(), base);
    // kill -9 while containers run: the restarted daemon keeps live ones, and once they go nothing is left
    await dray.docker(['run', '-d', '--name', 'c3', '--network', netName, '-p', `127.0.0.1:${port}:80`, 'nginx']);
    await dray.docker(['run', '-d', '--name', 'c1', 'busybox', 'sleep', '120']);
    await dray.kill9();
    await dray.restart();
    await nginxPage('127.0.0.1', port);
    await dray.docker(['rm', '-f', 'c1', 'c3']);
    assert.deepEqual(kernelState(), base);
    // kill -9, a container removed behind the daemon's back (its processes killed), restart: reconciled
    await dray.docker(['run', '-d', '--name', 'c2', '--network', netName, '-p', `127.0.0.1:${port}:80`, 'nginx']);
    const pid = Number((await dray.docker(['inspect', '--format', '{{.State.Pid}}', 'c2'])).trim());
    await dray.kill9();
    process.kill(pid, 'SIGKILL');
    await waitUntil('the container is gone', () => !existsSync(`/proc/${pid}`), 10_000);
    await dray.restart();
    await waitUntil('the daemon sees c2 exited', async () => (await dray.docker(['inspect', '--format', '{{.State.Running}}', 'c2'])).trim() === 'false', 10_000);
    await dray.docker(['rm', 'c2']);
    assert.deepEqual(kernelState(), base);
  } finally {
    await dray.dockerResult(['rm', '-f', ...ctrs]);
    await dray.dockerResult(['network', 'rm', netName]);
  }
});
