// What every command module exports, and the context it runs in.
import type { EngineClient } from './client/client.ts';
import type { Endpoint } from './client/host.ts';
import type { FlagDef, Flags } from './flags.ts';

export interface Command {
  /** "run [OPTIONS] IMAGE [COMMAND] [ARG...]" (after the program name). */
  use: string;
  short: string;
  aliases?: string[];
  flags: FlagDef[];
  /** false: options end at the first positional (run, exec, create). */
  interspersed?: boolean;
  minArgs?: number;
  maxArgs?: number;
  run(cli: Cli, f: Flags, args: string[]): Promise<number | void>;
}

export interface Cli {
  /** "dray": used in messages ("See 'dray run --help'."). */
  readonly prog: string;
  /** The command path as typed, e.g. "dray container ls". */
  readonly commandPath: string;
  readonly endpoint: Endpoint;
  readonly configDir: string;
  readonly out: NodeJS.WriteStream;
  readonly err: NodeJS.WriteStream;
  /** The API client (created on first use; the version is negotiated on its first request). */
  client(): EngineClient;
}

/** Ends the command with this exit status, printing message (if any) on stderr. */
export class StatusError extends Error {
  readonly status: number;
  constructor(message: string, status: number) { super(message); this.status = status; }
}

/** A user error found by the CLI itself (bad flag value...): "dray: msg" and exit 1 or 125. */
export class CliError extends Error {
  readonly status: number;
  constructor(message: string, status = 1) { super(message); this.status = status; }
}
