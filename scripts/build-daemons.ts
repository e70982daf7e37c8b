// Bundles the daemons with esbuild into build/daemons/: drayd.cjs,
// dray-containerd.cjs (one CommonJS file each, as build-runtime.ts makes
// dray-runc's) and apply-worker.mjs (the images library's layer-apply
// worker thread, which the bundles start from next to themselves). What a
// bundle saves a daemon, measured in docs/engine.md: the TypeScript stripper
// (a WebAssembly module, ~12 MB resident per process) is never loaded, and
// start-up evaluates one file instead of resolving hundreds of modules.
//   node scripts/build-daemons.ts
// bin/drayd and bin/dray-containerd run a bundle only when no source is newer.
import { build, type BuildOptions } from 'esbuild';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const DAEMONS_DIR = `${root}build/daemons`;

function common(): BuildOptions {
  const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
  return {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node24',
    legalComments: 'none',
    logLevel: 'warning',
    external: ['*.node'],
    outdir: DAEMONS_DIR,
    define: { '__DRAY_VERSION__': JSON.stringify(version) },
  };
}

export async function buildDaemons(): Promise<void> {
  rmSync(DAEMONS_DIR, { recursive: true, force: true });
  mkdirSync(DAEMONS_DIR, { recursive: true });
  const c = common();
  // Two levels under the repository, as the sources' src/<area>/ files: the
  // paths they find next to themselves (src/common/paths.ts) hold.
  await build({
    ...c,
    entryPoints: { 'drayd': `${root}src/cmd/drayd.ts`, 'dray-containerd': `${root}src/cmd/dray-containerd.ts` },
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    banner: { js: 'const __drayUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { ...c.define, 'import.meta.url': '__drayUrl', 'import.meta.dirname': '__dirname' },
  });
  await build({
    ...c,
    entryPoints: { 'apply-worker': `${root}src/images/layers/apply-worker.ts` },
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    banner: { js: "import { createRequire as __drayRequire } from 'node:module'; const require = __drayRequire(import.meta.url);" },
  });
}

if (import.meta.main) await buildDaemons();
