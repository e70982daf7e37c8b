// dray restart: restart one or more containers.
import { containerVerb, STOP_FLAGS, stopQuery } from '../each.ts';

export const command = containerVerb({
  action: 'restart',
  use: 'restart [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Restart one or more containers',
  flags: STOP_FLAGS,
  query: stopQuery,
});
