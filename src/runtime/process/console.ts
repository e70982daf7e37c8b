// A console socket of our own, for `run` in the foreground with a terminal
// and no --console-socket (runc proxies the pty itself in that case): we
// receive the pty master the executor sends, then copy our stdin to it and
// its output to our stdout, with our terminal in raw mode meanwhile.
import { createReadStream, createWriteStream, closeSync } from 'node:fs';
import net from 'node:net';
import { native } from '../../common/native.ts';
import { RuntimeError } from '../errors.ts';

export interface ConsoleSocket {
  path: string;
  /** After the executor said "ready": the pty master. */
  master(): Promise<number>;
  close(): void;
}

// unref'd: a pending timeout must not keep the process alive once the work is done.
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

export async function listenConsole(path: string): Promise<ConsoleSocket> {
  // pauseOnConnect: Node must never read the socket itself, or the fd in flight is lost.
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(path, resolve); });
  let peer: net.Socket | undefined;
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', (s) => { peer = s; resolve(s); }));
  return {
    path,
    async master() {
      const s = await Promise.race([accepted, sleep(10000).then(() => null)]);
      if (!s) throw new RuntimeError('the container never connected to the console socket');
      // net.Socket keeps its fd in the private handle; there is no public accessor.
      const fd = (s as unknown as { _handle: { fd: number } })._handle.fd;
      for (let i = 0; i < 500; i++) {
        try {
          const got = native().recvFds(fd, 256);
          if (got.fds[0] !== undefined) return got.fds[0];
          throw new RuntimeError('no pty master came over the console socket');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          await sleep(5);
        }
      }
      throw new RuntimeError('timed out waiting for the pty master');
    },
    close() {
      peer?.destroy();
      server.close();
    },
  };
}

/** Copies stdin -> master and master -> stdout until `done` settles; returns once the output is drained. */
export async function proxyConsole(master: number, done: Promise<unknown>): Promise<void> {
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  const toPty = createWriteStream('', { fd: master, autoClose: false });
  toPty.on('error', () => {});
  stdin.pipe(toPty);
  const fromPty = createReadStream('', { fd: master, autoClose: false });
  const drained = new Promise<void>((resolve) => {
    fromPty.on('error', () => resolve()); // EIO: every slave fd is closed
    fromPty.on('end', () => resolve());
  });
  fromPty.pipe(process.stdout, { end: false });
  try {
    await done;
    await Promise.race([drained, sleep(500)]);
  } finally {
    stdin.unpipe(toPty);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
    stdin.destroy();
    // A read may still be in flight on the master in libuv's thread pool.
    // Closing the fd under it lets the number be reused (the state lock is
    // opened next) while that read completes: close only once the stream
    // says its IO is done; if it never does, leave the fd to process exit.
    const closed = new Promise<boolean>((resolve) => fromPty.once('close', () => resolve(true)));
    fromPty.destroy();
    if (await Promise.race([closed, sleep(500).then(() => false)])) {
      try { closeSync(master); } catch { /* closed already */ }
    }
  }
}
