// Where a task's standard streams go, from the request's stdin/stdout/stderr
// URIs. The shim writes the init process's output to a json-file log (so
// nothing is lost while no daemon runs); exec output can go to files.
import { parse } from 'node:path';
import { invalidArgument } from '../errors.ts';

export interface InitLog { path: string; maxSize?: number; maxFile?: number }

const num = (v: string | null, what: string): number | undefined => {
  if (v === null || v === '') return undefined;
  if (!/^[0-9]+$/.test(v)) throw invalidArgument(`${what} must be a whole number`);
  return Number(v);
};

function absolutePath(p: string, what: string): string {
  if (!p.startsWith('/') || p.includes('\0') || p.split('/').includes('..')) throw invalidArgument(`${what}: ${JSON.stringify(p)} must be an absolute path without ".."`);
  if (parse(p).base === '') throw invalidArgument(`${what}: ${JSON.stringify(p)} names no file`);
  return p;
}

/**
 * The init process's log: "" (the default, <state>/container.log),
 * "jsonfile:///path?max-size=N&max-file=M" or "file:///path" (both the
 * json-file format). stderr must be empty or the same as stdout: the shim
 * writes both streams to one log, tagged.
 */
export function initLog(stdout: string, stderr: string, defaultPath: string): InitLog {
  if (stderr && stderr !== stdout) throw invalidArgument('stderr must be empty or equal to stdout: both streams go to one json-file log');
  if (!stdout) return { path: defaultPath };
  let u: URL;
  try { u = new URL(stdout); } catch { throw invalidArgument(`stdout ${JSON.stringify(stdout)} must be a jsonfile:// or file:// URI`); }
  if (u.protocol !== 'jsonfile:' && u.protocol !== 'file:') throw invalidArgument(`stdout ${JSON.stringify(stdout)}: only jsonfile:// and file:// are supported`);
  const log: InitLog = { path: absolutePath(decodeURIComponent(u.pathname), 'stdout') };
  const maxSize = num(u.searchParams.get('max-size'), 'max-size');
  const maxFile = num(u.searchParams.get('max-file'), 'max-file');
  if (maxSize !== undefined) log.maxSize = maxSize;
  if (maxFile !== undefined) log.maxFile = maxFile;
  return log;
}

/** An exec's output file ("" or "file:///path"). */
export function execOutput(uri: string, what: string): string | undefined {
  if (!uri) return undefined;
  let u: URL;
  try { u = new URL(uri); } catch { throw invalidArgument(`${what} ${JSON.stringify(uri)} must be a file:// URI`); }
  if (u.protocol !== 'file:') throw invalidArgument(`${what} ${JSON.stringify(uri)}: only file:// is supported`);
  return absolutePath(decodeURIComponent(u.pathname), what);
}
