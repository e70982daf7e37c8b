// dray stop: stop one or more running containers.
import { containerVerb, STOP_FLAGS, stopQuery } from '../each.ts';

export const command = containerVerb({
  action: 'stop',
  use: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Stop one or more running containers',
  flags: STOP_FLAGS,
  query: stopQuery,
});
