// Image references as docker normalizes them: "busybox" is
// docker.io/library/busybox:latest; a first component with a dot, a colon or
// "localhost" is a registry host; the familiar form drops docker.io/library/.

export interface ImageRef {
  /** "docker.io", "127.0.0.1:5000" */
  domain: string;
  /** "library/busybox" */
  path: string;
  tag: string | undefined;
  digest: string | undefined;
}

export class ReferenceError extends Error {}

const NAME_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

export function parseRef(s: string): ImageRef {
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) { digest = rest.slice(at + 1); rest = rest.slice(0, at); }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) { tag = rest.slice(colon + 1); rest = rest.slice(0, colon); }
  let domain = 'docker.io';
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first; path = rest.slice(slash + 1);
    }
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (!path || path.split('/').some((c) => !NAME_COMPONENT.test(c))) {
    if (/[A-Z]/.test(s)) throw new ReferenceError(`invalid reference format: repository name (${path}) must be lowercase`);
    throw new ReferenceError('invalid reference format');
  }
  if (tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(tag)) throw new ReferenceError('invalid reference format');
  if (digest !== undefined && !/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/.test(digest)) throw new ReferenceError('invalid reference format');
  return { domain, path, tag, digest };
}

/** "docker.io/library/busybox" */
export function fullName(r: ImageRef): string { return `${r.domain}/${r.path}`; }

/** "busybox", "127.0.0.1:5000/x" */
export function familiarName(r: ImageRef): string {
  if (r.domain !== 'docker.io') return `${r.domain}/${r.path}`;
  return r.path.startsWith('library/') && r.path.split('/').length === 2 ? r.path.slice(8) : r.path;
}

/** Adds :latest when neither a tag nor a digest is given. */
export function withDefaultTag(r: ImageRef): ImageRef {
  return r.tag === undefined && r.digest === undefined ? { ...r, tag: 'latest' } : r;
}

export function familiarString(r: ImageRef): string {
  return familiarName(r) + (r.tag !== undefined ? `:${r.tag}` : '') + (r.digest !== undefined ? `@${r.digest}` : '');
}

export function fullString(r: ImageRef): string {
  return fullName(r) + (r.tag !== undefined ? `:${r.tag}` : '') + (r.digest !== undefined ? `@${r.digest}` : '');
}

/** The registry key in config.json's auths for this reference. */
export function authKey(r: ImageRef): string {
  return r.domain === 'docker.io' ? 'https://index.docker.io/v1/' : r.domain;
}
