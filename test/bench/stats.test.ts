import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, printTable, ratio, timeRuns } from '../../bench/support/stats.ts';

test('median of odd and even counts, unsorted input left alone', () => {
  const xs = [5, 1, 3];
  assert.equal(median(xs), 3);
  assert.deepEqual(xs, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]));
});

test('ratio and the printed table', async () => {
  assert.equal(ratio(2, 4), 0.5);
  const samples = await timeRuns(() => undefined, 3, 0);
  assert.equal(samples.length, 3);
  const lines: string[] = [];
  const text = printTable([{ name: 'x', dray: [1, 2, 3], peer: [4, 4, 4] }], 'runc', (l) => lines.push(l));
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /runc median ms/);
  assert.match(lines[2]!, /^x\s+2\.00\s+4\.00\s+0\.50\s+3\/3$/);
  assert.equal(text, lines.join('\n'));
});
