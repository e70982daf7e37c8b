// dray kill: kill one or more running containers.
import { containerVerb } from '../each.ts';

export const command = containerVerb({
  action: 'kill',
  use: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Kill one or more running containers',
  flags: [{ name: 'signal', short: 's', type: 'string', usage: 'Signal to send to the container' }],
  query: (f) => ({ signal: f.str('signal') || undefined }),
});
