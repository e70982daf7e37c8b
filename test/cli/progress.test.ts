// Pull/push progress as docker's jsonmessage renders it, on and off a terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressRenderer, progressString, StreamError } from '../../src/cli/progress.ts';

function sink(): { out: NodeJS.WritableStream; text: () => string } {
  let s = '';
  return { out: { write: (c: string) => { s += c; return true; } } as unknown as NodeJS.WritableStream, text: () => s };
}

const PULL = [
  { status: 'Pulling from library/busybox', id: 'latest' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaa' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'bbb' },
  { status: 'Downloading', progressDetail: { current: 500, total: 1000 }, progress: '[=>  ]', id: 'aaa' },
  { status: 'Download complete', progressDetail: {}, id: 'aaa' },
  { status: 'Pull complete', progressDetail: {}, id: 'bbb' },
  { status: 'Digest: sha256:abc' },
  { status: 'Status: Downloaded newer image for busybox:latest' },
];

test('off a terminal: status lines only, progress updates skipped', () => {
  const s = sink();
  const r = new ProgressRenderer(s.out, false);
  for (const m of PULL) r.message(m);
  assert.equal(s.text(), [
    'latest: Pulling from library/busybox', 'aaa: Pulling fs layer', 'bbb: Pulling fs layer', 'aaa: Download complete',
    'bbb: Pull complete', 'Digest: sha256:abc', 'Status: Downloaded newer image for busybox:latest', '',
  ].join('\n'));
});

test('on a terminal: one line per layer, rewritten in place with cursor movement', () => {
  const s = sink();
  const r = new ProgressRenderer(s.out, true, 120);
  for (const m of PULL.slice(0, 4)) r.message(m);
  const t = s.text();
  // aaa is line 0 of 2: cursor up 2, clear, redraw, cursor down 2.
  assert.ok(t.endsWith(`\x1b[2A\r\x1b[2K\raaa: Downloading [=========================>                         ]     500B/1kB\r\x1b[2B`), JSON.stringify(t.slice(-140)));
  assert.equal((t.match(/\n/g) ?? []).length, 3);
});

test('progress bar, counts, and the bar hidden on narrow terminals', () => {
  assert.equal(progressString({ current: 0, total: 0 }, 200), '');
  assert.equal(progressString({ current: 2048 }, 200), '  2.05kB');
  assert.equal(progressString({ current: 1000, total: 1000 }, 200), `[${'='.repeat(50)}>] ${'1kB'.padStart(8)}/1kB`);
  assert.equal(progressString({ current: 3, total: 10, units: 'items' }, 80), '3/10 items');
  assert.match(progressString({ current: 100, total: 1000, start: 1000 }, 200, 1010), / 1m30s$/);
});

test('an error message in the stream ends rendering with that message', () => {
  const r = new ProgressRenderer(sink().out, false);
  assert.throws(() => r.message({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' }), (e: Error) => e instanceof StreamError && e.message === 'manifest unknown');
});
