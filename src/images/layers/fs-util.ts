// lstat that says "nothing there" without an exception (exceptions cost more
// than the syscall when a layer has tens of thousands of new paths).
import { lstatSync } from 'node:fs';
import type { BigIntStats, Stats } from 'node:fs';

export function lstatOrNull(p: string): Stats | null {
  return lstatSync(p, { throwIfNoEntry: false }) ?? null;
}

export function lstatBigOrNull(p: string): BigIntStats | null {
  return lstatSync(p, { bigint: true, throwIfNoEntry: false }) ?? null;
}
