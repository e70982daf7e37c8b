// One place for the version every executable reports. Bundles inline it
// (esbuild define __DRAY_VERSION__): no package.json read at start.
import { readFileSync } from 'node:fs';

declare const __DRAY_VERSION__: string | undefined;

export const DRAY_VERSION: string = typeof __DRAY_VERSION__ === 'string'
  ? __DRAY_VERSION__
  : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
export const OCI_SPEC_VERSION = '1.2.0';
