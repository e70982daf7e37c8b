// Authentication and transport security against the real registry:
// htpasswd Basic auth, TLS from a CA made here (certs.d), the Bearer token
// flow with a token server, credentials from config.json, and mirrors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePki, startRegistry, startTokenServer, writeDockerConfig, freePort } from './support/registry.ts';
import { testStores } from './support/stores.ts';
import type { ImageStores } from '../../src/images/metadata/open.ts';
import { makeImage, randomLayer, storeBlobs } from './support/synth.ts';
import { RegistryClient } from '../../src/images/registry/client.ts';
import { closeIdleConnections } from '../../src/images/registry/transport.ts';
import { dockerConfigCredentials, credentialsFor } from '../../src/images/registry/credentials.ts';
import { parseWwwAuthenticate, TokenCache } from '../../src/images/registry/auth.ts';
import { endpointsFor, isInsecure, tlsMaterialFor } from '../../src/images/registry/hosts.ts';
import { rootCertificates } from 'node:tls';
import { pull } from '../../src/images/pull.ts';
import { push } from '../../src/images/push.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dray-auth-'));
after(() => {
  closeIdleConnections();
  rmSync(tmp, { recursive: true, force: true });
});


async function localImage(s: ImageStores, name: string): Promise<ReturnType<typeof makeImage>> {
  const img = makeImage([await randomLayer(20_000), await randomLayer(5_000)]);
  await storeBlobs(s.content, img.blobs);
  s.images.put(name, img.manifestDesc);
  return img;
}

test('WWW-Authenticate challenges parse, quoted strings and several challenges included', () => {
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate('Basic realm="x \\"quoted\\"", Bearer realm=r,service=s'), [
    { scheme: 'basic', params: { realm: 'x "quoted"' } },
    { scheme: 'bearer', params: { realm: 'r', service: 's' } },
  ]);
  assert.deepEqual(parseWwwAuthenticate(''), []);
});

test('credentials come from config.json auths; helpers are a clear error', (t) => {
  const dir = mkdtempSync(join(tmp, 'cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = writeDockerConfig(dir, 'reg.example:5000', 'alice', 'pa:ss');
  assert.deepEqual(dockerConfigCredentials(p)('reg.example:5000'), { username: 'alice', password: 'pa:ss' });
  assert.equal(dockerConfigCredentials(p)('other.example'), undefined);
  assert.deepEqual(credentialsFor({ auths: { 'https://index.docker.io/v1/': { username: 'u', password: 'p' } } }, 'docker.io'), { username: 'u', password: 'p' });
  assert.deepEqual(credentialsFor({ auths: { 'http://reg:5000/v2/': { auth: Buffer.from('a:b').toString('base64') } } }, 'reg:5000'), { username: 'a', password: 'b' });
  assert.throws(() => credentialsFor({ credHelpers: { 'reg:5000': 'ecr-login' } }, 'reg:5000'), /credential helper "docker-credential-ecr-login" for reg:5000 is not supported/);
  assert.throws(() => credentialsFor({ credsStore: 'desktop' }, 'reg:5000'), /credential store "docker-credential-desktop" is not supported/);
  assert.throws(() => credentialsFor({ auths: { 'reg:5000': { auth: Buffer.from('nocolon').toString('base64') } } }, 'reg:5000'), /not base64 of "user:password"/);
  writeFileSync(join(dir, 'bad.json'), '{nope');
  assert.throws(() => dockerConfigCredentials(join(dir, 'bad.json'))('x'), /not valid JSON/);
  assert.equal(dockerConfigCredentials(join(dir, 'absent.json'))('x'), undefined);
});

test('plain http only for loopback and registries marked insecure; mirrors only for docker.io pulls', () => {
  assert.ok(isInsecure('localhost:5000', {}));
  assert.ok(isInsecure('127.1.2.3:80', {}));
  assert.ok(isInsecure('[::1]:5000', {}));
  assert.ok(!isInsecure('10.0.0.5:5000', {}));
  assert.ok(isInsecure('10.0.0.5:5000', { insecureRegistries: ['10.0.0.0/8'] }));
  assert.ok(isInsecure('reg.example', { insecureRegistries: ['reg.example'] }));
  assert.ok(!isInsecure('localhost:5000', { loopbackInsecure: false }));
  assert.deepEqual(endpointsFor('reg.example', {}, 'pull').map((e) => e.schemes), [['https']]);
  assert.deepEqual(endpointsFor('localhost:5000', {}, 'pull').map((e) => e.schemes), [['https', 'http']]);
  const hub = endpointsFor('docker.io', { mirrors: ['https://mirror.example', 'http://127.0.0.1:5001'] }, 'pull');
  assert.deepEqual(hub.map((e) => [e.host, e.mirror, e.schemes.join()]), [['mirror.example', true, 'https'], ['127.0.0.1:5001', true, 'http'], ['registry-1.docker.io', false, 'https']]);
  assert.deepEqual(endpointsFor('docker.io', { mirrors: ['https://mirror.example'] }, 'push').map((e) => e.host), ['registry-1.docker.io']);
  assert.throws(() => endpointsFor('docker.io', { mirrors: ['http://mirror.example'] }, 'pull'), /plain http is only allowed for insecure registries/);
});

test('TLS trust: the system store and bundled roots, plus certs.d/<host:port>/*.crt', (t) => {
  const dir = mkdtempSync(join(tmp, 'certsd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const base = tlsMaterialFor('reg.example:5000', dir);
  assert.ok(base.ca.length >= rootCertificates.length);
  assert.equal(base.cert, undefined);
  mkdirSync(join(dir, 'reg.example:5000'));
  writeFileSync(join(dir, 'reg.example:5000', 'ca.crt'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const more = tlsMaterialFor('reg.example:5000', dir);
  assert.equal(more.ca.length, base.ca.length + 1);
  // Without verification (an insecure registry) the system store is not read: certs.d only.
  assert.deepEqual(tlsMaterialFor('reg.example:5000', dir, false).ca, [more.ca[more.ca.length - 1]]);
  assert.equal(tlsMaterialFor('other.example', dir).ca.length, base.ca.length);
});

test('tokens are cached until they expire', async () => {
  let now = 1_000_000;
  const cache = new TokenCache(() => now);
  let calls = 0;
  const fetcher = async (): Promise<{ status: number; body: string }> => ({ status: 200, body: JSON.stringify({ token: `t${++calls}`, expires_in: 120 }) });
  const ch = { scheme: 'bearer', params: { realm: 'http://127.0.0.1:1/token', service: 's' } };
  assert.equal(await cache.fetch(ch, ['repository:a:pull'], undefined, fetcher), 't1');
  assert.equal(await cache.fetch(ch, ['repository:a:pull'], undefined, fetcher), 't1');
  assert.equal(await cache.fetch(ch, ['repository:a:pull,push'], undefined, fetcher), 't2');
  now += 121_000;
  assert.equal(await cache.fetch(ch, ['repository:a:pull'], undefined, fetcher), 't3');
});

test('htpasswd basic auth: refused without credentials, works with config.json credentials', async (t) => {
  const reg = await startRegistry({ htpasswd: { alice: 's3cret' } });
  t.after(() => reg.stop());
  const s = testStores(tmp, t);
  await localImage(s, 'docker.io/library/basic:1');
  const anon = new RegistryClient({ credentials: () => undefined });
  await assert.rejects(push(s, anon, `${reg.host}/b/img:1`, { source: 'basic:1' }), /unauthorized: authentication required \(no credentials for 127\.0\.0\.1:\d+ in config\.json\)/);
  const wrong = new RegistryClient({ dockerConfigPath: writeDockerConfig(mkdtempSync(join(tmp, 'c-')), reg.host, 'alice', 'nope') });
  await assert.rejects(push(s, wrong, `${reg.host}/b/img:1`, { source: 'basic:1' }), /unauthorized/);
  const ok = new RegistryClient({ dockerConfigPath: writeDockerConfig(mkdtempSync(join(tmp, 'c-')), reg.host, 'alice', 's3cret', 'fields') });
  await push(s, ok, `${reg.host}/b/img:1`, { source: 'basic:1' });
  const s2 = testStores(tmp, t);
  await assert.rejects(pull(s2, anon, `${reg.host}/b/img:1`), /unauthorized/);
  const res = await pull(s2, ok, `${reg.host}/b/img:1`);
  assert.equal(res.layers.length, 2);
});

test('TLS: refused without the CA, trusted through certs.d/<host:port>/ca.crt', async (t) => {
  const pkiDir = mkdtempSync(join(tmp, 'pki-'));
  const pki = makePki(pkiDir);
  const reg = await startRegistry({ tls: pki });
  t.after(() => reg.stop());
  const s = testStores(tmp, t);
  await localImage(s, 'docker.io/library/tls:1');
  const certsDir = join(pkiDir, 'certs.d');
  // loopbackInsecure: false makes 127.0.0.1 a normal (verified) registry.
  const noCa = new RegistryClient({ credentials: () => undefined, certsDir, loopbackInsecure: false });
  await assert.rejects(push(s, noCa, `${reg.host}/t/img:1`, { source: 'tls:1' }), new RegExp(`certificate.*certs\\.d/127\\.0\\.0\\.1:${reg.port}/ca\\.crt`));
  mkdirSync(join(certsDir, reg.host), { recursive: true });
  copyFileSync(pki.caCert, join(certsDir, reg.host, 'ca.crt'));
  const withCa = new RegistryClient({ credentials: () => undefined, certsDir, loopbackInsecure: false });
  await push(s, withCa, `${reg.host}/t/img:1`, { source: 'tls:1' });
  const res = await pull(testStores(tmp, t), withCa, `${reg.host}/t/img:1`);
  assert.equal(res.layers.length, 2);
  // Loopback is insecure by default, as in Docker: TLS without verification works too.
  await pull(testStores(tmp, t), new RegistryClient({ credentials: () => undefined }), `${reg.host}/t/img:1`);
});

test('mutual TLS: the client certificate comes from certs.d/<host:port>/client.cert and client.key', async (t) => {
  const pkiDir = mkdtempSync(join(tmp, 'pki-'));
  const pki = makePki(pkiDir);
  const reg = await startRegistry({ tls: pki, clientAuth: true });
  t.after(() => reg.stop());
  const s = testStores(tmp, t);
  await localImage(s, 'docker.io/library/mtls:1');
  const certsDir = join(pkiDir, 'certs.d');
  mkdirSync(join(certsDir, reg.host), { recursive: true });
  copyFileSync(pki.caCert, join(certsDir, reg.host, 'ca.crt'));
  const caOnly = new RegistryClient({ credentials: () => undefined, certsDir, loopbackInsecure: false, retry: { attempts: 1, backoffMs: 5 } });
  await assert.rejects(push(s, caOnly, `${reg.host}/m/img:1`, { source: 'mtls:1' }), /certificate|handshake|socket hang up|ECONNRESET|alert/i);
  copyFileSync(pki.clientCert, join(certsDir, reg.host, 'client.cert'));
  copyFileSync(pki.clientKey, join(certsDir, reg.host, 'client.key'));
  const withCert = new RegistryClient({ credentials: () => undefined, certsDir, loopbackInsecure: false });
  await push(s, withCert, `${reg.host}/m/img:1`, { source: 'mtls:1' });
  assert.equal((await pull(testStores(tmp, t), withCert, `${reg.host}/m/img:1`)).layers.length, 2);
  // A key without its certificate is a configuration error, said clearly.
  rmSync(join(certsDir, reg.host, 'client.cert'));
  const broken = new RegistryClient({ credentials: () => undefined, certsDir, loopbackInsecure: false });
  await assert.rejects(pull(testStores(tmp, t), broken, `${reg.host}/m/img:1`), /client key client\.key has no matching client\.cert/);
});

test('bearer tokens: anonymous pull, push with credentials (scope escalation), tokens reused', async (t) => {
  const tdir = mkdtempSync(join(tmp, 'token-'));
  const ts = await startTokenServer(tdir, { bob: 'pw' }, { 'refresh-for-carol': 'carol' });
  t.after(() => ts.close());
  const reg = await startRegistry({ token: ts });
  t.after(() => reg.stop());
  const s = testStores(tmp, t);
  await localImage(s, 'docker.io/library/tok:1');
  const anon = new RegistryClient({ credentials: () => undefined });
  await assert.rejects(push(s, anon, `${reg.host}/tok/img:1`, { source: 'tok:1' }), /denied|unauthorized/i);
  const bob = new RegistryClient({ dockerConfigPath: writeDockerConfig(tdir, reg.host, 'bob', 'pw') });
  await push(s, bob, `${reg.host}/tok/img:1`, { source: 'tok:1' });
  assert.ok(ts.requests.some((r) => r.user === 'bob' && r.scopes.includes('repository:tok/img:pull,push')), JSON.stringify(ts.requests));
  const before = ts.requests.length;
  await push(s, bob, `${reg.host}/tok/img:2`, { source: 'tok:1' });
  assert.equal(ts.requests.length, before, 'a cached token serves the second push');
  // Anonymous pull gets a pull-only token.
  const res = await pull(testStores(tmp, t), anon, `${reg.host}/tok/img:1`);
  assert.equal(res.layers.length, 2);
  assert.ok(ts.requests.some((r) => r.user === '' && r.scopes.includes('repository:tok/img:pull')));
  // An identity token (config.json "identitytoken") goes through the OAuth2 POST grant.
  const carolCfg = join(tdir, 'carol.json');
  writeFileSync(carolCfg, JSON.stringify({ auths: { [reg.host]: { identitytoken: 'refresh-for-carol' } } }));
  await push(s, new RegistryClient({ dockerConfigPath: carolCfg }), `${reg.host}/tok/carol:1`, { source: 'tok:1' });
  assert.ok(ts.requests.some((r) => r.oauth && r.user === 'carol' && r.scopes.includes('repository:tok/carol:pull,push')));
  writeFileSync(carolCfg, JSON.stringify({ auths: { [reg.host]: { identitytoken: 'revoked' } } }));
  await assert.rejects(push(s, new RegistryClient({ dockerConfigPath: carolCfg }), `${reg.host}/tok/carol:2`, { source: 'tok:1' }), /token endpoint .* answered 401/);
  // A pull then a push on the same client escalates pull -> pull,push.
  const s2 = testStores(tmp, t);
  await pull(s2, bob, `${reg.host}/tok/img:1`);
  await push(s2, bob, `${reg.host}/tok/other:1`, { source: `${reg.host}/tok/img:1` });
});

test('docker.io pulls go to the mirrors first, skipping a dead one', async (t) => {
  const mirror = await startRegistry();
  t.after(() => mirror.stop());
  const s = testStores(tmp, t);
  const img = await localImage(s, 'docker.io/library/seed:1');
  await push(s, new RegistryClient({ credentials: () => undefined }), `${mirror.host}/library/mirrored:1`, { source: 'seed:1' });
  const dead = await freePort();
  const client = new RegistryClient({ credentials: () => undefined, mirrors: [`http://127.0.0.1:${dead}`, `http://${mirror.host}`], retry: { attempts: 1, backoffMs: 10 } });
  const res = await pull(testStores(tmp, t), client, 'mirrored:1');
  assert.equal(res.name, 'docker.io/library/mirrored:1');
  assert.equal(res.target.digest, img.manifestDesc.digest);
});
