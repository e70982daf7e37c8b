// dray history: the image's layers and the commands that made them.
import type { HistoryItem } from '../client/types.ts';
import type { Command } from '../command.ts';
import { humanSize, timeAgo } from '../format/units.ts';
import { ellipsis, truncateId, writeFormatted } from '../output.ts';

const DEFAULT = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

export const command: Command = {
  use: 'history [OPTIONS] IMAGE',
  short: 'Show the history of an image',
  aliases: ['dray image history', 'dray history'],
  flags: [
    { name: 'format', type: 'string', usage: 'Format output using a custom template' },
    { name: 'human', short: 'H', type: 'bool', default: true, usage: 'Print sizes and dates in human readable format' },
    { name: 'no-trunc', type: 'bool', usage: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', usage: 'Only show image IDs' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(cli, f, args) {
    const items = await cli.client().json<HistoryItem[]>('GET', `/images/${encodeURIComponent(args[0]!)}/history`);
    const trunc = !f.bool('no-trunc');
    const human = f.bool('human');
    const rows = items.map((h) => {
      const created = new Date(h.Created * 1000);
      const by = h.CreatedBy.replace(/\t/g, ' ');
      return {
        ID: h.Id === '<missing>' ? h.Id : trunc ? truncateId(h.Id) : h.Id,
        CreatedSince: human ? timeAgo(created) : created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        CreatedAt: created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        CreatedBy: trunc ? ellipsis(by, 45) : by,
        Size: human ? humanSize(h.Size) : String(h.Size),
        Comment: h.Comment,
        Tags: h.Tags,
      };
    });
    writeFormatted(cli.out, { format: f.str('format'), defaultFormat: DEFAULT, headers: HEADERS, quiet: f.bool('quiet'), rows });
  },
};
