// Image references parsed and normalized as Docker's distribution/reference
// package does: `busybox` -> docker.io/library/busybox:latest.
//
// Grammar (distribution/reference):
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [domain "/"] path-component ["/" path-component]*
//   domain     := host [":" port]     host := domain-name | IPv4 | "[" IPv6 "]"
//   path-component := [a-z0-9]+ (separator [a-z0-9]+)*   separator := [_.] | "__" | "-"+
//   tag        := [\w][\w.-]{0,127}
//   digest     := algorithm ":" hex{32,}

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
export const NAME_TOTAL_LENGTH_MAX = 255;

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6})`;
const domainRe = `${host}(?::[0-9]+)?`;
const alnum = '[a-z0-9]+';
const separator = '(?:[_.]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const tagRe = '[\\w][\\w.-]{0,127}';
const digestRe = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}';
const nameRe = `(?:${domainRe}/)?${pathComponent}(?:/${pathComponent})*`;
const REFERENCE = new RegExp(`^(${nameRe})(?::(${tagRe}))?(?:@(${digestRe}))?$`);
const ANCHORED_TAG = new RegExp(`^${tagRe}$`);
const ANCHORED_HEX_ID = /^[a-f0-9]{64}$/;
const DOMAIN_ONLY = new RegExp(`^${domainRe}$`);

export class ReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReferenceError';
  }
}

/** A fully qualified reference: domain and path always set; tag and/or digest optional. */
export interface Reference {
  /** Registry host[:port], e.g. docker.io, localhost:5000. */
  readonly domain: string;
  /** Repository path inside the registry, e.g. library/busybox. */
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** Validates `algorithm:hex` as the reference grammar and the known algorithms require. */
export function validateDigest(d: string): void {
  const m = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(d);
  if (!m) throw new ReferenceError(`invalid digest format: ${JSON.stringify(d)}`);
  const want = DIGEST_HEX_LENGTH[m[1]!];
  if (want === undefined) throw new ReferenceError(`unsupported digest algorithm: ${m[1]}`);
  if (m[2]!.length !== want || !/^[a-f0-9]+$/.test(m[2]!)) {
    throw new ReferenceError(`invalid checksum digest format: ${JSON.stringify(d)}`);
  }
}

/** Parses a reference exactly as written (no defaults added); uppercase names rejected. */
export function parseExact(s: string): { name: string; tag?: string; digest?: string } {
  if (s === '') throw new ReferenceError('invalid reference format: repository name must have at least one component');
  const m = REFERENCE.exec(s);
  if (!m) {
    if (REFERENCE.test(s.toLowerCase())) throw new ReferenceError('invalid reference format: repository name must be lowercase');
    throw new ReferenceError(`invalid reference format: ${JSON.stringify(s)}`);
  }
  const name = m[1]!;
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw new ReferenceError(`invalid reference format: repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const out: { name: string; tag?: string; digest?: string } = { name };
  if (m[2] !== undefined) out.tag = m[2];
  if (m[3] !== undefined) {
    validateDigest(m[3]);
    out.digest = m[3];
  }
  return out;
}

/** Splits a familiar name into domain and remainder the way Docker's splitDockerDomain does. */
function splitDomain(name: string): { domain: string; path: string } {
  const i = name.indexOf('/');
  let domain: string;
  let path: string;
  const first = i === -1 ? '' : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    path = name;
  } else {
    domain = first;
    path = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;
  return { domain, path };
}

/**
 * Parses a user-typed reference (Docker's ParseNormalizedNamed): adds docker.io
 * and library/, keeps tag and digest; no default tag (see withDefaultTag).
 */
export function parseNormalized(s: string): Reference {
  if (s === '') throw new ReferenceError('invalid reference format: repository name must have at least one component');
  if (ANCHORED_HEX_ID.test(s)) {
    throw new ReferenceError(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  // Split off tag/digest before the domain so uppercase in the domain is allowed.
  const at = s.indexOf('@');
  const namePart = at === -1 ? s : s.slice(0, at);
  const lastSlash = namePart.lastIndexOf('/');
  const colon = namePart.lastIndexOf(':');
  const bareName = colon > lastSlash ? namePart.slice(0, colon) : namePart;
  const { domain, path } = splitDomain(bareName);
  if (path.toLowerCase() !== path) throw new ReferenceError('invalid reference format: repository name must be lowercase');
  const exact = parseExact(`${domain}/${path}${s.slice(bareName.length)}`);
  if (!DOMAIN_ONLY.test(domain)) throw new ReferenceError(`invalid reference format: ${JSON.stringify(s)}`);
  const ref: { domain: string; path: string; tag?: string; digest?: string } = { domain, path };
  if (exact.tag !== undefined) ref.tag = exact.tag;
  if (exact.digest !== undefined) ref.digest = exact.digest;
  return ref;
}

/** parseNormalized plus `:latest` when neither tag nor digest is given (Docker's TagNameOnly). */
export function parseImageReference(s: string): Reference {
  return withDefaultTag(parseNormalized(s));
}

export function withDefaultTag(r: Reference): Reference {
  if (r.tag !== undefined || r.digest !== undefined) return r;
  return { ...r, tag: DEFAULT_TAG };
}

export function isValidTag(tag: string): boolean {
  return ANCHORED_TAG.test(tag);
}

/** domain/path */
export function repositoryName(r: Reference): string {
  return `${r.domain}/${r.path}`;
}

/** The full normalized string: docker.io/library/busybox:latest[@sha256:...]. */
export function formatReference(r: Reference): string {
  let s = repositoryName(r);
  if (r.tag !== undefined) s += `:${r.tag}`;
  if (r.digest !== undefined) s += `@${r.digest}`;
  return s;
}

/** The familiar name Docker prints: docker.io/library/busybox -> busybox, docker.io/user/x -> user/x. */
export function familiarName(r: Reference): string {
  if (r.domain !== DEFAULT_DOMAIN) return repositoryName(r);
  return r.path.startsWith(OFFICIAL_REPO_PREFIX) && r.path.indexOf('/', OFFICIAL_REPO_PREFIX.length) === -1
    ? r.path.slice(OFFICIAL_REPO_PREFIX.length)
    : r.path;
}

/** The familiar string: busybox:latest, user/x@sha256:..., localhost:5000/x:tag. */
export function familiarString(r: Reference): string {
  let s = familiarName(r);
  if (r.tag !== undefined) s += `:${r.tag}`;
  if (r.digest !== undefined) s += `@${r.digest}`;
  return s;
}
