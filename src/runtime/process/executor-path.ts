// Where bin/dray-executor is: DRAY_EXECUTOR overrides (tests, a bundled CLI
// living elsewhere); otherwise bin/ of the repository this file is in.
import { fileURLToPath } from 'node:url';

export function executorPath(): string {
  return process.env['DRAY_EXECUTOR'] ?? fileURLToPath(new URL('../../../bin/dray-executor', import.meta.url));
}
