// Credentials from a docker-style config.json: `auths` entries with a base64
// `auth` ("user:password") or username/password, or an identity token.
// Credential helpers (credsStore, credHelpers) are not supported: a clear error.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth refresh token (Docker's identitytoken). */
  identityToken?: string;
  /** A registry token to send as is (Docker's registrytoken). */
  registryToken?: string;
}

export interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

export type CredentialSource = (host: string) => Credentials | undefined;

const DOCKER_HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'https://registry-1.docker.io'];

export function defaultDockerConfigPath(): string {
  return join(process.env['DOCKER_CONFIG'] ?? join(homedir(), '.docker'), 'config.json');
}

/** Reads and validates config.json; a missing file is an empty config. */
export function readDockerConfig(path = defaultDockerConfigPath()): DockerConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw new Error(`${path}: not valid JSON`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error(`${path}: not a JSON object`);
  const cfg = obj as DockerConfigFile;
  if (cfg.auths !== undefined && (typeof cfg.auths !== 'object' || cfg.auths === null)) throw new Error(`${path}: auths must be an object`);
  return cfg;
}

function normalizeKey(k: string): string {
  return k.replace(/^https?:\/\//, '').replace(/\/(v1|v2)\/?$/, '').replace(/\/$/, '');
}

/** Credentials for a registry host (as in a reference: docker.io, host:port). */
export function credentialsFor(cfg: DockerConfigFile, host: string, source = 'config.json'): Credentials | undefined {
  const keys = host === 'docker.io' ? DOCKER_HUB_KEYS : [host];
  if (cfg.credHelpers) {
    for (const k of keys) {
      const helper = cfg.credHelpers[k];
      if (helper) throw new Error(`${source}: credential helper "docker-credential-${helper}" for ${host} is not supported by Dray; put the credentials in "auths"`);
    }
  }
  const wanted = new Set(keys.map(normalizeKey));
  for (const [k, v] of Object.entries(cfg.auths ?? {})) {
    if (!wanted.has(normalizeKey(k)) || typeof v !== 'object' || v === null) continue;
    const c: Credentials = {};
    if (typeof v.auth === 'string' && v.auth !== '') {
      const decoded = Buffer.from(v.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) throw new Error(`${source}: the auth entry for ${k} is not base64 of "user:password"`);
      c.username = decoded.slice(0, i);
      c.password = decoded.slice(i + 1);
    } else {
      if (typeof v.username === 'string') c.username = v.username;
      if (typeof v.password === 'string') c.password = v.password;
    }
    if (typeof v.identitytoken === 'string' && v.identitytoken) c.identityToken = v.identitytoken;
    if (typeof v.registrytoken === 'string' && v.registrytoken) c.registryToken = v.registrytoken;
    if (c.username !== undefined || c.identityToken || c.registryToken) return c;
  }
  if (cfg.credsStore) {
    throw new Error(`${source}: credential store "docker-credential-${cfg.credsStore}" is not supported by Dray and holds no entry in "auths" for ${host}`);
  }
  return undefined;
}

/** A credential source over a config file, read once. */
export function dockerConfigCredentials(path = defaultDockerConfigPath()): CredentialSource {
  let cfg: DockerConfigFile | undefined;
  return (host) => {
    cfg ??= readDockerConfig(path);
    return credentialsFor(cfg, host, path);
  };
}
