// Which daemon the CLI talks to: -H/--host, else DOCKER_HOST, else Dray's
// own socket. TLS settings follow docker's flags and DOCKER_TLS_VERIFY /
// DOCKER_CERT_PATH.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Dray's daemon socket (drayd's default -H). */
export const DEFAULT_HOST = 'unix:///run/dray/dray.sock';

export interface TlsOptions {
  /** Verify the daemon's certificate against the CA. */
  verify: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export type Endpoint =
  | { kind: 'unix'; socketPath: string; url: string }
  | { kind: 'tcp'; host: string; port: number; url: string; tls: TlsOptions | undefined };

export interface HostFlags {
  host: string | undefined;
  tls: boolean;
  tlsverify: boolean;
  tlscacert: string | undefined;
  tlscert: string | undefined;
  tlskey: string | undefined;
}

export class HostError extends Error {}

export function resolveEndpoint(f: HostFlags, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const raw = f.host || env['DOCKER_HOST'] || DEFAULT_HOST;
  const url = raw.includes('://') ? raw : raw.startsWith('/') ? `unix://${raw}` : `tcp://${raw}`;
  if (url.startsWith('unix://')) {
    const socketPath = url.slice('unix://'.length);
    if (!socketPath) throw new HostError(`invalid host: ${raw}`);
    return { kind: 'unix', socketPath, url };
  }
  const m = /^(tcp|http|https):\/\/(\[[^\]]+\]|[^:/]*)(?::(\d+))?\/?$/.exec(url);
  if (!m) throw new HostError(`unable to parse docker host \`${raw}\``);
  const host = (m[2] || '127.0.0.1').replace(/^\[|\]$/g, '');
  const verifyEnv = !!env['DOCKER_TLS_VERIFY'];
  const verify = f.tlsverify || verifyEnv;
  const useTls = f.tls || verify || m[1] === 'https';
  const port = m[3] ? Number(m[3]) : useTls ? 2376 : 2375;
  let tls: TlsOptions | undefined;
  if (useTls) {
    const certDir = env['DOCKER_CERT_PATH'] || join(configDir(env), '');
    const file = (given: string | undefined, name: string): Buffer | undefined => {
      const p = given || join(certDir, name);
      try { return readFileSync(p); } catch (err) {
        if (given || (verify && name === 'ca.pem')) throw new HostError(`could not read ${p}: ${(err as Error).message}`);
        return undefined;
      }
    };
    tls = { verify, ca: file(f.tlscacert, 'ca.pem'), cert: file(f.tlscert, 'cert.pem'), key: file(f.tlskey, 'key.pem') };
  }
  return { kind: 'tcp', host, port, url: `tcp://${m[2] || '127.0.0.1'}:${port}`, tls };
}

/** DOCKER_CONFIG, else ~/.docker: where config.json (auths) lives. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['DOCKER_CONFIG'] || join(env['HOME'] || homedir(), '.docker');
}
