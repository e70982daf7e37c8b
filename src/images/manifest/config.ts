// The image configuration (OCI image-spec config.json / Docker image JSON):
// parsed strictly enough that a broken one is a clear error, loosely enough
// that fields Dray does not use pass through untouched.
import { isDigest } from '../content/digest.ts';
import { ManifestError } from './manifest.ts';

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
  OnBuild?: string[] | null;
  Shell?: string[];
  [key: string]: unknown;
}

export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  created?: string;
  author?: string;
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
  [key: string]: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown, what: string, nullable = false): void {
  if (v === undefined || (nullable && v === null)) return;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ManifestError(`invalid image config: ${what} must be an array of strings`);
}

function objectMap(v: unknown, what: string, valuesAreStrings: boolean): void {
  if (v === undefined || v === null) return;
  if (!isObject(v)) throw new ManifestError(`invalid image config: ${what} must be an object`);
  if (valuesAreStrings && Object.values(v).some((x) => typeof x !== 'string')) throw new ManifestError(`invalid image config: ${what} values must be strings`);
}

function optString(o: Record<string, unknown>, k: string, what: string): void {
  if (o[k] !== undefined && o[k] !== null && typeof o[k] !== 'string') throw new ManifestError(`invalid image config: ${what}${k} must be a string`);
}

/** Parses and validates an image config blob. */
export function parseImageConfig(data: Uint8Array | string): ImageConfig {
  let obj: unknown;
  try {
    obj = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch {
    throw new ManifestError('invalid image config: not valid JSON');
  }
  if (!isObject(obj)) throw new ManifestError('invalid image config: not a JSON object');
  if (typeof obj['architecture'] !== 'string' || !obj['architecture']) throw new ManifestError('invalid image config: architecture missing');
  if (typeof obj['os'] !== 'string' || !obj['os']) throw new ManifestError('invalid image config: os missing');
  for (const k of ['variant', 'os.version', 'created', 'author']) optString(obj, k, '');
  if (typeof obj['created'] === 'string' && Number.isNaN(Date.parse(obj['created']))) throw new ManifestError('invalid image config: created is not an RFC 3339 time');
  const rootfs = obj['rootfs'];
  if (!isObject(rootfs) || rootfs['type'] !== 'layers' || !Array.isArray(rootfs['diff_ids'])) {
    throw new ManifestError('invalid image config: rootfs must be {"type":"layers","diff_ids":[...]}');
  }
  rootfs['diff_ids'].forEach((d, i) => {
    if (!isDigest(d)) throw new ManifestError(`invalid image config: rootfs.diff_ids[${i}] is not a digest`);
  });
  const history = obj['history'];
  if (history !== undefined && history !== null) {
    if (!Array.isArray(history)) throw new ManifestError('invalid image config: history must be an array');
    history.forEach((h, i) => {
      if (!isObject(h)) throw new ManifestError(`invalid image config: history[${i}] must be an object`);
      for (const k of ['created', 'created_by', 'author', 'comment']) optString(h, k, `history[${i}].`);
      if (h['empty_layer'] !== undefined && typeof h['empty_layer'] !== 'boolean') throw new ManifestError(`invalid image config: history[${i}].empty_layer must be a boolean`);
    });
  }
  const c = obj['config'];
  if (c !== undefined && c !== null) {
    if (!isObject(c)) throw new ManifestError('invalid image config: config must be an object');
    for (const k of ['User', 'WorkingDir', 'StopSignal']) optString(c, k, 'config.');
    strings(c['Env'], 'config.Env', true);
    strings(c['Entrypoint'], 'config.Entrypoint', true);
    strings(c['Cmd'], 'config.Cmd', true);
    strings(c['Shell'], 'config.Shell', true);
    strings(c['OnBuild'], 'config.OnBuild', true);
    objectMap(c['ExposedPorts'], 'config.ExposedPorts', false);
    objectMap(c['Volumes'], 'config.Volumes', false);
    objectMap(c['Labels'], 'config.Labels', true);
  }
  return obj as ImageConfig;
}
