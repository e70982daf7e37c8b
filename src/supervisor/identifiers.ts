// Identifiers of namespaces, containers and leases: containerd's rule, so
// ids move between the two daemons unchanged, and so none can hold a path
// separator or start with a dot (they become directory names).
import { invalidArgument } from './errors.ts';

const IDENTIFIER = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
export const MAX_IDENTIFIER_LENGTH = 76;

export function validateIdentifier(kind: string, id: unknown): string {
  if (typeof id !== 'string' || id === '') throw invalidArgument(`${kind}: identifier must not be empty`);
  if (id.length > MAX_IDENTIFIER_LENGTH) throw invalidArgument(`${kind}: identifier ${JSON.stringify(id.slice(0, 20) + '…')} is longer than ${MAX_IDENTIFIER_LENGTH} characters`);
  if (!IDENTIFIER.test(id)) throw invalidArgument(`${kind}: identifier ${JSON.stringify(id)} must match ${IDENTIFIER.source}`);
  return id;
}

const MAX_LABEL_SIZE = 4096;

/** Labels: non-empty keys, key plus value at most 4096 bytes (containerd's limit). */
export function validateLabels(kind: string, labels: unknown): Record<string, string> {
  if (labels === undefined || labels === null) return {};
  if (typeof labels !== 'object' || Array.isArray(labels)) throw invalidArgument(`${kind}: labels must be a map of strings`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    if (k === '') throw invalidArgument(`${kind}: label key must not be empty`);
    if (typeof v !== 'string') throw invalidArgument(`${kind}: label ${JSON.stringify(k)} must be a string`);
    if (Buffer.byteLength(k) + Buffer.byteLength(v) > MAX_LABEL_SIZE) throw invalidArgument(`${kind}: label ${JSON.stringify(k.slice(0, 40))} is longer than ${MAX_LABEL_SIZE} bytes`);
    out[k] = v;
  }
  return out;
}
