// A real registry (Debian's docker-registry, distribution 2.8) on
// 127.0.0.1:<free port>, storing in its own folder: plain, with htpasswd
// basic auth (bcrypt, made by apache2-utils' htpasswd), and/or with TLS from a
// CA made here with openssl (CA and server certificate for 127.0.0.1 and localhost).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { removeTree, terminate } from './cleanup.ts';
import { freePort } from './ports.ts';
import { awaitReady, launch, PEER_PATH, peerDir, track, untrack, type Peer } from './peers.ts';

export const REGISTRY = '/usr/bin/docker-registry';

export interface RegistryOptions {
  /** Require basic auth with this user and password. */
  auth?: { username: string; password: string };
  /** Serve HTTPS with a certificate from a fresh CA. */
  tls?: boolean;
  startTimeoutMs?: number;
}

export interface RegistryPeer extends Peer {
  readonly pid: number;
  readonly dir: string;
  readonly port: number;
  /** "127.0.0.1:<port>", as image references name it. */
  readonly host: string;
  /** http(s)://127.0.0.1:<port> */
  readonly url: string;
  readonly auth: { username: string; password: string } | undefined;
  /** With tls: the CA certificate (PEM) that signed the server's. */
  readonly caFile: string | undefined;
  /** With tls: a folder holding only ca.crt (skopeo --cert-dir, docker's certs.d layout). */
  readonly certDir: string | undefined;
  readonly logFile: string;
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<RegistryPeer> {
  // A free port can be taken between our probe and the registry's bind: retry a few times.
  let lastErr: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(opts, await freePort());
    } catch (err) {
      lastErr = err as Error;
      if (!/address already in use/.test(lastErr.message)) break;
    }
  }
  throw lastErr ?? new Error('registry did not start');
}

async function startOnce(opts: RegistryOptions, port: number): Promise<RegistryPeer> {
  const dir = peerDir('registry');
  const logFile = join(dir, 'registry.log');
  const configFile = join(dir, 'config.yml');
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(join(dir, 'data'))}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
  let caFile: string | undefined;
  let certDir: string | undefined;
  if (opts.tls) {
    const tls = makeCertificates(join(dir, 'tls'));
    caFile = tls.caFile;
    certDir = join(dir, 'ca-only');
    mkdirSync(certDir);
    copyFileSync(caFile, join(certDir, 'ca.crt'));
    lines.push('  tls:', `    certificate: ${JSON.stringify(tls.certFile)}`, `    key: ${JSON.stringify(tls.keyFile)}`);
  }
  if (opts.auth) {
    const htpasswd = join(dir, 'htpasswd');
    const entry = execFileSync('htpasswd', ['-nbB', opts.auth.username, opts.auth.password], { encoding: 'utf8' }).trim();
    writeFileSync(htpasswd, `${entry}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: dray-test', `    path: ${JSON.stringify(htpasswd)}`);
  }
  writeFileSync(configFile, `${lines.join('\n')}\n`);
  // A clean environment: REGISTRY_* variables would override the config.
  const launched = launch(REGISTRY, ['serve', configFile], logFile, { PATH: PEER_PATH, HOME: dir });
  const pid = launched.pid;
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  let stopped = false;
  const peer: RegistryPeer = {
    kind: 'registry', pid, dir, port, host: `127.0.0.1:${port}`, url, auth: opts.auth, caFile, certDir, logFile,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        if (pid > 0) terminate(pid, 10_000);
        removeTree(dir);
      } finally {
        untrack(peer);
      }
    },
  };
  track(peer);
  const ca = caFile ? readFileSync(caFile) : undefined;
  await awaitReady(peer, launched, logFile, async () => {
    const status = await getStatus(`${url}/v2/`, ca);
    return status === 200 || status === 401;
  }, opts.startTimeoutMs ?? 30_000);
  return peer;
}

/** Status code of a GET, or 0 when it did not connect. */
export function getStatus(url: string, ca?: Buffer, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const req = url.startsWith('https:')
      ? httpsRequest(url, { ca, headers, timeout: 3000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0); })
      : httpRequest(url, { headers, timeout: 3000 }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', () => resolve(0));
    req.on('timeout', () => { req.destroy(); resolve(0); });
    req.end();
  });
}

interface Certificates { caFile: string; certFile: string; keyFile: string }

/** A CA, and a server certificate it signs for IP 127.0.0.1 and DNS localhost (EC P-256, valid 7 days). */
export function makeCertificates(dir: string): Certificates {
  mkdirSync(dir, { recursive: true });
  const p = (f: string): string => join(dir, f);
  const ossl = (args: string[]): void => { execFileSync('openssl', args, { stdio: 'pipe' }); };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl(['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '7', '-subj', '/CN=dray test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  ossl(['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=localhost']);
  writeFileSync(p('server.ext'), [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '',
  ].join('\n'));
  ossl(['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-out', p('server.crt'), '-days', '7', '-extfile', p('server.ext')]);
  return { caFile: p('ca.crt'), certFile: p('server.crt'), keyFile: p('server.key') };
}
