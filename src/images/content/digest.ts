// Digests: `algorithm:hex`, sha256 by default, sha512 accepted.
import { createHash, type Hash } from 'node:crypto';
import { ContentError } from './errors.ts';

const ALGORITHMS: Record<string, number> = { sha256: 64, sha512: 128 };

export interface ParsedDigest {
  algorithm: 'sha256' | 'sha512';
  hex: string;
}

/** Parses and validates a digest; throws invalid-argument with a clear message. */
export function parseDigest(d: string): ParsedDigest {
  if (typeof d !== 'string') throw new ContentError('invalid-argument', 'digest must be a string');
  const i = d.indexOf(':');
  const algorithm = i > 0 ? d.slice(0, i) : '';
  const hex = d.slice(i + 1);
  const len = ALGORITHMS[algorithm];
  if (len === undefined) throw new ContentError('invalid-argument', `unsupported digest algorithm in ${JSON.stringify(d)}`);
  if (hex.length !== len || !/^[a-f0-9]+$/.test(hex)) throw new ContentError('invalid-argument', `invalid digest ${JSON.stringify(d)}`);
  return { algorithm: algorithm as ParsedDigest['algorithm'], hex };
}

export function isDigest(d: unknown): d is string {
  if (typeof d !== 'string') return false;
  try {
    parseDigest(d);
    return true;
  } catch {
    return false;
  }
}

export function newHash(algorithm: string): Hash {
  return createHash(algorithm);
}

export function digestOf(data: Uint8Array | string, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** The 12-hex short id Docker shows in progress lines. */
export function shortId(d: string): string {
  const i = d.indexOf(':');
  return d.slice(i + 1, i + 13);
}
