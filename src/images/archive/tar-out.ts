// Writing a tar archive to a sink, entry by entry (save, export).
import type { Readable } from 'node:stream';
import { END_OF_ARCHIVE, encodeHeader, padding } from '../layers/tar-writer.ts';
import type { Sink } from '../layers/diff.ts';

export class TarOut {
  private readonly sink: Sink;
  private readonly mtime: number;

  constructor(sink: Sink, mtime = 0) {
    this.sink = sink;
    this.mtime = mtime;
  }

  async dir(name: string): Promise<void> {
    await this.sink(encodeHeader({ name, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: this.mtime }));
  }

  async file(name: string, data: Buffer): Promise<void> {
    await this.sink(encodeHeader({ name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: this.mtime, size: data.length }));
    await this.sink(data);
    await this.sink(padding(data.length));
  }

  /** A file streamed from src, which must deliver exactly size bytes. */
  async stream(name: string, size: number, src: Readable): Promise<void> {
    await this.sink(encodeHeader({ name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: this.mtime, size }));
    let left = size;
    for await (const c of src) {
      const b = c as Buffer;
      if (b.length > left) throw new Error(`${name}: longer than its ${size} bytes`);
      left -= b.length;
      await this.sink(b);
    }
    if (left !== 0) throw new Error(`${name}: ${left} bytes short of its ${size} bytes`);
    await this.sink(padding(size));
  }

  async end(): Promise<void> {
    await this.sink(END_OF_ARCHIVE);
  }
}
