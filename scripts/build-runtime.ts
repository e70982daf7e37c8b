// Bundles dray-runc with esbuild into build/runtime/dray-runc.cjs: one
// CommonJS file (bin/dray-runc execs Node on it). Why this shape (each
// measured in docs/runtime.md, "Speed"):
// - CommonJS, one file: Node's ESM loader resolves, links and instantiates
//   every chunk through promises, about 10 ms more per verb than require();
//   esbuild turns each verb's `await import()` into a lazily run closure in
//   the same file, so a verb still evaluates only its own modules;
// - .cjs: no package.json lookup to learn the module type;
// - the version inlined: no package.json read at start.
//   node scripts/build-runtime.ts            (writes the bundle)
// test/runtime/bundle-fresh.test.ts builds it in memory and compares.
import { build, type BuildOptions } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const RUNTIME_BUNDLE = `${root}build/runtime/dray-runc.cjs`;

function options(): BuildOptions {
  const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
  return {
    absWorkingDir: root, // comments name sources relative to it: the same text from any cwd
    entryPoints: [`${root}src/cmd/dray-runc.ts`],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node24',
    legalComments: 'none',
    logLevel: 'warning',
    write: false,
    // The sources find files next to themselves through import.meta: the
    // bundle sits two levels under the repository as they do (build/runtime/).
    banner: { js: 'const __drayUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: {
      'import.meta.url': '__drayUrl',
      'import.meta.dirname': '__dirname',
      '__DRAY_VERSION__': JSON.stringify(version),
    },
  };
}

/** The bundle's text as the sources make it now. */
export async function bundleText(): Promise<string> {
  const r = await build(options());
  return r.outputFiles![0]!.text;
}

if (import.meta.main) {
  const text = await bundleText();
  rmSync(`${root}build/runtime`, { recursive: true, force: true });
  mkdirSync(`${root}build/runtime`, { recursive: true });
  writeFileSync(RUNTIME_BUNDLE, text);
}
