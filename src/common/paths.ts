// Where the repository's own files are (bin/, api/, data next to the
// sources), for code that finds executables and data at run time. This file
// sits two levels below the root (src/common/), as every bundle does
// (build/<name>/<bundle>): "../../" is the root either way, so one rule
// serves sources and bundles alike.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A path under the repository root ("bin/dray-shim", "api/"). */
export function repoPath(rel: string): string {
  return join(REPO_ROOT, rel);
}
