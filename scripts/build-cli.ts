// Bundles the dray CLI with esbuild into native/out/cli/: one entry file plus
// one chunk per command (code splitting keeps each command lazily loaded), so
// start-up loads a few plain .mjs files instead of type-stripping dozens of
// .ts modules. bin/dray runs the bundle when it is newer than every source.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}native/out/cli`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [`${root}src/cmd/dray.ts`],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  outdir,
  outExtension: { '.js': '.mjs' },
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [{
    // `import { x } from 'node:fs'` in ESM builds the builtin's whole namespace,
    // running its lazy getters (fs.promises pulls in readline, http's pull in
    // undici and crypto): ~15 ms of every start. Each builtin becomes a module
    // that takes it from process.getBuiltinModule and re-exports its plain
    // data properties only (never the getters).
    name: 'lazy-builtins',
    setup(b) {
      b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'builtin' }));
      b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => {
        const mod = process.getBuiltinModule(args.path) as Record<string, unknown>;
        const names = Object.keys(mod).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default' && 'value' in Object.getOwnPropertyDescriptor(mod, k)!);
        const contents = `const m = process.getBuiltinModule(${JSON.stringify(args.path)});\nexport default m;\n${names.map((n) => `export const ${n} = m.${n};`).join('\n')}\n`;
        return { contents, loader: 'js' };
      });
    },
  }, {
    // version.ts reads ../../package.json relative to itself; in the bundle the version is inlined instead.
    name: 'inline-version',
    setup(b) {
      b.onLoad({ filter: /src\/common\/version\.ts$/ }, (args) => {
        const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
        const src = readFileSync(args.path, 'utf8').replace(/JSON\.parse\(readFileSync\(new URL\('\.\.\/\.\.\/package\.json', import\.meta\.url\), 'utf8'\)\)/, JSON.stringify({ version }));
        if (!src.includes(JSON.stringify({ version }))) throw new Error('build-cli: version.ts changed shape; update the inline-version plugin');
        return { contents: src, loader: 'ts' };
      });
    },
  }],
  banner: { js: "import { createRequire as __drayRequire } from 'node:module'; const require = __drayRequire(import.meta.url);" },
});
