// The client's protocol behaviour against a minimal Engine API endpoint
// served here (versions a real dockerd 20.10 cannot show): version
// negotiation, DOCKER_API_VERSION, error bodies, TLS verification.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execCommand, makeCertificates } from '../harness/index.ts';

const DRAY = new URL('../../bin/dray', import.meta.url).pathname;

function handler(apiVersion: string | undefined, seen: string[]) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    seen.push(`${req.method} ${req.url}`);
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (apiVersion) headers['Api-Version'] = apiVersion;
    if (req.url === '/_ping') { res.writeHead(200, { ...headers, 'Content-Type': 'text/plain' }); res.end('OK'); return; }
    if (/\/containers\/json/.test(req.url ?? '')) { res.writeHead(200, headers); res.end('[]'); return; }
    if (/\/version$/.test(req.url ?? '')) { res.writeHead(200, headers); res.end(JSON.stringify({ Version: 'fake-1', ApiVersion: apiVersion ?? '1.24', Os: 'linux', Arch: 'amd64', GitCommit: 'x', GoVersion: 'go' })); return; }
    if (/\/containers\/gone(\?|$)/.test(req.url ?? '')) { res.writeHead(404, headers); res.end('{"message":"No such container: gone"}'); return; }
    res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end('plain text failure');
  };
}

async function listen(server: Server, at: string | number): Promise<void> {
  await new Promise<void>((resolve) => server.listen(at as never, () => resolve()));
}

test('negotiation: min(1.50, daemon), 1.24 without a header, DOCKER_API_VERSION skips the ping; error bodies', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dray-cli-client-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [daemon, expected] of [['1.43', '1.43'], ['1.99', '1.50'], [undefined, '1.24']] as const) {
    const seen: string[] = [];
    const sock = join(dir, `d-${daemon ?? 'none'}.sock`);
    const server = createHttp(handler(daemon, seen));
    await listen(server, sock);
    try {
      const env = { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: dir, DOCKER_HOST: `unix://${sock}` };
      const r = await execCommand(DRAY, ['ps', '-q'], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(seen, ['GET /_ping', `GET /v${expected}/containers/json`]);
      seen.length = 0;
      const pinned = await execCommand(DRAY, ['ps', '-q'], { env: { ...env, DOCKER_API_VERSION: '1.40' } });
      assert.equal(pinned.code, 0);
      assert.deepEqual(seen, ['GET /v1.40/containers/json']);
      const rm = await execCommand(DRAY, ['rm', 'gone'], { env });
      assert.deepEqual([rm.code, rm.stderr], [1, 'Error response from daemon: No such container: gone\n']);
      const other = await execCommand(DRAY, ['stop', 'x'], { env });
      assert.deepEqual([other.code, other.stderr], [1, 'Error response from daemon: plain text failure\n']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  }
});

test('tcp with TLS: --tlsverify with our CA works; an unknown CA is refused with one clear line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dray-cli-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const certs = makeCertificates(join(dir, 'tls'));
  const seen: string[] = [];
  const server = createHttps({ cert: readFileSync(certs.certFile), key: readFileSync(certs.keyFile) }, handler('1.45', seen));
  await listen(server, 0);
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const env = { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: dir };
  const ok = await execCommand(DRAY, ['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', certs.caFile, 'version', '--format', '{{.Server.Version}} {{.Client.APIVersion}}'], { env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'fake-1 1.45\n');
  // DOCKER_CERT_PATH with ca.pem, as docker reads it.
  const { copyFileSync, mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, 'certpath'));
  copyFileSync(certs.caFile, join(dir, 'certpath', 'ca.pem'));
  const viaEnv = await execCommand(DRAY, ['ps', '-q'], { env: { ...env, DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: join(dir, 'certpath') } });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  const bad = await execCommand(DRAY, ['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', certs.certFile, 'ps'], { env });
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /^error during connect: .*certificate/);
});
