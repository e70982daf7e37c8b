// Docker's filters for `volume ls` and `volume prune`: the accepted keys, the
// boolean values, the regular-expression match of name/driver and the
// key[=value] match of labels, with Docker's "Invalid filter" errors.
import { badRequest } from '../engine/api/errors.ts';

/** A decoded `filters` query: key -> values (Docker's filters.Args). */
export type Filters = Record<string, string[]>;

export const LIST_FILTERS = ['dangling', 'name', 'driver', 'label'] as const;
export const PRUNE_FILTERS = ['label', 'label!', 'all'] as const;

/** Docker also sends {"key": {"value": true}}; both shapes become key -> values. */
export function normalizeFilters(raw: unknown): Filters {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('invalid filter: filters must be an object');
  const out: Filters = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
    else if (v && typeof v === 'object') out[k] = Object.entries(v as Record<string, unknown>).filter(([, on]) => on === true).map(([s]) => s);
    else throw badRequest(`invalid filter '${k}'`);
  }
  return out;
}

export function checkKeys(filters: Filters, accepted: readonly string[]): void {
  for (const k of Object.keys(filters)) if (!accepted.includes(k)) throw badRequest(`Invalid filter '${k}'`);
}

/** Go's %s of a []string. */
const goList = (v: string[]): string => `[${v.join(' ')}]`;

/** true/1 or false/0; absent -> undefined; anything else (or both) is Docker's error. */
export function boolFilter(filters: Filters, key: string): boolean | undefined {
  const v = filters[key];
  if (v === undefined) return undefined;
  const t = v.includes('true') || v.includes('1');
  const f = v.includes('false') || v.includes('0');
  if (t === f) throw badRequest(`Invalid filter '${key}=${goList(v)}'`);
  return t;
}

/** Args.Match: an exact value, or a value that is a regular expression matching `source`. */
export function matches(values: string[] | undefined, source: string): boolean {
  if (!values || values.length === 0) return true;
  for (const v of values) {
    if (v === source) return true;
    try {
      if (new RegExp(v).test(source)) return true;
    } catch { /* not a valid expression: only an exact match counts */ }
  }
  return false;
}

/** Args.MatchKVList: every `key` or `key=value` must be among the labels. */
export function matchesLabels(values: string[] | undefined, labels: Record<string, string> | null): boolean {
  if (!values || values.length === 0) return true;
  if (!labels || Object.keys(labels).length === 0) return false;
  for (const v of values) {
    const i = v.indexOf('=');
    const key = i < 0 ? v : v.slice(0, i);
    if (!Object.hasOwn(labels, key)) return false;
    if (i >= 0 && labels[key] !== v.slice(i + 1)) return false;
  }
  return true;
}
