import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '../../../src/common/native.ts';
import { containerProcessState, sendSeccompListener } from '../../../src/runtime/seccomp/index.ts';

test('the listener fd reaches the agent with the container process state, one message per connection', async (t) => {
  const d = mkdtempSync(join(tmpdir(), 'dray-seccomp-agent-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  const sockPath = join(d, 'agent.sock');
  // The agent side reads with recvmsg itself: Node's stream would eat the fd.
  type Handle = { fd: number; readStop(): void };
  let server!: net.Server;
  const received = new Promise<{ data: Buffer; fds: number[]; then: Buffer }>((resolve, reject) => {
    server = net.createServer((conn) => {
      const handle = (conn as unknown as { _handle: Handle })._handle;
      handle.readStop();
      let tries = 0;
      let first: { data: Buffer; fds: number[] } | undefined;
      const poll = () => {
        try {
          const got = native().recvFds(handle.fd, 65536);
          if (!first) {
            first = got;
            return setTimeout(poll, 10);
          }
          // after the one message: end of stream (or more data, which the test refuses)
          conn.destroy();
          server.close();
          resolve({ ...first, then: got.data });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || ++tries > 300) return reject(e);
          setTimeout(poll, 10);
        }
      };
      poll();
    });
  });
  server.listen(sockPath);
  t.after(() => server.close());
  await once(server, 'listening');
  // Any fd stands for the listener here; the kernel test covers real ones.
  writeFileSync(join(d, 'fake-listener'), 'listener');
  const fd = openSync(join(d, 'fake-listener'), 'r');
  t.after(() => closeSync(fd));
  const state = { ociVersion: '1.2.0', id: 'c1', status: 'creating', pid: 4242, bundle: '/b', annotations: { a: 'b' } };
  await sendSeccompListener(sockPath, fd, containerProcessState(state, 4242, 'meta'));
  const got = await received;
  assert.deepEqual(JSON.parse(got.data.toString()), { ociVersion: '1.2.0', fds: ['seccompFd'], pid: 4242, metadata: 'meta', state });
  assert.equal(got.fds.length, 1);
  const buf = Buffer.alloc(16);
  const n = readSync(got.fds[0]!, buf, 0, 16, 0);
  closeSync(got.fds[0]!);
  assert.equal(buf.subarray(0, n).toString(), 'listener');
  assert.equal(got.then.length, 0, 'the connection is closed after one message');
});

test('no agent listening: a clear error', async (t) => {
  const d = mkdtempSync(join(tmpdir(), 'dray-seccomp-agent-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  await assert.rejects(
    sendSeccompListener(join(d, 'none.sock'), 0, containerProcessState({ ociVersion: '1.2.0', id: 'c', status: 'creating', bundle: '/' }, 1)),
    /seccomp: sending the listener fd to .*none\.sock: .*ENOENT/,
  );
});
