// Archives (docker save / OCI layout tars) come from users and other hosts:
// anything malformed or hostile is an ArchiveError with a clear message.
export class ArchiveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArchiveError';
  }
}

/**
 * A path inside an archive, normalized ("./a//b" -> "a/b"). Absolute paths,
 * ".." and NUL are refused: paths in manifest.json, index.json and link
 * targets must name entries of the archive, nothing else.
 */
export function archivePath(p: unknown, what: string): string {
  if (typeof p !== 'string' || p === '') throw new ArchiveError(`${what}: path must be a non-empty string`);
  if (p.includes('\0')) throw new ArchiveError(`${what}: NUL byte in path`);
  if (p.startsWith('/')) throw new ArchiveError(`${what}: absolute path ${JSON.stringify(p)} points outside the archive`);
  const comps = p.split('/').filter((c) => c !== '' && c !== '.');
  if (comps.includes('..')) throw new ArchiveError(`${what}: path ${JSON.stringify(p)} points outside the archive`);
  if (comps.length === 0) throw new ArchiveError(`${what}: empty path`);
  return comps.join('/');
}
