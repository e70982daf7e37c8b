// The shim's frame codec and request encoders, without a shim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FrameDecoder, FRAME_MAX, Req, encodeFrame, execPayload, idBytes, killPayload, resizePayload, stdinPayload,
} from '../../src/shim/protocol.ts';

test('frames round-trip through the decoder however the bytes are split', () => {
  const frames = [
    encodeFrame(Req.STATE, 1, Buffer.alloc(0)),
    encodeFrame(Req.STDIN, 0xfffffffe, stdinPayload('e1', Buffer.from('hello'))),
    encodeFrame(Req.KILL, 7, killPayload(15, true, '')),
  ];
  const all = Buffer.concat(frames);
  for (const step of [1, 2, 5, 9, all.length]) {
    const d = new FrameDecoder();
    const got = [];
    for (let i = 0; i < all.length; i += step) got.push(...d.push(all.subarray(i, i + step)));
    assert.deepEqual(got.map((f) => [f.type, f.tag]), [[Req.STATE, 1], [Req.STDIN, 0xfffffffe], [Req.KILL, 7]]);
    assert.deepEqual([...got[1]!.payload], [2, ...Buffer.from('e1hello')]);
  }
});

test('request layouts are the fixed binary fields docs/shim.md describes', () => {
  assert.deepEqual([...killPayload(9, true, 'x')], [0, 0, 0, 9, 1, 0x78]);
  assert.deepEqual([...resizePayload(24, 80, '')], [0, 24, 0, 80]);
  assert.deepEqual([...execPayload('e', '/p.json', true, false, true)], [5, 1, 0x65, ...Buffer.from('/p.json')]);
  const h = encodeFrame(Req.START, 0x01020304, Buffer.from('ab'));
  assert.deepEqual([...h], [0, 0, 0, 7, Req.START, 1, 2, 3, 4, 0x61, 0x62]);
});

test('bad ids, paths and sizes are refused before anything is sent', () => {
  assert.throws(() => idBytes('../x'), /invalid shim process id/);
  assert.throws(() => idBytes('a'.repeat(65)), /invalid/);
  assert.throws(() => execPayload('', '/p.json', false, false, false), /needs an id/);
  assert.throws(() => execPayload('e', 'relative.json', false, false, false), /absolute/);
  assert.throws(() => encodeFrame(Req.STDIN, 1, Buffer.alloc(FRAME_MAX)), /too large/);
  assert.throws(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 1, 0])), /bad frame/);
});
