// dray logs: the container's output (demuxed without a TTY, raw with one).
import type { ContainerInspect } from '../client/types.ts';
import { Demuxer, STDERR } from '../client/streams.ts';
import type { Command } from '../command.ts';
import { CliError } from '../command.ts';
import { enc } from '../each.ts';
import { timestampArg } from '../times.ts';

export const command: Command = {
  use: 'logs [OPTIONS] CONTAINER',
  short: 'Fetch the logs of a container',
  aliases: ['dray container logs', 'dray logs'],
  flags: [
    { name: 'details', type: 'bool', usage: 'Show extra details provided to logs' },
    { name: 'follow', short: 'f', type: 'bool', usage: 'Follow log output' },
    { name: 'since', type: 'string', usage: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    { name: 'tail', short: 'n', type: 'string', default: 'all', usage: 'Number of lines to show from the end of the logs' },
    { name: 'timestamps', short: 't', type: 'bool', usage: 'Show timestamps' },
    { name: 'until', type: 'string', usage: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(cli, f, args) {
    const api = cli.client();
    const c = await api.json<ContainerInspect>('GET', `/containers/${enc(args[0]!)}/json`);
    const ts = (name: string): string | undefined => {
      const v = f.str(name);
      if (!v) return undefined;
      try { return timestampArg(v); } catch { throw new CliError(`invalid value for "${name}": failed to parse value as time or duration: "${v}"`); }
    };
    const res = await api.request('GET', `/containers/${enc(args[0]!)}/logs`, {
      query: {
        stdout: true, stderr: true, follow: f.bool('follow') || undefined, timestamps: f.bool('timestamps') || undefined,
        details: f.bool('details') || undefined, tail: f.str('tail'), since: ts('since'), until: ts('until'),
      },
    });
    if (c.Config.Tty) {
      for await (const chunk of res) process.stdout.write(chunk as Buffer);
      return;
    }
    const d = new Demuxer((stream, payload) => { (stream === STDERR ? process.stderr : process.stdout).write(payload); });
    for await (const chunk of res) d.push(chunk as Buffer);
  },
};
