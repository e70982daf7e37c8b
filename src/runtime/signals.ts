// Signal names and numbers as runc's kill accepts them: "KILL", "SIGKILL", "9".
import { constants } from 'node:os';
import { RuntimeError } from './errors.ts';

const SIGNALS = constants.signals as Record<string, number>;

export function parseSignal(s: string): number {
  if (/^[0-9]+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
    throw new RuntimeError(`invalid signal ${JSON.stringify(s)}`);
  }
  const name = s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
  const rt = /^SIGRTMIN(\+([0-9]+))?$/.exec(name) ?? /^SIGRTMAX(-([0-9]+))?$/.exec(name);
  if (rt) {
    const n = name.startsWith('SIGRTMIN') ? 34 + Number(rt[2] ?? 0) : 64 - Number(rt[2] ?? 0);
    if (n >= 34 && n <= 64) return n;
  }
  const n = SIGNALS[name];
  if (n === undefined) throw new RuntimeError(`invalid signal ${JSON.stringify(s)}`);
  return n;
}
