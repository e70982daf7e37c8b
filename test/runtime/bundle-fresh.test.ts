// bin/dray-runc runs build/runtime/dray-runc.cjs, never the sources: the
// bundle on disk must be what the sources make now (native/build.sh, run by
// scripts/test.sh through setup.sh, rebuilds it), or every other runtime test
// would test stale code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { bundleText, RUNTIME_BUNDLE } from '../../scripts/build-runtime.ts';

const root = new URL('../../', import.meta.url).pathname;

test('the dray-runc bundle is built from the current sources', async () => {
  let onDisk = '';
  try { onDisk = readFileSync(RUNTIME_BUNDLE, 'utf8'); } catch { /* missing: fails below */ }
  assert.ok(onDisk === await bundleText(), `${RUNTIME_BUNDLE} is stale or missing: run \`sh native/build.sh\``);
});

test('bin/dray-runc runs the bundle, or the sources with DRAY_FROM_SOURCE=1', () => {
  const version = (JSON.parse(readFileSync(root + 'package.json', 'utf8')) as { version: string }).version;
  for (const env of [{}, { DRAY_FROM_SOURCE: '1' }]) {
    const r = spawnSync(root + 'bin/dray-runc', ['--version'], { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^dray-runc version ${version.replace(/\./g, '\\.')}\n`));
  }
  // A bad verb fails the same way from both.
  const errs = [{}, { DRAY_FROM_SOURCE: '1' }].map((env) => spawnSync(root + 'bin/dray-runc', ['no-such-verb'], { encoding: 'utf8', env: { ...process.env, ...env } }));
  assert.deepEqual(errs.map((r) => [r.status, r.stderr]), [[1, errs[0]!.stderr], [1, errs[0]!.stderr]]);
  assert.match(errs[0]!.stderr, /unknown command "no-such-verb"/);
});
