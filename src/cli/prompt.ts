// The y/N confirmation of prune commands (stdin; "y" or "Y" confirms, anything else or EOF declines).
import type { Cli } from './command.ts';

export async function confirm(cli: Cli, warning: string): Promise<boolean> {
  cli.out.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  const answer = await new Promise<string>((resolve) => {
    let buf = '';
    const stdin = process.stdin;
    const done = (): void => { stdin.removeAllListeners('data'); stdin.pause(); resolve(buf); };
    stdin.on('data', (c: Buffer) => { buf += c.toString(); if (buf.includes('\n')) done(); });
    stdin.on('end', done);
    stdin.resume();
  });
  const ok = /^y(es)?$/i.test(answer.trim());
  if (!ok) cli.out.write('\n');
  return ok;
}
