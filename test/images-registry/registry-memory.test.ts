// Memory stays bounded while pulling: a 200 MB layer is streamed to disk,
// never held whole. A fresh process pulls a 1 MB image, another the 200 MB
// one; the second's peak RSS may exceed the first's only by a fixed amount
// (buffers, allocator arenas), far below the layer's size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, skopeo } from './support/registry.ts';
import { writeBigImageLayout } from './support/big-image.ts';

const LAYER_BYTES = 200 << 20;

test('pulling a 200 MB layer keeps the peak RSS well under the layer size', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'dray-mem-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const reg = await startRegistry();
  t.after(() => reg.stop());
  await writeBigImageLayout(join(tmp, 'small'), 1, 1 << 20, 'small');
  await writeBigImageLayout(join(tmp, 'layout'), 1, LAYER_BYTES, 'big');
  skopeo(['copy', `oci:${join(tmp, 'small')}:small`, `docker://${reg.host}/mem/small:1`], ['--dest-tls-verify=false']);
  skopeo(['copy', `oci:${join(tmp, 'layout')}:big`, `docker://${reg.host}/mem/big:1`], ['--dest-tls-verify=false']);
  const peak = (name: string): number => {
    const out = execFileSync(process.execPath, ['bench/pull/dray-pull.ts', '--root', join(tmp, `dray-${name}`), '--ref', `${reg.host}/mem/${name}:1`], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { maxRssKb: number; layers: number };
    assert.equal(r.layers, 1);
    return r.maxRssKb / 1024;
  };
  const base = peak('small');
  const big = peak('big');
  t.diagnostic(`peak RSS: ${base.toFixed(0)} MB pulling 1 MB, ${big.toFixed(0)} MB pulling ${LAYER_BYTES >> 20} MB`);
  assert.ok(big - base < (LAYER_BYTES >> 20) / 2, `peak RSS grew by ${(big - base).toFixed(0)} MB`);
});
