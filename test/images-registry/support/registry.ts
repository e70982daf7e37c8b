// A real Docker registry (Debian's docker-registry, distribution 2.8) on
// 127.0.0.1 with a temp storage dir: plain, with htpasswd basic auth, with
// TLS from a CA made here, or with token auth against a tiny token server.
// (The foundation harness has no registry starter yet: this is the minimal one.)
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import http from 'node:http';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { terminate } from '../../harness/cleanup.ts';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export interface Pki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A CA and a server certificate for 127.0.0.1 and localhost, made with openssl. */
export function makePki(dir: string): Pki {
  const o = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  o(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=dray test CA']);
  o(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  o(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf']);
  // A client certificate from the same CA, for registries that require one (mutual TLS).
  o(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=dray test client']);
  writeFileSync(join(dir, 'client-ext.cnf'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  o(['x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.cert', '-days', '2', '-extfile', 'client-ext.cnf']);
  return { dir, caCert: join(dir, 'ca.crt'), serverCert: join(dir, 'server.crt'), serverKey: join(dir, 'server.key'), clientCert: join(dir, 'client.cert'), clientKey: join(dir, 'client.key') };
}

export interface TokenServer {
  url: string;
  service: string;
  issuer: string;
  certPath: string;
  /** Every token request: the scopes asked, and the user (or '' when anonymous); oauth for the POST grant. */
  requests: { scopes: string[]; user: string; oauth?: boolean }[];
  close(): Promise<void>;
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/**
 * A token server as the registry's `auth: token` expects: JWTs signed RS256
 * with a key whose self-signed certificate is the registry's rootcertbundle
 * (x5c in the header). Anonymous users get pull; `users` get what they ask.
 */
export async function startTokenServer(dir: string, users: Record<string, string>, refreshTokens: Record<string, string> = {}): Promise<TokenServer> {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'token.key', '-out', 'token.crt', '-days', '2', '-subj', '/CN=dray token issuer'], { cwd: dir, stdio: 'pipe' });
  const key = readFileSync(join(dir, 'token.key'), 'utf8');
  const certDer = new X509Certificate(readFileSync(join(dir, 'token.crt'))).raw;
  const service = 'dray-test-registry';
  const issuer = 'dray-test-issuer';
  const requests: TokenServer['requests'] = [];
  const sign = (user: string, aud: string | null, scopes: string[]): string => {
    const access = scopes.map((sc) => {
      const [type, name, actions] = sc.split(':');
      const granted = (actions ?? '').split(',').filter((a) => a === 'pull' || (user !== '' && a === 'push'));
      return { type, name, actions: granted };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: user, aud, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${signing}.${b64url(createSign('RSA-SHA256').update(signing).sign(key))}`;
  };
  const server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      // The OAuth2 refresh-token grant (docker login's identity token).
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(parts).toString());
        const user = refreshTokens[form.get('refresh_token') ?? ''];
        if (form.get('grant_type') !== 'refresh_token' || user === undefined) {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
          return;
        }
        const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        requests.push({ scopes, user, oauth: true });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: sign(user, form.get('service'), scopes), expires_in: 300 }));
      });
      return;
    }
    const u = new URL(req.url ?? '/', 'http://x');
    let user = '';
    const auth = req.headers.authorization ?? '';
    if (auth.startsWith('Basic ')) {
      const [name, pass] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (!name || users[name] !== pass) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      user = name;
    }
    const scopes = u.searchParams.getAll('scope');
    requests.push({ scopes, user });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: sign(user, u.searchParams.get('service'), scopes), expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath: join(dir, 'token.crt'),
    requests,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

export interface RegistryOptions {
  htpasswd?: Record<string, string>;
  tls?: Pki;
  /** With tls: require a client certificate signed by the CA. */
  clientAuth?: boolean;
  token?: TokenServer;
  /** validation.manifests.urls.allow: foreign-layer URLs the registry accepts in manifests. */
  allowForeignUrls?: string[];
}

export interface Registry {
  host: string;
  port: number;
  dir: string;
  /** http(s)://127.0.0.1:port */
  url: string;
  stop(): void;
}

async function waitReady(url: string, tls: Pki | undefined, child: ChildProcess, log: string): Promise<void> {
  const { default: https } = await import('node:https');
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${readFileSync(log, 'utf8').slice(-2000)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const mod = tls ? https : http;
      const req = mod.get(`${url}/v2/`, tls ? { ca: readFileSync(tls.caCert), cert: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey) } : {}, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not start: ${readFileSync(log, 'utf8').slice(-2000)}`);
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'dray-registry-'));
  const port = await freePort();
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
  ];
  if (opts.tls) lines.push('  tls:', `    certificate: ${opts.tls.serverCert}`, `    key: ${opts.tls.serverKey}`);
  if (opts.tls && opts.clientAuth) lines.push('    clientcas:', `      - ${opts.tls.caCert}`);
  if (opts.htpasswd) {
    const file = join(dir, 'htpasswd');
    writeFileSync(file, Object.entries(opts.htpasswd).map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p], { encoding: 'utf8' }).trim()).join('\n') + '\n');
    lines.push('auth:', '  htpasswd:', '    realm: dray-basic-realm', `    path: ${file}`);
  } else if (opts.token) {
    lines.push('auth:', '  token:', `    realm: ${opts.token.url}`, `    service: ${opts.token.service}`, `    issuer: ${opts.token.issuer}`, `    rootcertbundle: ${opts.token.certPath}`);
  }
  if (opts.allowForeignUrls) {
    lines.push('validation:', '  manifests:', '    urls:', '      allow:', ...opts.allowForeignUrls.map((u) => `        - ${JSON.stringify(u)}`));
  }
  const cfg = join(dir, 'config.yml');
  writeFileSync(cfg, lines.join('\n') + '\n');
  mkdirSync(join(dir, 'data'));
  const log = join(dir, 'registry.log');
  const fd = openSync(log, 'w');
  const child = spawn(REGISTRY_BIN, ['serve', cfg], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const stop = (): void => {
    if (child.pid) terminate(child.pid, 3000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, opts.tls, child, log);
  } catch (e) {
    stop();
    throw e;
  }
  return { host: `127.0.0.1:${port}`, port, dir, url, stop };
}

/** skopeo copy with TLS verification off for the local registry (and OCI layouts). */
export function skopeo(args: string[], extra: string[] = []): string {
  return execFileSync('skopeo', ['--insecure-policy', ...args.slice(0, 1), ...extra, ...args.slice(1)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A docker config.json with credentials for `host`. */
export function writeDockerConfig(dir: string, host: string, user: string, pass: string, form: 'auth' | 'fields' = 'auth'): string {
  const entry = form === 'auth' ? { auth: Buffer.from(`${user}:${pass}`).toString('base64') } : { username: user, password: pass };
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify({ auths: { [host]: entry } }));
  return path;
}
