import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize, humanDuration, humanSize } from '../../src/cli/format/units.ts';
import { tabwrite } from '../../src/cli/format/tabwriter.ts';

test('humanSize matches go-units HumanSize (base 1000, 3 significant digits)', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(1234), '1.23kB');
  assert.equal(humanSize(4_435_346), '4.44MB');
  assert.equal(humanSize(187_000_000), '187MB');
  assert.equal(humanSize(1_000_000_000), '1GB');
});

test('bytesSize matches go-units BytesSize (base 1024, 4 significant digits)', () => {
  assert.equal(bytesSize(1024), '1KiB');
  assert.equal(bytesSize(1536), '1.5KiB');
  assert.equal(bytesSize(1024 * 1024 * 3.25), '3.25MiB');
});

test('humanDuration matches go-units HumanDuration', () => {
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(42_000), '42 seconds');
  assert.equal(humanDuration(90_000), 'About a minute');
  assert.equal(humanDuration(3 * 60_000), '3 minutes');
  assert.equal(humanDuration(3_600_000), 'About an hour');
  assert.equal(humanDuration(5 * 3_600_000), '5 hours');
  assert.equal(humanDuration(3 * 86_400_000), '3 days');
  assert.equal(humanDuration(21 * 86_400_000), '3 weeks');
  assert.equal(humanDuration(100 * 86_400_000), '3 months');
  assert.equal(humanDuration(800 * 86_400_000), '2 years');
});

test('tabwrite aligns like text/tabwriter(10, 1, 3)', () => {
  const out = tabwrite(['CONTAINER ID\tIMAGE\tNAMES', 'abc\tbusybox:latest\tweb']);
  assert.equal(out, 'CONTAINER ID   IMAGE            NAMES\nabc            busybox:latest   web\n');
});
