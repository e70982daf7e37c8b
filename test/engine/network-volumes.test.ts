// drayd with the networking and volumes libraries, driven by the docker CLI:
// bridge addresses, -p publishing reached from the host, user networks with
// name resolution, named/anonymous volumes, binds, tmpfs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needsRoot } from '../support/root.ts';
import { waitUntil } from '../harness/index.ts';
import { testImage } from '../images/index.ts';
import { startDrayd, type Drayd } from './support/drayd.ts';

let dray: Drayd;

before(async () => {
  if (needsRoot.skip) return;
  dray = await startDrayd();
  await dray.docker(['load', '-i', (await testImage('busybox')).dockerArchive]);
});

after(async () => {
  await dray?.stop();
});

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let out = '';
    c.setTimeout(3000, () => c.destroy(new Error('timeout')));
    c.on('connect', () => c.write('GET / HTTP/1.0\r\n\r\n'));
    c.on('data', (b) => { out += b.toString(); });
    c.on('end', () => resolve(out));
    c.on('error', reject);
  });
}

test('bridge: an address in inspect, -p reached from the host, port listing', needsRoot, async () => {
  await dray.docker(['run', '-d', '--name', 'web', '-p', '127.0.0.1::80', 'busybox', 'sh', '-c',
    'printf "HTTP/1.0 200 OK\\r\\n\\r\\nhello from dray\\n" > /r; while true; do nc -l -p 80 < /r; done']);
  try {
    const ip = (await dray.docker(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', 'web'])).trim();
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    const port = Number((await dray.docker(['port', 'web', '80'])).trim().split(':').pop());
    assert.ok(port > 0);
    let body = '';
    await waitUntil('the published port answers', async () => {
      body = await httpGet(port).catch(() => '');
      return body.includes('hello from dray');
    }, 10_000);
    assert.match(body, /^HTTP\/1.0 200 OK/);
    const own = await dray.docker(['exec', 'web', 'sh', '-c', 'ip -4 addr show eth0 | grep inet']);
    assert.ok(own.includes(`${ip}/`));
  } finally {
    await dray.dockerResult(['rm', '-f', 'web']);
  }
});

test('user network: containers resolve each other by name; network ls/inspect/rm', needsRoot, async () => {
  await dray.docker(['network', 'create', 'appnet']);
  try {
    await dray.docker(['run', '-d', '--name', 'db', '--network', 'appnet', '--network-alias', 'database', 'busybox', 'sleep', '60']);
    const dbIp = (await dray.docker(['inspect', '--format', '{{(index .NetworkSettings.Networks "appnet").IPAddress}}', 'db'])).trim();
    assert.match(dbIp, /^\d+\.\d+\.\d+\.\d+$/);
    const out = await dray.docker(['run', '--rm', '--network', 'appnet', 'busybox', 'sh', '-c', 'cat /etc/resolv.conf; ping -c1 -W2 db >/dev/null 2>&1; nslookup database 127.0.0.11 | tail -n +3']);
    assert.match(out, /nameserver 127\.0\.0\.11/);
    assert.ok(out.includes(dbIp), out);
    assert.match(await dray.docker(['network', 'ls', '--format', '{{.Name}}']), /appnet/);
    const rm = await dray.dockerResult(['network', 'rm', 'appnet']);
    assert.notEqual(rm.code, 0); // in use
  } finally {
    await dray.dockerResult(['rm', '-f', 'db']);
    await dray.dockerResult(['network', 'rm', 'appnet']);
  }
  const missing = await dray.dockerResult(['run', '--rm', '--network', 'nosuchnet', 'busybox', 'true']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /nosuchnet/);
});

test('volumes: named volume persists, anonymous volume of --rm goes, binds and tmpfs', needsRoot, async () => {
  const host = mkdtempSync(join(tmpdir(), 'drayd-bind-'));
  try {
    writeFileSync(join(host, 'f'), 'from host\n');
    await dray.docker(['run', '--rm', '-v', 'keep:/data', 'busybox', 'sh', '-c', 'echo kept > /data/x']);
    assert.equal(await dray.docker(['run', '--rm', '-v', 'keep:/data', 'busybox', 'cat', '/data/x']), 'kept\n');
    const before = (await dray.docker(['volume', 'ls', '-q'])).split('\n').filter(Boolean).length;
    await dray.docker(['run', '--rm', '-v', '/anon', 'busybox', 'touch', '/anon/y']);
    assert.equal((await dray.docker(['volume', 'ls', '-q'])).split('\n').filter(Boolean).length, before);
    const out = await dray.docker(['run', '--rm', '-v', `${host}:/h:ro`, '--tmpfs', '/t:size=1m', 'busybox', 'sh', '-c', 'cat /h/f; touch /h/z 2>/dev/null || echo ro; mount | grep " /t " | grep -c size=1024k']);
    assert.equal(out, 'from host\nro\n1\n');
    const inspect = await dray.docker(['create', '-v', 'keep:/data', 'busybox', 'true']);
    const mounts = JSON.parse(await dray.docker(['inspect', '--format', '{{json .Mounts}}', inspect.trim()])) as { Type: string; Name: string; Destination: string }[];
    assert.deepEqual(mounts.map((m) => [m.Type, m.Name, m.Destination]), [['volume', 'keep', '/data']]);
    await dray.docker(['rm', inspect.trim()]);
    await dray.docker(['volume', 'rm', 'keep']);
  } finally {
    rmSync(host, { recursive: true, force: true });
  }
});
