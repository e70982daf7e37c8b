// HTTP helpers the benchmarks share: a timed GET of a known-size body, and a
// bounded wait until a server answers with it.
import http from 'node:http';

/** GETs url and counts the body; milliseconds. Rejects on a short body. */
export function download(url: string, expect: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let n = 0;
    http.get(url, (res) => {
      res.on('data', (c: Buffer) => { n += c.length; });
      res.on('end', () => (n === expect ? resolve(performance.now() - t0) : reject(new Error(`got ${n} of ${expect} bytes`))));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** Polls url every 100 ms, at most `tries` times, until it serves `size` bytes. */
export async function waitHttp(url: string, size: number, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    try { await download(url, size); return; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  throw new Error(`${url} never answered with ${size} bytes`);
}
