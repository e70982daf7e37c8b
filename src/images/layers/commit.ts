// A snapshot's diff straight into the content store (docker commit, build
// steps): one streaming pass, committed under its digest, labelled with its
// diff_id as containerd labels compressed layers (containerd.io/uncompressed).
import { randomBytes } from 'node:crypto';
import { ContentError } from '../content/errors.ts';
import type { Descriptor, Ingester, IngestManager } from '../content/types.ts';
import { writeDiff } from './diff.ts';
import type { DiffOptions, DiffSource } from './diff.ts';

export interface StoredDiff {
  descriptor: Descriptor;
  diffId: string;
}

export async function writeDiffToContent(content: Ingester & Pick<IngestManager, 'abort'>, src: DiffSource, opts: DiffOptions = {}): Promise<StoredDiff> {
  const ref = `diff-${randomBytes(8).toString('hex')}`;
  const w = await content.writer({ ref });
  try {
    const r = await writeDiff(src, (c) => w.write(c), opts);
    try {
      await w.commit(r.size, r.digest, { labels: { 'containerd.io/uncompressed': r.diffId } });
    } catch (e) {
      if (!(e instanceof ContentError && e.code === 'already-exists')) throw e;
    }
    return { descriptor: { mediaType: r.mediaType, digest: r.digest, size: r.size }, diffId: r.diffId };
  } catch (e) {
    await content.abort(ref).catch(() => {});
    throw e;
  } finally {
    await w.close();
  }
}
