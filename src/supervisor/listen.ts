// The daemon's unix sockets: directory 0711, socket 0660, and a leftover
// socket file removed only when nothing answers on it (so a second daemon
// never steals a live one's socket).
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';

/** The filesystem path of a "unix:///path" (or "unix:path", or bare "/path") address. */
export function unixSocketPath(address: string): string {
  let p: string;
  if (address.startsWith('unix://')) p = address.slice('unix://'.length);
  else if (address.startsWith('unix:')) p = address.slice('unix:'.length);
  else if (address.startsWith('/')) p = address;
  else throw new Error(`unsupported address ${JSON.stringify(address)}: dray-containerd listens on unix sockets only (unix:///path)`);
  if (!p.startsWith('/')) throw new Error(`socket path in ${JSON.stringify(address)} must be absolute`);
  return p;
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const timer = setTimeout(() => { s.destroy(); resolve(true); }, 1000);
    s.once('connect', () => { clearTimeout(timer); s.destroy(); resolve(true); });
    s.once('error', () => { clearTimeout(timer); resolve(false); });
  });
}

/** Makes the socket's directory and clears a stale socket file; throws if a live daemon holds it. */
export async function prepareSocket(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o711 });
  let st;
  try { st = lstatSync(path); } catch { return; }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
  if (await answers(path)) throw new Error(`another daemon is listening on ${path}`);
  unlinkSync(path);
}

export function restrictSocket(path: string): void {
  chmodSync(path, 0o660);
}
