// OCI and Docker schema2 manifests and indexes: strict parsing and validation.
// Schema1 gets a clear "unsupported" error.
import type { Descriptor, Platform } from '../content/types.ts';
import { isDigest } from '../content/digest.ts';
import { MEDIA_TYPE, SCHEMA1_TYPES, isIndexType, isManifestType } from './media-types.ts';
import { platformRank } from './platform.ts';

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export type ParsedManifest =
  | { kind: 'manifest'; mediaType: string; manifest: ImageManifest }
  | { kind: 'index'; mediaType: string; index: ImageIndex };

/** Manifests over this size are refused (containerd uses the same 4 MiB bound). */
export const MAX_MANIFEST_BYTES = 4 << 20;

export const SCHEMA1_UNSUPPORTED =
  'Docker Image manifest version 2, schema 1 is not supported: the image must be pushed again with a newer client (schema 2 or OCI)';

const GENERIC_TYPES = new Set(['', 'application/json', 'application/octet-stream', 'text/plain']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, what: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string')) throw new ManifestError(`${what}: must be a map of strings`);
  return v as Record<string, string>;
}

function validatePlatform(v: unknown, what: string): Platform | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v) || typeof v['os'] !== 'string' || typeof v['architecture'] !== 'string' || !v['os'] || !v['architecture']) {
    throw new ManifestError(`${what}: platform needs os and architecture strings`);
  }
  if (v['variant'] !== undefined && typeof v['variant'] !== 'string') throw new ManifestError(`${what}: platform variant must be a string`);
  if (v['os.version'] !== undefined && typeof v['os.version'] !== 'string') throw new ManifestError(`${what}: platform os.version must be a string`);
  if (v['os.features'] !== undefined && (!Array.isArray(v['os.features']) || v['os.features'].some((x) => typeof x !== 'string'))) {
    throw new ManifestError(`${what}: platform os.features must be strings`);
  }
  return v as unknown as Platform;
}

/** Validates a descriptor strictly: media type, digest format, non-negative integer size, urls, annotations. */
export function validateDescriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v)) throw new ManifestError(`${what}: descriptor must be an object`);
  if (typeof v['mediaType'] !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/.test(v['mediaType'])) {
    throw new ManifestError(`${what}: invalid mediaType ${JSON.stringify(v['mediaType'])}`);
  }
  if (!isDigest(v['digest'])) throw new ManifestError(`${what}: invalid digest ${JSON.stringify(v['digest'])}`);
  const size = v['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new ManifestError(`${what}: invalid size ${JSON.stringify(size)}`);
  const d: Descriptor = { mediaType: v['mediaType'], digest: v['digest'], size };
  if (v['urls'] !== undefined && v['urls'] !== null) {
    const urls = v['urls'];
    if (!Array.isArray(urls) || urls.some((u) => typeof u !== 'string' || !/^https?:\/\//.test(u))) {
      throw new ManifestError(`${what}: urls must be http(s) URLs`);
    }
    d.urls = urls as string[];
  }
  const ann = stringMap(v['annotations'], `${what}: annotations`);
  if (ann) d.annotations = ann;
  const platform = validatePlatform(v['platform'], what);
  if (platform) d.platform = platform;
  if (typeof v['artifactType'] === 'string') d.artifactType = v['artifactType'];
  return d;
}

function isSchema1(obj: Record<string, unknown>, contentType: string): boolean {
  return SCHEMA1_TYPES.includes(contentType) || obj['schemaVersion'] === 1 || SCHEMA1_TYPES.includes(String(obj['mediaType'] ?? ''));
}

/**
 * Parses a manifest or index from its bytes. `contentType` is what the
 * registry said (Content-Type) or the descriptor's media type; it must agree
 * with the document's own mediaType field where both are given.
 */
export function parseManifest(data: Uint8Array | string, contentType = ''): ParsedManifest {
  const ct = contentType.split(';')[0]!.trim().toLowerCase();
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  if (size > MAX_MANIFEST_BYTES) throw new ManifestError(`manifest is ${size} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`);
  let obj: unknown;
  try {
    obj = JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'));
  } catch {
    throw new ManifestError('invalid manifest: not valid JSON');
  }
  if (!isObject(obj)) throw new ManifestError('invalid manifest: not a JSON object');
  if (isSchema1(obj, ct)) throw new ManifestError(SCHEMA1_UNSUPPORTED);
  if (obj['schemaVersion'] !== 2) throw new ManifestError(`invalid manifest: schemaVersion ${JSON.stringify(obj['schemaVersion'])}, want 2`);
  const declared = obj['mediaType'];
  if (declared !== undefined && typeof declared !== 'string') throw new ManifestError('invalid manifest: mediaType must be a string');
  if (declared && !GENERIC_TYPES.has(ct) && declared !== ct) {
    throw new ManifestError(`invalid manifest: mediaType ${JSON.stringify(declared)} does not match the content type ${JSON.stringify(ct)}`);
  }
  let mediaType = declared || (GENERIC_TYPES.has(ct) ? '' : ct);
  if (!mediaType) {
    if ('manifests' in obj) mediaType = MEDIA_TYPE.ociIndex;
    else if ('config' in obj) mediaType = MEDIA_TYPE.ociManifest;
    else throw new ManifestError('invalid manifest: neither an image manifest nor an index');
  }
  // A document must not be both: that is how type confusion attacks start.
  if ('manifests' in obj && ('config' in obj || 'layers' in obj)) {
    throw new ManifestError('invalid manifest: has both manifests and config/layers');
  }
  const annotations = stringMap(obj['annotations'], 'annotations');
  const subject = obj['subject'] === undefined || obj['subject'] === null ? undefined : validateDescriptor(obj['subject'], 'subject');
  if (isIndexType(mediaType)) {
    if (!Array.isArray(obj['manifests'])) throw new ManifestError('invalid index: manifests must be an array');
    const manifests = obj['manifests'].map((m, i) => validateDescriptor(m, `manifests[${i}]`));
    if (mediaType === MEDIA_TYPE.dockerManifestList) {
      manifests.forEach((m, i) => {
        if (!m.platform) throw new ManifestError(`invalid manifest list: manifests[${i}] has no platform`);
      });
    }
    const index: ImageIndex = { schemaVersion: 2, manifests };
    if (declared) index.mediaType = declared;
    if (typeof obj['artifactType'] === 'string') index.artifactType = obj['artifactType'];
    if (annotations) index.annotations = annotations;
    if (subject) index.subject = subject;
    return { kind: 'index', mediaType, index };
  }
  if (isManifestType(mediaType)) {
    if (!('config' in obj)) throw new ManifestError('invalid manifest: no config');
    const config = validateDescriptor(obj['config'], 'config');
    const rawLayers = obj['layers'];
    if (!Array.isArray(rawLayers)) throw new ManifestError('invalid manifest: layers must be an array');
    const layers = rawLayers.map((l, i) => validateDescriptor(l, `layers[${i}]`));
    if (mediaType === MEDIA_TYPE.dockerManifest && config.mediaType !== MEDIA_TYPE.dockerConfig) {
      throw new ManifestError(`invalid manifest: a Docker schema2 manifest's config must be ${MEDIA_TYPE.dockerConfig}, not ${config.mediaType}`);
    }
    const manifest: ImageManifest = { schemaVersion: 2, config, layers };
    if (declared) manifest.mediaType = declared;
    if (typeof obj['artifactType'] === 'string') manifest.artifactType = obj['artifactType'];
    if (annotations) manifest.annotations = annotations;
    if (subject) manifest.subject = subject;
    return { kind: 'manifest', mediaType, manifest };
  }
  throw new ManifestError(`unsupported manifest media type ${JSON.stringify(mediaType)}`);
}

/** The children a manifest or index references (for GC, push and copy). */
export function children(p: ParsedManifest): Descriptor[] {
  return p.kind === 'index' ? [...p.index.manifests] : [p.manifest.config, ...p.manifest.layers];
}

/**
 * Picks the best manifest of an index for `want` (exact platform first, then
 * compatible variants); entries without a platform are skipped when others
 * have one, as with attestation manifests.
 */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor | undefined {
  let best: Descriptor | undefined;
  let bestRank = Infinity;
  for (const m of index.manifests) {
    if (!isManifestType(m.mediaType) && !isIndexType(m.mediaType)) continue;
    if (!m.platform) continue;
    if (m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest') continue;
    const r = platformRank(want, m.platform);
    if (r >= 0 && r < bestRank) {
      best = m;
      bestRank = r;
    }
  }
  return best;
}

/** Serializes a manifest as registries and Docker do: compact JSON. */
export function encodeManifest(m: ImageManifest | ImageIndex): Buffer {
  return Buffer.from(JSON.stringify(m));
}
