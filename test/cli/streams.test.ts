// Stream formats: the 8-byte multiplexed framing and JSON message streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { Demuxer, frame, jsonStream, STDERR, STDOUT } from '../../src/cli/client/streams.ts';

test('demuxer: frames split anywhere across chunks come out whole and in order', () => {
  const wire = Buffer.concat([frame(STDOUT, 'hello '), frame(STDERR, 'oops\n'), frame(STDOUT, Buffer.alloc(70_000, 0x61)), frame(STDOUT, '')]);
  for (const step of [1, 3, 7, 8, 9, 4096, wire.length]) {
    const got: [number, string][] = [];
    const d = new Demuxer((s, p) => got.push([s, p.toString()]));
    for (let i = 0; i < wire.length; i += step) d.push(wire.subarray(i, i + step));
    assert.equal(d.pending, 0);
    assert.deepEqual(got.map(([s]) => s), [STDOUT, STDERR, STDOUT, STDOUT]);
    assert.equal(got[0]![1], 'hello ');
    assert.equal(got[1]![1], 'oops\n');
    assert.equal(got[2]![1].length, 70_000);
  }
});

test('demuxer: a bad header is an error, a cut frame stays pending', () => {
  const d = new Demuxer(() => {});
  d.push(frame(STDOUT, 'abcdef').subarray(0, 10));
  assert.equal(d.pending, 10);
  assert.throws(() => new Demuxer(() => {}).push(Buffer.from('HTTP/1.1 200 OK\r\n')), /Unrecognized input header/);
});

test('jsonStream: newline-separated, concatenated, split across chunks; exact timeNano', async () => {
  const text = '{"status":"a"}\r\n{"status":"b{}\\"x"}{"id":"1","progressDetail":{"current":5}}\n{"Type":"container","timeNano":1764316800123456789}\n';
  const chunks = [];
  for (let i = 0; i < text.length; i += 5) chunks.push(Buffer.from(text.slice(i, i + 5)));
  const got: Record<string, unknown>[] = [];
  for await (const m of jsonStream<Record<string, unknown>>(Readable.from(chunks))) got.push(m);
  assert.equal(got.length, 4);
  assert.equal(got[1]!['status'], 'b{}"x');
  assert.deepEqual(got[2]!['progressDetail'], { current: 5 });
  assert.equal(got[3]!['timeNano'], '1764316800123456789');
  await assert.rejects(async () => { for await (const _ of jsonStream(Readable.from([Buffer.from('{"a":')]))) void _; }, /unexpected end of JSON stream/);
});
