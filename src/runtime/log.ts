// runc's --log / --log-format: containerd and dockerd pass --log FILE
// --log-format json and read the last {"level":"error","msg":...} line to
// explain a failure. Written with appendFileSync to a file descriptor of our
// own: never through process.stderr, whose pipe the container may share.
import { appendFileSync, writeSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export class RuntimeLog {
  private readonly file: string | undefined;
  private readonly json: boolean;
  private readonly debugOn: boolean;
  private readonly stderr: (line: string) => void;
  /** sink: where stderr lines go (default fd 2; the warm server sends them to its caller). */
  constructor(o: { file?: string; format?: string; debug?: boolean; sink?: (line: string) => void }) {
    this.stderr = o.sink ?? ((line) => { writeSync(2, line); });
    this.file = o.file || undefined;
    this.json = o.format === 'json';
    this.debugOn = o.debug === true;
  }

  log(level: LogLevel, msg: string): void {
    if (level === 'debug' && !this.debugOn) return;
    const time = new Date().toISOString();
    const line = this.json
      ? JSON.stringify({ level, msg, time }) + '\n'
      : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
    try {
      if (this.file) appendFileSync(this.file, line);
      else if (level !== 'error') this.stderr(line);
    } catch {
      // a log we cannot write must not turn success into failure
    }
  }

  error(msg: string): void { this.log('error', msg); }
  warn(msg: string): void { this.log('warning', msg); }
  debug(msg: string): void { this.log('debug', msg); }
}
