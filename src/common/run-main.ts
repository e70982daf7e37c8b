// Every executable's main goes through here: one place that turns thrown
// errors into a one-line message and an exit code, never a stack trace
// (unless DRAY_DEBUG asks for it).
import { UsageError } from './command-line.ts';

export function runMain(name: string, main: (argv: string[]) => Promise<number> | number, usageExit = 1): void {
  const fail = (err: unknown): void => {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${name}: ${msg}\n`);
    if (process.env['DRAY_DEBUG'] && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    process.exitCode = err instanceof UsageError ? usageExit : 1;
  };
  try {
    Promise.resolve(main(process.argv.slice(2))).then((code) => {
      if (process.exitCode === undefined) process.exitCode = code;
    }, fail);
  } catch (err) {
    fail(err);
  }
}
