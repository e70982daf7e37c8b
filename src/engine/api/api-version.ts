// Docker Engine API versions: the range drayd serves, and the /v1.xx prefix.
export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.50';

/** Compares "1.41" and "1.9" numerically, part by part. */
export function compareApiVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function apiVersionAtLeast(version: string, min: string): boolean {
  return compareApiVersions(version, min) >= 0;
}

const VERSIONED = /^\/v(\d+\.\d+)(\/.*)$/;

/** Splits "/v1.41/containers/json" into its version and the rest; unversioned paths get the newest version. */
export function splitVersionedPath(path: string): { version: string | undefined; rest: string } {
  const m = VERSIONED.exec(path);
  if (!m) return { version: undefined, rest: path };
  return { version: m[1], rest: m[2]! };
}
