// Where bin/dray-executor is: DRAY_EXECUTOR overrides (tests, a copy living
// elsewhere); otherwise bin/ of the repository, seen from the sources
// (src/runtime/process/) or from the bundle (build/runtime/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let found: string | undefined;

export function executorPath(): string {
  const env = process.env['DRAY_EXECUTOR'];
  if (env) return env;
  if (!found) {
    const candidates = ['../../../bin/dray-executor', '../../bin/dray-executor'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
    found = candidates.find((p) => existsSync(p)) ?? candidates[0]!;
  }
  return found;
}
