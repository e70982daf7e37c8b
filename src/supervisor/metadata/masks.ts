// Field masks (google.protobuf.FieldMask) as the update calls apply them.
import { invalidArgument } from '../errors.ts';

/** Mask paths as clients write them (snake_case, like the proto fields), normalised to snake_case. */
export function maskPaths(mask: { paths?: string[] } | null | undefined): string[] | undefined {
  const paths = mask?.paths ?? [];
  if (paths.length === 0) return undefined;
  return paths.map((p) => {
    const dot = p.indexOf('.');
    const head = dot < 0 ? p : p.slice(0, dot);
    return head.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase()) + (dot < 0 ? '' : p.slice(dot));
  });
}

/**
 * Applies an update mask to a map field: no paths, or the bare field name,
 * replaces the whole map; "<field>.<key>" sets one key (or removes it when
 * next lacks it). Paths of other fields are ignored here.
 */
export function applyMapMask<T>(field: string, cur: Record<string, T>, next: Record<string, T>, paths: string[] | undefined): Record<string, T> {
  if (!paths) return { ...next };
  let out = { ...cur };
  for (const p of paths) {
    if (p === field) { out = { ...next }; continue; }
    if (!p.startsWith(field + '.')) continue;
    const key = p.slice(field.length + 1);
    if (key === '') throw invalidArgument(`update mask: empty key in ${JSON.stringify(p)}`);
    if (Object.hasOwn(next, key)) out[key] = next[key]!;
    else delete out[key];
  }
  return out;
}

/** Rejects mask paths outside the allowed set (each "<field>" or, for maps, "<field>.<key>"). */
export function checkMask(what: string, paths: string[] | undefined, fields: readonly string[], maps: readonly string[]): void {
  for (const p of paths ?? []) {
    const head = p.includes('.') ? p.slice(0, p.indexOf('.')) : p;
    const ok = p.includes('.') ? maps.includes(head) : fields.includes(p) || maps.includes(p);
    if (!ok) throw invalidArgument(`${what}: cannot update field ${JSON.stringify(p)}`);
  }
}
