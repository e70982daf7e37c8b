// One place for the version every executable reports.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const DRAY_VERSION: string = pkg.version;
export const OCI_SPEC_VERSION = '1.2.0';
