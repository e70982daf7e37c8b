// Reads and validates a bundle's config.json and finds its rootfs.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Spec } from '../config/types.ts';
import { validateSpec } from '../config/validate.ts';
import { ConfigError, RuntimeError } from '../errors.ts';

export interface Bundle {
  dir: string;
  spec: Spec;
  rootfs: string;
}

export function loadBundle(bundle: string): Bundle {
  const dir = resolve(bundle);
  let text: string;
  try {
    text = readFileSync(resolve(dir, 'config.json'), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RuntimeError(code === 'ENOENT' ? `bundle ${dir}: config.json not found` : `bundle ${dir}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config.json: not valid JSON: ${(err as Error).message}`);
  }
  const spec = validateSpec(raw, { needProcess: true });
  const rootfs = resolve(dir, spec.root!.path);
  let isDir = false;
  try { isDir = statSync(rootfs).isDirectory(); } catch { /* reported below */ }
  if (!isDir) throw new RuntimeError(`rootfs (${rootfs}) does not exist or is not a directory`);
  return { dir, spec, rootfs };
}
