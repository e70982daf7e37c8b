// dray cp: files between a container and here, through the archive endpoints
// (GET/HEAD/PUT /containers/{id}/archive). Extraction here never leaves the
// destination: entries with "..", absolute names, or paths through symlinks
// are refused.
import { createReadStream, lstatSync, mkdirSync, readdirSync, readlinkSync, statSync, symlinkSync, unlinkSync, utimesSync, chmodSync, linkSync, type Stats } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import tar from 'tar-stream';
import { DaemonError } from '../client/client.ts';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { enc } from '../each.ts';
import { humanSize } from '../format/units.ts';
import type { Cli } from '../command.ts';

interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

const S_IFDIR = 0o40000;
/** Go's os.ModeDir bit as the daemon reports it in the path stat header. */
const GO_MODE_DIR = 2 ** 31;

function splitArg(a: string): { container?: string; path: string } {
  // A local path with a colon must start with / or . to be unambiguous, as in docker.
  if (a.startsWith('/') || a.startsWith('.')) return { path: a };
  const i = a.indexOf(':');
  if (i <= 0) return { path: a };
  return { container: a.slice(0, i), path: a.slice(i + 1) };
}

async function statIn(cli: Cli, id: string, path: string): Promise<PathStat | undefined> {
  try {
    const res = await cli.client().request('HEAD', `/containers/${enc(id)}/archive`, { query: { path } });
    res.resume();
    const h = res.headers['x-docker-container-path-stat'];
    const v = Array.isArray(h) ? h[0] : h;
    return v ? JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as PathStat : undefined;
  } catch (e) {
    if (e instanceof DaemonError && e.status === 404) return undefined;
    throw e;
  }
}

function isDirMode(mode: number): boolean {
  return mode >= GO_MODE_DIR || (mode & 0o170000) === S_IFDIR;
}

/** Refuses names that could leave the destination. */
export function safeRelative(name: string): string {
  const n = posix.normalize(name.replace(/^\.\/+/, ''));
  if (n === '.' || n === './') return '';
  if (n.startsWith('/') || n === '..' || n.startsWith('../')) throw new CliError(`refusing to extract ${JSON.stringify(name)}: it leaves the destination`);
  return n.replace(/\/$/, '');
}

/** True when some component of rel below base is a symlink (which extraction must not follow). */
function throughSymlink(base: string, rel: string): boolean {
  const parts = rel.split('/');
  let cur = base;
  for (let i = 0; i < parts.length - 1; i++) {
    cur = join(cur, parts[i]!);
    let st: Stats;
    try { st = lstatSync(cur); } catch { return false; }
    if (st.isSymbolicLink()) return true;
  }
  return false;
}

/**
 * Extracts a tar stream: the archive's root entry (named `root`) becomes
 * `target`; everything else lands below it. Returns the bytes written.
 */
export async function extractTo(src: Readable, root: string, target: string): Promise<number> {
  const ex = tar.extract();
  let bytes = 0;
  const rootRel = safeRelative(root);
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      // Stop everything without re-emitting the error (the promise carries it).
      const fail = (e: unknown): void => { reject(e); src.unpipe(); src.destroy(); stream.destroy(); ex.destroy(); };
      try {
        const rel = safeRelative(h.name);
        let sub: string;
        if (rootRel === '') sub = rel;
        else if (rel === rootRel) sub = '';
        else if (rel.startsWith(`${rootRel}/`)) sub = rel.slice(rootRel.length + 1);
        else throw new CliError(`refusing to extract ${JSON.stringify(h.name)}: outside the copied path`);
        const dest = sub ? join(target, sub) : target;
        if (sub && throughSymlink(target, sub)) throw new CliError(`refusing to extract ${JSON.stringify(h.name)}: a symlink is in its path`);
        const mode = (h.mode ?? 0o644) & 0o7777;
        const replace = (): void => { try { const st = lstatSync(dest); if (!st.isDirectory()) unlinkSync(dest); } catch { /* absent */ } };
        switch (h.type) {
          case 'directory':
            mkdirSync(dest, { recursive: true });
            chmodSync(dest, mode);
            stream.resume();
            stream.on('end', next);
            return;
          case 'symlink':
            replace();
            symlinkSync(h.linkname ?? '', dest);
            stream.resume();
            stream.on('end', next);
            return;
          case 'link': {
            const lrel = safeRelative(h.linkname ?? '');
            const lsub = rootRel === '' ? lrel : lrel === rootRel ? '' : lrel.startsWith(`${rootRel}/`) ? lrel.slice(rootRel.length + 1) : undefined;
            if (lsub === undefined || throughSymlink(target, lsub || '.')) throw new CliError(`refusing hard link ${JSON.stringify(h.name)}: target outside the copied path`);
            replace();
            linkSync(lsub ? join(target, lsub) : target, dest);
            stream.resume();
            stream.on('end', next);
            return;
          }
          case 'file': case 'contiguous-file': {
            replace();
            const w = createWriteStream(dest, { mode });
            stream.on('data', (c: unknown) => { bytes += (c as Buffer).length; });
            pipeline(stream, w).then(() => {
              chmodSync(dest, mode);
              if (h.mtime) utimesSync(dest, h.mtime, h.mtime);
              next();
            }, fail);
            return;
          }
          default:
            stream.resume();
            stream.on('end', next);
        }
      } catch (e) {
        fail(e);
      }
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  src.pipe(ex);
  await done;
  return bytes;
}

/** A tar stream of path (a file, link or directory tree), its root entry named `name` ("" for a directory's contents). */
export function packPath(path: string, name: string, follow: boolean): { stream: Readable; size: () => number } {
  const pack = tar.pack();
  let total = 0;
  const add = async (abs: string, entry: string): Promise<void> => {
    const st = follow && entry === name ? statSync(abs) : lstatSync(abs);
    const common = { name: entry, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      if (entry) await write({ ...common, name: `${entry}/`, type: 'directory' });
      for (const c of readdirSync(abs).sort()) await add(join(abs, c), entry ? `${entry}/${c}` : c);
    } else if (st.isSymbolicLink()) {
      await write({ ...common, type: 'symlink', linkname: readlinkSync(abs) });
    } else if (st.isFile()) {
      total += st.size;
      await new Promise<void>((resolve, reject) => {
        const w = pack.entry({ ...common, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
        createReadStream(abs).on('error', reject).pipe(w);
      });
    }
  };
  const write = (h: Partial<tar.Header> & { name: string }): Promise<void> => new Promise((resolve, reject) => { pack.entry(h, (err) => (err ? reject(err) : resolve())); });
  add(path, name).then(() => pack.finalize(), (e: Error) => pack.destroy(e));
  // tar-stream's Pack is a streamx Readable, which pipes like node's.
  return { stream: pack as unknown as Readable, size: () => total };
}

export const command: Command = {
  use: 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-',
  short: 'Copy files/folders between a container and the local filesystem',
  aliases: ['dray container cp', 'dray cp'],
  flags: [
    { name: 'archive', short: 'a', type: 'bool', usage: 'Archive mode (copy all uid/gid information)' },
    { name: 'follow-link', short: 'L', type: 'bool', usage: 'Always follow symbol link in SRC_PATH' },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
  ],
  minArgs: 2,
  maxArgs: 2,
  async run(cli, f, args) {
    const src = splitArg(args[0]!);
    const dst = splitArg(args[1]!);
    if (src.container && dst.container) throw new CliError('copying between containers is not supported');
    if (!src.container && !dst.container) throw new CliError('must specify at least one container source');
    if ((src.container && !src.path) || (dst.container && !dst.path)) throw new CliError('filesystem path cannot be empty');
    const quiet = f.bool('quiet') || !process.stderr.isTTY;
    if (src.container) {
      let path = src.path;
      if (f.bool('follow-link')) { const st = await statIn(cli, src.container, path); if (st?.linkTarget) path = st.linkTarget; }
      const res = await cli.client().request('GET', `/containers/${enc(src.container)}/archive`, { query: { path } });
      if (dst.path === '-') { await pipeline(res, process.stdout, { end: false }); return; }
      const h = res.headers['x-docker-container-path-stat'];
      const st = h ? JSON.parse(Buffer.from(String(h), 'base64').toString('utf8')) as PathStat : undefined;
      const srcIsDir = st ? isDirMode(st.mode) : false;
      const contentsOnly = /\/\.$/.test(src.path);
      const root = contentsOnly ? '.' : st?.name ?? basename(src.path);
      let target: string;
      let local: Stats | undefined;
      try { local = statSync(dst.path); } catch { local = undefined; }
      if (local?.isDirectory()) target = contentsOnly ? dst.path : join(dst.path, basename(root));
      else if (local) {
        if (srcIsDir) { res.resume(); throw new CliError(`cannot copy a directory to a file: ${dst.path}`); }
        target = dst.path;
      } else {
        if (dst.path.endsWith('/')) { res.resume(); throw new CliError(`destination directory ${dst.path} does not exist`); }
        try { if (!statSync(dirname(dst.path)).isDirectory()) throw new Error('not a directory'); } catch { res.resume(); throw new CliError(`destination directory ${dirname(dst.path)} does not exist`); }
        target = dst.path;
      }
      if (contentsOnly) mkdirSync(target, { recursive: true });
      const n = await extractTo(res, contentsOnly ? '' : root, target);
      if (!quiet) cli.err.write(`Successfully copied ${humanSize(n)} to ${dst.path}\n`);
      return;
    }
    // Here -> container.
    const id = dst.container!;
    if (src.path === '-') {
      await cli.client().call('PUT', `/containers/${enc(id)}/archive`, { query: { path: dst.path, copyUIDGID: f.bool('archive') || undefined }, body: process.stdin });
      return;
    }
    let lst: Stats;
    try { lst = f.bool('follow-link') ? statSync(src.path) : lstatSync(src.path); } catch { throw new CliError(`lstat ${src.path}: no such file or directory`); }
    const contentsOnly = /\/\.$/.test(src.path) && lst.isDirectory();
    const dstStat = await statIn(cli, id, dst.path);
    let dir: string;
    let name: string;
    if (dstStat && isDirMode(dstStat.mode)) { dir = dst.path; name = contentsOnly ? '' : basename(src.path); }
    else if (dstStat) {
      if (lst.isDirectory()) throw new CliError(`cannot copy a directory to a file: ${dst.path}`);
      dir = posix.dirname(dst.path); name = posix.basename(dst.path);
    } else {
      if (dst.path.endsWith('/') && !lst.isDirectory()) throw new CliError(`destination directory ${dst.path} does not exist`);
      dir = posix.dirname(dst.path.replace(/\/+$/, '')) || '/'; name = posix.basename(dst.path.replace(/\/+$/, ''));
      if (contentsOnly) {
        // Contents into a new directory: pack the directory itself under the new name.
        const p = packPath(src.path.replace(/\/\.$/, ''), name, false);
        await cli.client().call('PUT', `/containers/${enc(id)}/archive`, { query: { path: dir, copyUIDGID: f.bool('archive') || undefined }, body: p.stream });
        return;
      }
    }
    const p = packPath(contentsOnly ? src.path.replace(/\/\.$/, '') : src.path, name, f.bool('follow-link'));
    await cli.client().call('PUT', `/containers/${enc(id)}/archive`, { query: { path: dir, copyUIDGID: f.bool('archive') || undefined }, body: p.stream });
    if (!quiet) cli.err.write(`Successfully copied ${humanSize(p.size())} to ${args[1]}\n`);
  },
};
