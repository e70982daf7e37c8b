// Reading and removing iptables rules (through the iptables command, so it
// works with whichever backend the machine's iptables uses, nft or legacy).
import { execFileSync } from 'node:child_process';

export const TABLES = ['filter', 'nat'] as const;
export type Table = (typeof TABLES)[number];

export interface TableDump { chains: Set<string>; rules: string[] }

/** The chains and the `-A …` rule lines of a table, as iptables-save prints them. */
export function dumpTable(table: Table): TableDump {
  const text = execFileSync('iptables-save', ['-t', table], { encoding: 'utf8' });
  const chains = new Set<string>();
  const rules: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) chains.add(line.slice(1).split(' ')[0] ?? '');
    else if (line.startsWith('-A ')) rules.push(line);
  }
  return { chains, rules };
}

/** Splits an iptables-save rule line into arguments (double-quoted words, as comments are saved). */
export function ruleArgs(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? ''));
  return out;
}

/** Deletes one saved rule line ("-A CHAIN …"). */
export function deleteRule(table: Table, line: string): void {
  const args = ruleArgs(line);
  args[0] = '-D';
  execFileSync('iptables', ['-w', '-t', table, ...args], { stdio: 'ignore' });
}

/** Flushes and deletes a chain (its references must be gone first). */
export function deleteChain(table: Table, chain: string): void {
  execFileSync('iptables', ['-w', '-t', table, '-F', chain], { stdio: 'ignore' });
  execFileSync('iptables', ['-w', '-t', table, '-X', chain], { stdio: 'ignore' });
}

/** Whether a rule line mentions any of `tokens` as a whole word (an interface name, an address prefix…). */
export function mentions(line: string, tokens: string[]): boolean {
  const words = ruleArgs(line);
  return tokens.some((t) => words.some((w) => w === t || (t.endsWith('.') && w.startsWith(t)) || w.startsWith(`${t}/`) || w.startsWith(`${t}:`)));
}

export function chainPolicy(table: Table, chain: string): string | undefined {
  const text = execFileSync('iptables-save', ['-t', table], { encoding: 'utf8' });
  return new RegExp(`^:${chain} (\\S+)`, 'm').exec(text)?.[1];
}
