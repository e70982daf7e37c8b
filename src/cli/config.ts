// config.json as the docker CLI keeps it (DOCKER_CONFIG or ~/.docker):
// auths (base64 "user:password" per registry), psFormat, imagesFormat,
// detachKeys. Fields we do not know are kept as they are on rewrite.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './command.ts';

export interface ConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string }>;
  psFormat?: string;
  imagesFormat?: string;
  detachKeys?: string;
  [k: string]: unknown;
}

export function loadConfig(dir: string): ConfigFile {
  const path = join(dir, 'config.json');
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch { return {}; }
  if (!text.trim()) return {};
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { throw new CliError(`loading config file ${path}: ${(e as Error).message}`); }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CliError(`loading config file ${path}: not a JSON object`);
  const c = v as ConfigFile;
  if (c.auths !== undefined && (typeof c.auths !== 'object' || c.auths === null || Array.isArray(c.auths))) {
    throw new CliError(`loading config file ${path}: "auths" is not an object`);
  }
  return c;
}

/** Writes config.json atomically, private to the user (it holds credentials). */
export function saveConfig(dir: string, c: ConfigFile): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'config.json');
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(c, null, '\t')}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export interface AuthConfig { username?: string; password?: string; serveraddress?: string; identitytoken?: string }

/** The stored credentials for a registry key ("https://index.docker.io/v1/", "127.0.0.1:5000"). */
export function credentials(c: ConfigFile, key: string): AuthConfig | undefined {
  const alt = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const entry = c.auths?.[key] ?? c.auths?.[alt] ?? c.auths?.[`https://${alt}`] ?? c.auths?.[`http://${alt}`];
  if (!entry) return undefined;
  const out: AuthConfig = { serveraddress: key };
  if (typeof entry.auth === 'string' && entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i < 0) throw new CliError(`invalid auth configuration file: the auth for ${key} is not "user:password"`);
    out.username = plain.slice(0, i);
    out.password = plain.slice(i + 1);
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken) out.identitytoken = entry.identitytoken;
  return out;
}

/** The X-Registry-Auth header value: base64url of the JSON auth config ("e30" for none). */
export function registryAuthHeader(a: AuthConfig | undefined): string {
  return Buffer.from(JSON.stringify(a ?? {})).toString('base64url');
}
