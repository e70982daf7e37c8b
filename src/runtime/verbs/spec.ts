// spec: writes a default config.json into the bundle (never over one).
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultSpec } from '../config/default-spec.ts';
import { RuntimeError } from '../errors.ts';

export function spec(o: { bundle?: string; rootless?: boolean }): string {
  const path = join(resolve(o.bundle ?? '.'), 'config.json');
  if (existsSync(path)) throw new RuntimeError(`File ${path} exists. Remove it first`);
  writeFileSync(path, JSON.stringify(defaultSpec({ rootless: o.rootless, uid: process.getuid?.(), gid: process.getgid?.() }), null, '\t') + '\n');
  return path;
}
