import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEngine, type Engine } from '../../src/engine/daemon.ts';

let dir: string;
let sock: string;
let engine: Engine;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'drayd-api-'));
  sock = join(dir, 'dray.sock');
  engine = await startEngine({
    dataRoot: join(dir, 'data'), execRoot: join(dir, 'run'), hosts: [`unix://${sock}`],
    pidfile: join(dir, 'drayd.pid'), configFile: undefined, debug: false, networking: false,
  });
});

after(async () => {
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
});

function request(method: string, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('_ping answers GET and HEAD with the API-Version header', async () => {
  const g = await request('GET', '/_ping');
  assert.equal(g.status, 200);
  assert.equal(g.body, 'OK');
  assert.equal(g.headers['api-version'], '1.50');
  const h = await request('HEAD', '/v1.41/_ping');
  assert.equal(h.status, 200);
  assert.equal(h.body, '');
  assert.equal(h.headers['api-version'], '1.50');
});

test('versions outside 1.24..1.50 get Docker\'s 400 messages', async () => {
  const hi = await request('GET', '/v1.99/version');
  assert.equal(hi.status, 400);
  assert.match((JSON.parse(hi.body) as { message: string }).message, /client version 1\.99 is too new\. Maximum supported API version is 1\.50/);
  const lo = await request('GET', '/v1.12/version');
  assert.equal(lo.status, 400);
  assert.match((JSON.parse(lo.body) as { message: string }).message, /too old\. Minimum supported API version is 1\.24/);
});

test('unknown paths and methods answer with Docker\'s JSON error body', async () => {
  const nf = await request('GET', '/v1.41/no/such/thing');
  assert.equal(nf.status, 404);
  assert.deepEqual(JSON.parse(nf.body), { message: 'page not found' });
  const m = await request('DELETE', '/version');
  assert.equal(m.status, 405);
});

test('the pidfile is written', () => {
  assert.ok(existsSync(join(dir, 'drayd.pid')));
});

for (const [cli, want] of [['/usr/local/bin/docker', '1.50'], ['/usr/bin/docker', '1.41']] as const) {
  test(`${cli} negotiates the API version with drayd`, { skip: !existsSync(cli) && `${cli} not installed` }, async () => {
    const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir, 'docker-config') };
    // Async: the engine serves from this very process, so a sync exec would deadlock.
    const { stdout } = await promisify(execFile)(cli, ['version', '--format', '{{.Server.APIVersion}} {{.Client.APIVersion}} {{.Server.Platform.Name}}'], { env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(stdout.trim(), `1.50 ${want} Dray`);
  });
}
