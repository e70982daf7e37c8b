// One logger for the daemons: structured logfmt lines on stderr
// (time=… level=… msg="…" key=value), as containerd and dockerd write them.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | null | undefined>;

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function quote(v: string): string {
  return /^[A-Za-z0-9_./:@+-]+$/.test(v) ? v : JSON.stringify(v);
}

export class Logger {
  level: LogLevel;
  private readonly base: LogFields;
  private readonly write: (line: string) => void;

  constructor(level: LogLevel = 'info', base: LogFields = {}, write: (line: string) => void = (l) => { process.stderr.write(l); }) {
    this.level = level;
    this.base = base;
    this.write = write;
  }

  /** A logger that adds fields to every line (e.g. the namespace of a request). */
  with(fields: LogFields): Logger {
    const child = new Logger(this.level, { ...this.base, ...fields }, this.write);
    return child;
  }

  enabled(level: LogLevel): boolean {
    return rank[level] >= rank[this.level];
  }

  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    let line = `time=${new Date().toISOString()} level=${level} msg=${JSON.stringify(msg)}`;
    for (const [k, v] of Object.entries({ ...this.base, ...fields })) {
      if (v === undefined) continue;
      line += ` ${k}=${quote(String(v))}`;
    }
    this.write(line + '\n');
  }

  debug(msg: string, fields?: LogFields): void { this.log('debug', msg, fields); }
  info(msg: string, fields?: LogFields): void { this.log('info', msg, fields); }
  warn(msg: string, fields?: LogFields): void { this.log('warn', msg, fields); }
  error(msg: string, fields?: LogFields): void { this.log('error', msg, fields); }
}
